/* commands/incident*.c through the dispatcher on ":memory:": what a declaration writes to the
 * outbox, what the answers to those rows lead to (the channel, name_taken, a refusal and its
 * retry), the functions other features call (incident_declare, incident_timeline_add,
 * incident_attach_channel), drills, repeats, and the postmortem (built-in and a template). */
/* cmocka.h needs these before it. */
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
#include "commands/incident/incident.h"
#include "commands/incident/postmortem.h"
#include "lib/kx.h"
#include "lib/timeutil.h"
#include "storage/incident_timeline.h"
#include "storage/incidents.h"
#include "storage/outbox.h"
#include "storage/seen.h"

static const char CONFIG[] =
    "timezone: Europe/Berlin\n"
    "slack: {announce_channel: C0ANNOUNCE, stakeholder_channel: C0STAKEHLD}\n"
    "people:\n"
    "  - {id: alice, name: Alice Doe, slack: U0ALICE001, email: alice@example.com}\n"
    "  - {id: bob, name: Bob Roe, slack: U0BOB00001}\n"
    "  - {id: erin, name: Erin Moe, slack: U0ERIN0001}\n"
    "rotas:\n"
    "  - {name: platform, start: 2026-11-23, primary: [alice, bob], secondary: next, manager: "
    "erin}\n"
    "severities:\n"
    "  - {name: P0, resolve: 1h, update_every: 15m, page: [primary, secondary], stakeholders: "
    "true}\n"
    "  - {name: P2, page: [primary]}\n"
    "smtp: {url: \"smtp://127.0.0.1:2525\", from: klaxon@example.com, stakeholders: "
    "[cto@example.com]}\n";

struct fix {
  struct config *cfg;
  struct db *db;
  struct cmd_ctx ctx;
  int64_t seen; /* outbox rows looked at so far */
};

static int64_t T(const char *rfc3339)
{
  int64_t ms = 0;
  time_parse_rfc3339(rfc3339, &ms);
  return ms;
}

static int setup(void **state)
{
  struct fix *f = calloc(1, sizeof(*f));
  struct config_problems pr;
  f->cfg = config_load_string(CONFIG, strlen(CONFIG), "test", &pr);
  for (size_t i = 0; i < pr.n; i++)
    fprintf(stderr, "config: %d %s\n", pr.items[i].line, pr.items[i].message);
  config_problems_free(&pr);
  assert_non_null(f->cfg);
  int err;
  f->db = db_open(":memory:", 0, &err);
  assert_non_null(f->db);
  f->ctx.db = f->db;
  f->ctx.config = f->cfg;
  assert_int_equal(kv_set(f->db, KV_SLACK_BOT_USER, "U0KLAXBOT1", 0), 0);
  f->ctx.now_ms = T("2026-11-24T10:00:00+01:00");
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fix *f = *state;
  db_close(f->db);
  config_free(f->cfg);
  free(f);
  return 0;
}

/* Run `/incident TEXT` as `user` in `channel`; the reply text is copied to out. */
static int slash(
    struct fix *f, const char *user, const char *channel, const char *text, char *out, size_t size)
{
  struct cmd_request req = {.platform = CMD_PLATFORM_SLACK,
                            .kind = CMD_KIND_COMMAND,
                            .now_ms = f->ctx.now_ms,
                            .command = "incident",
                            .text = text,
                            .user = user,
                            .channel = channel,
                            .trigger_id = "1.2.abc"};
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  int rc = cmd_dispatch(&f->ctx, &req, &reply);
  if (out)
    snprintf(out, size, "%s", reply.text.data ? reply.text.data : "");
  cmd_reply_free(&reply);
  return rc;
}

/* The next outbox row of `method` (skipping others), or fail. */
static void next_row(struct fix *f, const char *method, struct outbox_row *row)
{
  for (;;) {
    int rc = outbox_get(f->db, ++f->seen, row);
    if (rc == KX_ENOTFOUND)
      fail_msg("no more outbox rows; wanted %s", method);
    assert_int_equal(rc, 0);
    if (strcmp(row->method, method) == 0)
      return;
    outbox_row_clear(row);
  }
}

