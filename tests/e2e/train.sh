#!/usr/bin/env bash
# tfm-train end to end on a small generated copy-and-reverse corpus: logs and
# checkpoints, resume equals an uninterrupted run bit for bit, --threads 1
# and 2 give identical checkpoints, SIGTERM writes a checkpoint and exits 143,
# and bad inputs are clear errors that overwrite nothing.
source "$(dirname "$0")/../lib.sh"
cd "$WORK"

make_reverse_corpus
# Validation text has words the vocabulary lacks: they reach the model as <unk>.
head -n 40 src.txt | sed '3s/^/unseenword /' > vsrc.txt
head -n 40 tgt.txt > vtgt.txt
"$BIN/tfm-batch" --src src.txt --tgt tgt.txt --vocab vocab.txt -o train.h5 --max-tokens 256 --max-len 20 2>/dev/null ||
  fail "tfm-batch train"
"$BIN/tfm-batch" --src vsrc.txt --tgt vtgt.txt --vocab vocab.txt -o valid.h5 --valid 2>/dev/null || fail "tfm-batch valid"

MODEL=(--preset tiny --d-model 32 --heads 2 --ffn 64 --encoder-layers 1 --decoder-layers 1 --warmup 20 --lr-scale 0.5)
train() { "$BIN/tfm-train" --batches train.h5 --valid valid.h5 "${MODEL[@]}" --valid-every 10 --log-every 5 "$@"; }

expect_exit 0 train -o full --max-steps 30 --save-every 10 --keep-last 2
[ "$(cd full && ls ckpt-*.h5 | tr '\n' ' ')" = "ckpt-20.h5 ckpt-30.h5 " ] || fail "--keep-last 2 kept: $(ls full)"
[ "$(wc -l < full/train.log)" = 7 ] || fail "train.log: $(cat full/train.log)"
head -n 1 full/train.log | grep -q "^step	epoch	lr	loss	ppl	tokens_per_s	elapsed$" || fail "train.log header"
[ "$(wc -l < full/valid.log)" = 4 ] || fail "valid.log: $(cat full/valid.log)"
awk -F'\t' 'NR == 2 { first = $3 } END { exit !($3 < first) }' full/valid.log || fail "validation loss did not fall"

expect_exit 0 train -o part --max-steps 12
expect_exit 0 train -o part --max-steps 30 --resume
grep -q "resuming from part/ckpt-12.h5 (step 12" "$WORK/err" || fail "resume note: $(cat "$WORK/err")"
expect_exit 0 train -o threads2 --max-steps 30 --threads 2

# R-Drop: learns, the same for any thread count, not the plain run.
expect_exit 0 train -o rdrop --max-steps 30 --rdrop 5
awk -F'\t' 'NR == 2 { first = $3 } END { exit !($3 < first) }' rdrop/valid.log || fail "R-Drop validation loss did not fall"
expect_exit 0 train -o rdrop2 --max-steps 30 --rdrop 5 --threads 2
cmp -s full/valid.log rdrop/valid.log && fail "--rdrop 5 changed nothing"
expect_exit 2 train -o bad0 --rdrop -1
grep -q "rdrop must not be negative" "$WORK/err" || fail "negative --rdrop: $(cat "$WORK/err")"

# Word dropout: learns, resumes exactly, the same for any thread count, not
# the plain run; stored in the model's /config; 1 or more refused.
WORDS=(--dropout-src 0.2 --dropout-trg 0.1)
expect_exit 0 train -o words --max-steps 30 "${WORDS[@]}"
awk -F'\t' 'NR == 2 { first = $3 } END { exit !($3 < first) }' words/valid.log || fail "word dropout: validation loss did not fall"
expect_exit 0 train -o wordspart --max-steps 12 "${WORDS[@]}"
expect_exit 0 train -o wordspart --max-steps 30 "${WORDS[@]}" --resume
expect_exit 0 train -o words2 --max-steps 30 "${WORDS[@]}" --threads 2
cmp -s full/valid.log words/valid.log && fail "word dropout changed nothing"
expect_exit 2 train -o bad0 --dropout-src 1
grep -q "dropout and label smoothing must lie in \[0, 1)" "$WORK/err" || fail "--dropout-src 1: $(cat "$WORK/err")"

# bf16: learns, resumes exactly, same for any thread count; fp32 with a note
# where the CPU lacks bf16 instructions (DNNL_MAX_CPU_ISA hides them here).
have_bf16  # without: the bf16 runs below test the fp32 fallback only
expect_exit 0 train -o bf16 --max-steps 30 --precision bf16
awk -F'\t' 'NR == 2 { first = $3 } END { exit !($3 < first) }' bf16/valid.log || fail "bf16 validation loss did not fall"
expect_exit 0 train -o bf16part --max-steps 12 --precision bf16
expect_exit 0 train -o bf16part --max-steps 30 --precision bf16 --resume
expect_exit 0 train -o bf16threads2 --max-steps 30 --precision bf16 --threads 2
DNNL_MAX_CPU_ISA=AVX2 expect_exit 0 train -o nobf16 --max-steps 30 --precision bf16
grep -q "tfm-train: this CPU has neither AVX512-BF16 nor AMX: computing in fp32" "$WORK/err" ||
  fail "fallback note: $(cat "$WORK/err")"
