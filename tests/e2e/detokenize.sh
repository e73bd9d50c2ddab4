#!/usr/bin/env bash
# tfm-detokenize through real pipes: output, line-by-line streaming with -b,
# missing final newlines, thread counts, round trips and exit codes.
source "$(dirname "$0")/../lib.sh"
dt=$BIN/tfm-detokenize

# A pipe in, a pipe out; escapes undone, punctuation and quotes attached.
got=$(printf 'Don &apos;t , &quot; she said &quot; .\n' | "$dt" -l en | cat)
[ "$got" = "Don't, \"she said\"." ] || fail "pipe: got '$got'"

# Empty input gives empty output.
printf '' | "$dt" >"$WORK/out" 2>"$WORK/err" || fail "empty input failed"
[ ! -s "$WORK/out" ] || fail "empty input gave output"

# A detokenized last line gets its newline; a blank or tag line is copied as it
# came, also without one (as detokenizer.perl prints it).
for flag in "" -b; do
  printf 'a , b' | "$dt" $flag >"$WORK/out"
  printf 'a, b\n' | expect_same /dev/stdin "$WORK/out" "unterminated line ($flag)"
  printf 'a , b\n \t ' | "$dt" $flag >"$WORK/out"
  printf 'a, b\n \t ' | expect_same /dev/stdin "$WORK/out" "unterminated blank line ($flag)"
  printf 'x\n<tag a = 1 >' | "$dt" $flag >"$WORK/out"
  printf 'x\n<tag a = 1 >' | expect_same /dev/stdin "$WORK/out" "unterminated tag line ($flag)"
done

# -b answers each line before the input ends.
coproc DT { "$dt" -b -q; }
# bash unsets DT and DT_PID once the coprocess exits: keep what we need now.
dt_pid=$DT_PID dt_in=${DT[1]}
echo '( a , b )' >&"$dt_in"
if read -t 10 -r got <&"${DT[0]}"; then
  [ "$got" = "(a, b)" ] || fail "-b: got '$got'"
else
  fail "-b: no output while the input was still open"
fi
exec {dt_in}>&-
wait "$dt_pid" || fail "-b run failed"

# The same output for any thread count, also with one-dash Moses spellings.
for i in $(seq 3000); do
  echo "line $i : l' homme &amp; the Jones ' &quot; house &quot; , $ $i %"
  echo "中 文 $i"
  echo
done >"$WORK/many"
"$dt" -l fr <"$WORK/many" >"$WORK/one"
"$dt" -l fr --threads 2 <"$WORK/many" >"$WORK/two"
expect_same "$WORK/one" "$WORK/two" "--threads 2"
"$dt" -l fr -threads 2 -b "$WORK/many" >"$WORK/two"
expect_same "$WORK/one" "$WORK/two" "-threads 2 -b FILE"
[ "$(wc -l <"$WORK/one")" = 9000 ] || fail "line count changed"

# Round trip: text escaped and split as tfm-tokenize writes it comes back.
cat >"$WORK/text" <<'TEXT'
He said: "Don't, it costs $5 (or [more])!" 'Yes'.
TEXT
echo 'He said : &quot; Don &apos;t , it costs $ 5 ( or &#91; more &#93; ) ! &quot; &apos; Yes &apos; .' \
  | "$dt" -l en >"$WORK/out"
expect_same "$WORK/text" "$WORK/out" "round trip of escaped tokens"
"$BIN/tfm-tokenize" -l en <"$WORK/text" | "$dt" -l en >"$WORK/out"
expect_same "$WORK/text" "$WORK/out" "tfm-tokenize | tfm-detokenize"

# -u, long options, and the warning for a language without rules.
got=$(echo '« élan » , ok' | "$dt" --language=fr --uppercase-first --unbuffered 2>"$WORK/err")
[ "$got" = "« Élan », ok" ] || fail "-u: got '$got'"
[ ! -s "$WORK/err" ] || fail "warning for fr: $(cat "$WORK/err")"
echo 'a , b' | "$dt" -l de >/dev/null 2>"$WORK/err"
grep -q '^tfm-detokenize: warning: no built-in rules for language de' "$WORK/err" || fail "no warning for de"
echo 'a , b' | "$dt" -l de -q >/dev/null 2>"$WORK/err"
[ ! -s "$WORK/err" ] || fail "-q did not silence the warning"

# Bad input: exit 1 with file and line; --replace-invalid goes on.
printf 'ok\nbad \xff here\n' >"$WORK/bad"
expect_exit 1 "$dt" "$WORK/bad"
grep -qx "tfm-detokenize: $WORK/bad:2: invalid UTF-8" "$WORK/err" || fail "message: $(cat "$WORK/err")"
expect_exit 1 "$dt" <"$WORK/bad"
grep -qx "tfm-detokenize: <stdin>:2: invalid UTF-8" "$WORK/err" || fail "stdin message: $(cat "$WORK/err")"
expect_exit 0 "$dt" --replace-invalid "$WORK/bad"
printf 'ok\nbad \xef\xbf\xbd here\n' | expect_same /dev/stdin "$WORK/out" "--replace-invalid"
expect_exit 1 "$dt" "$WORK/no-such-file"
echo x | "$dt" >/dev/full 2>"$WORK/err" && fail "writing to a full disk succeeded"

# Usage errors: exit 2.
expect_exit 2 "$dt" --no-such-option
expect_exit 2 "$dt" --threads 0
expect_exit 2 "$dt" -l
expect_exit 2 "$dt" -penn -l de
echo "I ca n't -LRB- go -RRB-" | expect_exit 0 "$dt" -penn
[ "$(cat "$WORK/out")" = "I can't (go)" ] || fail "-penn: got '$(cat "$WORK/out")'"
expect_exit 0 "$dt" --help
grep -q -- '--uppercase-first' "$WORK/out" || fail "--help lacks --uppercase-first"
finish
