#!/usr/bin/env bash
# Writes that fail, for every compiled tool and every stage of tfm-pipeline:
# standard output to /dev/full (a full disk), an output file on /dev/full, an
# output folder that is read only, an output file that is a folder (and a run
# folder that is a file).
# Each must exit 1 with one line `tfm-<tool>: ...` on stderr and leave no
# file under the output's name. Also: a reader that stops early (`| head -n 1`)
# ends the writer quietly, as with the Unix tools.
source "$(dirname "$0")/../lib.sh"
cd "$WORK"

make_reverse_corpus
"$BIN/tfm-batch" --src src.txt --tgt tgt.txt --vocab vocab.txt -o train.h5 --max-tokens 256 --max-len 20 2>/dev/null ||
  fail "tfm-batch"
"$BIN/tfm-train" --batches train.h5 --preset tiny --d-model 16 --heads 2 --ffn 16 --encoder-layers 1 \
  --decoder-layers 1 --max-steps 2 --save-every 2 -o run 2>/dev/null || fail "tfm-train"
"$BIN/tfm-bpe" learn -s 20 -i src.txt -o codes 2>/dev/null || fail "tfm-bpe learn"
head -n 20 src.txt > text.txt

# one_line_error TOOL: whether $WORK/err is notes of tfm-TOOL ending with one
# error line (no error stack, no multi-line message).
one_line_error() {
  [ -s "$WORK/err" ] && ! grep -q -v "^tfm-$1: " "$WORK/err"
}
# expect_one_line_error TOOL command...: exit 1 and a one-line error.
expect_one_line_error() {
  local tool=$1; shift
  "$@" >/dev/null 2>"$WORK/err" </dev/null
  local rc=$?
  [ "$rc" = 1 ] || fail "exit $rc, expected 1: $* (stderr: $(head -c 300 "$WORK/err"))"
  one_line_error "$tool" ||
    fail "not one line from tfm-$tool: $* (stderr: $(head -c 500 "$WORK/err"))"
}
# The same with standard output on /dev/full.
expect_full_stdout() {
  local tool=$1; shift
  "$@" >/dev/full 2>"$WORK/err"
  local rc=$?
  [ "$rc" = 1 ] || fail "exit $rc, expected 1 with stdout on /dev/full: $* (stderr: $(head -c 300 "$WORK/err"))"
  one_line_error "$tool" ||
    fail "not one line from tfm-$tool with stdout on /dev/full: $* (stderr: $(head -c 500 "$WORK/err"))"
}

# --- standard output on a full disk
for tool in tokenize detokenize bpe bleu batch train decode average; do
  expect_full_stdout "$tool" "$BIN/tfm-$tool" --help
done
expect_full_stdout tokenize "$BIN/tfm-tokenize" text.txt
expect_full_stdout detokenize "$BIN/tfm-detokenize" text.txt
expect_full_stdout bpe "$BIN/tfm-bpe" learn -s 20 -i text.txt
expect_full_stdout bpe "$BIN/tfm-bpe" apply -c codes -i text.txt
expect_full_stdout bpe "$BIN/tfm-bpe" vocab -i text.txt
expect_full_stdout bpe "$BIN/tfm-bpe" undo -i text.txt
expect_full_stdout bleu "$BIN/tfm-bleu" -i text.txt -r text.txt
expect_full_stdout decode "$BIN/tfm-decode" -m run/ckpt-2.h5 -i text.txt
expect_full_stdout batch "$BIN/tfm-batch" --info train.h5

# --- output files: on a full disk, a folder in their place
mkdir folder
for target in /dev/full folder; do
  expect_one_line_error bpe "$BIN/tfm-bpe" learn -s 20 -i text.txt -o "$target"
  expect_one_line_error bpe "$BIN/tfm-bpe" apply -c codes -i text.txt -o "$target"
  expect_one_line_error bpe "$BIN/tfm-bpe" vocab -i text.txt -o "$target"
  expect_one_line_error bpe "$BIN/tfm-bpe" learn -s 20 -i text.txt -o codes2 --write-vocabulary "$target"
  expect_one_line_error batch "$BIN/tfm-batch" --src src.txt --tgt tgt.txt --vocab vocab.txt -o "$target"
  expect_one_line_error average "$BIN/tfm-average" -o "$target" run/ckpt-2.h5
done
[ -z "$(ls -A folder)" ] || fail "writes into a folder left files: $(ls -A folder)"
[ ! -e codes2 ] || fail "tfm-bpe learn left codes2 behind although its vocabulary failed"
# A run folder that is a file.
echo x > notafolder
expect_one_line_error train "$BIN/tfm-train" --batches train.h5 --preset tiny --max-steps 1 -o notafolder

