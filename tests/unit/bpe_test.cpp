// BPE learning, application, vocabularies and undo. Expected merges and
// segmentations come from subword-nmt 0.3.8 run on the same input.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <thread>
#include <string>
#include <unordered_set>
#include <vector>

#include "test_util.h"
#include "tfm/core/error.h"
#include "tfm/core/utf8.h"
#include "tfm/text/bpe_apply.h"
#include "tfm/text/bpe_codes.h"
#include "tfm/text/bpe_learn.h"
#include "tfm/text/word_counts.h"

using namespace tfm;

namespace {

// A file under the temp folder holding `text`, removed at scope exit.
struct TempFile {
  explicit TempFile(const std::string& text, const std::string& name = "codes") {
    path = (std::filesystem::temp_directory_path() / ("tfm_bpe_test_" + name + "_" +
                                                      std::to_string(::getpid()))).string();
    std::ofstream(path, std::ios::binary) << text;
  }
  ~TempFile() { std::filesystem::remove(path); }
  std::string path;
};

WordCounts words_of(const std::string& text) {
  WordCounts counts;
  counts.add_line(text);
  return counts;
}

std::string learned_codes(const std::string& text, long symbols, long min_frequency = 2) {
  BpeLearnConfig config;
  config.symbols = symbols;
  config.min_frequency = min_frequency;
  std::string codes(kBpeCodesHeader);
  for (const auto& merge : learn_bpe(words_of(text), config).merges) codes += format_merge(merge);
  return codes;
}

std::string apply(const BpeApplier& applier, const std::string& line) {
  std::string out;
  applier.apply_line(line, 1, out);
  return out;
}

const std::string kLowCorpus = "low low low lower lower newest newest newest widest widest";
const std::string kLowCodes =
    "#version: 0.2\nw e\ns t</w>\nl o\nwe st</w>\nn e\nne west</w>\nlo w</w>\nwe r</w>\nw i\nwi d\n";

}  // namespace

TEST_CASE("words are counted as Python reads lines: spaces split, splitlines boundaries cut") {
  WordCounts counts;
  counts.add_line("a  b\tc a\r");
  counts.add_line("x\x0cy \xE2\x80\xA8z b");  // form feed and U+2028 end a Python line
  const auto& e = counts.entries();
  REQUIRE(e.size() == 7);
  CHECK(e[0] == std::pair<std::string, std::int64_t>{"a", 2});
  CHECK(e[1].first == "b\tc");
  CHECK(e[2].first == "x\x0c");
  CHECK(e[3].first == "y");
  CHECK(e[4].first == "\xE2\x80\xA8");
  CHECK(e[5].first == "z");
  CHECK(e[6] == std::pair<std::string, std::int64_t>{"b", 1});
  CHECK(format_vocabulary(counts) == "a 2\nb\tc 1\nx\x0c 1\ny 1\n\xE2\x80\xA8 1\nz 1\nb 1\n");
}

TEST_CASE("word counts: long words, shared 8-byte heads, NUL bytes; files as lines; errors name the line") {
  using namespace std::string_literals;
  const std::vector<std::string> lines = {"abcdefgh abcdefghi abcdefgh", "abcdefghj a\0 a a\0b"s, "abcdefghi abcdefgh\x0b"};
  WordCounts by_line;
  for (const auto& line : lines) by_line.add_line(line);
  const auto expected = std::vector<std::pair<std::string, std::int64_t>>{
      {"abcdefgh", 2}, {"abcdefghi", 2}, {"abcdefghj", 1}, {"a\0"s, 1}, {"a", 1}, {"a\0b"s, 1}, {"abcdefgh\x0b", 1}};
  CHECK(by_line.entries() == expected);
  const std::string text = lines[0] + "\n" + lines[1] + "\n" + lines[2];
  CHECK(words_of(text).entries() == expected);
  TempFile file(text, "count");
  CHECK(count_words(file.path).entries() == expected);
  CHECK(count_words(file.path, 3).entries() == expected);
  TempFile bad("a b\nc\n\nd \xC3\n", "bad");
  CHECK_THROWS_WITH_AS(count_words(bad.path), doctest::Contains(":4: invalid UTF-8"), InputError);
}

