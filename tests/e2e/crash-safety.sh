#!/usr/bin/env bash
# kill -9 at many moments: tfm-train (training, validation and checkpoint
# writes: a tiny model checkpointing every step), tfm-batch and tfm-average.
# After every kill the newest checkpoint loads, `tfm-average --last` reads
# only whole checkpoints, leftover temporary files are never taken for
# checkpoints, and --resume goes on to finish the run; batch and model files
# are absent or whole (identical to an uninterrupted run's), never partial.
source "$(dirname "$0")/../lib.sh"
cd "$WORK"

make_reverse_corpus
"$BIN/tfm-batch" --src src.txt --tgt tgt.txt --vocab vocab.txt -o train.h5 --max-tokens 64 --max-len 20 2>/dev/null ||
  fail "tfm-batch train"
head -n 20 src.txt > vsrc.txt && head -n 20 tgt.txt > vtgt.txt
"$BIN/tfm-batch" --src vsrc.txt --tgt vtgt.txt --vocab vocab.txt -o valid.h5 --valid 2>/dev/null || fail "tfm-batch valid"

# Kill delays in seconds, spread over start-up, training and the end of the
# run; the same list every time (no randomness in the test itself).
delays() {  # count, longest
  awk -v n="$1" -v max="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%.3f\n", 0.02 + max * ((i * 7919) % n) / n }'
}
# Starts "$@" in the background and kills it with SIGKILL after $1 seconds
# (it may have finished by then).
kill_after() {
  local delay=$1; shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

TRAIN=("$BIN/tfm-train" --batches train.h5 --valid valid.h5 --preset tiny --d-model 16 --heads 2 --ffn 16
       --encoder-layers 1 --decoder-layers 1 --save-every 1 --valid-every 2 --keep-last 3 -o run)
# Killed runs aim far beyond where any kill lets them get (a whole run takes
# under a second here: a run that finished would leave later kills nothing to
# hit); the final run then finishes a few steps past the newest checkpoint.
KILLED_STEPS=100000
kills=0 hit_writes=0
for delay in $(delays 24 1.2); do
  kill_after "$delay" "${TRAIN[@]}" --max-steps $KILLED_STEPS --resume
  kills=$((kills + 1))
  newest=$(cd run 2>/dev/null && ls ckpt-*.h5 2>/dev/null | sort -t- -k2 -n | tail -n 1)
  [ -n "$newest" ] || continue
  # Whatever the kill interrupted, every file named like a checkpoint is whole.
  for f in run/ckpt-*.h5; do
    "$BIN/tfm-batch" --info "$f" >/dev/null 2>"$WORK/err" || fail "after a kill at ${delay}s, $f: $(cat "$WORK/err")"
  done
  count=$(ls run/ckpt-*.h5 | wc -l)
  last=$((count < 2 ? count : 2))
  expect_exit 0 "$BIN/tfm-average" --last "$last" -o last.h5 run
  ls -a run | grep -q '^\.ckpt-.*\.tmp' && hit_writes=$((hit_writes + 1))
  ls run | grep -v -E '^(ckpt-[0-9]+\.h5|train\.log|valid\.log|recipe\.tsv)$' | grep -q . && fail "unexpected files in run: $(ls run)"
done
[ "$hit_writes" -ge 5 ] || fail "only $hit_writes of $kills kills hit a checkpoint write: the test no longer tests them"
newest=$(cd run && ls ckpt-*.h5 | sort -t- -k2 -n | tail -n 1)
final=$(( $(basename "$newest" .h5 | cut -d- -f2) + 5 ))
# Temporary files of killed runs go when a run starts (the last kill's, and
# made-up ones of each kind); files that only look alike stay.
touch run/.ckpt-99999.h5.tmp12 run/.recipe.tsv.tmp5 run/.average.h5.tmp7 run/.ckpt-3.h5.tmpx run/ckpt-4.h5.tmp1
stale=$(ls -A run | grep -E '^\.(ckpt-[0-9]+\.h5|recipe\.tsv)\.tmp[0-9]+$')
expect_exit 0 "${TRAIN[@]}" --max-steps $final --resume
grep -q 'resuming from run/ckpt-' "$WORK/err" || fail "the last run did not resume: $(cat "$WORK/err")"
grep -q "removed $(echo "$stale" | wc -l) temporary file(s) that an interrupted run left in run" "$WORK/err" ||
  fail "no note of the temporaries removed: $(cat "$WORK/err")"
for name in $stale; do [ ! -e "run/$name" ] || fail "stale temporary run/$name left after the run"; done
for name in .average.h5.tmp7 .ckpt-3.h5.tmpx ckpt-4.h5.tmp1; do
  [ -e "run/$name" ] || fail "run/$name (not a temporary of tfm-train) was removed"
done
rm -f run/.average.h5.tmp7 run/.ckpt-3.h5.tmpx run/ckpt-4.h5.tmp1
[ -f "run/ckpt-$final.h5" ] || fail "resumed run did not reach step $final: $(ls run)"
awk -F'\t' 'NF != 7 { exit 1 }' run/train.log || fail "train.log has a broken line: $(cat run/train.log)"
awk -F'\t' 'NF != 6 { exit 1 }' run/valid.log || fail "valid.log has a broken line: $(cat run/valid.log)"
expect_exit 0 "$BIN/tfm-average" --last 3 -o last.h5 run
echo "tfm-train: $kills kills, $hit_writes left a checkpoint's temporary file behind"

# One run at a time in a folder: a second tfm-train there stops at once and
# leaves the first one's temporary files alone.
"${TRAIN[@]}" --max-steps $KILLED_STEPS --resume >/dev/null 2>&1 &
first=$!
for _ in $(seq 300); do [ -f "run/ckpt-$((final + 1)).h5" ] && break; sleep 0.1; done
touch run/.ckpt-88888.h5.tmp3
expect_exit 1 "${TRAIN[@]}" --max-steps $KILLED_STEPS --resume
[ "$(cat "$WORK/err")" = "tfm-train: run: in use by another tfm-train (it holds .tfm-train.lock)" ] ||
  fail "second run in one folder: $(cat "$WORK/err")"
[ -e run/.ckpt-88888.h5.tmp3 ] || fail "the second run removed a temporary file of the first"
kill -9 "$first"; wait "$first" 2>/dev/null

# tfm-batch: a corpus large enough that the write takes a while.
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do cat src.txt; done > big-src.txt
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do cat tgt.txt; done > big-tgt.txt
BATCH=("$BIN/tfm-batch" --src big-src.txt --tgt big-tgt.txt --vocab vocab.txt --max-tokens 64 --max-len 20)
"${BATCH[@]}" -o whole.h5 2>/dev/null || fail "tfm-batch big"
for delay in $(delays 10 0.3); do
  rm -f out.h5
  kill_after "$delay" "${BATCH[@]}" -o out.h5
  [ ! -e out.h5 ] || cmp -s out.h5 whole.h5 || fail "tfm-batch killed at ${delay}s left a partial out.h5"
done

# tfm-average over the run's checkpoints.
AVERAGE=("$BIN/tfm-average" --last 3 run)
"${AVERAGE[@]}" -o whole-average.h5 2>/dev/null || fail "tfm-average"
for delay in $(delays 10 0.2); do
  rm -f average.h5
  kill_after "$delay" "${AVERAGE[@]}" -o average.h5
  [ ! -e average.h5 ] || cmp -s average.h5 whole-average.h5 || fail "tfm-average killed at ${delay}s left a partial file"
done
finish
