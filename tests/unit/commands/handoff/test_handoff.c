/* The handoff on a real in-memory database with a chosen `now`: the handoffs table (exactly
 * once), working days and the times derived from them (Berlin, Los Angeles, UTC, holidays,
 * DST), the handoff job on time / late / missed, start-up scheduling, the "I have the pager"
 * button, the manager notice, the reminder, the digest, and notes from the handoff thread. */
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

#include "bot/config/config_load.h"
#include "commands/core/command.h"
#include "commands/handoff/handoff.h"
#include "lib/kx.h"
#include "lib/timeutil.h"
#include "storage/db_internal.h"
#include "storage/handoffs.h"
#include "storage/incident_actions.h"
#include "storage/incidents.h"
#include "storage/jobs.h"
#include "storage/notes.h"
#include "storage/rota_changes.h"
#include "tests/unit/fixture.h"

static const char CONFIG[] =
    "timezone: Europe/Berlin\n"
    "slack: {handoff_channel: C0ONCALL01}\n"
    "people:\n"
    "  - {id: alice, slack: U0ALICE001}\n"
    "  - {id: bob, slack: U0BOB00001}\n"
    "  - {id: carol, slack: U0CAROL001}\n"
    "  - {id: dave, slack: U0DAVE0001}\n"
    "  - {id: erin, slack: U0ERIN0001}\n"
    "rotas:\n"
    "  - {name: platform, start: 2026-11-23, primary: [alice, bob, carol, dave], secondary: next,\n"
    "     manager: erin, holidays: [2026-12-28, 2027-01-01]}\n"
    "  - {name: web, timezone: America/Los_Angeles, start: 2026-11-23, primary: [carol, dave],\n"
    "     hours: 'mon,wed,fri 09:00-17:00'}\n"
    "  - {name: utc, timezone: UTC, shift: 1d, handoff: '06:30', start: 2026-11-23,\n"
    "     primary: [alice, bob]}\n"
    "severities:\n"
    "  - {name: P1, page: [primary]}\n"
    "handoff: {ack_timeout: 10m}\n";

static int64_t at(const char *rfc3339)
{
  return fx_at(rfc3339);
}

static int setup(void **state)
{
  *state = fx_new(CONFIG, "2026-11-30T08:00:00+01:00");
  return 0;
}

static int teardown(void **state)
{
  fx_free(*state);
  return 0;
}

static int64_t count(struct fx *f, const char *sql)
{
  return fx_count(f, sql);
}

static int64_t posts_to(struct fx *f, const char *dest)
{
  char sql[256];
  snprintf(sql, sizeof(sql),
           "SELECT count(*) FROM outbox WHERE method = 'chat.postMessage' AND queue = '%s'", dest);
  return count(f, sql);
}

/* The text of the newest post to dest (the body JSON), copied. */
static char *last_body(struct fx *f, const char *dest)
{
  char sql[256];
  snprintf(sql, sizeof(sql),
           "SELECT body FROM outbox WHERE queue = '%s' AND method = 'chat.postMessage'"
           " ORDER BY id DESC LIMIT 1",
           dest);
  struct db_stmt *st = db_prepare(f->db, sql);
  assert_non_null(st);
  char *out = NULL;
  if (db_step(st) == DB_ROW)
    out = db_col_text(st, 0);
  db_finalize(st);
  assert_non_null(out);
  return out;
}

static int64_t pending_due(struct fx *f, const char *key)
{
  struct job j;
  int done = 0;
  int rc = jobs_get(f->db, key, &j, &done);
  if (rc)
    return -1;
  int64_t due = done ? -2 : j.due_at;
  job_clear(&j);
  return due;
}

static int run_jobs_at(struct fx *f, int64_t now)
{
  f->ctx.now_ms = now;
  return cmd_run_jobs(&f->ctx, f->ctx.now_ms, 100);
}

static void startup_at(struct fx *f, int64_t now)
{
  f->ctx.now_ms = now;
  assert_int_equal(cmd_startup(&f->ctx, f->ctx.now_ms), 0);
}

