/* The monthly report's numbers (commands/report/report.h) over a month of rows written through
 * storage/ on an in-memory database: every figure checked against values worked out by hand
 * in the comments; the renderers' escaping; the first working day the monthly job is due. */
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

#include "commands/core/command.h"
#include "commands/report/report.h"
#include "lib/kx.h"
#include "lib/timeutil.h"
#include "storage/incident_actions.h"
#include "storage/incidents.h"
#include "storage/jobs.h"
#include "storage/pages.h"
#include "storage/rota_changes.h"
#include "tests/unit/fixture.h"

static const char CONFIG[] =
    "timezone: Europe/Berlin\n"
    "slack: {handoff_channel: C0ONCALL01}\n"
    "people:\n"
    "  - {id: alice, slack: U0ALICE001}\n"
    "  - {id: bob, slack: U0BOB00001}\n"
    "  - {id: carol, slack: U0CAROL001}\n"
    "  - {id: erin, slack: U0ERIN0001, email: erin@example.com}\n"
    "rotas:\n"
    "  - {name: platform, start: 2026-11-02, handoff: monday 09:00, primary: [alice, bob],\n"
    "     secondary: next, manager: erin, holidays: [2027-01-01]}\n"
    "severities:\n"
    "  - {name: P1, ack: 5m, resolve: 4h, page: [primary]}\n"
    "  - {name: P2, page: [primary]}\n"
    "default_severity: P2\n"
    "targets: {mtta: 10m, mttr: 8h}\n"
    "postmortem: {due: 24h}\n";

static int64_t at(const char *local)
{
  return fx_at(local);
}

static int64_t page(struct fx *f,
                    const char *sev,
                    const char *title,
                    const char *created,
                    int64_t ack_after_s,
                    const char *reason,
                    const char *who,
                    bool after_hours)
{
  int64_t t = at(created), id = 0;
  struct page_row p = {.kind = "page",
                       .rota = "platform",
                       .severity = (char *)sev,
                       .title = (char *)title,
                       .source = "webhook",
                       .created_at = t,
                       .anchor_at = t};
  assert_int_equal(pages_add(f->db, &p, &id), 0);
  struct page_copy_new c = {.page_id = id,
                            .kind = "dm",
                            .person = who,
                            .dest = "U0",
                            .step = -1,
                            .after_hours = after_hours,
                            .now_ms = t};
  assert_int_equal(page_copies_add(f->db, &c, NULL), 0);
  if (ack_after_s >= 0)
    assert_int_equal(pages_ack(f->db, id, who, t + ack_after_s * 1000), 0);
  if (reason)
    assert_int_equal(pages_resolve(f->db, id, who, reason, t + 3600 * 1000), 0);
  return id;
}

static int64_t incident(struct fx *f,
                        const char *sev,
                        const char *rota,
                        bool drill,
                        const char *declared,
                        const char *impact,
                        const char *resolved,
                        const char *pm_done)
{
  int64_t id = 0;
  struct incident_create n = {.title = "x",
                              .severity = sev,
                              .platform = "slack",
                              .declared_by = "alice",
                              .rota = rota,
                              .drill = drill,
                              .declared_at = at(declared),
                              .impact_start_at = impact ? at(impact) : 0};
  assert_int_equal(incidents_create(f->db, &n, &id), 0);
  if (resolved)
    assert_int_equal(incidents_set_time(f->db, id, INCIDENT_F_RESOLVED_AT, at(resolved)), 0);
  if (pm_done)
    assert_int_equal(incidents_set_time(f->db, id, INCIDENT_F_POSTMORTEM_DONE_AT, at(pm_done)), 0);
  return id;
}

