/* lib/tzfile.c and the zone functions of lib/timeutil.c: TZif and POSIX TZ parsing, bad input,
 * and conversions compared with glibc's localtime_r, 1970 to 2100, in zones with odd offsets
 * and odd DST. Only this test switches the process's TZ, to ask glibc for the oracle's answer. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/kx.h"
#include "lib/timeutil.h"
#include "lib/tzfile.h"

static const char *const zones[] = {
    "Europe/London", "Europe/Berlin",   "America/New_York",  "Australia/Lord_Howe",
    "Asia/Kolkata",  "Pacific/Chatham", "America/Sao_Paulo", "UTC",
};
#define NZONES (sizeof(zones) / sizeof(zones[0]))

static int64_t at(const char *s)
{
  int64_t ms = 0;
  assert_int_equal(time_parse_rfc3339(s, &ms), 0);
  return ms;
}

/* glibc's answer: the oracle. */
static void oracle_zone(const char *tz)
{
  assert_int_equal(setenv("TZ", tz, 1), 0);
  tzset();
}

static struct tm oracle(int64_t secs)
{
  time_t t = (time_t)secs;
  struct tm tm;
  assert_non_null(localtime_r(&t, &tm));
  return tm;
}

static int64_t secs_of(int y, int m, int d)
{
  return date_to_days((struct kx_date){y, m, d}) * 86400;
}

static void same(const char *zone, int64_t secs)
{
  struct tm tm = oracle(secs);
  struct kx_local l;
  assert_int_equal(tz_to_local(zone, secs * 1000, &l), 0);
  if (l.y != tm.tm_year + 1900 || l.m != tm.tm_mon + 1 || l.d != tm.tm_mday || l.hh != tm.tm_hour ||
      l.mm != tm.tm_min || l.ss != tm.tm_sec || l.wday != tm.tm_wday || l.offset_s != tm.tm_gmtoff)
    fail_msg(
        "%s at %lld: ours %04d-%02d-%02d %02d:%02d:%02d wday %d off %d, glibc %04d-%02d-%02d "
        "%02d:%02d:%02d wday %d off %ld",
        zone, (long long)secs, l.y, l.m, l.d, l.hh, l.mm, l.ss, l.wday, l.offset_s,
        tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_wday,
        (long)tm.tm_gmtoff);
}

static void from_local_is(const char *zone, int64_t wall, int64_t want)
{
  struct kx_date d = date_from_days(wall / 86400 - (wall % 86400 < 0));
  int64_t sod = wall - date_to_days(d) * 86400;
  int64_t ms;
  assert_int_equal(tz_from_local(zone, d.y, d.m, d.d, (int)(sod / 3600), (int)(sod / 60 % 60),
                                 (int)(sod % 60), &ms),
                   0);
  if (ms != want * 1000)
    fail_msg("%s: wall %lld gave %lld, want %lld", zone, (long long)wall, (long long)(ms / 1000),
             (long long)want);
}

/* At a transition tr from offset a to b: the gap or the overlap, each side of it. */
static void check_transition(const char *zone, int64_t tr, long a, long b)
{
  same(zone, tr - 1);
  same(zone, tr);
  same(zone, tr + 1);
  if (b > a) {
    /* Gap: wall times in [tr+a, tr+b) do not exist; the pre-transition offset is used. */
    from_local_is(zone, tr + a + (b - a) / 2, tr + a + (b - a) / 2 - a);
    from_local_is(zone, tr + a - 1, tr - 1);
    from_local_is(zone, tr + b, tr);
  } else {
    /* Overlap: wall times in [tr+b, tr+a) happen twice; the first (offset a) is taken. */
    from_local_is(zone, tr + b, tr + b - a);
    from_local_is(zone, tr + b + (a - b) / 2, tr + b + (a - b) / 2 - a);
    from_local_is(zone, tr + a, tr + a - b);
  }
}

