# Helpers for the shell tests (sourced). Tools come from $TFM_BIN; ../shared
# is found beside the checkout. Each test exits 0 (pass), 77 (skip) or 1.
set -u
BIN=${TFM_BIN:?run through tests/run-tests.sh or set TFM_BIN}
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SHARED=${TFM_SHARED:-$TOP/../shared}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
skip() { echo "skipped: $*"; exit 77; }
need_shared() {  # folder inside ../shared
  [ -d "$SHARED/$1" ] || skip "$SHARED/$1 not found (reference data lives in ../shared beside the checkout)"
}
# expect_exit CODE command...: runs it, output to $WORK/out and $WORK/err.
expect_exit() {
  local want=$1; shift
  "$@" >"$WORK/out" 2>"$WORK/err"
  local got=$?
  [ "$got" = "$want" ] || fail "exit $got, expected $want: $* (stderr: $(head -c 300 "$WORK/err"))"
}
# expect_same EXPECTED_FILE ACTUAL_FILE LABEL
expect_same() {
  if ! cmp -s "$1" "$2"; then
    fail "$3 differs from $1:"
    diff "$1" "$2" | head -n 10
  fi
}
# Copy-and-reverse corpus in the current folder: src.txt, tgt.txt (400 pairs
# of 3-8 words w0..w19, the target reversed) and their vocab.txt.
make_reverse_corpus() {
  awk 'BEGIN { srand(7); for (i = 0; i < 400; i++) { n = 3 + int(rand() * 6); s = r = "";
         for (j = 0; j < n; j++) { a[j] = "w" int(rand() * 20); s = s (j ? " " : "") a[j] }
         for (j = n - 1; j >= 0; j--) r = r (j < n - 1 ? " " : "") a[j]
         print s > "src.txt"; print r > "tgt.txt" } }'
  cat src.txt tgt.txt | tr ' ' '\n' | sort | uniq -c | awk '{ print $2, $1 }' > vocab.txt
}
# Parts of a test that could not run here: the rest runs, then finish()
# reports the test as skipped (exit 77) naming them, never as a pass.
left_out=()
leave_out() {
  local noted
  for noted in "${left_out[@]}"; do [ "$noted" = "$1" ] && return; done
  left_out+=("$1")
}
# have_python MODULE...: whether /usr/bin/python3 imports them (else noted as left out).
have_python() {
  local module
  for module; do
    /usr/bin/python3 -c "import $module" 2>/dev/null ||
      { leave_out "checks with python3's $module (not installed; make deps installs it)"; return 1; }
  done
}
# Whether this CPU has bf16 instructions (else the bf16 runs test the fp32
# fallback only, which is noted as left out).
have_bf16() {
  grep -q -w -E 'avx512_bf16|amx_bf16' /proc/cpuinfo && return 0
  leave_out "bf16 arithmetic (this CPU has neither AVX512-BF16 nor AMX: bf16 runs computed in fp32)"
  return 1
}
finish() {
  [ "$failures" -eq 0 ] || { echo "$failures check(s) failed"; exit 1; }
  [ ${#left_out[@]} -eq 0 ] || skip "everything else passed; not run: $(IFS=';'; echo "${left_out[*]}")"
  exit 0
}
