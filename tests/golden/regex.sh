#!/usr/bin/env bash
# Protected patterns and BPE glossaries that need PCRE2 (look-behind, named
# groups, \p{..}, \A, \z, \K, inline flags...) against outputs of Moses'
# tokenizer.perl and subword-nmt 0.3.8 kept in tests/golden/regex (see its
# MANIFEST.md for the commands that made them).
source "$(dirname "$0")/../lib.sh"
G=$TOP/tests/golden/regex

for threads in 1 2; do
  "$BIN/tfm-tokenize" -q -l en -a -protected "$G/protected.txt" -threads $threads <"$G/tokenize.in" \
    >"$WORK/out" 2>"$WORK/err" || fail "tfm-tokenize -protected: $(head -c 300 "$WORK/err")"
  expect_same "$G/tokenize.expected" "$WORK/out" "tfm-tokenize -protected protected.txt -threads $threads"
done

mapfile -t glossaries <"$G/glossaries.txt"
"$BIN/tfm-bpe" apply -c "$G/glossaries.codes" --glossaries "${glossaries[@]}" <"$G/glossaries.in" \
  >"$WORK/out" 2>"$WORK/err" || fail "tfm-bpe apply --glossaries: $(head -c 300 "$WORK/err")"
expect_same "$G/glossaries.expected" "$WORK/out" "tfm-bpe apply --glossaries (glossaries.txt)"
"$BIN/tfm-bpe" apply -c "$G/glossaries.codes" --glossaries 'x*' <"$G/empty-match.in" \
  >"$WORK/out" 2>"$WORK/err" || fail "tfm-bpe apply --glossaries 'x*': $(head -c 300 "$WORK/err")"
expect_same "$G/empty-match.expected" "$WORK/out" "tfm-bpe apply --glossaries 'x*'"
finish
