/* /oncall through the dispatcher on a real in-memory database: who, schedule, override, away,
 * swap, changes and cancel with their DMs and announcements; the user group kept equal to who
 * is on call; people looked up by email; option parsing, times for people and the form
 * encoding of Slack's read methods. */
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
#include "bot/slack/slack_api.h"
#include "commands/core/command.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/kx.h"
#include "lib/timeutil.h"
#include "storage/db_internal.h"
#include "storage/jobs.h"
#include "storage/people.h"
#include "storage/seen.h"
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
    "  - {id: frank, email: frank@example.com}\n"
    "  - {id: gina, slack: U0GINA0001}\n"
    "rotas:\n"
    "  - {name: platform, start: 2026-11-23, primary: [alice, bob, carol, dave], secondary: next,\n"
    "     manager: erin, usergroup: S0ONCALL01, contacts: {crm: erin}}\n"
    "  - {name: web, timezone: America/Los_Angeles, start: 2026-11-23, primary: [carol, frank],\n"
    "     handoff_channel: C0WEBONCAL}\n"
    "  - {name: later, start: 2027-01-04, primary: [erin]}\n"
    "severities:\n"
    "  - {name: P1, page: [primary]}\n";

static int64_t at(const char *rfc3339)
{
  return fx_at(rfc3339);
}

