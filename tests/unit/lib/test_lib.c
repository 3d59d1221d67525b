/* lib/: instants, durations and zones; the log's redaction and JSON form; capped buffers;
 * Prometheus rendering. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/timeutil.h"

static int64_t at(const char *s)
{
  int64_t ms = 0;
  assert_int_equal(time_parse_rfc3339(s, &ms), 0);
  return ms;
}

static void test_rfc3339(void **state)
{
  (void)state;
  char buf[40];
  assert_int_equal(at("1970-01-01T00:00:00Z"), 0);
  assert_int_equal(at("2026-11-24T16:00:00+01:00"), at("2026-11-24T15:00:00Z"));
  assert_int_equal(at("2026-11-24T15:00:00.250Z") - at("2026-11-24T15:00:00Z"), 250);
  assert_int_equal(at("2026-11-24 15:00:00z"), at("2026-11-24T15:00:00Z"));
  assert_string_equal(time_format_utc(at("2026-03-29T01:00:00Z"), buf, sizeof(buf)),
                      "2026-03-29T01:00:00Z");
  assert_string_equal(time_format_utc(-1, buf, sizeof(buf)), "1969-12-31T23:59:59.999Z");
  static const char *bad[] = {"",
                              "2026-11-24",
                              "2026-13-01T00:00:00Z",
                              "2026-02-30T00:00:00Z",
                              "2026-11-24T25:00:00Z",
                              "2026-11-24T15:00:00",
                              "2026-11-24T15:00:00+1",
                              "2026-11-24T15:00:00Zjunk",
                              "2026-11-24T15:00:00.Z"};
  int64_t ms;
  for (size_t i = 0; i < KX_ARRAY_SIZE(bad); i++)
    assert_int_equal(time_parse_rfc3339(bad[i], &ms), KX_EINVAL);
}

static void test_durations(void **state)
{
  (void)state;
  int64_t ms;
  assert_int_equal(time_parse_duration("90s", &ms), 0);
  assert_int_equal(ms, 90000);
  assert_int_equal(time_parse_duration("1h30m", &ms), 0);
  assert_int_equal(ms, 90 * 60000);
  assert_int_equal(time_parse_duration("1w", &ms), 0);
  assert_int_equal(ms, 7 * 86400000LL);
  assert_int_equal(time_parse_duration("0m", &ms), 0);
  assert_int_equal(ms, 0);
  static const char *bad[] = {"", "5", "5x", "m", "-5m", "5m5", "1.5h"};
  for (size_t i = 0; i < KX_ARRAY_SIZE(bad); i++)
    assert_int_equal(time_parse_duration(bad[i], &ms), KX_EINVAL);
  char buf[32];
  assert_string_equal(time_format_duration(3725000, buf, sizeof(buf)), "1h 2m");
  assert_string_equal(time_format_duration(45000, buf, sizeof(buf)), "45s");
  assert_string_equal(time_format_duration(2 * 86400000LL + 3600000, buf, sizeof(buf)), "2d 1h");
}

static void test_dates(void **state)
{
  (void)state;
  struct kx_date d;
  assert_int_equal(date_parse("2026-11-23", &d), 0);
  assert_int_equal(date_weekday(d), 1); /* a Monday */
  assert_int_equal(date_parse("2024-02-29", &d), 0);
  assert_int_equal(date_parse("2026-02-29", &d), KX_EINVAL);
  struct kx_date e = date_add_days(d, 366);
  assert_int_equal(e.y, 2025);
  assert_int_equal(e.m, 3);
  assert_int_equal(e.d, 1);
  assert_int_equal(weekday_parse("monday"), 1);
  assert_int_equal(weekday_parse("Sun"), 0);
  assert_int_equal(weekday_parse("mo"), -1);
}

