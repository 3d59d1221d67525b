/* The status page's domain on a real in-memory database: check results raising one alert after
 * down_after and resolving it on recovery, a missed heartbeat, maintenance silencing, component
 * states from open incidents only, the JSON's shape and escaping, the form parser, and the
 * config's checks. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/command.h"
#include "commands/core/names.h"
#include "commands/status/status.h"
#include "lib/kx.h"
#include "lib/webform.h"
#include "storage/incidents.h"
#include "storage/status.h"
#include "tests/unit/fixture.h"

static const char CONFIG[] =
    "timezone: Europe/Berlin\n"
    "people:\n"
    "  - {id: alice, slack: U0ALICE001}\n"
    "  - {id: bob, slack: U0BOB00001}\n"
    "rotas:\n"
    "  - {name: platform, start: 2026-11-23, primary: [alice, bob]}\n"
    "severities:\n"
    "  - {name: P1, page: [primary]}\n"
    "  - {name: P2, page: [primary], status_page: never}\n"
    "alerts:\n"
    "  routes:\n"
    "    - {match: {severity: critical}, rota: platform, severity: P1}\n"
    "status_page:\n"
    "  title: \"Ex <b>\"\n"
    "  components:\n"
    "    - {name: api, description: \"A & B\", match: {service: api}}\n"
    "    - web\n"
    "checks:\n"
    "  - {name: api-health, http: \"http://127.0.0.1:9/h\", every: 30s, down_after: 2m, component: "
    "api}\n"
    "  - {name: db, tcp: \"127.0.0.1:5432\", component: web}\n"
    "heartbeats:\n"
    "  - {name: backup, every: 5m, grace: 2m, component: web}\n";

static int result(struct fx *f, const char *name, bool ok, int64_t at)
{
  cJSON *p = cJSON_CreateObject();
  cJSON_AddStringToObject(p, "name", name);
  cJSON_AddBoolToObject(p, "ok", ok);
  cJSON_AddNumberToObject(p, "ms", 12);
  if (!ok)
    cJSON_AddStringToObject(p, "detail", "HTTP 503");
  struct cmd_request req = {.platform = CMD_PLATFORM_HTTP,
                            .kind = CMD_KIND_ACTION,
                            .now_ms = at,
                            .action_id = CMD_ACTION_STATUS_CHECK,
                            .user = "checks",
                            .payload = p};
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  f->ctx.now_ms = at;
  int rc = cmd_dispatch(&f->ctx, &req, &reply);
  cmd_reply_free(&reply);
  cJSON_Delete(p);
  return rc;
}

static void test_config(void **state)
{
  (void)state;
  struct fx *f = fx_new(CONFIG, "2026-11-24T10:00:00+01:00");
  assert_int_equal(f->c->n_checks, 2);
  assert_string_equal(f->c->checks[0].http, "http://127.0.0.1:9/h");
  assert_int_equal(f->c->checks[0].down_after_ms, 2 * 60000);
  assert_int_equal(f->c->checks[1].every_ms, 30000); /* the default */
  assert_string_equal(f->c->checks[0].severity, "critical");
  assert_int_equal(f->c->n_heartbeats, 1);
  assert_int_equal(f->c->status_page.n_components, 2);
  assert_string_equal(f->c->status_page.comp[0].match_keys[0], "service");
  assert_string_equal(f->c->severities[1].status_page, "never");
  fx_free(f);
  /* Wrong ones are refused with their line. */
  static const char *const bad[] = {
      "checks: [{name: x, every: 30s}]\n",           /* neither http nor tcp */
      "checks: [{name: X!, http: \"http://a/\"}]\n", /* name */
      "checks: [{name: x, tcp: nohost}]\n",          /* host:port */
      "checks: [{name: x, http: \"http://a/\", component: nope}]\n",
      "heartbeats: [{name: x, every: 0m}]\n",
      "checks: [{name: x, http: \"http://a/\"}]\nheartbeats: [{name: x}]\n", /* same name */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             "timezone: UTC\npeople: [{id: a, slack: U0A0000001}]\nrotas: [{name: r, start: "
             "2026-11-23, primary: [a]}]\nseverities: [{name: P1}]\n%s",
             bad[i]);
    struct config_problems pr;
    struct config *c = config_load_string(yaml, strlen(yaml), "t", &pr);
    assert_null(c);
    assert_true(pr.n >= 1);
    config_problems_free(&pr);
  }
}

static void test_check_raises_once_and_resolves(void **state)
{
  (void)state;
  struct fx *f = fx_new(CONFIG, "2026-11-24T10:00:00+01:00");
  int64_t t = f->t0;
  assert_int_equal(result(f, "api-health", true, t), 0);
  for (int i = 1; i <= 4; i++) /* 30 s .. 2 min: failing, not yet down */
    assert_int_equal(result(f, "api-health", false, t + i * 30000), 0);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM alerts"), 0);
  assert_int_equal(result(f, "api-health", false, t + 5 * 30000), 0); /* 2 min since the first */
  assert_int_equal(fx_count(f, "SELECT count(*) FROM pages WHERE kind = 'page'"), 1);
  for (int i = 6; i <= 10; i++)
    assert_int_equal(result(f, "api-health", false, t + i * 30000), 0);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM pages"), 1);
  assert_int_equal(fx_count(f, "SELECT fires FROM alerts"), 1);
  struct status_model m;
  f->ctx.now_ms = t + 10 * 30000;
  assert_int_equal(status_model_build(&f->ctx, &m), 0);
  assert_int_equal(m.state[0], STATUS_MAJOR);
  status_model_free(&m);
  assert_int_equal(result(f, "api-health", true, t + 11 * 30000), 0);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM pages WHERE state = 'resolved'"), 1);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM alerts WHERE status = 'resolved'"), 1);
  assert_int_equal(fx_count(f, "SELECT ok FROM status_days"), 2);
  assert_int_equal(fx_count(f, "SELECT total FROM status_days"), 12);
  fx_free(f);
}