static void test_against_glibc(void **state)
{
  (void)state;
  for (size_t z = 0; z < NZONES; z++) {
    char tz[64];
    snprintf(tz, sizeof(tz), ":%s", zones[z]);
    oracle_zone(tz);
    int64_t end = secs_of(2100, 12, 31), step = 11 * 3600 + 7 * 60 + 13;
    int64_t prev = secs_of(1970, 1, 1);
    long prev_off = oracle(prev).tm_gmtoff;
    int transitions = 0;
    for (int64_t t = prev; t < end; prev = t, t += step) {
      same(zones[z], t);
      long off = oracle(t).tm_gmtoff;
      if (off != prev_off) {
        /* Find the transition's second by bisection on the oracle. */
        int64_t lo = prev, hi = t;
        while (hi - lo > 1) {
          int64_t mid = lo + (hi - lo) / 2;
          if (oracle(mid).tm_gmtoff == prev_off)
            lo = mid;
          else
            hi = mid;
        }
        check_transition(zones[z], hi, prev_off, off);
        transitions++;
      }
      prev_off = off;
    }
    /* The zones with DST after their last transition in the file: the footer was used. */
    if (strcmp(zones[z], "Europe/London") == 0 || strcmp(zones[z], "Pacific/Chatham") == 0)
      assert_true(transitions > 200);
  }
  (void)unsetenv("TZ");
  tzset();
}

/* A few fixed answers, so that a wrong oracle cannot hide a wrong conversion. */
static void test_known_gaps_and_overlaps(void **state)
{
  (void)state;
  int64_t ms;
  struct {
    const char *zone;
    int y, m, d, hh, mm;
    const char *want;
  } cases[] = {
      {"Europe/London", 2026, 3, 29, 1, 30, "2026-03-29T01:30:00Z"},  /* gap → 02:30 BST */
      {"Europe/London", 2026, 10, 25, 1, 30, "2026-10-25T00:30:00Z"}, /* overlap → BST */
      {"America/New_York", 2026, 3, 8, 2, 30, "2026-03-08T07:30:00Z"},
      {"America/New_York", 2026, 11, 1, 1, 30, "2026-11-01T05:30:00Z"},
      {"Australia/Lord_Howe", 2026, 10, 4, 2, 15, "2026-10-03T15:45:00Z"}, /* 30-minute gap */
      {"Australia/Lord_Howe", 2026, 4, 5, 1, 45, "2026-04-04T14:45:00Z"},
      {"Pacific/Chatham", 2026, 9, 27, 3, 0, "2026-09-26T14:15:00Z"},
      {"Pacific/Chatham", 2026, 4, 5, 3, 0, "2026-04-04T13:15:00Z"},
      {"America/Sao_Paulo", 2018, 11, 4, 0, 30, "2018-11-04T03:30:00Z"},
      {"America/Sao_Paulo", 2018, 2, 17, 23, 30, "2018-02-18T01:30:00Z"},
      {"America/Sao_Paulo", 2026, 1, 15, 12, 0, "2026-01-15T15:00:00Z"}, /* no DST since 2019 */
      {"Asia/Kolkata", 2090, 6, 1, 0, 0, "2090-05-31T18:30:00Z"},
      {"Europe/London", 2099, 7, 1, 12, 0, "2099-07-01T11:00:00Z"}, /* from the footer */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    assert_int_equal(tz_from_local(cases[i].zone, cases[i].y, cases[i].m, cases[i].d, cases[i].hh,
                                   cases[i].mm, 0, &ms),
                     0);
    if (ms != at(cases[i].want))
      fail_msg("case %zu (%s): %lld", i, cases[i].zone, (long long)ms);
  }
  char buf[40];
  assert_string_equal(
      time_format_zone(at("2026-01-10T00:00:00Z"), "Pacific/Chatham", buf, sizeof(buf)),
      "2026-01-10T13:45:00+13:45");
  assert_string_equal(
      time_format_zone(at("2026-01-10T00:00:00Z"), "Australia/Lord_Howe", buf, sizeof(buf)),
      "2026-01-10T11:00:00+11:00");
  assert_string_equal(time_format_zone(at("1969-12-31T23:59:59.500Z"), "UTC", buf, sizeof(buf)),
                      "1969-12-31T23:59:59+00:00");
}

