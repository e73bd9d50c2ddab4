#!/usr/bin/env bash
# tfm-bleu against sacrebleu 2.6.0 on every BLEU, chrF and TER record of
# ../shared/golden/bleu (see its MANIFEST.md): the same command line, run in
# that folder, must print sacrebleu's stdout byte for byte, except that our
# signatures carry tfm's version where sacrebleu's carry "2.6.0". The
# multi-bleu.perl records are not ours to reproduce and are not run.
source "$(dirname "$0")/../lib.sh"
need_shared golden/bleu
command -v jq >/dev/null || skip "jq not installed (needed to read manifest.jsonl)"
golden=$SHARED/golden/bleu
version=$("$BIN/tfm-bleu" --version | awk '{print $NF}')
checked=0
while IFS=$'\t' read -r id cli expected; do
  # shellcheck disable=SC2086  # the recorded command line is split on spaces, as recorded
  set -- ${cli#bleu.sh }
  printf '%s' "$expected" | base64 -d \
    | sed -e "s/version:2\.6\.0/version:$version/" -e "s/\"version\": \"2\.6\.0\"/\"version\": \"$version\"/" \
    >"$WORK/expected"
  (cd "$golden" && "$BIN/tfm-bleu" "$@") >"$WORK/actual" 2>"$WORK/stderr" || fail "case $id: exit $? ($cli): $(head -c 200 "$WORK/stderr")"
  cmp -s "$WORK/expected" "$WORK/actual" || { fail "case $id: $cli"; diff "$WORK/expected" "$WORK/actual" | head -n 6; }
  checked=$((checked + 1))
done < <(jq -r 'select(.cli | startswith("bleu.sh ")) | [.id, .cli, (.cli_stdout | @base64)] | @tsv' "$golden/manifest.jsonl")
[ "$checked" -gt 300 ] || fail "only $checked golden cases found"
echo "$checked golden cases"
finish
