/* klaxon import pagerduty on PagerDuty's own documented examples (tests/fixtures/pagerduty_import):
 * the mapping, the line-by-line report, the YAML the config loader accepts, the comparison with
 * the rendered final schedule, and hostile or unknown input refused. Values inside the documented
 * shapes are changed where a case needs it (a 12-hour turn, three layers, 10,000 layers). */
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
#include "lib/timeutil.h"
#include "tests/unit/util.h"

#define FIX "tests/fixtures/pagerduty_import/"

static cJSON *fixture(const char *name)
{
  char path[256];
  snprintf(path, sizeof path, FIX "export/%s.json", name);
  char *text = test_read_file(path, NULL);
  assert_non_null(text);
  cJSON *j = cJSON_Parse(text);
  free(text);
  assert_non_null(j);
  return j;
}

/* The export as the CLI merges a directory: each file's list under its key. */
static cJSON *export_root(int with_list_schedules)
{
  static const char *const lists[] = {"users", "schedules", "escalation_policies", "services"};
  cJSON *root = cJSON_CreateObject();
  for (int i = 0; i < 4; i++) {
    if (i == 1 && !with_list_schedules)
      continue;
    cJSON *j = fixture(lists[i]);
    cJSON_AddItemToObject(root, lists[i], cJSON_DetachItemFromObject(j, lists[i]));
    cJSON_Delete(j);
  }
  cJSON *one = fixture("schedule");
  cJSON_AddItemToObject(root, "schedule", cJSON_DetachItemFromObject(one, "schedule"));
  cJSON_Delete(one);
  return root;
}

static cJSON *layer0(cJSON *root)
{
  cJSON *s = cJSON_GetObjectItem(root, "schedule");
  return cJSON_GetArrayItem(cJSON_GetObjectItem(s, "schedule_layers"), 0);
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
  assert_int_equal(imp_yaml(r, "PagerDuty", &y), 0);
  struct config_problems pr = {0};
  struct config *c = config_load_string(y.data, y.len, "imported", &pr);
  for (size_t i = 0; i < pr.n; i++)
    print_error("line %d: %s\n", pr.items[i].line, pr.items[i].message);
  if (!c)
    print_error("%s", y.data);
  assert_non_null(c);
  assert_int_equal(c->n_rotas, r->n_rotas);
  assert_int_equal(c->n_people, r->n_people);
  config_free(c);
  config_problems_free(&pr);
  buf_free(&y);
}

static void test_documented_export(void **state)
{
  (void)state;
  cJSON *root = export_root(1);
  struct imp_result r;
  assert_int_equal(imp_pagerduty(root, &r), 0);
  assert_int_equal(r.n_people, 2);
  assert_string_equal(r.people[0].id, "125.greenholt.earline");
  assert_string_equal(r.people[0].email, "125.greenholt.earline@graham.name");
  assert_null(r.people[0].phone);
  assert_int_equal(r.n_rotas, 1); /* the list's schedule rotates a user who was not exported */
  const struct imp_rota *o = &r.rotas[0];
  assert_string_equal(o->name, "daily-engineering-rotation");
  assert_string_equal(o->timezone, "America/New_York");
  assert_int_equal(o->shift_days, 1);
  assert_int_equal(o->handoff_minute, 20 * 60);
  assert_int_equal(o->start.y, 2015), assert_int_equal(o->start.m, 11),
      assert_int_equal(o->start.d, 6);
  assert_int_equal(o->n_primary, 1);
  assert_string_equal(o->primary[0], "125.greenholt.earline");
  assert_int_equal(o->n_secondary, 0);
  assert_int_equal(r.n_policies, 1);
  assert_int_equal(r.policies[0].n_steps, 1);
  assert_string_equal(r.policies[0].steps[0].notify, "primary");
  assert_string_equal(r.policies[0].rota, "daily-engineering-rotation");
  assert_int_equal(r.n_routes, 1);
  assert_string_equal(r.routes[0].key_env, "PD_KEY_MY_APPLICATION_SERVICE");
  assert_null(r.routes[0].policy); /* its policy PT20YPA is not in the export */
  assert_report_has(&r, "schedule PI7DH85: user PEYSGVF is not among the exported users");
  assert_report_has(&r, "layer Layer 1: restricted to 9.0h from 08:00:00 each day");
  assert_report_has(&r, "escalation policy PANZZEQ, rule 1: user PEYSGVF");
  assert_report_has(&r, "service PIJ90N7: escalation policy PT20YPA was not imported");
  assert_loads(&r);
  /* The documented final schedule (PXPGF42, 10 Nov 08:00-17:00 New York) round-trips. */
  struct imp_diff *d;
  size_t n;
  int64_t from, to, want;
  assert_int_equal(imp_compare(o, &d, &n, &from, &to), 0);
  assert_int_equal(n, 0);
  assert_int_equal(time_parse_rfc3339("2015-11-10T08:00:00-05:00", &want), 0);
  assert_int_equal(from, want);
  assert_int_equal(to - from, 9 * MS_PER_HOUR);
  free(d);
  imp_result_free(&r);
  cJSON_Delete(root);
}

