#!/usr/bin/env bash
# tfm-tokenize through real pipes: stdin/stdout and file input, line-by-line
# answers with -b, the same output for any thread count, line endings,
# invalid UTF-8 (error or --replace-invalid), usage errors, built-in prefixes.
source "$(dirname "$0")/../lib.sh"
tok=$BIN/tfm-tokenize

# A pipe and a file give the same tokens; long options are Moses' and GNU's.
printf 'Hello, "world"! Mr. Smith\x27s e-mail.\n' >"$WORK/in"
echo 'Hello , &quot; world &quot; ! Mr. Smith &apos;s e-mail .' >"$WORK/want"
"$tok" <"$WORK/in" | cat >"$WORK/got"
expect_same "$WORK/want" "$WORK/got" "stdin"
"$tok" "$WORK/in" >"$WORK/got"
expect_same "$WORK/want" "$WORK/got" "file operand"
echo 'Hello , " world " ! Mr. Smith \x27s e @-@ mail .' | sed "s/\\\\x27/'/" >"$WORK/want"
"$tok" -l en -a -no-escape <"$WORK/in" >"$WORK/got"
expect_same "$WORK/want" "$WORK/got" "-a -no-escape"
"$tok" --language en --aggressive-dash-splits --no-escape <"$WORK/in" >"$WORK/got"
expect_same "$WORK/want" "$WORK/got" "long options"
echo "hello , &quot; world &quot; ! mr. smith &apos;s e-mail ." >"$WORK/want"
"$tok" -lower-case <"$WORK/in" >"$WORK/got"
expect_same "$WORK/want" "$WORK/got" "-lower-case"

# -b answers each line before the next one is written.
exec 3< <(
  {
    echo 'first line.'
    sleep 5
    echo 'second line.'
  } | "$tok" -b
)
if read -r -t 3 first <&3; then
  [ "$first" = "first line ." ] || fail "-b: got '$first'"
else
  fail "-b: no answer to the first line within 3 s"
fi
exec 3<&-

# Threads: identical output on a few thousand varied lines.
for i in $(seq 1 3000); do
  printf 'Line %d: Dr. No\x27s  "test", 1,%03d.5 U.S.A. ... done.\n' "$i" "$i"
  [ $((i % 7)) = 0 ] && printf '  \t\n'
done >"$WORK/many"
"$tok" -threads 1 <"$WORK/many" >"$WORK/t1"
"$tok" -threads 2 <"$WORK/many" >"$WORK/t2"
"$tok" --threads 3 -b <"$WORK/many" >"$WORK/t3"
"$tok" -threads 3 -lines 7 <"$WORK/many" >"$WORK/t4"
expect_same "$WORK/t1" "$WORK/t2" "-threads 2"
expect_same "$WORK/t1" "$WORK/t3" "--threads 3 -b"
expect_same "$WORK/t1" "$WORK/t4" "-threads 3 -lines 7"
[ "$(wc -l <"$WORK/t1")" = "$(wc -l <"$WORK/many")" ] || fail "line count changed"

# Line endings: CRLF is white space; blank lines are copied as they are and
# keep a missing final newline; other lines always get one; empty input.
printf 'a b.\r\n  \r\nend' | "$tok" >"$WORK/got"
printf 'a b .\n  \r\nend\n' >"$WORK/want"
expect_same "$WORK/want" "$WORK/got" "CRLF and missing final newline"
for threads in 1 2; do
  printf 'x\n \t' | "$tok" -threads $threads >"$WORK/got"
  printf 'x\n \t' >"$WORK/want"
  expect_same "$WORK/want" "$WORK/got" "unterminated blank last line, $threads thread(s)"
done
printf ' \t' | "$tok" -b >"$WORK/got"
expect_same "$WORK/want" <(printf 'x\n'; cat "$WORK/got") "unterminated blank last line, -b"
: | "$tok" >"$WORK/got"
[ -s "$WORK/got" ] && fail "empty input gave output"
printf 'a\x01b\x7fc\xc2\xa0d\n' | "$tok" >"$WORK/got"
printf 'ab \x7f c d\n' >"$WORK/want"
expect_same "$WORK/want" "$WORK/got" "control characters, DEL, NBSP"