static void test_zones(void **state)
{
  (void)state;
  int64_t ms;
  char buf[40];
  assert_true(tz_valid("Europe/Berlin"));
  assert_true(tz_valid("UTC"));
  assert_false(tz_valid("Europe/Berlinn"));
  assert_false(tz_valid("../etc/passwd"));
  assert_false(tz_valid("/etc/localtime"));
  /* 09:00 stays 09:00 across DST; the UTC instant moves. */
  assert_int_equal(tz_from_local("Europe/Berlin", 2026, 3, 23, 9, 0, 0, &ms), 0);
  assert_int_equal(ms, at("2026-03-23T08:00:00Z"));
  assert_int_equal(tz_from_local("Europe/Berlin", 2026, 3, 30, 9, 0, 0, &ms), 0);
  assert_int_equal(ms, at("2026-03-30T07:00:00Z"));
  /* The gap: 02:30 does not exist on 2026-03-29 in Berlin → 03:30 CEST. */
  assert_int_equal(tz_from_local("Europe/Berlin", 2026, 3, 29, 2, 30, 0, &ms), 0);
  assert_int_equal(ms, at("2026-03-29T01:30:00Z"));
  /* The repeat: 02:30 on 2026-10-25 happens twice → the first (CEST). */
  assert_int_equal(tz_from_local("Europe/Berlin", 2026, 10, 25, 2, 30, 0, &ms), 0);
  assert_int_equal(ms, at("2026-10-25T00:30:00Z"));
  assert_string_equal(
      time_format_zone(at("2026-07-01T12:00:00Z"), "America/Los_Angeles", buf, sizeof(buf)),
      "2026-07-01T05:00:00-07:00");
  assert_string_equal(
      time_format_zone(at("2026-07-01T12:00:00Z"), "Asia/Kolkata", buf, sizeof(buf)),
      "2026-07-01T17:30:00+05:30");
  struct kx_local l;
  assert_int_equal(tz_to_local("Nowhere/Special", 0, &l), KX_EINVAL);
}

static void test_redaction(void **state)
{
  (void)state;
  char line[] =
      "token=xoxb-1234-abcd url=wss://x/link/?ticket=abc-123&app=1 "
      "Authorization: Bearer eyJhbGci.x.y app=xapp-1-A1-2-3 ok";
  log_redact(line);
  assert_null(strstr(line, "1234-abcd"));
  assert_null(strstr(line, "abc-123"));
  assert_null(strstr(line, "eyJhbGci"));
  assert_null(strstr(line, "A1-2-3"));
  assert_non_null(strstr(line, "&app=1"));
  assert_non_null(strstr(line, " ok"));
}