/* Deliver every pending outbox row (a DM lands in D<user>), running the hooks. */
static void deliver_all(struct fx *f)
{
  for (int round = 0; round < 20; round++) {
    struct outbox_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(outbox_ready(f->db, 100, NULL, 0, &rows, &n), 0);
    for (size_t i = 0; i < n; i++) {
      char ts[32];
      snprintf(ts, sizeof(ts), "1800000000.%06lld", (long long)rows[i].id);
      cJSON *resp = cJSON_CreateObject();
      cJSON_AddBoolToObject(resp, "ok", 1);
      cJSON_AddStringToObject(resp, "channel", rows[i].queue);
      cJSON_AddStringToObject(resp, "ts", ts);
      struct cmd_result r = {.ok = true, .response = resp};
      assert_int_equal(cmd_outbox_result(&f->ctx, f->ctx.now_ms, &rows[i], &r), 0);
      cJSON_Delete(resp);
    }
    outbox_rows_free(rows, n);
    if (n == 0)
      return;
  }
  fail_msg("the outbox never emptied");
}

/* ---- storage -------------------------------------------------------------------------------- */

static void test_handoffs_storage_once(void **state)
{
  struct fx *f = *state;
  struct handoff_new n = {.rota = "platform",
                          .shift_index = 1,
                          .due_at = 100,
                          .in_primary = "bob",
                          .out_primary = "alice",
                          .checklist = "*Notes*",
                          .now_ms = 150};
  int64_t id = 0;
  assert_int_equal(handoffs_add(f->db, &n, &id), 0);
  assert_true(id > 0);
  assert_int_equal(handoffs_add(f->db, &n, NULL), KX_EEXISTS);
  n.state = HANDOFF_MISSED;
  assert_int_equal(handoffs_add(f->db, &n, NULL), KX_EEXISTS); /* missed or posted: once */
  struct handoff_row h;
  assert_int_equal(handoffs_by_shift(f->db, "platform", 1, &h), 0);
  assert_int_equal(h.id, id);
  assert_string_equal(h.in_primary, "bob");
  assert_string_equal(h.checklist, "*Notes*");
  assert_null(h.in_secondary);
  assert_int_equal(h.state, HANDOFF_POSTED);
  handoff_row_clear(&h);
  assert_int_equal(handoffs_by_message(f->db, "C1", "1.2", &h), KX_ENOTFOUND);
  assert_int_equal(handoffs_set_message(f->db, id, "C1", "1.2"), 0);
  assert_int_equal(handoffs_by_message(f->db, "C1", "1.2", &h), 0);
  assert_int_equal(h.id, id);
  handoff_row_clear(&h);
  assert_int_equal(handoffs_ack(f->db, id, "bob", 200), 0);
  assert_int_equal(handoffs_ack(f->db, id, "alice", 300), KX_ESTATE);
  assert_int_equal(handoffs_ack(f->db, 999, "alice", 300), KX_ENOTFOUND);
  assert_int_equal(handoffs_manager_told(f->db, id, 400), 0);
  assert_int_equal(handoffs_last(f->db, "platform", &h), 0);
  assert_string_equal(h.acked_by, "bob");
  assert_int_equal(h.acked_at, 200);
  assert_int_equal(h.manager_told_at, 400);
  handoff_row_clear(&h);
  assert_int_equal(handoffs_last(f->db, "web", &h), KX_ENOTFOUND);
  n.rota = NULL;
  assert_int_equal(handoffs_add(f->db, &n, NULL), KX_EINVAL);
}

/* ---- working days ------------------------------------------------------------------------------
 */

