#!/usr/bin/env bash
# tfm-detokenize against Moses' detokenizer.perl: every detokenizer case of
# ../shared/golden/tokenizer/cases.tsv (tool, args, input, expected) must give
# the expected file byte for byte. The tokenizer rows are tests/golden/tokenizer.sh's.
source "$(dirname "$0")/../lib.sh"
need_shared golden/tokenizer
golden=$SHARED/golden/tokenizer
cases=0
while IFS=$'\t' read -r tool args input expected; do
  [ "$tool" = detokenize ] || continue
  cases=$((cases + 1))
  # shellcheck disable=SC2086  # args holds several words
  if ! "$BIN/tfm-detokenize" -q $args <"$golden/$input" >"$WORK/out" 2>"$WORK/err"; then
    fail "tfm-detokenize $args < $input: $(head -c 300 "$WORK/err")"
    continue
  fi
  expect_same "$golden/$expected" "$WORK/out" "tfm-detokenize $args < $input"
done <"$golden/cases.tsv"
[ "$cases" -gt 0 ] || fail "no detokenize rows in $golden/cases.tsv"
echo "$cases detokenizer cases checked"
finish
