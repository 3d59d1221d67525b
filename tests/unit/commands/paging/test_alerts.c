/* Alerts and paging on a real in-memory database: Alertmanager/webhook parsing, routing,
 * grouping and de-duplication, and the escalation schedule (offsets, jobs on the bot's clock,
 * a restart after missed steps, acknowledge, stale Escalate clicks, the business-hours hold). */
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
#include "commands/paging/alerts.h"
#include "commands/paging/paging.h"
#include "lib/kx.h"
#include "lib/timeutil.h"
#include "storage/alerts.h"
#include "storage/db_internal.h"
#include "storage/pages.h"
#include "tests/unit/fixture.h"
#include "tests/unit/util.h"

static const char CONFIG[] =
    "timezone: Europe/Berlin\n"
    "people:\n"
    "  - {id: alice, slack: U0ALICE001}\n"
    "  - {id: bob, slack: U0BOB00001}\n"
    "  - {id: carol, slack: U0CAROL001}\n"
    "  - {id: dave, slack: U0DAVE0001}\n"
    "  - {id: erin, slack: U0ERIN0001, email: erin@example.com}\n"
    "  - {id: frank, slack: U0FRANK001}\n"
    "rotas:\n"
    "  - {name: platform, start: 2026-11-23, primary: [alice, bob, carol, dave], secondary: next,\n"
    "     manager: erin}\n"
    "severities:\n"
    "  - {name: P0, page: [primary, secondary], policy: default}\n"
    "  - {name: P1, page: [primary], policy: default}\n"
    "  - {name: P2, page: business_hours}\n"
    "escalation_policies:\n"
    "  - name: default\n"
    "    repeat: 1\n"
    "    steps:\n"
    "      - {after: 0m, notify: primary}\n"
    "      - {after: 15m, notify: secondary}\n"
    "      - {after: 30m, notify: manager}\n"
    "      - {after: 60m, notify: frank}\n"
    "  - name: single\n"
    "    steps: [{after: 0m, notify: primary}]\n"
    "alerts:\n"
    "  routes:\n"
    "    - {match: {severity: critical, team: db}, rota: platform, severity: P0}\n"
    "    - {match: {severity: critical}, rota: platform, severity: P1}\n"
    "    - {match: {severity: warning}, channel: C0ALERTS01}\n"
    "    - {match: {severity: info}, record: true}\n"
    "    - {match: {severity: low}, rota: platform, severity: P2}\n"
    "runbooks:\n"
    "  APIErrorRateSLOCritical: https://runbooks.example.com/api-errors\n";

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

/* Posts (pending or done) to a destination. */
static int64_t posts_to(struct fx *f, const char *dest)
{
  char sql[256];
  snprintf(sql, sizeof(sql),
           "SELECT count(*) FROM outbox WHERE method = 'chat.postMessage' AND queue = '%s'", dest);
  return count(f, sql);
}

/* Run a request (a transaction) through the dispatcher, as the transports do. */
static void in_tx(struct fx *f, int (*fn)(struct fx *f, void *arg), void *arg, int want)
{
  assert_int_equal(db_begin(f->db), 0);
  int rc = fn(f, arg);
  assert_int_equal(rc, want);
  if (rc == 0)
    assert_int_equal(db_commit(f->db), 0);
  else
    db_rollback(f->db);
}

static cJSON *parse_file(const char *path)
{
  char *text = test_read_file(path, NULL);
  assert_non_null(text);
  cJSON *j = cJSON_Parse(text);
  free(text);
  assert_non_null(j);
  return j;
}

static int ingest_json(struct fx *f, void *arg)
{
  const cJSON *root = arg;
  struct alert_batch b;
  char why[256];
  const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(root, "version"));
  int rc = alerts_parse(v ? ALERT_SRC_ALERTMANAGER : ALERT_SRC_WEBHOOK, root, &b, why, sizeof(why));
  if (rc)
    return rc;
  struct alerts_result res;
  rc = alerts_ingest(&f->ctx, &b, &res);
  alert_batch_free(&b);
  return rc;
}

static void ingest_text(struct fx *f, const char *json)
{
  cJSON *j = cJSON_Parse(json);
  assert_non_null(j);
  in_tx(f, ingest_json, j, 0);
  cJSON_Delete(j);
}