static void test_posix_rules(void **state)
{
  (void)state;
  struct tzfile_rule r;
  assert_int_equal(tzfile_parse_rule("GMT0BST,M3.5.0/1,M10.5.0", &r), 0);
  assert_int_equal(r.std_off, 0);
  assert_int_equal(r.dst_off, 3600);
  assert_int_equal(r.start.kind, 'M');
  assert_int_equal(r.start.m, 3);
  assert_int_equal(r.start.w, 5);
  assert_int_equal(r.start.secs, 3600);
  assert_int_equal(r.end.secs, 7200);
  assert_int_equal(tzfile_parse_rule("<+0530>-5:30", &r), 0);
  assert_int_equal(r.std_off, 19800);
  assert_false(r.has_dst);
  assert_int_equal(tzfile_parse_rule("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", &r), 0);
  assert_int_equal(r.dst_off, 13 * 3600 + 45 * 60);
  assert_int_equal(r.end.secs, 3 * 3600 + 45 * 60);
  assert_int_equal(tzfile_parse_rule("EST5EDT", &r), 0); /* glibc's default US rule */
  assert_int_equal(r.start.m, 3);
  assert_int_equal(r.end.m, 11);
  assert_int_equal(tzfile_parse_rule("XXX3YYY,J60/-1,100/167:59:59", &r), 0);
  assert_int_equal(r.start.secs, -3600);
  assert_int_equal(r.end.kind, 'D');
  /* RFC 8536: DST all year. */
  assert_int_equal(tzfile_parse_rule("EST5EDT,0/0,J365/25", &r), 0);
  for (int y = 2020; y < 2030; y++) {
    int64_t jan1 = secs_of(y, 1, 1);
    for (int64_t t = jan1 - 7200; t < jan1 + 7200; t += 600)
      assert_int_equal(tzfile_rule_offset(&r, t), -4 * 3600);
    assert_int_equal(tzfile_rule_offset(&r, secs_of(y, 7, 1)), -4 * 3600);
  }
  const char *bad[] = {"",
                       "GM0",
                       "GMT",
                       "GMT+",
                       "GMT25",
                       "GMT0:60",
                       "<+05",
                       "<>5",
                       "GMT0BST,",
                       "GMT0BST,M3.5.0",
                       "GMT0BST,M13.1.0,M10.5.0",
                       "GMT0BST,M3.6.0,M10.5.0",
                       "GMT0BST,M3.5.7,M10.5.0",
                       "GMT0BST,M3.5.0/168,M10.5.0",
                       "GMT0BST,J0,J365",
                       "GMT0BST,366,J365",
                       "GMT0BST,M3.5.0,M10.5.0x",
                       "GMT0 ",
                       "GMT0BST1junk"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    if (tzfile_parse_rule(bad[i], &r) != KX_EINVAL)
      fail_msg("accepted \"%s\"", bad[i]);
  }
  assert_int_equal(tzfile_parse_rule(NULL, &r), KX_EINVAL);
}

/* POSIX TZ strings alone, against glibc reading the same string. The names are not files in
 * zoneinfo, which glibc would read instead. A DST zone without a rule is left out: glibc builds
 * it from posixrules (New York's transitions, shifted), which no footer relies on. */
static void test_posix_rules_against_glibc(void **state)
{
  (void)state;
  const char *rules[] = {"GMT0BST,M3.5.0/1,M10.5.0",
                         "CET-1CEST,M3.5.0,M10.5.0/3",
                         "XST5XDT,M3.2.0,M11.1.0",
                         "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
                         "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
                         "<-03>3<-02>,M10.3.0/0,M2.3.0/0",
                         "AAA3BBB,J60/1,J300/1",
                         "AAA-2BBB,59/1,300/1",
                         "XST-5:30"};
  for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
    struct tzfile_rule r;
    assert_int_equal(tzfile_parse_rule(rules[i], &r), 0);
    oracle_zone(rules[i]);
    for (int64_t t = secs_of(1990, 1, 1); t < secs_of(2060, 1, 1); t += 5 * 3600 + 17) {
      long want = oracle(t).tm_gmtoff;
      if (tzfile_rule_offset(&r, t) != want)
        fail_msg("%s at %lld: %d, glibc %ld", rules[i], (long long)t, tzfile_rule_offset(&r, t),
                 want);
    }
  }
  (void)unsetenv("TZ");
  tzset();
}

static uint8_t *slurp(const char *path, size_t *n)
{
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  uint8_t *data = malloc(TZFILE_MAX_BYTES);
  assert_non_null(data);
  *n = fread(data, 1, TZFILE_MAX_BYTES, f);
  assert_int_equal(fclose(f), 0);
  return data;
}

static void put32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* The 64-bit header of a v2+ file: after the first header and its block. */
static size_t second_header(const uint8_t *d)
{
  uint32_t c[6];
  for (int i = 0; i < 6; i++)
    c[i] = (uint32_t)d[20 + 4 * i] << 24 | (uint32_t)d[21 + 4 * i] << 16 |
           (uint32_t)d[22 + 4 * i] << 8 | d[23 + 4 * i];
  return 44 + (size_t)c[3] * 5 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 + c[1] + c[0];
}

static void expect_bad(const uint8_t *orig, size_t n, size_t at, uint32_t v, int want)
{
  uint8_t *d = malloc(n);
  assert_non_null(d);
  memcpy(d, orig, n);
  put32(d + at, v);
  struct tzfile *z = (struct tzfile *)1;
  int rc = tzfile_parse(d, n, &z);
  if (rc != want)
    fail_msg("offset %zu := %u gave %d, want %d", at, v, rc, want);
  assert_null(z);
  free(d);
}

