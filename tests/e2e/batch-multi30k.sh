#!/usr/bin/env bash
# tfm-batch on real data: Multi30k de-en split at white space, with a vocabulary
# counted by awk. Every pair is kept, the padding efficiency at --max-tokens
# 4096 reaches the 0.95 target, and h5py decodes every stored pair back to its
# input line (runs of ASCII white space read as one space, as tfm-batch and
# awk split; a no-break space stays inside its token).
source "$(dirname "$0")/../lib.sh"
need_shared data/multi30k
D=$SHARED/data/multi30k
cd "$WORK" || exit 1
cat "$D/train.de" "$D/train.en" | awk '{ for (i = 1; i <= NF; i++) n[$i]++ } END { for (w in n) print w, n[w] }' \
  | LC_ALL=C sort -k2,2nr -k1,1 > vocab.txt
expect_exit 0 "$BIN/tfm-batch" --src "$D/train.de" --tgt "$D/train.en" --vocab vocab.txt -o train.h5
grep -q '^tfm-batch: kept 29000 of 29000 sentence pairs;.* 0.00% and 0.00% unknown' err || fail "summary: $(cat err)"
expect_exit 0 "$BIN/tfm-batch" --info train.h5
efficiency=$(sed -n 's/^  padding_efficiency: //p' out)
awk -v e="$efficiency" 'BEGIN { exit !(e >= 0.95) }' || fail "padding efficiency $efficiency < 0.95 at 4096"
if have_python h5py; then
  /usr/bin/python3 - "$D/train.de" "$D/train.en" <<'PY' || fail "h5py decoding differs from the input"
import re, sys, h5py
f = h5py.File("train.h5", "r")
vocab = bytes(f["vocab"][:]).decode().split("\0")[:-1]  # tokens, each ended by a NUL
lines = [open(p, encoding="utf-8").read().split("\n") for p in sys.argv[1:3]]
order = f["batches/order"][:]
for k, side in enumerate(("src", "tgt")):
    tok, off = f[side + "/tokens"][:], f[side + "/offsets"][:]
    for i, line in enumerate(int(x) for x in order):
        got = " ".join(vocab[t] for t in tok[off[i]:off[i + 1]])
        want = " ".join(re.split(r"[ \t\r\f\v]+", lines[k][line].strip(" \t\r\f\v")))
        if got != want:
            sys.exit(f"{side} sentence {i} (line {line + 1}): {got!r} != {want!r}")
PY
fi
finish