static void test_working_days_and_times(void **state)
{
  struct fx *f = *state;
  const struct rota *p = config_rota(f->c, "platform");
  const struct rota *w = config_rota(f->c, "web");
  const struct rota *u = config_rota(f->c, "utc");
  assert_true(handoff_working_day(p, (struct kx_date){2026, 11, 27}));  /* Friday */
  assert_false(handoff_working_day(p, (struct kx_date){2026, 11, 28})); /* Saturday */
  assert_false(handoff_working_day(p, (struct kx_date){2026, 12, 28})); /* holiday */
  assert_false(handoff_working_day(w, (struct kx_date){2026, 11, 24})); /* Tuesday: not in hours */
  assert_true(handoff_working_day(w, (struct kx_date){2026, 11, 25}));  /* Wednesday */
  int64_t t;
  struct kx_date d;
  /* Friday 10:00 -> Monday 09:00; Friday 08:00 -> Friday 09:00. */
  assert_int_equal(handoff_next_digest(p, at("2026-11-27T10:00:00+01:00"), &t, &d), 0);
  assert_int_equal(t, at("2026-11-30T09:00:00+01:00"));
  assert_int_equal(d.d, 30);
  assert_int_equal(handoff_next_digest(p, at("2026-11-27T08:00:00+01:00"), &t, NULL), 0);
  assert_int_equal(t, at("2026-11-27T09:00:00+01:00"));
  /* Strictly after: at 09:00 itself the next is the next working day. */
  assert_int_equal(handoff_next_digest(p, at("2026-11-27T09:00:00+01:00"), &t, NULL), 0);
  assert_int_equal(t, at("2026-11-30T09:00:00+01:00"));
  /* Over the holidays: 2026-12-24 (Thu) -> 12-25 (Fri), then Mon 12-28 is a holiday -> Tue. */
  assert_int_equal(handoff_next_digest(p, at("2026-12-25T10:00:00+01:00"), &t, NULL), 0);
  assert_int_equal(t, at("2026-12-29T09:00:00+01:00"));
  /* Previous: Monday 09:00 -> Friday 09:00. */
  assert_int_equal(handoff_prev_digest(p, at("2026-11-30T09:00:00+01:00"), &t), 0);
  assert_int_equal(t, at("2026-11-27T09:00:00+01:00"));
  /* DST: the Monday after the spring change is 09:00 CEST (07:00Z). */
  assert_int_equal(handoff_next_digest(p, at("2027-03-27T12:00:00+01:00"), &t, NULL), 0);
  assert_int_equal(t, at("2027-03-29T07:00:00Z"));
  /* Los Angeles, only Mon/Wed/Fri: from Tuesday to Wednesday 09:00 PST. */
  assert_int_equal(handoff_next_digest(w, at("2026-11-24T12:00:00-08:00"), &t, NULL), 0);
  assert_int_equal(t, at("2026-11-25T17:00:00Z"));
  /* UTC daily rota at 06:30. */
  assert_int_equal(handoff_next_digest(u, at("2026-11-27T07:00:00Z"), &t, NULL), 0);
  assert_int_equal(t, at("2026-11-30T06:30:00Z"));
  /* Reminders: a Monday shift -> the Friday before; the Tuesday 12-29 shift (Monday is a
   * holiday) -> Friday 12-25, the last working day before it. */
  assert_int_equal(handoff_reminder_at(p, at("2026-11-30T09:00:00+01:00"), &t), 0);
  assert_int_equal(t, at("2026-11-27T09:00:00+01:00"));
  assert_int_equal(handoff_reminder_at(p, at("2026-12-29T09:00:00+01:00"), &t), 0);
  assert_int_equal(t, at("2026-12-25T09:00:00+01:00"));
  assert_int_equal(handoff_reminder_at(u, at("2026-11-25T06:30:00Z"), &t), 0);
  assert_int_equal(t, at("2026-11-24T06:30:00Z"));
}

/* ---- the handoff job ----------------------------------------------------------------------- */

static void test_startup_schedules_handoff_reminder_digest(void **state)
{
  struct fx *f = *state;
  startup_at(f, at("2026-11-24T10:00:00+01:00"));
  assert_int_equal(pending_due(f, "handoff:platform:1"), at("2026-11-30T09:00:00+01:00"));
  assert_int_equal(pending_due(f, "handoff.remind:platform:1"), at("2026-11-27T09:00:00+01:00"));
  assert_int_equal(pending_due(f, "handoff.digest:platform:2026-11-25"),
                   at("2026-11-25T09:00:00+01:00"));
  assert_int_equal(pending_due(f, "handoff:web:1"), at("2026-11-30T09:00:00-08:00"));
  assert_int_equal(pending_due(f, "handoff:utc:2"), at("2026-11-25T06:30:00Z"));
  /* Twice is the same. */
  int64_t jobs = count(f, "SELECT count(*) FROM jobs");
  startup_at(f, at("2026-11-24T10:05:00+01:00"));
  assert_int_equal(count(f, "SELECT count(*) FROM jobs"), jobs);
}