/* A 12-hour turn: reported, carried as 1d, and the comparison shows where that differs. */
static void test_twelve_hour_turn(void **state)
{
  (void)state;
  cJSON *root = export_root(0);
  cJSON *l = layer0(root);
  cJSON_ReplaceItemInObject(l, "rotation_turn_length_seconds", cJSON_CreateNumber(43200));
  cJSON *users = cJSON_GetObjectItem(l, "users");
  cJSON *second = cJSON_Duplicate(cJSON_GetArrayItem(users, 0), 1);
  cJSON_ReplaceItemInObject(cJSON_GetObjectItem(second, "user"), "id",
                            cJSON_CreateString("PAM4FGS"));
  cJSON_AddItemToArray(users, second);
  /* PagerDuty's rendering of 12-hour turns from 7 Nov 20:00: PXPGF42 at night, PAM4FGS by day. */
  cJSON *ents = cJSON_GetObjectItem(
      cJSON_GetObjectItem(cJSON_GetObjectItem(root, "schedule"), "final_schedule"),
      "rendered_schedule_entries");
  cJSON *e0 = cJSON_GetArrayItem(ents, 0), *e1 = cJSON_Duplicate(e0, 1);
  cJSON_ReplaceItemInObject(e0, "start", cJSON_CreateString("2015-11-07T20:00:00-05:00"));
  cJSON_ReplaceItemInObject(e0, "end", cJSON_CreateString("2015-11-08T08:00:00-05:00"));
  cJSON_ReplaceItemInObject(e1, "start", cJSON_CreateString("2015-11-08T08:00:00-05:00"));
  cJSON_ReplaceItemInObject(e1, "end", cJSON_CreateString("2015-11-08T20:00:00-05:00"));
  cJSON_ReplaceItemInObject(cJSON_GetObjectItem(e1, "user"), "id", cJSON_CreateString("PAM4FGS"));
  cJSON_AddItemToArray(ents, e1);
  struct imp_result r;
  assert_int_equal(imp_pagerduty(root, &r), 0);
  assert_report_has(&r, "a rotation of 12h cannot be carried over");
  assert_int_equal(r.rotas[0].shift_days, 1);
  assert_int_equal(r.rotas[0].n_primary, 2);
  struct imp_diff *d;
  size_t n;
  int64_t from, to, a, b;
  assert_int_equal(imp_compare(&r.rotas[0], &d, &n, &from, &to), 0);
  /* klaxon: shift 1 (7 Nov 20:00 to 8 Nov 20:00) is the second person's, whole. */
  assert_int_equal(n, 1);
  time_parse_rfc3339("2015-11-07T20:00:00-05:00", &a);
  time_parse_rfc3339("2015-11-08T08:00:00-05:00", &b);
  assert_int_equal(d[0].from_ms, a);
  assert_int_equal(d[0].to_ms, b);
  assert_string_equal(d[0].theirs, "125.greenholt.earline");
  assert_string_equal(d[0].ours, "126_dvm_kyler_kuhn");
  free(d);
  assert_loads(&r);
  imp_result_free(&r);
  cJSON_Delete(root);
}

