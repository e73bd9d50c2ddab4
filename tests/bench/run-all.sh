#!/usr/bin/env bash
# Runs every benchmark: each executable in tests/bench except this script.
# A benchmark prints our tool beside its reference tool on the same input.
dir=$(dirname "$0")
[ -n "${TFM_BIN:-}" ] && TFM_BIN=$(cd "$TFM_BIN" && pwd) && export TFM_BIN
status=0
for bench in "$dir"/*; do
  [ "$(basename "$bench")" = run-all.sh ] || [ ! -x "$bench" ] || [ -d "$bench" ] && continue
  echo "== $(basename "$bench")"
  "$bench"
  rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 77 ] || status=1
done
exit $status