static void test_bad_files(void **state)
{
  (void)state;
  size_t n;
  uint8_t *d = slurp("/usr/share/zoneinfo/Europe/London", &n);
  struct tzfile *z;
  assert_int_equal(tzfile_parse(d, n, &z), 0);
  assert_true(z->has_rule);
  assert_true(z->ntrans > 0);
  tzfile_free(z);
  /* Every truncation fails cleanly (the footer's closing newline is the last byte). */
  for (size_t len = 0; len < n; len++) {
    uint8_t *copy = malloc(len ? len : 1); /* exactly len bytes, so ASan sees any overread */
    assert_non_null(copy);
    memcpy(copy, d, len);
    assert_int_equal(tzfile_parse(copy, len, &z), KX_EINVAL);
    assert_null(z);
    free(copy);
  }
  size_t h2 = second_header(d);
  /* Counts that do not fit the bytes, in each header. */
  for (int i = 0; i < 6; i++) {
    expect_bad(d, n, 20 + 4 * (size_t)i, 0xffffffffu, KX_EINVAL);
    expect_bad(d, n, h2 + 20 + 4 * (size_t)i, 0xffffffffu, KX_EINVAL);
    expect_bad(d, n, h2 + 20 + 4 * (size_t)i, 0x10000000u, KX_EINVAL);
  }
  expect_bad(d, n, h2 + 36, 0, KX_EINVAL); /* no types */
  expect_bad(d, n, h2 + 40, 0, KX_EINVAL); /* no abbreviation characters */
  /* Transitions out of order. */
  uint8_t *copy = malloc(n);
  assert_non_null(copy);
  memcpy(copy, d, n);
  memset(copy + h2 + 44 + 8, 0x80, 8);
  assert_int_equal(tzfile_parse(copy, n, &z), KX_EINVAL);
  /* A transition naming a type that does not exist. */
  memcpy(copy, d, n);
  uint32_t timecnt = (uint32_t)d[h2 + 32] << 24 | (uint32_t)d[h2 + 33] << 16 |
                     (uint32_t)d[h2 + 34] << 8 | d[h2 + 35];
  copy[h2 + 44 + (size_t)timecnt * 8] = 0xff;
  assert_int_equal(tzfile_parse(copy, n, &z), KX_EINVAL);
  /* A bad footer. */
  memcpy(copy, d, n);
  copy[n - 3] = '#';
  assert_int_equal(tzfile_parse(copy, n, &z), KX_EINVAL);
  memcpy(copy, d, n);
  copy[n - 1] = 'x';
  assert_int_equal(tzfile_parse(copy, n, &z), KX_EINVAL);
  memcpy(copy, d, n);
  copy[0] = 'X';
  assert_int_equal(tzfile_parse(copy, n, &z), KX_EINVAL);
  free(copy);
  assert_int_equal(tzfile_parse(d, TZFILE_MAX_BYTES + 1, &z), KX_ETOOBIG);
  assert_int_equal(tzfile_parse(NULL, 0, &z), KX_EINVAL);
  free(d);
  tzfile_free(NULL);
  /* Names that are not zone files. */
  assert_false(tz_valid("Europe"));
  assert_false(tz_valid("zone.tab"));
  assert_false(tz_valid(""));
  assert_false(tz_valid(NULL));
  assert_false(tz_valid("Europe/../UTC"));
  struct kx_local l;
  assert_int_equal(tz_to_local("Europe", 0, &l), KX_EINVAL);
  int64_t ms;
  assert_int_equal(tz_from_local("Europe/London", 2000000000, 1, 1, 0, 0, 0, &ms), KX_EINVAL);
}

