#!/usr/bin/env bash
# The recipe chosen from the data and the budget: tfm-pipeline --dry-run for
# a tiny and a large synthetic corpus, short and long budgets, given options
# winning; tfm-train's schedule for short, long and time budgets, given
# options winning, and kept on resume.
source "$(dirname "$0")/../lib.sh"
cd "$WORK"
P="$BIN/tfm-pipeline"

# recipe_value FILE SETTING: "value origin" of a --dry-run line.
recipe_value() { awk -v s="$2" '$1 == s { sub(":", "", $3); print $2, $3 }' "$1"; }
expect_recipe() {  # FILE SETTING "VALUE ORIGIN"
  local got
  got=$(recipe_value "$1" "$2")
  [ "$got" = "$3" ] || fail "$2: '$got', expected '$3' ($(grep "^$2 " "$1"))"
}
corpus() {  # DIR PAIRS WORDS-A-LINE DISTINCT-WORDS
  mkdir -p "$1"
  awk -v n="$2" -v k="$3" -v v="$4" 'BEGIN { srand(3); for (i = 0; i < n; i++) { s = "w" int(rand() * v)
    for (j = 1; j < k; j++) s = s " w" int(rand() * v); print s } }' > "$1/train.de"
  cp "$1/train.de" "$1/train.en"
  for set in valid test; do head -n 20 "$1/train.de" > "$1/$set.de"; head -n 20 "$1/train.en" > "$1/$set.en"; done
}
corpus tiny 500 3 20
corpus mid 29000 3 5000
corpus large 1000000 2 100000

# Tiny corpus: the tiny model, a small vocabulary, much dropout, whatever the budget.
expect_exit 0 "$P" --corpus tiny --src de --tgt en -o w --dry-run --threads 2 --train-minutes 600
cp "$WORK/out" tiny.recipe
expect_recipe tiny.recipe pairs "500 measured"
expect_recipe tiny.recipe preset "tiny chosen"
expect_recipe tiny.recipe types "20 measured"
expect_recipe tiny.recipe bpe-symbols "1000 chosen"
expect_recipe tiny.recipe dropout "0.3 chosen"
expect_recipe tiny.recipe threads "2 given"
expect_recipe tiny.recipe average "10 default"
expect_recipe tiny.recipe bpe-dropout "0 default"
expect_recipe tiny.recipe max-tokens "2048 chosen"
expect_recipe tiny.recipe rdrop "1 chosen"
[ ! -e w ] || fail "--dry-run created the work folder"

# A corpus of Multi30k's size: small, less dropout than the tiny corpus's,
# small batches.
expect_exit 0 "$P" --corpus mid --src de --tgt en -o w --dry-run --threads 2 --train-minutes 60
cp "$WORK/out" mid.recipe
expect_recipe mid.recipe preset "small chosen"
expect_recipe mid.recipe dropout "0.2 chosen"
expect_recipe mid.recipe max-tokens "2048 chosen"
expect_recipe mid.recipe rdrop "1 chosen"
grep -q "^dropout .*tfm-train lowers it to 0.1 where its measured rate gives fewer than 25 epochs without R-Drop (--dropout-min-epochs; its dropout line)$" mid.recipe ||
  fail "mid dropout: $(grep ^dropout mid.recipe)"
# Given in --train-args, tfm-train's rule is the user's: the pipeline asks for nothing.
expect_exit 0 "$P" --corpus mid --src de --tgt en -o w --dry-run --threads 2 --train-minutes 60 --train-args "--dropout-min-epochs 0"
! grep -q "^dropout .*dropout-min-epochs" "$WORK/out" || fail "--dropout-min-epochs in --train-args: $(grep ^dropout "$WORK/out")"
# As many core-minutes in a short time (8 cores, 10 minutes): no R-Drop.
expect_exit 0 "$P" --corpus mid --src de --tgt en -o w --dry-run --threads 8 --train-minutes 10
expect_recipe "$WORK/out" preset "small chosen"
expect_recipe "$WORK/out" rdrop "0 chosen"

