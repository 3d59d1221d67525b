#!/bin/sh
# make bench: every benchmark in tests/bench/ against BUILD_DIR/klaxon, each printing its own
# figures, then a one-line summary.   tests/bench/run.sh [BUILD_DIR]
# BENCH_OUT is a scratch directory the benches share for the run (alert_storm.py leaves its
# figures there for bolt_compare.py's table); it is removed at the end.
set -u
dir=${1:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
BENCH_OUT=$(mktemp -d "${TMPDIR:-/tmp}/klaxon-bench.XXXXXX")
export BENCH_OUT
trap 'rm -rf "$BENCH_OUT"' EXIT
trap 'exit 130' INT TERM
ok=0
bad=0
for b in tests/bench/*.py; do
  [ -f "$b" ] || continue
  echo "== $(basename "$b")"
  if KLAXON_BIN=${KLAXON_BIN:-$dir/klaxon} "$PYTHON" "$b"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
done
for b in "$dir"/bench/*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  if "$b"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
done
echo "bench: $ok ran, $bad failed"
[ "$bad" -eq 0 ]