static bool any_row(struct fix *f, const char *method, const char *needle)
{
  struct outbox_row row;
  for (int64_t id = 1; outbox_get(f->db, id, &row) == 0; id++) {
    bool hit = strcmp(row.method, method) == 0 && (!needle || strstr(row.body, needle));
    outbox_row_clear(&row);
    if (hit)
      return true;
  }
  return false;
}

/* The platform answers a row. */
static void answer(
    struct fix *f, const struct outbox_row *row, bool ok, const char *error, const char *response)
{
  cJSON *resp = response ? cJSON_Parse(response) : NULL;
  struct cmd_result r = {.ok = ok, .error = error, .response = resp};
  assert_int_equal(cmd_outbox_result(&f->ctx, f->ctx.now_ms, row, &r), 0);
  cJSON_Delete(resp);
}

static void created(struct fix *f, const char *id, const char *name)
{
  struct outbox_row row;
  next_row(f, "conversations.create", &row);
  char want[96];
  snprintf(want, sizeof(want), "\"name\":\"%s\"", name);
  assert_non_null(strstr(row.body, want));
  char resp[256];
  snprintf(resp, sizeof(resp), "{\"ok\":true,\"channel\":{\"id\":\"%s\",\"name\":\"%s\"}}", id,
           name);
  answer(f, &row, true, NULL, resp);
  outbox_row_clear(&row);
}

static void test_declare_flow(void **state)
{
  struct fix *f = *state;
  char reply[2048];
  assert_int_equal(slash(f, "U0ALICE001", "C0ORIGIN1", "declare P0 <!channel> payments down", reply,
                         sizeof(reply)),
                   0);
  assert_non_null(strstr(reply, "#1"));
  assert_null(strstr(reply, "<!channel>"));
  struct incident inc;
  assert_int_equal(incidents_get(f->db, 1, &inc), 0);
  assert_string_equal(inc.title, "@channel payments down");
  assert_string_equal(inc.channel_name, "incident-20261124");
  assert_string_equal(inc.roles[INCIDENT_ROLE_COMMANDER], "alice");
  assert_string_equal(inc.declared_by, "alice");
  incident_clear(&inc);
  created(f, "C0NEW0001", "incident-20261124");
  /* invite: alice (declarer, primary) and bob (secondary), once each */
  struct outbox_row row;
  next_row(f, "conversations.invite", &row);
  assert_non_null(strstr(row.body, "\"users\":\"U0ALICE001,U0BOB00001\""));
  assert_string_equal(row.queue, "C0NEW0001");
  outbox_row_clear(&row);
  next_row(f, "conversations.setTopic", &row);
  assert_non_null(
      strstr(row.body, "P0 | investigating | IC: Alice Doe | #1 @channel payments down"));
  outbox_row_clear(&row);
  next_row(f, "chat.postMessage", &row);
  assert_non_null(strstr(row.body, "incident.take_commander"));
  assert_string_equal(row.hook, "incident.summary_posted");
  answer(f, &row, true, NULL, "{\"ok\":true,\"channel\":\"C0NEW0001\",\"ts\":\"1.000100\"}");
  outbox_row_clear(&row);
  assert_int_equal(incidents_get(f->db, 1, &inc), 0);
  assert_string_equal(inc.summary_ts, "1.000100");
  assert_true(inc.announced_at > 0);
  incident_clear(&inc);
  /* announcement, stakeholders (channel and email) */
  assert_true(any_row(f, "chat.postMessage", "\"channel\":\"C0ANNOUNCE\""));
  assert_true(any_row(f, "chat.postMessage", "\"channel\":\"C0STAKEHLD\""));
  assert_true(any_row(f, "email.send", "cto@example.com"));
  assert_false(any_row(f, "chat.postMessage", "<!channel>"));
  /* jobs: the update reminder and the resolve target */
  assert_int_equal(jobs_pending(f->db, "incident:1:update"), 1);
  assert_int_equal(jobs_pending(f->db, "incident:1:resolve-target"), 1);
  /* A command in the channel finds it; outside, the answer names the channel. */
  assert_int_equal(slash(f, "U0BOB00001", "C0NEW0001", "ack", reply, sizeof(reply)), 0);
  assert_non_null(strstr(reply, "Acknowledged #1"));
  assert_int_equal(slash(f, "U0BOB00001", "C0ELSEWHR", "sev P2", reply, sizeof(reply)), 0);
  assert_non_null(strstr(reply, "incident's own channel"));
  assert_non_null(strstr(reply, "<#C0NEW0001>"));
}