/* Issue 17 item 11: a JWT kid with a newline wrote a log line of its own. */
static void test_log_cannot_be_forged(void **state)
{
  (void)state;
  for (int fmt = 0; fmt < 2; fmt++) {
    FILE *f = tmpfile();
    log_set_output(f);
    log_set_format(fmt ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
    LOG_WARN("teams", "unknown_kid", "kid=%s",
             "k1\n2026-12-05T00:00:00.000Z INFO app started\r\x1b[2J\x7f");
    /* A line near the cap: the escapes must not overflow it. */
    char big[5000]; /* over the log's line cap */
    memset(big, '\n', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    LOG_WARN("teams", "big", "v=%s", big);
    log_set_format(LOG_FORMAT_TEXT);
    log_set_output(NULL);
    rewind(f);
    char line[16384];
    int lines = 0;
    while (fgets(line, sizeof(line), f)) {
      lines++;
      for (const char *p = line; *p && *p != '\n'; p++)
        assert_true((unsigned char)*p >= 0x20 && (unsigned char)*p != 0x7f);
      if (lines == 1 && fmt == 0)
        assert_non_null(
            strstr(line, "kid=k1\\x0a2026-12-05T00:00:00.000Z INFO app started\\x0d\\x1b[2J\\x7f"));
      if (lines == 1 && fmt == 1) /* JSON escapes the backslash itself */
        assert_non_null(strstr(line, "\"kid\":\"k1\\\\x0a2026"));
    }
    fclose(f);
    assert_int_equal(lines, 2);
  }
}

/* Issue 17 item 7: 2,000 idle connections wrote a million `accept` lines in ten seconds. */
static void test_log_repeats_suppressed(void **state)
{
  (void)state;
  FILE *f = tmpfile();
  log_set_output(f);
  for (int i = 0; i < 1000; i++)
    LOG_WARN("http", "accept_failed", "errno=%d", 24);
  LOG_WARN("http", "other_event", "n=%d", 1); /* other events are not held back */
  log_set_output(NULL);
  rewind(f);
  char line[1024];
  int lines = 0, other = 0;
  while (fgets(line, sizeof(line), f)) {
    lines++;
    other += strstr(line, "other_event") != NULL;
  }
  fclose(f);
  /* 20 a second: at most two windows if the second turned during the loop, plus one report */
  assert_true(lines >= 21 && lines <= 2 * 20 + 2);
  assert_int_equal(other, 1);
}

static void test_log_json(void **state)
{
  (void)state;
  FILE *f = tmpfile();
  log_set_output(f);
  log_set_format(LOG_FORMAT_JSON);
  char q[64];
  LOG_WARN("slack", "bad_frame", "conn=%d why=%s token=%s", 3, log_quote(q, sizeof(q), "a \"b\" c"),
           "xoxb-secret");
  log_set_format(LOG_FORMAT_TEXT);
  LOG_DEBUG("x", "hidden", "a=%d", 1); /* below the threshold */
  log_set_output(NULL);
  rewind(f);
  char line[512] = {0};
  assert_non_null(fgets(line, sizeof(line), f));
  fclose(f);
  assert_non_null(strstr(line, "\"level\":\"warn\""));
  assert_non_null(strstr(line, "\"module\":\"slack\""));
  assert_non_null(strstr(line, "\"conn\":\"3\""));
  assert_non_null(strstr(line, "\"why\":\"a \\\"b\\\" c\""));
  assert_null(strstr(line, "secret"));
  enum log_level lvl;
  assert_int_equal(log_parse_level("WARN", &lvl), 0);
  assert_int_equal(lvl, LOG_LEVEL_WARN);
  assert_int_equal(log_parse_level("loud", &lvl), KX_EINVAL);
}

static void test_buf(void **state)
{
  (void)state;
  struct buf b;
  buf_init(&b, 10);
  assert_int_equal(buf_puts(&b, "hello"), 0);
  assert_int_equal(buf_printf(&b, "%d", 1234), 0);
  assert_string_equal(b.data, "hello1234");
  assert_int_equal(buf_puts(&b, "xy"), KX_ETOOBIG);
  assert_null(b.data); /* freed on overflow */
  assert_int_equal(b.len, 0);
  assert_int_equal(buf_puts(&b, "again"), 0);
  char *taken = buf_take(&b);
  assert_string_equal(taken, "again");
  free(taken);
  assert_null(b.data);
  buf_free(&b);
  assert_string_equal(kx_err_name(KX_ETOOBIG), "TOOBIG");
  assert_string_equal(kx_strerror(12345), "unknown error");
  assert_true(kx_ct_equal("abc", 3, "abc", 3));
  assert_false(kx_ct_equal("abc", 3, "abd", 3));
  assert_false(kx_ct_equal("abc", 3, "ab", 2));
}

static void test_metrics(void **state)
{
  (void)state;
  metrics_reset();
  const double b[] = {0.001, 0.01, 0.1};
  assert_int_equal(metrics_describe("klaxon_x_total", METRIC_COUNTER, "X things"), 0);
  assert_int_equal(metrics_histogram("klaxon_lat_seconds", "Latency", b, 3), 0);
  metrics_inc("klaxon_x_total", "method=\"a\"", 2);
  metrics_inc("klaxon_x_total", "method=\"a\"", 1);
  metrics_observe("klaxon_lat_seconds", "", 0.0005);
  metrics_observe("klaxon_lat_seconds", "", 0.05);
  metrics_inc("klaxon_undeclared", "", 1); /* refused, logged */
  assert_true(metrics_value("klaxon_x_total", "method=\"a\"") == 3);
  assert_true(metrics_quantile("klaxon_lat_seconds", "", 0.5) == 0.001);
  assert_true(metrics_quantile("klaxon_lat_seconds", "", 0.99) == 0.1);
  struct buf out;
  buf_init(&out, 1 << 16);
  assert_int_equal(metrics_render(&out), 0);
  assert_non_null(
      strstr(out.data, "# TYPE klaxon_x_total counter\nklaxon_x_total{method=\"a\"} 3\n"));
  assert_non_null(strstr(out.data, "klaxon_lat_seconds_bucket{le=\"0.001\"} 1\n"));
  assert_non_null(strstr(out.data, "klaxon_lat_seconds_bucket{le=\"+Inf\"} 2\n"));
  assert_non_null(strstr(out.data, "klaxon_lat_seconds_count 2\n"));
  assert_null(strstr(out.data, "undeclared"));
  buf_free(&out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rfc3339),
      cmocka_unit_test(test_durations),
      cmocka_unit_test(test_dates),
      cmocka_unit_test(test_zones),
      cmocka_unit_test(test_redaction),
      cmocka_unit_test(test_log_json),
      cmocka_unit_test(test_log_cannot_be_forged),
      cmocka_unit_test(test_log_repeats_suppressed),
      cmocka_unit_test(test_buf),
      cmocka_unit_test(test_metrics),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
