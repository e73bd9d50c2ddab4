#!/usr/bin/env bash
# tfm-decode end to end: a tiny model trained here on a copy task, averaged,
# copies held-out lines through a real pipe; batching, threads, beam 1 and
# ensembles do not change the output; n-best, scores, alignment and
# line-by-line streaming have their formats; bad input is a clear error.
source "$(dirname "$0")/../lib.sh"
cd "$WORK"

copy_task() {  # SEED COUNT
  awk -v seed="$1" -v count="$2" 'BEGIN { srand(seed); for (i = 0; i < count; i++) { n = 2 + int(rand() * 5); s = "";
         for (j = 0; j < n; j++) s = s (j ? " " : "") "w" int(rand() * 8); print s } }'
}
copy_task 3 1000 > src.txt
copy_task 5 100 > test.txt
tr ' ' '\n' < src.txt | sort | uniq -c | awk '{ print $2, $1 }' > vocab.txt
"$BIN/tfm-batch" --src src.txt --tgt src.txt --vocab vocab.txt -o train.h5 --max-tokens 512 2>/dev/null || fail "tfm-batch"
"$BIN/tfm-train" --batches train.h5 --preset tiny --d-model 32 --heads 2 --ffn 64 --encoder-layers 1 \
  --decoder-layers 1 --warmup 50 --dropout 0 --attention-dropout 0 --label-smoothing 0 --max-positions 32 \
  -o run --max-steps 300 --save-every 100 2>/dev/null || fail "tfm-train"
expect_exit 0 "$BIN/tfm-average" --last 2 -o model.h5 run

# The copy task is learnt: at least 90 of 100 held-out lines come back, through a pipe.
cat test.txt | "$BIN/tfm-decode" -m model.h5 | cat > hyp.txt || fail "decode pipe"
[ "$(wc -l < hyp.txt)" = 100 ] || fail "$(wc -l < hyp.txt) output lines for 100"
right=$(paste -d'|' hyp.txt test.txt | awk -F'|' '$1 == $2 { c++ } END { print c + 0 }')
[ "$right" -ge 90 ] || fail "only $right of 100 lines copied"

# Batching, threads, sorting chunks, beam 1 vs greedy-sized beams, ensembles: same output.
for opts in "--batch-size 1" "--max-tokens 12" "--maxi-batch 7 --batch-size 3" "--threads 2" "-b" \
            "-m model.h5"; do
  "$BIN/tfm-decode" -m model.h5 $opts < test.txt > other.txt 2>err.txt || fail "$opts: $(cat err.txt)"
  expect_same hyp.txt other.txt "tfm-decode $opts"
done
"$BIN/tfm-decode" -m model.h5 --beam 1 --scores < test.txt > greedy.txt || fail "greedy"
"$BIN/tfm-decode" -m model.h5 --beam 1 --scores --threads 2 < test.txt > greedy2.txt || fail "greedy"
expect_same greedy.txt greedy2.txt "greedy with scores, 2 threads"
# Other batch shapes may change a score's last digits (matrix products of
# other sizes round differently), never the hypothesis.
"$BIN/tfm-decode" -m model.h5 --beam 1 --batch-size 1 < test.txt > greedy1.txt || fail "greedy"
sed 's/ ||| .*//' greedy.txt > greedy-text.txt
expect_same greedy-text.txt greedy1.txt "greedy, one sentence a batch"
"$BIN/tfm-decode" -m model.h5 -m run/ckpt-300.h5 < test.txt > ensemble.txt || fail "ensemble"
[ "$(wc -l < ensemble.txt)" = 100 ] || fail "ensemble output"

# bf16: still copies, identical for any thread count; fp32 with a note where
# the CPU has no bf16 instructions (DNNL_MAX_CPU_ISA hides them here).
have_bf16  # without: the bf16 runs below test the fp32 fallback only
"$BIN/tfm-decode" -m model.h5 --precision bf16 < test.txt > bf16.txt 2>err.txt || fail "bf16: $(cat err.txt)"
right=$(paste -d'|' bf16.txt test.txt | awk -F'|' '$1 == $2 { c++ } END { print c + 0 }')
[ "$right" -ge 90 ] || fail "bf16: only $right of 100 lines copied"
"$BIN/tfm-decode" -m model.h5 --precision bf16 --threads 2 --batch-size 7 < test.txt > other.txt || fail "bf16, 2 threads"
expect_same bf16.txt other.txt "bf16 with 2 threads"
DNNL_MAX_CPU_ISA=AVX2 "$BIN/tfm-decode" -m model.h5 --precision bf16 < test.txt > other.txt 2>err.txt || fail "bf16 fallback"
expect_same hyp.txt other.txt "bf16 without bf16 instructions (fp32)"
grep -q "tfm-decode: this CPU has neither AVX512-BF16 nor AMX: computing in fp32" err.txt || fail "fallback note: $(cat err.txt)"
expect_exit 2 "$BIN/tfm-decode" -m model.h5 --precision fp16 < test.txt
grep -q "precision must be fp32, bf16 or int8" "$WORK/err" || fail "bad --precision: $(cat "$WORK/err")"

