#!/bin/sh
# Build and run every libFuzzer target tests/fuzz/fuzz_*.c for $FUZZ_SECONDS (default 30) each.
#   tests/fuzz/run.sh [fuzz_name ...]     (no names: all targets)
# The project's sources are built once, by the Makefile, into build/libklaxon-fuzz/ with
# clang -fsanitize=fuzzer-no-link,address,undefined; each target links that libklaxon.a.
# Corpora grow in tests/fuzz/corpus-<name>/ (git-ignored); tests/fuzz/seeds/<name>/, when it
# exists, is read as an extra seed corpus. A crash leaves its input as
# build/libklaxon-fuzz/crash-<name>-* and makes the script exit 1.
set -eu
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
CC=clang
B=build/libklaxon-fuzz
PKGS="libuv libwebsockets libcurl sqlite3 libpq libcjson yaml-0.1 openssl libical"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

command -v "$CC" >/dev/null || { echo "fuzz: clang is missing (apt-get install clang)" >&2; exit 1; }

make --no-print-directory B="$B" CC="$CC" CFLAGS="-O1 -g $SAN -fsanitize=fuzzer-no-link" \
  "$B/libklaxon.a" >/dev/null

if [ $# -gt 0 ]; then
  targets=""
  for n in "$@"; do targets="$targets tests/fuzz/${n%.c}.c"; done
else
  targets=$(ls tests/fuzz/fuzz_*.c 2>/dev/null || true)
fi
[ -n "$targets" ] || { echo "fuzz: no targets in tests/fuzz/"; exit 0; }

status=0
for src in $targets; do
  name=$(basename "$src" .c)
  bin="$B/$name"
  # shellcheck disable=SC2046
  $CC -std=c11 -D_GNU_SOURCE -I. -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
    -O1 -g $SAN -fsanitize=fuzzer $(pkg-config --cflags $PKGS) \
    -o "$bin" "$src" "$B/libklaxon.a" $(pkg-config --libs $PKGS) -lm
  corpus="tests/fuzz/corpus-$name"
  mkdir -p "$corpus"
  seeds=""
  [ -d "tests/fuzz/seeds/$name" ] && seeds="tests/fuzz/seeds/$name"
  log="$B/$name.log"
  # Leak checking stays on; -timeout flags any single input slower than 10 s as a hang.
  if "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$B/crash-$name-" "$corpus" $seeds >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    echo "fuzz: $name ok: ${execs:-?} runs in ${FUZZ_SECONDS}s, coverage ${cov:-?}, corpus $(ls "$corpus" | wc -l) inputs"
  else
    status=1
    tail -n 40 "$log"
    echo "fuzz: $name FAILED (log $log, inputs $B/crash-$name-*)"
  fi
done
exit $status
