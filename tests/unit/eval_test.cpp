// libtfm eval: expected values come from sacrebleu 2.6.0 on the same input.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tfm/core/error.h"
#include "tfm/eval/bleu.h"
#include "tfm/eval/chrf.h"
#include "tfm/eval/evaluate.h"
#include "tfm/eval/report.h"
#include "tfm/eval/significance.h"
#include "tfm/eval/ter.h"
#include "tfm/eval/sacrebleu_tokenizers.h"

using namespace tfm;

namespace {

std::string bleu_line(const Lines& hyps, const RefSets& refs, const BleuConfig& config = {}) {
  const BleuResult r = corpus_bleu(hyps, refs, config);
  return format_fixed(r.score, 2) + " " + r.verbose();
}

std::string temp_file(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() / ("tfm_eval_test_" + name);
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

}  // namespace

TEST_CASE("Python string helpers split, strip and lower as Python does") {
  std::vector<std::string_view> fields;
  python_split(" a\tb\u00a0c\u3000d\x1c" "e\u2028 ", fields);
  CHECK(fields == std::vector<std::string_view>{"a", "b", "c", "d", "e"});
  python_split("", fields);
  CHECK(fields.empty());
  CHECK(python_rstrip("x \u00a0\t") == "x");
  CHECK(python_strip("\u3000 x y \u2003") == "x y");
  CHECK(python_lower("ÄÖÜ İ") == "äöü i\u0307");
  CHECK(python_lower("ΟΔΟΣ ΣΑ Σ.Σ aΣ'b") == "οδος σα σ.ς aσ'b");  // final sigma
}

TEST_CASE("13a tokenizer") {
  CHECK(tokenize_13a("Hello, world! It's 3.5 \"quoted\" &amp;lt; 1-2 end.") ==
        "Hello , world ! It's 3.5 \" quoted \" < 1 - 2 end .");
  CHECK(tokenize_13a("a.b,c 1,000.5 x.") == "a . b , c 1,000.5 x .");
  CHECK(tokenize_13a("<skipped>Dr. Smith&quot;s e-mail") == "Dr . Smith \" s e-mail");
  CHECK(tokenize_13a("") == "");
}

TEST_CASE("intl, zh, char and none tokenizers") {
  CHECK(tokenize_intl("Numbers: 1,000.5 and 2.") == "Numbers : 1,000.5 and 2.");
  CHECK(tokenize_intl("«Bonjour», dit-il… €5 +3") == "« Bonjour » , dit - il … € 5 + 3");
  CHECK(tokenize_intl("ÄÖÜ–Test") == "ÄÖÜ – Test");
  CHECK(tokenize_zh("我爱北京天安门。Hello, world!") == "我 爱 北 京 天 安 门 。 Hello , world !");
  // sacrebleu's range table really covers U+2001..U+2A6D: ’ “ ” — € are split.
  CHECK(tokenize_zh("It’s “fine” — 100€") == "It ’ s “ fine ” — 100 €");
  CHECK(is_sacrebleu_chinese(U'\u2019'));
  CHECK_FALSE(is_sacrebleu_chinese(U'\U00020000'));
  CHECK(tokenize_char("ab c\u3000日") == "a b c 日");
  CHECK(tokenize_bleu(" a  b ", BleuTokenizer::kNone) == " a  b ");
  CHECK(parse_bleu_tokenizer("intl") == BleuTokenizer::kIntl);
  CHECK_THROWS_AS(parse_bleu_tokenizer("moses"), UsageError);
}

TEST_CASE("tercom normalization") {
  const TercomOptions normalized{true, false, false, false};
  CHECK(tokenize_tercom("He said: \"John's car, 3.5 km.\"", normalized) ==
        "he said : \" john 's car , 3.5 km . \"");
  const TercomOptions asian{true, true, true, false};
  CHECK(tokenize_tercom("我爱北京。Tokyo, Japan!", asian) == "我 爱 北 京 tokyo japan");
  CHECK(tokenize_tercom("A  B", TercomOptions{}) == "a b");
}

TEST_CASE("corpus BLEU on hand-made cases") {
  CHECK(bleu_line({"the cat sat on the mat"}, {{"the cat sat on the mat"}}) ==
        "100.00 100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)");
  // No match at all: 0 whatever the smoothing.
  CHECK(bleu_line({"xyz"}, {{"the cat sat on the mat"}}) ==
        "0.00 0.0/0.0/0.0/0.0 (BP = 0.007 ratio = 0.167 hyp_len = 1 ref_len = 6)");
  // Hypothesis longer than the reference: clipped counts, no brevity penalty.
  CHECK(bleu_line({"the cat the cat sat on on the mat mat"}, {{"the cat sat on the mat"}}) ==
        "36.56 60.0/55.6/37.5/14.3 (BP = 1.000 ratio = 1.667 hyp_len = 10 ref_len = 6)");
  // Two references: the closer length (4) counts; no 4-gram gives 0.
  CHECK(bleu_line({"the cat sat"}, {{"the cat sat on the mat"}, {"the cat sat there"}}) ==
        "0.00 100.0/100.0/100.0/0.0 (BP = 0.717 ratio = 0.750 hyp_len = 3 ref_len = 4)");
  CHECK(bleu_line({""}, {{"the cat"}}) == "0.00 0.0/0.0/0.0/0.0 (BP = 0.000 ratio = 0.000 hyp_len = 0 ref_len = 2)");
  // An empty corpus scores 0 and does not throw.
  CHECK(corpus_bleu({}, {{}}).score == 0.0);
  CHECK_THROWS_AS(corpus_bleu({"a", "b"}, {{"a"}}), Error);
}

TEST_CASE("BLEU smoothing methods and effective order") {
  const Lines hyp = {"the cat sat mat"};
  const RefSets ref = {{"the cat sat on the mat"}};
  BleuConfig config;
  config.smooth = BleuSmooth::kFloor;
  CHECK(bleu_line(hyp, ref, config) == "25.92 100.0/66.7/50.0/10.0 (BP = 0.607 ratio = 0.667 hyp_len = 4 ref_len = 6)");
  config.smooth = BleuSmooth::kAddK;
  const BleuResult add_k = corpus_bleu(hyp, ref, config);
  CHECK(format_fixed(add_k.score, 2) == "42.89");
  CHECK(add_k.counts == std::vector<double>{4, 3, 2, 1});  // k added from order 2 on
  config.smooth = BleuSmooth::kNone;
  CHECK(format_fixed(corpus_bleu(hyp, ref, config).score, 2) == "0.00");
  BleuConfig effective;
  effective.effective_order = true;
  CHECK(bleu_line({"the cat"}, {{"the cat sat"}}, effective) ==
        "60.65 100.0/100.0/0.0/0.0 (BP = 0.607 ratio = 0.667 hyp_len = 2 ref_len = 3)");
  CHECK(parse_bleu_smooth("add-k") == BleuSmooth::kAddK);
  CHECK_THROWS_AS(parse_bleu_smooth("lin"), UsageError);
}

TEST_CASE("BLEU signature") {
  BleuConfig config;
  config.smooth = BleuSmooth::kFloor;
  config.lowercase = true;
  const Bleu bleu(config, {{"a"}, {"b"}});
  CHECK(bleu.signature().format() ==
        std::string("nrefs:2|case:lc|eff:no|tok:13a|smooth:floor[0.10]|version:") + kSignatureVersion);
  CHECK(bleu.signature().format(true) == std::string("#:2|c:lc|e:no|tok:13a|s:floor[0.10]|v:") + kSignatureVersion);
}

TEST_CASE("chrF and chrF++") {
  const Chrf chrf(ChrfConfig{}, {{"the cat sat"}});
  CHECK(chrf.corpus_score({"the cat sat"}).score == 100.0);
  CHECK(chrf.corpus_score({""}).score == 0.0);
  ChrfConfig plus;
  plus.word_order = 2;
  const Chrf chrf_pp(plus, {{"the cat sat."}});
  const Score s = chrf_pp.corpus_score({"the cat sits."});
  CHECK(s.name == "chrF2++");
  CHECK(python_float_repr(s.score) == "58.17875580388808");
}

TEST_CASE("TER shifts and edits") {
  const Ter ter(TerConfig{}, {{"a b c", "a b x d", ""}});
  const std::vector<double> stats = ter.segment_stats({"c a b", "a b c d e", "a b"});
  CHECK(stats == std::vector<double>{1, 3, 2, 4, 2, 0});
  CHECK(format_fixed(ter.corpus_score({"c a b", "a b c d e", "a b"}).score, 2) == "71.43");
  const Ter only_empty(TerConfig{}, {{""}});
  CHECK(only_empty.corpus_score({"a b"}).score == 100.0);
  CHECK(ter_edits({1, 2, 3}, {3, 1, 2}) == 1);
  // sacrebleu normalizes references twice: ",,0" is ", ,0" as a hypothesis
  // but ", , 0" as a reference.
  const Ter normalized(TerConfig{true, false, false, false}, {{",,0"}});
  CHECK(format_fixed(normalized.corpus_score({",,0"}).score, 2) == "66.67");
}

TEST_CASE("TER of lines too long for the edit-distance table is an error naming the line") {
  std::string long_line;
  for (int i = 0; i < 300000; ++i) long_line += "w ";  // a 1.4 TB table
  const Ter ter(TerConfig{}, {{"a b", long_line}});
  CHECK_THROWS_WITH_AS(ter.segment_stats({"a b", long_line}),
                       doctest::Contains("hypothesis line 2: TER: 300000 hypothesis words against 300000 reference "
                                         "words need a 1440 GB edit-distance table"),
                       Error);
}

TEST_CASE("Python float repr and score formatting") {
  CHECK(python_float_repr(100.0) == "100.0");
  CHECK(python_float_repr(0.0) == "0.0");
  CHECK(python_float_repr(35.1234) == "35.1234");
  CHECK(python_float_repr(0.0001) == "0.0001");
  CHECK(python_float_repr(0.00001) == "1e-05");
  CHECK(python_float_repr(1e16) == "1e+16");
  CHECK(python_float_repr(0.1 + 0.2) == "0.30000000000000004");
  CHECK(format_fixed(0.125, 2) == "0.12");  // half to even on the exact binary value
  const Score score{"TER", 12.345678, "", -1, -1};
  CHECK(format_score(score, 2, false, "nrefs:1|version:x", false) == "TER|nrefs:1|version:x = 12.35");
  CHECK(format_score(score, 2, true, "nrefs:1|version:x", true) == "12.35");
  CHECK(format_score(score, 2, false, "nrefs:1|version:x", true) ==
        "{\n \"name\": \"TER\",\n \"score\": 12.35,\n \"signature\": \"nrefs:1|version:x\",\n"
        " \"nrefs\": \"1\",\n \"version\": \"x\"\n}");
  CHECK(join_results({"BLEU|a = 1", "chrF2|bb = 2"}, false, false) == "  BLEU|a = 1\nchrF2|bb = 2\n");
}

TEST_CASE("reading segments: universal newlines, stripping, bad input") {
  const std::string path = temp_file("segments", "a \r\nb\rc\t\nd");
  CHECK(read_segments(path) == Lines{"a", "b", "c", "d"});
  const std::string bad = temp_file("bad", "ok\nbad \xFF here\n");
  try {
    read_segments(bad);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.line() == 2);
  }
  CHECK_THROWS_AS(read_segments(bad + ".missing"), IoError);
  const std::string tabs = temp_file("tabs", "a\tb\nc\td\n");
  CHECK(read_references({tabs}, 2) == RefSets{{"a", "c"}, {"b", "d"}});
  CHECK_THROWS_AS(read_references({tabs}, 3), InputError);
  CHECK_THROWS_AS(check_line_counts({"x"}, "hyp", {{"a", "b"}}, {"ref"}), InputError);
  for (const auto& p : {path, bad, tabs}) std::remove(p.c_str());
}

