#!/bin/sh
# Run the test suite against one build tree and print the runner's summary.
#   tests/run.sh BUILD_DIR LABEL [unit|e2e|all]
# Unit tests: every build/tests/test_* binary (cmocka), each its own process with a timeout.
# End-to-end: tests/e2e/run.py drives BUILD_DIR/klaxon against the local simulators (with the
# labels asan and pg, only the tests that run klaxon code; pg with KLAXON_E2E_ENGINE=postgres).
set -u
dir=$1
label=$2
what=${3:-all}
PYTHON=${PYTHON:-/usr/bin/python3}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-120}
status=0
if [ "$label" = asan ] || [ "$label" = pg-asan ]; then
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
if [ "$what" = all ] || [ "$what" = unit ]; then
  passed=0; failed=0; bins=0; badbins=""
  for t in "$dir"/tests/test_*; do
    [ -x "$t" ] || continue
    bins=$((bins + 1))
    out=$(CMOCKA_MESSAGE_OUTPUT=stdout timeout "$UNIT_TIMEOUT" "$t" 2>&1)
    rc=$?
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    if [ $rc -ne 0 ]; then
      printf '%s\n' "$out" | grep -v '^\[ \(RUN\|       OK\) ' | tail -n 40
      echo "unit: $(basename "$t") exited $rc"
      badbins="$badbins $(basename "$t")"
      [ -z "$f" ] && failed=$((failed + 1))
      status=1
    fi
  done
  echo "[$label] unit: $bins binaries, $passed passed, $failed failed${badbins:+ (failing:$badbins)}"
fi
if [ "$what" = all ] || [ "$what" = e2e ]; then
  if [ -f tests/e2e/run.py ]; then
    # The sanitizer pass skips the simulators' self-tests: they run no klaxon code, and the
    # plain pass has run them (tests/e2e/run.py --klaxon-only).
    only=""
    [ "$label" = asan ] || [ "$label" = pg ] && only=--klaxon-only
    KLAXON_BIN="$dir/klaxon" KLAXON_TEST_LABEL="$label" "$PYTHON" tests/e2e/run.py $only || status=1
  else
    echo "[$label] e2e: no tests/e2e/run.py yet"
  fi
fi
exit $status
