/*
 * fuzz_config.c — libFuzzer target for the YAML config loader: any bytes in, a config or a
 * list of problems out, never a crash, a leak or undefined behaviour. Seeds: the example
 * config (deploy/klaxon.example.yaml).
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -DKLAXON_SRCDIR='"."' tests/fuzz/fuzz_config.c lib/buf.c lib/kx.c lib/log.c lib/timeutil.c \
 *     commands/config.c bot/config_load.c bot/config_values.c bot/config_schema.c bot/config_rota.c
 * \ -lyaml -lcrypto -lm -o build/fuzz_config build/fuzz_config -max_total_time=60 deploy/
 */
#include <stddef.h>
#include <stdint.h>

#include "bot/config/config_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct config_problems problems;
  struct config *c = config_load_string((const char *)data, size, "fuzz.yaml", &problems);
  /* A config is handed out exactly when there is no problem. */
  if ((c != NULL) == (problems.n != 0))
    __builtin_trap();
  config_free(c);
  config_problems_free(&problems);
  return 0;
}
