#!/usr/bin/env bash
# `make install` into a DESTDIR: the installed tools run from an unrelated
# folder with no TFM_* variable and find their data under the prefix
# (nonbreaking prefixes, the tokenize → bpe → train → decode → bleu chain),
# and the helper program there or, copied elsewhere, in the prefix compiled
# in; the library links a program, and an installed man page renders.
source "$(dirname "$0")/../lib.sh"
[[ $TFM_BUILD == *asan* ]] && skip "the install layout is checked in the plain build"
root=$WORK/root prefix=/opt/tfm-test  # not the build's PREFIX: found from the executable
make -s -C "$TOP" install BUILD="$TFM_BUILD" PREFIX="$prefix" DESTDIR="$root" >"$WORK/make.log" 2>&1 ||
  { cat "$WORK/make.log"; fail "make install"; exit 1; }
bin=$root$prefix/bin
for f in bin/tfm-train bin/tfm-pipeline lib/libtfm.a lib/libtfm.so lib/tfm/tfm-read-strings include/tfm/tensor/isa.h \
         share/man/man1/tfm-train.1 share/man/man7/tfm.7 share/tfm/nonbreaking_prefixes; do
  [ -e "$root$prefix/$f" ] || fail "$f not installed"
done
mkdir "$WORK/elsewhere" && cd "$WORK/elsewhere"
unset TFM_DATA_DIR TFM_BIN
tfm() { local tool=$1; shift; "$bin/tfm-$tool" "$@"; }

# Nonbreaking prefixes come from the prefix: "Mr." stays one token.
[ "$(echo "Mr. Smith left." | tfm tokenize -l en)" = "Mr. Smith left ." ] || fail "prefixes not found from $prefix"

# A short chain: tokenize → bpe → batch → train → decode → bpe undo → bleu.
awk 'BEGIN { srand(7); for (i = 0; i < 600; i++) { n = 2 + int(rand() * 4); s = "";
     for (j = 0; j < n; j++) s = s (j ? " " : "") "word" int(rand() * 6); print s "." } }' > raw.txt
tfm tokenize -l en < raw.txt > tok.txt || fail "tokenize"
tfm bpe learn -s 30 < tok.txt > codes 2>/dev/null || fail "bpe learn"
tfm bpe apply -c codes < tok.txt > bpe.txt || fail "bpe apply"
tr ' ' '\n' < bpe.txt | sort | uniq -c | awk '{ print $2, $1 }' > vocab.txt
tfm batch --src bpe.txt --tgt bpe.txt --vocab vocab.txt -o train.h5 2>/dev/null || fail "batch"
tfm train --batches train.h5 --preset tiny --d-model 32 --heads 2 --ffn 64 --encoder-layers 1 --decoder-layers 1 \
  -o run --max-steps 20 --save-every 20 2>/dev/null || fail "train"
head -n 20 bpe.txt | tfm decode -m run/ckpt-20.h5 | tfm bpe undo > hyp.txt || fail "decode"
[ "$(wc -l < hyp.txt)" = 20 ] || fail "decode wrote $(wc -l < hyp.txt) lines for 20"
head -n 20 tok.txt > ref.txt
tfm bleu ref.txt < hyp.txt | grep -q "\"name\": \"BLEU\"" || fail "bleu: $(tfm bleu ref.txt < hyp.txt 2>&1)"
tfm train --version | grep -q "^kernels .*GEMM" || fail "--version names no kernels: $(tfm train --version)"

# Strings of earlier files (variable-length, made here with h5py) are read by
# the helper program, found under the prefix.
if have_python h5py; then
  cp train.h5 old.h5
  /usr/bin/python3 -c 'import h5py, sys; f = h5py.File(sys.argv[1], "a"); v = f.attrs["format"].decode()
del f.attrs["format"]; f.attrs["format"] = v' old.h5 || fail "h5py: old.h5"
  tfm batch --info old.h5 2>&1 | grep -q '^  format: tfm-batches$' ||
    fail "installed tfm-batch --info of an old file: $(tfm batch --info old.h5 2>&1 | head -n 3)"
  # Copied out of the prefix, a tool looks for the helper in the folder
  # compiled in: this install's, $prefix/lib/tfm (not there, as DESTDIR
  # stages the install), not that of an earlier build's PREFIX.
  mkdir -p copied/bin && cp "$bin/tfm-batch" copied/bin/
  copied/bin/tfm-batch --info old.h5 2>&1 | grep -qF "$prefix/lib/tfm/tfm-read-strings): reinstall libtfm" ||
    fail "tfm-batch copied out of $prefix: $(copied/bin/tfm-batch --info old.h5 2>&1 | head -n 3)"
fi

# A program links the installed library and headers.
cat > isa.cpp <<'CPP'
#include <cstdio>
#include "tfm/tensor/isa.h"
int main() { std::puts(tfm::isa_name(tfm::isa_level())); }
CPP
g++ -std=c++20 -I"$root$prefix/include" isa.cpp -L"$root$prefix/lib" -ltfm -Wl,-rpath,"$root$prefix/lib" -o isa \
  2>"$WORK/link.log" || fail "linking the installed libtfm.so: $(head -c 600 "$WORK/link.log")"
[ -x isa ] && { ./isa | grep -Eq '^(baseline|avx2|avx512|avx512bf16)$' || fail "installed library: $(./isa 2>&1)"; }

# An installed man page renders.
man -l "$root$prefix/share/man/man1/tfm-train.1" 2>/dev/null | grep -q "TFM_ISA" || fail "man -l tfm-train.1"
[ "$failures" = 0 ]