/* Deliver every outbox row as Slack would (a DM lands in D<user>), running hooks. */
static void deliver_all(struct fx *f)
{
  for (int round = 0; round < 50; round++) {
    struct outbox_row *rows = NULL;
    size_t n = 0;
    assert_int_equal(outbox_ready(f->db, 100, NULL, 0, &rows, &n), 0);
    if (n == 0) {
      outbox_rows_free(rows, n);
      return;
    }
    for (size_t i = 0; i < n; i++) {
      char channel[80], ts[32];
      snprintf(channel, sizeof(channel), "%s%s", rows[i].queue[0] == 'U' ? "D" : "", rows[i].queue);
      snprintf(ts, sizeof(ts), "1700000000.%06lld", (long long)rows[i].id);
      cJSON *resp = cJSON_CreateObject();
      cJSON_AddBoolToObject(resp, "ok", 1);
      cJSON_AddStringToObject(resp, "channel", channel);
      cJSON_AddStringToObject(resp, "ts", ts);
      struct cmd_result r = {.ok = true, .response = resp};
      assert_int_equal(cmd_outbox_result(&f->ctx, f->ctx.now_ms, &rows[i], &r), 0);
      cJSON_Delete(resp);
    }
    outbox_rows_free(rows, n);
  }
  fail_msg("the outbox never emptied");
}

static int run_jobs_at(struct fx *f, int64_t at)
{
  f->ctx.now_ms = at;
  return cmd_run_jobs(&f->ctx, f->ctx.now_ms, 100);
}

/* ---- parsing and routing --------------------------------------------------------------------- */

static void test_parse_alertmanager_fixture(void **state)
{
  (void)state;
  cJSON *j = parse_file("tests/fixtures/alertmanager/webhook_v4_firing.json");
  struct alert_batch b;
  char why[256];
  assert_int_equal(alerts_parse(ALERT_SRC_ALERTMANAGER, j, &b, why, sizeof(why)), 0);
  assert_int_equal(b.n, 2);
  assert_string_equal(b.group_key, "am:{}:{alertname=\"APIErrorRateSLOCritical\"}");
  assert_string_equal(b.items[0].fingerprint, "am:2fbd1c4a2e0e1b33");
  assert_true(b.items[0].firing);
  int64_t want;
  assert_int_equal(time_parse_rfc3339("2026-11-24T08:58:43.123Z", &want), 0);
  assert_int_equal(b.items[0].starts_at, want);
  assert_int_equal(b.items[0].ends_at, 0); /* Go's zero time */
  alert_batch_free(&b);
  cJSON_Delete(j);
}