# Large corpus (4M words, 100k distinct): base with a long budget, tiny
# with a short one.
expect_exit 0 "$P" --corpus large --src de --tgt en -o w --dry-run --threads 2 --train-minutes 600
cp "$WORK/out" long.recipe
expect_recipe long.recipe preset "base chosen"
expect_recipe long.recipe bpe-symbols "20000 chosen"
expect_recipe long.recipe dropout "0.1 chosen"
expect_recipe long.recipe max-tokens "4096 default"
expect_recipe long.recipe rdrop "0 chosen"
expect_exit 0 "$P" --corpus large --src de --tgt en -o w --dry-run --threads 2 --train-minutes 10
cp "$WORK/out" short.recipe
expect_recipe short.recipe preset "tiny chosen"
expect_recipe short.recipe bpe-symbols "12000 chosen"
expect_recipe short.recipe dropout "0.1 chosen"
expect_recipe short.recipe max-tokens "2048 chosen"
expect_recipe short.recipe rdrop "0 chosen"
expect_exit 0 "$P" --corpus large --src de --tgt en -o w --dry-run --threads 1 --train-minutes 60
expect_recipe "$WORK/out" preset "small chosen"

# A given option wins.
expect_exit 0 "$P" --corpus tiny --src de --tgt en -o w --dry-run --threads 2 --train-minutes 600 \
  --preset small --bpe-symbols 123 --dropout 0.25 --beam 3 --precision fp32 --bpe-dropout 0.1
cp "$WORK/out" given.recipe
expect_recipe given.recipe bpe-dropout "0.1 given"
expect_recipe given.recipe preset "small given"
expect_recipe given.recipe bpe-symbols "123 given"
expect_recipe given.recipe dropout "0.25 given"
expect_recipe given.recipe beam "3 given"
expect_recipe given.recipe precision "fp32 given"
expect_recipe given.recipe alpha "tuned chosen"
expect_recipe given.recipe rdrop "1 chosen"
# Without dropout both passes of R-Drop would be alike.
expect_exit 0 "$P" --corpus mid --src de --tgt en -o w --dry-run --threads 2 --train-minutes 60 --dropout 0
expect_recipe "$WORK/out" rdrop "0 chosen"
expect_recipe tiny.recipe label-smoothing "0.1 default"
expect_recipe tiny.recipe word-dropout "0 default"
expect_exit 0 "$P" --corpus tiny --src de --tgt en -o w --dry-run --train-args "--rdrop 2 --label-smoothing 0.2 --dropout-trg 0.1"
for setting in rdrop label-smoothing word-dropout; do
  grep -q "^$setting  *(in --train-args)  *given: --train-args$" "$WORK/out" ||
    fail "$setting in --train-args: $(grep "^$setting" "$WORK/out")"
done
expect_exit 2 "$P" --corpus tiny --src de --tgt en -o w --dry-run --train-args "--keep-last 3"
grep -q "keep-last is the pipeline's to set" "$WORK/err" || fail "--keep-last in --train-args: $(cat "$WORK/err")"
expect_exit 2 "$P" --corpus tiny --src de --tgt en -o w --precision fp16
expect_exit 2 "$P" --corpus tiny --src de --tgt en -o w --bpe-dropout 1
grep -q -- "--bpe-dropout must be below 1" "$WORK/err" || fail "--bpe-dropout 1: $(cat "$WORK/err")"

# BPE-dropout: the training set segmented 16 times, each copy its own draw,
# batched copy by copy; valid and test stay plain.
expect_exit 0 "$P" --corpus tiny --src de --tgt en -o bd --preset tiny --bpe-symbols 40 --bpe-dropout 0.5 \
  --threads 1 --train-minutes 60 --beam 1 --alpha 1 --average 1 --train-args "--max-steps 2 --d-model 16 --heads 2 --ffn 16 --encoder-layers 1 --decoder-layers 1"
[ "$(wc -l < bd/bpe/train.de)" = 8000 ] || fail "BPE-dropout: $(wc -l < bd/bpe/train.de) training lines, expected 16 x 500"
[ "$(sort -u bd/bpe/train.de | wc -l)" -gt "$(sort -u bd/tok/train.de | wc -l)" ] || fail "BPE-dropout: the copies are alike"
cmp -s bd/bpe/valid.de <("$BIN/tfm-bpe" apply -c bd/bpe/codes < bd/tok/valid.de) || fail "BPE-dropout reached the validation set"
grep -q "kept 8000 of 8000 sentence pairs" bd/logs/batch.log || fail "batch: $(cat bd/logs/batch.log)"
# The chosen dropout and R-Drop reach tfm-train (60 core-minutes, 500 pairs).
grep -q "^tfm-pipeline: tfm-train .* --dropout 0.3 --rdrop 1 --rdrop-min-epochs 20 .*--max-steps 2 " bd/logs/train.log ||
  fail "train options: $(head -n 1 bd/logs/train.log)"