/* Hand-made files: version 1 only, and version 2 with an empty footer. */
static void test_small_files(void **state)
{
  (void)state;
  uint8_t f[200];
  memset(f, 0, sizeof(f));
  /* v1: one transition at 1000 from type 0 (+1h) to type 1 (-30m). */
  memcpy(f, "TZif", 4);
  put32(f + 32, 1); /* timecnt */
  put32(f + 36, 2); /* typecnt */
  put32(f + 40, 4); /* charcnt */
  uint8_t *p = f + 44;
  put32(p, 1000);
  p[4] = 1;
  p += 5;
  put32(p, 3600);
  p[4] = 0;
  p[5] = 0;
  put32(p + 6, (uint32_t)-1800);
  p[10] = 1;
  p[11] = 2;
  memcpy(p + 12, "A\0B", 4);
  size_t n = (size_t)(p + 16 - f);
  struct tzfile *z;
  assert_int_equal(tzfile_parse(f, n, &z), 0);
  assert_int_equal(tzfile_offset(z, -5000000000LL), 3600);
  assert_int_equal(tzfile_offset(z, 999), 3600);
  assert_int_equal(tzfile_offset(z, 1000), -1800);
  assert_int_equal(tzfile_offset(z, 5000000000LL), -1800);
  tzfile_free(z);
  /* v2: an empty v1 block, the same data with 64-bit times, then an empty footer. */
  uint8_t g[300];
  memset(g, 0, sizeof(g));
  memcpy(g, "TZif2", 5);
  put32(g + 36, 1);
  put32(g + 40, 1);
  size_t at2 = 44 + 6 + 1;
  memcpy(g + at2, "TZif2", 5);
  put32(g + at2 + 32, 1);
  put32(g + at2 + 36, 2);
  put32(g + at2 + 40, 4);
  p = g + at2 + 44;
  put32(p, 0x1);
  put32(p + 4, 0); /* 2^32 */
  p[8] = 1;
  p += 9;
  put32(p, 3600);
  put32(p + 6, (uint32_t)-1800);
  p[10] = 1;
  p[11] = 2;
  memcpy(p + 12, "A\0B", 4);
  p += 16;
  p[0] = '\n';
  p[1] = '\n';
  n = (size_t)(p + 2 - g);
  assert_int_equal(tzfile_parse(g, n, &z), 0);
  assert_false(z->has_rule);
  assert_int_equal(tzfile_offset(z, 4294967295LL), 3600);
  assert_int_equal(tzfile_offset(z, 4294967296LL), -1800);
  tzfile_free(z);
  /* The same with a leap-second record is refused, not misread. */
  put32(g + at2 + 28, 1);
  uint8_t h[320];
  memcpy(h, g, at2 + 44 + 9 + 12 + 4);
  memset(h + at2 + 44 + 25, 0, 12);
  h[at2 + 44 + 37] = '\n';
  h[at2 + 44 + 38] = '\n';
  assert_int_equal(tzfile_parse(h, at2 + 44 + 39, &z), KX_EUNSUPPORTED);
  /* A type with a designation past the characters, and a DST flag of 2. */
  memcpy(h, f, sizeof(f));
  h[44 + 5 + 5] = 9;
  assert_int_equal(tzfile_parse(h, 44 + 5 + 16, &z), KX_EINVAL);
  memcpy(h, f, sizeof(f));
  h[44 + 5 + 4] = 2;
  assert_int_equal(tzfile_parse(h, 44 + 5 + 16, &z), KX_EINVAL);
}

/* Many threads, many zones at once, starting with nothing cached: each answer is the one the
 * zone's file gives when parsed alone. */
struct job {
  int64_t want[NZONES][64];
};

struct worker {
  const struct job *job;
  int bad;
};

static void *convert(void *arg)
{
  struct worker *w = arg;
  for (int round = 0; round < 50; round++) {
    for (size_t z = 0; z < NZONES; z++) {
      for (int i = 0; i < 64; i++) {
        struct kx_local l;
        int64_t ms = (int64_t)i * 71 * MS_PER_DAY + round;
        if (tz_to_local(zones[z], ms, &l) || l.offset_s != w->job->want[z][i])
          w->bad++;
      }
    }
  }
  return NULL;
}

static void test_threads(void **state)
{
  (void)state;
  static struct job j;
  for (size_t z = 0; z < NZONES; z++) {
    char path[128];
    size_t n;
    struct tzfile *tz;
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zones[z]);
    uint8_t *data = slurp(path, &n);
    assert_int_equal(tzfile_parse(data, n, &tz), 0);
    for (int i = 0; i < 64; i++)
      j.want[z][i] = tzfile_offset(tz, (int64_t)i * 71 * 86400);
    tzfile_free(tz);
    free(data);
  }
  pthread_t th[4];
  struct worker w[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (struct worker){&j, 0};
    assert_int_equal(pthread_create(&th[i], NULL, convert, &w[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(w[i].bad, 0);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_threads), /* first: the cache starts empty, threads fill it */
      cmocka_unit_test(test_against_glibc), cmocka_unit_test(test_known_gaps_and_overlaps),
      cmocka_unit_test(test_posix_rules),   cmocka_unit_test(test_posix_rules_against_glibc),
      cmocka_unit_test(test_bad_files),     cmocka_unit_test(test_small_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