static void test_handoff_on_time_once(void **state)
{
  struct fx *f = *state;
  startup_at(f, at("2026-11-30T08:00:00+01:00"));
  assert_int_equal(notes_add(f->db, "platform", "alice", "kafka upgrade Wednesday", 1, NULL), 0);
  assert_int_equal(notes_add(f->db, "web", "carol", "not for platform", 1, NULL), 0);
  /* Twelve long notes: their section is cut, not the sections after it. */
  char long_note[400];
  memset(long_note, 'x', sizeof(long_note) - 1);
  long_note[sizeof(long_note) - 1] = '\0';
  for (int i = 0; i < 12; i++)
    assert_int_equal(notes_add(f->db, "platform", "bob", long_note, 2, NULL), 0);
  for (int i = 0; i < 10; i++) {
    struct rota_change_new c = {.rota = "platform",
                                .kind = ROTA_CHANGE_ABSENCE,
                                .person = "dave",
                                .from_ms = at("2026-12-01T00:00:00+01:00") + i * MS_PER_HOUR,
                                .to_ms = at("2026-12-01T00:30:00+01:00") + i * MS_PER_HOUR,
                                .now_ms = 1};
    assert_int_equal(rota_changes_add(f->db, &c, NULL), 0);
  }
  int64_t t = at("2026-11-30T09:00:00+01:00");
  assert_true(run_jobs_at(f, t) >= 1);
  assert_int_equal(count(f, "SELECT count(*) FROM handoffs WHERE rota = 'platform'"), 1);
  assert_int_equal(count(f, "SELECT late FROM handoffs WHERE rota = 'platform'"), 0);
  assert_int_equal(posts_to(f, "C0ONCALL01"), 1);
  char *body = last_body(f, "C0ONCALL01");
  assert_non_null(strstr(body, "On-call handoff: platform"));
  assert_non_null(strstr(body, "kafka upgrade Wednesday"));
  assert_null(strstr(body, "not for platform"));
  assert_non_null(strstr(body, "handoff.ack"));
  assert_non_null(strstr(body, "Coming up this shift"));
  assert_non_null(strstr(body, "Last shift's numbers"));
  assert_non_null(strstr(body, "<@U0BOB00001>"));
  free(body);
  /* DMs: bob (in, primary), carol (in, secondary), alice (out). */
  assert_int_equal(posts_to(f, "U0BOB00001") >= 1, 1);
  assert_int_equal(posts_to(f, "U0CAROL001"), 1);
  assert_int_equal(count(f,
                         "SELECT count(*) FROM outbox WHERE queue = 'U0ALICE001' AND body LIKE"
                         " '%shift as primary on-call for *platform* is over%'"),
                   1);
  /* The note was handed over in platform only. */
  struct note *notes;
  size_t n;
  assert_int_equal(notes_pending(f->db, "platform", &notes, &n), 0);
  assert_int_equal(n, 0);
  notes_free(notes, n);
  assert_int_equal(notes_pending(f->db, "web", &notes, &n), 0);
  assert_int_equal(n, 1);
  notes_free(notes, n);
  /* The next handoff and the pager timeout are due. */
  assert_int_equal(pending_due(f, "handoff:platform:2"), at("2026-12-07T09:00:00+01:00"));
  assert_int_equal(pending_due(f, "handoff.ack:platform:1"), t + 10 * 60 * 1000);
  /* The same job again (a revived key, a second scheduler): nothing more. */
  assert_int_equal(jobs_upsert(f->db, CMD_JOB_HANDOFF, "handoff:platform:1", t, "platform", t), 0);
  run_jobs_at(f, t + 1000);
  assert_int_equal(posts_to(f, "C0ONCALL01"), 1);
  assert_int_equal(count(f, "SELECT count(*) FROM handoffs WHERE rota = 'platform'"), 1);
}