DNNL_MAX_CPU_ISA=AVX2 expect_exit 0 train -o nobf16fp32 --max-steps 30  # the same sgemm kernels
expect_exit 2 train -o bad0 --precision fp8
grep -q "precision must be fp32, bf16 or int8" "$WORK/err" || fail "bad --precision: $(cat "$WORK/err")"
expect_exit 2 train -o bad0 --precision int8
grep -q "precision int8 is for decoding (tfm-decode) only" "$WORK/err" || fail "int8 training: $(cat "$WORK/err")"

# SIGTERM: the current step ends, a checkpoint is written, exit 128 + 15.
"$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" -o stopped --log-every 5 --max-steps 1000000 2>"$WORK/stop.err" &
pid=$!
for _ in $(seq 50); do [ -s stopped/train.log ] && [ "$(wc -l < stopped/train.log)" -gt 2 ] && break; sleep 0.1; done
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" = 143 ] || fail "SIGTERM exit $rc, expected 143: $(cat "$WORK/stop.err")"
ls stopped/ckpt-*.h5 >/dev/null 2>&1 || fail "no checkpoint after SIGTERM"

# Bad input: clear errors, nothing overwritten.
cp full/ckpt-30.h5 before.h5
expect_exit 1 train -o full --max-steps 40
grep -q "holds checkpoints already" "$WORK/err" || fail "existing run without --resume: $(cat "$WORK/err")"
expect_exit 1 "$BIN/tfm-train" --batches train.h5 -o full --resume --preset tiny --d-model 64 --heads 2 --ffn 64 \
  --encoder-layers 1 --decoder-layers 1 --max-steps 40
grep -q "another model" "$WORK/err" || fail "another model's run: $(cat "$WORK/err")"
cmp -s before.h5 full/ckpt-30.h5 || fail "a failed run changed the checkpoint"
expect_exit 1 "$BIN/tfm-train" --batches full/ckpt-30.h5 -o bad1
grep -q "expected a tfm-batches file" "$WORK/err" || fail "wrong batches format: $(cat "$WORK/err")"
sed 's/^w1 /w1x /' vocab.txt > vocab2.txt
"$BIN/tfm-batch" --src vsrc.txt --tgt vtgt.txt --vocab vocab2.txt -o valid2.h5 --valid 2>/dev/null
expect_exit 1 "$BIN/tfm-train" --batches train.h5 --valid valid2.h5 -o bad2 "${MODEL[@]}"
grep -q "vocabulary differs" "$WORK/err" || fail "valid vocabulary: $(cat "$WORK/err")"
expect_exit 2 "$BIN/tfm-train" --batches train.h5 -o bad3 --preset huge
grep -q "unknown preset 'huge'" "$WORK/err" || fail "bad preset: $(cat "$WORK/err")"
expect_exit 2 "$BIN/tfm-train" --batches train.h5
expect_exit 1 "$BIN/tfm-train" --batches train.h5 -o /dev/null/run "${MODEL[@]}"
grep -q "cannot create run folder" "$WORK/err" || fail "unwritable run folder: $(cat "$WORK/err")"
expect_exit 2 "$BIN/tfm-train" --batches train.h5 -o bad4 --max-time 5x

# Bit-identical tensors: resumed vs uninterrupted, 2 threads vs 1.
if have_python h5py; then
  cat > same.py <<'PY'
import sys, h5py, numpy as np
def tensors(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset)
                     and (name.startswith("params/") or name.startswith("optimizer/")) else None)
    return out
a = tensors(sys.argv[1])
assert len(a) > 30, len(a)
for other in sys.argv[2:]:
    b = tensors(other)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].tobytes() == b[k].tobytes(), (other, k)
PY
  /usr/bin/python3 same.py full/ckpt-30.h5 part/ckpt-30.h5 threads2/ckpt-30.h5 || fail "fp32 checkpoints differ"
  /usr/bin/python3 same.py rdrop/ckpt-30.h5 rdrop2/ckpt-30.h5 || fail "R-Drop checkpoints differ between thread counts"
  /usr/bin/python3 same.py words/ckpt-30.h5 wordspart/ckpt-30.h5 words2/ckpt-30.h5 || fail "word dropout checkpoints differ"
  /usr/bin/python3 -c 'import sys, h5py; a = h5py.File(sys.argv[1], "r")["config"].attrs
assert abs(a["source_word_dropout"] - 0.2) < 1e-6 and abs(a["target_word_dropout"] - 0.1) < 1e-6, dict(a)' \
    words/ckpt-30.h5 || fail "word dropout not stored in /config"
  /usr/bin/python3 same.py nobf16fp32/ckpt-30.h5 nobf16/ckpt-30.h5 || fail "bf16 fallback is not fp32"
  /usr/bin/python3 same.py bf16/ckpt-30.h5 bf16part/ckpt-30.h5 bf16threads2/ckpt-30.h5 || fail "bf16 checkpoints differ"
else
  echo "h5py not found: bit-identity of checkpoints not checked"
fi
finish