# A 1 MB line.
head -c 1000000 /dev/zero | tr '\0' 'a' >"$WORK/long"
printf '.\n' >>"$WORK/long"
"$tok" <"$WORK/long" >"$WORK/got"
[ "$(wc -c <"$WORK/got")" = 1000003 ] || fail "1 MB line: $(wc -c <"$WORK/got") bytes out"

# Invalid UTF-8: one-line error with file and line, exit 1; or U+FFFD.
printf 'ok\nbad \xff byte\n' >"$WORK/bad"
expect_exit 1 "$tok" "$WORK/bad"
grep -qx "tfm-tokenize: $WORK/bad:2: invalid UTF-8" "$WORK/err" || fail "error message: $(cat "$WORK/err")"
expect_exit 1 "$tok" -threads 2 <"$WORK/bad"
grep -q ':2: invalid UTF-8$' "$WORK/err" || fail "stdin error message: $(cat "$WORK/err")"
expect_exit 0 "$tok" --replace-invalid "$WORK/bad"
printf 'ok\nbad \xef\xbf\xbd byte\n' >"$WORK/want"
expect_same "$WORK/want" "$WORK/out" "--replace-invalid"

# Usage errors exit 2; a missing file exits 1.
expect_exit 2 "$tok" --no-such-option </dev/null
expect_exit 2 "$tok" -threads 0 </dev/null
expect_exit 2 "$tok" -threads </dev/null
expect_exit 2 "$tok" -lines 0 </dev/null
expect_exit 1 "$tok" "$WORK/missing"
expect_exit 1 "$tok" --prefixes "$WORK/missing" </dev/null
printf '(?<=a)b\n\\p{Lu}[a-z\n' >"$WORK/pp"
expect_exit 1 "$tok" -protected "$WORK/pp" </dev/null
grep -qxF "tfm-tokenize: $WORK/pp:2: cannot compile pattern '\\p{Lu}[a-z': missing terminating ] for character class" \
  "$WORK/err" || fail "bad pattern message: $(cat "$WORK/err")"
# A pattern that backtracks past PCRE2's match limit (Perl would run for
# hours) names the input line.
printf '(\\w|\\w\\w)+[-!]\n' >"$WORK/pp"
{ echo ok; printf 'a%.0s' {1..40}; echo; } >"$WORK/in2"
expect_exit 1 "$tok" -protected "$WORK/pp" "$WORK/in2"
grep -qF "$WORK/in2:2: protected pattern '(\\w|\\w\\w)+[-!]': PCRE2 gave up: match limit exceeded" "$WORK/err" \
  || fail "match limit message: $(cat "$WORK/err")"

# Built-in prefixes per language, --prefixes overrides, unknown languages
# fall back to English with a warning (silenced by -q).
echo 'Das ist z.B. Nr. 5 von Dr. Meier.' | "$tok" -l de >"$WORK/got"
echo 'Das ist z.B. Nr. 5 von Dr. Meier .' >"$WORK/want"
expect_same "$WORK/want" "$WORK/got" "German prefixes"
printf 'Meier\n' >"$WORK/prefixes"
echo 'Dr. Meier. Ok' | "$tok" --prefixes "$WORK/prefixes" >"$WORK/got"
echo 'Dr . Meier. Ok' >"$WORK/want"
expect_same "$WORK/want" "$WORK/got" "--prefixes"
expect_exit 0 "$tok" -l xx <"$WORK/in"
grep -q "warning: no nonbreaking prefixes for language 'xx'" "$WORK/err" || fail "no fallback warning"
expect_exit 0 "$tok" -q -l xx <"$WORK/in"
[ -s "$WORK/err" ] && fail "-q still warns: $(cat "$WORK/err")"
finish