static void test_three_layers_and_weekly_restriction(void **state)
{
  (void)state;
  cJSON *root = export_root(0);
  cJSON *layers = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "schedule"), "schedule_layers");
  cJSON *l0 = cJSON_GetArrayItem(layers, 0);
  cJSON_ReplaceItemInObject(l0, "rotation_turn_length_seconds", cJSON_CreateNumber(604800));
  cJSON *x = cJSON_GetArrayItem(cJSON_GetObjectItem(l0, "restrictions"), 0);
  cJSON_ReplaceItemInObject(x, "type", cJSON_CreateString("weekly_restriction"));
  cJSON_AddNumberToObject(x, "start_day_of_week", 1);
  cJSON_ReplaceItemInObject(x, "duration_seconds", cJSON_CreateNumber(5 * 86400));
  for (int i = 0; i < 2; i++) {
    cJSON *l = cJSON_Duplicate(l0, 1);
    cJSON_ReplaceItemInObject(l, "name", cJSON_CreateString(i ? "Layer 3" : "Layer 2"));
    cJSON_ReplaceItemInObject(
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(l, "users"), 0), "user"), "id",
        cJSON_CreateString("PAM4FGS"));
    cJSON_AddItemToArray(layers, l);
  }
  struct imp_result r;
  assert_int_equal(imp_pagerduty(root, &r), 0);
  const struct imp_rota *o = &r.rotas[0];
  assert_int_equal(o->shift_days, 7);
  assert_int_equal(o->handoff_wday, 5); /* 6 Nov 2015 was a Friday */
  assert_int_equal(o->n_secondary, 1);
  assert_string_equal(o->secondary[0], "126_dvm_kyler_kuhn");
  assert_report_has(&r, "layer Layer 1: restricted to 120.0h from Monday 08:00:00 each week");
  assert_report_has(&r, "layer Layer 2: became the secondary");
  assert_report_has(&r,
                    "layer Layer 3: klaxon has a primary and a secondary, so layer 3 is left out");
  assert_loads(&r);
  imp_result_free(&r);
  cJSON_Delete(root);
}

static void test_policy_delays_accumulate_and_phone(void **state)
{
  (void)state;
  cJSON *root = export_root(0);
  cJSON *ep = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "escalation_policies"), 0);
  cJSON *rules = cJSON_GetObjectItem(ep, "escalation_rules");
  cJSON *r0 = cJSON_GetArrayItem(rules, 0);
  /* rule 1: the schedule after 30 minutes' delay; rule 2: user PXPGF42, delay 15 */
  cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(r0, "targets"), 0), "id",
                            cJSON_CreateString("PXPGF42"));
  cJSON *r1 = cJSON_Duplicate(r0, 1);
  cJSON_ReplaceItemInObject(r1, "escalation_delay_in_minutes", cJSON_CreateNumber(15));
  cJSON_AddItemToArray(rules, r1);
  cJSON_ReplaceItemInObject(ep, "num_loops", cJSON_CreateNumber(2));
  /* the user's contact methods expanded (include[]=contact_methods): the schema's phone example */
  char *pc = test_read_file(FIX "phone_contact_method.json", NULL);
  cJSON *u = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "users"), 0);
  cJSON_ReplaceItemInObject(u, "contact_methods", cJSON_CreateArray());
  cJSON_AddItemToArray(cJSON_GetObjectItem(u, "contact_methods"), cJSON_Parse(pc));
  free(pc);
  struct imp_result r;
  assert_int_equal(imp_pagerduty(root, &r), 0);
  assert_string_equal(r.people[0].phone, "+1231234567");
  const struct imp_policy *p = &r.policies[0];
  assert_int_equal(p->repeat, 2);
  assert_int_equal(p->n_steps, 4);
  int after[] = {0, 0, 30, 30};
  const char *who[] = {"125.greenholt.earline", "primary", "125.greenholt.earline", "primary"};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(p->steps[i].after_min, after[i]);
    assert_string_equal(p->steps[i].notify, who[i]);
  }
  assert_loads(&r);
  imp_result_free(&r);
  cJSON_Delete(root);
}

