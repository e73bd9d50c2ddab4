#include "tfm/text/vocab.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <thread>

#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/core/utf8.h"
#include "flat_map.h"

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

}  // namespace

void WordCounts::add(std::string_view word, std::int64_t count) {
  if ((entries_.size() + 1) * 2 > slots_.size()) grow();
  const std::uint64_t hash = hash_bytes(word);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.index == kNoEntry) {
      slot = Slot{hash, static_cast<std::uint32_t>(entries_.size())};
      entries_.emplace_back(std::string(word), count);
      return;
    }
    if (slot.hash == hash && entries_[slot.index].first == word) {
      entries_[slot.index].second += count;
      return;
    }
  }
}

void WordCounts::grow() {
  std::vector<Slot> old(std::max<std::size_t>(1024, slots_.size() * 2));
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.index == kNoEntry) continue;
    std::size_t i = slot.hash & mask;
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

void WordCounts::add_line(std::string_view line) {
  std::size_t start = 0;
  for (std::size_t i = 0; i < line.size();) {
    const ByteKind kind = kByteKinds[static_cast<unsigned char>(line[i])];
    if (kind == kWordByte) {
      ++i;
    } else if (kind == kSeparator) {
      if (i > start) add(line.substr(start, i - start));
      start = ++i;
    } else if (const std::size_t n = other_line_boundary(line, i)) {
      // Python ends the line after this character and keeps it in the word.
      i += n;
      add(line.substr(start, i - start));
      start = i;
    } else {
      ++i;
    }
  }
  if (line.size() > start) add(line.substr(start));
}

void WordCounts::merge(const WordCounts& other) {
  for (const auto& [word, count] : other.entries_) add(word, count);
}

std::vector<std::pair<std::string, std::int64_t>> WordCounts::sorted_by_count() const {
  auto sorted = entries_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return sorted;
}

namespace {

void count_range(const std::vector<std::string>& lines, std::size_t begin, std::size_t end,
                 WordCounts& counts) {
  for (std::size_t i = begin; i < end; ++i) counts.add_line(lines[i]);
}

// Counts one chunk of lines on `threads` threads and merges in line order.
void count_chunk(const std::vector<std::string>& lines, int threads, WordCounts& total) {
  const std::size_t n = lines.size();
  const std::size_t workers = std::clamp<std::size_t>(static_cast<std::size_t>(threads), 1, n);
  if (workers == 1) return count_range(lines, 0, n, total);
  std::vector<WordCounts> parts(workers);
  {
    std::vector<std::jthread> pool;
    for (std::size_t w = 0; w < workers; ++w)
      pool.emplace_back([&, w] { count_range(lines, n * w / workers, n * (w + 1) / workers, parts[w]); });
  }
  for (const auto& part : parts) total.merge(part);
}

}  // namespace

WordCounts count_words(const std::string& path, int threads) {
  LineReader reader(path);
  WordCounts counts;
  std::string_view line;
  if (threads <= 1) {
    while (reader.next(line)) {
      if (!is_valid_utf8(line)) throw InputError(display_name(path), reader.line_number(), "invalid UTF-8");
      counts.add_line(line);
    }
    return counts;
  }
  const std::size_t chunk_lines = 65536 * static_cast<std::size_t>(threads);
  std::vector<std::string> lines;
  for (bool more = true; more;) {
    lines.clear();
    while (lines.size() < chunk_lines && (more = reader.next(line))) {
      if (!is_valid_utf8(line)) throw InputError(display_name(path), reader.line_number(), "invalid UTF-8");
      lines.emplace_back(line);
    }
    count_chunk(lines, threads, counts);
  }
  return counts;
}

namespace {

std::string_view strip_cr_lf_space(std::string_view s) {
  const auto first = s.find_first_not_of("\r\n ");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of("\r\n ") - first + 1);
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
  const std::string_view number = text.substr(space + 1);
  std::int64_t count = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), count);
  if (ec != std::errc() || end != number.data() + number.size() || count < 0)
    throw fail("count '" + std::string(number) + "' is not a non-negative integer");
  return {text.substr(0, space), count};
}

WordCounts read_word_counts(const std::string& path) {
  LineReader reader(path);
  WordCounts counts;
  std::string_view line;
  while (reader.next(line)) {
    const auto [word, count] = parse_word_count(line, display_name(path), reader.line_number());
    counts.add(word, count);
  }
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