static int setup(void **state)
{
  struct fx *f = fx_new(CONFIG, "2026-12-02T10:00:00+01:00");
  /* pages: two DiskFull (P1, acknowledged after 120 s and 300 s; one false positive), one
   * with a title that needs escaping (never acknowledged), one in October (left out) */
  page(f, "P1", "DiskFull", "2026-11-03T10:00:00+01:00", 120, "false_positive", "alice", false);
  page(f, "P1", "DiskFull", "2026-11-05T22:00:00+01:00", 300, "fixed", "bob", true);
  page(f, "P2", "<b>Odd & \"quoted\"</b>", "2026-11-06T10:00:00+01:00", -1, NULL, "alice", false);
  page(f, "P1", "Old", "2026-10-30T10:00:00+01:00", 60, "fixed", "alice", false);
  page(f, "P2", "=HYPERLINK(\"http://x\")", "2026-11-07T10:00:00+01:00", -1, NULL, "bob", false);
  /* incidents: P1 (impact 10 min before, resolved after an hour, postmortem in time); P2 still
   * open; a drill (left out); an October P1 resolved in November without a postmortem */
  int64_t i1 =
      incident(f, "P1", "platform", false, "2026-11-10T10:00:00+01:00", "2026-11-10T09:50:00+01:00",
               "2026-11-10T11:00:00+01:00", "2026-11-10T12:00:00+01:00");
  incident(f, "P2", NULL, false, "2026-11-20T10:00:00+01:00", NULL, NULL, NULL);
  incident(f, "P1", "platform", true, "2026-11-21T10:00:00+01:00", NULL,
           "2026-11-21T10:30:00+01:00", NULL);
  int64_t i4 = incident(f, "P1", "platform", false, "2026-10-31T20:00:00+01:00", NULL,
                        "2026-11-01T02:00:00+01:00", NULL);
  /* action items: one opened and done in November; one from October still open (overdue) */
  assert_int_equal(incident_actions_add(f->db, i1, "bob", "canary", "alice",
                                        at("2026-11-10T11:00:00+01:00"), NULL),
                   0);
  assert_int_equal(incident_actions_done(f->db, i1, 1, "bob", at("2026-11-11T11:00:00+01:00")), 0);
  assert_int_equal(
      incident_actions_add(f->db, i4, "bob", "old", "alice", at("2026-10-31T20:30:00+01:00"), NULL),
      0);
  /* carol overrides the primary on 4 November 12:00-18:00 */
  struct rota_change_new ov = {.rota = "platform",
                               .kind = ROTA_CHANGE_OVERRIDE,
                               .person = "carol",
                               .from_ms = at("2026-11-04T12:00:00+01:00"),
                               .to_ms = at("2026-11-04T18:00:00+01:00"),
                               .created_by = "erin",
                               .now_ms = f->t0};
  assert_int_equal(rota_changes_add(f->db, &ov, NULL), 0);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fx_free(*state);
  return 0;
}

static const struct report_hours *hours_of(const struct report *r, const char *who)
{
  for (size_t i = 0; i < r->n_hours; i++)
    if (strcmp(r->hours[i].person, who) == 0)
      return &r->hours[i];
  return NULL;
}

