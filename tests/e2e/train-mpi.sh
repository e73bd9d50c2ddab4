#!/usr/bin/env bash
# Data-parallel tfm-train under mpirun (two ranks on this machine, loopback
# only): two ranks equal one process with twice the --update-freq on the same
# batches; ranks hold identical parameters; --resume works across rank
# counts; SIGTERM to mpirun checkpoints and stops every rank; a killed or hung
# rank ends the job with a message and the last checkpoint stays loadable.
source "$(dirname "$0")/../lib.sh"
command -v mpirun >/dev/null || skip "mpirun not found (install openmpi-bin for data-parallel training)"
cd "$WORK"
# Open MPI refuses root unless told; CI containers run as root. Leak checks
# of sanitizer builds would report Open MPI's own allocations at exit.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
MPI_EXTRA=()
MPIRUN=(timeout 300 mpirun --oversubscribe --mca btl self,vader,tcp --mca btl_tcp_if_include lo
        --mca oob_tcp_if_include lo)

make_reverse_corpus
head -n 40 src.txt > vsrc.txt
head -n 40 tgt.txt > vtgt.txt
# 42 batches: 10 steps of 4 batches stay inside the first epoch.
"$BIN/tfm-batch" --src src.txt --tgt tgt.txt --vocab vocab.txt -o train.h5 --max-tokens 64 --max-len 20 2>/dev/null ||
  fail "tfm-batch train"
"$BIN/tfm-batch" --src vsrc.txt --tgt vtgt.txt --vocab vocab.txt -o valid.h5 --valid 2>/dev/null || fail "tfm-batch valid"

MODEL=(--preset tiny --d-model 32 --heads 2 --ffn 64 --encoder-layers 1 --decoder-layers 1 --warmup 20 --lr-scale 0.5 --threads 1)
train() { "$BIN/tfm-train" --batches train.h5 --valid valid.h5 "${MODEL[@]}" --valid-every 5 --log-every 5 "$@"; }

"${MPIRUN[@]}" -np 2 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o probe --max-steps 1 >"$WORK/out" 2>"$WORK/err"
grep -q "built without MPI" "$WORK/err" && skip "tfm-train was built without MPI (install libopenmpi-dev and rebuild)"

# Parameters of two checkpoints agree to 1e-6 relative: |a - b| / |b| over
# the parameter vector. Key biases are left out: their gradient is zero in
# exact arithmetic (softmax ignores a shift shared by all keys), so Adam turns
# rounding noise into full-size steps there, in any two runs that round
# differently (as a sum across ranks and a sum in one process do).
same_params() {  # checkpoint, checkpoint, tolerance
  /usr/bin/python3 - "$1" "$2" "$3" <<'EOF'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r")["params"], h5py.File(sys.argv[2], "r")["params"]
names = []
b.visit(lambda n: names.append(n) if isinstance(b[n], h5py.Dataset) and not n.endswith("/k/bias") else None)
diff = np.sqrt(sum(float(((a[n][()] - b[n][()]) ** 2).sum()) for n in names))
norm = np.sqrt(sum(float((b[n][()] ** 2).sum()) for n in names))
print(f"relative difference {diff / norm:.2e}")
sys.exit(0 if diff <= float(sys.argv[3]) * norm else 1)
EOF
}
check_equivalent() {  # ranks, update-freq per rank, precision, tolerance
  local ranks=$1 freq=$2 one=$(($1 * $2)) run="$3-$1-$2"
  expect_exit 0 "${MPIRUN[@]}" -np "$ranks" "$BIN/tfm-train" --batches train.h5 --valid valid.h5 "${MODEL[@]}" \
    --valid-every 5 --log-every 5 -o "mpi$run" --max-steps 10 --update-freq "$freq" --precision "$3"
  grep -q "parameters identical on all $ranks ranks after step 10" "$WORK/err" ||
    fail "$ranks ranks, $3: no agreement note: $(cat "$WORK/err")"
  expect_exit 0 train -o "one$run" --max-steps 10 --update-freq "$one" --precision "$3"
  if have_python h5py; then
    same_params "mpi$run/ckpt-10.h5" "one$run/ckpt-10.h5" "$4" >"$WORK/cmp" 2>&1 ||
      fail "$ranks ranks x update-freq $freq differ from one process x $one in $3: $(cat "$WORK/cmp")"
  fi
  # The same losses (fp32): the step's tokens are counted over all ranks.
  [ "$3" = bf16 ] && return
  diff <(cut -f 1-5 "mpi$run/train.log") <(cut -f 1-5 "one$run/train.log") >/dev/null ||
    fail "$ranks ranks: train.log differs from one process: $(paste "mpi$run/train.log" "one$run/train.log")"
}
check_equivalent 2 1 fp32 1e-6
check_equivalent 2 2 fp32 1e-6
# bf16 (fp32 where the CPU has no bf16): the ranks still agree bit for bit,
# but summing across ranks rounds differently from summing in one process,
# and a weight that moves across a bf16 rounding boundary changes its bf16
# copy by 2^-8: 2.6e-4 apart after 10 updates here, 1.1e-3 in the sanitizer
# build (fp32: 5e-8), so 5e-3. (A gradient left out of the sum makes the
# ranks disagree: the job aborts.)
have_bf16  # without: the bf16 runs below test the fp32 fallback only
check_equivalent 2 1 bf16 5e-3