static void test_parse_refusals(void **state)
{
  (void)state;
  static const struct {
    enum alert_source src;
    const char *json;
    int rc;
  } cases[] = {
      {ALERT_SRC_ALERTMANAGER, "[]", KX_EPROTO},
      {ALERT_SRC_ALERTMANAGER, "{\"title\":\"x\"}", KX_EPROTO},
      {ALERT_SRC_ALERTMANAGER,
       "{\"version\":\"3\",\"groupKey\":\"g\",\"status\":\"firing\",\"alerts\":[]}", KX_EPROTO},
      {ALERT_SRC_ALERTMANAGER,
       "{\"version\":4,\"groupKey\":\"g\",\"status\":\"firing\",\"alerts\":[]}", KX_EPROTO},
      {ALERT_SRC_ALERTMANAGER, "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[]}",
       KX_EPROTO},
      {ALERT_SRC_ALERTMANAGER,
       "{\"version\":\"4\",\"groupKey\":\"g\",\"status\":\"odd\",\"alerts\":[]}", KX_EPROTO},
      {ALERT_SRC_ALERTMANAGER,
       "{\"version\":\"4\",\"groupKey\":\"g\",\"status\":\"firing\",\"alerts\":{}}", KX_EPROTO},
      {ALERT_SRC_ALERTMANAGER,
       "{\"version\":\"4\",\"groupKey\":\"g\",\"status\":\"firing\",\"alerts\":[{\"status\":"
       "\"firing\","
       "\"labels\":{\"a\":1},\"startsAt\":\"2026-11-24T08:00:00Z\"}]}",
       KX_EPROTO},
      {ALERT_SRC_ALERTMANAGER,
       "{\"version\":\"4\",\"groupKey\":\"g\",\"status\":\"firing\",\"alerts\":[{\"status\":"
       "\"firing\","
       "\"labels\":{},\"startsAt\":\"soon\"}]}",
       KX_EPROTO},
      {ALERT_SRC_ALERTMANAGER,
       "{\"version\":\"4\",\"groupKey\":\"g\",\"status\":\"firing\",\"alerts\":[{\"status\":"
       "\"firing\","
       "\"labels\":{},\"startsAt\":\"2026-11-24T08:00:00Z\",\"fingerprint\":\"\"}]}",
       KX_EPROTO},
      {ALERT_SRC_WEBHOOK, "{\"severity\":\"critical\"}", KX_EPROTO},
      {ALERT_SRC_WEBHOOK, "{\"title\":\"\"}", KX_EPROTO},
      {ALERT_SRC_WEBHOOK, "{\"title\":\"x\",\"severity\":3}", KX_EPROTO},
      {ALERT_SRC_WEBHOOK, "{\"title\":\"x\",\"details\":[]}", KX_EPROTO},
      {ALERT_SRC_WEBHOOK, "{\"title\":\"x\",\"status\":\"maybe\"}", KX_EPROTO},
      {ALERT_SRC_WEBHOOK, "{\"title\":\"x\",\"status\":\"resolve\",\"details\":null}", 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cJSON *j = cJSON_Parse(cases[i].json);
    assert_non_null(j);
    struct alert_batch b;
    char why[256];
    int rc = alerts_parse(cases[i].src, j, &b, why, sizeof(why));
    if (rc != cases[i].rc)
      fail_msg("case %zu (%s): rc %d, want %d (%s)", i, cases[i].json, rc, cases[i].rc, why);
    if (rc)
      assert_true(why[0] != '\0');
    else
      alert_batch_free(&b);
    cJSON_Delete(j);
  }
  /* Over the cap: refused as too big. */
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "version", "4");
  cJSON_AddStringToObject(j, "groupKey", "g");
  cJSON_AddStringToObject(j, "status", "firing");
  cJSON *alerts = cJSON_AddArrayToObject(j, "alerts");
  for (int i = 0; i <= ALERTS_MAX_PER_REQUEST; i++)
    cJSON_AddItemToArray(alerts, cJSON_CreateObject());
  struct alert_batch b;
  char why[256];
  assert_int_equal(alerts_parse(ALERT_SRC_ALERTMANAGER, j, &b, why, sizeof(why)), KX_ETOOBIG);
  cJSON_Delete(j);
}

static void test_parse_webhook_and_fingerprints(void **state)
{
  (void)state;
  const char *a =
      "{\"title\":\"DiskFull\",\"severity\":\"critical\",\"source\":\"nagios\",\"dedup_key\":"
      "\"disk-db1\","
      "\"details\":{\"host\":\"db-1\",\"summary\":\"full\",\"n\":3},\"runbook_url\":\"https://r/"
      "x\"}";
  const char *b2 = "{\"title\":\"Other title\",\"dedup_key\":\"disk-db1\",\"status\":\"resolved\"}";
  cJSON *ja = cJSON_Parse(a), *jb = cJSON_Parse(b2);
  struct alert_batch x, y;
  char why[256];
  assert_int_equal(alerts_parse(ALERT_SRC_WEBHOOK, ja, &x, why, sizeof(why)), 0);
  assert_int_equal(alerts_parse(ALERT_SRC_WEBHOOK, jb, &y, why, sizeof(why)), 0);
  assert_string_equal(x.items[0].fingerprint, y.items[0].fingerprint); /* same dedup_key */
  assert_true(x.items[0].firing);
  assert_false(y.items[0].firing);
  const cJSON *l = x.items[0].labels;
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(l, "alertname")), "DiskFull");
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(l, "host")), "db-1");
  assert_null(cJSON_GetObjectItem(l, "n")); /* only strings become labels */
  assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(x.items[0].annotations, "summary")),
                      "full");
  alert_batch_free(&x);
  alert_batch_free(&y);
  cJSON_Delete(ja);
  cJSON_Delete(jb);
}