namespace {

// Text of several MB (the parallel counter's chunks are about 1 MB): new
// words keep appearing, with ties, Unicode, empty lines, '\r\n' and other
// Python line boundaries, and no '\n' at the end.
std::string many_chunks_text() {
  std::mt19937 random(7);
  std::string text;
  for (int line = 0; text.size() < (std::size_t(3) << 20); ++line) {
    if (line % 97 == 0) text += line % 2 ? "\n" : " \r\n";
    const int words = static_cast<int>(random() % 12);
    for (int i = 0; i < words; ++i) {
      const unsigned kind = random() % 8;
      const int id = kind < 4 ? static_cast<int>(random() % 50) : line - static_cast<int>(random() % 100);
      text += (kind == 7 ? "w\xC3\xA9" : "w") + std::to_string(id) + (kind == 6 ? "\x0b" : "") + (i + 1 < words ? " " : "");
    }
    text += line % 5 ? "\n" : "\r\n";
  }
  return text + "last";
}

}  // namespace

TEST_CASE("parallel word counts: same counts in the same order for any thread count") {
  for (const std::string& text : {many_chunks_text(), std::string(), std::string("one line"), std::string("\n\n\n"),
                                 std::string("b a\n\nc a b\n")}) {
    TempFile file(text, "parallel");
    const auto expected = words_of(text).entries();
    for (int threads = 1; threads <= 4; ++threads) {
      CAPTURE(threads);
      CHECK(count_words(file.path, threads).entries() == expected);
    }
  }
}

TEST_CASE("parallel word counts: the first invalid UTF-8 in the input is the one reported; read errors") {
  std::string text = many_chunks_text();
  const auto line_at = [&](std::size_t pos) { return std::count(text.begin(), text.begin() + pos, '\n') + 1; };
  const std::size_t late = text.size() - 100, early = text.find('\n', text.size() / 2) + 1;
  text[late] = '\xFF';
  text[early] = '\xC3';
  TempFile file(text, "bad_parallel");
  const std::string message = ":" + std::to_string(line_at(early)) + ": invalid UTF-8";
  for (int threads = 1; threads <= 4; ++threads) {
    CAPTURE(threads);
    CHECK_THROWS_WITH_AS(count_words(file.path, threads),
                         doctest::Contains(message.c_str()), InputError);
    CHECK_THROWS_AS(count_words(std::filesystem::temp_directory_path().string(), threads), IoError);  // read fails
    CHECK_THROWS_AS(count_words(file.path + ".missing", threads), IoError);
  }
}

TEST_CASE("word-count lines parse strictly, with file and line in errors") {
  CHECK(parse_word_count("word 12\r", "v", 1) == std::pair<std::string_view, std::int64_t>{"word", 12});
  CHECK_THROWS_WITH_AS(parse_word_count("word", "v.txt", 3), "v.txt:3: expected 'word count' (a word, one space, a count)",
                       InputError);
  CHECK_THROWS_AS(parse_word_count("a b 1", "v", 1), InputError);
  CHECK_THROWS_AS(parse_word_count("a 1x", "v", 1), InputError);
  CHECK(parse_word_count("a\t \t1\x0b", "v", 1) == std::pair<std::string_view, std::int64_t>{"a\t", 1});
  CHECK(parse_word_count("a 1\xE2\x80\xA8", "v", 1) == std::pair<std::string_view, std::int64_t>{"a", 1});
  TempFile file("a 2\nb 1\na 3\n", "dict");
  const WordCounts counts = read_word_counts(file.path);
  CHECK(counts.entries().front() == std::pair<std::string, std::int64_t>{"a", 5});
}

