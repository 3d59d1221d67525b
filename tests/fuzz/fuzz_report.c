/*
 * fuzz_report.c — libFuzzer target for the monthly report's two doors to outside text
 * (commands/report/): the month of GET /reports/YYYY-MM.html (report_parse_month), and the names
 * that reach the HTML page, the CSV and the markup from alerts and people (an alert's title, a
 * rota, a person id) — any bytes, never a crash, a leak or undefined behaviour, and never the raw
 * text in the page when it holds a character HTML must escape. Seeds:
 * tests/fuzz/seeds/fuzz_report/. Run with `make fuzz` (tests/fuzz/run.sh).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/config.h"
#include "commands/core/msg.h"
#include "commands/report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 4096)
    return 0;
  /* The text between markers, so that finding it raw in the page means it was not escaped. */
  char *s = malloc(size + 7);
  if (!s)
    return 0;
  s[0] = 'Z';
  s[1] = 'Z';
  s[2] = 'q';
  memcpy(s + 3, data, size);
  memcpy(s + 3 + size, "qZZ", 4);
  char *month = strndup((const char *)data, size);
  if (!month) {
    free(s);
    return 0;
  }
  int y = 0, m = 0;
  if (report_parse_month(month, &y, &m) == 0 && (m < 1 || m > 12 || y < 1970))
    __builtin_trap();
  free(month);
  struct config c = {.timezone = "UTC"};
  struct cmd_ctx ctx = {.config = &c};
  struct report_page_row alert = {.name = s,
                                  .pages = 2,
                                  .acked = 1,
                                  .ack_ms_sum = 60000,
                                  .with_reason = 1,
                                  .false_positive = 1};
  struct page_count person = {.name = s, .total = 3, .after_hours = 1};
  struct report_hours hours = {.person = s, .primary_ms = 3600000};
  struct report_count svc = {.severity = s, .service = s, .count = 1};
  struct report r = {.year = 2026,
                     .month = 11,
                     .zone = "UTC",
                     .from_ms = 1793491200000LL,
                     .to_ms = 1796083200000LL,
                     .mtbf_ms = -1,
                     .alerts = &alert,
                     .n_alerts = 1,
                     .by_person = &person,
                     .n_person = 1,
                     .by_rota = &person,
                     .n_rota = 1,
                     .hours = &hours,
                     .n_hours = 1,
                     .by_service = &svc,
                     .n_service = 1,
                     .by_sev_service = &svc,
                     .n_sev_service = 1};
  r.mtta.mean_ms = r.mttr.mean_ms = r.mttd.mean_ms = -1;
  struct buf b;
  buf_init(&b, REPORT_HTML_MAX);
  if (report_html(&ctx, &r, &b) == 0 && memchr(s, '\0', size + 6) == NULL && strpbrk(s, "<>&\"'") &&
      strstr(b.data, s))
    __builtin_trap(); /* the raw text reached the page */
  buf_free(&b);
  buf_init(&b, REPORT_HTML_MAX);
  report_csv(&ctx, &r, &b);
  buf_free(&b);
  md_init(&b);
  report_markup(&ctx, &r, NULL, &b);
  buf_free(&b);
  cJSON *j = report_json(&ctx, &r);
  cJSON_Delete(j);
  free(s);
  return 0;
}
