#!/usr/bin/env bash
# `make bench`: runs every executable benchmark in this folder, one after the
# other (they time themselves; never part of `make test`).
set -u
# Benchmarks run from their folder: make the tools' folder absolute first.
[ -n "${TFM_BIN:-}" ] && TFM_BIN=$(cd "$TFM_BIN" && pwd) && export TFM_BIN
cd "$(dirname "$0")"
status=0
for bench in *; do
  [ -f "$bench" ] && [ -x "$bench" ] && [ "$bench" != run-all.sh ] || continue
  echo "== $bench"
  "./$bench" || { echo "$bench failed"; status=1; }
  echo
done
exit $status