// subword-nmt reads counts with int(): a sign, underscores between digits,
// digits of any script (Unicode Nd).
TEST_CASE("word counts are integers as Python's int() reads them") {
  using Parsed = std::pair<std::string_view, std::int64_t>;
  CHECK(parse_word_count("a +1_000", "v", 1) == Parsed{"a", 1000});
  CHECK(parse_word_count("a -0", "v", 1) == Parsed{"a", 0});
  CHECK(parse_word_count("a -1", "v", 1) == Parsed{"a", -1});
  CHECK(parse_word_count("a 0_0_7", "v", 1) == Parsed{"a", 7});
  CHECK(parse_word_count("a \u0661\u0662", "v", 1) == Parsed{"a", 12});     // Arabic-Indic
  CHECK(parse_word_count("a \u096F\u0966", "v", 1) == Parsed{"a", 90});     // Devanagari
  CHECK(parse_word_count("a \U0001D7D9\U0001D7FF", "v", 1) == Parsed{"a", 19});  // runs of ten side by side
  CHECK(parse_word_count("a 9223372036854775807", "v", 1) == Parsed{"a", 9223372036854775807});
  CHECK(parse_word_count("a -9223372036854775808", "v", 1).second == std::numeric_limits<std::int64_t>::min());
  for (const char* bad : {"a 1__0", "a _1", "a 1_", "a +_1", "a +", "a -", "a +-1", "a \u00B2", "a 1.0", "a 0x1"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(parse_word_count(bad, "v", 2), doctest::Contains("v:2: count"), InputError);
  }
  CHECK_THROWS_WITH_AS(parse_word_count("a 9223372036854775808", "v", 1),
                       "v:1: count '9223372036854775808' does not fit in 64 bits", InputError);
  CHECK_THROWS_WITH_AS(parse_word_count("a -99999999999999999999", "v", 1),
                       doctest::Contains("does not fit in 64 bits"), InputError);
  // A dictionary's negative count is refused; a vocabulary keeps its word
  // only without a threshold, as subword-nmt does (freq >= threshold).
  TempFile negative("a 2\nb -3\n", "dict_negative");
  CHECK_THROWS_WITH_AS(read_word_counts(negative.path), doctest::Contains(":2: count -3 is negative"), InputError);
  CHECK(read_bpe_vocabulary(negative.path, -1) == std::unordered_set<std::string>{"a", "b"});
  CHECK(read_bpe_vocabulary(negative.path, 1) == std::unordered_set<std::string>{"a"});
}

// subword-nmt reads dictionaries and vocabularies with Python's codecs reader,
// which breaks lines as str.splitlines does (learn --dict-input, apply
// --vocabulary): a word never holds '\r', so learned codes read back.
TEST_CASE("word-count files break lines where subword-nmt's reader does") {
  using Entries = std::vector<std::pair<std::string, std::int64_t>>;
  TempFile breaks("a 1\rb 2\r\nc 3\x0b" "d 4\xC2\x85" "e 5\xE2\x80\xA9" "f 6", "dict_breaks");
  CHECK(read_word_counts(breaks.path).entries() == Entries{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}, {"e", 5}, {"f", 6}});
  CHECK(read_bpe_vocabulary(breaks.path, 4) == std::unordered_set<std::string>{"d", "e", "f"});
  TempFile file_separator("a 1\x1c", "dict_file_separator");  // a line break that int() does not ignore
  CHECK_THROWS_WITH_AS(read_word_counts(file_separator.path), doctest::Contains(":1: count"), InputError);
  // The fuzzer's finding: a word that held '\r' gave merges of '\r', whose
  // codes lines did not read back; subword-nmt fails on the first empty line.
  using namespace std::string_literals;
  TempFile carriage_returns("\r\r|\r\x05low\0evt 6\nwidest 3\n"s, "dict_carriage_returns");
  CHECK_THROWS_WITH_AS(read_word_counts(carriage_returns.path),
                       doctest::Contains(":1: expected 'word count'"), InputError);
  TempFile empty_after_cr("a 1\r\r\nb 2\n", "dict_empty_after_cr");  // "a 1\r", "\r\n", "b 2\n"
  CHECK_THROWS_WITH_AS(read_word_counts(empty_after_cr.path), doctest::Contains(":1: expected"), InputError);
  TempFile empty_after_vt("a 1\x0b\nb 2\n", "dict_empty_after_vt");  // "a 1\v", "\n", "b 2\n"
  CHECK_THROWS_WITH_AS(read_word_counts(empty_after_vt.path), doctest::Contains(":1: expected"), InputError);
  TempFile word_with_ff("a\x0c" "b 2\n", "dict_word_with_ff");  // "a\f", "b 2\n"
  CHECK_THROWS_WITH_AS(read_word_counts(word_with_ff.path), doctest::Contains(":1: expected"), InputError);
  TempFile last_break("a 1\x0b", "dict_last_break");  // nothing after the last break: no empty line
  CHECK(read_word_counts(last_break.path).entries() == Entries{{"a", 1}});
}

