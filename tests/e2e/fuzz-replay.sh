#!/usr/bin/env bash
# Replays every fuzz harness of tests/fuzz (built with a plain main, see the
# Makefile) on its seed corpus and on the inputs of past findings, so each
# finding stays fixed in `make test`; `make fuzz` does the fuzzing itself.
source "$(dirname "$0")/../lib.sh"
replay=$BIN/../fuzz-replay
ran=0
for source in "$TOP"/tests/fuzz/fuzz_*.cpp; do
  name=$(basename "$source" .cpp)
  [ -x "$replay/$name" ] || { fail "$replay/$name not built (make test builds it)"; continue; }
  inputs=("$TOP/tests/fuzz/seeds/$name")
  [ -d "$TOP/tests/fuzz/findings/$name" ] && inputs+=("$TOP/tests/fuzz/findings/$name")
  # Some findings were hangs: a regression fails here instead of hanging.
  TMPDIR=$WORK timeout 300 "$replay/$name" "${inputs[@]}" > "$WORK/out" 2>&1 ||
    fail "$name (exit $?): $(tail -n 5 "$WORK/out")"
  ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || fail "no harness in tests/fuzz"
finish
