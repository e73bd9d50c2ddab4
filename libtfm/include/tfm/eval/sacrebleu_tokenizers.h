// sacrebleu 2.x's tokenizers, reproduced code point for code point: those of
// BLEU (13a, intl, zh, char, none) and the TER (tercom) normalizer; with
// python_strings.h, all of sacrebleu's text preprocessing. (Moses' tokenizer,
// for training data, is text/tokenizer.h.) All functions take VALID UTF-8
// (callers validate input lines first) and never throw except where noted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tfm/eval/python_strings.h"

namespace tfm {

// sacrebleu's BLEU tokenizers (`-tok`).
enum class BleuTokenizer { k13a, kIntl, kZh, kChar, kNone };

// "13a", "intl", "zh", "char", "none" → tokenizer; throws UsageError otherwise.
BleuTokenizer parse_bleu_tokenizer(std::string_view name);
// The name written in the signature (tok:13a).
const char* bleu_tokenizer_name(BleuTokenizer tokenizer);

// Tokenizes one line (already lowercased and right-stripped when BLEU asks for
// it) as sacrebleu's tokenizer does; tokens are separated by whitespace in the
// result (single spaces except for `none`).
std::string tokenize_bleu(std::string_view line, BleuTokenizer tokenizer);

// mteval-v13a: entities, then the punctuation rules of tokenize_regexp().
std::string tokenize_13a(std::string_view line);
// mteval-v14 international: splits Unicode punctuation (\p{P}) unless between
// digits, and symbols (\p{S}).
std::string tokenize_intl(std::string_view line);
// Chinese: every character of sacrebleu's CJK ranges becomes a token, the rest
// goes through tokenize_regexp().
std::string tokenize_zh(std::string_view line);
// Every non-space character is a token.
std::string tokenize_char(std::string_view line);
// The language-dependent part of 13a (sacrebleu's TokenizerRegexp): ASCII
// punctuation split off, '.' and ',' split unless next to digits, '-' after a
// digit split off; then whitespace normalized.
std::string tokenize_regexp(std::string_view line);
// Whether sacrebleu's zh tokenizer treats `cp` as a Chinese character. Its
// table's two astral ranges are written as two-character strings, so what
// Python actually compares are U+2001..U+2A6D and U+2F81..U+2FA1 (and no
// astral code point); we reproduce that.
bool is_sacrebleu_chinese(char32_t cp);

// sacrebleu's TER (tercom) normalization options (`--ter-*`).
struct TercomOptions {
  bool normalized = false;
  bool no_punct = false;
  bool asian_support = false;
  bool case_sensitive = false;
};

// TercomTokenizer: lowercases unless case_sensitive, optional normalization
// and punctuation removal, then single spaces.
std::string tokenize_tercom(std::string_view line, const TercomOptions& options);

}  // namespace tfm
