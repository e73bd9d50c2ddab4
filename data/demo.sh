#!/usr/bin/env bash
# `make demo`: the whole pipeline on the built-in English-German corpus
# (numbers, dates, times and sums written out in words): generate it, then
# tfm-pipeline tokenizes, learns BPE, batches, trains the tiny preset (2+2
# layers, d_model 128) for a few minutes, averages, translates the test set
# and scores it.
set -euo pipefail
BIN=${TFM_BIN:?}
here=$(cd "$(dirname "$0")" && pwd)
work=${TFM_DEMO_DIR:-demo}
minutes=${TFM_DEMO_MINUTES:-6}
mkdir -p "$work"
echo "== generating the demo corpus in $work/corpus"
"$here/gen-demo-corpus" "$work/corpus"
echo "== tfm-pipeline: training takes $minutes minutes (follow $work/de-en/run/train.log); the report follows"
"$BIN/tfm-pipeline" --corpus "$work/corpus" --src de --tgt en -o "$work/de-en" \
  --preset tiny --bpe-symbols 2000 --max-tokens 2048 --train-minutes "$minutes" --average 3 \
  --train-args "--warmup 400 --save-every 100 --valid-every 200 --log-every 20"