TEST_CASE("codes files: headers, versions and malformed lines") {
  TempFile v2("#version: 0.2\na b\nab c</w>\n\n");
  const BpeCodes codes = read_bpe_codes(v2.path);
  CHECK(codes.version == 2);
  CHECK(codes.merges.size() == 2);
  CHECK(read_bpe_codes(v2.path, 1).merges.size() == 1);
  TempFile v1("a b\nab </w>\n");
  CHECK(read_bpe_codes(v1.path).version == 1);
  TempFile bad_header("#version: 0.3\na b\n");
  CHECK_THROWS_WITH_AS(read_bpe_codes(bad_header.path), doctest::Contains(":1: unsupported header"), InputError);
  TempFile bad_line("#version: 0.2\na b\na  b\n");
  CHECK_THROWS_WITH_AS(read_bpe_codes(bad_line.path), doctest::Contains(":3: invalid BPE codes line"), InputError);
  CHECK(read_bpe_codes(bad_line.path, 1).merges.size() == 1);  // later lines unread, as subword-nmt
  TempFile inner_blank("#version: 0.2\na b\n\nb c\n");
  CHECK_THROWS_WITH_AS(read_bpe_codes(inner_blank.path), doctest::Contains(":3: empty line"), InputError);
  TempFile latin1("#version: 0.2\na \xE9\n");
  CHECK_THROWS_WITH_AS(read_bpe_codes(latin1.path), doctest::Contains(":2: invalid UTF-8"), InputError);
}

TEST_CASE("learning breaks ties as subword-nmt: the larger (left, right) pair first") {
  CHECK(learned_codes("ab ba", 10, 1) == "#version: 0.2\nb a</w>\na b</w>\n");
  CHECK(learned_codes(kLowCorpus, 10) == kLowCodes);
  CHECK(learned_codes("aaaa aaaa aaa aaa", 10) == "#version: 0.2\na a\naa a</w>\naa a\naaa a</w>\n");
  // Long symbols: ties decided past the first 8 bytes of the pair.
  CHECK(learned_codes("abcdefghixz abcdefghiyz abcdefghixz abcdefghiyz", 20) ==
        "#version: 0.2\nh i\ng hi\nf ghi\ne fghi\nd efghi\nc defghi\nb cdefghi\na bcdefghi\ny z</w>\n"
        "x z</w>\nabcdefghi yz</w>\nabcdefghi xz</w>\n");
  CHECK(learned_codes("abab abab baba baba cabc cabc", 10) ==
        "#version: 0.2\na b\nc ab\ncab c</w>\nb ab\nbab a</w>\nab a\naba b</w>\n");
}