static void test_maintenance_silences(void **state)
{
  (void)state;
  struct fx *f = fx_new(CONFIG, "2026-11-24T10:00:00+01:00");
  int64_t t = f->t0;
  struct status_window w = {0, "api", t, t + 10 * 60000, "upgrade", "test"};
  int64_t id;
  assert_int_equal(status_window_add(f->db, &w, t, &id), 0);
  assert_int_equal(status_window_add(f->db, &w, t, &id), KX_EEXISTS);
  for (int i = 0; i <= 12; i++)
    assert_int_equal(result(f, "api-health", false, t + i * 30000), 0);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM alerts"), 0);
  f->ctx.now_ms = t + 60000;
  struct status_model m;
  assert_int_equal(status_model_build(&f->ctx, &m), 0);
  assert_int_equal(m.state[0], STATUS_MAINTENANCE);
  status_model_free(&m);
  cJSON *labels = cJSON_Parse("{\"service\":\"api\",\"alertname\":\"X\"}");
  assert_int_equal(status_alert_in_maintenance(&f->ctx, labels), 1);
  f->ctx.now_ms = t + 11 * 60000;
  assert_int_equal(status_alert_in_maintenance(&f->ctx, labels), 0);
  cJSON_Delete(labels);
  /* After the window the still-failing check pages. */
  assert_int_equal(result(f, "api-health", false, t + 11 * 60000), 0);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM pages"), 1);
  fx_free(f);
}

static void test_components_from_open_incidents_and_json(void **state)
{
  (void)state;
  struct fx *f = fx_new(CONFIG, "2026-11-24T10:00:00+01:00");
  struct incident_create n = {0};
  n.title = "Pay <script>";
  n.severity = "P1";
  n.platform = "slack";
  n.declared_by = "alice";
  n.declared_at = f->t0;
  int64_t id;
  assert_int_equal(incidents_create(f->db, &n, &id), 0);
  assert_int_equal(status_component_set(f->db, id, "web", STATUS_PARTIAL, f->t0), 0);
  assert_int_equal(status_update_add(f->db, id, "investigating", "slow \"x\" <i>", f->t0, NULL), 0);
  struct buf b;
  buf_init(&b, STATUS_PAGE_MAX);
  assert_int_equal(status_render_json(&f->ctx, "summary", &b), 0);
  cJSON *root = cJSON_Parse(b.data);
  assert_non_null(root);
  cJSON *comps = cJSON_GetObjectItem(root, "components");
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(comps, 1), "status")->valuestring,
                      "partial_outage");
  cJSON *st = cJSON_GetObjectItem(root, "status");
  assert_string_equal(cJSON_GetObjectItem(st, "indicator")->valuestring, "major");
  cJSON *inc = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "incidents"), 0);
  assert_string_equal(cJSON_GetObjectItem(inc, "name")->valuestring, "Pay <script>");
  cJSON_Delete(root);
  buf_reset(&b);
  assert_int_equal(status_render_html(&f->ctx, &b), 0);
  assert_non_null(strstr(b.data, "Pay &lt;script&gt;"));
  assert_non_null(strstr(b.data, "slow &quot;x&quot; &lt;i&gt;"));
  assert_non_null(strstr(b.data, "<title>Ex &lt;b&gt;</title>"));
  assert_null(strstr(b.data, "<script"));
  buf_reset(&b);
  assert_int_equal(status_render_json(&f->ctx, "nope", &b), KX_ENOTFOUND);
  /* Resolved: the component is restored. */
  assert_int_equal(incidents_set_time(f->db, id, INCIDENT_F_RESOLVED_AT, f->t0 + 1000), 0);
  struct status_model m;
  assert_int_equal(status_model_build(&f->ctx, &m), 0);
  assert_int_equal(m.state[1], STATUS_OPERATIONAL);
  status_model_free(&m);
  buf_free(&b);
  fx_free(f);
}

static void test_form(void **state)
{
  (void)state;
  char out[64];
  const char body[] = "a=1&email=x%2By+z%40example.com&token=abc";
  assert_int_equal(webform_get(body, strlen(body), "email", out, sizeof(out)), 0);
  assert_string_equal(out, "x+y z@example.com");
  assert_int_equal(webform_get(body, strlen(body), "nope", out, sizeof(out)), KX_ENOTFOUND);
  assert_int_equal(webform_get("email=%4", 8, "email", out, sizeof(out)), KX_EPROTO);
  assert_int_equal(webform_get("email=ab%00", 11, "email", out, sizeof(out)), KX_EPROTO);
  assert_string_equal(out, ""); /* a refusal leaves nothing half-written (found by fuzz_webform) */
  assert_int_equal(webform_get("email=abcdef", 12, "email", out, 4), KX_ETOOBIG);
  /* Bounded by len, not by a terminator. */
  assert_int_equal(webform_get("email=ab&x", 7, "email", out, sizeof(out)), 0);
  assert_string_equal(out, "a");
  assert_true(webform_email_ok("reader@example.com"));
  assert_false(webform_email_ok("a@b"));
  assert_false(webform_email_ok("a@b.c, d@e.f"));
  assert_false(webform_email_ok("a@b.c\r\nBcc: x@y.z"));
  assert_false(webform_email_ok("<a@b.c>"));
  assert_false(webform_email_ok("a@@b.c"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_config),
      cmocka_unit_test(test_check_raises_once_and_resolves),
      cmocka_unit_test(test_maintenance_silences),
      cmocka_unit_test(test_components_from_open_incidents_and_json),
      cmocka_unit_test(test_form),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
