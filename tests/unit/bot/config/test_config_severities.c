/*
 * test_config_severities.c — the config keys of issue 11's "severities that mean what they
 * say": severities[].mention, contacts[] (E.164 phones) and `contact:NAME` steps, and alert
 * routes that mail (`email`, `digest`, `hours`) or carry a severity on a channel route. The
 * good forms load with every field right; each bad one gives one problem on its line.
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
#include "bot/config/config_load_internal.h"

#define TZ "timezone: UTC\n"
#define PEOPLE "people: [{id: alice, slack: U0ALICE001}, {id: bob, email: bob@example.com}]\n"
#define SEVS "severities: [{name: P1}]\n"
#define ROTA "rotas: [{name: r, start: 2026-11-23, primary: [alice]}]\n"
#define SMTP "smtp: {url: \"smtp://127.0.0.1:2525\", from: k@example.com}\n"
#define BASE TZ PEOPLE SEVS ROTA SMTP /* five lines; cases add from line 6 */

static void dump(const struct config_problems *pr)
{
  for (size_t i = 0; i < pr->n; i++)
    print_message("  line %d: %s\n", pr->items[i].line, pr->items[i].message);
}

static struct config *load_ok(const char *yaml)
{
  struct config_problems pr;
  struct config *c = config_load_string(yaml, strlen(yaml), "test.yaml", &pr);
  if (!c || pr.n) {
    dump(&pr);
    fail();
    abort();
  }
  config_problems_free(&pr);
  return c;
}

/* One E.164 check for every phone in the config (cfg_phone_normalise, config_notify.c):
 * separators are allowed and dropped, the rest is strict. */
static bool e164(const char *s, const char *want)
{
  char out[17];
  bool ok = cfg_phone_normalise(s, out, sizeof(out));
  return ok && (!want || strcmp(out, want) == 0);
}

static void test_e164(void **state)
{
  (void)state;
  assert_true(e164("+4930123456", "+4930123456"));
  assert_true(e164("+14155550100", "+14155550100"));
  assert_true(e164("+123456789012345", NULL)); /* 15 digits */
  assert_false(e164("+1234567890123456", NULL));
  assert_false(e164("4930123456", NULL));
  assert_false(e164("+0301234567", NULL));
  assert_true(e164("+49 30 123456", "+4930123456"));
  assert_true(e164("+49 (30) 123-456", "+4930123456"));
  assert_false(e164("+49 30 CALL", NULL));
  assert_false(e164("+1234567", NULL)); /* 7 digits: too short */
  assert_false(e164("+", NULL));
  assert_false(e164("", NULL));
  assert_false(e164(NULL, NULL));
}

static void test_good_forms(void **state)
{
  (void)state;
  struct config *c = load_ok(
      TZ PEOPLE
      "severities: [{name: P0, mention: here, action_due: 3d}, {name: P1, mention: channel}, "
      "{name: P2, mention: none}, {name: P3}]\n" ROTA SMTP
      "contacts: [{name: hosting, phone: \"+4930123456\", email: noc@hosting.example}, "
      "{name: security, email: sec@example.com}, {name: isp, phone: \"+14155550100\"}]\n"
      "escalation_policies: [{name: d, steps: [{after: 0m, notify: primary}, {after: 1h, notify: "
      "\"contact:hosting\"}]}]\n"
      "alerts: {routes: [{match: {severity: info}, email: [bob, ops@example.com], digest: "
      "next_business_day, hours: r}, {match: {severity: low}, email: [bob]}, "
      "{match: {severity: warning}, channel: C0ALERTS01, severity: p1}]}\n");
  assert_int_equal(c->severities[0].mention, MENTION_HERE);
  assert_int_equal(c->severities[1].mention, MENTION_CHANNEL);
  assert_int_equal(c->severities[2].mention, MENTION_NONE);
  assert_int_equal(c->severities[3].mention, MENTION_NONE);
  assert_int_equal(c->severities[0].action_due_ms, 3 * 86400000LL); /* issue 14 */
  assert_int_equal(c->severities[1].action_due_ms, 0);
  assert_int_equal(c->n_contacts, 3);
  const struct outside_contact *k = config_contact(c, "hosting");
  assert_non_null(k);
  assert_string_equal(k->phone, "+4930123456");
  assert_string_equal(k->email, "noc@hosting.example");
  assert_null(config_contact(c, "security")->phone);
  assert_null(config_contact(c, "isp")->email);
  assert_null(config_contact(c, "nobody"));
  const struct policy_step *st = &c->policies[0].steps[1];
  assert_int_equal(st->kind, NOTIFY_CONTACT);
  assert_string_equal(st->target, "hosting");
  const struct alert_route *r = &c->alerts.routes[0];
  assert_int_equal(r->n_email, 2);
  assert_string_equal(r->email[0], "bob");
  assert_string_equal(r->email[1], "ops@example.com");
  assert_true(r->digest);
  assert_string_equal(r->hours_rota, "r");
  assert_false(c->alerts.routes[1].digest);
  assert_null(c->alerts.routes[1].hours_rota);
  assert_string_equal(c->alerts.routes[2].severity, "P1"); /* stored as the severity spells it */
  config_free(c);
}

