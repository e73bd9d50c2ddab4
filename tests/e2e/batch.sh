#!/usr/bin/env bash
# tfm-batch through the built binary: a small corpus end to end (read back by
# an independent reader, h5py, when installed), --info on batch and other
# files, and every bad input: one-line message, exit 1, no output left behind.
source "$(dirname "$0")/../lib.sh"
B=$BIN/tfm-batch
mkdir "$WORK/d" && cd "$WORK/d" || exit 1
err=$WORK/err out=$WORK/out

printf 'ein Haus\n\ndas ist ein kleines Haus\nHaus\nja ja ja ja ja ja ja ja ja ja\nein\tHaus  ist\n' > src
printf 'a house\nnothing\nthis is a small house\nhouse is a house\nyes\na house is\n' > tgt
printf 'ein 3\nHaus 4\nist 2\na 2\nhouse 4\nis 2\nthis 1\nsmall 1\nja 10\n' > vocab

# --- a good run
expect_exit 0 "$B" --src src --tgt tgt --vocab vocab -o out.h5 --max-tokens 12 --max-len 8 --max-ratio 3
grep -q 'kept 3 of 6 sentence pairs; dropped 1 with an empty side, 0 with a side under 1 tokens, 1 with a side over 8 tokens, 1 with a length ratio over 3; 10 source and 10 target tokens' "$err" \
  || fail "filter summary: $(cat "$err")"
grep -q 'padding efficiency' "$err" || fail "no padding efficiency: $(cat "$err")"
[ -s "$out" ] && fail "stdout should be empty, got $(cat "$out")"
expect_exit 0 "$B" --info out.h5
grep -qx '  format: tfm-batches' "$out" || fail "--info lacks the format: $(cat "$out")"
grep -qx '  n_sentences: 3' "$out" || fail "--info lacks n_sentences: $(cat "$out")"
grep -q '^  /src/tokens  *uint32  *\[10\]$' "$out" || fail "--info lacks /src/tokens [10]: $(cat "$out")"
grep -q '^batches: .* of 3 sentence pairs' "$out" || fail "--info lacks the batch summary: $(cat "$out")"

if have_python h5py; then
  # Decode every stored pair with h5py and compare with the kept input lines.
  /usr/bin/python3 - > ../decoded <<'PY' || fail "h5py could not read out.h5"
import h5py
f = h5py.File("out.h5", "r")
vocab = bytes(f["vocab"][:]).decode().split("\0")[:-1]  # tokens, each ended by a NUL
assert f.attrs["format"] == b"tfm-batches" and f.attrs["format_version"] == 1
rows = []
for side in ("src", "tgt"):
    tok, off = f[side + "/tokens"][:], f[side + "/offsets"][:]
    rows.append([" ".join(vocab[t] for t in tok[off[i]:off[i + 1]]) for i in range(len(off) - 1)])
for line, s, t in sorted(zip(f["batches/order"][:], *rows)):
    print(line, s, "|", t)
PY
  printf '0 ein Haus | a house\n2 <unk> ist ein <unk> Haus | this is a small house\n5 ein Haus ist | a house is\n' > ../expected
  expect_same ../expected ../decoded "h5py decoding of out.h5"
fi

"$B" --src src --tgt tgt --vocab vocab -o again.h5 --max-tokens 12 --max-len 8 --max-ratio 3 2>/dev/null
cmp -s out.h5 again.h5 || fail "two runs on the same input gave different files"
rm -f again.h5
"$B" --src - --tgt tgt --vocab vocab -o stdin.h5 --max-tokens 12 --max-len 8 --max-ratio 3 < src 2>/dev/null \
  || fail "--src - (standard input)"
[ "$("$B" --info stdin.h5 | grep -c -e '^  source_file: -$' -e '^  n_sentences: 3$')" = 2 ] \
  || fail "stdin run: $("$B" --info stdin.h5 | head -20)"
rm -f stdin.h5

# --- validation data keeps everything; separate vocabularies
expect_exit 0 "$B" --valid --src src --tgt tgt --vocab vocab -o valid.h5 --max-tokens 8
grep -q 'kept 6 of 6 sentence pairs;' "$err" || fail "--valid dropped pairs: $(cat "$err")"
printf 'ein 1\nHaus 1\n' > src.vocab
printf 'house 1\n' > tgt.vocab
expect_exit 0 "$B" --src src --tgt tgt --src-vocab src.vocab --tgt-vocab tgt.vocab -o sep.h5
"$B" --info sep.h5 | grep -q 'vocabulary: source 6 tokens, target 5 tokens' || fail "separate vocabularies"
rm -f out.h5 valid.h5 sep.h5 src.vocab tgt.vocab

# --- two segmentations of one corpus, one after the other: each batched on
# its own, so no batch holds both copies of a line
cat src src > src2 && cat tgt tgt > tgt2
expect_exit 0 "$B" --src src2 --tgt tgt2 --vocab vocab -o copies.h5 --max-tokens 12 --max-len 8 --max-ratio 3 --copies 2
grep -q 'kept 6 of 12 sentence pairs;' "$err" || fail "--copies 2: $(cat "$err")"
"$B" --info copies.h5 | grep -qx '  copies: 2' || fail "--info lacks copies: 2: $("$B" --info copies.h5)"
if have_python h5py; then
  /usr/bin/python3 - <<'PY' || fail "--copies 2: a batch mixes the copies"