static void test_routing_first_match(void **state)
{
  struct fx *f = *state;
  static const struct {
    const char *labels;
    int route;
  } cases[] = {
      {"{\"severity\":\"critical\",\"team\":\"db\"}", 0},
      {"{\"severity\":\"critical\",\"team\":\"web\"}", 1},
      {"{\"severity\":\"critical\"}", 1},
      {"{\"severity\":\"warning\",\"team\":\"db\"}", 2},
      {"{\"severity\":\"info\"}", 3},
      {"{\"severity\":\"Critical\"}", -1},
      {"{\"alertname\":\"x\"}", -1},
      {"{}", -1},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    cJSON *l = cJSON_Parse(cases[i].labels);
    int r = alerts_route(f->c, l);
    if (r != cases[i].route)
      fail_msg("%s: route %d, want %d", cases[i].labels, r, cases[i].route);
    cJSON_Delete(l);
  }
}

/* ---- grouping -------------------------------------------------------------------------------- */

#define AM_HEAD "{\"version\":\"4\",\"groupKey\":\"%s\",\"status\":\"%s\",\"alerts\":["
#define AM_ALERT                                                                                  \
  "{\"status\":\"%s\",\"labels\":{\"alertname\":\"%s\",\"severity\":\"%s\",\"instance\":\"%s\"}," \
  "\"annotations\":{\"summary\":\"s\"},\"startsAt\":\"2026-11-24T08:50:00Z\",\"fingerprint\":\"%" \
  "s\"}"

static char *am(const char *group, const char *status, int n, const char *const *alert_args)
{
  struct buf b;
  buf_init(&b, 1 << 20);
  buf_printf(&b, AM_HEAD, group, status);
  for (int i = 0; i < n; i++) {
    const char *const *a = &alert_args[i * 5];
    buf_printf(&b, i ? "," AM_ALERT : AM_ALERT, a[0], a[1], a[2], a[3], a[4]);
  }
  buf_puts(&b, "]}");
  return buf_take(&b);
}

static void test_group_is_one_page_repeats_do_not_repage(void **state)
{
  struct fx *f = *state;
  const char *three[] = {"firing", "APIErrorRateSLOCritical", "critical", "a", "f1",
                         "firing", "APIErrorRateSLOCritical", "critical", "b", "f2",
                         "firing", "APIErrorRateSLOCritical", "critical", "c", "f3"};
  char *j = am("g1", "firing", 3, three);
  ingest_text(f, j);
  assert_int_equal(count(f, "SELECT count(*) FROM pages"), 1);
  assert_int_equal(count(f, "SELECT count(*) FROM alerts WHERE page_id = 1"), 3);
  assert_int_equal(posts_to(f, "U0ALICE001"), 1);
  assert_int_equal(
      count(f,
            "SELECT count(*) FROM pages WHERE runbook = 'https://runbooks.example.com/api-errors'"),
      1);
  deliver_all(f);
  /* The same webhook again (Alertmanager's repeat): no page, no message. */
  int64_t rows = count(f, "SELECT count(*) FROM outbox");
  ingest_text(f, j);
  free(j);
  assert_int_equal(count(f, "SELECT count(*) FROM outbox"), rows);
  assert_int_equal(count(f, "SELECT sum(receives) FROM alerts"), 6);
  /* Another group: another page. */
  const char *other[] = {"firing", "DiskFull", "critical", "d", "f9"};
  j = am("g2", "firing", 1, other);
  ingest_text(f, j);
  free(j);
  assert_int_equal(count(f, "SELECT count(*) FROM pages"), 2);
  /* Two of three resolve: the page stays open and its copy is updated once. */
  const char *two[] = {"resolved", "APIErrorRateSLOCritical", "critical", "a", "f1",
                       "resolved", "APIErrorRateSLOCritical", "critical", "b", "f2"};
  deliver_all(f);
  j = am("g1", "firing", 2, two);
  ingest_text(f, j);
  free(j);
  assert_int_equal(count(f, "SELECT count(*) FROM pages WHERE id = 1 AND state = 'open'"), 1);
  assert_int_equal(
      count(f, "SELECT count(*) FROM outbox WHERE method = 'chat.update' AND state = 'pending'"),
      1);
  /* The last one resolves: the page resolves and its escalation stops. */
  const char *last[] = {"resolved", "APIErrorRateSLOCritical", "critical", "c", "f3"};
  j = am("g1", "resolved", 1, last);
  ingest_text(f, j);
  free(j);
  assert_int_equal(count(f,
                         "SELECT count(*) FROM pages WHERE id = 1 AND state = 'resolved' AND "
                         "reason = 'alert_resolved'"),
                   1);
  assert_int_equal(
      count(f, "SELECT count(*) FROM jobs WHERE state = 'pending' AND key LIKE 'page:1:%'"), 0);
  assert_int_equal(
      count(f, "SELECT count(*) FROM jobs WHERE state = 'pending' AND key LIKE 'page:2:%'"), 1);
  /* It fires again: a new page for the group. */
  const char *again[] = {"firing", "APIErrorRateSLOCritical", "critical", "c", "f3"};
  j = am("g1", "firing", 1, again);
  ingest_text(f, j);
  free(j);
  assert_int_equal(count(f, "SELECT count(*) FROM pages"), 3);
  assert_int_equal(count(f, "SELECT fires FROM alerts WHERE fingerprint = 'am:f3'"), 2);
}