static int setup(void **state)
{
  *state = fx_new(CONFIG, "2026-11-24T10:00:00+01:00");
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

static int64_t rows_to(struct fx *f, const char *queue, const char *like)
{
  char sql[512];
  snprintf(sql, sizeof(sql),
           "SELECT count(*) FROM outbox WHERE queue = '%s' AND body LIKE '%%%s%%'", queue,
           like ? like : "");
  return count(f, sql);
}

/* `/oncall TEXT` by a Slack user; the reply's text is returned (caller frees). */
static char *oncall(struct fx *f, const char *user, const char *text)
{
  struct cmd_request req = {.platform = CMD_PLATFORM_SLACK,
                            .kind = CMD_KIND_COMMAND,
                            .now_ms = f->ctx.now_ms,
                            .command = "oncall",
                            .text = text,
                            .user = user,
                            .channel = "C0INCIDENT"};
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  assert_int_equal(cmd_dispatch(&f->ctx, &req, &reply), 0);
  char *out = strdup(reply.text.data ? reply.text.data : "");
  cmd_reply_free(&reply);
  return out;
}

static void expect(const char *text, const char *want)
{
  if (!strstr(text, want))
    fail_msg("expected \"%s\" in:\n%s", want, text);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void test_opts_and_times(void **state)
{
  struct fx *f = *state;
  /* The dispatcher takes the override row's options out of the words; oncall_opts_parse reads
   * them and the other words. */
  const struct cmd_def *row = cmd_lookup("oncall", "override");
  struct cmd_args w, a;
  assert_int_equal(cmd_args_parse("@bob 2026-12-01 14:00 to 2026-12-03 --rota web --secondary", &w),
                   0);
  struct oncall_opts o;
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  assert_int_equal(cmd_opts_split(row, &w, 0, &a, &reply.text), 0);
  assert_int_equal(oncall_opts_parse(&a, &o, &reply), 0);
  assert_int_equal(o.n, 3);
  assert_string_equal(o.pos[0], "@bob");
  assert_string_equal(o.pos[1], "2026-12-01 14:00");
  assert_string_equal(o.pos[2], "2026-12-03");
  assert_string_equal(o.rota, "web");
  assert_true(o.secondary);
  cmd_args_free(&w);
  assert_int_equal(cmd_args_parse("--bogus", &w), 0);
  assert_int_equal(cmd_opts_split(row, &w, 0, &a, &reply.text), KX_EINVAL);
  expect(reply.text.data, "--bogus");
  cmd_args_free(&w);
  assert_int_equal(cmd_args_parse("--rota", &w), 0);
  assert_int_equal(cmd_opts_split(row, &w, 0, &a, &reply.text), KX_EINVAL);
  cmd_args_free(&w);
  cmd_reply_free(&reply);
  char t[40];
  const struct rota *p = config_rota(f->c, "platform");
  assert_string_equal(oncall_fmt_time(p, at("2026-07-06T07:00:00Z"), t, sizeof(t)),
                      "Mon 2026-07-06 09:00");
  assert_string_equal(oncall_fmt_time(p, at("2026-12-07T08:00:00Z"), t, sizeof(t)),
                      "Mon 2026-12-07 09:00");
  assert_true(oncall_rota_has(p, "dave"));
  assert_false(oncall_rota_has(p, "erin")); /* the manager is not in the rotation */
  /* Picking a rota: by name, the only one a person is in, else a question. */
  cmd_reply_init(&reply);
  assert_ptr_equal(oncall_pick_rota(&f->ctx, NULL, "frank", &reply), config_rota(f->c, "web"));
  assert_null(oncall_pick_rota(&f->ctx, NULL, "carol", &reply));
  expect(reply.text.data, "Which rota?");
  assert_null(oncall_pick_rota(&f->ctx, "nope", NULL, &reply));
  expect(reply.text.data, "`platform`, `web`, `later`");
  cmd_reply_free(&reply);
}

static void test_form_encode(void **state)
{
  (void)state;
  cJSON *o = cJSON_Parse("{\"email\":\"a+b@example.com\",\"n\":3,\"t\":true,\"x\":\"é &=\"}");
  char *form = slack_form_encode(o);
  assert_string_equal(form, "email=a%2Bb%40example.com&n=3&t=true&x=%C3%A9%20%26%3D");
  free(form);
  cJSON_Delete(o);
  o = cJSON_CreateObject();
  form = slack_form_encode(o);
  assert_string_equal(form, "");
  free(form);
  cJSON_Delete(o);
}

/* ---- who and schedule --------------------------------------------------------------------- */

static void test_who_and_schedule(void **state)
{
  struct fx *f = *state;
  char *t = oncall(f, "U0DAVE0001", "");
  expect(t, "*platform* (Europe/Berlin)");
  expect(t, "Primary: <@p:alice> until Mon 2026-11-30 09:00");
  expect(t, "Secondary: <@p:bob> until Mon 2026-11-30 09:00");
  expect(t, "Manager: <@p:erin>");
  expect(t, "Business-hours contacts (it is business hours now): crm <@p:erin>");
  expect(t, "*web* (America/Los_Angeles)");
  expect(t, "Primary: <@p:carol> until Mon 2026-11-30 09:00"); /* LA time */
  expect(t, "*later*");
  expect(t, "Not started yet: the first shift begins Mon 2027-01-04 09:00 with <@p:erin>");
  free(t);
  t = oncall(f, "U0DAVE0001", "schedule 2 --rota platform");
  expect(t, "*#1* Mon 2026-11-23 09:00 → Mon 2026-11-30 09:00: <@p:alice>, secondary <@p:bob>");
  expect(t, "*#2* Mon 2026-11-30 09:00 → Mon 2026-12-07 09:00: <@p:bob>, secondary <@p:carol>");
  assert_null(strstr(t, "#3"));
  free(t);
  t = oncall(f, "U0DAVE0001", "schedule 13");
  expect(t, "1 to 12 shifts");
  free(t);
  /* Outside business hours the contacts are left out. */
  f->ctx.now_ms = at("2026-11-24T20:00:00+01:00");
  t = oncall(f, "U0DAVE0001", "who platform");
  assert_null(strstr(t, "Business-hours"));
  assert_null(strstr(t, "*web*"));
  free(t);
}

/* ---- override, DMs, announce, user group -------------------------------------------------- */

static void test_override_notifies_and_syncs(void **state)
{
  struct fx *f = *state;
  assert_int_equal(cmd_startup(&f->ctx, f->ctx.now_ms), 0);
  /* Start-up: the group holds alice and bob; frank is looked up by email. */
  assert_int_equal(rows_to(f, "usergroup:S0ONCALL01", "U0ALICE001,U0BOB00001"), 1);
  assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE method = 'users.lookupByEmail'"), 1);
  char *t = oncall(f, "U0DAVE0001", "override @carol 2026-11-25 2026-11-25 --rota platform");
  expect(t,
         "Done: <@p:carol> holds *primary* from Wed 2026-11-25 00:00 to Thu 2026-11-26 00:00 "
         "(override #1, by <@p:dave>)");
  expect(t, "I have told <@p:alice>, <@p:carol>");
  free(t);
  assert_int_equal(rows_to(f, "C0ONCALL01", "holds *primary*"), 1);
  assert_int_equal(rows_to(f, "U0CAROL001", "you now hold"), 1);
  assert_int_equal(rows_to(f, "U0ALICE001", "off call"), 1);
  assert_int_equal(rows_to(f, "U0DAVE0001", ""), 0);
  assert_int_equal(rows_to(f, "U0BOB00001", ""), 0);
  /* Not yet in force: the group is unchanged until the sync job at Wednesday 00:00. */
  assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE method = 'usergroups.users.update'"),
                   1);
  struct job j;
  int done;
  assert_int_equal(jobs_get(f->db, "oncall.sync:platform", &j, &done), 0);
  assert_int_equal(j.due_at, at("2026-11-25T00:00:00+01:00"));
  job_clear(&j);
  f->ctx.now_ms = at("2026-11-25T00:00:00+01:00");
  assert_true(cmd_run_jobs(&f->ctx, f->ctx.now_ms, 10) >= 1);
  assert_int_equal(rows_to(f, "usergroup:S0ONCALL01", "U0CAROL001,U0BOB00001"), 1);
  /* Running the sync again changes nothing (what was sent is remembered). */
  assert_int_equal(db_begin(f->db), 0);
  assert_int_equal(oncall_sync_rota(&f->ctx, config_rota(f->c, "platform")), 0);
  assert_int_equal(db_commit(f->db), 0);
  assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE method = 'usergroups.users.update'"),
                   2);
  f->ctx.now_ms = at("2026-11-26T00:00:00+01:00");
  assert_true(cmd_run_jobs(&f->ctx, f->ctx.now_ms, 10) >= 1);
  assert_int_equal(rows_to(f, "usergroup:S0ONCALL01", "U0ALICE001,U0BOB00001"), 2);
  /* A refused update is forgotten, so the next sync tries again. */
  struct outbox_row row = {.ref = "platform", .hook = CMD_HOOK_ONCALL_USERGROUP};
  struct cmd_result r = {.ok = false, .error = "no_such_subteam"};
  assert_int_equal(db_begin(f->db), 0);
  assert_int_equal(oncall_hook_usergroup(&f->ctx, &row, &r), 0);
  assert_int_equal(oncall_sync_rota(&f->ctx, config_rota(f->c, "platform")), 0);
  assert_int_equal(db_commit(f->db), 0);
  assert_int_equal(rows_to(f, "usergroup:S0ONCALL01", "U0ALICE001,U0BOB00001"), 3);
}