import h5py
f = h5py.File("copies.h5", "r")
order, offsets = f["batches/order"][:], f["batches/offsets"][:]
assert sorted(order) == [0, 2, 5, 6, 8, 11], order
for b in range(len(offsets) - 1):
    assert len({line // 6 for line in order[offsets[b]:offsets[b + 1]]}) == 1, (b, order, offsets)
PY
fi
rm -f src2 tgt2 copies.h5

# --- bad input: exit 1, one line naming the file, no output file
bad_input() {  # expected-message, args...
  local message=$1; shift
  expect_exit 1 "$B" "$@"
  [ "$(cat "$err")" = "tfm-batch: $message" ] || fail "message for $*: got '$(cat "$err")', want 'tfm-batch: $message'"
  no_new_files "$*"
}
no_new_files() {  # neither out.h5 nor its hidden temporary
  local left
  left=$(ls -A | grep 'out\.h5')
  [ -z "$left" ] && return
  fail "left after $1: $left"
  rm -f -- $left
}
head -n 5 tgt > short
bad_input "line counts differ: src has 6 lines, short has 5" --src src --tgt short --vocab vocab -o out.h5
printf 'ein 3\nHaus\n' > novocab
bad_input "novocab:2: expected 'token count', found no count" --src src --tgt tgt --vocab novocab -o out.h5
printf 'ein Haus\nein \xc3\x28 Haus\n' > badsrc
printf 'a\nb\n' > badtgt
bad_input "badsrc:2: invalid UTF-8 at byte 5" --src badsrc --tgt badtgt --vocab vocab -o out.h5
bad_input "nothing: cannot open: No such file or directory" --src nothing --tgt tgt --vocab vocab -o out.h5
bad_input "src: 6 lines do not split into 4 copies of equal length" --src src --tgt tgt --vocab vocab -o out.h5 --copies 4
rm -f short novocab badsrc badtgt
expect_exit 1 "$B" --src src --tgt tgt --vocab vocab -o out.h5 --max-len 0 --max-tokens 4
[ "$(tail -n 1 "$err")" = "tfm-batch: no sentence pairs left to batch" ] || fail "nothing kept: $(cat "$err")"
no_new_files "nothing kept"
expect_exit 1 "$B" --src src --tgt tgt --vocab vocab -o no/such/dir/out.h5
grep -q '^tfm-batch: no/such/dir/out.h5: cannot create: No such file or directory$' "$err" || fail "bad folder: $(cat "$err")"

# --- bad HDF5 files for --info
"$B" --src src --tgt tgt --vocab vocab -o good.h5 2>/dev/null || fail "good.h5"
head -c 3000 good.h5 > truncated.h5
expect_exit 1 "$B" --info truncated.h5
[ "$(wc -l < "$err")" = 1 ] && grep -q '^tfm-batch: truncated.h5: ' "$err" || fail "truncated: $(cat "$err")"
grep -q HDF5-DIAG "$err" && fail "HDF5 error stack printed"
[ -s "$out" ] && fail "partial --info output for a truncated file"
echo 'not hdf5' > text.h5
expect_exit 1 "$B" --info text.h5
[ "$(cat "$err")" = "tfm-batch: text.h5: not an HDF5 file" ] || fail "text file: $(cat "$err")"
if have_python h5py; then
  cp good.h5 v2.h5
  /usr/bin/python3 -c 'import h5py; h5py.File("v2.h5", "a").attrs["format_version"] = 2'
  expect_exit 1 "$B" --info v2.h5
  [ "$(cat "$err")" = "tfm-batch: v2.h5: expected a tfm-batches file (format_version 1), found format_version 2" ] \
    || fail "version 2: $(cat "$err")"
  rm v2.h5
  /usr/bin/python3 -c 'import h5py, numpy as np
f = h5py.File("model.h5", "w"); f.attrs["format"] = "tfm-model"; f.attrs["format_version"] = 1
f.create_group("config").attrs["d_model"] = 512; f["params/encoder/w"] = np.zeros((4, 2), "f4")'
  expect_exit 0 "$B" --info model.h5
  grep -q '^  /params/encoder/w  *float32  *\[4, 2\]$' "$out" || fail "--info of a model: $(cat "$out")"
  grep -qx '  d_model: 512' "$out" || fail "--info lacks /config attributes: $(cat "$out")"
fi

# --- usage errors: exit 2
expect_exit 2 "$B"
expect_exit 2 "$B" --src src --tgt tgt --vocab vocab --src-vocab vocab --tgt-vocab vocab -o x.h5
expect_exit 2 "$B" --src src --tgt tgt --vocab vocab -o x.h5 --max-tokens 100
expect_exit 2 "$B" --src src --tgt tgt --vocab vocab -o -
expect_exit 2 "$B" --src src --tgt tgt --vocab vocab -o x.h5 --multiple 0
expect_exit 2 "$B" --src src --tgt tgt --vocab vocab -o x.h5 --copies 0
expect_exit 2 "$B" --bogus
[ -e x.h5 ] && fail "x.h5 written despite a usage error"
finish