TEST_CASE("learning on Unicode: combining marks, CJK and emoji are characters") {
  CHECK(learned_codes("e\xCC\x81te\xCC\x81 e\xCC\x81te\xCC\x81 日本語 日本語 日本 😀😀 😀😀 a", 10) ==
        "#version: 0.2\n😀 😀</w>\n本 語</w>\n日 本語</w>\n\xCC\x81 t\n\xCC\x81t e\n\xCC\x81te \xCC\x81</w>\n"
        "e \xCC\x81te\xCC\x81</w>\n");
}

TEST_CASE("learning edge cases: nothing to merge, -s 0, min frequency, total symbols, long words") {
  CHECK(learned_codes("a b c a b", 10) == kBpeCodesHeader);  // one-character words only
  CHECK(learned_codes("", 10) == kBpeCodesHeader);
  CHECK(learned_codes(kLowCorpus, 0) == kBpeCodesHeader);
  BpeLearnConfig config;
  config.min_frequency = 4;
  const BpeLearnResult result = learn_bpe(words_of(kLowCorpus), config);
  CHECK(result.stopped_early);
  CHECK(result.merges.size() == 3);  // w e (5), s t</w> (5), l o (5); then 3 < 4
  config = {};
  config.total_symbols = true;
  config.symbols = 14;
  const BpeLearnResult total = learn_bpe(words_of(kLowCorpus), config);
  CHECK(total.internal_chars == 8);  // l o w e n s i d
  CHECK(total.final_chars == 3);     // w</w> r</w> t</w>
  CHECK(total.merges.size() == 3);   // 14 - 11
  const std::string long_word(5000, 'x');
  const std::string codes = learned_codes(long_word + " " + long_word, 3);
  CHECK(codes == "#version: 0.2\nx x\nxx xx\nxxxx xxxx\n");
}

TEST_CASE("applying: merges in code order, separators, spaces, one-character words") {
  TempFile codes(kLowCodes);
  const BpeApplier applier(read_bpe_codes(codes.path), BpeApplyConfig{});
  CHECK(apply(applier, "lowest newer  wider  ") == "lo@@ west ne@@ wer wid@@ e@@ r  ");
  CHECK(apply(applier, "l lo low") == "l l@@ o low");
  CHECK(apply(applier, "   ") == "   ");
  CHECK(apply(applier, "") == "");
  CHECK(apply(applier, "low\r") == "low");          // "\r\n" ends the line
  CHECK(apply(applier, "low\rlo") == "low\nl@@ o");  // a lone '\r' too (universal newlines)
  CHECK(applier.segment_word("widest") == std::vector<std::string>{"wid", "e", "st"});
  BpeApplyConfig plus;
  plus.separator = "+";
  CHECK(apply(BpeApplier(read_bpe_codes(codes.path, 3), plus), "lowest") == "lo+ we+ st");
}

TEST_CASE("applying without dropout (merges by kept ranks) gives what merging round by round gives") {
  // A dropout too small to drop anything takes the round-by-round path.
  std::mt19937 random(11);
  const std::vector<std::string> letters = {"a", "b", "c", "\xC3\xA9", "\xE6\x97\xA5"};
  const auto random_words = [&](int count) {
    std::string text;
    for (int w = 0; w < count; ++w) {
      for (auto n = 1 + random() % 12; n > 0; --n) text += letters[random() % letters.size()];
      text += ' ';
    }
    return text;
  };
  BpeLearnConfig learn;
  learn.symbols = 300;
  learn.min_frequency = 1;
  std::vector<std::pair<std::string, std::string>> merges = learn_bpe(words_of(random_words(2000)), learn).merges;
  // Pairs that make the same unit, a duplicate, a merge of a unit with itself.
  for (const auto& [left, right] : std::vector<std::pair<std::string, std::string>>{
           {"a", "b"}, {"b", "c"}, {"ab", "c"}, {"a", "bc"}, {"abc", "abc"}, {"c", "a"}, {"a", "b"}, {"ca", "ca"}})
    merges.emplace_back(left, right);
  const std::string text = random_words(3000) + "abcabcabc cacacaca abcabc";
  for (const int version : {2, 1}) {
    CAPTURE(version);
    BpeApplyConfig round_by_round;
    round_by_round.dropout = 1e-300;
    const BpeApplier kept(BpeCodes{version, merges}, BpeApplyConfig{}), rounds(BpeCodes{version, merges}, round_by_round);
    CHECK(apply(kept, text) == apply(rounds, text));
    CHECK(apply(kept, text) != text);
  }
}

