#include "tfm/text/word_counts.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>

#include "tfm/core/error.h"
#include "tfm/core/flat_map.h"
#include "tfm/core/line_io.h"
#include "tfm/core/unicode.h"
#include "tfm/core/utf8.h"

namespace tfm {

namespace {

// Length of a line boundary that Python's splitlines knows besides '\n' and
// '\r' (\v \f \x1c-\x1e, U+0085, U+2028, U+2029) starting at text[i], else 0.
std::size_t other_line_boundary(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return k < text.size() ? static_cast<unsigned char>(text[k]) : 0u; };
  const unsigned b = byte(i);
  if (b == 0x0B || b == 0x0C || (b >= 0x1C && b <= 0x1E)) return 1;
  if (b == 0xC2 && byte(i + 1) == 0x85) return 2;
  if (b == 0xE2 && byte(i + 1) == 0x80 && (byte(i + 2) == 0xA8 || byte(i + 2) == 0xA9)) return 3;
  return 0;
}

// The bytes that '\r' or an other_line_boundary starts with.
constexpr std::string_view kLineBreakStarts = "\r\v\f\x1c\x1d\x1e\xC2\xE2";

// The first min(8, size) bytes of `word`, zero-padded; `end` bounds the buffer
// that holds it, so a whole 8-byte load is safe when it fits.
std::uint64_t word_head(std::string_view word, const char* end) {
  std::uint64_t head = 0;
  if (end - word.data() >= 8) {
    std::memcpy(&head, word.data(), 8);
    return word.size() >= 8 ? head : head & (~std::uint64_t(0) >> (64 - 8 * word.size()));
  }
  for (std::size_t i = 0; i < word.size(); ++i) head |= std::uint64_t(static_cast<unsigned char>(word[i])) << (8 * i);
  return head;
}

std::uint64_t word_hash(std::string_view word, std::uint64_t head) {
  if (word.size() > 8) return hash_string(word);
  std::uint64_t h = (head ^ word.size()) * 0x9E3779B97F4A7C15ull;
  h ^= h >> 32;
  return h * 0xBF58476D1CE4E5B9ull;
}

}  // namespace

void WordCounts::add(std::string_view word, std::int64_t count) {
  add(word, word_head(word, word.data() + word.size()), count);
}

bool WordCounts::same(const Slot& slot, std::string_view word, std::uint64_t head) const {
  if (slot.head != head || slot.size != word.size()) return false;
  return word.size() <= 8 || std::memcmp(words_[slot.index].data() + 8, word.data() + 8, word.size() - 8) == 0;
}

void WordCounts::add(std::string_view word, std::uint64_t head, std::int64_t count) {
  if ((words_.size() + 1) * 2 > slots_.size()) grow();
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = word_hash(word, head) >> shift_;; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.index == kNoEntry) {
      slot = Slot{head, static_cast<std::uint32_t>(word.size()), static_cast<std::uint32_t>(words_.size())};
      words_.emplace_back(word);
      counts_.push_back(count);
      return;
    }
    if (same(slot, word, head)) {
      counts_[slot.index] += count;
      return;
    }
  }
}

