#!/usr/bin/env bash
# Runs every test of `make test`: the unit-test binary, then each script in
# tests/e2e and tests/golden and the man-page lint, then the unit tests and the
# e2e tests that compute again with the baseline kernels (TFM_ISA=baseline)
# and the int8 unit tests with oneDNN held to AVX2 (DNNL_MAX_CPU_ISA),
# so that a kernel right on the CPU's level only cannot pass. A script passes with exit 0,
# is skipped with exit 77 (it prints why), fails otherwise. Ends with the
# summary line "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
export TFM_BUILD=${TFM_BUILD:-build}
export TFM_BIN=$PWD/$TFM_BUILD/bin
export TFM_DATA_DIR=$PWD/data
# Every temporary file and folder of the tests goes into a folder of this run
# (mktemp, std::filesystem::temp_directory_path honour TMPDIR), so `make test`
# and `make asan` can run at the same time.
TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/tfm-tests.XXXXXX") || exit 1
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
passed=0 failed=0 skipped=0 failures=()

run_one() {  # name, command...
  local name=$1; shift
  local log start=$SECONDS
  log=$(mktemp)
  "$@" >"$log" 2>&1
  local rc=$?
  case $rc in
    0) passed=$((passed + 1)); printf 'PASS %s (%ss)\n' "$name" $((SECONDS - start))
       # Test cases of the unit binary that could not run here (tests/unit/main.cpp).
       while IFS= read -r line; do
         skipped=$((skipped + 1)); printf 'SKIP %s: %s\n' "$name" "${line#SKIPPED: }"
       done < <(grep '^SKIPPED: ' "$log") ;;
    77) skipped=$((skipped + 1)); printf 'SKIP %s: %s\n' "$name" "$(tail -n 1 "$log")" ;;
    *) failed=$((failed + 1)); failures+=("$name"); printf 'FAIL %s (exit %s)\n' "$name" $rc
       sed 's/^/    /' "$log" | tail -n 40 ;;
  esac
  rm -f "$log"
}

run_one unit "$TFM_BUILD/tests/unit_tests" --no-colors=true
for t in tests/e2e/*.sh tests/golden/*.sh tests/man-pages.sh; do
  [ -f "$t" ] && run_one "$t" bash "$t"
done
run_one "unit (TFM_ISA=baseline)" env TFM_ISA=baseline "$TFM_BUILD/tests/unit_tests" --no-colors=true
# int8 products as oneDNN runs them on CPUs without VNNI (AVX2's 16-bit pair
# sums), whatever this CPU has.
run_one "unit: int8 (DNNL_MAX_CPU_ISA=AVX2)" env DNNL_MAX_CPU_ISA=AVX2 "$TFM_BUILD/tests/unit_tests" \
  --no-colors=true --test-case='*int8*'
for t in train decode average pipeline; do
  run_one "tests/e2e/$t.sh (TFM_ISA=baseline)" env TFM_ISA=baseline bash "tests/e2e/$t.sh"
done
echo
[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
