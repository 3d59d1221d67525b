#!/bin/sh
# make bench: every benchmark in tests/bench/ against BUILD_DIR/klaxon, each printing its own
# figures, then a one-line summary.   tests/bench/run.sh [BUILD_DIR]
set -u
dir=${1:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
ok=0
bad=0
for b in tests/bench/*.py; do
  [ -f "$b" ] || continue
  echo "== $(basename "$b")"
  if KLAXON_BIN="$dir/klaxon" "$PYTHON" "$b"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
done
for b in "$dir"/bench/*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  if "$b"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
done
echo "bench: $ok ran, $bad failed"
[ "$bad" -eq 0 ]