# tfm-train's schedule, from a budget in updates, in time, or given.
make_reverse_corpus
"$BIN/tfm-batch" --src src.txt --tgt tgt.txt --vocab vocab.txt -o train.h5 --max-tokens 256 --max-len 20 2>/dev/null || fail "tfm-batch"
MODEL=(--preset tiny --d-model 32 --heads 2 --ffn 64 --encoder-layers 1 --decoder-layers 1 --threads 1)
schedule() {  # RUN: the recipe's settings as "name=value/origin" words
  tail -n +2 "$1/recipe.tsv" | awk -F'\t' '{ printf "%s=%s/%s ", $1, $2, $3 }'
}
expect_schedule() {  # RUN EXPECTED
  local got
  got=$(schedule "$1")
  [ "$got" = "$2" ] || fail "$1 schedule: '$got', expected '$2'"
}
expect_exit 0 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o short --max-steps 40
expect_schedule short "updates=40/given warmup=400/chosen lr-scale=1/default lr-schedule=inverse-sqrt/default save-every=3/chosen save-every-minutes=0/chosen valid-every=3/chosen "
grep -q "tfm-train: warmup 400 (chosen: a quarter of the 40 updates" "$WORK/err" || fail "no recipe on stderr: $(head -c 300 "$WORK/err")"

# A long budget: the recipe is written at the start; SIGTERM ends the run.
"$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o long --max-steps 40000 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ -s long/recipe.tsv ] && break; sleep 0.1; done
kill -TERM "$pid"; wait "$pid"
expect_schedule long "updates=40000/given warmup=4000/chosen lr-scale=1/default lr-schedule=inverse-sqrt/default save-every=2500/chosen save-every-minutes=0/chosen valid-every=3333/chosen "

# The paper's base (6 + 6 post-norm) on a short budget: the warm-up rises
# from 400 to 997 so that the peak stays at most 1.4e-3; pre-norm keeps 400.
recipe_at_start() {  # RUN OPTIONS...: tfm-train's recipe, then SIGTERM
  local run=$1
  shift
  "$BIN/tfm-train" --batches train.h5 --threads 1 --max-steps 1600 -o "$run" "$@" 2>/dev/null &
  pid=$!
  for _ in $(seq 300); do [ -s "$run/recipe.tsv" ] && break; sleep 0.1; done
  kill -TERM "$pid"; wait "$pid"
}
recipe_at_start deep --preset base
expect_schedule deep "updates=1600/given warmup=997/chosen lr-scale=1/default lr-schedule=inverse-sqrt/default save-every=100/chosen save-every-minutes=0/chosen valid-every=133/chosen "
grep -q "^warmup	997	chosen	a quarter of the 1600 updates the budget holds, 400 to 4000, raised to 997 for a peak rate of at most 0.0014: post-norm 6 + 6 layers stall at higher peaks$" deep/recipe.tsv ||
  fail "deep post-norm warm-up: $(grep ^warmup deep/recipe.tsv)"
recipe_at_start deep_pre --preset base --pre-norm
expect_schedule deep_pre "updates=1600/given warmup=400/chosen lr-scale=1/default lr-schedule=inverse-sqrt/default save-every=100/chosen save-every-minutes=0/chosen valid-every=133/chosen "
# small's 3 + 3 post-norm layers: at least 977, a peak of at most 2e-3.
recipe_at_start three --preset small
expect_schedule three "updates=1600/given warmup=977/chosen lr-scale=1/default lr-schedule=inverse-sqrt/default save-every=100/chosen save-every-minutes=0/chosen valid-every=133/chosen "
grep -q "^warmup	977	chosen	a quarter of the 1600 updates the budget holds, 400 to 4000, raised to 977 for a peak rate of at most 0.002: post-norm 3 + 3 layers stall at higher peaks$" three/recipe.tsv ||
  fail "3-layer post-norm warm-up: $(grep ^warmup three/recipe.tsv)"

# A time budget: planned from the rate of updates 2-21, re-spaced half-way.
expect_exit 0 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o timed --max-time 4s
grep -q "^updates	[0-9]*	measured	.* updates/s over updates 2-[0-9]*; at first [0-9]*$" timed/recipe.tsv ||
  fail "timed recipe: $(cat timed/recipe.tsv)"