TEST_CASE("evaluate_system: several metrics, sentence level, tokenized warning") {
  EvalOptions options;
  options.metrics = {"ter", "bleu"};
  options.json = false;
  const EvalOutput out = evaluate_system({"the cat sat"}, {{"the cat sat"}}, options);
  // Sorted BLEU before TER, right-aligned on '=' (the TER side is longer).
  CHECK(out.text.find("BLEU|nrefs:1") > 0);
  CHECK(out.text.find("TER|nrefs:1") == out.text.find('\n') + 1);
  CHECK(out.text.find(" = ") == out.text.find(" = ", out.text.find('\n')) - out.text.find('\n') - 1);
  options.metrics = {"bleu"};
  options.sentence_level = true;
  options.bleu.effective_order = true;
  const EvalOutput sentences = evaluate_system({"the cat", "x"}, {{"the cat sat", "y"}}, options);
  CHECK(sentences.text.find("= 60.7 100.0/100.0/0.0/0.0") != std::string::npos);
  CHECK(std::count(sentences.text.begin(), sentences.text.end(), '\n') == 2);
  EvalOptions plain;
  const Lines tokenized(100, "a sentence .");
  CHECK(evaluate_system(tokenized, {tokenized}, plain).warnings.size() == 3);
  plain.force = true;
  CHECK(evaluate_system(tokenized, {tokenized}, plain).warnings.empty());
  plain.metrics = {"meteor"};
  CHECK_THROWS_AS(evaluate_system(tokenized, {tokenized}, plain), UsageError);
}

