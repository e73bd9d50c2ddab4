#!/usr/bin/env bash
# data/get-multi30k lays Multi30k out as tfm-pipeline expects (tested with
# its --from mode on ../shared; downloading needs the internet).
source "$(dirname "$0")/../lib.sh"
need_shared data/multi30k
get="$TOP/data/get-multi30k"
expect_exit 0 "$get" "$WORK/m" --from "$SHARED/data/multi30k"
for l in en de fr cs; do
  expect_same "$SHARED/data/multi30k/train.$l" "$WORK/m/train.$l" "train.$l"
  expect_same "$SHARED/data/multi30k/valid.$l" "$WORK/m/valid.$l" "valid.$l"
  expect_same "$SHARED/data/multi30k/test2016.$l" "$WORK/m/test.$l" "test.$l"
done
grep -q "^test: 1000 lines" "$WORK/out" || fail "summary: $(cat "$WORK/out")"
expect_exit 1 "$get" "$WORK/m2" --from "$WORK/nowhere"
grep -q "nowhere/train.en not found" "$WORK/err" || fail "missing file not named: $(cat "$WORK/err")"
expect_exit 2 "$get"
finish
