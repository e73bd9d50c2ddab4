#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tfm/core/cli.h"
#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/core/parallel.h"
#include "tfm/core/progress.h"
#include "tfm/core/unicode.h"
#include "tfm/core/utf8.h"

using namespace tfm;

TEST_CASE("utf8 validation finds the first bad byte") {
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8("Grüße, 日本語, 🙂"));
  CHECK(find_invalid_utf8("ab\xFF" "cd") == 2);
  CHECK(find_invalid_utf8("\xC0\xAF") == 0);            // overlong '/'
  CHECK(find_invalid_utf8("x\xED\xA0\x80") == 1);       // surrogate
  CHECK(find_invalid_utf8("\xF4\x90\x80\x80") == 0);    // above U+10FFFF
  CHECK(find_invalid_utf8("long ascii run then \xE2\x82") == 20);  // truncated at end
}

TEST_CASE("invalid utf8 is replaced per maximal subpart") {
  CHECK(replace_invalid_utf8("a\xFF" "b") == "a\xEF\xBF\xBD" "b");
  CHECK(replace_invalid_utf8("\xE2\x82" "x") == "\xEF\xBF\xBD" "x");
  CHECK(replace_invalid_utf8("ok") == "ok");
}

TEST_CASE("utf8 encode and decode round trip") {
  for (char32_t cp : {U'a', U'\u00e9', U'\u20ac', U'\U0001F642', U'\u07ff', U'\uffff'}) {
    std::string s;
    append_utf8(s, cp);
    std::size_t pos = 0;
    CHECK(decode_utf8(s, pos) == cp);
    CHECK(pos == s.size());
  }
  CHECK(utf8_length("Grüße") == 5);
}

TEST_CASE("unicode classes follow Perl and Python") {
  CHECK(unicode_is(U'a', kPerlAlpha | kPerlLower | kPerlAlnum));
  CHECK(unicode_is(U'\u00c9', kPerlUpper));
  CHECK(unicode_is(U'5', kPerlN));
  CHECK(unicode_is(U'\u00bd', kPerlN));        // ½ is a number, not a digit
  CHECK_FALSE(unicode_is(U'\u00bd', kPerlDigit));
  CHECK(unicode_is(U'\u20ac', kPerlSc));
  CHECK(unicode_is(U'\u00a0', kPerlSpace));    // NBSP is \s in Perl
  CHECK_FALSE(unicode_is(U'\u200b', kPerlSpace));  // ZWSP is not
  CHECK(unicode_is(U'\x1c', kPySpace));        // Python's isspace knows the separators
  CHECK_FALSE(unicode_is(U'\x1c', kPerlSpace));
  CHECK(unicode_is(U'\U0001F642', kPerlSo | kPyS));
  CHECK(unicode_is(U'\u00bf', kPyP));
  CHECK(unicode_is(U'\U00020000', kPerlAlpha));  // CJK extension B, outside the BMP
}

TEST_CASE("case mappings are the full ones") {
  std::string out;
  append_perl_lower(out, U'\u0130');  // İ lowercases to i + combining dot
  CHECK(out == "i\xCC\x87");
  out.clear();
  append_perl_ucfirst(out, U'\u01c6');  // ǆ titlecases to ǅ, not Ǆ
  CHECK(out == "\xC7\x85");
  out.clear();
  append_perl_upper(out, U'\u01c6');  // but uppercases to Ǆ
  CHECK(out == "\xC7\x84");
  out.clear();
  append_perl_upper(out, U'\u00df');  // ß uppercases to SS
  CHECK(out == "SS");
  out.clear();
  append_python_lower(out, U'\u00c4');
  CHECK(out == "\xC3\xA4");
}

TEST_CASE("LineReader returns lines, numbers and the missing final newline") {
  const auto path = std::filesystem::temp_directory_path() / "tfm_core_test_lines.txt";
  {
    std::ofstream f(path, std::ios::binary);
    f << "one\r\n\nthree " << std::string(3 << 20, 'x') << "\nlast";
  }
  LineReader reader(path.string());
  std::string_view line;
  REQUIRE(reader.next(line));
  CHECK(line == "one\r");
  REQUIRE(reader.next(line));
  CHECK(line.empty());
  REQUIRE(reader.next(line));
  CHECK(line.size() == 6 + (3u << 20));
  REQUIRE(reader.next(line));
  CHECK(line == "last");
  CHECK(reader.line_number() == 4);
  CHECK_FALSE(reader.had_newline());
  CHECK_FALSE(reader.next(line));
  std::filesystem::remove(path);
}

TEST_CASE("LineReader::next_lines returns whole lines, then a last one without newline") {
  const auto path = std::filesystem::temp_directory_path() / "tfm_core_test_blocks.txt";
  std::ofstream(path, std::ios::binary) << "a\nb\n\nlast";
  LineReader reader(path.string());
  std::string_view lines;
  REQUIRE(reader.next_lines(lines));
  CHECK(lines == "a\nb\n\n");
  CHECK(reader.line_number() == 3);
  REQUIRE(reader.next_lines(lines));
  CHECK(lines == "last");
  CHECK(reader.line_number() == 4);
  CHECK_FALSE(reader.had_newline());
  CHECK_FALSE(reader.next_lines(lines));
  std::filesystem::remove(path);
}

