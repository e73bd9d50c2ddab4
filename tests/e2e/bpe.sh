#!/usr/bin/env bash
# tfm-bpe through real pipes: learn | apply | undo round trips, thread
# independence, dictionary input, output files, empty input, and errors
# (exit 1 with file:line for bad input, exit 2 for misuse).
source "$(dirname "$0")/../lib.sh"
bpe="$BIN/tfm-bpe"

# A small corpus made here: Unicode, repeated words, empty lines, long words.
for i in $(seq 1 300); do
  echo "the lowest newer wider newest $((i % 17)) Straße naïve 日本語 😀x  end"
  [ $((i % 50)) = 0 ] && echo
  [ $((i % 97)) = 0 ] && printf 'word%.0s' $(seq 1 400) && echo
done >"$WORK/corpus"

expect_exit 0 "$bpe" learn -s 200 -i "$WORK/corpus" -o "$WORK/codes"
head -n 1 "$WORK/codes" | grep -qx '#version: 0.2' || fail "codes header"
[ "$(wc -l <"$WORK/codes")" -gt 50 ] || fail "too few merges learned"
"$bpe" learn -s 200 <"$WORK/corpus" 2>/dev/null | cmp -s - "$WORK/codes" || fail "learn from stdin differs from -i"
"$bpe" learn -s 200 --threads 2 -i "$WORK/corpus" 2>/dev/null | cmp -s - "$WORK/codes" || fail "learn --threads 2 differs"
"$bpe" vocab <"$WORK/corpus" >"$WORK/dict"
"$bpe" learn -s 200 --dict-input -i "$WORK/dict" 2>/dev/null | cmp -s - "$WORK/codes" || fail "--dict-input differs"

"$bpe" apply -c "$WORK/codes" <"$WORK/corpus" >"$WORK/seg1"
echo "lowering wideness Straßen 日本 😀😀" | "$bpe" apply -c "$WORK/codes" | grep -q '^l@@ o@@ we@@ r@@ i@@ n@@ g wide@@ ' \
  || fail "apply did not split unseen words"
[ "$(wc -l <"$WORK/seg1")" = "$(wc -l <"$WORK/corpus")" ] || fail "apply changed the line count"
"$bpe" apply -c "$WORK/codes" --threads 3 -i "$WORK/corpus" -o "$WORK/seg3"
expect_same "$WORK/seg1" "$WORK/seg3" "apply --threads 3 -o"
"$bpe" apply -c "$WORK/codes" -b <"$WORK/corpus" | cmp -s - "$WORK/seg1" || fail "apply -b differs"
"$bpe" undo <"$WORK/seg1" >"$WORK/back"
sed 's/  */ /g; s/ *$//' "$WORK/corpus" >"$WORK/single-spaced"
expect_same "$WORK/single-spaced" "$WORK/back" "undo after apply"
sed -E 's/(@@ )|(@@ ?$)//g' "$WORK/seg1" | cmp -s - "$WORK/back" || fail "undo differs from sed"

# Dropout: same seed same output, any thread count; another seed differs.
"$bpe" apply -c "$WORK/codes" --dropout 0.3 --seed 5 <"$WORK/corpus" >"$WORK/drop1"
"$bpe" apply -c "$WORK/codes" --dropout 0.3 --seed 5 --threads 2 <"$WORK/corpus" | cmp -s - "$WORK/drop1" \
  || fail "dropout output depends on threads"
"$bpe" apply -c "$WORK/codes" --dropout 0.3 --seed 6 <"$WORK/corpus" | cmp -s - "$WORK/drop1" \
  && fail "dropout ignores the seed"
"$bpe" undo <"$WORK/drop1" | cmp -s - "$WORK/single-spaced" || fail "undo after dropout"

# Joint learning with vocabularies, then the vocabulary filter.
head -n 150 "$WORK/corpus" >"$WORK/a"
tail -n 150 "$WORK/corpus" >"$WORK/b"
expect_exit 0 "$bpe" learn -s 100 -i "$WORK/a" "$WORK/b" -o "$WORK/joint" --write-vocabulary "$WORK/va" "$WORK/vb"
"$bpe" apply -c "$WORK/joint" <"$WORK/a" | "$bpe" vocab | cmp -s - "$WORK/va" || fail "--write-vocabulary differs"
expect_exit 0 "$bpe" apply -c "$WORK/joint" --vocabulary "$WORK/va" --vocabulary-threshold 1000 -i "$WORK/a"

