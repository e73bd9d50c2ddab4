#!/usr/bin/env bash
# Runs every benchmark: each executable in tests/bench except this script.
# `make bench` calls it with TFM_BIN set to the built tools.
set -u
# Benchmarks run from this folder, so make a relative TFM_BIN absolute first.
if [ -n "${TFM_BIN:-}" ]; then TFM_BIN=$(cd "$TFM_BIN" && pwd) || exit 1; export TFM_BIN; fi
cd "$(dirname "$0")" || exit 1
status=0
for bench in *; do
  [ "$bench" = run-all.sh ] || [ ! -x "$bench" ] || [ -d "$bench" ] && continue
  echo "== $bench"
  ./"$bench" || status=1
done
exit $status
