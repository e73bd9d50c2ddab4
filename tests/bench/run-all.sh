#!/usr/bin/env bash
# `make bench`: runs every executable benchmark in tests/bench except itself.
cd "$(dirname "$0")/../.." || exit 1
status=0
for b in tests/bench/*; do
  [ -x "$b" ] && [ -f "$b" ] && [ "$(basename "$b")" != run-all.sh ] || continue
  echo "== $b"
  "$b" || status=1
done
exit $status