TEST_CASE("applying with a vocabulary undoes merges into unknown units") {
  TempFile codes(kLowCodes);
  const BpeApplier applier(read_bpe_codes(codes.path), BpeApplyConfig{},
                           {"low", "lo@@", "e@@", "s@@", "t", "w@@", "n@@", "est"});
  CHECK(apply(applier, "lowest newest lower widest") ==
        "lo@@ w@@ e@@ s@@ t n@@ e@@ w@@ e@@ s@@ t lo@@ w@@ e@@ r w@@ i@@ d@@ e@@ s@@ t");
  TempFile vocab("low 10\nlo@@ 3\nbad\n", "vocab");
  CHECK_THROWS_WITH_AS(read_bpe_vocabulary(vocab.path, 2), doctest::Contains(":3: expected 'word count'"), InputError);
}

TEST_CASE("glossaries are isolated with Python's re.match and re.split semantics") {
  TempFile codes(kLowCodes);
  BpeApplyConfig config;
  config.glossaries = {"USA", "w[a-z]"};
  const BpeApplier applier(read_bpe_codes(codes.path), config);
  CHECK(apply(applier, "1934USABUSA lowest wi USA") == "1@@ 9@@ 3@@ 4@@ USA@@ B@@ USA l@@ o@@ we@@ st wi USA");
  config.glossaries = {"(("};
  CHECK_THROWS_AS(BpeApplier(read_bpe_codes(codes.path), config), UsageError);
  const BpeGlossaries word_class({"\\w+"});  // Unicode \w, as Python's
  CHECK(word_class.matches("a\xC3\xA9" "bc"));
  CHECK(word_class.isolate("-\xC3\xA9t\xC3\xA9-") == std::vector<std::string>{"-", "\xC3\xA9t\xC3\xA9", "-"});
  const BpeGlossaries alternation({"x|y"});  // '^x|y$' with re.match: starts with x, or is y
  CHECK(alternation.isolate("zyxzy") == std::vector<std::string>{"z", "y", "x", "z", "y"});
  CHECK(alternation.isolate("xzy") == std::vector<std::string>{"xzy"});
}

TEST_CASE("dropout is deterministic for a seed, and 1 splits into characters") {
  TempFile codes(kLowCodes);
  BpeApplyConfig config;
  config.dropout = 0.5;
  config.seed = 7;
  const BpeApplier a(read_bpe_codes(codes.path), config), b(read_bpe_codes(codes.path), config);
  std::string line;
  for (int i = 0; i < 50; ++i) line += "lowest newest widest ";
  std::string out_a, out_b;
  a.apply_line(line, 3, out_a);
  b.apply_line(line, 3, out_b);
  CHECK(out_a == out_b);
  std::string other_line;
  a.apply_line(line, 4, other_line);
  CHECK(other_line != out_a);
  // Between no dropout (3 units a word) and characters (6 or 7 units a word).
  const auto units = std::count(out_a.begin(), out_a.end(), ' ') + 1;
  CHECK(units > 150 * 3);
  CHECK(units < 150 * 6);
  config.dropout = 1;
  CHECK(apply(BpeApplier(read_bpe_codes(codes.path), config), "lowest") == "l@@ o@@ w@@ e@@ s@@ t");
  config.dropout = 1.5;
  CHECK_THROWS_AS(BpeApplier(read_bpe_codes(codes.path), config), UsageError);
}