TEST_CASE("LineReader on a missing file is an IoError naming it") {
  CHECK_THROWS_WITH_AS(LineReader("/nonexistent/x.txt"),
                       doctest::Contains("/nonexistent/x.txt: cannot open"), IoError);
}

TEST_CASE("AtomicFile writes into a FIFO instead of renaming over it") {
  // Renaming over a device as root would replace it (-o /dev/null turned
  // /dev/null into a regular file); a FIFO stands in for devices here.
  const auto dir = std::filesystem::temp_directory_path() / "tfm_core_test_fifo";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto path = (dir / "pipe").string();
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  const int reader = ::open(path.c_str(), O_RDWR | O_NONBLOCK);  // keeps the FIFO open
  REQUIRE(reader >= 0);
  {
    AtomicFile file(path);
    file.write("through the pipe\n");
    file.commit();
  }
  char buffer[64] = {};
  CHECK(::read(reader, buffer, sizeof buffer) == 17);
  CHECK(std::string(buffer) == "through the pipe\n");
  ::close(reader);
  CHECK(std::filesystem::is_fifo(path));
  CHECK(std::distance(std::filesystem::directory_iterator(dir), {}) == 1);  // no temporary left
  std::filesystem::remove_all(dir);
}

TEST_CASE("AtomicFile appears only on commit") {
  const auto dir = std::filesystem::temp_directory_path() / "tfm_core_test_atomic";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto path = (dir / "out.txt").string();
  {
    AtomicFile file(path);
    file.write("partial");
  }
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(std::filesystem::is_empty(dir));
  {
    AtomicFile file(path);
    file.write("complete\n");
    file.commit();
  }
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  CHECK(text == "complete");
  std::filesystem::remove_all(dir);
}

TEST_CASE("filter_lines writes to its sink in input order, whatever the threads") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "tfm_filter_lines_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string input, expected;
  for (int i = 1; i <= 1000; ++i) {
    input += std::string(static_cast<std::size_t>(i % 7), 'a') + "\n";
    expected += std::to_string(i) + ":" + std::to_string(i % 7) + "\n";
  }
  input += "last";  // no final newline: its output gets one unless told otherwise
  expected += "1001:4";
  std::ofstream(dir / "in.txt", std::ios::binary) << input;
  const auto transform = [](std::string_view line, std::size_t number, std::string& out) {
    out = std::to_string(number) + ":" + std::to_string(line.size());
  };
  const auto read = [](const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  for (const LineFilterOptions& options :
       {LineFilterOptions{1, 64, false, {}}, LineFilterOptions{3, 16, false, {}},
        LineFilterOptions{1, 64, true, {}}, LineFilterOptions{2, 5, false, [](std::string_view) { return false; }}}) {
    LineReader reader((dir / "in.txt").string());
    AtomicFile out((dir / "out.txt").string());
    filter_lines(reader, out, options, transform);
    CHECK_FALSE(fs::exists(dir / "out.txt"));  // the caller commits
    out.commit();
    CHECK(read(dir / "out.txt") == (options.terminate_last_line ? expected : expected + "\n"));
    fs::remove(dir / "out.txt");
  }
  fs::remove_all(dir);
}

TEST_CASE("for_each_range covers [0, n) once in fixed ranges and rethrows the earliest error") {
  for (std::size_t parts : {0, 1, 2, 3, 7}) {
    std::vector<int> seen(100, 0);
    for_each_range(seen.size(), parts, [&](std::size_t begin, std::size_t end) {
      for (std::size_t i = begin; i < end; ++i) ++seen[i];
    });
    CHECK(std::count(seen.begin(), seen.end(), 1) == 100);
  }
  CHECK(split_point(10, 2, 5) == 4);
  CHECK_THROWS_WITH_AS(for_each_range(10, 5,
                                      [](std::size_t begin, std::size_t) {
                                        if (begin >= 4) throw Error("range at " + std::to_string(begin));
                                      }),
                       "range at 4", Error);
}

TEST_CASE("errors carry file and line") {
  CHECK(std::string(InputError("a.txt", 7, "invalid UTF-8").what()) == "a.txt:7: invalid UTF-8");
  CHECK(std::string(InputError("-", 2, "bad").what()) == "<stdin>:2: bad");
  CHECK(std::string(InputError("a.txt", 0, "empty").what()) == "a.txt: empty");
}

TEST_CASE("durations read like a person writes them") {
  CHECK(format_duration(3) == "3s");
  CHECK(format_duration(125) == "2m05s");
  CHECK(format_duration(3723) == "1h02m03s");
}

TEST_CASE("moses-style options take one dash and whole names only") {
  namespace po = boost::program_options;
  std::string language;
  bool lower = false;
  int threads = 1;
  po::options_description options;
  options.add_options()("language,l", po::value(&language))("lower-case", po::bool_switch(&lower))(
      "threads", po::value(&threads));
  const ToolInfo info{"tfm-test", "", ""};
  const char* argv[] = {"tfm-test", "-l", "de", "-threads", "3", "-lower-case"};
  po::variables_map vm;
  CHECK(parse_command_line(info, options, 6, const_cast<char**>(argv), vm, nullptr, true));
  CHECK(language == "de");
  CHECK(threads == 3);
  CHECK(lower);
  const char* abbreviated[] = {"tfm-test", "-thread", "2"};
  po::variables_map vm2;
  CHECK_THROWS_AS(parse_command_line(info, options, 3, const_cast<char**>(abbreviated), vm2, nullptr, true),
                  UsageError);
}