void WordCounts::grow() {
  std::vector<Slot> old(std::max<std::size_t>(1024, slots_.size() * 2));
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  shift_ = 64 - std::countr_zero(slots_.size());
  for (const Slot& slot : old) {
    if (slot.index == kNoEntry) continue;
    std::size_t i = word_hash(words_[slot.index], slot.head) >> shift_;
    while (slots_[i].index != kNoEntry) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

// What a byte can be in add_line: part of a word, a word separator (' ',
// '\r', '\n'), or the start of a splitlines boundary (maybe, for 0xC2/0xE2).
enum ByteKind : unsigned char { kWordByte, kSeparator, kMaybeBoundary };
constexpr std::array<ByteKind, 256> kByteKinds = [] {
  std::array<ByteKind, 256> kinds{};
  kinds[' '] = kinds['\r'] = kinds['\n'] = kSeparator;
  for (const unsigned char b : {0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0xC2, 0xE2}) kinds[b] = kMaybeBoundary;
  return kinds;
}();

namespace {

// A high bit for each byte of `x` (8 bytes, little-endian) that add_line must
// look at: bytes up to ' ', and 0xC2 and 0xE2; branch-free, as words are short.
std::uint64_t bytes_to_check(std::uint64_t x) {
  constexpr std::uint64_t low7 = 0x7F7F7F7F7F7F7F7Full, high = 0x8080808080808080ull;
  const auto zero = [&](std::uint64_t y) { return ~(((y & low7) + low7) | y) & high; };
  const std::uint64_t up_to_space = ~(((x & low7) + 0x5F5F5F5F5F5F5F5Full) | x) & high;
  return up_to_space | zero(x ^ 0xC2C2C2C2C2C2C2C2ull) | zero(x ^ 0xE2E2E2E2E2E2E2E2ull);
}

}  // namespace

void WordCounts::add_line(std::string_view line) {
  static_assert(std::endian::native == std::endian::little);
  const char* end = line.data() + line.size();
  std::size_t start = 0;
  const auto add_word = [&](std::size_t stop) {
    const std::string_view word = line.substr(start, stop - start);
    add(word, word_head(word, end), 1);
  };
  const auto check = [&](std::size_t i) {
    const ByteKind kind = kByteKinds[static_cast<unsigned char>(line[i])];
    if (kind == kSeparator) {
      if (i > start) add_word(i);
      start = i + 1;
    } else if (const std::size_t n = kind == kMaybeBoundary ? other_line_boundary(line, i) : 0) {
      // Python ends the line after this character and keeps it in the word.
      add_word(i + n);
      start = i + n;
    }
  };
  std::size_t i = 0;
  for (; i + 8 <= line.size(); i += 8) {
    std::uint64_t x;
    std::memcpy(&x, line.data() + i, 8);
    for (std::uint64_t m = bytes_to_check(x); m; m &= m - 1) check(i + std::countr_zero(m) / 8);
  }
  for (; i < line.size(); ++i) check(i);
  if (line.size() > start) add_word(line.size());
}

void WordCounts::merge(const WordCounts& other) { merge(other, 0, other.size()); }

void WordCounts::merge(const WordCounts& other, std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) add(other.words_[i], other.counts_[i]);
}

std::vector<std::pair<std::string, std::int64_t>> WordCounts::entries() const {
  std::vector<std::pair<std::string, std::int64_t>> entries;
  entries.reserve(size());
  for (std::size_t i = 0; i < size(); ++i) entries.emplace_back(words_[i], counts_[i]);
  return entries;
}

std::vector<std::pair<std::string, std::int64_t>> WordCounts::sorted_by_count() const {
  auto sorted = entries();
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return sorted;
}

namespace {

// One counting thread's own table, kept for the whole input, and the chunks
// it counted: (chunk number, first and past-the-last index of the words that
// chunk added to the table).
struct CountShard {
  WordCounts counts;
  struct Run {
    std::size_t chunk, begin, end;
  };
  std::vector<Run> runs;
};

// Hands out the input in chunks of whole lines, numbered in input order, to
// threads that take turns; the first error (invalid UTF-8, read failure) by
// input order wins, and no chunk after it is handed out.
class ChunkSource {
 public:
  explicit ChunkSource(const std::string& path) : reader_(path) {}
  // Copies the next chunk into `text`; false at the end or after an error.
  bool next(std::string& text, std::size_t& chunk, std::size_t& first_line) {
    const std::lock_guard lock(mutex_);
    if (error_) return false;
    first_line = reader_.line_number() + 1;
    std::string_view lines;
    try {
      if (!reader_.next_lines(lines)) return false;
    } catch (...) {
      error_ = std::current_exception(), error_chunk_ = chunks_;
      return false;
    }
    text.assign(lines);
    chunk = chunks_++;
    return true;
  }
  void fail(std::size_t chunk, std::exception_ptr error) {
    const std::lock_guard lock(mutex_);
    if (!error_ || chunk < error_chunk_) error_ = error, error_chunk_ = chunk;
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }
  const std::string& path() const { return reader_.path(); }

 private:
  std::mutex mutex_;
  LineReader reader_;
  std::size_t chunks_ = 0, error_chunk_ = 0;
  std::exception_ptr error_;
};

// One counting thread: chunks until the input ends or a thread fails.
void count_chunks(ChunkSource& source, CountShard& shard) {
  std::string text;
  std::size_t chunk = 0, first_line;
  try {
    while (source.next(text, chunk, first_line)) {
      if (const auto bad = find_invalid_utf8(text); bad != std::string_view::npos) {
        const auto line = first_line + static_cast<std::size_t>(std::count(text.begin(), text.begin() + bad, '\n'));
        throw InputError(display_name(source.path()), line, "invalid UTF-8");
      }
      const std::size_t begin = shard.counts.size();
      shard.counts.add_line(text);
      shard.runs.push_back({chunk, begin, shard.counts.size()});
    }
  } catch (...) {  // out of memory, too
    source.fail(chunk, std::current_exception());
  }
}

// The shards' counts in order of first occurrence in the input: chunk by
// chunk, the words each chunk added to its shard's table (those already in
// the total are only counted), each with all of its shard's occurrences.
WordCounts merge_shards(const std::vector<CountShard>& shards) {
  std::vector<std::pair<const CountShard*, const CountShard::Run*>> runs;
  for (const CountShard& shard : shards)
    for (const auto& run : shard.runs) runs.emplace_back(&shard, &run);
  std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.second->chunk < b.second->chunk; });
  WordCounts total;
  for (const auto& [shard, run] : runs) total.merge(shard->counts, run->begin, run->end);
  return total;
}