static void test_checklist_incidents_actions_numbers(void **state)
{
  struct fx *f = *state;
  int64_t id = 0, other = 0;
  struct incident_create inc = {.title = "Checkout <slow>",
                                .severity = "P1",
                                .platform = "slack",
                                .declared_by = "carol",
                                .rota = "platform",
                                .declared_at = at("2026-11-27T10:00:00+01:00")};
  assert_int_equal(incidents_create(f->db, &inc, &id), 0);
  assert_int_equal(incidents_set_text(f->db, id, INCIDENT_F_CHANNEL, "C0INC00001"), 0);
  inc.title = "web only";
  inc.rota = "web";
  assert_int_equal(incidents_create(f->db, &inc, &other), 0);
  assert_int_equal(incident_actions_add(f->db, id, "dave", "add an alert", "carol", 1, NULL), 0);
  struct buf b;
  buf_init(&b, 1 << 16);
  f->ctx.now_ms = at("2026-11-30T09:00:00+01:00");
  const struct rota *r = config_rota(f->c, "platform");
  assert_int_equal(handoff_checklist(&f->ctx, r, 1, at("2026-11-30T09:00:00+01:00"),
                                     at("2026-12-07T09:00:00+01:00"), NULL, 0, &b),
                   0);
  const char *t = b.data;
  assert_non_null(strstr(t, "*Open incidents*\n• #1 *P1* Checkout &lt;slow&gt; — investigating"));
  assert_non_null(strstr(t, "<#C0INC00001>"));
  assert_null(strstr(t, "web only"));
  assert_non_null(strstr(t, "*Open action items*\n• #1.1 add an alert — <@p:dave>"));
  assert_non_null(strstr(t, "• Incidents: 1 (P1 1)"));
  buf_reset(&b);
  /* The digest's action items are the primary's own. */
  assert_int_equal(handoff_section_actions(&f->ctx, r, "bob", &b), 0);
  assert_int_equal(b.len, 0);
  assert_int_equal(handoff_section_actions(&f->ctx, r, "dave", &b), 0);
  assert_non_null(strstr(b.data, "Your open action items"));
  buf_free(&b);
}

static void test_handoff_late_and_missed(void **state)
{
  struct fx *f = *state;
  startup_at(f, at("2026-11-30T08:00:00+01:00"));
  /* Down at 09:00, back at 12:00: posted, late. */
  run_jobs_at(f, at("2026-11-30T12:00:00+01:00"));
  assert_int_equal(count(f, "SELECT late FROM handoffs WHERE rota = 'platform'"), 1);
  char *body = last_body(f, "C0ONCALL01");
  assert_non_null(strstr(body, "Late"));
  free(body);
  /* Next one: down from before Monday 12-07 until Tuesday 12-08 10:00 -> missed. */
  int64_t posted = posts_to(f, "C0ONCALL01");
  run_jobs_at(f, at("2026-12-08T10:00:00+01:00"));
  assert_int_equal(posts_to(f, "C0ONCALL01"), posted);
  assert_int_equal(count(f,
                         "SELECT count(*) FROM handoffs WHERE rota = 'platform' AND shift_index"
                         " = 2 AND state = 'missed'"),
                   1);
  assert_int_equal(pending_due(f, "handoff:platform:3"), at("2026-12-14T09:00:00+01:00"));
}

static void test_startup_leaves_a_catch_up_pending(void **state)
{
  struct fx *f = *state;
  startup_at(f, at("2026-11-30T08:00:00+01:00"));
  /* Restarted at 11:00 after being down over 09:00: the pending job is left to run. */
  startup_at(f, at("2026-11-30T11:00:00+01:00"));
  assert_int_equal(pending_due(f, "handoff:platform:1"), at("2026-11-30T09:00:00+01:00"));
  assert_int_equal(pending_due(f, "handoff:platform:2"), -1);
  run_jobs_at(f, at("2026-11-30T11:00:00+01:00"));
  assert_int_equal(count(f, "SELECT late FROM handoffs WHERE rota = 'platform'"), 1);
}

static void test_holiday_moves_handoff_and_reminder(void **state)
{
  struct fx *f = *state;
  startup_at(f, at("2026-12-22T10:00:00+01:00"));
  /* Monday 12-28 is a holiday: the handoff of shift #6 (index 5) is Tuesday 09:00. */
  assert_int_equal(pending_due(f, "handoff:platform:5"), at("2026-12-29T09:00:00+01:00"));
  assert_int_equal(pending_due(f, "handoff.remind:platform:5"), at("2026-12-25T09:00:00+01:00"));
  run_jobs_at(f, at("2026-12-28T09:00:00+01:00"));
  assert_int_equal(count(f, "SELECT count(*) FROM handoffs WHERE rota = 'platform'"), 0);
  run_jobs_at(f, at("2026-12-29T09:00:00+01:00"));
  assert_int_equal(count(f, "SELECT count(*) FROM handoffs WHERE rota = 'platform'"), 1);
  char *body = last_body(f, "C0ONCALL01");
  assert_non_null(strstr(body, "moved from Mon 2026-12-28 09:00"));
  free(body);
}