TEST_CASE("NumPy's default_rng draws") {
  // numpy 1.24: default_rng(12345).bit_generator.random_raw(3)
  NumpyRandom raw(12345);
  CHECK(raw.next64() == 0x3a32b18db2ffc19dULL);
  CHECK(raw.next64() == 0x51171315c9e4c4deULL);
  CHECK(raw.next64() == 0xcc2024823444efd9ULL);
  // default_rng(12345).choice(7, size=(3, 7), replace=True)
  CHECK(NumpyRandom(12345).choice(7, 21) ==
        std::vector<std::uint32_t>{4, 1, 5, 2, 1, 5, 4, 4, 6, 2, 5, 2, 3, 4, 1, 1, 1, 4, 4, 6, 4});
  // default_rng(12345).integers(2, size=(2, 40), dtype=bool), first row
  const std::vector<bool> bits = NumpyRandom(12345).fill_bools(80);
  const std::vector<int> first = {1, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1,
                                  1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1};
  for (std::size_t i = 0; i < first.size(); ++i) CHECK(bits[i] == bool(first[i]));
  CHECK(bits[40] == true);
  CHECK(bits[79] == true);
}

TEST_CASE("NumPy pairwise sums and confidence intervals") {
  std::vector<double> values;
  for (int i = 0; i < 1000; ++i) values.push_back(0.1 * i + 1e-3 / (i + 1));
  // np.sum of that array (pairwise); a left-to-right sum gives ...844
  CHECK(python_float_repr(numpy_pairwise_sum(values.data(), values.size())) == "49950.007485470866");
  // statistics.mean is exact: ten 0.1 average to 0.1, a float sum does not.
  CHECK(python_mean(std::vector<double>(10, 0.1)) == 0.1);
  CHECK(python_mean({1.0, 2.0, 4.0}) == 7.0 / 3.0);
  const auto [mean, ci] = estimate_ci({3.0, 1.0, 2.0, 4.0});
  CHECK(mean == 2.5);
  CHECK(ci == 1.5);
}