/* Another instance opens the group's page after this one looked and found none (a TEMP trigger
 * plays it: it inserts that page just before this instance's insert). The webhook still
 * succeeds: the alert joins the other instance's page, and this instance neither opens a
 * second page nor pages anyone (the page's owner did). */
static void test_group_opened_by_another_instance(void **state)
{
  struct fx *f = *state;
  assert_int_equal(db_exec(f->db,
                           "CREATE TEMP TRIGGER other_instance BEFORE INSERT ON pages"
                           " WHEN NEW.group_key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pages"
                           " WHERE group_key = NEW.group_key AND state != 'resolved') BEGIN"
                           " INSERT INTO pages (kind, group_key, title, source, created_at,"
                           " anchor_at) VALUES ('page', NEW.group_key, 'theirs', 'alertmanager',"
                           " 1, 1);"
                           " END"),
                   0);
  const char *one[] = {"firing", "APIErrorRateSLOCritical", "critical", "a", "f1"};
  char *j = am("g1", "firing", 1, one);
  ingest_text(f, j);
  free(j);
  assert_int_equal(count(f, "SELECT count(*) FROM pages"), 1);
  assert_int_equal(count(f,
                         "SELECT count(*) FROM alerts a JOIN pages p ON p.id = a.page_id"
                         " WHERE p.title = 'theirs'"),
                   1);
  assert_int_equal(posts_to(f, "U0ALICE001"), 0);
  assert_int_equal(count(f, "SELECT count(*) FROM jobs"), 0);
}

static void test_routes_post_record_and_p0(void **state)
{
  struct fx *f = *state;
  const char *mixed[] = {"firing", "QueueSlow", "warning", "q1", "w1",
                         "firing", "QueueSlow", "warning", "q2", "w2",
                         "firing", "QueueSlow", "info",    "q3", "i1"};
  char *j = am("g-warn", "firing", 3, mixed);
  ingest_text(f, j);
  free(j);
  assert_int_equal(
      count(f, "SELECT count(*) FROM pages WHERE kind = 'post' AND channel = 'C0ALERTS01'"), 1);
  assert_int_equal(posts_to(f, "C0ALERTS01"), 1);
  assert_int_equal(
      count(f, "SELECT count(*) FROM alerts WHERE action = 'record' AND page_id IS NULL"), 1);
  assert_int_equal(count(f, "SELECT count(*) FROM jobs"), 0); /* posts do not escalate */
  /* team=db critical: P0 pages primary and secondary at once. */
  ingest_text(f,
              "{\"title\":\"Replication "
              "broken\",\"severity\":\"critical\",\"team\":\"db\",\"details\":{\"team\":\"db\"}}");
  assert_int_equal(posts_to(f, "U0ALICE001"), 1);
  assert_int_equal(posts_to(f, "U0BOB00001"), 1);
  assert_int_equal(count(f, "SELECT count(*) FROM pages WHERE severity = 'P0'"), 1);
}

/* ---- the escalation schedule ----------------------------------------------------------------- */