// reader.next_lines, checked for invalid UTF-8 (InputError naming the line).
bool next_valid_lines(LineReader& reader, std::string_view& lines) {
  const std::size_t first = reader.line_number() + 1;
  if (!reader.next_lines(lines)) return false;
  if (const auto bad = find_invalid_utf8(lines); bad != std::string_view::npos)
    throw InputError(display_name(reader.path()), first + std::count(lines.begin(), lines.begin() + bad, '\n'),
                     "invalid UTF-8");
  return true;
}

}  // namespace

WordCounts count_words(const std::string& path, int threads) {
  if (threads <= 1) {
    LineReader reader(path);
    WordCounts counts;
    std::string_view lines;
    while (next_valid_lines(reader, lines)) counts.add_line(lines);
    return counts;
  }
  ChunkSource source(path);
  std::vector<CountShard> shards(static_cast<std::size_t>(threads));
  {
    std::vector<std::jthread> pool;
    for (auto& shard : shards) pool.emplace_back([&source, &shard] { count_chunks(source, shard); });
  }
  source.rethrow();
  return merge_shards(shards);
}

namespace {

std::string_view strip_cr_lf_space(std::string_view s) {
  const auto first = s.find_first_not_of("\r\n ");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of("\r\n ") - first + 1);
}

// Whether Python's int() ignores `c` around a number: str.isspace() but
// \x1c-\x1f (of ASCII, int() skips only " \t\n\v\f\r").
bool int_ignores(char32_t c) { return unicode_is(c, kPySpace) && !(c >= 0x1C && c <= 0x1F); }

// Valid UTF-8 `s` without what int() ignores at its ends.
std::string_view strip_int_space(std::string_view s) {
  std::size_t begin = 0;
  for (std::size_t pos = 0; pos < s.size() && int_ignores(decode_utf8(s, pos));) begin = pos;
  std::size_t end = s.size();
  while (end > begin) {
    std::size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    std::size_t pos = start;
    if (!int_ignores(decode_utf8(s, pos))) break;
    end = start;
  }
  return s.substr(begin, end - begin);
}

// The value of decimal digit `c` as int() reads it (Unicode Nd, any script),
// or -1. Nd digits come in runs of ten from 0 to 9, some runs adjacent
// (U+1D7CE-U+1D7FF holds five), so a digit's value is its distance from the
// start of its run, modulo ten.
int decimal_digit_value(char32_t c) {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  if (c < 0x80 || !unicode_is(c, kPerlDigit)) return -1;
  char32_t start = c;
  while (unicode_is(start - 1, kPerlDigit)) --start;
  return static_cast<int>((c - start) % 10);
}

enum class IntParse { kOk, kSyntax, kOverflow };

