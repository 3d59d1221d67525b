/*
 * test_config_operator.c — the operator block (issue 15): who is told when a platform refuses
 * klaxon. Loads with one address or a list, a Teams channel (with the Teams bot) and a Slack
 * channel; each bad form gives one problem on its line (the operator block is line 4).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* cmocka.h needs the headers above first. */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "bot/config/config_load.h"

#define HEAD "timezone: UTC\npeople: [{id: alice, slack: U0ALICE001}]\nseverities: [{name: P1}]\n"
#define TAIL "rotas: [{name: r, start: 2026-11-23, primary: [alice]}]\n"
#define SMTP "smtp: {url: \"smtp://127.0.0.1:2525\", from: klaxon@example.com}\n"
#define TEAMS "teams: {app_id: 00000000-0000-0000-0000-000000000000, app_password_env: TP}\n"
#define TEAMS_CH "\"19:a1b2c3d4e5f60718293a4b5c6d7e8f90@thread.tacv2\""

static void dump(const struct config_problems *pr)
{
  for (size_t i = 0; i < pr->n; i++)
    print_message("  line %d: %s\n", pr->items[i].line, pr->items[i].message);
}

static struct config *load(const char *yaml, struct config_problems *pr)
{
  struct config *c = config_load_string(yaml, strlen(yaml), "t.yaml", pr);
  if (!c)
    dump(pr);
  return c;
}

static void test_good(void **state)
{
  (void)state;
  static const char all[] = HEAD
      "operator: {email: [ops@example.com, oncall-lead@example.com], "
      "teams_channel: " TEAMS_CH ", slack_channel: C0OPS00001}\n" TAIL SMTP TEAMS;
  static const char one[] = HEAD "operator: {email: ops@example.com}\n" TAIL SMTP;
  static const char none[] = HEAD TAIL;
  struct config_problems pr;
  struct config *c = load(all, &pr);
  assert_non_null(c);
  assert_int_equal(c->operator.n_email, 2);
  assert_string_equal(c->operator.email[0], "ops@example.com");
  assert_string_equal(c->operator.email[1], "oncall-lead@example.com");
  assert_string_equal(c->operator.teams_channel,
                      "19:a1b2c3d4e5f60718293a4b5c6d7e8f90@thread.tacv2");
  assert_string_equal(c->operator.slack_channel, "C0OPS00001");
  config_free(c);
  config_problems_free(&pr);
  c = load(one, &pr);
  assert_non_null(c);
  assert_int_equal(c->operator.n_email, 1);
  assert_string_equal(c->operator.email[0], "ops@example.com");
  assert_null(c->operator.teams_channel);
  assert_null(c->operator.slack_channel);
  config_free(c);
  config_problems_free(&pr);
  c = load(none, &pr);
  assert_non_null(c);
  assert_int_equal(c->operator.n_email, 0);
  assert_null(c->operator.teams_channel);
  config_free(c);
  config_problems_free(&pr);
}

struct bad_case {
  const char *name, *yaml, *expect;
};

static const struct bad_case CASES[] = {
    {"email without smtp", HEAD "operator: {email: ops@example.com}\n" TAIL,
     "operator.email: mail needs an smtp block"},
    {"not an address", HEAD "operator: {email: [ops]}\n" TAIL SMTP, "operator.email[0]"},
    {"empty list", HEAD "operator: {email: []}\n" TAIL SMTP, "operator.email is an empty list"},
    {"teams without the bot", HEAD "operator: {teams_channel: " TEAMS_CH "}\n" TAIL,
     "needs the Teams bot"},
    {"teams channel malformed", HEAD "operator: {teams_channel: general}\n" TAIL TEAMS,
     "operator.teams_channel"},
    {"slack channel malformed", HEAD "operator: {slack_channel: \"#ops\"}\n" TAIL,
     "operator.slack_channel"},
    {"nothing given", HEAD "operator: {}\n" TAIL, "give email, teams_channel or slack_channel"},
    {"unknown key", HEAD "operator: {email: ops@example.com, mail: x}\n" TAIL SMTP,
     "unknown key \"mail\" in operator"},
};

static void run_case(void **state)
{
  const struct bad_case *tc = *state;
  struct config_problems pr;
  struct config *c = config_load_string(tc->yaml, strlen(tc->yaml), "t.yaml", &pr);
  bool found = false;
  for (size_t i = 0; i < pr.n; i++)
    found |= pr.items[i].line == 4 && strstr(pr.items[i].message, tc->expect);
  if (c || pr.n != 1 || !found) {
    print_message("case \"%s\": want one problem on line 4 with \"%s\"; got %zu:\n", tc->name,
                  tc->expect, pr.n);
    dump(&pr);
  }
  assert_null(c);
  assert_true(found);
  assert_int_equal(pr.n, 1);
  config_problems_free(&pr);
}

int main(void)
{
  static const struct CMUnitTest fixed[] = {cmocka_unit_test(test_good)};
  size_t n_fixed = 1, n_cases = sizeof(CASES) / sizeof(CASES[0]);
  struct CMUnitTest *tests = calloc(n_fixed + n_cases, sizeof(*tests));
  if (!tests)
    return 1;
  memcpy(tests, fixed, sizeof(fixed));
  for (size_t i = 0; i < n_cases; i++) {
    tests[n_fixed + i].name = CASES[i].name;
    tests[n_fixed + i].test_func = run_case;
    tests[n_fixed + i].initial_state = (void *)&CASES[i];
  }
  int rc = _cmocka_run_group_tests("config_operator", tests, n_fixed + n_cases, NULL, NULL);
  free(tests);
  return rc;
}
