// Word-count vocabularies as subword-nmt reads and writes them: `word count`
// lines, sorted by count (descending) with ties in order of first occurrence.
// Counting follows Python's reading of text: lines break at every Unicode line
// boundary (str.splitlines), each line is stripped of '\r', '\n' and ' ' and
// split at single spaces, empty words are dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tfm {

// Counts of distinct words in order of first occurrence.
class WordCounts {
 public:
  // Adds `count` occurrences of `word` (appended if new).
  void add(std::string_view word, std::int64_t count = 1);
  // Adds every word of one input line (Python's splitlines/strip/split rules),
  // or of several: '\n' separates words anyway.
  void add_line(std::string_view line);
  // Adds all counts of `other`, keeping this object's order, then other's.
  void merge(const WordCounts& other);
  // The same for other's entries [begin, end) only (in order of first occurrence).
  void merge(const WordCounts& other, std::size_t begin, std::size_t end);
  // (word, count) in order of first occurrence.
  std::vector<std::pair<std::string, std::int64_t>> entries() const;
  std::size_t size() const { return words_.size(); }
  bool empty() const { return words_.empty(); }
  // Entries sorted by count, descending; equal counts keep their order.
  std::vector<std::pair<std::string, std::int64_t>> sorted_by_count() const;

 private:
  // Open addressing; a slot holds a word's first 8 bytes and length, so most
  // words (8 bytes or less) compare without reading words_.
  struct Slot {
    std::uint64_t head = 0;
    std::uint32_t size = 0;
    std::uint32_t index = kNoEntry;
  };
  static constexpr std::uint32_t kNoEntry = ~std::uint32_t(0);
  void add(std::string_view word, std::uint64_t head, std::int64_t count);
  bool same(const Slot& slot, std::string_view word, std::uint64_t head) const;
  void grow();
  std::vector<Slot> slots_;
  int shift_ = 64;  // slot of a hash: its top bits
  std::vector<std::string> words_;
  std::vector<std::int64_t> counts_;  // apart from words_: the hot ones stay in cache
};

// Counts the words of a text file ("-" = stdin) as subword-nmt's get-vocab and
// learn-bpe do. `threads` > 1 counts chunks of lines in parallel, each thread
// in a table of its own, merged at the end in order of first occurrence: the
// result (order included) is the same for any thread count. Throws InputError on
// invalid UTF-8, IoError when the file cannot be read.
WordCounts count_words(const std::string& path, int threads = 1);

// One `word count` line (surrounding '\r', '\n' and spaces ignored, and any
// Python whitespace around the count, as int() ignores it: "a 1\v"). The count
// is read as Python's int() reads it: a sign, digits of any script, single
// underscores between digits ("a +1_000"). Throws InputError(file,
// line_number) unless the line is exactly a word, one space and such an
// integer within 64 bits.
std::pair<std::string_view, std::int64_t> parse_word_count(std::string_view line, const std::string& file,
                                                           std::size_t line_number);

// Calls add(word, count, line) for each `word count` line of a file, its lines
// split as subword-nmt reads a dictionary or vocabulary (Python's codecs
// reader, str.splitlines rules): a line also ends after a '\r' (with a '\n'
// after it, after both) and after \v \f \x1c-\x1e U+0085 U+2028 U+2029, so
// "a 1\rb 2\n" holds two lines, and "a 1\r\r\n" an empty one, an error.
// Throws InputError as parse_word_count, numbered by '\n'-ended lines.
void read_word_count_lines(const std::string& path,
                           const std::function<void(std::string_view word, std::int64_t count,
                                                    std::size_t line_number)>& add);

// Reads `word count` lines (a get-vocab output or a --dict-input file); counts
// of repeated words add up. Throws InputError naming the line when a line is
// not exactly a word, one space and an integer, when a count is negative
// (subword-nmt takes it, but learning from it means nothing), or when the
// counts times the words' lengths in bytes pass 2^63 - 1 (BPE learning sums
// pair counts in 64 bits; no real corpus comes near).
WordCounts read_word_counts(const std::string& path);

// The vocabulary file text: `word count\n` per entry, sorted by count.
std::string format_vocabulary(const WordCounts& counts);

}  // namespace tfm
