#!/usr/bin/env bash
# Golden test: tfm-tokenize on every "tokenize" case of
# ../shared/golden/tokenizer/cases.tsv (outputs of Moses' tokenizer.perl),
# with Moses' own prefix files through --prefixes, must be cmp-identical; then
# the same with 2 threads. (The detokenize rows belong to detokenizer.sh.)
source "$(dirname "$0")/../lib.sh"
need_shared golden/tokenizer
golden=$SHARED/golden/tokenizer
cases=0
while IFS=$'\t' read -r tool args input expected; do
  [ "$tool" = tokenize ] || continue
  # shellcheck disable=SC2086  # args is a word list like "-l de -a"
  set -- $args
  lang=
  while [ $# -gt 0 ]; do [ "$1" = -l ] && lang=$2; shift; done
  prefixes=$golden/nonbreaking_prefixes/nonbreaking_prefix.$lang
  [ -f "$prefixes" ] || { fail "no prefix file for '$lang' ($args)"; continue; }
  for threads in 1 2; do
    # shellcheck disable=SC2086
    if ! "$BIN/tfm-tokenize" $args --prefixes "$prefixes" -threads $threads \
        <"$golden/$input" >"$WORK/out" 2>"$WORK/err"; then
      fail "tfm-tokenize $args failed on $input: $(head -c 300 "$WORK/err")"
      continue
    fi
    expect_same "$golden/$expected" "$WORK/out" "tfm-tokenize $args -threads $threads < $input"
  done
  cases=$((cases + 1))
done <"$golden/cases.tsv"
[ "$cases" -gt 0 ] || fail "no tokenize case found in $golden/cases.tsv"
echo "$cases tokenizer cases checked"
finish
