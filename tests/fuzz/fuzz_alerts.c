/*
 * fuzz_alerts.c — libFuzzer target for alerts_parse (commands/paging/alerts.c), what
 * POST /alerts/alertmanager and /alerts/webhook hand their JSON body to: any bytes in, a batch
 * or a refusal with a sentence out, never a crash, a leak or undefined behaviour. The first
 * byte picks the source (Alertmanager or the generic webhook). Seeds: tests/fuzz/seeds/fuzz_alerts/
 * (the Alertmanager fixture and a generic alert). Run with `make fuzz` (tests/fuzz/run.sh).
 */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "commands/paging/alerts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  /* First byte: 0 Alertmanager, 1 generic webhook, 2 PagerDuty Events API v2. */
  enum alert_source src = (data[0] % 3) == 2   ? ALERT_SRC_PAGERDUTY
                          : (data[0] % 3) == 1 ? ALERT_SRC_WEBHOOK
                                               : ALERT_SRC_ALERTMANAGER;
  cJSON *root = cJSON_ParseWithLength((const char *)data + 1, size - 1);
  if (!root)
    return 0;
  struct alert_batch b;
  memset(&b, 0, sizeof(b));
  char why[256];
  why[0] = '\0';
  if (src == ALERT_SRC_PAGERDUTY) {
    /* The transport's check first, collecting PagerDuty's "errors" list. */
    cJSON *errors = cJSON_CreateArray();
    char first[256];
    int crc = alerts_pd_check(root, errors, first, sizeof(first));
    if ((crc != 0) != (cJSON_GetArraySize(errors) > 0))
      __builtin_trap();
    cJSON_Delete(errors);
  }
  int rc = alerts_parse(src, root, &b, why, sizeof(why));
  /* A refusal always says why. */
  if (rc != 0 && why[0] == '\0')
    __builtin_trap();
  alert_batch_free(&b);
  cJSON_Delete(root);
  return 0;
}
