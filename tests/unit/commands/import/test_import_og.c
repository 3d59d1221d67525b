/* klaxon import opsgenie on the fixtures assembled from Opsgenie's OpenAPI definitions
 * (tests/fixtures/opsgenie_import): the mapping, the report, YAML the config loader accepts,
 * delays counted from the alert, and hostile or unknown input refused. */
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

#include "bot/config/config_load.h"
#include "commands/import/import.h"
#include "lib/kx.h"
#include "tests/unit/util.h"

/* The export as the CLI merges a directory: each file's "data" under the file's name. */
static cJSON *export_root(void)
{
  static const char *const lists[] = {"users", "schedules", "escalations", "teams"};
  cJSON *root = cJSON_CreateObject();
  for (int i = 0; i < 4; i++) {
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/opsgenie_import/export/%s.json", lists[i]);
    char *text = test_read_file(path, NULL);
    assert_non_null(text);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    cJSON_AddItemToObject(root, lists[i], cJSON_DetachItemFromObject(j, "data"));
    cJSON_Delete(j);
  }
  return root;
}

static cJSON *rotations(cJSON *root)
{
  return cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "schedules"), 0),
                             "rotations");
}

static void assert_report_has(const struct imp_result *r, const char *text)
{
  if (!r->report.data || !strstr(r->report.data, text))
    fail_msg("report lacks \"%s\"; report:\n%s", text, r->report.data ? r->report.data : "");
}

static void assert_loads(const struct imp_result *r)
{
  struct buf y;
  buf_init(&y, IMP_MAX_YAML_BYTES);
  assert_int_equal(imp_yaml(r, "Opsgenie", &y), 0);
  struct config_problems pr = {0};
  struct config *c = config_load_string(y.data, y.len, "imported", &pr);
  for (size_t i = 0; i < pr.n; i++)
    print_error("line %d: %s\n", pr.items[i].line, pr.items[i].message);
  assert_non_null(c);
  assert_int_equal(c->n_policies, r->n_policies);
  assert_int_equal(c->alerts.n_routes, r->n_routes);
  config_free(c);
  config_problems_free(&pr);
  buf_free(&y);
}

static void test_fixture_export(void **state)
{
  (void)state;
  cJSON *root = export_root();
  struct imp_result r;
  assert_int_equal(imp_opsgenie(root, &r), 0);
  assert_int_equal(r.n_people, 3);
  assert_string_equal(r.people[1].id, "bob");
  assert_string_equal(r.people[1].name, "Bob Roe");
  assert_int_equal(r.n_rotas, 1);
  const struct imp_rota *o = &r.rotas[0];
  assert_string_equal(o->name, "ops_team_schedule");
  assert_int_equal(o->shift_days, 7);
  assert_int_equal(o->handoff_wday, 0);        /* 15 Jan 2017 was a Sunday */
  assert_int_equal(o->handoff_minute, 7 * 60); /* 08:00+02:00 is 07:00 in Berlin in winter */
  assert_int_equal(o->n_primary, 2);
  assert_string_equal(o->primary[1], "bob");
  assert_int_equal(o->n_secondary, 1);
  assert_string_equal(o->secondary[0], "carol");
  assert_int_equal(o->n_entries, 0); /* no rendered timeline: nothing to compare */
  const struct imp_policy *p = &r.policies[0];
  assert_string_equal(p->name, "newescalation");
  assert_int_equal(p->repeat, 2);
  assert_int_equal(p->n_steps, 3);
  assert_int_equal(p->steps[0].after_min, 1);
  assert_string_equal(p->steps[0].notify, "primary");
  assert_int_equal(p->steps[1].after_min, 10);
  assert_string_equal(p->steps[1].notify, "secondary");
  assert_int_equal(p->steps[2].after_min, 60);
  assert_string_equal(p->steps[2].notify, "alice");
  assert_int_equal(r.n_routes, 1);
  assert_string_equal(r.routes[0].label, "team");
  assert_string_equal(r.routes[0].key_env, "ops_team");
  assert_string_equal(r.routes[0].policy, "newescalation");
  assert_report_has(&r, "rotation Second Rotation: restricted (weekday-and-time-of-day)");
  assert_report_has(&r, "rotation 2 turns on its own rhythm (hourly, length 12)");
  assert_report_has(&r, "participant none cannot be carried over");
  assert_report_has(&r, "handoffs on a Sunday; klaxon moves weekly handoffs off the weekend");
  assert_report_has(&r, "rule 3: if-not-closed becomes if-not-acknowledged");
  assert_report_has(&r, "rule 4: recipient type team not carried over");
  assert_loads(&r);
  imp_result_free(&r);
  cJSON_Delete(root);
}