static void test_people_lookup_hook(void **state)
{
  struct fx *f = *state;
  struct outbox_row row = {.ref = "frank", .hook = CMD_HOOK_PEOPLE_LOOKUP};
  cJSON *resp = cJSON_Parse("{\"ok\":true,\"user\":{\"id\":\"U0FRANK001\"}}");
  struct cmd_result ok = {.ok = true, .response = resp};
  assert_int_equal(db_begin(f->db), 0);
  assert_int_equal(oncall_hook_lookup(&f->ctx, &row, &ok), 0);
  assert_int_equal(db_commit(f->db), 0);
  cJSON_Delete(resp);
  char *id = people_slack(f->db, "frank");
  assert_string_equal(id, "U0FRANK001");
  free(id);
  /* Kept: the next start does not ask again. */
  assert_int_equal(cmd_startup(&f->ctx, f->ctx.now_ms), 0);
  assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE method = 'users.lookupByEmail'"), 0);
  /* frank (web, shift #2 is his) is told about an override of his time by his learnt id. */
  char *t = oncall(f, "U0CAROL001", "override @carol 2026-12-01 2026-12-02 --rota web");
  free(t);
  assert_int_equal(rows_to(f, "U0FRANK001", "off call"), 1);
  /* A person Slack does not know. */
  struct cmd_result nf = {.ok = false, .error = "users_not_found"};
  assert_int_equal(db_begin(f->db), 0);
  assert_int_equal(oncall_hook_lookup(&f->ctx, &row, &nf), 0);
  assert_int_equal(db_commit(f->db), 0);
  assert_int_equal(
      count(f, "SELECT count(*) FROM people_ids WHERE lookup_error = 'users_not_found'"), 1);
}

/* ---- away, swap, changes, cancel ---------------------------------------------------------- */

static void test_away_in_every_rota_of_the_person(void **state)
{
  struct fx *f = *state;
  /* carol is in platform and web: away in both, each in its own zone. */
  char *t = oncall(f, "U0CAROL001", "away 2026-12-08 2026-12-09");
  expect(t, "*platform*: <@p:carol> is away from Tue 2026-12-08 00:00 to Thu 2026-12-10 00:00");
  expect(t, "*web*: <@p:carol> is away from Tue 2026-12-08 00:00 to Thu 2026-12-10 00:00");
  free(t);
  assert_int_equal(count(f, "SELECT count(*) FROM rota_changes WHERE kind = 'absence'"), 2);
  /* platform: bob (the shift before carol's) covers; web: frank covers. */
  assert_int_equal(rows_to(f, "U0BOB00001", "primary Tue 2026-12-08 00:00 → Thu 2026-12-10 00:00"),
                   1);
  assert_int_equal(rows_to(f, "C0ONCALL01", "is away"), 1);
  assert_int_equal(rows_to(f, "C0WEBONCAL", "is away"), 1);
  t = oncall(f, "U0CAROL001", "away 2026-12-08");
  expect(t, "Usage");
  free(t);
  t = oncall(f, "U0GINA0001", "away 2026-12-08 2026-12-09");
  expect(t, "in no rota");
  free(t);
  t = oncall(f, "U0NOBODY01", "away 2026-12-08 2026-12-09");
  expect(t, "I don't know you yet");
  free(t);
}