static void test_step_offsets(void **state)
{
  struct fx *f = *state;
  const struct policy *p = config_policy(f->c, "default");
  assert_int_equal(paging_steps_total(p), 8);
  assert_int_equal(paging_round_ms(p), 90 * MS_PER_MIN); /* 60m + the 30m gap before it */
  static const int64_t want_min[] = {0, 15, 30, 60, 90, 105, 120, 150};
  for (int g = 0; g < 8; g++)
    assert_int_equal(paging_step_offset(p, g), want_min[g] * MS_PER_MIN);
  const struct policy *one = config_policy(f->c, "single");
  assert_int_equal(paging_steps_total(one), 1);
  assert_int_equal(paging_round_ms(one), MS_PER_MIN);
  struct policy_step steps[] = {{10 * MS_PER_MIN, NOTIFY_PRIMARY, NULL}};
  struct policy lone = {"lone", steps, 1, 2};
  assert_int_equal(paging_step_offset(&lone, 2), 30 * MS_PER_MIN);
}

static void test_escalation_jobs_ack_stops(void **state)
{
  struct fx *f = *state;
  ingest_text(f, "{\"title\":\"DiskFull\",\"severity\":\"critical\"}");
  assert_int_equal(posts_to(f, "U0ALICE001"), 1);
  assert_int_equal(jobs_next_due(f->db), f->t0 + 15 * MS_PER_MIN);
  assert_int_equal(run_jobs_at(f, f->t0 + 14 * MS_PER_MIN), 0);
  assert_int_equal(posts_to(f, "U0BOB00001"), 0);
  assert_int_equal(run_jobs_at(f, f->t0 + 15 * MS_PER_MIN), 1);
  assert_int_equal(posts_to(f, "U0BOB00001"), 1);
  assert_int_equal(jobs_next_due(f->db), f->t0 + 30 * MS_PER_MIN);
  deliver_all(f);
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  f->ctx.now_ms = f->t0 + 20 * MS_PER_MIN;
  assert_int_equal(db_begin(f->db), 0);
  assert_int_equal(paging_ack(&f->ctx, 1, "bob", &reply), 0);
  assert_int_equal(db_commit(f->db), 0);
  assert_non_null(strstr(reply.text.data, "20m"));
  cmd_reply_free(&reply);
  assert_int_equal(jobs_next_due(f->db), INT64_MAX);
  /* Both copies are brought up to date. */
  assert_int_equal(
      count(f, "SELECT count(*) FROM outbox WHERE method = 'chat.update' AND state = 'pending'"),
      2);
  assert_int_equal(run_jobs_at(f, f->t0 + 2 * 60 * MS_PER_MIN), 0);
  assert_int_equal(posts_to(f, "U0ERIN0001"), 0);
  assert_int_equal(count(f, "SELECT escalations FROM pages"), 1);
}

static void test_missed_steps_fire_once_after_a_restart(void **state)
{
  struct fx *f = *state;
  ingest_text(f, "{\"title\":\"DiskFull\",\"severity\":\"critical\"}");
  /* The bot was down from 5m to 45m: the 15m and 30m steps are both overdue. */
  int64_t at = f->t0 + 45 * MS_PER_MIN;
  for (int i = 0; i < 5; i++)
    run_jobs_at(f, at);
  assert_int_equal(posts_to(f, "U0BOB00001"), 1);
  assert_int_equal(posts_to(f, "U0ERIN0001"), 1);
  assert_int_equal(posts_to(f, "U0FRANK001"), 0);
  /* The next step is at 60m; before it, erin's own rules (the default: email 5m after the
   * DM) fall due at 50m. */
  assert_int_equal(count(f,
                         "SELECT min(due_at) FROM jobs WHERE state = 'pending'"
                         " AND key LIKE 'page:%:step:%'"),
                   f->t0 + 60 * MS_PER_MIN);
  assert_int_equal(count(f,
                         "SELECT due_at FROM jobs WHERE state = 'pending'"
                         " AND key = 'page:1:notify:erin:2:1'"),
                   f->t0 + 50 * MS_PER_MIN);
  /* The second round starts at 90m with the primary again. */
  run_jobs_at(f, f->t0 + 60 * MS_PER_MIN);
  run_jobs_at(f, f->t0 + 90 * MS_PER_MIN);
  assert_int_equal(posts_to(f, "U0FRANK001"), 1);
  assert_int_equal(posts_to(f, "U0ALICE001"), 2);
  for (int i = 0; i < 10; i++)
    run_jobs_at(f, f->t0 + 10 * 60 * MS_PER_MIN);
  assert_int_equal(posts_to(f, "U0FRANK001"), 2);
  /* repeat: 1 — two rounds, then no more steps (erin's own email rule may still be due). */
  assert_int_equal(count(f,
                         "SELECT count(*) FROM jobs WHERE state = 'pending'"
                         " AND key NOT LIKE 'page:%:notify:%'"),
                   0);
}