# Ranks on CPUs of different levels (TFM_ISA stands in for an older CPU on
# rank 0) agree on the level both have and keep identical parameters.
expect_exit 0 "${MPIRUN[@]}" -np 1 env TFM_ISA=baseline "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o levels \
  --max-steps 10 --precision bf16 : -np 1 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o levels --max-steps 10 \
  --precision bf16
if [ "$("$BIN/tfm-train" --version | grep -o 'CPU: [a-z0-9]*')" != "CPU: baseline" ]; then
  grep -q "the ranks compute with the baseline kernels" "$WORK/err" || fail "mixed levels: no agreement: $(cat "$WORK/err")"
fi
grep -q "parameters identical on all 2 ranks after step 10" "$WORK/err" || fail "mixed levels: $(cat "$WORK/err")"

# --resume with another number of ranks: 2 → 1 → 2.
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o cross --max-steps 6
expect_exit 0 train -o cross --max-steps 12 --resume
grep -q "resuming from cross/ckpt-6.h5 (step 6" "$WORK/err" || fail "1 rank resuming 2: $(cat "$WORK/err")"
expect_exit 0 "${MPIRUN[@]}" -np 2 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o cross --max-steps 18 --resume
grep -q "resuming from cross/ckpt-12.h5 (step 12" "$WORK/err" || fail "2 ranks resuming 1: $(cat "$WORK/err")"
[ -f cross/ckpt-18.h5 ] || fail "no checkpoint after the resumed 2-rank run: $(ls cross)"

# Starts an endless 2-rank run (more mpirun options in MPI_EXTRA) writing
# a checkpoint every 20 steps in folder $1; sets mpirun_pid and rank1_pid
# once its first checkpoint exists.
start_endless() {
  local dir=$1; shift
  "${MPIRUN[@]}" "${MPI_EXTRA[@]}" -np 2 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o "$dir" --max-steps 100000000 \
    --save-every 20 "$@" >"$WORK/$dir.out" 2>&1 &
  mpirun_pid=$!
  for _ in $(seq 300); do ls "$dir"/ckpt-*.h5 >/dev/null 2>&1 && break; sleep 0.1; done
  rank1_pid=
  # The ranks are children of mpirun, itself the child of timeout.
  for p in $(pgrep -P "$(pgrep -P "$mpirun_pid" | head -n 1)"); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && rank1_pid=$p
  done
  [ -n "$rank1_pid" ] || fail "$dir: rank 1 not found"
}
# A resumed single process loads the newest checkpoint of folder $1.
loads() {
  expect_exit 0 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o "$1" --resume --max-steps 1
  grep -q "resuming from $1/ckpt-" "$WORK/err" || fail "$1: last checkpoint did not load: $(cat "$WORK/err")"
}

