#!/usr/bin/env bash
# tfm-pipeline end to end on a reduced demo corpus with the tiny preset: every
# stage runs through real pipes and the test BLEU is clearly above chance;
# a second run skips every stage; a failing stage stops the pipeline naming
# it; a bad corpus fails at once naming the file.
source "$(dirname "$0")/../lib.sh"
P="$BIN/tfm-pipeline"
# --version names the kernels and GEMM backend that training and decoding use.
"$P" --version | grep -q "^kernels .*GEMM" || fail "--version names no kernels: $("$P" --version 2>&1)"
"$TOP/data/gen-demo-corpus" "$WORK/corpus" 6000 200 200 || fail "corpus generation failed"

# A fixed number of updates keeps the outcome independent of the machine's
# speed; under the sanitizers (about ten times slower) only a few are run and
# the BLEU floor is not checked. Two threads keep the budget at 20
# core-minutes, and with it the recipe checked below, on any machine.
steps=300 floor=50
if [[ $TFM_BUILD == *asan* ]]; then steps=20 floor=0; fi
args=(--corpus "$WORK/corpus" --src de --tgt en -o "$WORK/w" --preset tiny --bpe-symbols 1000
      --max-tokens 4096 --train-minutes 10 --threads 2 --average 2 --beam 2
      --train-args "--max-steps $steps --warmup 400 --save-every 10 --valid-every 100 --log-every 10")
expect_exit 0 "$P" "${args[@]}"
cat "$WORK/out"
bleu=$(awk '/BLEU\|/ { for (i = 1; i <= NF; ++i) if ($i == "=") { print $(i + 1); exit } }' "$WORK/w/out/score.txt")
echo "test BLEU: $bleu"
awk -v b="${bleu:-0}" -v f=$floor 'BEGIN { exit !(b >= f) }' || fail "test BLEU ${bleu:-none} is below the floor of $floor"
[ -s "$WORK/w/out/test.en" ] && [ "$(wc -l < "$WORK/w/out/test.en")" = 200 ] || fail "test translation missing or short"
grep -q "best valid perplexity" "$WORK/w/report.txt" || fail "report lacks the perplexity"
# The report lists the recipe with each value's origin, and both BLEU variants.
for line in "preset  *tiny  *given" "bpe-symbols  *1000  *given" "dropout  *0.1  *chosen" "beam  *2  *given" \
            "alpha  *[0-9.]*  *chosen: best of 3 on the validation set" "warmup  *400  *given" "valid-every  *100  *given" \
            "save-every-minutes  *10  *default" "max-tokens  *4096  *given" "BLEU|nrefs:1|case:mixed|eff:no|tok:13a" "BLEU|nrefs:1|case:lc|eff:no|tok:none" \
            "chrF2|" "time after tokenization: [0-9]* s"; do
  grep -q -- "$line" "$WORK/w/report.txt" || fail "report lacks '$line': $(cat "$WORK/w/report.txt")"
done
command -v gnuplot >/dev/null && { grep -q "<svg" "$WORK/w/curves.svg" || fail "no SVG plot"; }

# Everything is up to date now.
expect_exit 0 "$P" "${args[@]}"
skipped=$(grep -c "up to date, skipped" "$WORK/err")
[ "$skipped" = 9 ] || fail "second run skipped $skipped of 9 stages"

# Asking to average more checkpoints than the run kept averages those kept.
expect_exit 0 "$P" "${args[@]}" --average 50 --force-from average
grep -q "averaging the [0-9]* checkpoints kept, not 50" "$WORK/w/logs/average.log" || fail "no note on the checkpoints kept: $(cat "$WORK/w/logs/average.log")"

# A broken model stops the tune stage (the first to translate) with its name
# and a non-zero exit.
head -c 100 "$WORK/w/model.h5" > "$WORK/broken" && mv "$WORK/broken" "$WORK/w/model.h5"
expect_exit 1 "$P" "${args[@]}" --force-from tune
grep -q "stage 'tune' failed" "$WORK/err" || fail "no message naming the failed stage: $(cat "$WORK/err")"

# Bad corpora fail before any work, naming the file.
mkdir "$WORK/bad" && cp "$WORK/corpus"/* "$WORK/bad/" && rm "$WORK/bad/valid.en"
expect_exit 1 "$P" --corpus "$WORK/bad" --src de --tgt en -o "$WORK/w2"
grep -q "bad/valid.en: cannot read" "$WORK/err" || fail "missing file not named: $(cat "$WORK/err")"
cp "$WORK/corpus/valid.en" "$WORK/bad/" && sed -i '$d' "$WORK/bad/test.de"
expect_exit 1 "$P" --corpus "$WORK/bad" --src de --tgt en -o "$WORK/w2"
grep -q "test.de has 199 lines but .*test.en has 200" "$WORK/err" || fail "length mismatch not named: $(cat "$WORK/err")"
[ ! -e "$WORK/w2/tok" ] || fail "a stage ran on a bad corpus"
expect_exit 2 "$P" --src de
finish
