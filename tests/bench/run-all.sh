#!/usr/bin/env bash
# Runs every benchmark: each executable in tests/bench except this script.
# A benchmark prints our tool beside its reference tool on the same input.
cd "$(dirname "$0")" || exit 1
status=0
for bench in *; do
  [ "$bench" = run-all.sh ] || [ ! -x "$bench" ] || [ -d "$bench" ] && continue
  echo "== $bench"
  ./"$bench"
  rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 77 ] || status=1
done
exit $status
