// The Moses tokenizer (scripts/tokenizer/tokenizer.perl, version 1.1),
// reimplemented as hand-written passes over the text: same output byte for
// byte, including its quirks (blank lines copied verbatim, "\s" collapsed
// before control characters are deleted, HTML-style escapes, literal
// DOTMULTI markers). Each pass mirrors one substitution of the script, with
// the same left-to-right, non-overlapping matching.
//
// Language rules: "en" splits apostrophes to the right (don 't), "fr", "it",
// "ga" and "ca" to the left (l' homme), "so" and "tdt" keep glottal stops,
// others split them off both sides; "fi" and "sv" keep word-internal colons,
// "ca" its middle dot (as the script's Latin-1 reading of it does), "tdt"
// apostrophes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tfm/text/nonbreaking_prefixes.h"
#include "tfm/text/protected_patterns.h"

namespace tfm {

struct TokenizerConfig {
  std::string language = "en";   // -l
  bool aggressive_dash_splits = false;  // -a: "a-b" → "a @-@ b"
  bool escape = true;            // off with -no-escape
  bool skip_xml = false;         // -x: copy lines like "<...>" unchanged
  bool lower_case = false;       // lower-case the output (as lowercase.perl)
};

class Tokenizer {
 public:
  Tokenizer(TokenizerConfig config, NonbreakingPrefixes prefixes,
            ProtectedPatterns protected_patterns = {});

  // Tokenizes one line (valid UTF-8, without its '\n') into `out`, which is
  // cleared first. Lines that tokenizer.perl copies verbatim (is_verbatim)
  // come back unchanged. Thread-safe: concurrent calls share nothing mutable.
  void tokenize(std::string_view line, std::string& out) const;
  std::string tokenize(std::string_view line) const;

  // Whether tokenizer.perl prints `line` as it is: blank (only \s), or with
  // skip_xml a line that starts with '<' and ends with '>'. Such a line keeps
  // even a missing final '\n'.
  bool is_verbatim(std::string_view line) const;

  const TokenizerConfig& config() const { return config_; }

 private:
  struct Buffers;
  void protect(std::string& text, Buffers& b) const;
  // Returns flags telling which characters the line holds (see the .cpp).
  std::uint64_t split_special(std::string_view in, bool normalize, std::string& out) const;
  void language_rules(std::string& text, Buffers& b) const;
  void split_apostrophes(std::string& text, Buffers& b) const;
  void split_periods(std::string& text, Buffers& b) const;
  // Whether "pre." keeps its period before a word starting with next_first
  // (0: none): pre holds a period and a letter, is a nonbreaking prefix, or
  // is a numeric-only one before a digit, or the next word is lower case.
  bool keeps_period(std::string_view pre, char32_t next_first) const;
  void finish(std::string& text, Buffers& b, bool markers, bool escapable, std::string& out) const;

  TokenizerConfig config_;
  NonbreakingPrefixes prefixes_;
  ProtectedPatterns protected_;
  enum class Apostrophes { kRight, kLeft, kGlottal, kBoth } apostrophes_;
  // What split_special writes for each byte, packed: the bytes (up to 3,
  // little-endian) in bits 0-31, their count in bits 32-39, bit 40 for white
  // space (writes nothing but a pending space), bit 41 for bytes that need
  // the code point decoded first, bits 42 and up flag characters that later
  // passes look for. [0]: when normalizing, [1]: when not.
  std::uint64_t byte_actions_[2][256];
};

}  // namespace tfm