/* ---- the pager button and the manager ----------------------------------------------------- */

static int press(struct fx *f, const char *user, const char *value, struct cmd_reply *reply)
{
  struct cmd_request req = {.platform = CMD_PLATFORM_SLACK,
                            .kind = CMD_KIND_ACTION,
                            .now_ms = f->ctx.now_ms,
                            .action_id = CMD_ACTION_HANDOFF_ACK,
                            .action_value = value,
                            .user = user,
                            .channel = "C0ONCALL01",
                            .message_ts = "1.1"};
  cmd_reply_init(reply);
  return cmd_dispatch(&f->ctx, &req, reply);
}

static void test_pager_button_and_manager(void **state)
{
  struct fx *f = *state;
  startup_at(f, at("2026-11-30T08:00:00+01:00"));
  run_jobs_at(f, at("2026-11-30T09:00:00+01:00"));
  deliver_all(f);
  int64_t id = count(f, "SELECT id FROM handoffs WHERE rota = 'platform'");
  char v[32];
  snprintf(v, sizeof(v), "%lld", (long long)id);
  struct cmd_reply reply;
  f->ctx.now_ms = at("2026-11-30T09:03:00+01:00");
  assert_int_equal(press(f, "U0ALICE001", v, &reply), 0);
  assert_non_null(strstr(reply.text.data, "This button is for"));
  cmd_reply_free(&reply);
  assert_int_equal(press(f, "U0BOB00001", "junk", &reply), 0);
  assert_non_null(strstr(reply.text.data, "don't know that handoff"));
  cmd_reply_free(&reply);
  assert_int_equal(press(f, "U0BOB00001", v, &reply), 0);
  assert_non_null(strstr(reply.text.data, "you have the pager"));
  cmd_reply_free(&reply);
  assert_int_equal(count(f, "SELECT count(*) FROM handoffs WHERE acked_by = 'bob'"), 1);
  assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE method = 'chat.update'"), 1);
  assert_int_equal(pending_due(f, "handoff.ack:platform:1"), -2); /* cancelled */
  assert_int_equal(press(f, "U0BOB00001", v, &reply), 0);
  assert_non_null(strstr(reply.text.data, "has had the pager since Mon 2026-11-30 09:03"));
  cmd_reply_free(&reply);
  assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE method = 'chat.update'"), 1);
  /* The next week nobody presses: after the 10-minute timeout the manager is told. */
  run_jobs_at(f, at("2026-12-07T09:00:00+01:00"));
  deliver_all(f);
  int64_t erin = posts_to(f, "U0ERIN0001");
  run_jobs_at(f, at("2026-12-07T09:10:00+01:00"));
  assert_int_equal(posts_to(f, "U0ERIN0001"), erin + 1);
  char *dm = last_body(f, "U0ERIN0001");
  assert_non_null(strstr(dm, "Nobody has pressed"));
  assert_non_null(strstr(dm, "<@U0CAROL001>"));
  free(dm);
  assert_int_equal(count(f,
                         "SELECT count(*) FROM handoffs WHERE shift_index = 2 AND"
                         " manager_told_at > 0"),
                   1);
  /* A reply in the thread and the redrawn post. */
  assert_true(count(f,
                    "SELECT count(*) FROM outbox WHERE body LIKE '%thread_ts%' AND body LIKE"
                    " '%Nobody has pressed%'") == 1);
}