static void test_numbers(void **state)
{
  struct fx *f = *state;
  struct report r;
  assert_int_equal(report_compute(&f->ctx, 2026, 11, &r), 0);
  assert_int_equal(r.from_ms, at("2026-11-01T00:00:00+01:00"));
  assert_int_equal(r.to_ms, at("2026-12-01T00:00:00+01:00"));
  /* incidents: the drill and October's are left out */
  assert_int_equal(r.incidents, 2);
  assert_int_equal(r.n_sev, 2);
  assert_int_equal(r.sev[0].incidents, 1);
  assert_int_equal(r.sev[1].incidents, 1);
  assert_int_equal(r.n_service, 2);
  /* MTTR/MTTD of P1: 1 h, 10 min; targets: the severity's (4h), else targets.mttr (8h) */
  assert_int_equal(r.sev[0].mttr.mean_ms, 3600 * 1000);
  assert_int_equal(r.sev[0].mttr.target_ms, 4 * 3600 * 1000);
  assert_int_equal(r.sev[1].mttr.target_ms, 8 * 3600 * 1000);
  assert_int_equal(r.sev[1].mttr.mean_ms, -1); /* still open */
  assert_int_equal(r.sev[0].mttd.mean_ms, 600 * 1000);
  assert_int_equal(r.mttr.mean_ms, 3600 * 1000);
  /* MTTA from pages: (120 + 300) / 2; P1's target is its ack: 5m; all: targets.mtta */
  assert_int_equal(r.sev[0].mtta.mean_ms, 210 * 1000);
  assert_int_equal(r.sev[0].mtta.target_ms, 300 * 1000);
  assert_int_equal(r.mtta.mean_ms, 210 * 1000);
  assert_int_equal(r.mtta.target_ms, 600 * 1000);
  assert_int_equal(r.sev[1].mtta.mean_ms, -1);
  /* MTBF: (30 d - impact) / 2; impact 70 min + the open P2 from 20 Nov 10:00 to month end */
  int64_t down =
      70 * 60 * 1000LL + (at("2026-12-01T00:00:00+01:00") - at("2026-11-20T10:00:00+01:00"));
  assert_int_equal(r.downtime_ms, down);
  assert_int_equal(r.mtbf_ms, (30 * MS_PER_DAY - down) / 2);
  /* pages */
  assert_int_equal(r.pages.pages, 4);
  assert_int_equal(r.pages_after_hours, 1);
  assert_int_equal(r.n_person, 2);
  assert_string_equal(r.by_person[0].name, "alice");
  assert_int_equal(r.by_person[0].total, 2);
  assert_int_equal(r.by_person[1].total, 2);
  assert_int_equal(r.by_person[1].after_hours, 1);
  /* noisiest: DiskFull first, half false positives, 210 s to acknowledge */
  assert_int_equal(r.n_alerts, 3);
  assert_string_equal(r.alerts[0].name, "DiskFull");
  assert_int_equal(r.alerts[0].pages, 2);
  assert_int_equal(r.alerts[0].false_positive, 1);
  assert_int_equal(r.alerts[0].with_reason, 2);
  assert_int_equal(r.alerts[0].ack_ms_sum / r.alerts[0].acked, 210 * 1000);
  /* hours: the rota starts 2 Nov 09:00; alice has 2 weeks + 15 h less carol's 6 h */
  const struct report_hours *a = hours_of(&r, "alice"), *b = hours_of(&r, "bob"),
                            *c = hours_of(&r, "carol");
  assert_non_null(a);
  assert_non_null(b);
  assert_non_null(c);
  assert_int_equal(a->primary_ms, (2 * 168 + 15 - 6) * MS_PER_HOUR);
  assert_int_equal(c->primary_ms, 6 * MS_PER_HOUR);
  assert_int_equal(b->primary_ms, 2 * 168 * MS_PER_HOUR);
  assert_int_equal(b->secondary_ms, (2 * 168 + 15) * MS_PER_HOUR);
  assert_int_equal(a->secondary_ms, 2 * 168 * MS_PER_HOUR);
  /* action items and postmortems */
  assert_int_equal(r.actions_opened, 1);
  assert_int_equal(r.actions_done, 1);
  assert_int_equal(r.actions_overdue, 1);
  assert_int_equal(r.postmortems_owed, 2);
  assert_int_equal(r.postmortems_late, 1);
  assert_int_equal(r.n_late, 1);
  assert_int_equal(r.late_ids[0], 4);
  report_free(&r);
}

static void test_renderers_escape(void **state)
{
  struct fx *f = *state;
  struct report r;
  assert_int_equal(report_compute(&f->ctx, 2026, 11, &r), 0);
  struct buf b;
  buf_init(&b, REPORT_HTML_MAX);
  assert_int_equal(report_html(&f->ctx, &r, &b), 0);
  assert_non_null(strstr(b.data, "&lt;b&gt;Odd &amp; &quot;quoted&quot;&lt;/b&gt;"));
  assert_null(strstr(b.data, "<b>Odd"));
  assert_null(strstr(b.data, "<script"));
  assert_non_null(strstr(b.data, "<svg"));
  buf_free(&b);
  buf_init(&b, 1 << 20);
  assert_int_equal(report_csv(&f->ctx, &r, &b), 0);
  assert_non_null(strstr(b.data, "\"<b>Odd & \"\"quoted\"\"</b>\",\"pages\",1.000\r\n"));
  assert_non_null(strstr(b.data, "\"'=HYPERLINK(\"\"http://x\"\")\",\"pages\""));
  assert_null(strstr(b.data, "\"=HYPERLINK"));
  buf_free(&b);
  cJSON *j = report_json(&f->ctx, &r);
  assert_non_null(j);
  char *text = cJSON_PrintUnformatted(j);
  assert_non_null(strstr(text, "\"overdue\":1"));
  free(text);
  cJSON_Delete(j);
  report_free(&r);
}

