/* test_rota.c — rota arithmetic: shift boundaries across DST, holidays, absences, overrides,
 * secondaries, schedules, business hours, FROM/TO parsing and swaps. Every expected instant
 * is written as an RFC 3339 string (worked out independently with Python's zoneinfo). */
/* cmocka.h needs these first; keep clang-format from sorting it above them. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include "commands/oncall/rota.h"
#include "lib/kx.h"

static int64_t T(const char *rfc3339)
{
  int64_t ms = 0;
  if (time_parse_rfc3339(rfc3339, &ms) != 0)
    fail_msg("bad instant in the test: %s", rfc3339);
  return ms;
}

static int n_instants; /* exact-instant assertions made, reported at the end */

#define assert_instant(got, want)                                                           \
  do {                                                                                      \
    char got_[40];                                                                          \
    int64_t g_ = (got);                                                                     \
    n_instants++;                                                                           \
    if (g_ != T(want))                                                                      \
      fail_msg("%s: got %s, want %s", #got, time_format_utc(g_, got_, sizeof(got_)), want); \
  } while (0)

static char *P4[] = {"alice", "bob", "carol", "dave"};
static char *P3[] = {"ann", "ben", "cat"};

static struct rota weekly(const char *zone)
{
  struct rota r = {0};
  r.name = "platform";
  r.timezone = (char *)zone;
  r.handoff_wday = 1;
  r.handoff_minute = 9 * 60;
  r.shift_days = 7;
  r.start = (struct kx_date){2026, 1, 5};
  r.primary = P4;
  r.n_primary = 4;
  r.secondary_mode = SECONDARY_NEXT;
  r.manager = "mia";
  return r;
}

/* ---- shift boundaries, DST ------------------------------------------------------------ */

struct shift_case {
  const char *zone;
  const char *at;
  int64_t index;
  const char *start, *end;
};

static const struct shift_case shift_cases[] = {
    /* Europe/Berlin: 09:00 CET = 08:00Z, 09:00 CEST = 07:00Z. */
    {"Europe/Berlin", "2026-01-05T08:00:00Z", 0, "2026-01-05T08:00:00Z", "2026-01-12T08:00:00Z"},
    {"Europe/Berlin", "2026-01-12T07:59:59Z", 0, "2026-01-05T08:00:00Z", "2026-01-12T08:00:00Z"},
    {"Europe/Berlin", "2026-01-12T08:00:00Z", 1, "2026-01-12T08:00:00Z", "2026-01-19T08:00:00Z"},
    /* The week that contains the spring-forward (29 March): one hour shorter. */
    {"Europe/Berlin", "2026-03-29T12:00:00Z", 11, "2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z"},
    {"Europe/Berlin", "2026-03-30T06:59:59Z", 11, "2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z"},
    {"Europe/Berlin", "2026-03-30T07:00:00Z", 12, "2026-03-30T07:00:00Z", "2026-04-06T07:00:00Z"},
    /* The week that contains the fall-back (25 October): one hour longer. */
    {"Europe/Berlin", "2026-10-25T12:00:00Z", 41, "2026-10-19T07:00:00Z", "2026-10-26T08:00:00Z"},
    {"Europe/Berlin", "2026-10-26T07:30:00Z", 41, "2026-10-19T07:00:00Z", "2026-10-26T08:00:00Z"},
    {"Europe/Berlin", "2026-10-26T08:00:00Z", 42, "2026-10-26T08:00:00Z", "2026-11-02T08:00:00Z"},
    /* America/Los_Angeles: 09:00 PST = 17:00Z, PDT = 16:00Z (DST 8 March .. 1 November). */
    {"America/Los_Angeles", "2026-01-05T17:00:00Z", 0, "2026-01-05T17:00:00Z",
     "2026-01-12T17:00:00Z"},
    {"America/Los_Angeles", "2026-03-05T00:00:00Z", 8, "2026-03-02T17:00:00Z",
     "2026-03-09T16:00:00Z"},
    {"America/Los_Angeles", "2026-03-09T16:30:00Z", 9, "2026-03-09T16:00:00Z",
     "2026-03-16T16:00:00Z"},
    {"America/Los_Angeles", "2026-11-02T16:30:00Z", 42, "2026-10-26T16:00:00Z",
     "2026-11-02T17:00:00Z"},
    {"America/Los_Angeles", "2026-11-02T17:00:00Z", 43, "2026-11-02T17:00:00Z",
     "2026-11-09T17:00:00Z"},
    /* Asia/Kolkata has no DST: 09:00 IST is 03:30Z all year. */
    {"Asia/Kolkata", "2026-03-30T03:29:59Z", 11, "2026-03-23T03:30:00Z", "2026-03-30T03:30:00Z"},
    {"Asia/Kolkata", "2026-03-30T03:30:00Z", 12, "2026-03-30T03:30:00Z", "2026-04-06T03:30:00Z"},
    {"Asia/Kolkata", "2026-10-28T00:00:00Z", 42, "2026-10-26T03:30:00Z", "2026-11-02T03:30:00Z"},
};

static void test_shift_boundaries(void **state)
{
  (void)state;
  for (size_t i = 0; i < KX_ARRAY_SIZE(shift_cases); i++) {
    const struct shift_case *c = &shift_cases[i];
    struct rota r = weekly(c->zone);
    struct rota_shift sh;
    assert_int_equal(rota_shift_at(&r, T(c->at), &sh), 0);
    if (sh.index != c->index)
      fail_msg("case %zu (%s %s): index %lld", i, c->zone, c->at, (long long)sh.index);
    assert_instant(sh.start_ms, c->start);
    assert_instant(sh.end_ms, c->end);
    assert_false(sh.late_handoff);
    assert_string_equal(sh.primary, P4[c->index % 4]);
    assert_string_equal(sh.secondary, P4[(c->index + 1) % 4]);
    assert_string_equal(sh.manager, "mia");
    struct rota_shift again;
    assert_int_equal(rota_shift_by_index(&r, c->index, &again), 0);
    assert_true(again.start_ms == sh.start_ms && again.end_ms == sh.end_ms);
  }
}

static void test_dst_mondays_exact(void **state)
{
  (void)state;
  /* The Monday after each change: 09:00 local both times, the UTC instant an hour apart. */
  struct rota berlin = weekly("Europe/Berlin"), la = weekly("America/Los_Angeles");
  struct rota_shift a, b;
  assert_int_equal(rota_shift_by_index(&berlin, 11, &a), 0); /* Monday 23 March, CET */
  assert_int_equal(rota_shift_by_index(&berlin, 12, &b), 0); /* Monday 30 March, CEST */
  assert_instant(a.start_ms, "2026-03-23T09:00:00+01:00");
  assert_instant(b.start_ms, "2026-03-30T09:00:00+02:00");
  assert_int_equal(b.start_ms - a.start_ms, 7 * MS_PER_DAY - MS_PER_HOUR);
  assert_int_equal(rota_shift_by_index(&berlin, 42, &b), 0); /* Monday 26 October, CET */
  assert_instant(b.start_ms, "2026-10-26T09:00:00+01:00");
  assert_int_equal(b.start_ms - b.nominal_start_ms, 0);
  assert_int_equal(rota_shift_by_index(&la, 9, &a), 0); /* Monday 9 March, PDT */
  assert_instant(a.start_ms, "2026-03-09T09:00:00-07:00");
  assert_int_equal(rota_shift_by_index(&la, 43, &a), 0); /* Monday 2 November, PST */
  assert_instant(a.start_ms, "2026-11-02T09:00:00-08:00");
}

static void test_before_start(void **state)
{
  (void)state;
  struct rota r = weekly("Europe/Berlin");
  struct rota_shift sh;
  assert_int_equal(rota_shift_at(&r, T("2026-01-05T07:59:59Z"), &sh), KX_ENOTFOUND);
  assert_int_equal(sh.index, 0);
  assert_instant(sh.start_ms, "2026-01-05T08:00:00Z");
  struct rota_oncall oc;
  assert_int_equal(rota_oncall_at(&r, NULL, 0, T("2025-12-31T12:00:00Z"), &oc), 0);
  assert_false(oc.started);
  assert_null(oc.primary.person);
  assert_null(oc.secondary.person);
  assert_instant(oc.shift.start_ms, "2026-01-05T08:00:00Z");
  int64_t next, k = -1;
  assert_int_equal(rota_next_handoff(&r, T("2025-06-01T00:00:00Z"), &next, &k), 0);
  assert_instant(next, "2026-01-05T08:00:00Z");
  assert_int_equal(k, 0);
}

static void test_start_aligned_to_handoff_weekday(void **state)
{
  (void)state;
  /* 1 January 2026 is a Thursday; a Monday rota begins on the first Monday after it. */
  struct rota r = weekly("America/Los_Angeles");
  r.start = (struct kx_date){2026, 1, 1};
  r.shift_days = 14;
  struct rota_shift sh;
  assert_int_equal(rota_shift_by_index(&r, 0, &sh), 0);
  assert_instant(sh.start_ms, "2026-01-05T17:00:00Z");
  assert_instant(sh.end_ms, "2026-01-19T17:00:00Z");
}

/* ---- holidays ---------------------------------------------------------------------------- */

static void test_holiday_monday_moves_to_tuesday(void **state)
{
  (void)state;
  struct kx_date hol[] = {{2026, 4, 6}}; /* Easter Monday */
  struct rota r = weekly("Europe/Berlin");
  r.holidays = hol;
  r.n_holidays = 1;
  struct rota_shift prev, sh;
  assert_int_equal(rota_shift_by_index(&r, 12, &prev), 0);
  assert_int_equal(rota_shift_by_index(&r, 13, &sh), 0);
  assert_instant(prev.end_ms, "2026-04-07T07:00:00Z");
  assert_true(prev.late_end);
  assert_instant(sh.start_ms, "2026-04-07T09:00:00+02:00");
  assert_instant(sh.nominal_start_ms, "2026-04-06T07:00:00Z");
  assert_true(sh.late_handoff);
  assert_instant(sh.end_ms, "2026-04-13T07:00:00Z"); /* the next handoff is not moved */
  assert_false(sh.late_end);
  /* The order stays: shift 13 is still primary[13 mod 4]. */
  assert_string_equal(sh.primary, "bob");
  /* On the holiday itself the previous shift runs on. */
  assert_int_equal(rota_shift_at(&r, T("2026-04-06T10:00:00Z"), &sh), 0);
  assert_int_equal(sh.index, 12);
  assert_string_equal(sh.primary, "alice");
  int64_t next;
  assert_int_equal(rota_next_handoff(&r, T("2026-04-01T00:00:00Z"), &next, NULL), 0);
  assert_instant(next, "2026-04-07T07:00:00Z");
}

static void test_holiday_monday_and_tuesday_moves_to_wednesday(void **state)
{
  (void)state;
  struct kx_date hol[] = {{2026, 5, 26}, {2026, 5, 25}}; /* unsorted on purpose */
  struct rota r = weekly("Europe/Berlin");
  r.holidays = hol;
  r.n_holidays = 2;
  struct rota_shift sh;
  assert_int_equal(rota_shift_by_index(&r, 20, &sh), 0);
  assert_instant(sh.start_ms, "2026-05-27T07:00:00Z");
  assert_true(sh.late_handoff);
  assert_int_equal(rota_shift_at(&r, T("2026-05-26T20:00:00Z"), &sh), 0);
  assert_int_equal(sh.index, 19);
  assert_instant(sh.end_ms, "2026-05-27T07:00:00Z");
}

static void test_weekend_handoff_moves_to_monday(void **state)
{
  (void)state;
  /* A Saturday handoff on a weekly rota is moved to the next weekday. */
  struct rota r = weekly("UTC");
  r.handoff_wday = 6;
  r.handoff_minute = 10 * 60;
  r.start = (struct kx_date){2026, 1, 3};
  struct kx_date hol[] = {{2026, 1, 12}};
  r.holidays = hol;
  r.n_holidays = 1;
  struct rota_shift sh;
  assert_int_equal(rota_shift_by_index(&r, 0, &sh), 0);
  assert_instant(sh.start_ms, "2026-01-05T10:00:00Z");
  assert_instant(sh.nominal_start_ms, "2026-01-03T10:00:00Z");
  assert_instant(sh.end_ms, "2026-01-13T10:00:00Z"); /* Monday the 12th is a holiday too */
}

static void test_long_break_skips_shifts(void **state)
{
  (void)state;
  /* Every weekday from 21 December to 1 January is a holiday: the handoffs of 21 and 28
   * December both land on Monday 4 January, so those two shifts are skipped (empty) and
   * the shift of 14 December runs on to 4 January. */
  struct kx_date hol[10];
  size_t n = 0;
  for (int d = 21; d <= 31; d++) {
    struct kx_date x = {2026, 12, d};
    if (date_weekday(x) != 0 && date_weekday(x) != 6)
      hol[n++] = x;
  }
  hol[n++] = (struct kx_date){2027, 1, 1};
  struct rota r = weekly("Europe/Berlin");
  r.holidays = hol;
  r.n_holidays = n;
  struct rota_shift sh;
  assert_int_equal(rota_shift_at(&r, T("2026-12-25T12:00:00Z"), &sh), 0);
  assert_int_equal(sh.index, 49);
  assert_instant(sh.start_ms, "2026-12-14T08:00:00Z");
  assert_instant(sh.end_ms, "2027-01-04T08:00:00Z");
  assert_int_equal(rota_shift_by_index(&r, 50, &sh), 0);
  assert_true(sh.start_ms == sh.end_ms);
  int64_t next, k;
  assert_int_equal(rota_next_handoff(&r, T("2026-12-15T00:00:00Z"), &next, &k), 0);
  assert_instant(next, "2027-01-04T08:00:00Z");
  assert_int_equal(k, 52);
  struct rota_segment *seg;
  size_t ns;
  assert_int_equal(rota_schedule(&r, NULL, 0, T("2026-12-20T00:00:00Z"), 2, &seg, &ns), 0);
  assert_int_equal(ns, 2);
  assert_int_equal(seg[0].shift_index, 49);
  assert_int_equal(seg[1].shift_index, 52);
  assert_true(seg[1].late_handoff == false);
  rota_segments_free(seg);
}

/* ---- daily and two-weekly shifts ------------------------------------------------------- */

static void test_daily_shifts(void **state)
{
  (void)state;
  struct kx_date hol[] = {{2026, 11, 25}};
  struct rota r = weekly("Europe/Berlin");
  r.shift_days = 1;
  r.handoff_wday = -1; /* ignored for daily shifts */
  r.start = (struct kx_date){2026, 11, 23};
  r.primary = P3;
  r.n_primary = 3;
  r.holidays = hol;
  r.n_holidays = 1;
  struct rota_shift sh;
  assert_int_equal(rota_shift_by_index(&r, 1, &sh), 0);
  assert_instant(sh.start_ms, "2026-11-24T08:00:00Z");
  assert_instant(sh.end_ms, "2026-11-26T08:00:00Z"); /* Wednesday's handoff is skipped */
  assert_int_equal(rota_shift_by_index(&r, 2, &sh), 0);
  assert_true(sh.start_ms == sh.end_ms);
  assert_int_equal(rota_shift_at(&r, T("2026-11-25T12:00:00Z"), &sh), 0);
  assert_int_equal(sh.index, 1);
  assert_string_equal(sh.primary, "ben");
  assert_int_equal(rota_shift_at(&r, T("2026-11-26T08:00:00Z"), &sh), 0);
  assert_int_equal(sh.index, 3);
  assert_string_equal(sh.primary, "ann"); /* order kept: cat's day fell on the holiday */
  /* Weekends are normal days for daily rotas. */
  assert_int_equal(rota_shift_at(&r, T("2026-11-28T10:00:00Z"), &sh), 0);
  assert_int_equal(sh.index, 5);
  assert_instant(sh.start_ms, "2026-11-28T08:00:00Z");
  assert_instant(sh.end_ms, "2026-11-29T08:00:00Z");
  struct rota_segment *seg;
  size_t ns;
  assert_int_equal(rota_schedule(&r, NULL, 0, T("2026-11-24T12:00:00Z"), 3, &seg, &ns), 0);
  assert_int_equal(ns, 3);
  assert_int_equal(seg[0].shift_index, 1);
  assert_int_equal(seg[1].shift_index, 3);
  assert_int_equal(seg[2].shift_index, 4);
  assert_instant(seg[2].start_ms, "2026-11-27T08:00:00Z");
  rota_segments_free(seg);
}

static void test_daily_kolkata(void **state)
{
  (void)state;
  struct rota r = weekly("Asia/Kolkata");
  r.shift_days = 1;
  r.handoff_minute = 18 * 60 + 30;
  r.start = (struct kx_date){2026, 3, 1};
  struct rota_shift sh;
  assert_int_equal(rota_shift_at(&r, T("2026-03-29T12:00:00Z"), &sh), 0);
  assert_int_equal(sh.index, 27);
  assert_instant(sh.start_ms, "2026-03-28T13:00:00Z");
  assert_instant(sh.end_ms, "2026-03-29T13:00:00Z");
}

static void test_two_week_shifts(void **state)
{
  (void)state;
  struct rota r = weekly("America/Los_Angeles");
  r.shift_days = 14;
  struct rota_shift sh;
  assert_int_equal(rota_shift_at(&r, T("2026-03-10T00:00:00Z"), &sh), 0);
  assert_int_equal(sh.index, 4);
  assert_instant(sh.start_ms, "2026-03-02T17:00:00Z");
  assert_instant(sh.end_ms, "2026-03-16T16:00:00Z");
  assert_string_equal(sh.primary, "alice");
  assert_int_equal(rota_shift_by_index(&r, 1, &sh), 0);
  assert_instant(sh.start_ms, "2026-01-19T17:00:00Z");
  assert_string_equal(sh.primary, "bob");
}

/* ---- secondaries and shadows ------------------------------------------------------------ */

static void test_secondary_modes(void **state)
{
  (void)state;
  static char *sec[] = {"xena", "yuri", "zoe"};
  static char *shadow[] = {"sam", "tia"};
  struct rota r = weekly("Europe/Berlin");
  r.shadow = shadow;
  r.n_shadow = 2;
  struct {
    enum secondary_mode mode;
    size_t n_sec;
    int64_t k;
    const char *want;
  } cases[] = {
      {SECONDARY_NEXT, 0, 0, "bob"},   {SECONDARY_NEXT, 0, 3, "alice"},
      {SECONDARY_LIST, 3, 0, "xena"},  {SECONDARY_LIST, 3, 4, "yuri"},
      {SECONDARY_LIST, 3, 5, "zoe"},   {SECONDARY_FIXED, 1, 0, "xena"},
      {SECONDARY_FIXED, 1, 7, "xena"}, {SECONDARY_NONE, 0, 2, NULL},
  };
  for (size_t i = 0; i < KX_ARRAY_SIZE(cases); i++) {
    r.secondary_mode = cases[i].mode;
    r.secondary = cases[i].n_sec ? sec : NULL;
    r.n_secondary = cases[i].n_sec;
    struct rota_shift sh;
    assert_int_equal(rota_shift_by_index(&r, cases[i].k, &sh), 0);
    if (!kx_streq(sh.secondary, cases[i].want))
      fail_msg("case %zu: secondary %s, want %s", i, sh.secondary ? sh.secondary : "(null)",
               cases[i].want ? cases[i].want : "(null)");
    assert_string_equal(sh.shadow, shadow[cases[i].k % 2]);
  }
  r.secondary_mode = SECONDARY_LIST;
  r.n_secondary = 0;
  assert_int_equal(rota_shift_by_index(&r, 0, &(struct rota_shift){0}), KX_ECONFIG);
}

/* ---- absences and overrides ----------------------------------------------------------- */

static struct rota_change absence(const char *who, const char *from, const char *to, int64_t id)
{
  return (struct rota_change){ROTA_ABSENCE, T(from), T(to), who, false, id};
}

static struct rota_change override(
    const char *who, const char *from, const char *to, bool secondary, int64_t id)
{
  return (struct rota_change){ROTA_OVERRIDE, T(from), T(to), who, secondary, id};
}

static void test_absence_covered_by_previous_primary(void **state)
{
  (void)state;
  struct rota r = weekly("Europe/Berlin");
  /* Shift 0 (alice) from Monday 5 January; alice away Tuesday to Thursday. */
  struct rota_change ch[] = {absence("alice", "2026-01-06T00:00:00Z", "2026-01-08T00:00:00Z", 7)};
  struct rota_oncall oc;
  assert_int_equal(rota_oncall_at(&r, ch, 1, T("2026-01-05T10:00:00Z"), &oc), 0);
  assert_true(oc.started);
  assert_string_equal(oc.primary.person, "alice");
  assert_int_equal(oc.primary.source, ROTA_SRC_SCHEDULE);
  assert_instant(oc.primary_until_ms, "2026-01-06T00:00:00Z");
  assert_string_equal(oc.secondary.person, "bob");
  assert_instant(oc.secondary_until_ms, "2026-01-12T08:00:00Z");
  assert_int_equal(rota_oncall_at(&r, ch, 1, T("2026-01-07T03:00:00Z"), &oc), 0);
  assert_string_equal(oc.primary.person, "dave"); /* primary[(0 - 1) mod 4] */
  assert_int_equal(oc.primary.source, ROTA_SRC_COVER);
  assert_string_equal(oc.primary.scheduled, "alice");
  assert_int_equal(oc.primary.change_id, 7);
  assert_instant(oc.primary_until_ms, "2026-01-08T00:00:00Z");
  assert_false(oc.primary_until_capped);
  assert_false(oc.secondary_until_capped);
}

static void test_chained_absences(void **state)
{
  (void)state;
  struct rota r = weekly("Europe/Berlin");
  struct rota_change ch[] = {
      absence("alice", "2026-01-06T00:00:00Z", "2026-01-09T00:00:00Z", 1),
      absence("dave", "2026-01-06T00:00:00Z", "2026-01-08T00:00:00Z", 2),
      absence("carol", "2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z", 3),
      absence("bob", "2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z", 4),
  };
  struct rota_oncall oc;
  /* Tuesday: everyone away: nobody, and the caller is told so. */
  assert_int_equal(rota_oncall_at(&r, ch, 4, T("2026-01-06T12:00:00Z"), &oc), 0);
  assert_null(oc.primary.person);
  assert_int_equal(oc.primary.source, ROTA_SRC_UNCOVERED);
  assert_int_equal(oc.primary.change_id, 1);
  assert_instant(oc.primary_until_ms, "2026-01-07T00:00:00Z");
  /* Wednesday: alice and dave away: carol (two shifts back). */
  assert_int_equal(rota_oncall_at(&r, ch, 4, T("2026-01-07T12:00:00Z"), &oc), 0);
  assert_string_equal(oc.primary.person, "carol");
  assert_int_equal(oc.primary.source, ROTA_SRC_COVER);
  assert_instant(oc.primary_until_ms, "2026-01-08T00:00:00Z");
  /* Thursday: only alice: dave again. */
  assert_int_equal(rota_oncall_at(&r, ch, 4, T("2026-01-08T12:00:00Z"), &oc), 0);
  assert_string_equal(oc.primary.person, "dave");
  assert_instant(oc.primary_until_ms, "2026-01-09T00:00:00Z");
}

static void test_override_beats_absence(void **state)
{
  (void)state;
  struct rota r = weekly("Europe/Berlin");
  struct rota_change ch[] = {
      absence("alice", "2026-01-06T00:00:00Z", "2026-01-09T00:00:00Z", 1),
      override("erin", "2026-01-07T00:00:00Z", "2026-01-08T00:00:00Z", false, 2),
      absence("erin", "2026-01-07T00:00:00Z", "2026-01-08T00:00:00Z", 3),
  };
  struct rota_oncall oc;
  assert_int_equal(rota_oncall_at(&r, ch, 3, T("2026-01-07T12:00:00Z"), &oc), 0);
  assert_string_equal(oc.primary.person, "erin"); /* even though erin is marked away */
  assert_int_equal(oc.primary.source, ROTA_SRC_OVERRIDE);
  assert_int_equal(oc.primary.change_id, 2);
  assert_instant(oc.primary_until_ms, "2026-01-08T00:00:00Z");
}

static void test_overlapping_overrides(void **state)
{
  (void)state;
  struct rota r = weekly("Europe/Berlin");
  /* The later-created (higher id) override wins, wherever it sits in the array. */
  struct rota_change ch[] = {
      override("carol", "2026-01-07T00:00:00Z", "2026-01-08T00:00:00Z", false, 9),
      override("bob", "2026-01-05T08:00:00Z", "2026-01-10T00:00:00Z", false, 5),
      override("zoe", "2026-01-06T00:00:00Z", "2026-01-11T00:00:00Z", false, 3),
  };
  struct {
    const char *at, *who, *until;
    int64_t id;
  } cases[] = {
      {"2026-01-05T09:00:00Z", "bob", "2026-01-07T00:00:00Z", 5},
      {"2026-01-07T09:00:00Z", "carol", "2026-01-08T00:00:00Z", 9},
      {"2026-01-08T09:00:00Z", "bob", "2026-01-10T00:00:00Z", 5},
      {"2026-01-10T09:00:00Z", "zoe", "2026-01-11T00:00:00Z", 3},
      {"2026-01-11T09:00:00Z", "alice", "2026-01-12T08:00:00Z", 0},
  };
  for (size_t i = 0; i < KX_ARRAY_SIZE(cases); i++) {
    struct rota_oncall oc;
    assert_int_equal(rota_oncall_at(&r, ch, 3, T(cases[i].at), &oc), 0);
    assert_string_equal(oc.primary.person, cases[i].who);
    assert_int_equal(oc.primary.change_id, cases[i].id);
    assert_instant(oc.primary_until_ms, cases[i].until);
  }
}

static void test_absent_secondary(void **state)
{
  (void)state;
  static char *sec[] = {"xena", "yuri", "zoe"};
  static char *shadow[] = {"sam"};
  struct rota r = weekly("Europe/Berlin");
  r.shadow = shadow;
  r.n_shadow = 1;
  struct rota_change ch[] = {
      absence("bob", "2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z", 1),
      absence("yuri", "2026-01-13T00:00:00Z", "2026-01-14T00:00:00Z", 2),
      absence("xena", "2026-01-13T00:00:00Z", "2026-01-14T00:00:00Z", 3),
      absence("sam", "2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z", 4),
  };
  struct rota_oncall oc;
  /* NEXT: bob is shift 0's secondary; the previous shift's secondary is alice, who holds
   * primary, so the one before: dave. */
  assert_int_equal(rota_oncall_at(&r, ch, 4, T("2026-01-06T12:00:00Z"), &oc), 0);
  assert_string_equal(oc.primary.person, "alice");
  assert_string_equal(oc.secondary.person, "dave");
  assert_int_equal(oc.secondary.source, ROTA_SRC_COVER);
  assert_instant(oc.secondary_until_ms, "2026-01-07T00:00:00Z");
  assert_null(oc.shadow); /* an absent shadow is simply not there */
  /* LIST: shift 1's secondary is yuri; xena (shift 0's) is away too: zoe. */
  r.secondary_mode = SECONDARY_LIST;
  r.secondary = sec;
  r.n_secondary = 3;
  assert_int_equal(rota_oncall_at(&r, ch, 4, T("2026-01-13T12:00:00Z"), &oc), 0);
  assert_string_equal(oc.secondary.person, "zoe");
  assert_string_equal(oc.shadow, "sam");
  /* FIXED: nobody else to ask. */
  r.secondary_mode = SECONDARY_FIXED;
  r.n_secondary = 1;
  assert_int_equal(rota_oncall_at(&r, ch, 4, T("2026-01-13T12:00:00Z"), &oc), 0);
  assert_null(oc.secondary.person);
  assert_int_equal(oc.secondary.source, ROTA_SRC_UNCOVERED);
  /* NONE: no slot, but an override of the secondary slot still puts someone there. */
  r.secondary_mode = SECONDARY_NONE;
  r.n_secondary = 0;
  r.secondary = NULL;
  struct rota_change o = override("quinn", "2026-01-06T00:00:00Z", "2026-01-07T00:00:00Z", true, 8);
  assert_int_equal(rota_oncall_at(&r, ch, 4, T("2026-01-06T12:00:00Z"), &oc), 0);
  assert_int_equal(oc.secondary.source, ROTA_SRC_NONE);
  assert_null(oc.secondary.person);
  assert_int_equal(rota_oncall_at(&r, &o, 1, T("2026-01-06T12:00:00Z"), &oc), 0);
  assert_string_equal(oc.secondary.person, "quinn");
  assert_string_equal(oc.primary.person, "alice");
}

static void test_until_spans_shifts_and_is_capped(void **state)
{
  (void)state;
  struct rota r = weekly("Europe/Berlin");
  /* alice keeps the pager for the first day of bob's week: one stretch. */
  struct rota_change ch[] = {
      override("alice", "2026-01-12T08:00:00Z", "2026-01-13T08:00:00Z", false, 1)};
  struct rota_oncall oc;
  assert_int_equal(rota_oncall_at(&r, ch, 1, T("2026-01-08T00:00:00Z"), &oc), 0);
  assert_instant(oc.primary_until_ms, "2026-01-13T08:00:00Z");
  /* One person alone never hands over: the answer is capped at the horizon. */
  r.n_primary = 1;
  r.secondary_mode = SECONDARY_NONE;
  assert_int_equal(rota_oncall_at(&r, NULL, 0, T("2026-01-08T00:00:00Z"), &oc), 0);
  assert_true(oc.primary_until_capped);
  assert_int_equal(oc.primary_until_ms, T("2026-01-08T00:00:00Z") + ROTA_UNTIL_HORIZON_MS);
  assert_true(oc.secondary_until_capped);
  assert_null(oc.secondary.person);
  /* Two people, no secondary: primary changes at the handoff, secondary never. */
  r.n_primary = 2;
  assert_int_equal(rota_oncall_at(&r, NULL, 0, T("2026-01-08T00:00:00Z"), &oc), 0);
  assert_false(oc.primary_until_capped);
  assert_instant(oc.primary_until_ms, "2026-01-12T08:00:00Z");
  assert_true(oc.secondary_until_capped);
}

/* ---- schedule ----------------------------------------------------------------------- */

static void test_schedule_segments(void **state)
{
  (void)state;
  struct rota r = weekly("Europe/Berlin");
  struct rota_change ch[] = {
      absence("alice", "2026-01-06T00:00:00Z", "2026-01-08T00:00:00Z", 1),
      override("carol", "2026-01-14T00:00:00Z", "2026-01-15T00:00:00Z", false, 2),
      absence("nobody-in-rota", "2026-01-20T00:00:00Z", "2026-01-21T00:00:00Z", 3),
  };
  struct rota_segment *seg;
  size_t n;
  assert_int_equal(rota_schedule(&r, ch, 3, T("2026-01-07T00:00:00Z"), 3, &seg, &n), 0);
  struct {
    int64_t k;
    const char *start, *end, *primary;
    enum rota_source src;
    bool shift_start;
  } want[] = {
      {0, "2026-01-05T08:00:00Z", "2026-01-06T00:00:00Z", "alice", ROTA_SRC_SCHEDULE, true},
      {0, "2026-01-06T00:00:00Z", "2026-01-08T00:00:00Z", "dave", ROTA_SRC_COVER, false},
      {0, "2026-01-08T00:00:00Z", "2026-01-12T08:00:00Z", "alice", ROTA_SRC_SCHEDULE, false},
      {1, "2026-01-12T08:00:00Z", "2026-01-14T00:00:00Z", "bob", ROTA_SRC_SCHEDULE, true},
      {1, "2026-01-14T00:00:00Z", "2026-01-15T00:00:00Z", "carol", ROTA_SRC_OVERRIDE, false},
      {1, "2026-01-15T00:00:00Z", "2026-01-19T08:00:00Z", "bob", ROTA_SRC_SCHEDULE, false},
      /* an absence of someone not on duty changes nothing: one segment */
      {2, "2026-01-19T08:00:00Z", "2026-01-26T08:00:00Z", "carol", ROTA_SRC_SCHEDULE, true},
  };
  assert_int_equal(n, KX_ARRAY_SIZE(want));
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(seg[i].shift_index, want[i].k);
    assert_instant(seg[i].start_ms, want[i].start);
    assert_instant(seg[i].end_ms, want[i].end);
    assert_string_equal(seg[i].primary.person, want[i].primary);
    assert_int_equal(seg[i].primary.source, want[i].src);
    assert_int_equal(seg[i].shift_start, want[i].shift_start);
    assert_string_equal(seg[i].manager, "mia");
  }
  rota_segments_free(seg);
  /* Before the start the schedule begins with shift 0; zero shifts give nothing. */
  assert_int_equal(rota_schedule(&r, NULL, 0, T("2025-01-01T00:00:00Z"), 1, &seg, &n), 0);
  assert_int_equal(n, 1);
  assert_instant(seg[0].start_ms, "2026-01-05T08:00:00Z");
  rota_segments_free(seg);
  assert_int_equal(rota_schedule(&r, NULL, 0, T("2026-01-07T00:00:00Z"), 0, &seg, &n), 0);
  assert_int_equal(n, 0);
  assert_null(seg);
  assert_int_equal(
      rota_schedule(&r, NULL, 0, T("2026-01-07T00:00:00Z"), ROTA_MAX_SCHEDULE_SHIFTS + 1, &seg, &n),
      KX_ETOOBIG);
}

