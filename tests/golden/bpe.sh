#!/usr/bin/env bash
# tfm-bpe against subword-nmt 0.3.8's outputs in ../shared/golden/bpe (see its
# MANIFEST.md and COMMANDS.txt): every codes file, segmentation and vocabulary
# must be byte-identical.
source "$(dirname "$0")/../lib.sh"
need_shared golden/bpe
G=$SHARED/golden/bpe
T=$SHARED/golden/tokenizer
bpe="$BIN/tfm-bpe"

learn() {  # name, learn options... (input: train.tok[.lc].{en,de} concatenated)
  local name=$1 kind=$2; shift 2
  cat "$G/train.tok$kind.en" "$G/train.tok$kind.de" | "$bpe" learn "$@" >"$WORK/codes.$name" 2>"$WORK/err" \
    || fail "learn $name: $(cat "$WORK/err")"
  expect_same "$G/codes.$name" "$WORK/codes.$name" "learn $*"
}
learn cased8000 "" -s 8000
learn lc8000 .lc -s 8000
learn cased1000 "" -s 1000
learn cased8000mf50 "" -s 8000 --min-frequency 50
grep -q "no pair has frequency >= 50" "$WORK/err" || fail "mf50: no stopping note on stderr"

"$bpe" learn --input "$G/train.tok.en" "$G/train.tok.de" -s 8000 -o "$WORK/codes.joint8000" \
  --write-vocabulary "$WORK/vocab.joint8000.en" "$WORK/vocab.joint8000.de" || fail "joint learning"
for f in codes.joint8000 vocab.joint8000.en vocab.joint8000.de; do expect_same "$G/$f" "$WORK/$f" "joint $f"; done

# Segmentations, from the golden codes (so apply is checked on its own).
for l in en de; do
  for set in valid test2016; do
    for name in cased8000 cased1000 cased8000mf50; do
      "$bpe" apply -c "$G/codes.$name" <"$G/$set.tok.$l" >"$WORK/out" || fail "apply $name $set.$l"
      expect_same "$G/$set.tok.$l.bpe.$name" "$WORK/out" "apply $name $set.$l"
    done
    "$bpe" apply -c "$G/codes.lc8000" <"$G/$set.tok.lc.$l" >"$WORK/out" || fail "apply lc8000 $set.$l"
    expect_same "$G/$set.tok.lc.$l.bpe.lc8000" "$WORK/out" "apply lc8000 $set.$l"
    "$bpe" apply -c "$G/codes.joint8000" --vocabulary "$G/vocab.joint8000.$l" --vocabulary-threshold 50 \
      <"$G/$set.tok.$l" >"$WORK/out" || fail "apply vt50 $set.$l"
    expect_same "$G/$set.tok.$l.bpe.joint8000.vt50" "$WORK/out" "apply --vocabulary-threshold 50 $set.$l"
    # Undo gives back the input, with several threads for a change.
    "$bpe" undo <"$G/$set.tok.$l.bpe.cased8000" >"$WORK/out" || fail "undo $set.$l"
    expect_same "$G/$set.tok.$l" "$WORK/out" "undo $set.$l"
  done
  "$bpe" vocab <"$G/train.tok.$l" >"$WORK/out" || fail "vocab $l"
  expect_same "$G/vocab.train.tok.$l" "$WORK/out" "vocab train.tok.$l"
  "$bpe" apply -c "$G/codes.cased8000" --threads 2 <"$G/train.tok.$l" | "$bpe" vocab >"$WORK/out" \
    || fail "apply | vocab $l"
  expect_same "$G/vocab.train.bpe.cased8000.$l" "$WORK/out" "apply | vocab train.tok.$l"
done

if [ -d "$T" ]; then
  for l in en de; do
    "$bpe" apply -c "$G/codes.cased8000" <"$T/tricky.$l.default.tok" >"$WORK/out" || fail "apply tricky.$l"
    expect_same "$G/tricky.tok.$l.bpe.cased8000" "$WORK/out" "apply tricky.$l"
  done
  "$bpe" apply -c "$G/codes.cased8000" --glossaries '&apos;' '&quot;' 'http' <"$T/tricky.en.default.tok" \
    >"$WORK/out" || fail "apply --glossaries"
  expect_same "$G/tricky.tok.en.bpe.cased8000.gloss" "$WORK/out" "apply --glossaries tricky.en"
  "$bpe" undo <"$G/tricky.tok.en.bpe.cased8000.gloss" >"$WORK/out" || fail "undo tricky"
  expect_same "$T/tricky.en.default.tok" "$WORK/out" "undo tricky.en (glossaries)"
else
  leave_out "the tricky cases ($T not found)"
fi
finish
