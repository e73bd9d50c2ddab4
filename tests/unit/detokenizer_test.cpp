// Example tables for the detokenizer, one per rule and language. Every
// expected line is what Moses' detokenizer.perl -q prints for the input.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/core/parallel.h"
#include "tfm/text/detokenizer.h"

using namespace tfm;

namespace {

using Table = std::vector<std::pair<std::string, std::string>>;

std::string detokenize(const std::string& language, const std::string& line, bool upper = false) {
  std::string out = "stale";
  Detokenizer(DetokenizerConfig{language, upper}).detokenize(line, out);
  return out;
}

void check_table(const std::string& language, const Table& table, bool upper = false) {
  for (const auto& [input, expected] : table) {
    INFO(language, ": ", input);
    CHECK(detokenize(language, input, upper) == expected);
  }
}

}  // namespace

TEST_CASE("generic rules: punctuation, brackets, currency, escapes") {
  check_table("de", {
                        {"Hello , world !", "Hello, world!"},
                        {"( x ) [ y ] { z }", "(x) [y] {z}"},
                        {"$ 5 and € 10 , 5 %", "$5 and €10, 5%"},
                        {"¿ Qué ? ¡ Sí !", "¿Qué? ¡Sí!"},
                        {"a &amp; b &#124; c &lt; d &gt; e &#91; f &#93;", "a & b | c < d > e [f]"},
                        {"&amp;lt; &bar; &bra; &ket;", "&lt; | []"},  // one level of escaping only
                        {"Er sagt &quot; Hallo &quot; .", "Er sagt \"Hallo\"."},
                        {"well @-@ known", "well-known"},
                        {"a @-@ @-@ b", "a-@-@ b"},  // matches do not overlap
                        {"a  ,  b", "a , b"},        // an empty token keeps its space
                        {"don 't", "don 't"},        // contractions are English only
                        {"x\r", "x\r"},
                    });
}

TEST_CASE("quotes alternate between opening and closing within a line") {
  check_table("de", {
                        {"' a ' ' b '", "'a' 'b'"},
                        {"„ Ja “ sagt er", "„Ja“ sagt er"},
                        {"`` x `` y", "``x`` y"},
                        {"&quot; a &quot; &quot; b", "\"a\" \"b"},
                    });
  // The count restarts with each line.
  CHECK(detokenize("de", "\" a") == "\"a");
}

TEST_CASE("CJK tokens join; Korean keeps them apart") {
  check_table("en", {{"中 文 字 and 日本 語", "中文字 and 日本語"}, {"中 , 文", "中, 文"}, {"한국 어", "한국어"}});
  check_table("ko", {{"한국 어", "한국 어"}, {"中 文", "中 文"}});
}

TEST_CASE("English contractions and possessives") {
  check_table("en", {
                        {"don 't", "don't"},
                        {"John 's car", "John's car"},
                        {"1990 's", "1990's"},
                        {"the Jones ' house", "the Jones' house"},
                        {"it ' s", "it 's"},
                        {"' s", "'s"},
                        {"the dogs ' ' bark '", "the dogs' 'bark'"},
                    });
}

TEST_CASE("French and Italian elisions; French spaces before ? ! : ; \\ %") {
  check_table("fr", {
                        {"l' homme", "l'homme"},
                        {"aujourd' hui", "aujourd'hui"},
                        {"l' 3", "l' 3"},
                        {"Quoi ? Oui !", "Quoi ? Oui !"},
                        {"a : b ; c %", "a : b ; c %"},
                        {"a ?!", "a?!"},  // only single marks get the space
                    });
  check_table("it", {{"dell' anno", "dell'anno"}, {"Cosa ?", "Cosa?"}});
}

TEST_CASE("Czech decimals, dashed words and quotes") {
  check_table("cs", {
                        {"3 , 14 je", "3,14 je"},
                        {"3 . 14", "3.14"},
                        {"zda - li tu", "zda-li tu"},
                        {"e – mail adresa", "e–mail adresa"},
                        {"zda - li", "zda - li"},  // the script wants a word after them
                        {"„ Ahoj “ ř", "„Ahoj“ ř"},
                        {"“ x “ y", "“ x“ y"},  // “ usually closes in Czech
                    });
}

TEST_CASE("Finnish case endings after a colon are joined and lower-cased") {
  check_table("fi", {
                        {"EU : n", "EU:n"},
                        {"EU : Ssa on", "EU:ssa on"},
                        {"EU : Än", "EU:än"},
                        {"USA : hanko", "USA:hanko"},
                        {"EU : lle kin", "EU:lle kin"},
                        {"EU : nsa", "EU: nsa"},
                        {"x : yyy", "x: yyy"},
                    });
}

TEST_CASE("-u upper-cases the first letter with Perl's uc") {
  check_table("en",
              {
                  {"hello", "Hello"},
                  {"« élan »", "« Élan »"},
                  {"ßa", "SSa"},
                  {"ǆungla", "Ǆungla"},
                  {"' x", "'X"},
                  {"3 apples", "3 apples"},
                  {", ok", ", Ok"},
              },
              true);
}

TEST_CASE("-penn: Penn Treebank brackets, quotes and split forms") {
  const Detokenizer penn(DetokenizerConfig{"en", false, true});
  const Table table = {
      {"I ca n't go -LRB- now -RRB- .", "I can't go (now)."},
      {"`` hi '' , ` yo '", "\"hi\", 'yo'"},
      {"Can not can not", "Cannot can not"},  // the second match would need the first's space
      {"gon na wan na got ta lem me gim me", "gonna wanna gotta lemme gimme"},
      {"'T is D' ye", "'Tis D'ye"},
      {"a @/@ b -RRB-LRB-", "a/b -RRB("},  // brackets are restored one kind after the other
      {"中 文", "中 文"},                  // no CJK rule
  };
  for (const auto& [input, expected] : table) {
    std::string out;
    penn.detokenize(input, out);
    CHECK(out == expected);
  }
  CHECK_THROWS_AS(Detokenizer(DetokenizerConfig{"de", false, true}), UsageError);
}

TEST_CASE("blank and tag lines are copied as they are") {
  check_table("en", {{"", ""}, {" \t ", " \t "}, {"\u00a0", "\u00a0"}, {"<p class = x >", "<p class = x >"}});
  CHECK(Detokenizer::copies_as_is("  "));
  CHECK(Detokenizer::copies_as_is("<a>"));
  CHECK_FALSE(Detokenizer::copies_as_is("<>"));
  CHECK_FALSE(Detokenizer::copies_as_is("\u200b"));  // ZWSP is not \s in Perl
  CHECK_FALSE(Detokenizer::copies_as_is(" \xff"));
}

TEST_CASE("languages with rules of their own") {
  for (const char* language : {"cs", "en", "fi", "fr", "it"}) CHECK(Detokenizer::has_builtin_rules(language));
  for (const char* language : {"de", "ko", "EN", ""}) CHECK_FALSE(Detokenizer::has_builtin_rules(language));
}

TEST_CASE("invalid UTF-8 is an InputError naming file and line") {
  const auto path = (std::filesystem::temp_directory_path() / "tfm_detok_test_bad.txt").string();
  std::ofstream(path, std::ios::binary) << "fine\nbad \xC3\x28\n";
  LineReader reader(path);
  AtomicFile out(path + ".out");
  CHECK_THROWS_WITH_AS(detokenize_lines(reader, out, Detokenizer({}), {}, false),
                       (path + ":2: invalid UTF-8").c_str(), InputError);
  std::filesystem::remove(path);
}
