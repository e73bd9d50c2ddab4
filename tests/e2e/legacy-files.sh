#!/usr/bin/env bash
# Files of earlier tfm versions store strings as HDF5 variable-length strings
# (global heap, no checksum); made here from this version's files with h5py.
# They load in every tool that reads HDF5, and with their heap damaged each
# tool works or gives one line naming the file: never a crash (HDF5 1.10
# segfaults on such damage, which the tools contain in a helper program).
source "$(dirname "$0")/../lib.sh"
cd "$WORK"
have_python h5py numpy || finish

make_reverse_corpus
"$BIN/tfm-batch" --src src.txt --tgt tgt.txt --vocab vocab.txt -o train.h5 --max-tokens 64 --max-len 20 2>/dev/null ||
  fail "tfm-batch"
TRAIN=("$BIN/tfm-train" --preset tiny --d-model 16 --heads 2 --ffn 16 --encoder-layers 1 --decoder-layers 1
       --save-every 2)
"${TRAIN[@]}" --batches train.h5 --max-steps 2 -o run 2>/dev/null || fail "tfm-train"
"$BIN/tfm-average" --last 1 -o model.h5 run 2>/dev/null || fail "tfm-average"

# The old layout: string attributes and the string lists (vocabularies, /state)
# as variable-length strings.
mkdir old-run
/usr/bin/python3 - train.h5 old-train.h5 run/ckpt-2.h5 old-run/ckpt-2.h5 model.h5 old-model.h5 <<'PY' ||
import shutil, sys
import h5py
import numpy as np

def strings_to_variable_length(obj):
    for key, value in list(obj.attrs.items()):
        if isinstance(value, bytes):
            del obj.attrs[key]
            obj.attrs[key] = value.decode()

for new, old in zip(sys.argv[1::2], sys.argv[2::2]):
    shutil.copy(new, old)
    with h5py.File(old, "a") as f:
        strings_to_variable_length(f)
        f.visititems(lambda name, obj: strings_to_variable_length(obj))
        for name in ("vocab", "state"):
            if name in f and f[name].dtype == np.uint8:
                strings = bytes(f[name][:]).decode().split("\0")[:-1]
                del f[name]
                f.create_dataset(name, data=strings, dtype=h5py.string_dtype())
PY
  fail "conversion to the old layout"

# --- they load
expect_exit 0 "$BIN/tfm-batch" --info old-train.h5
grep -q '^  /vocab  *string' "$WORK/out" && grep -q '^  format: tfm-batches$' "$WORK/out" ||
  fail "--info of the old file: $(cat "$WORK/out")"
head -n 5 src.txt > five.txt
"$BIN/tfm-decode" -m model.h5 -i five.txt > new.out 2>/dev/null || fail "tfm-decode model.h5"
expect_exit 0 "$BIN/tfm-decode" -m old-model.h5 -i five.txt
expect_same new.out "$WORK/out" "translation with the old model file"
expect_exit 0 "$BIN/tfm-average" --last 1 -o avg.h5 old-run
expect_exit 0 "${TRAIN[@]}" --batches old-train.h5 --max-steps 4 -o old-run --resume
grep -q 'resuming from old-run/ckpt-2.h5' "$WORK/err" && [ -f old-run/ckpt-4.h5 ] ||
  fail "resuming from an old checkpoint: $(cat "$WORK/err")"

# --- damaged heaps: bytes of the collection's header and first objects' headers
# flipped; each tool works or gives one line naming the file.
crashes=0
damage() {  # FILE OFFSET-IN-HEAP → damaged copy at $2-$1
  /usr/bin/python3 -c '
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.find(b"GCOL") + int(sys.argv[2])
data[at] ^= 0xff
open(sys.argv[3], "wb").write(data)' "$1" "$2" "$3"
}
check_tool() {  # FILE command...
  local file=$1; shift
  "$@" >/dev/null 2>"$WORK/err"
  local rc=$?
  if [ "$rc" != 0 ]; then
    [ "$rc" = 1 ] && [ "$(wc -l < "$WORK/err")" = 1 ] && grep -q "^tfm-[a-z]*: $file: " "$WORK/err" ||
      fail "exit $rc: $* (stderr: $(head -c 300 "$WORK/err"))"
  fi
  grep -q 'HDF5 crashed reading them' "$WORK/err" && crashes=$((crashes + 1))
}
for offset in 10 17 25 26 27 41; do
  damage old-train.h5 $offset bad-train.h5
  check_tool bad-train.h5 "$BIN/tfm-batch" --info bad-train.h5
  mkdir -p bad-run && damage old-run/ckpt-2.h5 $offset bad-run/ckpt-2.h5
  check_tool bad-run/ckpt-2.h5 "${TRAIN[@]}" --batches train.h5 --max-steps 3 -o bad-run --resume
  check_tool bad-run/ckpt-2.h5 "$BIN/tfm-average" --last 1 -o bad-avg.h5 bad-run
  rm -rf bad-run
  damage old-model.h5 $offset bad-model.h5
  check_tool bad-model.h5 "$BIN/tfm-decode" -m bad-model.h5 -i five.txt
done
echo "damaged old files: HDF5 crashed $crashes times in the helper program"
finish
