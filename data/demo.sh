#!/usr/bin/env bash
# `make demo`: the whole pipeline on the built-in English-German corpus
# (numbers, dates, times and sums written out in words): generate it, then
# tfm-pipeline runs every stage with the settings it chooses itself for this
# corpus and budget (a short budget on two cores: the tiny preset, 2+2
# layers, d_model 128) and prints the report.
set -euo pipefail
BIN=${TFM_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
work=${TFM_DEMO_DIR:-demo}
minutes=${TFM_DEMO_MINUTES:-8}
mkdir -p "$work"
echo "== generating the demo corpus in $work/corpus"
"$here/gen-demo-corpus" "$work/corpus"
echo "== tfm-pipeline: $minutes minutes after tokenization (follow $work/de-en/run/train.log); the report follows"
"$BIN/tfm-pipeline" --corpus "$work/corpus" --src de --tgt en -o "$work/de-en" --train-minutes "$minutes"
