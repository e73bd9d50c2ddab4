#!/usr/bin/env bash
# The built-in demo corpus is deterministic, parallel line for line, valid
# UTF-8, and its sets share no sentence.
source "$(dirname "$0")/../lib.sh"
gen="$TOP/data/gen-demo-corpus"
"$gen" "$WORK/a" 3000 200 200 || fail "generator failed"
"$gen" "$WORK/b" 3000 200 200 || fail "generator failed on the second run"
for f in train.en train.de valid.en valid.de test.en test.de; do
  expect_same "$WORK/a/$f" "$WORK/b/$f" "second run's $f"
  iconv -f UTF-8 -t UTF-8 "$WORK/a/$f" >/dev/null 2>&1 || fail "$f is not valid UTF-8"
done
for s in train valid test; do
  [ "$(wc -l < "$WORK/a/$s.en")" = "$(wc -l < "$WORK/a/$s.de")" ] || fail "$s.en and $s.de differ in length"
done
[ "$(wc -l < "$WORK/a/train.en")" = 3000 ] || fail "train has $(wc -l < "$WORK/a/train.en") lines, expected 3000"
overlap=$(cat "$WORK/a/train.en" "$WORK/a/valid.en" "$WORK/a/test.en" | sort | uniq -d | wc -l)
[ "$overlap" = 0 ] || fail "$overlap sentences occur in two sets"
grep -q 'siebenundvierzig\|einundzwanzig' "$WORK/a/train.de" || fail "no German compound numbers in train.de"
expect_exit 2 "$gen"
finish