/* The example config's contacts (appended at its end). */
static void test_example_contacts(void **state)
{
  (void)state;
  struct config_problems pr;
  struct config *c = config_load_file(KLAXON_SRCDIR "/deploy/klaxon.example.yaml", &pr);
  if (!c)
    dump(&pr);
  assert_non_null(c);
  config_problems_free(&pr);
  assert_int_equal(c->n_contacts, 2);
  assert_string_equal(config_contact(c, "hosting")->phone, "+4930123456");
  assert_string_equal(config_contact(c, "security")->email, "security@example.com");
  config_free(c);
}

struct bad_case {
  const char *name;
  const char *yaml;
  int line;
  const char *expect;
  size_t n;
};

#define STEP(s) "escalation_policies: [{name: d, steps: [{after: 0m, notify: " s "}]}]\n"
#define RT(s) "alerts: {routes: [" s "]}\n"

static const struct bad_case CASES[] = {
    {"mention unknown", TZ PEOPLE "severities: [{name: P1, mention: everyone}]\n" ROTA, 3,
     "severities[0].mention: \"everyone\" is not here, channel or none", 1},
    /* issue 14: action items' default due date */
    {"action_due short", TZ PEOPLE "severities: [{name: P1, action_due: 2h}]\n" ROTA, 3,
     "severities[0].action_due must be between 1d and 366d", 1},
    {"action_due long", TZ PEOPLE "severities: [{name: P1, action_due: 400d}]\n" ROTA, 3,
     "severities[0].action_due must be between 1d and 366d", 1},
    {"action_due not a duration", TZ PEOPLE "severities: [{name: P1, action_due: soon}]\n" ROTA, 3,
     "severities[0].action_due: \"soon\" is not a duration", 1},
    {"contact phone not e164", BASE "contacts: [{name: isp, phone: \"030 123456\"}]\n", 6,
     "contacts[0].phone: \"030 123456\" is not an E.164 phone number", 1},
    {"contact phone no plus", BASE "contacts: [{name: isp, phone: \"4930123456\"}]\n", 6,
     "is not an E.164 phone number", 1},
    {"contact email bad", BASE "contacts: [{name: isp, email: not-an-address}]\n", 6,
     "contacts[0].email: \"not-an-address\" is not", 1},
    {"contact nothing", BASE "contacts: [{name: isp}]\n", 6, "contacts[0]: give phone (E.164)", 1},
    {"contact no name", BASE "contacts: [{email: a@example.com}]\n", 6,
     "contacts[0].name is missing", 1},
    {"contact twice",
     BASE "contacts: [{name: isp, email: a@example.com}, {name: isp, email: "
          "b@example.com}]\n",
     6, "contact name \"isp\"", 1},
    {"contact unknown key", BASE "contacts: [{name: isp, email: a@example.com, fax: 1}]\n", 6,
     "unknown key \"fax\"", 1},
    {"step contact unknown",
     BASE "contacts: [{name: isp, email: a@example.com}]\n" STEP("\"contact:x\""), 7,
     "contact \"x\" is not in contacts", 1},
    {"step contact no contacts", BASE STEP("\"contact:isp\""), 6,
     "contact \"isp\" is not in contacts", 1},
    {"step contact mail no smtp",
     TZ PEOPLE SEVS ROTA "contacts: [{name: isp, email: a@example.com}]\n" STEP("\"contact:isp\""),
     6, "a contact: step mails, and needs an smtp block", 1},
    {"route email no smtp", TZ PEOPLE SEVS ROTA RT("{match: {a: b}, email: [bob]}"), 5,
     "alerts.routes[0].email: a route that mails needs an smtp block", 1},
    {"route email empty", BASE RT("{match: {a: b}, email: []}"), 6,
     "alerts.routes[0].email is empty", 1},
    {"route email person without", BASE RT("{match: {a: b}, email: [alice]}"), 6,
     "\"alice\" has no email in people", 1},
    {"route email neither", BASE RT("{match: {a: b}, email: [carol]}"), 6,
     "\"carol\" is neither a person id nor", 1},
    {"route email and rota", BASE RT("{match: {a: b}, email: [bob], rota: r}"), 6,
     "a route has only one of rota, channel, email or record: true", 1},
    {"route digest unknown", BASE RT("{match: {a: b}, email: [bob], digest: weekly}"), 6,
     "alerts.routes[0].digest: \"weekly\" is not next_business_day or none", 1},
    {"route digest without email",
     BASE RT("{match: {a: b}, record: true, digest: next_business_day}"), 6,
     "digest and hours only go with email", 1},
    {"route hours without digest", BASE RT("{match: {a: b}, email: [bob], hours: r}"), 6,
     "hours only goes with digest: next_business_day", 1},
    {"route hours unknown rota",
     BASE RT("{match: {a: b}, email: [bob], digest: next_business_day, hours: nope}"), 6,
     "hours \"nope\" is not in rotas", 1},
    {"record with severity", BASE RT("{match: {a: b}, record: true, severity: P1}"), 6,
     "severity only goes with rota (a route that pages) or channel", 1},
    {"channel with policy", BASE RT("{match: {a: b}, channel: C0ALERTS01, policy: d}"), 6,
     "policy only goes with rota", 2}, /* and policy "d" is not in escalation_policies */
};