static void test_months_and_send_day(void **state)
{
  struct fx *f = *state;
  int y, m;
  assert_int_equal(report_parse_month("2026-11", &y, &m), 0);
  assert_int_equal(y * 100 + m, 202611);
  const char *bad[] = {"2026-13", "2026-1", "26-11", "2026/11", "2026-11x", "", "abcd-ef"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
    assert_int_equal(report_parse_month(bad[i], &y, &m), KX_EINVAL);
  assert_int_equal(report_last_month(f->c, at("2027-01-01T00:30:00+01:00"), &y, &m), 0);
  assert_int_equal(y * 100 + m, 202612);
  int64_t t;
  /* Tuesday 1 December; 1 August is a Saturday: Monday the 3rd (CEST); 1 January 2027 is a
   * holiday of the rota: Monday the 4th */
  assert_int_equal(report_send_at(f->c, 2026, 12, &t), 0);
  assert_int_equal(t, at("2026-12-01T08:00:00+01:00"));
  assert_int_equal(report_send_at(f->c, 2026, 8, &t), 0);
  assert_int_equal(t, at("2026-08-03T08:00:00+02:00"));
  assert_int_equal(report_send_at(f->c, 2027, 1, &t), 0);
  assert_int_equal(t, at("2027-01-04T08:00:00+01:00"));
  struct report r;
  assert_int_equal(report_compute(&f->ctx, 2026, 0, &r), KX_EINVAL);
}

/* The start-up task schedules the job once; the job writes one post (the summary in sections
 * under Block Kit's limit) and one email with the page attached, and schedules the next. */
static void test_monthly_job(void **state)
{
  struct fx *f = *state;
  f->ctx.now_ms = at("2026-11-20T10:00:00+01:00");
  assert_int_equal(report_startup(&f->ctx), 0);
  assert_int_equal(report_startup(&f->ctx), 0);
  struct job j;
  int done = -1;
  assert_int_equal(jobs_get(f->db, "report.monthly:2026-12", &j, &done), 0);
  assert_int_equal(done, 0);
  assert_int_equal(j.due_at, at("2026-12-01T08:00:00+01:00"));
  assert_string_equal(j.ref, "2026-11");
  assert_int_equal(fx_count(f, "SELECT count(*) FROM jobs WHERE kind = 'report.monthly'"), 1);
  f->ctx.now_ms = j.due_at;
  assert_int_equal(report_job_monthly(&f->ctx, &j), 0);
  job_clear(&j);
  assert_int_equal(fx_count(f,
                            "SELECT count(*) FROM outbox WHERE method = 'chat.postMessage' AND"
                            " body LIKE '%Monthly report: November 2026%'"),
                   1);
  assert_int_equal(fx_count(f,
                            "SELECT count(*) FROM outbox WHERE method = 'email.send' AND body"
                            " LIKE '%erin@example.com%klaxon-report-2026-11.html%'"),
                   1);
  /* No block over Slack's 3000 characters (each engine's own JSON functions). */
  assert_int_equal(
      fx_count(f, db_is_postgres(f->db)
                      ? "SELECT count(*) FROM outbox o, json_array_elements("
                        "o.body::json -> 'blocks') b WHERE o.method ="
                        " 'chat.postMessage' AND length(b::text) > 3000"
                      : "SELECT count(*) FROM outbox o, json_each(o.body, '$.blocks') b"
                        " WHERE o.method = 'chat.postMessage' AND length(b.value) > 3000"),
      0);
  assert_int_equal(jobs_get(f->db, "report.monthly:2027-01", &j, &done), 0);
  assert_int_equal(j.due_at, at("2027-01-04T08:00:00+01:00")); /* 1 January is a holiday */
  job_clear(&j);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_renderers_escape, setup, teardown),
      cmocka_unit_test_setup_teardown(test_months_and_send_day, setup, teardown),
      cmocka_unit_test_setup_teardown(test_monthly_job, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
