#!/usr/bin/env bash
# Runs every executable benchmark in tests/bench (make bench). Benchmarks print
# our tool beside its peer on the same input; they are never part of make test.
cd "$(dirname "$0")" || exit 1
status=0
for bench in *; do
  [ "$bench" = run-all.sh ] || [ ! -x "$bench" ] || [ -d "$bench" ] && continue
  echo "== $bench"
  ./"$bench" || status=1
done
exit $status