/* Opsgenie counts each delay from the alert: rules out of order still give rising `after`s. */
static void test_delays_from_the_alert_and_hourly(void **state)
{
  (void)state;
  cJSON *root = export_root();
  cJSON *rules =
      cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "escalations"), 0), "rules");
  cJSON *first = cJSON_DetachItemFromArray(rules, 0);
  cJSON_AddItemToArray(rules, first); /* the 1-minute rule last */
  cJSON *r0 = cJSON_GetArrayItem(rotations(root), 0);
  cJSON_ReplaceItemInObject(r0, "type", cJSON_CreateString("hourly"));
  cJSON_ReplaceItemInObject(r0, "length", cJSON_CreateNumber(12));
  struct imp_result r;
  assert_int_equal(imp_opsgenie(root, &r), 0);
  assert_report_has(&r, "rotation First Rotation: a rotation of 12h cannot be carried over");
  assert_int_equal(r.rotas[0].shift_days, 1);
  const struct imp_policy *p = &r.policies[0];
  for (size_t i = 1; i < p->n_steps; i++)
    assert_true(p->steps[i - 1].after_min <= p->steps[i].after_min);
  assert_int_equal(p->steps[0].after_min, 1);
  assert_loads(&r);
  imp_result_free(&r);
  /* daily, length 3: shifts of 3 days, nothing to say about the length */
  cJSON_ReplaceItemInObject(r0, "type", cJSON_CreateString("daily"));
  cJSON_ReplaceItemInObject(r0, "length", cJSON_CreateNumber(3));
  assert_int_equal(imp_opsgenie(root, &r), 0);
  assert_int_equal(r.rotas[0].shift_days, 3);
  assert_null(strstr(r.report.data, "rotation First Rotation: a rotation of"));
  assert_loads(&r);
  imp_result_free(&r);
  cJSON_Delete(root);
}

static void test_hostile_and_unknown_refused(void **state)
{
  (void)state;
  struct imp_result r;
  cJSON *root = export_root();
  cJSON *rots = rotations(root);
  for (int i = 0; i < 9998; i++)
    cJSON_AddItemToArray(rots, cJSON_Duplicate(cJSON_GetArrayItem(rots, 0), 1));
  assert_int_equal(imp_opsgenie(root, &r), KX_ETOOBIG);
  assert_non_null(strstr(r.error, "more rotations"));
  imp_result_free(&r);
  cJSON_Delete(root);
  const char *bad[] = {"\"x\"", "{\"data\": []}", "{\"users\": {}}", "{\"users\": [{}]}",
                       "{\"users\": [], \"services\": []}"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    root = cJSON_Parse(bad[i]);
    assert_int_equal(imp_opsgenie(root, &r), KX_EINVAL);
    assert_non_null(r.error);
    imp_result_free(&r);
    cJSON_Delete(root);
  }
  /* users whose usernames are no emails: nothing to import */
  root =
      cJSON_Parse("{\"users\": [{\"id\": \"u1\", \"username\": \"nobody\"}], \"schedules\": []}");
  assert_int_equal(imp_opsgenie(root, &r), KX_ENOTFOUND);
  assert_report_has(&r, "user u1 (?): no usable email, left out");
  imp_result_free(&r);
  cJSON_Delete(root);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fixture_export),
      cmocka_unit_test(test_delays_from_the_alert_and_hourly),
      cmocka_unit_test(test_hostile_and_unknown_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
