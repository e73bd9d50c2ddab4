#!/usr/bin/env bash
# `make demo`: the text front end on the built-in English-German corpus:
# generate it, tokenize both sides, show a few lines, and check that
# detokenizing gives the original text back.
set -euo pipefail
BIN=${TFM_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
work=${TFM_DEMO_DIR:-demo}
mkdir -p "$work"
echo "== generating the demo corpus in $work/corpus"
"$here/gen-demo-corpus" "$work/corpus"
for lang in en de; do
  "$BIN/tfm-tokenize" -l $lang --threads 2 < "$work/corpus/train.$lang" > "$work/train.tok.$lang"
  "$BIN/tfm-detokenize" -l $lang < "$work/train.tok.$lang" > "$work/train.detok.$lang" 2>/dev/null
done
echo "== tokenized (first lines)"
paste -d'\n' <(head -n 3 "$work/train.tok.en") <(head -n 3 "$work/train.tok.de")
for lang in en de; do
  same=$(paste -d'\t' "$work/corpus/train.$lang" "$work/train.detok.$lang" | awk -F'\t' '$1 == $2' | wc -l)
  echo "== $lang: $same of $(wc -l < "$work/corpus/train.$lang") lines come back unchanged after tokenize | detokenize"
done