static void test_hostile_and_unknown_refused(void **state)
{
  (void)state;
  struct imp_result r;
  /* 10,000 layers */
  cJSON *root = export_root(0);
  cJSON *layers = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "schedule"), "schedule_layers");
  for (int i = 0; i < 9999; i++)
    cJSON_AddItemToArray(layers, cJSON_Duplicate(cJSON_GetArrayItem(layers, 0), 1));
  assert_int_equal(imp_pagerduty(root, &r), KX_ETOOBIG);
  assert_non_null(strstr(r.error, "more layers"));
  imp_result_free(&r);
  cJSON_Delete(root);
  /* not an object, unknown keys, lists that are not lists, nothing usable */
  const char *bad[] = {"[1,2]",
                       "{\"data\": []}",
                       "{\"users\": {}}",
                       "{\"schedules\": \"x\"}",
                       "{\"users\": [{\"name\": \"no id\"}]}",
                       "{\"schedule\": [1]}"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    root = cJSON_Parse(bad[i]);
    assert_int_equal(imp_pagerduty(root, &r), KX_EINVAL);
    assert_non_null(r.error);
    imp_result_free(&r);
    cJSON_Delete(root);
  }
  root = cJSON_Parse("{\"users\": [], \"schedules\": []}");
  assert_int_equal(imp_pagerduty(root, &r), KX_ENOTFOUND);
  assert_non_null(strstr(r.error, "nothing to import"));
  imp_result_free(&r);
  cJSON_Delete(root);
  /* a schedule whose only user is not exported: nothing to import, said line by line */
  root = export_root(1);
  cJSON_DeleteItemFromObject(root, "schedule");
  assert_int_equal(imp_pagerduty(root, &r), KX_ENOTFOUND);
  assert_report_has(&r, "schedule PI7DH85: no exported user in its first layer, left out");
  imp_result_free(&r);
  cJSON_Delete(root);
}

/* A rotation set up long ago: moved forward by whole cycles, said, and the turns unchanged. */
static void test_old_virtual_start_moves_by_whole_cycles(void **state)
{
  (void)state;
  cJSON *root = export_root(0);
  cJSON *l = layer0(root);
  cJSON_ReplaceItemInObject(l, "rotation_virtual_start",
                            cJSON_CreateString("1915-11-06T20:00:00-05:00"));
  cJSON *users = cJSON_GetObjectItem(l, "users");
  cJSON *second = cJSON_Duplicate(cJSON_GetArrayItem(users, 0), 1);
  cJSON_ReplaceItemInObject(cJSON_GetObjectItem(second, "user"), "id",
                            cJSON_CreateString("PAM4FGS"));
  cJSON_AddItemToArray(users, second);
  struct imp_result r;
  assert_int_equal(imp_pagerduty(root, &r), 0);
  const struct imp_rota *o = &r.rotas[0];
  assert_report_has(&r, "its rotation starts 1915-11-06; klaxon starts it whole cycles later");
  assert_true(o->start.y == 1971);
  int64_t moved = date_to_days(o->start) - date_to_days((struct kx_date){1915, 11, 6});
  assert_int_equal(moved % 2, 0); /* two people, one day each: a cycle is 2 days */
  /* 6 Nov 1915 to 10 Nov 2015 is an even number of days: PXPGF42's turn on 10 Nov, as rendered */
  struct imp_diff *d;
  size_t n;
  int64_t from, to;
  assert_int_equal(imp_compare(o, &d, &n, &from, &to), 0);
  assert_int_equal(n, 0);
  free(d);
  assert_loads(&r);
  imp_result_free(&r);
  cJSON_Delete(root);
}

static void test_slug(void **state)
{
  (void)state;
  char *s = imp_slug("Daily  Engineering/Rotation!", 0);
  assert_string_equal(s, "daily-engineering-rotation");
  free(s);
  s = imp_slug("J.Doe+pd", 1);
  assert_string_equal(s, "j.doe-pd");
  free(s);
  s = imp_slug("???", 0);
  assert_string_equal(s, "x");
  free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_documented_export),
      cmocka_unit_test(test_twelve_hour_turn),
      cmocka_unit_test(test_three_layers_and_weekly_restriction),
      cmocka_unit_test(test_policy_delays_accumulate_and_phone),
      cmocka_unit_test(test_hostile_and_unknown_refused),
      cmocka_unit_test(test_old_virtual_start_moves_by_whole_cycles),
      cmocka_unit_test(test_slug),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