/* Two code paths must agree: the schedule's segments and rota_oncall_at at instants inside
 * them, over pseudo-random overrides and absences (a fixed seed, so failures repeat). */
static uint32_t lcg(uint32_t *s)
{
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

static void test_schedule_agrees_with_oncall(void **state)
{
  (void)state;
  static const char *who[] = {"alice", "bob", "carol", "dave", "erin"};
  struct kx_date hol[] = {{2026, 1, 19}};
  struct rota r = weekly("America/Los_Angeles");
  r.holidays = hol;
  r.n_holidays = 1;
  int64_t base = T("2026-01-05T17:00:00Z");
  for (uint32_t seed = 1; seed <= 40; seed++) {
    uint32_t s = seed;
    struct rota_change ch[24];
    for (size_t i = 0; i < KX_ARRAY_SIZE(ch); i++) {
      int64_t from = base + (int64_t)(lcg(&s) % (42 * 24)) * MS_PER_HOUR;
      ch[i].kind = lcg(&s) % 2 ? ROTA_OVERRIDE : ROTA_ABSENCE;
      ch[i].from_ms = from;
      ch[i].to_ms = from + (int64_t)(1 + lcg(&s) % (5 * 24)) * MS_PER_HOUR;
      ch[i].person = who[lcg(&s) % 5];
      ch[i].secondary = lcg(&s) % 3 == 0;
      ch[i].id = (int64_t)(lcg(&s) % 8); /* ties happen on purpose */
    }
    struct rota_segment *seg;
    size_t n;
    assert_int_equal(rota_schedule(&r, ch, KX_ARRAY_SIZE(ch), base, 6, &seg, &n), 0);
    assert_true(n >= 6);
    assert_instant(seg[0].start_ms, "2026-01-05T17:00:00Z");
    for (size_t i = 0; i < n; i++) {
      assert_true(seg[i].start_ms < seg[i].end_ms);
      if (i + 1 < n)
        assert_int_equal(seg[i].end_ms, seg[i + 1].start_ms);
      if (i > 0)
        assert_false(seg[i].shift_start != (seg[i].shift_index != seg[i - 1].shift_index));
      int64_t probes[] = {seg[i].start_ms, seg[i].start_ms + (seg[i].end_ms - seg[i].start_ms) / 2,
                          seg[i].end_ms - 1};
      for (size_t p = 0; p < KX_ARRAY_SIZE(probes); p++) {
        struct rota_oncall oc;
        assert_int_equal(rota_oncall_at(&r, ch, KX_ARRAY_SIZE(ch), probes[p], &oc), 0);
        assert_int_equal(oc.shift.index, seg[i].shift_index);
        if (!kx_streq(oc.primary.person, seg[i].primary.person) ||
            !kx_streq(oc.secondary.person, seg[i].secondary.person) ||
            !kx_streq(oc.shadow, seg[i].shadow))
          fail_msg("seed %u segment %zu probe %zu: oncall and schedule disagree", seed, i, p);
        assert_int_equal(oc.primary.source, seg[i].primary.source);
        assert_int_equal(oc.secondary.source, seg[i].secondary.source);
        /* "until" is the start of the next segment with a different holder. */
        size_t j = i + 1, k = i + 1;
        while (j < n && kx_streq(seg[j].primary.person, seg[i].primary.person))
          j++;
        while (k < n && kx_streq(seg[k].secondary.person, seg[i].secondary.person))
          k++;
        if (j < n) {
          assert_int_equal(oc.primary_until_ms, seg[j].start_ms);
        } else {
          assert_true(oc.primary_until_ms >= seg[n - 1].end_ms);
        }
        if (k < n) {
          assert_int_equal(oc.secondary_until_ms, seg[k].start_ms);
        } else {
          assert_true(oc.secondary_until_ms >= seg[n - 1].end_ms);
        }
      }
    }
    rota_segments_free(seg);
  }
}

/* Invariants over a year of instants, with holidays: shifts tile time without gaps. */
static void test_shifts_tile_time(void **state)
{
  (void)state;
  struct kx_date hol[] = {{2026, 4, 6}, {2026, 5, 25}, {2026, 5, 26}, {2026, 12, 28}};
  const char *zones[] = {"Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata"};
  const int days[] = {1, 7, 14};
  for (size_t z = 0; z < KX_ARRAY_SIZE(zones); z++) {
    for (size_t d = 0; d < KX_ARRAY_SIZE(days); d++) {
      struct rota r = weekly(zones[z]);
      r.shift_days = days[d];
      r.holidays = hol;
      r.n_holidays = KX_ARRAY_SIZE(hol);
      int64_t prev_k = -1;
      for (int64_t t = T("2026-01-05T18:00:00Z"); t < T("2027-01-05T00:00:00Z");
           t += 13 * MS_PER_HOUR) {
        struct rota_shift sh, next;
        assert_int_equal(rota_shift_at(&r, t, &sh), 0);
        assert_true(sh.start_ms <= t && t < sh.end_ms);
        assert_true(sh.index >= prev_k);
        assert_string_equal(sh.primary, P4[sh.index % 4]);
        assert_int_equal(rota_shift_by_index(&r, sh.index + 1, &next), 0);
        assert_int_equal(next.start_ms, sh.end_ms);
        prev_k = sh.index;
      }
    }
  }
}

/* ---- business hours ----------------------------------------------------------------------- */

static void test_business_hours(void **state)
{
  (void)state;
  struct kx_date hol[] = {{2026, 11, 30}};
  struct rota r = weekly("Europe/Berlin");
  r.has_hours = true;
  r.hours_days = 0x3E;
  r.hours_start_min = 8 * 60;
  r.hours_end_min = 18 * 60;
  struct {
    const char *at;
    bool inside;
  } cases[] = {
      {"2026-11-24T10:00:00+01:00", true},  {"2026-11-24T08:00:00+01:00", true},
      {"2026-11-24T07:59:59+01:00", false}, {"2026-11-24T18:00:00+01:00", false},
      {"2026-11-24T17:59:00+01:00", true},  {"2026-11-28T10:00:00+01:00", false},
      {"2026-11-29T10:00:00+01:00", false}, {"2026-11-30T10:00:00+01:00", true},
  };
  for (size_t i = 0; i < KX_ARRAY_SIZE(cases); i++)
    if (rota_in_business_hours(&r, T(cases[i].at)) != cases[i].inside)
      fail_msg("case %zu (%s): want %d", i, cases[i].at, cases[i].inside);
  r.holidays = hol;
  r.n_holidays = 1;
  assert_false(rota_in_business_hours(&r, T("2026-11-30T10:00:00+01:00")));
  struct {
    const char *at, *next;
  } next_cases[] = {
      /* Friday evening, Monday a holiday: Tuesday 08:00. */
      {"2026-11-27T18:30:00+01:00", "2026-12-01T07:00:00Z"},
      {"2026-11-24T06:00:00+01:00", "2026-11-24T07:00:00Z"},
      {"2026-11-24T11:11:00+01:00", "2026-11-24T10:11:00Z"}, /* inside: itself */
      {"2026-11-24T18:00:00+01:00", "2026-11-25T07:00:00Z"},
      /* Friday before the spring-forward weekend: Monday 08:00 CEST. */
      {"2026-03-27T19:00:00+01:00", "2026-03-30T06:00:00Z"},
  };
  for (size_t i = 0; i < KX_ARRAY_SIZE(next_cases); i++) {
    int64_t next;
    assert_int_equal(rota_next_business_start(&r, T(next_cases[i].at), &next), 0);
    assert_instant(next, next_cases[i].next);
  }
  /* Without configured hours: Mon–Fri 08:00–18:00. */
  r.has_hours = false;
  r.n_holidays = 0;
  assert_true(rota_in_business_hours(&r, T("2026-11-30T10:00:00+01:00")));
  assert_false(rota_in_business_hours(&r, T("2026-11-29T10:00:00+01:00")));
  int64_t next;
  assert_int_equal(rota_next_business_start(&r, T("2026-11-28T10:00:00+01:00"), &next), 0);
  assert_instant(next, "2026-11-30T07:00:00Z");
  /* No business day at all. */
  r.has_hours = true;
  r.hours_days = 0;
  assert_false(rota_in_business_hours(&r, T("2026-11-30T10:00:00+01:00")));
  assert_int_equal(rota_next_business_start(&r, T("2026-11-28T10:00:00+01:00"), &next),
                   KX_ENOTFOUND);
  r.hours_days = 0x3E;
  r.hours_end_min = r.hours_start_min;
  assert_int_equal(rota_next_business_start(&r, T("2026-11-28T10:00:00+01:00"), &next), KX_ECONFIG);
}

/* ---- FROM/TO ------------------------------------------------------------------------------ */

static void test_parse_time(void **state)
{
  (void)state;
  struct rota r = weekly("Europe/Berlin");
  struct {
    const char *text;
    bool is_end;
    const char *want; /* NULL: refused */
  } cases[] = {
      {"2026-12-01", false, "2026-11-30T23:00:00Z"},
      {"2026-12-01", true, "2026-12-01T23:00:00Z"},
      {"  2026-12-01 ", false, "2026-11-30T23:00:00Z"},
      {"2026-12-01 14:00", false, "2026-12-01T13:00:00Z"},
      {"2026-12-01T14:00", true, "2026-12-01T13:00:00Z"},
      {"2026-12-01t14:00:30", false, "2026-12-01T13:00:30Z"},
      {"2026-07-01 14:00", false, "2026-07-01T12:00:00Z"},
      {"2026-03-29", true, "2026-03-29T22:00:00Z"},
      {"2026-12-01T14:00:00+05:30", false, "2026-12-01T08:30:00Z"},
      {"2026-12-01T14:00:00Z", false, "2026-12-01T14:00:00Z"},
      {"2026-12-31", true, "2026-12-31T23:00:00Z"},
      {"2026-13-01", false, NULL},
      {"2026-02-30", false, NULL},
      {"2026-12-01 24:00", false, NULL},
      {"2026-12-01 14:60", false, NULL},
      {"2026-12-01 14", false, NULL},
      {"2026-12-01T14:00Z", false, NULL},
      {"tomorrow", false, NULL},
      {"", false, NULL},
      {"1969-12-31", false, NULL},
      {"2026-12-01 14:00 and then some text that goes on and on and on and on", false, NULL},
  };
  for (size_t i = 0; i < KX_ARRAY_SIZE(cases); i++) {
    int64_t ms = 0;
    int rc = rota_parse_time(&r, cases[i].text, cases[i].is_end, &ms);
    if (!cases[i].want) {
      if (rc != KX_EINVAL)
        fail_msg("case %zu (%s): accepted", i, cases[i].text);
      continue;
    }
    if (rc != 0)
      fail_msg("case %zu (%s): refused (%d)", i, cases[i].text, rc);
    assert_instant(ms, cases[i].want);
  }
  int64_t f, t;
  assert_int_equal(rota_parse_range(&r, "2026-12-01", "2026-12-03", &f, &t), 0);
  assert_instant(f, "2026-11-30T23:00:00Z");
  assert_instant(t, "2026-12-03T23:00:00Z");
  assert_int_equal(rota_parse_range(&r, "2026-12-01", "2026-12-01", &f, &t), 0);
  assert_int_equal(t - f, MS_PER_DAY);
  assert_int_equal(rota_parse_range(&r, "2026-12-03", "2026-12-01", &f, &t), KX_EINVAL);
  assert_int_equal(rota_parse_range(&r, "2026-12-01 15:00", "2026-12-01 15:00", &f, &t), KX_EINVAL);
  assert_int_equal(rota_parse_time(&r, NULL, false, &f), KX_EINVAL);
}

/* ---- swaps -------------------------------------------------------------------------------- */

static void test_swap_plan(void **state)
{
  (void)state;
  struct rota r = weekly("Europe/Berlin");
  struct rota_change plan[2];
  int64_t j;
  /* bob has shift 1; alice takes it and gives bob her next own shift, shift 4. */
  assert_int_equal(rota_swap_plan(&r, "alice", "bob", 1, plan, &j), 0);
  assert_int_equal(j, 4);
  assert_int_equal(plan[0].kind, ROTA_OVERRIDE);
  assert_string_equal(plan[0].person, "alice");
  assert_instant(plan[0].from_ms, "2026-01-12T08:00:00Z");
  assert_instant(plan[0].to_ms, "2026-01-19T08:00:00Z");
  assert_string_equal(plan[1].person, "bob");
  assert_instant(plan[1].from_ms, "2026-02-02T08:00:00Z");
  assert_instant(plan[1].to_ms, "2026-02-09T08:00:00Z");
  plan[0].id = 1;
  plan[1].id = 2;
  struct rota_oncall oc;
  assert_int_equal(rota_oncall_at(&r, plan, 2, T("2026-01-14T00:00:00Z"), &oc), 0);
  assert_string_equal(oc.primary.person, "alice");
  assert_int_equal(rota_oncall_at(&r, plan, 2, T("2026-02-04T00:00:00Z"), &oc), 0);
  assert_string_equal(oc.primary.person, "bob");
  assert_int_equal(rota_swap_plan(&r, "alice", "carol", 1, plan, &j), KX_EINVAL);
  assert_int_equal(rota_swap_plan(&r, "bob", "bob", 1, plan, &j), KX_EINVAL);
  assert_int_equal(rota_swap_plan(&r, "erin", "bob", 1, plan, &j), KX_ENOTFOUND);
  assert_int_equal(rota_swap_plan(&r, "alice", "bob", -3, plan, &j), KX_EINVAL);
}

/* ---- bad input ----------------------------------------------------------------------- */

static void test_bad_input(void **state)
{
  (void)state;
  struct rota r = weekly("Europe/Berlin");
  struct rota_shift sh;
  struct rota_oncall oc;
  int64_t at = T("2026-02-01T00:00:00Z");
  struct rota bad = r;
  bad.timezone = "Mars/Olympus_Mons";
  assert_int_equal(rota_shift_at(&bad, at, &sh), KX_ECONFIG);
  assert_non_null(rota_problem(&bad));
  bad = r;
  bad.n_primary = 0;
  assert_int_equal(rota_oncall_at(&bad, NULL, 0, at, &oc), KX_ECONFIG);
  bad = r;
  bad.shift_days = 0;
  assert_int_equal(rota_shift_at(&bad, at, &sh), KX_ECONFIG);
  bad = r;
  bad.start = (struct kx_date){2026, 2, 31};
  assert_int_equal(rota_shift_at(&bad, at, &sh), KX_ECONFIG);
  bad = r;
  bad.handoff_minute = 24 * 60;
  assert_int_equal(rota_shift_at(&bad, at, &sh), KX_ECONFIG);
  assert_null(rota_problem(&r));
  assert_int_equal(rota_shift_at(NULL, at, &sh), KX_ECONFIG);
  assert_int_equal(rota_shift_at(&r, -1, &sh), KX_EINVAL);
  assert_int_equal(rota_shift_at(&r, INT64_MAX, &sh), KX_EINVAL);
  assert_int_equal(rota_shift_by_index(&r, -1, &sh), KX_EINVAL);
  assert_int_equal(rota_shift_by_index(&r, INT64_MAX / 2, &sh), KX_EINVAL);
  struct rota_change ch = absence("alice", "2026-01-08T00:00:00Z", "2026-01-06T00:00:00Z", 1);
  assert_int_equal(rota_oncall_at(&r, &ch, 1, at, &oc), KX_EINVAL);
  ch = absence("alice", "2026-01-06T00:00:00Z", "2026-01-08T00:00:00Z", 1);
  ch.person = NULL;
  assert_int_equal(rota_oncall_at(&r, &ch, 1, at, &oc), KX_EINVAL);
  ch.person = "alice";
  ch.kind = (enum rota_change_kind)42;
  assert_int_equal(rota_oncall_at(&r, &ch, 1, at, &oc), KX_EINVAL);
  assert_int_equal(rota_oncall_at(&r, NULL, 3, at, &oc), KX_EINVAL);
  assert_int_equal(rota_oncall_at(&r, &ch, ROTA_MAX_CHANGES + 1, at, &oc), KX_ETOOBIG);
  assert_false(rota_in_business_hours(NULL, at));
}

static int report(void **state)
{
  (void)state;
  printf("exact-instant assertions: %d\n", n_instants);
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shift_boundaries),
      cmocka_unit_test(test_dst_mondays_exact),
      cmocka_unit_test(test_before_start),
      cmocka_unit_test(test_start_aligned_to_handoff_weekday),
      cmocka_unit_test(test_holiday_monday_moves_to_tuesday),
      cmocka_unit_test(test_holiday_monday_and_tuesday_moves_to_wednesday),
      cmocka_unit_test(test_weekend_handoff_moves_to_monday),
      cmocka_unit_test(test_long_break_skips_shifts),
      cmocka_unit_test(test_daily_shifts),
      cmocka_unit_test(test_daily_kolkata),
      cmocka_unit_test(test_two_week_shifts),
      cmocka_unit_test(test_secondary_modes),
      cmocka_unit_test(test_absence_covered_by_previous_primary),
      cmocka_unit_test(test_chained_absences),
      cmocka_unit_test(test_override_beats_absence),
      cmocka_unit_test(test_overlapping_overrides),
      cmocka_unit_test(test_absent_secondary),
      cmocka_unit_test(test_until_spans_shifts_and_is_capped),
      cmocka_unit_test(test_schedule_segments),
      cmocka_unit_test(test_schedule_agrees_with_oncall),
      cmocka_unit_test(test_shifts_tile_time),
      cmocka_unit_test(test_business_hours),
      cmocka_unit_test(test_parse_time),
      cmocka_unit_test(test_swap_plan),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, report);
}
