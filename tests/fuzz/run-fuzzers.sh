#!/usr/bin/env bash
# `make fuzz`: runs each libFuzzer harness given for SECONDS seconds, one after
# another, niced (they share the machine with everything else). Inputs that
# found new coverage go to BUILD/corpus/<harness>; a crash, leak or hang is
# written to BUILD/crashes/<harness>-... (libFuzzer prints the name); to keep
# it as a regression test, copy it to tests/fuzz/findings/<harness>/.
# Usage: run-fuzzers.sh BUILD SECONDS HARNESS...
set -u
build=$1 seconds=$2; shift 2
cd "$(dirname "$0")/../.."
mkdir -p "$build/crashes" "$build/logs"
# The harnesses write files (and our writers fsync them): in memory when we
# can, in a folder of this run, removed at the end even after a crash.
base=/tmp
[ -w /dev/shm ] && base=/dev/shm
TMPDIR=$(mktemp -d "$base/tfm-fuzz-run.XXXXXX") || exit 1
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp
found=()
for harness in "$@"; do
  name=$(basename "$harness")
  mkdir -p "$build/corpus/$name"
  seeds=(tests/fuzz/seeds/"$name")
  [ -d "tests/fuzz/findings/$name" ] && seeds+=("tests/fuzz/findings/$name")
  log=$build/logs/$name.log
  echo "fuzz $name for ${seconds}s (log: $log)"
  # -timeout: an input taking 20 s is a hang; -rss_limit_mb: HDF5 or Boost
  # asked for gigabytes on a corrupt size field.
  nice -n 10 "$harness" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/crashes/$name-" "$build/corpus/$name" "${seeds[@]}" >"$log" 2>&1
  rc=$?
  grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 | sed 's/^/  /'
  grep -E '^stat::number_of_executed_units' "$log" | sed 's/^/  /'
  if [ $rc -ne 0 ]; then
    found+=("$name")
    grep -E 'ERROR: |FINDING: |^SUMMARY|Test unit written to' "$log" | head -n 5 | sed 's/^/  /'
  fi
done
[ ${#found[@]} -eq 0 ] || { echo "findings in: ${found[*]}"; exit 1; }
echo "no findings"
