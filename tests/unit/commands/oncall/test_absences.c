/* The HR calendar's feed read with libical (commands/oncall/absences.c): who an event names,
 * all-day events as whole days in the rota's zone with DTEND exclusive, recurrences expanded
 * with EXDATE, time zones from VTIMEZONE, floating times in the rota's zone, cancelled events
 * and strangers left out, and refusals that say why. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdlib.h>
#include <string.h>

#include "bot/config/config_load.h"
#include "commands/oncall/absences.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

static const char CONFIG[] =
    "timezone: UTC\n"
    "people: [{id: alice, name: Alice Doe, email: alice@example.com},\n"
    "         {id: bob, email: bob@example.com}, {id: carol, slack: U0CAROL001}]\n"
    "rotas: [{name: r, timezone: Europe/Berlin, start: 2026-11-23, primary: [alice, bob, carol]}]\n"
    "severities: [{name: P1}]\n";

static struct config *cfg(void)
{
  struct config_problems pr;
  struct config *c = config_load_string(CONFIG, strlen(CONFIG), "t.yaml", &pr);
  config_problems_free(&pr);
  assert_non_null(c);
  return c;
}

static int64_t at(const char *rfc3339)
{
  int64_t ms = 0;
  assert_int_equal(time_parse_rfc3339(rfc3339, &ms), 0);
  return ms;
}

#define CAL(body) \
  "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" body "END:VCALENDAR\r\n"

static void test_who_and_when(void **state)
{
  (void)state;
  struct config *c = cfg();
  static const char ics[] =
      CAL("BEGIN:VEVENT\r\nUID:a\r\nDTSTART;VALUE=DATE:20261201\r\nDTEND;VALUE=DATE:20261203\r\n"
          "ATTENDEE:mailto:BOB@Example.com\r\nSUMMARY:OOO\r\nEND:VEVENT\r\n"
          "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20261205T090000\r\nDTEND:20261205T120000\r\n"
          "SUMMARY:Alice Doe - dentist\r\nEND:VEVENT\r\n"
          "BEGIN:VEVENT\r\nUID:c\r\nDTSTART;VALUE=DATE:20261210\r\nSUMMARY:carol\r\n"
          "STATUS:CANCELLED\r\nEND:VEVENT\r\n"
          "BEGIN:VEVENT\r\nUID:d\r\nDTSTART;VALUE=DATE:20261210\r\nSUMMARY:Caroline's party\r\n"
          "END:VEVENT\r\n"
          "BEGIN:VEVENT\r\nUID:e\r\nDTSTART;VALUE=DATE:20261211\r\n"
          "ATTENDEE:mailto:zed@elsewhere.example\r\nEND:VEVENT\r\n");
  struct absence_list l;
  char why[160];
  assert_int_equal(absences_parse(c, ics, at("2026-11-24T09:00:00Z"), &l, why, sizeof(why)), 0);
  assert_int_equal(l.n, 2);
  /* Whole days in the rota's zone (Berlin), DTEND exclusive. */
  assert_string_equal(l.v[0].person, "bob");
  assert_int_equal(l.v[0].from_ms, at("2026-12-01T00:00:00+01:00"));
  assert_int_equal(l.v[0].to_ms, at("2026-12-03T00:00:00+01:00"));
  assert_string_equal(l.v[0].uid, "a");
  /* A floating time is wall time in the rota's zone; the name matched as whole words. */
  assert_string_equal(l.v[1].person, "alice");
  assert_int_equal(l.v[1].from_ms, at("2026-12-05T09:00:00+01:00"));
  assert_int_equal(l.v[1].to_ms, at("2026-12-05T12:00:00+01:00"));
  absence_list_free(&l);
  config_free(c);
}

static void test_recurrence_in_a_zone(void **state)
{
  (void)state;
  struct config *c = cfg();
  static const char ics[] =
      CAL("BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n"
          "BEGIN:STANDARD\r\nDTSTART:19701101T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n"
          "TZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\n"
          "BEGIN:DAYLIGHT\r\nDTSTART:19700308T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n"
          "TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
          "BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=America/New_York:20261201T080000\r\n"
          "DTEND;TZID=America/New_York:20261201T100000\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\n"
          "EXDATE;TZID=America/New_York:20261208T080000\r\nORGANIZER:mailto:alice@example.com\r\n"
          "END:VEVENT\r\n");
  struct absence_list l;
  char why[160];
  assert_int_equal(absences_parse(c, ics, at("2026-11-24T09:00:00Z"), &l, why, sizeof(why)), 0);
  assert_int_equal(l.n, 3); /* four weeks, one excluded */
  assert_int_equal(l.v[0].from_ms, at("2026-12-01T13:00:00Z"));
  assert_int_equal(l.v[0].to_ms, at("2026-12-01T15:00:00Z"));
  assert_int_equal(l.v[1].from_ms, at("2026-12-15T13:00:00Z"));
  assert_int_equal(l.v[2].from_ms, at("2026-12-22T13:00:00Z"));
  absence_list_free(&l);
  config_free(c);
}

static void test_refusals(void **state)
{
  (void)state;
  struct config *c = cfg();
  struct absence_list l;
  char why[160];
  assert_int_equal(absences_parse(c, "hello", 0, &l, why, sizeof(why)), KX_EPROTO);
  assert_non_null(strstr(why, "iCalendar"));
  /* A daily event without end is expanded only over the horizon. */
  static const char forever[] =
      CAL("BEGIN:VEVENT\r\nUID:f\r\nDTSTART;VALUE=DATE:20261125\r\n"
          "RRULE:FREQ=DAILY\r\nSUMMARY:bob away\r\nEND:VEVENT\r\n");
  assert_int_equal(absences_parse(c, forever, at("2026-11-24T09:00:00Z"), &l, why, sizeof(why)), 0);
  assert_true(l.n >= ABSENCES_HORIZON_DAYS - 1 && l.n <= ABSENCES_HORIZON_DAYS + 1);
  absence_list_free(&l);
  config_free(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_who_and_when),
      cmocka_unit_test(test_recurrence_in_a_zone),
      cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