static int escalate_step(struct fx *f, void *arg)
{
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  int rc = paging_escalate(&f->ctx, 1, *(int64_t *)arg, "alice", &reply);
  cmd_reply_free(&reply);
  return rc;
}

static void test_escalate_now_and_stale_clicks(void **state)
{
  struct fx *f = *state;
  ingest_text(f, "{\"title\":\"DiskFull\",\"severity\":\"critical\"}");
  f->ctx.now_ms = f->t0 + 2 * MS_PER_MIN;
  int64_t step = 1;
  in_tx(f, escalate_step, &step, 0);
  assert_int_equal(posts_to(f, "U0BOB00001"), 1);
  in_tx(f, escalate_step, &step, KX_ESTATE); /* the same button again */
  assert_int_equal(posts_to(f, "U0BOB00001"), 1);
  /* The manager's step keeps its time from the page's creation. */
  assert_int_equal(jobs_next_due(f->db), f->t0 + 30 * MS_PER_MIN);
  assert_int_equal(run_jobs_at(f, f->t0 + 15 * MS_PER_MIN), 0);
  assert_int_equal(posts_to(f, "U0BOB00001"), 1);
}

static void test_business_hours_hold(void **state)
{
  struct fx *f = *state;
  int64_t night;
  assert_int_equal(time_parse_rfc3339("2026-11-24T02:00:00+01:00", &night), 0);
  f->ctx.now_ms = night;
  ingest_text(f, "{\"title\":\"Certificate expires in 20 days\",\"severity\":\"low\"}");
  assert_int_equal(posts_to(f, "U0ALICE001"), 0);
  int64_t eight;
  assert_int_equal(time_parse_rfc3339("2026-11-24T08:00:00+01:00", &eight), 0);
  assert_int_equal(jobs_next_due(f->db), eight);
  assert_int_equal(run_jobs_at(f, eight), 1);
  assert_int_equal(posts_to(f, "U0ALICE001"), 1);
  assert_int_equal(count(f, "SELECT count(*) FROM pages WHERE held_until = 0 AND was_held = 1"), 1);
}

static void test_copy_updates_coalesce(void **state)
{
  struct fx *f = *state;
  ingest_text(f, "{\"title\":\"DiskFull\",\"severity\":\"critical\",\"dedup_key\":\"d\"}");
  /* The DM is not delivered yet: changes are not sent as updates of a message that does not exist.
   */
  assert_int_equal(db_begin(f->db), 0);
  assert_int_equal(pages_bump(f->db, 1), 0);
  assert_int_equal(paging_refresh(&f->ctx, 1), 0);
  assert_int_equal(pages_bump(f->db, 1), 0);
  assert_int_equal(paging_refresh(&f->ctx, 1), 0);
  assert_int_equal(db_commit(f->db), 0);
  assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE method = 'chat.update'"), 0);
  /* Once it lands, one update brings it to the newest version. */
  deliver_all(f);
  assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE method = 'chat.update'"), 1);
  assert_int_equal(count(f, "SELECT version FROM page_copies"),
                   count(f, "SELECT version FROM pages"));
  assert_int_equal(count(f, "SELECT updating FROM page_copies"), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_alertmanager_fixture),
      cmocka_unit_test(test_parse_refusals),
      cmocka_unit_test(test_parse_webhook_and_fingerprints),
      cmocka_unit_test_setup_teardown(test_routing_first_match, setup, teardown),
      cmocka_unit_test_setup_teardown(test_group_is_one_page_repeats_do_not_repage, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_group_opened_by_another_instance, setup, teardown),
      cmocka_unit_test_setup_teardown(test_routes_post_record_and_p0, setup, teardown),
      cmocka_unit_test_setup_teardown(test_step_offsets, setup, teardown),
      cmocka_unit_test_setup_teardown(test_escalation_jobs_ack_stops, setup, teardown),
      cmocka_unit_test_setup_teardown(test_missed_steps_fire_once_after_a_restart, setup, teardown),
      cmocka_unit_test_setup_teardown(test_escalate_now_and_stale_clicks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_business_hours_hold, setup, teardown),
      cmocka_unit_test_setup_teardown(test_copy_updates_coalesce, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