static void run_case(void **state)
{
  const struct bad_case *tc = *state;
  struct config_problems pr;
  struct config *c = config_load_string(tc->yaml, strlen(tc->yaml), "test.yaml", &pr);
  bool found = false;
  for (size_t i = 0; i < pr.n; i++)
    found |= pr.items[i].line == tc->line && strstr(pr.items[i].message, tc->expect);
  if (c || pr.n != tc->n || !found) {
    print_message("case \"%s\": want %zu problem(s), one on line %d with \"%s\"; got %zu:\n",
                  tc->name, tc->n, tc->line, tc->expect, pr.n);
    dump(&pr);
  }
  assert_null(c);
  assert_true(found);
  assert_int_equal(pr.n, tc->n);
  config_problems_free(&pr);
}

int main(void)
{
  static const struct CMUnitTest fixed[] = {
      cmocka_unit_test(test_e164),
      cmocka_unit_test(test_good_forms),
      cmocka_unit_test(test_example_contacts),
  };
  size_t n_fixed = sizeof(fixed) / sizeof(fixed[0]), n_cases = sizeof(CASES) / sizeof(CASES[0]);
  struct CMUnitTest *tests = calloc(n_fixed + n_cases, sizeof(*tests));
  if (!tests)
    return 1;
  memcpy(tests, fixed, sizeof(fixed));
  for (size_t i = 0; i < n_cases; i++) {
    tests[n_fixed + i].name = CASES[i].name;
    tests[n_fixed + i].test_func = run_case;
    tests[n_fixed + i].initial_state = (void *)&CASES[i];
  }
  int rc = _cmocka_run_group_tests("config_severities", tests, n_fixed + n_cases, NULL, NULL);
  free(tests);
  return rc;
}