grep -q "^warmup	[0-9]*	chosen	" timed/recipe.tsv || fail "timed recipe: $(cat timed/recipe.tsv)"
# R-Drop in a time budget: kept where the rate of updates 2-21 gives enough
# epochs with it; else off from there on, the rate measured again from 23.
RDROP=(--batches train.h5 "${MODEL[@]}" --max-time 4s --dropout 0.1 --rdrop 1)
expect_exit 0 "$BIN/tfm-train" "${RDROP[@]}" -o rdrop_kept --rdrop-min-epochs 0.001
grep -q "^rdrop	1	chosen	the [0-9]* updates the budget holds with R-Drop make [0-9.]* epochs of [0-9]* updates, at least 0.001 (--rdrop-min-epochs): two dropout masks an update$" rdrop_kept/recipe.tsv ||
  fail "R-Drop kept: $(cat rdrop_kept/recipe.tsv)"
grep -q "^updates	[0-9]*	measured	.* updates/s over updates 2-[0-9]*; at first " rdrop_kept/recipe.tsv || fail "R-Drop kept: $(cat rdrop_kept/recipe.tsv)"
expect_exit 0 "$BIN/tfm-train" "${RDROP[@]}" -o rdrop_off --rdrop-min-epochs 100000
grep -q "^rdrop	0	chosen	the [0-9]* updates the budget holds with R-Drop make [0-9.]* epochs of [0-9]* updates, below 100000 (--rdrop-min-epochs): without R-Drop, twice the updates$" rdrop_off/recipe.tsv ||
  fail "R-Drop off: $(cat rdrop_off/recipe.tsv)"
grep -q "^updates	[0-9]*	measured	.* updates/s over updates 23-[0-9]*; at first " rdrop_off/recipe.tsv || fail "R-Drop off: $(cat rdrop_off/recipe.tsv)"
grep -q "^tfm-train: update 21: rdrop 0 (the [0-9]* updates .*); measuring the rate again$" "$WORK/err" ||
  fail "R-Drop off, no note: $(grep rdrop "$WORK/err")"
expect_exit 2 "$BIN/tfm-train" "${RDROP[@]}" -o rdrop_bad --rdrop-min-epochs -1
grep -q "rdrop-min-epochs must not be negative" "$WORK/err" || fail "--rdrop-min-epochs -1: $(cat "$WORK/err")"
# The dropout in a time budget without R-Drop: as given where the rate of
# updates 2-21 gives enough epochs, else at most 0.1; R-Drop keeps it.
DROPOUT=(--batches train.h5 "${MODEL[@]}" --max-time 3s --dropout 0.3)
expect_exit 0 "$BIN/tfm-train" "${DROPOUT[@]}" -o dropout_kept --dropout-min-epochs 0.001
grep -q "^dropout	0.3	chosen	the [0-9]* updates the budget holds make [0-9.]* epochs of [0-9]* updates, at least 0.001 (--dropout-min-epochs): --dropout 0.3$" dropout_kept/recipe.tsv ||
  fail "dropout kept: $(cat dropout_kept/recipe.tsv)"
expect_exit 0 "$BIN/tfm-train" "${DROPOUT[@]}" -o dropout_low --dropout-min-epochs 100000
grep -q "^dropout	0.1	chosen	the [0-9]* updates the budget holds make [0-9.]* epochs of [0-9]* updates, below 100000 (--dropout-min-epochs): at most 0.1: so few passes underfit more than they overfit$" dropout_low/recipe.tsv ||
  fail "dropout lowered: $(cat dropout_low/recipe.tsv)"
expect_exit 0 "$BIN/tfm-train" "${DROPOUT[@]}" -o dropout_rdrop --dropout-min-epochs 100000 --rdrop 1
! grep -q "^dropout" dropout_rdrop/recipe.tsv || fail "dropout chosen beside R-Drop: $(cat dropout_rdrop/recipe.tsv)"
expect_exit 2 "$BIN/tfm-train" "${DROPOUT[@]}" -o dropout_bad --dropout-min-epochs -2
grep -q "dropout-min-epochs must not be negative" "$WORK/err" || fail "--dropout-min-epochs -2: $(cat "$WORK/err")"