TEST_CASE("undo is sed -E 's/(@@ )|(@@ ?$)//g'") {
  const auto undo = [](const std::string& line) {
    std::string out;
    undo_bpe(line, "@@", out);
    return out;
  };
  CHECK(undo("lo@@ west ne@@ wer") == "lowest newer");
  CHECK(undo("a@@") == "a");
  CHECK(undo("a@@ ") == "a");
  CHECK(undo("@@@@ x") == "@@x");
  CHECK(undo("a@@b") == "a@@b");
}

TEST_CASE("undo after apply gives back any text with single spaces") {
  // Codes learned on random Unicode text, then random lines segmented and joined back.
  const std::vector<std::string> alphabet = {"a", "b", "e\xCC\x81", "日", "本", "😀", "\xC3\xA9", "-", "@", "x"};
  std::mt19937 rng(3);
  const auto random_line = [&] {
    std::string line;
    const int words = static_cast<int>(rng() % 12);
    for (int w = 0; w < words; ++w) {
      if (w) line += ' ';
      const int chars = 1 + static_cast<int>(rng() % (rng() % 10 == 0 ? 300 : 8));
      for (int c = 0; c < chars; ++c) line += alphabet[rng() % alphabet.size()];
    }
    return line;
  };
  std::string corpus;
  for (int i = 0; i < 200; ++i) corpus += random_line() + " ";
  TempFile codes(learned_codes(corpus, 300));
  const BpeApplier applier(read_bpe_codes(codes.path), BpeApplyConfig{});
  for (int i = 0; i < 300; ++i) {
    const std::string line = random_line();
    std::string back;
    undo_bpe(apply(applier, line), "@@", back);
    REQUIRE(back == line);
  }
}

TEST_CASE("concurrent application gives what one thread gives") {
  TempFile codes(kLowCodes);
  BpeApplyConfig single;
  single.concurrent = false;
  const BpeApplier reference(read_bpe_codes(codes.path), single);
  const BpeApplier shared(read_bpe_codes(codes.path), BpeApplyConfig{});
  const std::vector<std::string> lines = {"lowest newer wider", "widest  lowest", "newest lower low", "l o w"};
  std::vector<std::string> expected;
  for (const auto& line : lines) expected.push_back(apply(reference, line));
  std::vector<int> mismatches(4, 0);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        for (int round = 0; round < 500; ++round) {
          const std::size_t k = static_cast<std::size_t>(round + t) % lines.size();
          if (apply(shared, lines[k]) != expected[k]) ++mismatches[static_cast<std::size_t>(t)];
        }
      });
  }
  CHECK(mismatches == std::vector<int>(4, 0));
}

// Fuzzing found a glossary with a line break (a command-line argument can hold
// one) whose error quoted it raw, over two lines.
TEST_CASE("an invalid glossary's error stays on one line") {
  std::string error;
  try {
    const BpeGlossaries glossaries({"*US]suse\n\x7f"});
  } catch (const Error& e) {
    error = e.what();
  }
  CHECK(error.starts_with("invalid glossary regex '*US]suse\\n\x7f': "));
  CHECK(error.find('\n') == std::string::npos);
  CHECK(std::string(Error("a\nb\rc\vd\fe").what()) == "a\\nb\\rc\\vd\\fe");
}

// Fuzzing found dictionary counts whose pair counts overflowed 64 bits in
// learning (UBSan: signed overflow); the reader refuses such totals.
TEST_CASE("word counts too large to learn from are refused with their line") {
  tfm::test::TempDir dir("tfm_bpe_test_");
  const std::string path = dir.write("counts", "a 5\nwis1111111111111111111111111111tt 1111111111111111113\n");
  CHECK(tfm::test::error_of([&] { read_word_counts(path); }) ==
        path + ":2: counts too large: the counts times the words' lengths pass 9223372036854775807");
}
