#!/usr/bin/env bash
# tfm-average end to end on checkpoints of a tiny training run: the output is
# the element-wise mean (checked with NumPy), one checkpoint comes back bit for
# bit, --last picks by the step stored in the files, mismatched or corrupt
# inputs are refused without writing anything, and the average decodes.
source "$(dirname "$0")/../lib.sh"
cd "$WORK"

awk 'BEGIN { srand(9); for (i = 0; i < 200; i++) { n = 2 + int(rand() * 4); s = "";
       for (j = 0; j < n; j++) s = s (j ? " " : "") "w" int(rand() * 8); print s } }' > src.txt
tr ' ' '\n' < src.txt | sort | uniq -c | awk '{ print $2, $1 }' > vocab.txt
"$BIN/tfm-batch" --src src.txt --tgt src.txt --vocab vocab.txt -o train.h5 --max-tokens 256 --max-len 20 2>/dev/null || fail "tfm-batch"
MODEL=(--preset tiny --heads 2 --ffn 32 --encoder-layers 1 --decoder-layers 1 --warmup 10)
"$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" --d-model 16 -o run --max-steps 30 --save-every 10 2>/dev/null ||
  fail "tfm-train"
"$BIN/tfm-train" --batches train.h5 "${MODEL[@]}" --d-model 32 -o wide --max-steps 10 --save-every 10 2>/dev/null ||
  fail "tfm-train wide"

expect_exit 0 "$BIN/tfm-average" -o mean.h5 run/ckpt-10.h5 run/ckpt-20.h5 run/ckpt-30.h5
expect_exit 0 "$BIN/tfm-average" -o one.h5 run/ckpt-20.h5
expect_exit 0 "$BIN/tfm-average" -o weighted.h5 --weights 1 3 -- run/ckpt-10.h5 run/ckpt-30.h5
# --last reads steps from the files: names that sort otherwise do not matter.
mv run/ckpt-30.h5 run/latest.h5
mv run/ckpt-10.h5 run/ckpt-99.h5
expect_exit 0 "$BIN/tfm-average" --last 2 -o last.h5 run
expect_exit 0 "$BIN/tfm-average" -o pair.h5 run/ckpt-20.h5 run/latest.h5
echo "w1 w2 w3" | "$BIN/tfm-decode" -m mean.h5 > hyp.txt || fail "the average does not decode"
[ "$(wc -l < hyp.txt)" = 1 ] || fail "decoding the average: $(cat hyp.txt)"

if have_python h5py; then
  /usr/bin/python3 - <<'PY' || fail "averages differ from the NumPy reference"
import h5py, numpy as np
def params(path):
    out = {}
    with h5py.File(path, "r") as f:
        f["params"].visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out
c10, c20, c30 = params("run/ckpt-99.h5"), params("run/ckpt-20.h5"), params("run/latest.h5")
mean, one, weighted = params("mean.h5"), params("one.h5"), params("weighted.h5")
last, pair = params("last.h5"), params("pair.h5")
assert len(mean) > 20 and mean.keys() == c10.keys()
for k in mean:
    ref = ((c10[k].astype(np.float64) + c20[k] + c30[k]) / 3).astype(np.float32)
    assert np.array_equal(mean[k], ref), k
    assert one[k].tobytes() == c20[k].tobytes(), k
    assert np.allclose(weighted[k], (c10[k] + 3.0 * c30[k]) / 4, rtol=1e-6, atol=1e-7), k
    assert last[k].tobytes() == pair[k].tobytes(), k
with h5py.File("mean.h5", "r") as f:
    assert f.attrs["format"] in ("tfm-model", b"tfm-model") and "optimizer" not in f and "state" not in f
PY
else
  echo "h5py not found: averages not compared with NumPy"
fi

# Refusals: nothing written, messages name the files and the difference.
expect_exit 1 "$BIN/tfm-average" -o bad.h5 run/ckpt-20.h5 wide/ckpt-10.h5
grep -q "wide/ckpt-10.h5.*differs from run/ckpt-20.h5: config d_model is 32, not 16" "$WORK/err" ||
  fail "mismatch message: $(cat "$WORK/err")"
head -c 3000 run/ckpt-20.h5 > cut.h5
expect_exit 1 "$BIN/tfm-average" -o bad.h5 run/latest.h5 cut.h5
grep -q "cut.h5" "$WORK/err" || fail "corrupt input not named: $(cat "$WORK/err")"
expect_exit 1 "$BIN/tfm-average" -o bad.h5 train.h5
grep -q "expected a tfm-model file" "$WORK/err" || fail "wrong format: $(cat "$WORK/err")"
expect_exit 1 "$BIN/tfm-average" --last 5 -o bad.h5 run
grep -q "5 checkpoints wanted, 3 found" "$WORK/err" || fail "--last 5: $(cat "$WORK/err")"
[ -e bad.h5 ] && fail "a failed run wrote its output"
ls | grep -q '\.tmp' && fail "temporary file left: $(ls)"
expect_exit 2 "$BIN/tfm-average" -o bad.h5 --weights 1 2 -- run/ckpt-20.h5
expect_exit 2 "$BIN/tfm-average" run/ckpt-20.h5
expect_exit 2 "$BIN/tfm-average" -o bad.h5 --last 2 run other
finish