static void test_name_taken_and_refusal(void **state)
{
  struct fix *f = *state;
  assert_int_equal(slash(f, "U0ALICE001", "C0ORIGIN1", "declare P2 first", NULL, 0), 0);
  created(f, "C0NEW0001", "incident-20261124");
  assert_int_equal(slash(f, "U0BOB00001", "C0ORIGIN1", "declare P2 second", NULL, 0), 0);
  /* klaxon's own name is taken: -2 was reserved; Slack says someone else has -2 too */
  struct outbox_row row;
  next_row(f, "conversations.create", &row);
  assert_non_null(strstr(row.body, "incident-20261124-2"));
  answer(f, &row, false, "name_taken", "{\"ok\":false,\"error\":\"name_taken\"}");
  outbox_row_clear(&row);
  next_row(f, "conversations.create", &row);
  assert_non_null(strstr(row.body, "incident-20261124-3"));
  /* Then Slack refuses for another reason: the declarer is told, a retry is set. */
  answer(f, &row, false, "restricted_action", NULL);
  outbox_row_clear(&row);
  struct incident inc;
  assert_int_equal(incidents_get(f->db, 2, &inc), 0);
  assert_null(inc.channel);
  assert_int_equal(inc.channel_failures, 1);
  assert_true(inc.announced_at > 0); /* announced without a channel, so nobody misses it */
  incident_clear(&inc);
  assert_true(any_row(f, "chat.postMessage", "\"channel\":\"U0BOB00001\""));
  assert_true(any_row(f, "chat.postMessage", "restricted_action"));
  struct job job;
  int done = 0;
  assert_int_equal(jobs_get(f->db, "incident:2:channel-retry", &job, &done), 0);
  assert_int_equal(job.due_at, f->ctx.now_ms + 60000);
  job_clear(&job);
  /* A minute later the retry asks for the same reserved name. */
  f->ctx.now_ms += 60000;
  assert_int_equal(cmd_run_jobs(&f->ctx, f->ctx.now_ms, 10), 1);
  next_row(f, "conversations.create", &row);
  assert_non_null(strstr(row.body, "incident-20261124-3"));
  outbox_row_clear(&row);
  f->seen--;
  created(f, "C0NEW0003", "incident-20261124-3");
  assert_int_equal(incidents_get(f->db, 2, &inc), 0);
  assert_string_equal(inc.channel, "C0NEW0003");
  incident_clear(&inc);
  assert_true(any_row(f, "chat.postMessage", "exists now"));
}