// Python's int(number) for a valid UTF-8 `number` without surrounding white
// space: a sign, then decimal digits of any script with single underscores
// between them ("+1_000", "-0", "١٢").
IntParse parse_python_int(std::string_view number, std::int64_t& value) {
  std::size_t pos = 0;
  const bool negative = !number.empty() && number[0] == '-';
  if (!number.empty() && (number[0] == '-' || number[0] == '+')) pos = 1;
  std::uint64_t magnitude = 0;
  bool overflow = false, after_digit = false, after_underscore = false;
  while (pos < number.size()) {
    if (number[pos] == '_') {
      if (!after_digit) return IntParse::kSyntax;
      after_digit = false, after_underscore = true, ++pos;
      continue;
    }
    const int digit = decimal_digit_value(decode_utf8(number, pos));
    if (digit < 0) return IntParse::kSyntax;
    overflow = overflow || __builtin_mul_overflow(magnitude, 10u, &magnitude) ||
               __builtin_add_overflow(magnitude, static_cast<unsigned>(digit), &magnitude);
    after_digit = true, after_underscore = false;
  }
  if (!after_digit || after_underscore) return IntParse::kSyntax;
  const std::uint64_t limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
  if (overflow || magnitude > limit) return IntParse::kOverflow;
  value = negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
  return IntParse::kOk;
}

}  // namespace

std::pair<std::string_view, std::int64_t> parse_word_count(std::string_view line, const std::string& file,
                                                           std::size_t line_number) {
  const auto fail = [&](const std::string& why) { return InputError(file, line_number, why); };
  if (!is_valid_utf8(line)) throw fail("invalid UTF-8");
  const std::string_view text = strip_cr_lf_space(line);
  const auto space = text.find(' ');
  if (space == std::string_view::npos || space == 0 || text.find(' ', space + 1) != std::string_view::npos)
    throw fail("expected 'word count' (a word, one space, a count)");
  const std::string_view number = strip_int_space(text.substr(space + 1));
  std::int64_t count = 0;
  switch (parse_python_int(number, count)) {
    case IntParse::kOk: break;
    case IntParse::kSyntax: throw fail("count '" + std::string(number) + "' is not an integer");
    case IntParse::kOverflow: throw fail("count '" + std::string(number) + "' does not fit in 64 bits");
  }
  return {text.substr(0, space), count};
}

void read_word_count_lines(const std::string& path,
                           const std::function<void(std::string_view word, std::int64_t count,
                                                    std::size_t line_number)>& add) {
  LineReader reader(path);
  const std::string name = display_name(path);
  std::string_view line;
  while (reader.next(line)) {
    const auto parse = [&](std::string_view piece) {
      const auto [word, count] = parse_word_count(piece, name, reader.line_number());
      add(word, count, reader.line_number());
    };
    std::size_t start = 0;
    bool broken = false, after_cr = false;
    for (std::size_t i = line.find_first_of(kLineBreakStarts); i != std::string_view::npos;
         i = line.find_first_of(kLineBreakStarts, i)) {
      const std::size_t n = line[i] == '\r' ? 1 : other_line_boundary(line, i);
      if (n > 0) {
        parse(line.substr(start, i + n - start));
        broken = true, after_cr = line[i] == '\r';
        start = i + n;
      }
      i += std::max<std::size_t>(n, 1);
    }
    // What follows the last break is a line too, unless it is empty and
    // nothing follows it, or its '\n' ends the line with the '\r' before it.
    if (start < line.size() || !broken || (reader.had_newline() && !after_cr)) parse(line.substr(start));
  }
}

WordCounts read_word_counts(const std::string& path) {
  WordCounts counts;
  std::int64_t weight = 0;  // sum of count x (bytes + 1): bounds every pair count BPE learning adds up
  read_word_count_lines(path, [&](std::string_view word, std::int64_t count, std::size_t line_number) {
    if (count < 0)
      throw InputError(display_name(path), line_number, "count " + std::to_string(count) + " is negative");
    std::int64_t word_weight = 0;
    if (__builtin_mul_overflow(count, static_cast<std::int64_t>(word.size() + 1), &word_weight) ||
        __builtin_add_overflow(weight, word_weight, &weight))
      throw InputError(display_name(path), line_number,
                       "counts too large: the counts times the words' lengths pass 9223372036854775807");
    counts.add(word, count);
  });
  return counts;
}

std::string format_vocabulary(const WordCounts& counts) {
  std::string out;
  for (const auto& [word, count] : counts.sorted_by_count()) {
    out += word;
    out += ' ';
    out += std::to_string(count);
    out += '\n';
  }
  return out;
}

}  // namespace tfm
