#!/bin/sh
# Run every libFuzzer target once over its committed seeds, as regressions (part of `make test`).
#   tests/fuzz/regress.sh [BUILD_DIR] [fuzz_name ...]
# BUILD_DIR (default build/asan) holds a libklaxon.a built with ASan+UBSan (`make test-asan`
# builds it). Each target tests/fuzz/fuzz_*.c is linked against that library with
# -fsanitize=fuzzer and run as `target seed...`, which executes each input exactly once and
# explores nothing: no coverage build of the library is needed, so this costs seconds, not the
# minutes of `make fuzz`. Inputs are tests/fuzz/seeds/<target>/* (small, from tests/fixtures,
# plus every input that once crashed a target). Prints one line per target and a summary;
# exits 1 when any input crashes, leaks or trips a sanitizer.
set -u
cd "$(dirname "$0")/../.."
B=${1:-build/asan}
[ $# -gt 0 ] && shift
CC=${FUZZ_CC:-clang}
PKGS="libuv libwebsockets libcurl sqlite3 libpq libcjson yaml-0.1 openssl libical"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

command -v "$CC" >/dev/null || { echo "fuzz-regress: clang is missing (apt-get install clang)" >&2; exit 1; }
[ -f "$B/libklaxon.a" ] || { echo "fuzz-regress: $B/libklaxon.a is missing (make test-asan builds it)" >&2; exit 1; }

if [ $# -gt 0 ]; then
  targets=""
  for n in "$@"; do targets="$targets tests/fuzz/${n%.c}.c"; done
else
  targets=$(ls tests/fuzz/fuzz_*.c 2>/dev/null || true)
fi
mkdir -p "$B/fuzz"
# Build the targets that are missing or stale, JOBS at a time (default: the cores); a target
# that does not build leaves no binary (and its log), and is reported below.
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
CFLAGS_PKG=$(pkg-config --cflags $PKGS)
LIBS_PKG=$(pkg-config --libs $PKGS)
running=0
for src in $targets; do
  name=$(basename "$src" .c)
  bin="$B/fuzz/$name"
  if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ] || [ "$B/libklaxon.a" -nt "$bin" ]; then
    rm -f "$bin"
    # shellcheck disable=SC2086
    $CC -std=c11 -D_GNU_SOURCE -I. -Wall -Wextra -Wshadow -Wstrict-prototypes \
      -Wmissing-prototypes -Wvla -O1 -g $SAN -fsanitize=fuzzer $CFLAGS_PKG \
      -o "$bin" "$src" "$B/libklaxon.a" $LIBS_PKG -lm >"$B/fuzz/$name.log" 2>&1 || rm -f "$bin" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then wait; running=0; fi
  fi
done
wait
status=0; ntargets=0; ninputs=0; bad=""
for src in $targets; do
  name=$(basename "$src" .c)
  bin="$B/fuzz/$name"
  log="$B/fuzz/$name.log"
  ntargets=$((ntargets + 1))
  if [ ! -x "$bin" ]; then
    cat "$log"
    echo "fuzz-regress: $name does not build"
    status=1; bad="$bad $name"
    continue
  fi
  seeds=$(find "tests/fuzz/seeds/$name" -type f 2>/dev/null | sort)
  if [ -z "$seeds" ]; then
    echo "fuzz-regress: $name has no seeds in tests/fuzz/seeds/$name/"
    status=1; bad="$bad $name"
    continue
  fi
  n=$(printf '%s\n' "$seeds" | wc -l)
  ninputs=$((ninputs + n))
  # shellcheck disable=SC2086
  if timeout 120 "$bin" -timeout=10 -rss_limit_mb=2048 $seeds >"$log" 2>&1; then
    echo "fuzz-regress: $name ok ($n inputs)"
  else
    tail -n 40 "$log"
    echo "fuzz-regress: $name FAILED (log $log)"
    status=1; bad="$bad $name"
  fi
done
if [ $status -eq 0 ]; then
  echo "[asan] fuzz regressions: $ntargets targets, $ninputs inputs, all passed"
else
  echo "[asan] fuzz regressions: $ntargets targets, $ninputs inputs, FAILED:$bad"
fi
exit $status