static void test_api_for_other_features(void **state)
{
  struct fix *f = *state;
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  assert_int_equal(db_begin(f->db), 0);
  /* The Teams transport declares; no Slack channel is created. */
  struct incident_new n = {.title = "from teams",
                           .severity = "p0",
                           .declared_by_user = "29:aad-user",
                           .platform = CMD_PLATFORM_TEAMS,
                           .impact_start_ms = f->ctx.now_ms - 20 * MS_PER_MIN,
                           .alert_id = 7};
  int64_t id = 0;
  assert_int_equal(incident_declare(&f->ctx, &n, &id, &reply), 0);
  assert_int_equal(id, 1);
  assert_false(any_row(f, "conversations.create", NULL));
  /* a repeat returns the same incident */
  int64_t again = 0;
  assert_int_equal(incident_declare(&f->ctx, &n, &again, &reply), 0);
  assert_int_equal(again, 1);
  assert_non_null(strstr(reply.text.data, "a moment ago"));
  /* an unknown severity and a missing title are refused in words */
  buf_reset(&reply.text);
  struct incident_new bad = {.title = "x", .severity = "P9"};
  assert_int_equal(incident_declare(&f->ctx, &bad, NULL, &reply), KX_EINVAL);
  assert_non_null(strstr(reply.text.data, "no severity `P9`"));
  struct incident_new none = {.title = ""};
  assert_int_equal(incident_declare(&f->ctx, &none, NULL, &reply), KX_EINVAL);
  /* pages and acks go into its timeline */
  assert_int_equal(incident_timeline_add(&f->ctx, 1, "page", "bob", "Paged Bob", 0, false), 0);
  assert_int_equal(incident_timeline_add(&f->ctx, 1, "ack", "bob", "Bob acknowledged", 5, true), 0);
  assert_int_equal(incident_timeline_add(&f->ctx, 99, "page", NULL, "x", 0, false), KX_ENOTFOUND);
  /* the Teams thread becomes where it talks */
  assert_int_equal(
      incident_attach_channel(&f->ctx, 1, "19:abc@thread.tacv2;messageid=42", "thread"), 0);
  assert_int_equal(incident_attach_channel(&f->ctx, 1, "19:other", NULL), KX_EEXISTS);
  assert_int_equal(db_commit(f->db), 0);
  assert_true(any_row(f, "teams.reply", "incident.take_commander"));
  assert_false(any_row(f, "conversations.invite", NULL)); /* Slack-only steps are skipped */
  assert_int_equal(incident_in_channel(&f->ctx, "19:abc@thread.tacv2;messageid=42"), 1);
  assert_int_equal(incident_in_channel(&f->ctx, "C0NOPE"), 0);
  struct incident inc;
  assert_int_equal(incidents_get(f->db, 1, &inc), 0);
  assert_string_equal(inc.platform, "teams");
  assert_int_equal(inc.alert_id, 7);
  assert_int_equal(inc.impact_start_at, f->ctx.now_ms - 20 * MS_PER_MIN);
  assert_string_equal(inc.severity, "P0");
  incident_clear(&inc);
  struct timeline_entry *tl;
  size_t nt;
  assert_int_equal(timeline_list(f->db, 1, 0, 0, &tl, &nt), 0);
  assert_string_equal(tl[0].kind, "ack"); /* at 5 ms: the oldest */
  assert_string_equal(tl[1].kind, "impact");
  assert_string_equal(tl[1].text, "Impact started (the alert began firing)");
  timeline_free(tl, nt);
  cmd_reply_free(&reply);
}

static void test_drill_tells_no_stakeholders(void **state)
{
  struct fix *f = *state;
  char reply[1024];
  assert_int_equal(
      slash(f, "U0ALICE001", "C0ORIGIN1", "declare --drill P0 game day", reply, sizeof(reply)), 0);
  assert_non_null(strstr(reply, "Drill declared"));
  created(f, "C0NEW0001", "incident-20261124");
  assert_true(any_row(f, "chat.postMessage", "\"channel\":\"C0ANNOUNCE\""));
  assert_true(any_row(f, "chat.postMessage", "DRILL"));
  assert_false(any_row(f, "chat.postMessage", "\"channel\":\"C0STAKEHLD\""));
  assert_false(any_row(f, "email.send", NULL));
  assert_int_equal(slash(f, "U0ALICE001", "C0NEW0001", "update still drilling", NULL, 0), 0);
  assert_false(any_row(f, "email.send", NULL));
  struct incident *list;
  size_t n;
  assert_int_equal(incidents_list(f->db, INCIDENTS_NO_DRILLS, 0, 0, &list, &n), 0);
  assert_int_equal(n, 0);
  incidents_free(list, n);
}