# int8: still copies; the same for any thread count and batch size (int32
# sums are exact and every row has its own scale); still copies without VNNI
# (oneDNN on AVX2, where the weights get 7 bits so that its 16-bit
# intermediate sums cannot overflow).
"$BIN/tfm-decode" -m model.h5 --precision int8 < test.txt > int8.txt 2>err.txt || fail "int8: $(cat err.txt)"
right=$(paste -d'|' int8.txt test.txt | awk -F'|' '$1 == $2 { c++ } END { print c + 0 }')
[ "$right" -ge 90 ] || fail "int8: only $right of 100 lines copied"
"$BIN/tfm-decode" -m model.h5 --precision int8 --threads 2 --batch-size 7 < test.txt > other.txt || fail "int8, 2 threads"
expect_same int8.txt other.txt "int8 with 2 threads and batches of 7"
DNNL_MAX_CPU_ISA=AVX2 "$BIN/tfm-decode" -m model.h5 --precision int8 < test.txt > other.txt || fail "int8 on AVX2"
right=$(paste -d'|' other.txt test.txt | awk -F'|' '$1 == $2 { c++ } END { print c + 0 }')
[ "$right" -ge 90 ] || fail "int8 on AVX2: only $right of 100 lines copied"

# Formats: --scores, --nbest (Moses), --alignment (Marian), empty lines, <unk>.
printf 'w1 w2 w3\n\nw4 zzz w5\n' > small.txt
"$BIN/tfm-decode" -m model.h5 --scores < small.txt > out.txt || fail "scores"
awk 'NR == 2 && $0 != "" { exit 1 } NR != 2 && !/^[w<>unk0-9 ]+ \|\|\| -[0-9.]+$/ { exit 1 }' out.txt ||
  fail "--scores format: $(cat out.txt)"
"$BIN/tfm-decode" -m model.h5 --nbest 3 < small.txt > nbest.txt || fail "nbest"
[ "$(cut -d' ' -f1 nbest.txt | tr '\n' ' ')" = "0 0 0 1 2 2 2 " ] || fail "n-best numbering: $(cat nbest.txt)"
grep -qx '0 ||| w1 w2 w3 ||| -[0-9.]*' nbest.txt || fail "n-best best line: $(cat nbest.txt)"
"$BIN/tfm-decode" -m model.h5 --alignment < test.txt > align.txt || fail "alignment"
diagonal=$(awk -F' \\|\\|\\| ' '{ n = split($1, w, " "); s = ""; for (i = 0; i < n; i++) s = s (i ? " " : "") i "-" i
                                  if (s == $2) c++ } END { print c + 0 }' align.txt)
[ "$diagonal" -ge 90 ] || fail "copy alignments diagonal for only $diagonal of 100 lines"

# Streaming: with -b each line is answered before the next is written.
coproc DEC { "$BIN/tfm-decode" -m model.h5 -b; }
echo "w1 w2" >&"${DEC[1]}"
IFS= read -r -t 20 first <&"${DEC[0]}" || fail "-b gave no answer to a line while input stays open"
[ "$first" = "w1 w2" ] || fail "-b answer: '$first'"
exec {DEC[1]}>&-
wait "$DEC_PID" || fail "-b exit status"

# Long lines: truncated with a warning, or an error with --strict.
long=$(yes w1 | head -n 40 | tr '\n' ' ')
echo "$long" | "$BIN/tfm-decode" -m model.h5 > out.txt 2> err.txt || fail "long line: $(cat err.txt)"
grep -q "stdin:1: 40 tokens, more than the model's 31; truncated" err.txt || fail "truncation warning: $(cat err.txt)"
echo "$long" | expect_exit 1 "$BIN/tfm-decode" -m model.h5 --strict
grep -q "stdin:1: 40 tokens" "$WORK/err" || fail "--strict: $(cat "$WORK/err")"

# Bad input.
printf 'w1\nw2 \xff\n' | expect_exit 1 "$BIN/tfm-decode" -m model.h5
grep -q "stdin:2: invalid UTF-8" "$WORK/err" || fail "invalid UTF-8: $(cat "$WORK/err")"
: > empty.txt
expect_exit 0 "$BIN/tfm-decode" -m model.h5 < empty.txt
[ -s "$WORK/out" ] && fail "empty input gave output"
expect_exit 1 "$BIN/tfm-decode" -m train.h5 < small.txt
grep -q "expected a tfm-model file" "$WORK/err" || fail "wrong format: $(cat "$WORK/err")"
expect_exit 1 "$BIN/tfm-decode" -m missing.h5 < small.txt
expect_exit 2 "$BIN/tfm-decode" < small.txt
expect_exit 2 "$BIN/tfm-decode" -m model.h5 --nbest 5 < small.txt
expect_exit 2 "$BIN/tfm-decode" -m model.h5 --beam 0 < small.txt
finish
