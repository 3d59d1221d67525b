/*
 * test_config_tracker.c — rotas[].tracker (issue 14): GitHub and Jira load with every field
 * right (Jira's issue_type defaults to Task); each bad form gives one problem on its line.
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
#define ROTA(t) "rotas: [{name: r, start: 2026-11-23, primary: [alice], tracker: " t "}]\n"

static void dump(const struct config_problems *pr)
{
  for (size_t i = 0; i < pr->n; i++)
    print_message("  line %d: %s\n", pr->items[i].line, pr->items[i].message);
}

static void test_good(void **state)
{
  (void)state;
  static const char gh[] = HEAD ROTA(
      "{github: {repo: acme/platform, token_env: GH_TOKEN, webhook_secret_env: GH_HOOK}}");
  static const char jira[] = HEAD ROTA(
      "{jira: {url: \"https://acme.atlassian.net\", project: OPS, email_env: "
      "JIRA_EMAIL, token_env: JIRA_TOKEN}}");
  struct config_problems pr;
  struct config *c = config_load_string(gh, strlen(gh), "t.yaml", &pr);
  if (!c)
    dump(&pr);
  assert_non_null(c);
  const struct tracker *t = &c->rotas[0].tracker;
  assert_int_equal(t->kind, TRACKER_GITHUB);
  assert_string_equal(t->repo, "acme/platform");
  assert_string_equal(t->token_env, "GH_TOKEN");
  assert_string_equal(t->webhook_secret_env, "GH_HOOK");
  config_free(c);
  config_problems_free(&pr);
  c = config_load_string(jira, strlen(jira), "t.yaml", &pr);
  if (!c)
    dump(&pr);
  assert_non_null(c);
  t = &c->rotas[0].tracker;
  assert_int_equal(t->kind, TRACKER_JIRA);
  assert_string_equal(t->url, "https://acme.atlassian.net");
  assert_string_equal(t->project, "OPS");
  assert_string_equal(t->issue_type, "Task");
  assert_string_equal(t->email_env, "JIRA_EMAIL");
  assert_null(t->webhook_secret_env);
  config_free(c);
  config_problems_free(&pr);
}

struct bad_case {
  const char *name, *yaml, *expect;
};

static const struct bad_case CASES[] = {
    {"both", HEAD ROTA("{github: {repo: a/b, token_env: T, webhook_secret_env: S}, jira: {}}"),
     "give one of github or jira"},
    {"neither", HEAD ROTA("{}"), "give one of github or jira"},
    {"unknown tracker", HEAD ROTA("{gitlab: {}}"), "unknown key \"gitlab\""},
    {"bad repo", HEAD ROTA("{github: {repo: platform, token_env: T, webhook_secret_env: S}}"),
     "is not owner/name"},
    {"no token", HEAD ROTA("{github: {repo: a/b, webhook_secret_env: S}}"), "token_env"},
    {"no secret", HEAD ROTA("{github: {repo: a/b, token_env: T}}"), "webhook_secret_env"},
    {"token not a variable",
     HEAD ROTA("{github: {repo: a/b, token_env: \"ghp_abc-123\", webhook_secret_env: S}}"),
     "token_env"},
    {"jira bad project",
     HEAD ROTA("{jira: {url: \"https://a.atlassian.net\", project: ops, email_env: E, "
               "token_env: T}}"),
     "is not a Jira project key"},
    {"jira bad url",
     HEAD ROTA("{jira: {url: \"acme.atlassian.net\", project: OPS, email_env: E, token_env: T}}"),
     "url"},
    {"jira no email",
     HEAD ROTA("{jira: {url: \"https://a.atlassian.net\", project: OPS, token_env: T}}"),
     "email_env"},
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
  int rc = _cmocka_run_group_tests("config_tracker", tests, n_fixed + n_cases, NULL, NULL);
  free(tests);
  return rc;
}
