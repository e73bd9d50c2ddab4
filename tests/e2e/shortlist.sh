#!/usr/bin/env bash
# tfm-shortlist and tfm-decode --shortlist end to end, on a tiny model
# trained here to translate words a0..a7 into b0..b7: IBM model 1 finds each
# word's translation; a shortlist that holds every token gives byte-identical
# output in each precision; a smaller one keeps the output to its tokens,
# whatever --threads; bad files are one-line errors naming file and line.
source "$(dirname "$0")/../lib.sh"
cd "$WORK"

awk 'BEGIN { srand(11); for (i = 0; i < 1100; i++) { n = 2 + int(rand() * 5); s = t = "";
       for (j = 0; j < n; j++) { w = int(rand() * 8); s = s (j ? " " : "") "a" w; t = t (j ? " " : "") "b" w }
       print s > (i < 1000 ? "src.txt" : "test.txt"); if (i < 1000) print t > "tgt.txt" } }'
cat src.txt tgt.txt | tr ' ' '\n' | sort | uniq -c | awk '{ print $2, $1 }' > vocab.txt
"$BIN/tfm-batch" --src src.txt --tgt tgt.txt --vocab vocab.txt -o train.h5 --max-tokens 512 2>/dev/null || fail "tfm-batch"
"$BIN/tfm-train" --batches train.h5 --preset tiny --d-model 32 --heads 2 --ffn 64 --encoder-layers 1 \
  --decoder-layers 1 --warmup 50 --dropout 0 --attention-dropout 0 --label-smoothing 0 --max-positions 32 \
  -o run --max-steps 200 --save-every 200 2>/dev/null || fail "tfm-train"
model=run/ckpt-200.h5

# The lexical table: each a-word's best candidate is its b-word.
expect_exit 0 "$BIN/tfm-shortlist" --batches train.h5 -o list.txt --candidates 2 --frequent 3
[ "$(head -n 1 list.txt)" = "tfm-shortlist 1" ] || fail "header: $(head -n 1 list.txt)"
[ "$(sed -n 2p list.txt | wc -w)" = 4 ] || fail "frequent line: $(sed -n 2p list.txt)"
for w in 0 1 2 3 4 5 6 7; do
  grep -q "^source a$w b$w 0\.[0-9]* [ab][0-7] [0-9.e-]*\$" list.txt || fail "a$w: $(grep "^source a$w " list.txt)"
done
"$BIN/tfm-shortlist" --batches train.h5 > stdout.txt 2>/dev/null || fail "to stdout"
"$BIN/tfm-shortlist" --batches train.h5 --candidates 50 --frequent 800 --iterations 5 > defaults.txt 2>/dev/null
expect_same stdout.txt defaults.txt "the defaults"

# Every token listed: the same bytes as without a shortlist, in each precision.
{ echo "tfm-shortlist 1"; printf 'frequent'; awk '{ printf " %s", $1 }' vocab.txt; echo; } > all.txt
precisions="fp32 int8"
if have_bf16; then precisions="$precisions bf16"; fi
for p in $precisions; do
  "$BIN/tfm-decode" -m "$model" --precision $p --scores < test.txt > full.$p.txt || fail "$p"
  "$BIN/tfm-decode" -m "$model" --precision $p --scores --shortlist all.txt < test.txt > listed.$p.txt || fail "$p listed"
  expect_same full.$p.txt listed.$p.txt "--precision $p --shortlist every token"
done

# The built shortlist translates as the whole vocabulary does (the model has
# learnt the task), and --threads and batch sizes do not change its output.
"$BIN/tfm-decode" -m "$model" < test.txt > full.txt || fail "full"
"$BIN/tfm-decode" -m "$model" --shortlist list.txt < test.txt > short.txt || fail "shortlist"
same=$(paste -d'|' full.txt short.txt | awk -F'|' '$1 == $2 { c++ } END { print c + 0 }')
[ "$same" -ge 95 ] || fail "only $same of 100 lines as without the shortlist"
"$BIN/tfm-decode" -m "$model" --shortlist list.txt --threads 2 < test.txt > other.txt || fail "2 threads"
expect_same short.txt other.txt "--shortlist with 2 threads"

# A shortlist of b0 b1 only: no other token comes out, whatever --threads.
printf 'tfm-shortlist 1\nfrequent b0\nsource a3 b1 0.5\n' > two.txt
"$BIN/tfm-decode" -m "$model" --shortlist two.txt < test.txt > two.out || fail "two tokens"
"$BIN/tfm-decode" -m "$model" --shortlist two.txt --threads 2 --precision int8 < test.txt > two8.out || fail "int8"
"$BIN/tfm-decode" -m "$model" --shortlist two.txt --threads 2 < test.txt > two2.out || fail "2 threads"
for f in two.out two8.out two2.out; do
  outside=$(tr ' ' '\n' < $f | grep -v -x -e b0 -e b1 -e '' | sort -u | tr '\n' ' ')
  [ -z "$outside" ] || fail "$f: tokens outside the shortlist: $outside"
done
grep -q b1 two.out || fail "a3's candidate b1 never produced"
expect_same two.out two2.out "a two-token shortlist with 2 threads"

# Bad shortlists: exit 1, one line naming the file and line.
bad() {  # LABEL EXPECTED-MESSAGE CONTENT
  printf '%b' "$3" > bad.txt
  expect_exit 1 "$BIN/tfm-decode" -m "$model" --shortlist bad.txt < test.txt
  [ "$(wc -l < "$WORK/err")" = 1 ] || fail "$1: not one line: $(cat "$WORK/err")"
  grep -q -F "tfm-decode: bad.txt:$2" "$WORK/err" || fail "$1: $(cat "$WORK/err")"
  [ -s "$WORK/out" ] && fail "$1: output written"
}
bad "unknown token" "3: target token 'zz' is not in the model's vocabulary" 'tfm-shortlist 1\nfrequent b1\nsource a1 zz 0.5\n'
bad "bad number" "3: '0,5' is not a probability" 'tfm-shortlist 1\nfrequent b1\nsource a1 b1 0,5\n'
bad "truncated line" "4: truncated line" 'tfm-shortlist 1\nfrequent b1\nsource a1 b1 0.5\nsource a2 b2'
bad "header" "1: not a shortlist" 'frequent b1\n'
expect_exit 1 "$BIN/tfm-decode" -m "$model" --shortlist missing.txt < test.txt
grep -q "missing.txt" "$WORK/err" || fail "missing file: $(cat "$WORK/err")"

# tfm-shortlist's own errors.
expect_exit 2 "$BIN/tfm-shortlist" -o x.txt
expect_exit 2 "$BIN/tfm-shortlist" --batches train.h5 --iterations 0
expect_exit 1 "$BIN/tfm-shortlist" --batches vocab.txt -o x.txt
[ -e x.txt ] && fail "an output was left by a failed run"
finish