# --- a read-only folder (as root, whom permissions do not stop, the tools run
# as nobody through setpriv).
mkdir ro && chmod 555 ro
as_user=()
if [ "$(id -u)" = 0 ]; then
  command -v setpriv >/dev/null || skip "running as root without setpriv: cannot test a read-only folder"
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  chmod a+x "$(dirname "$WORK")" && chmod 755 "$WORK" && chmod -R a+rX "$WORK"
fi
expect_one_line_error bpe "${as_user[@]}" "$BIN/tfm-bpe" learn -s 20 -i text.txt -o ro/codes
expect_one_line_error bpe "${as_user[@]}" "$BIN/tfm-bpe" apply -c codes -i text.txt -o ro/out
expect_one_line_error batch "${as_user[@]}" "$BIN/tfm-batch" --src src.txt --tgt tgt.txt --vocab vocab.txt -o ro/b.h5
expect_one_line_error average "${as_user[@]}" "$BIN/tfm-average" -o ro/avg.h5 run/ckpt-2.h5
expect_one_line_error train "${as_user[@]}" "$BIN/tfm-train" --batches train.h5 --preset tiny --max-steps 1 -o ro
expect_one_line_error train "${as_user[@]}" "$BIN/tfm-train" --batches train.h5 --preset tiny --max-steps 1 -o ro/run
[ -z "$(ls -A ro)" ] || fail "the read-only folder got files: $(ls -A ro)"

# --- tfm-pipeline: every stage's output on a full disk and in place of a
# folder. A full disk is a file-size limit here (ulimit -f, SIGXFSZ ignored:
# writes past 16 KiB fail with EFBIG), for the stages whose outputs pass it.
# After a whole run, going back from the last stage: the stage's outputs
# removed, then a run with its writes failing, the stages before it up to
# date. Each must end with one line naming the stage and leave nothing the
# next run would take for the stage's output.
"$TOP/data/gen-demo-corpus" corpus 1500 40 40 || fail "gen-demo-corpus"
PIPELINE=("$BIN/tfm-pipeline" --corpus corpus --src de --tgt en -o pw --preset tiny --bpe-symbols 300
          --max-tokens 2048 --average 1 --beam 1 --alpha 1
          --train-args "--max-steps 2 --save-every 2 --valid-every 2 --log-every 1")
for option in --help --version --dry-run; do
  expect_full_stdout pipeline "${PIPELINE[@]}" $option
done
"${PIPELINE[@]}" >/dev/null 2>"$WORK/err" || fail "tfm-pipeline: $(tail -n 3 "$WORK/err")"
expect_full_stdout pipeline "${PIPELINE[@]}"  # every stage up to date: only the report is printed
# Stage, its outputs, the one that must stay absent, the path made a folder
# (- for none: the train stage starts by removing its run folder), whether its
# writes pass 16 KiB.
while read -r stage outputs final folder big; do
  rm -rf $outputs
  if [ "$big" = yes ]; then
    expect_one_line_error pipeline bash -c 'trap "" XFSZ; ulimit -f 16; exec "$@"' - "${PIPELINE[@]}"
    grep -q "stage '$stage' failed: .*File too large" "$WORK/err" || fail "full disk at $stage: $(cat "$WORK/err")"
    [ ! -f "$final" ] || fail "a full disk at stage $stage left $final"
  fi
  [ "$folder" = - ] && continue
  rm -rf $outputs && mkdir -p "$folder"
  expect_one_line_error pipeline "${PIPELINE[@]}"
  grep -q "stage '$stage' failed: " "$WORK/err" || fail "folder at $folder: $(cat "$WORK/err")"
  [ ! -f "$final" ] || fail "a folder at $folder left $final"
  rm -rf "$folder"
done <<'STAGES'
report pw/report.txt pw/report.txt pw/report.tmp no
score pw/out/score.txt pw/out/score.txt pw/out/score.tmp no
decode pw/out/test.en pw/out/test.en pw/out/test.bpe.en.tmp no
tune pw/out/tune.choice pw/out/tune.choice pw/out/tune.tmp no
average pw/model.h5 pw/model.h5 pw/model.h5 yes
train pw/run pw/run/done - yes
batch pw/batches pw/batches/valid.h5 pw/batches/train.h5 yes
bpe pw/bpe pw/bpe/vocab.joint pw/bpe/codes yes
tokenize pw/tok pw/tok/train.de pw/tok/train.de.tmp yes
STAGES

# --- a reader that stops early: the writer ends quietly (no "Broken pipe").
for i in $(seq 200); do cat src.txt; done > big.txt
for cmd in "tfm-tokenize big.txt" "tfm-detokenize big.txt" "tfm-bpe apply -c codes -i big.txt" \
           "tfm-bpe undo -i big.txt" "tfm-tokenize --threads 2 big.txt"; do
  # shellcheck disable=SC2086
  first=$("$BIN"/$cmd 2>"$WORK/err" | head -n 1)
  [ -n "$first" ] || fail "$cmd | head -n 1 printed nothing"
  [ ! -s "$WORK/err" ] || fail "$cmd | head -n 1 wrote to stderr: $(head -c 300 "$WORK/err")"
  # The same when SIGPIPE is ignored where the tool was started.
  first=$(trap '' PIPE; "$BIN"/$cmd 2>"$WORK/err" | head -n 1)
  [ -n "$first" ] && [ ! -s "$WORK/err" ] || fail "$cmd | head -n 1, SIGPIPE ignored: $(head -c 300 "$WORK/err")"
done
finish
