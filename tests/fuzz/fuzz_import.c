/*
 * fuzz_import.c — libFuzzer target for `klaxon import pagerduty` and `opsgenie`
 * (commands/import/), both run on the same parsed JSON: any bytes in, a result or a refusal with
 * a sentence out, never a crash, a leak or undefined behaviour. An accepted export must give
 * YAML the config loader accepts (the CLI refuses to write anything else, so a failure here is a
 * mapping bug), and the comparison must terminate. Seeds: tests/fuzz/seeds/fuzz_import/
 * (PagerDuty's documented examples and the Opsgenie fixtures, merged as the CLI merges a
 * directory, and each list response alone). Run with `make fuzz` (tests/fuzz/run.sh).
 */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bot/config/config_load.h"
#include "commands/import/import.h"
#include "lib/kx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const cJSON *root, int vendor)
{
  struct imp_result r;
  int rc = vendor ? imp_opsgenie(root, &r) : imp_pagerduty(root, &r);
  if (rc && rc != KX_ENOMEM && !r.error)
    __builtin_trap(); /* every refusal says why */
  if (rc == 0) {
    struct buf y;
    buf_init(&y, IMP_MAX_YAML_BYTES);
    if (imp_yaml(&r, vendor ? "Opsgenie" : "PagerDuty", &y) == 0) {
      struct config_problems pr = {0};
      struct config *c = config_load_string(y.data, y.len, "fuzz", &pr);
      if (!c)
        __builtin_trap();
      config_free(c);
      config_problems_free(&pr);
    }
    buf_free(&y);
    for (size_t i = 0; i < r.n_rotas; i++) {
      struct imp_diff *d = NULL;
      size_t n = 0;
      int64_t a, b;
      (void)imp_compare(&r.rotas[i], &d, &n, &a, &b);
      free(d);
    }
  }
  imp_result_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > IMP_MAX_INPUT_BYTES)
    return 0;
  cJSON *root = cJSON_ParseWithLength((const char *)data, size);
  if (!root)
    return 0;
  for (int vendor = 0; vendor < 2; vendor++)
    one(root, vendor);
  cJSON_Delete(root);
  return 0;
}