# No final newline stays without one; CRLF lines come out as LF (Python's universal newlines).
printf 'lowest newer' | "$bpe" apply -c "$WORK/codes" | "$bpe" undo >"$WORK/out"
printf 'lowest newer' | cmp -s - "$WORK/out" || fail "missing final newline not kept"
printf 'lowest\r\nnewer\r\n' | "$bpe" apply -c "$WORK/codes" | "$bpe" undo >"$WORK/out"
printf 'lowest\nnewer\n' | cmp -s - "$WORK/out" || fail "CRLF not read as Python does"

# Empty input and -s 0: a header and nothing else; empty segmentation.
: >"$WORK/empty"
"$bpe" learn -i "$WORK/empty" | cmp -s - <(echo '#version: 0.2') || fail "learn on empty input"
"$bpe" learn -s 0 -i "$WORK/corpus" | cmp -s - <(echo '#version: 0.2') || fail "learn -s 0"
"$bpe" apply -c "$WORK/codes" <"$WORK/empty" | cmp -s - "$WORK/empty" || fail "apply on empty input"
"$bpe" learn -s 0 -i "$WORK/corpus" >"$WORK/nocodes"
echo "lowest" | "$bpe" apply -c "$WORK/nocodes" | grep -qx 'l@@ o@@ w@@ e@@ s@@ t' || fail "apply with no merges"
"$bpe" vocab <"$WORK/empty" | cmp -s - "$WORK/empty" || fail "vocab on empty input"

# Bad input: exit 1, file and line named, no output file left behind.
printf '#version: 0.2\na b\nc\n' >"$WORK/bad-codes"
expect_exit 1 "$bpe" apply -c "$WORK/bad-codes" -i "$WORK/corpus" -o "$WORK/never"
grep -q "^tfm-bpe: $WORK/bad-codes:3: invalid BPE codes line" "$WORK/err" || fail "bad codes message: $(cat "$WORK/err")"
[ -e "$WORK/never" ] && fail "a failed apply left its output file"
printf '#version: 1.0\na b\n' >"$WORK/bad-header"
expect_exit 1 "$bpe" apply -c "$WORK/bad-header" -i "$WORK/corpus"
grep -q "bad-header:1: unsupported header" "$WORK/err" || fail "bad header message: $(cat "$WORK/err")"
printf 'good line\nbad \xff byte\n' >"$WORK/latin1"
expect_exit 1 "$bpe" apply -c "$WORK/codes" -i "$WORK/latin1"
grep -q "latin1:2: invalid UTF-8" "$WORK/err" || fail "invalid UTF-8 message: $(cat "$WORK/err")"
expect_exit 1 "$bpe" learn -i "$WORK/latin1"
grep -q "latin1:2: invalid UTF-8" "$WORK/err" || fail "learn invalid UTF-8 message: $(cat "$WORK/err")"
printf 'word 3\nnocount\n' >"$WORK/bad-vocab"
expect_exit 1 "$bpe" learn --dict-input -i "$WORK/bad-vocab"
grep -q "bad-vocab:2: expected 'word count'" "$WORK/err" || fail "dict message: $(cat "$WORK/err")"
expect_exit 1 "$bpe" apply -c "$WORK/codes" --vocabulary "$WORK/bad-vocab" -i "$WORK/corpus"
expect_exit 1 "$bpe" apply -c "$WORK/nonexistent" -i "$WORK/corpus"

# Misuse: exit 2.
expect_exit 2 "$bpe"
expect_exit 2 "$bpe" frobnicate
expect_exit 2 "$bpe" apply
expect_exit 2 "$bpe" apply -c "$WORK/codes" --bogus
expect_exit 2 "$bpe" apply -c "$WORK/codes" --dropout 2
expect_exit 2 "$bpe" apply -c "$WORK/codes" --glossaries '(('
# A glossary that backtracks past PCRE2's match limit names the input line.
{ echo ok; printf 'a%.0s' {1..40}; echo; } >"$WORK/long"
expect_exit 1 "$bpe" apply -c "$WORK/codes" --glossaries '(\w|\w\w)+[-!]' -i "$WORK/long"
grep -qF "long:2: glossary '(\w|\w\w)+[-!]': PCRE2 gave up: match limit exceeded" "$WORK/err" \
  || fail "glossary match limit message: $(cat "$WORK/err")"
expect_exit 2 "$bpe" learn -i "$WORK/a" --write-vocabulary "$WORK/v1" "$WORK/v2"
expect_exit 2 "$bpe" learn -s many
expect_exit 0 "$bpe" --help
grep -q -- '--vocabulary-threshold' "$WORK/out" || fail "--help lacks apply's options"
expect_exit 0 "$bpe" learn --help
finish