static void test_swap_and_cancel(void **state)
{
  struct fx *f = *state;
  /* bob has #2; alice takes it, bob takes alice's next own shift (#5). */
  char *t = oncall(f, "U0ALICE001", "swap @bob 2026-W49 --rota platform");
  expect(t,
         "<@p:alice> takes shift #2 (Mon 2026-11-30 09:00 → Mon 2026-12-07 09:00) from <@p:bob>");
  expect(t, "<@p:bob> takes shift #5 (Mon 2026-12-21 09:00 → Mon 2026-12-28 09:00) in return");
  expect(t, "I have told <@p:bob>");
  free(t);
  assert_int_equal(count(f,
                         "SELECT count(*) FROM rota_changes WHERE kind = 'override' AND"
                         " reason = 'swap: alice and bob'"),
                   2);
  t = oncall(f, "U0ALICE001", "changes platform");
  expect(t, "#1 <@p:alice> holds primary Mon 2026-11-30 09:00 → Mon 2026-12-07 09:00 (swap)");
  expect(t, "#2 <@p:bob> holds primary");
  free(t);
  t = oncall(f, "U0ERIN0001", "cancel 2");
  /* A swap is one change (issue 14): cancelling either half cancels both. */
  expect(t, "Done: cancelled the swap #2 <@p:bob> holds primary");
  expect(t, " and #1 <@p:alice> holds primary Mon 2026-11-30 09:00");
  free(t);
  assert_int_equal(count(f, "SELECT count(*) FROM rota_changes WHERE cancelled_at IS NOT NULL"), 2);
  t = oncall(f, "U0ERIN0001", "cancel 2");
  expect(t, "no current or future change #2");
  free(t);
  t = oncall(f, "U0ERIN0001", "cancel 1");
  expect(t, "no current or future change #1");
  free(t);
  /* Refusals. */
  t = oncall(f, "U0ALICE001", "swap @carol #2 --rota platform");
  expect(t, "Neither of you is the primary of shift #2");
  free(t);
  t = oncall(f, "U0ALICE001", "swap @alice #1 --rota platform");
  expect(t, "a swap with yourself");
  free(t);
  f->ctx.now_ms = at("2026-12-15T10:00:00+01:00");
  t = oncall(f, "U0DAVE0001", "swap @carol 2026-12-08 --rota platform");
  expect(t, "over already");
  free(t);
  t = oncall(f, "U0DAVE0001", "swap @erin #9 --rota platform");
  expect(t, "Neither of you");
  free(t);
  t = oncall(f, "U0DAVE0001", "swap @carol #0 --rota platform");
  expect(t, "could not find the shift `#0`");
  free(t);
}

/* /oncall whoami: the worked example of adding a subcommand (docs/internals.md). */
static void test_whoami(void **state)
{
  struct fx *f = *state;
  char *t = oncall(f, "U0ERIN0001", "whoami");
  expect(t, "You are <@p:erin> (`erin` in the config). I reach you by Slack.");
  expect(t, "• *platform*: manager\n");
  expect(t, "• *later*: member\n");
  expect(t, "You may change those rotas");
  free(t);
  t = oncall(f, "U0GINA0001", "whoami");
  expect(t, "You are in no rota and manage none");
  free(t);
  t = oncall(f, "U0NOBODY01", "whoami");
  expect(t, "I don't know you yet");
  expect(t, "Slack id");
  free(t);
  t = oncall(f, "U0ERIN0001", "whoami extra");
  expect(t, "whoami"); /* the usage line from the row: whoami takes no words */
  free(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_opts_and_times, setup, teardown),
      cmocka_unit_test_setup_teardown(test_form_encode, setup, teardown),
      cmocka_unit_test_setup_teardown(test_who_and_schedule, setup, teardown),
      cmocka_unit_test_setup_teardown(test_override_notifies_and_syncs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_people_lookup_hook, setup, teardown),
      cmocka_unit_test_setup_teardown(test_away_in_every_rota_of_the_person, setup, teardown),
      cmocka_unit_test_setup_teardown(test_swap_and_cancel, setup, teardown),
      cmocka_unit_test_setup_teardown(test_whoami, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