static const char *fill_value(void *arg, const char *name)
{
  (void)arg;
  return strcmp(name, "title") == 0 ? "T" : strcmp(name, "empty") == 0 ? "" : NULL;
}

static void test_postmortem(void **state)
{
  struct fix *f = *state;
  struct buf out;
  buf_init(&out, 4096);
  assert_int_equal(postmortem_fill("# {{title}} {{ title }} {{unknown}} {{empty}}{{ {{title",
                                   fill_value, NULL, &out),
                   0);
  assert_string_equal(out.data, "# T T {{unknown}} {{ {{title");
  buf_free(&out);
  buf_init(&out, 4096);
  assert_int_equal(postmortem_md_text(&out, "<b>*x*</b> & [l](j:s) `c` |\n# h"), 0);
  assert_string_equal(out.data, "&lt;b&gt;\\*x\\*&lt;/b&gt; & \\[l\\](j:s) \\`c\\` \\|\n  \\# h");
  buf_free(&out);
  assert_int_equal(slash(f, "U0ALICE001", "C0ORIGIN1", "declare P2 disk full on db-3", NULL, 0), 0);
  created(f, "C0NEW0001", "incident-20261124");
  f->ctx.now_ms += 10 * MS_PER_MIN;
  assert_int_equal(slash(f, "U0BOB00001", "C0NEW0001", "ack", NULL, 0), 0);
  assert_int_equal(
      slash(f, "U0BOB00001", "C0NEW0001", "action add @alice grow the volume", NULL, 0), 0);
  f->ctx.now_ms += 20 * MS_PER_MIN;
  assert_int_equal(slash(f, "U0ALICE001", "C0NEW0001", "resolve <b>cleaned</b> up", NULL, 0), 0);
  assert_int_equal(jobs_pending(f->db, "incident:1:postmortem"), 1);
  assert_int_equal(postmortem_render(&f->ctx, 1, NULL, &out), 0);
  const char *md = out.data;
  assert_non_null(strstr(md, "# Postmortem: incident #1 — disk full on db-3"));
  assert_non_null(
      strstr(md, "- Time to acknowledge (TTA, declaration to acknowledgement): 10m 0s"));
  assert_non_null(strstr(md, "- Time to resolve (TTR, declaration to resolution): 30m 0s"));
  assert_non_null(
      strstr(md, "| Resolved | 2026-11-24 10:30:00 (UTC+01:00) | 2026-11-24T09:30:00Z |"));
  assert_non_null(strstr(md, "&lt;b&gt;cleaned&lt;/b&gt; up"));
  assert_non_null(strstr(md, "- [ ] 1. grow the volume — owner: Alice Doe (open)"));
  assert_non_null(strstr(md, "## Root cause"));
  assert_non_null(strstr(md, "## Lessons learned"));
  buf_free(&out);
  assert_int_equal(
      postmortem_render(&f->ctx, 1, "{{title}}|{{tta}}|{{commander}}|{{participants}}|{{nope}}",
                        &out),
      0);
  assert_string_equal(out.data, "disk full on db-3|10m 0s|Alice Doe|Alice Doe, Bob Roe|{{nope}}");
  buf_free(&out);
  assert_int_equal(postmortem_render(&f->ctx, 42, NULL, &out), KX_ENOTFOUND);
  buf_free(&out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_declare_flow, setup, teardown),
      cmocka_unit_test_setup_teardown(test_name_taken_and_refusal, setup, teardown),
      cmocka_unit_test_setup_teardown(test_api_for_other_features, setup, teardown),
      cmocka_unit_test_setup_teardown(test_drill_tells_no_stakeholders, setup, teardown),
      cmocka_unit_test_setup_teardown(test_postmortem, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