# SIGTERM to mpirun: every rank ends its step, rank 0 writes a checkpoint.
# mpirun kills ranks odls_base_sigkill_timeout seconds after forwarding the
# signal (1 by default): a loaded machine's fsync can take longer than that.
MPI_EXTRA=(--mca odls_base_sigkill_timeout 5)
start_endless term
MPI_EXTRA=()
# To mpirun itself, not to the `timeout` above it: timeout passes a signal on
# to its child and to its process group, and under make mpirun then quit at
# once, leaving the ranks running.
kill -TERM "$(pgrep -P "$mpirun_pid" | head -n 1)"
wait "$mpirun_pid"
grep -q "stopped by signal 15 after step [0-9]*; checkpoint written" "$WORK/term.out" ||
  fail "SIGTERM to mpirun: $(cat "$WORK/term.out")"
step=$(sed -n 's/.*stopped by signal 15 after step \([0-9]*\).*/\1/p' "$WORK/term.out")
[ -f "term/ckpt-$step.h5" ] || fail "SIGTERM: no checkpoint of step $step: $(ls term)"
loads term

# A killed rank: mpirun ends the job (non-zero) and says which rank.
start_endless killed
start=$SECONDS
kill -KILL "$rank1_pid"
wait "$mpirun_pid"
rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "a killed rank: exit $rc: $(cat "$WORK/killed.out")"
grep -q "rank 1 .*signal 9" "$WORK/killed.out" || fail "a killed rank: no message: $(cat "$WORK/killed.out")"
[ $((SECONDS - start)) -lt 60 ] || fail "a killed rank: the job took $((SECONDS - start)) s to end"
loads killed

# A hung rank: the others give up after --mpi-timeout and abort the job.
start_endless hung --mpi-timeout 3
start=$SECONDS
kill -STOP "$rank1_pid"
wait "$mpirun_pid"
rc=$?
kill -KILL "$rank1_pid" 2>/dev/null
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "a hung rank: exit $rc: $(cat "$WORK/hung.out")"
grep -q "rank 0: no answer from the other ranks for [0-9]* s" "$WORK/hung.out" ||
  fail "a hung rank: no message: $(cat "$WORK/hung.out")"
[ $((SECONDS - start)) -lt 60 ] || fail "a hung rank: the job took $((SECONDS - start)) s to end"
loads hung

# Ranks whose batch files have different vocabularies are refused by name.
sed 's/^w1 /w1x /' vocab.txt > vocab2.txt
"$BIN/tfm-batch" --src src.txt --tgt tgt.txt --vocab vocab2.txt -o other.h5 --max-tokens 64 --max-len 20 2>/dev/null
expect_exit 1 "${MPIRUN[@]}" -np 1 "$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o mixed --max-steps 5 : \
  -np 1 "$BIN/tfm-train" --batches other.h5 "${MODEL[@]}" -o mixed --max-steps 5
grep -q "rank 1: other.h5: its vocabulary or the model options differ from those of rank 0" "$WORK/err" ||
  fail "different vocabularies: $(cat "$WORK/err")"

# A batch file with fewer batches than ranks is refused by name.
head -n 2 src.txt > s2.txt; head -n 2 tgt.txt > t2.txt
"$BIN/tfm-batch" --src s2.txt --tgt t2.txt --vocab vocab.txt -o one-batch.h5 2>/dev/null
expect_exit 1 "${MPIRUN[@]}" -np 2 "$BIN/tfm-train" --batches one-batch.h5 "${MODEL[@]}" -o few --max-steps 5
grep -q "one-batch.h5: 1 batches cannot be split into 2 shards" "$WORK/err" || fail "too few batches: $(cat "$WORK/err")"
finish
