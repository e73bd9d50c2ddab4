#include "tfm/data/shortlist.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <string_view>

#include <fmt/format.h>

#include "tfm/core/error.h"
#include "tfm/core/line_io.h"
#include "tfm/core/utf8.h"

namespace tfm {

namespace {

// `out` ← the fields of a line split by single spaces (an empty field is an
// error); one vector for all lines, not one a line.
void split_fields(std::string_view line, const std::string& path, std::size_t number,
                  std::vector<std::string_view>& out) {
  out.clear();
  for (std::size_t pos = 0;;) {
    std::size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    if (end == pos) throw InputError(path, number, "empty field (fields are split by single spaces)");
    out.push_back(line.substr(pos, end - pos));
    if (end == line.size()) return;
    pos = end + 1;
  }
}

// One lookup a token (a file holds hundreds of thousands): only <unk> itself
// may have <unk>'s id.
std::int32_t token_id(std::string_view token, const Vocabulary& vocabulary, const char* side,
                      const std::string& path, std::size_t number) {
  const std::uint32_t id = vocabulary.id(token);
  if (id == static_cast<std::uint32_t>(kUnkId) && token != kSpecialTokens[kUnkId])
    throw InputError(path, number, fmt::format("{} token '{}' is not in the model's vocabulary", side, token));
  return static_cast<std::int32_t>(id);
}

float probability(std::string_view text, const std::string& path, std::size_t number) {
  float p = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), p);
  if (error != std::errc() || end != text.data() + text.size() || !(p >= 0 && p <= 1))
    throw InputError(path, number, fmt::format("'{}' is not a probability (a number in [0, 1])", text));
  return p;
}

}  // namespace

Shortlist Shortlist::load(const std::string& path, const Vocabulary& source_vocabulary,
                          const Vocabulary& target_vocabulary) {
  Shortlist s;
  s.candidates.resize(source_vocabulary.size());
  LineReader reader(path);
  const std::string name = display_name(path);
  std::string_view line;
  bool frequent_seen = false;
  const std::string header = fmt::format("{} {}", kShortlistFormat, kShortlistFormatVersion);
  std::vector<std::string_view> f;
  while (reader.next(line)) {
    const std::size_t number = reader.line_number();
    if (!is_valid_utf8(line)) throw InputError(name, number, "invalid UTF-8");
    if (number == 1) {
      if (line != header)
        throw InputError(name, 1, fmt::format("not a shortlist: the first line must be '{}'", header));
      continue;
    }
    split_fields(line, name, number, f);
    if (f[0] == "frequent") {
      if (frequent_seen) throw InputError(name, number, "a second 'frequent' line");
      frequent_seen = true;
      for (std::size_t i = 1; i < f.size(); ++i)
        s.frequent.push_back(token_id(f[i], target_vocabulary, "target", name, number));
    } else if (f[0] == "source") {
      if (f.size() < 4 || f.size() % 2 != 0)
        throw InputError(name, number, "truncated line: 'source' needs a token, then target-probability pairs");
      auto& c = s.candidates[static_cast<std::size_t>(token_id(f[1], source_vocabulary, "source", name, number))];
      if (!c.empty()) throw InputError(name, number, fmt::format("source token '{}' given twice", f[1]));
      c.reserve(f.size() / 2 - 1);
      for (std::size_t i = 2; i < f.size(); i += 2)
        c.push_back({token_id(f[i], target_vocabulary, "target", name, number), probability(f[i + 1], name, number)});
    } else {
      throw InputError(name, number, fmt::format("unknown keyword '{}' (expected 'frequent' or 'source')", f[0]));
    }
  }
  if (reader.line_number() == 0) throw InputError(name, 0, "empty file, not a shortlist");
  if (!frequent_seen) throw InputError(name, 0, "no 'frequent' line");
  return s;
}

void Shortlist::save(const std::string& path, const Vocabulary& source_vocabulary,
                     const Vocabulary& target_vocabulary) const {
  AtomicFile out(path);
  std::string text = fmt::format("{} {}\nfrequent", kShortlistFormat, kShortlistFormatVersion);
  for (std::int32_t t : frequent) text += ' ' + target_vocabulary.token(static_cast<std::uint32_t>(t));
  text += '\n';
  for (std::size_t source = 0; source < candidates.size(); ++source) {
    if (candidates[source].empty()) continue;
    text += "source " + source_vocabulary.token(static_cast<std::uint32_t>(source));
    for (const Candidate& c : candidates[source])
      text += fmt::format(" {} {:.6g}", target_vocabulary.token(static_cast<std::uint32_t>(c.token)), c.probability);
    text += '\n';
    if (text.size() > (1 << 20)) out.write(text), text.clear();
  }
  out.write(text);
  out.commit();
}

namespace {

void sort_unique_below(std::vector<std::int32_t>& ids, std::int64_t vocab_size) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (!ids.empty())
    for (std::int32_t t : {ids.front(), ids.back()})
      if (t < 0 || t >= vocab_size) throw Error(fmt::format("shortlist token {} outside the vocabulary of {}", t, vocab_size));
}

}  // namespace

std::vector<std::int32_t> Shortlist::shared_tokens(std::int64_t vocab_size) const {
  std::vector<std::int32_t> ids(kSpecialTokens.size());
  std::iota(ids.begin(), ids.end(), 0);
  ids.insert(ids.end(), frequent.begin(), frequent.end());
  sort_unique_below(ids, vocab_size);
  return ids;
}

std::vector<std::int32_t> Shortlist::own_tokens(const std::vector<std::int32_t>& source,
                                                const std::vector<std::int32_t>& shared,
                                                std::int64_t vocab_size) const {
  // One mark per vocabulary token rather than a search of `shared` per
  // candidate and a sort: a sentence has some 50 candidates per source token.
  enum : std::uint8_t { kNone, kOwn, kShared };
  std::vector<std::uint8_t> mark(static_cast<std::size_t>(std::max<std::int64_t>(vocab_size, 0)), kNone);
  for (std::int32_t t : shared)
    if (t >= 0 && t < vocab_size) mark[static_cast<std::size_t>(t)] = kShared;
  for (std::int32_t s : source)
    if (s >= 0 && static_cast<std::size_t>(s) < candidates.size())
      for (const Candidate& c : candidates[static_cast<std::size_t>(s)]) {
        if (c.token < 0 || c.token >= vocab_size)
          throw Error(fmt::format("shortlist token {} outside the vocabulary of {}", c.token, vocab_size));
        std::uint8_t& m = mark[static_cast<std::size_t>(c.token)];
        if (m == kNone) m = kOwn;
      }
  std::vector<std::int32_t> ids;
  for (std::size_t t = 0; t < mark.size(); ++t)
    if (mark[t] == kOwn) ids.push_back(static_cast<std::int32_t>(t));
  return ids;
}

}  // namespace tfm