static void test_thread_reply_becomes_note(void **state)
{
  struct fx *f = *state;
  startup_at(f, at("2026-11-30T08:00:00+01:00"));
  run_jobs_at(f, at("2026-11-30T09:00:00+01:00"));
  deliver_all(f);
  char ts[32];
  int64_t row = count(f,
                      "SELECT id FROM outbox WHERE queue = 'C0ONCALL01' AND body LIKE "
                      "'%On-call handoff%'");
  snprintf(ts, sizeof(ts), "1800000000.%06lld", (long long)row);
  struct cmd_request req = {.platform = CMD_PLATFORM_SLACK,
                            .kind = CMD_KIND_MESSAGE,
                            .now_ms = at("2026-11-30T10:00:00+01:00"),
                            .user = "U0CAROL001",
                            .channel = "C0ONCALL01",
                            .text = "watch the &lt;queue&gt; depth",
                            .message_ts = "1800000001.000001",
                            .thread_ts = ts};
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  assert_int_equal(cmd_dispatch(&f->ctx, &req, &reply), 0);
  cmd_reply_free(&reply);
  struct note *notes;
  size_t n;
  assert_int_equal(notes_pending(f->db, "platform", &notes, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(notes[0].text, "watch the <queue> depth");
  assert_string_equal(notes[0].author, "carol");
  notes_free(notes, n);
  assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE method = 'reactions.add'"), 1);
  /* A message elsewhere is not a note. */
  req.thread_ts = "1.999";
  cmd_reply_init(&reply);
  assert_int_equal(cmd_dispatch(&f->ctx, &req, &reply), 0);
  cmd_reply_free(&reply);
  assert_int_equal(count(f, "SELECT count(*) FROM notes"), 1);
}

/* ---- reminder and digest -------------------------------------------------------------------- */

static void test_reminder_and_digest(void **state)
{
  struct fx *f = *state;
  startup_at(f, at("2026-11-26T12:00:00+01:00"));
  /* A page of the rota overnight, and one of another rota. */
  assert_int_equal(db_exec(f->db,
                           "INSERT INTO pages (kind, rota, title, severity, source, state,"
                           " version, created_at, anchor_at) VALUES ('page', 'platform',"
                           " 'DiskFull', 'P1', 'manual', 'open', 1, 1795745520000, 0),"
                           " ('page', 'web', 'Other', 'P1', 'manual', 'open', 1,"
                           " 1795745520000, 0)"),
                   0);
  run_jobs_at(f, at("2026-11-27T09:00:00+01:00"));
  /* bob is reminded of Monday; alice (on call) gets the digest with the page. */
  char *remind = last_body(f, "U0BOB00001");
  assert_non_null(strstr(remind, "Heads-up"));
  assert_non_null(strstr(remind, "Mon 2026-11-30 09:00"));
  free(remind);
  char *digest = last_body(f, "U0ALICE001");
  assert_non_null(strstr(digest, "on-call digest"));
  assert_non_null(strstr(digest, "DiskFull"));
  assert_null(strstr(digest, "Other"));
  free(digest);
  assert_int_equal(pending_due(f, "handoff.digest:platform:2026-11-30"),
                   at("2026-11-30T09:00:00+01:00"));
  /* A stale digest (the bot down from before Monday 09:00 until Tuesday 08:00) is skipped,
   * but the chain goes on. */
  const char *digests = "SELECT count(*) FROM outbox WHERE body LIKE '%digest for platform%'";
  int64_t before = count(f, digests);
  run_jobs_at(f, at("2026-12-01T08:00:00+01:00"));
  assert_int_equal(count(f, digests), before);
  assert_int_equal(pending_due(f, "handoff.digest:platform:2026-11-30"), -2);
  assert_int_equal(pending_due(f, "handoff.digest:platform:2026-12-01"),
                   at("2026-12-01T09:00:00+01:00"));
  run_jobs_at(f, at("2026-12-01T09:00:00+01:00"));
  assert_int_equal(count(f, digests), before + 1);
  digest = last_body(f, "U0BOB00001");
  assert_non_null(strstr(digest, "Paged since Mon 2026-11-30 09:00"));
  free(digest);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_handoffs_storage_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_working_days_and_times, setup, teardown),
      cmocka_unit_test_setup_teardown(test_startup_schedules_handoff_reminder_digest, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_handoff_on_time_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_checklist_incidents_actions_numbers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_handoff_late_and_missed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_startup_leaves_a_catch_up_pending, setup, teardown),
      cmocka_unit_test_setup_teardown(test_holiday_moves_handoff_and_reminder, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pager_button_and_manager, setup, teardown),
      cmocka_unit_test_setup_teardown(test_thread_reply_becomes_note, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reminder_and_digest, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