# Given options win; a resumed run keeps its schedule.
expect_exit 0 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o given --max-steps 20 --warmup 7 --save-every 5
expect_schedule given "updates=20/given warmup=7/given lr-scale=1/default lr-schedule=inverse-sqrt/default save-every=5/given save-every-minutes=10/default valid-every=2/chosen "
[ "$(cd given && ls ckpt-*.h5 | sort -V | tr '\n' ' ')" = "ckpt-5.h5 ckpt-10.h5 ckpt-15.h5 ckpt-20.h5 " ] || fail "given spacing: $(ls given)"
expect_exit 0 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o given --max-steps 30 --warmup 7 --resume
expect_schedule given "updates=20/given warmup=7/given lr-scale=1/default lr-schedule=inverse-sqrt/default save-every=5/given save-every-minutes=10/default valid-every=2/chosen "
[ "$(cd given && ls ckpt-*.h5 | sort -V | tail -n 3 | tr '\n' ' ')" = "ckpt-20.h5 ckpt-25.h5 ckpt-30.h5 " ] || fail "resumed spacing: $(ls given)"

# The linear schedule: the paper's warm-up, then a straight line to zero at
# the budget's last update, where training ends; a resumed run keeps it.
LINEAR=(--batches train.h5 "${MODEL[@]}" --warmup 10 --lr-schedule linear --log-every 50 --max-steps 300)
expect_exit 0 "$BIN/tfm-train" "${LINEAR[@]}" -o linear
expect_schedule linear "updates=300/given warmup=10/given lr-scale=1/default lr-schedule=linear/given save-every=19/chosen save-every-minutes=0/chosen valid-every=25/chosen "
# d_model 32, warm-up 10: peak 32^-0.5 10^-0.5; update s > 10 has peak (301 - s) / 291.
lrs=$(awk -F'\t' 'NR > 1 { printf "%s=%s ", $1, $3 }' linear/train.log)
[ "$lrs" = "50=0.0482176 100=0.0386125 150=0.0290074 200=0.0194023 250=0.00979721 300=0.000192102 " ] ||
  fail "linear rates: $lrs"
"$BIN/tfm-train" "${LINEAR[@]}" -o linear_part 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ -s linear_part/train.log ] && [ "$(wc -l < linear_part/train.log)" -gt 1 ] && break; sleep 0.05; done
kill -TERM "$pid" 2>/dev/null; wait "$pid"
expect_exit 0 "$BIN/tfm-train" "${LINEAR[@]}" -o linear_part --resume
expect_schedule linear_part "updates=300/given warmup=10/given lr-scale=1/default lr-schedule=linear/given save-every=19/chosen save-every-minutes=0/chosen valid-every=25/chosen "
grep -q "resuming from linear_part/ckpt-" "$WORK/err" || fail "linear resume: $(cat "$WORK/err")"
[ "$(tail -n 1 linear_part/train.log | cut -f1,3)" = "300	0.000192102" ] || fail "resumed linear: $(tail -n 2 linear_part/train.log)"
if have_python h5py; then
  /usr/bin/python3 -c 'import sys, h5py
a, b = (h5py.File(p, "r") for p in sys.argv[1:])
names = []
a.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) and n.startswith(("params/", "optimizer/")) else None)
assert len(names) > 10 and all(a[n][()].tobytes() == b[n][()].tobytes() for n in names)' linear/ckpt-300.h5 linear_part/ckpt-300.h5 ||
    fail "resumed linear run differs from the uninterrupted one"
fi
# A time budget: training ends at the measured budget's last update at the latest.
expect_exit 0 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o linear_timed --max-time 4s --lr-schedule linear
planned=$(awk -F'\t' '$1 == "updates" { print $2 }' linear_timed/recipe.tsv)
last=$(ls linear_timed | sed -n 's/^ckpt-\([0-9]*\)\.h5$/\1/p' | sort -n | tail -n 1)
[ -n "$planned" ] && [ -n "$last" ] && [ "$last" -le "$planned" ] || fail "linear time budget: updates $planned, last checkpoint $last"
grep -q "^lr-schedule	linear	given	" linear_timed/recipe.tsv || fail "timed linear recipe: $(cat linear_timed/recipe.tsv)"
expect_exit 2 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o linear_unbounded --lr-schedule linear
grep -q "lr-schedule linear falls to zero at the budget's end: give --max-steps" "$WORK/err" || fail "linear without a budget: $(cat "$WORK/err")"
expect_exit 2 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o linear_bad --max-steps 5 --lr-schedule cosine
grep -q "lr-schedule must be inverse-sqrt or linear, not 'cosine'" "$WORK/err" || fail "bad --lr-schedule: $(cat "$WORK/err")"
finish
