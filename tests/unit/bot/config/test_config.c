/*
 * test_config.c — the YAML config loader (bot/config_load.c, bot/config_schema.c).
 *
 * The example config must load with every field right; then data-driven cases: YAML in,
 * the problem's line and a piece of its sentence out (and how many problems in all, so a
 * mistake does not also produce noise). Then the edges: syntax errors, empty and huge
 * files, aliases and merges, the alias bomb, list caps, several problems in one file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* cmocka.h needs the headers above first. */
// clang-format off
#include <cmocka.h>
// clang-format on

#include "bot/config/config_load.h"
#include "bot/config/config_load_internal.h"
#include "lib/timeutil.h"

#define EXAMPLE KLAXON_SRCDIR "/deploy/klaxon.example.yaml"

static struct config *load(const char *yaml, struct config_problems *pr)
{
  return config_load_string(yaml, strlen(yaml), "test.yaml", pr);
}

static void dump(const struct config_problems *pr)
{
  for (size_t i = 0; i < pr->n; i++)
    print_message("  line %d: %s\n", pr->items[i].line, pr->items[i].message);
}

/* Loads text that must be valid; otherwise shows the problems and fails the test. */
static struct config *load_ok(const char *yaml, size_t len, const char *name)
{
  struct config_problems pr;
  struct config *c = name ? config_load_string(yaml, len, name, &pr) : config_load_file(yaml, &pr);
  if (!c || pr.n) {
    dump(&pr);
    fail();
    abort(); /* not reached: fail() does not return (said for the static analyser) */
  }
  config_problems_free(&pr);
  return c;
}

#define LOAD_OK(yaml) load_ok(yaml, strlen(yaml), "test.yaml")

static const struct config_problem *find(const struct config_problems *pr,
                                         int line,
                                         const char *sub)
{
  for (size_t i = 0; i < pr->n; i++)
    if (pr->items[i].line == line && strstr(pr->items[i].message, sub))
      return &pr->items[i];
  return NULL;
}

static void expect_problem(const struct config_problems *pr, int line, const char *sub)
{
  if (!find(pr, line, sub)) {
    print_message("expected a problem on line %d containing \"%s\"; got:\n", line, sub);
    dump(pr);
    fail();
  }
}

/* ---- the example -------------------------------------------------------------------------- */

static void check_example_people_rotas(const struct config *c)
{
  assert_string_equal(c->path, EXAMPLE);
  assert_string_equal(c->timezone, "Europe/Berlin");
  assert_string_equal(c->storage_path, "/var/lib/klaxon/klaxon.db");
  assert_string_equal(c->http_listen, "127.0.0.1:8080");
  assert_string_equal(c->http_feed_secret_env, "KLAXON_FEED_SECRET");
  assert_string_equal(c->public_url, "https://klaxon.example.com");
  assert_string_equal(c->log_level, "info");
  assert_string_equal(c->log_format, "text");

  assert_string_equal(c->slack.announce_channel, "C0INCIDENT");
  assert_string_equal(c->slack.handoff_channel, "C0ONCALL01");
  assert_string_equal(c->slack.stakeholder_channel, "C0STAKEHLD");
  assert_string_equal(c->slack.app_token_env, "SLACK_APP_TOKEN");
  assert_string_equal(c->slack.bot_token_env, "SLACK_BOT_TOKEN");
  assert_int_equal(c->slack.ping_interval_ms, 10000);
  assert_int_equal(c->slack.pong_timeout_ms, 20000);

  assert_int_equal(c->n_people, 8);
  const struct person *alice = config_person(c, "alice");
  assert_non_null(alice);
  assert_string_equal(alice->name, "Alice Doe");
  assert_string_equal(alice->slack, "U0ALICE001");
  assert_string_equal(alice->email, "alice@example.com");
  assert_string_equal(alice->teams, "6f1d2a3b-1c4d-4e5f-8a9b-0c1d2e3f4a5b");
  assert_string_equal(alice->phone, "+49301234567"); /* written with spaces, kept as E.164 */
  assert_string_equal(alice->push, "https://ntfy.sh/klaxon-alice-8f3k2");
  assert_false(alice->push_webhook);
  assert_int_equal(alice->n_notify, 3);
  assert_int_equal(alice->notify[0].after_ms, 0);
  assert_int_equal(alice->notify[0].via, VIA_CHAT | VIA_PUSH);
  assert_int_equal(alice->notify[1].after_ms, 2 * 60 * 1000);
  assert_int_equal(alice->notify[1].via, VIA_SMS);
  assert_int_equal(alice->notify[2].via, VIA_VOICE);
  const struct person *dave = config_person(c, "dave");
  assert_null(dave->slack);
  assert_string_equal(dave->email, "dave@example.com");
  assert_ptr_equal(config_person_by_slack(c, "U0CAROL001"), config_person(c, "carol"));

  assert_int_equal(c->n_rotas, 1);
  const struct rota *r = config_rota(c, "platform");
  assert_non_null(r);
  assert_string_equal(r->timezone, "Europe/Berlin");
  assert_int_equal(r->handoff_wday, 1);
  assert_int_equal(r->handoff_minute, 540);
  assert_int_equal(r->shift_days, 7);
  assert_int_equal(r->start.y, 2026);
  assert_int_equal(r->start.m, 11);
  assert_int_equal(r->start.d, 23);
  assert_int_equal(r->n_primary, 4);
  assert_string_equal(r->primary[0], "alice");
  assert_string_equal(r->primary[3], "dave");
  assert_int_equal(r->secondary_mode, SECONDARY_NEXT);
  assert_int_equal(r->n_secondary, 0);
  assert_int_equal(r->n_shadow, 1);
  assert_string_equal(r->shadow[0], "gina");
  assert_string_equal(r->manager, "erin");
  assert_int_equal(r->n_holidays, 2);
  assert_int_equal(r->holidays[0].d, 28);
  assert_int_equal(r->holidays[1].y, 2027);
  assert_true(r->has_hours);
  assert_int_equal(r->hours_days, 0x3e); /* Monday to Friday */
  assert_int_equal(r->hours_start_min, 480);
  assert_int_equal(r->hours_end_min, 1080);
  assert_int_equal(r->n_contacts, 2);
  assert_string_equal(r->contacts[0].role, "crm");
  assert_string_equal(r->contacts[0].person, "frank");
  assert_string_equal(r->contacts[1].role, "finance");
  assert_string_equal(r->contacts[1].person, "grace");
  assert_string_equal(r->usergroup, "S0PLATFORM");
  assert_string_equal(r->handoff_channel, "C0ONCALL01");
  assert_int_equal(r->line, 57);
}

static void check_example_paging(const struct config *c)
{
  assert_int_equal(c->n_severities, 3);
  const struct severity *p0 = config_severity(c, "p0");
  assert_non_null(p0);
  assert_string_equal(p0->name, "P0");
  assert_int_equal(p0->rank, 0);
  assert_int_equal(p0->ack_ms, 5 * MS_PER_MIN);
  assert_int_equal(p0->resolve_ms, MS_PER_HOUR);
  assert_int_equal(p0->update_every_ms, 15 * MS_PER_MIN);
  assert_true(p0->page_primary && p0->page_secondary && !p0->page_business_hours);
  assert_true(p0->stakeholders);
  assert_string_equal(p0->policy, "default");
  const struct severity *p1 = config_severity(c, "P1");
  assert_true(p1->page_primary && !p1->page_secondary && !p1->stakeholders);
  assert_int_equal(p1->rank, 1);
  const struct severity *p2 = config_severity(c, "P2");
  assert_true(p2->page_business_hours && !p2->page_primary && !p2->page_secondary);
  assert_int_equal(p2->update_every_ms, 0);
  assert_null(p2->policy);
  assert_string_equal(c->default_severity, "P2");

  assert_int_equal(c->n_policies, 1);
  const struct policy *pol = config_policy(c, "default");
  assert_int_equal(pol->repeat, 0);
  assert_int_equal(pol->n_steps, 6);
  assert_int_equal(pol->steps[0].kind, NOTIFY_PRIMARY);
  assert_int_equal(pol->steps[0].after_ms, 0);
  assert_int_equal(pol->steps[1].kind, NOTIFY_SECONDARY);
  assert_int_equal(pol->steps[1].after_ms, 15 * MS_PER_MIN);
  assert_int_equal(pol->steps[2].kind, NOTIFY_MANAGER);
  assert_int_equal(pol->steps[3].kind, NOTIFY_PERSON);
  assert_string_equal(pol->steps[3].target, "frank");
  assert_int_equal(pol->steps[4].kind, NOTIFY_CHANNEL);
  assert_string_equal(pol->steps[4].target, "C0ALERTS01");
  assert_int_equal(pol->steps[5].kind, NOTIFY_EMAIL);
  assert_string_equal(pol->steps[5].target, "erin");
  assert_int_equal(pol->steps[5].after_ms, 90 * MS_PER_MIN);

  assert_string_equal(c->alerts.token_env, "KLAXON_ALERT_TOKEN");
  assert_int_equal(c->alerts.n_routes, 3);
  const struct alert_route *rt = &c->alerts.routes[0];
  assert_int_equal(rt->n_match, 1);
  assert_string_equal(rt->match[0].key, "severity");
  assert_string_equal(rt->match[0].value, "critical");
  assert_string_equal(rt->rota, "platform");
  assert_string_equal(rt->policy, "default");
  assert_string_equal(rt->severity, "P1");
  assert_null(rt->channel);
  assert_false(rt->record);
  assert_string_equal(c->alerts.routes[1].channel, "C0ALERTS01");
  assert_null(c->alerts.routes[1].rota);
  assert_true(c->alerts.routes[2].record);
  assert_string_equal(c->alerts.routes[2].match[0].value, "info");
}

static void check_example_rest(const struct config *c)
{
  assert_int_equal(c->n_runbooks, 1);
  assert_string_equal(config_runbook(c, "APIErrorRateSLOCritical"),
                      "https://runbooks.example.com/api-errors");
  assert_int_equal(c->targets.mtta_ms, 5 * MS_PER_MIN);
  assert_int_equal(c->targets.mttr_ms, 30 * MS_PER_MIN);
  assert_true(c->targets.false_positive_rate > 0.0499 && c->targets.false_positive_rate < 0.0501);
  assert_string_equal(c->postmortem.template_path, "/etc/klaxon/postmortem.md");
  assert_int_equal(c->postmortem.due_ms, 24 * MS_PER_HOUR);
  assert_int_equal(c->handoff.handoff_ack_ms, 30 * MS_PER_MIN);

  assert_string_equal(c->smtp.url, "smtp://127.0.0.1:2525");
  assert_string_equal(c->smtp.from, "klaxon@example.com");
  assert_string_equal(c->smtp.username_env, "KLAXON_SMTP_USER");
  assert_string_equal(c->smtp.password_env, "KLAXON_SMTP_PASSWORD");
  assert_false(c->smtp.starttls);

  assert_true(c->teams.enabled);
  assert_string_equal(c->teams.app_id, "00000000-0000-0000-0000-000000000000");
  assert_string_equal(c->teams.tenant_id, "11111111-1111-1111-1111-111111111111");
  assert_string_equal(c->teams.app_password_env, "KLAXON_TEAMS_PASSWORD");
  assert_string_equal(c->teams.openid_metadata_url,
                      "https://login.botframework.com/v1/.well-known/openidconfiguration");
  assert_string_equal(c->teams.token_url,
                      "https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/"
                      "oauth2/v2.0/token");
  assert_string_equal(c->teams.service_url, "https://smba.trafficmanager.net/teams/");
  assert_string_equal(c->teams.incident_channel,
                      "19:a1b2c3d4e5f60718293a4b5c6d7e8f90@thread.tacv2");
  assert_string_equal(c->teams.announce_channel,
                      "19:0a1b2c3d4e5f60718293a4b5c6d7e8f9@thread.tacv2");
  assert_string_equal(c->teams.handoff_channel, "19:f0e1d2c3b4a5968778695a4b3c2d1e0f@thread.tacv2");
  assert_string_equal(c->teams.outgoing_webhook_secret_env, "KLAXON_TEAMS_WEBHOOK_SECRET");
  assert_string_equal(c->teams.workflow_webhook_url_env, "KLAXON_TEAMS_WORKFLOW_URL");

  assert_string_equal(c->status_page.title, "Example Corp status");
  assert_int_equal(c->status_page.n_components, 2);
  assert_string_equal(c->status_page.components[0], "api");
  assert_string_equal(c->status_page.components[1], "web");
}

static void test_example_loads(void **state)
{
  (void)state;
  struct config *c = load_ok(EXAMPLE, 0, NULL);
  check_example_people_rotas(c);
  check_example_paging(c);
  check_example_rest(c);
  config_free(c);
}

/* ---- defaults ------------------------------------------------------------------------------- */

#define TZ "timezone: UTC\n"
#define PEOPLE "people: [{id: alice, slack: U0ALICE001}, {id: bob, email: bob@example.com}]\n"
#define SEVS "severities: [{name: P1}]\n"
#define ROTA "rotas: [{name: r, start: 2026-11-23, primary: [alice]}]\n"
#define BASE TZ PEOPLE SEVS ROTA /* four lines; cases add from line 5 */

/* Teams (issue 6): a person only in Teams; people[].teams found in any case. */
static void test_teams_only_person(void **state)
{
  (void)state;
  struct config *c =
      LOAD_OK(TZ
              "people: [{id: alice, slack: U0ALICE001},"
              " {id: tina, teams: 6f1d2a3b-1c4d-4e5f-8a9b-0c1d2e3f4a5b}]\n" SEVS ROTA);
  const struct person *p = config_person_by_teams(c, "6F1D2A3B-1C4D-4E5F-8A9B-0C1D2E3F4A5B");
  assert_non_null(p);
  assert_string_equal(p->id, "tina");
  assert_null(p->slack);
  assert_null(p->email);
  config_free(c);
}

/* Twilio (issue 11): the block as given, absent by default. */
static void test_twilio(void **state)
{
  (void)state;
  struct config *c = LOAD_OK(BASE
                             "twilio: {account_sid_env: TWILIO_ACCOUNT_SID,"
                             " auth_token_env: TWILIO_AUTH_TOKEN, from: \"+15005550006\"}\n");
  assert_string_equal(c->twilio.account_sid_env, "TWILIO_ACCOUNT_SID");
  assert_string_equal(c->twilio.auth_token_env, "TWILIO_AUTH_TOKEN");
  assert_string_equal(c->twilio.from, "+15005550006");
  config_free(c);
  c = LOAD_OK(BASE);
  assert_null(c->twilio.account_sid_env);
  assert_null(c->twilio.auth_token_env);
  assert_null(c->twilio.from);
  config_free(c);
}

static void test_minimal_defaults(void **state)
{
  (void)state;
  struct config *c = LOAD_OK(BASE);
  assert_string_equal(c->path, "test.yaml");
  assert_string_equal(c->storage_path, "klaxon.db");
  assert_null(c->http_listen);
  assert_int_equal(c->http_max_connections_per_client, 64); /* HTTPD_PER_CLIENT_MAX */
  assert_null(c->public_url);
  assert_string_equal(c->log_level, "info");
  assert_string_equal(c->log_format, "text");
  assert_null(c->slack.announce_channel);
  assert_string_equal(c->slack.app_token_env, "SLACK_APP_TOKEN");
  assert_string_equal(c->slack.bot_token_env, "SLACK_BOT_TOKEN");
  assert_int_equal(c->slack.ping_interval_ms, 10 * MS_PER_SEC);
  assert_int_equal(c->slack.pong_timeout_ms, 20 * MS_PER_SEC);
  assert_string_equal(c->alerts.token_env, "KLAXON_ALERT_TOKEN");
  assert_int_equal(c->alerts.n_routes, 0);
  assert_int_equal(c->postmortem.due_ms, 24 * MS_PER_HOUR);
  assert_null(c->postmortem.template_path);
  assert_int_equal(c->handoff.handoff_ack_ms, 30 * MS_PER_MIN);
  assert_int_equal(c->targets.mtta_ms, 0);
  assert_true(c->targets.false_positive_rate < 0);
  assert_null(c->smtp.url);
  assert_false(c->teams.enabled);
  assert_null(c->teams.token_url);
  assert_null(c->status_page.title);
  assert_string_equal(config_person(c, "alice")->name, "alice"); /* name defaults to the id */
  const struct rota *r = &c->rotas[0];
  assert_string_equal(r->timezone, "UTC");
  assert_int_equal(r->shift_days, 7);
  assert_int_equal(r->handoff_wday, 1);
  assert_int_equal(r->handoff_minute, 540);
  assert_int_equal(r->secondary_mode, SECONDARY_NONE);
  assert_false(r->has_hours);
  const struct severity *s = &c->severities[0];
  assert_true(s->page_primary && !s->page_secondary && !s->page_business_hours);
  assert_int_equal(s->ack_ms, 0);
  assert_string_equal(c->default_severity, "P1");
  config_free(c);
}

static void test_variants(void **state)
{
  (void)state;
  struct config *c = LOAD_OK(TZ PEOPLE
                             "severities: [{name: SEV1, page: none}, {name: SEV2, page: []}]\n"
                             "default_severity: sev1\n"
                             "rotas:\n"
                             "  - {name: daily, shift: 1d, handoff: \"8:30\", start: 2026-11-25,\n"
                             "     primary: [alice, bob], secondary: [bob, alice],\n"
                             "     hours: \"mon, wed,fri 09:00-17:00\", shadow: []}\n"
                             "  - {name: fixed, shift: 2w, handoff: Tue 23:59, start: 2026-11-24,\n"
                             "     primary: [bob], secondary: alice, hours: fri-mon 00:00-24:00}\n"
                             "teams: {workflow_webhook_url_env: TEAMS_URL}\n"
                             "public_url: http://klaxon.example.com/base//\n"
                             "http: {listen: \"[::1]:8080\"}\n"
                             "alerts: {routes: [{match: {team: a, env: prod}, rota: fixed, "
                             "severity: sev2}]}\n");
  assert_string_equal(c->default_severity, "SEV1"); /* stored as the severity spells it */
  assert_false(c->severities[0].page_primary || c->severities[0].page_business_hours);
  assert_false(c->severities[1].page_primary || c->severities[1].page_secondary);
  const struct rota *d = config_rota(c, "daily");
  assert_int_equal(d->shift_days, 1);
  assert_int_equal(d->handoff_minute, 8 * 60 + 30);
  assert_int_equal(d->handoff_wday, 3); /* the start's weekday: 2026-11-25 is a Wednesday */
  assert_int_equal(d->secondary_mode, SECONDARY_LIST);
  assert_int_equal(d->n_secondary, 2);
  assert_string_equal(d->secondary[0], "bob");
  assert_int_equal(d->hours_days, (1 << 1) | (1 << 3) | (1 << 5));
  assert_int_equal(d->hours_start_min, 540);
  assert_int_equal(d->n_shadow, 0);
  const struct rota *f = config_rota(c, "fixed");
  assert_int_equal(f->shift_days, 14);
  assert_int_equal(f->handoff_wday, 2);
  assert_int_equal(f->handoff_minute, 23 * 60 + 59);
  assert_int_equal(f->secondary_mode, SECONDARY_FIXED);
  assert_int_equal(f->n_secondary, 1);
  assert_string_equal(f->secondary[0], "alice");
  assert_int_equal(f->hours_days, (1 << 5) | (1 << 6) | (1 << 0) | (1 << 1)); /* wraps */
  assert_int_equal(f->hours_end_min, 24 * 60);
  assert_true(c->teams.enabled);
  assert_string_equal(c->teams.service_url, "https://smba.trafficmanager.net/teams/");
  assert_string_equal(c->teams.token_url,
                      "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token");
  assert_string_equal(c->public_url, "http://klaxon.example.com/base");
  assert_string_equal(c->http_listen, "[::1]:8080");
  const struct alert_route *rt = &c->alerts.routes[0];
  assert_string_equal(rt->severity, "SEV2"); /* stored as the severity spells it */
  assert_int_equal(rt->n_match, 2);
  assert_string_equal(rt->match[1].key, "env");
  assert_string_equal(rt->match[1].value, "prod");
  config_free(c);
}

/* people[].push as a webhook, and notify with one method written without a list. */
static void test_push_webhook_and_notify_forms(void **state)
{
  (void)state;
  struct config *c =
      LOAD_OK(TZ
              "people:\n"
              "  - {id: alice, slack: U0ALICE001, push: {webhook: "
              "\"https://hooks.example.com/page\"}, phone: \"+1-555-0100\",\n"
              "     notify: [{after: 0m, via: push}, {after: 90s, via: voice}]}\n"
              "  - {id: bob, slack: U0BOB00001, push: {ntfy: \"https://n/t\"}}\n" SEVS ROTA);
  assert_true(c->people[0].push_webhook);
  assert_string_equal(c->people[0].push, "https://hooks.example.com/page");
  assert_string_equal(c->people[0].phone, "+15550100");
  assert_int_equal(c->people[0].n_notify, 2);
  assert_int_equal(c->people[0].notify[0].via, VIA_PUSH);
  assert_int_equal(c->people[0].notify[1].after_ms, 90 * 1000);
  assert_int_equal(c->people[0].notify[1].via, VIA_VOICE);
  assert_false(c->people[1].push_webhook);
  assert_null(c->people[1].notify);
  config_free(c);
}

/* Anchors, aliases and merge keys: the document API resolves aliases; merges are ours. */
static void test_aliases_and_merges(void **state)
{
  (void)state;
  struct config *c = LOAD_OK(
      TZ
      "x-defaults: &person {name: Someone, phone: \"+1 555 0100\"}\n"
      "people:\n"
      "  - {<<: *person, id: alice, slack: U0ALICE001}\n"
      "  - {<<: *person, id: bob, name: Bob, email: bob@example.com}\n"
      "  - {<<: [{id: carol}, {id: nope, phone: \"+1 555 0123\"}], slack: U0CAROL001}\n" SEVS
      "rotas:\n"
      "  - &rota {name: a, start: 2026-11-23, primary: &team [alice, bob]}\n"
      "  - {<<: *rota, name: b, secondary: *team}\n");
  assert_string_equal(c->people[0].name, "Someone");
  assert_string_equal(c->people[0].phone, "+15550100");
  assert_string_equal(c->people[1].phone, "+15550100");
  assert_string_equal(c->people[1].name, "Bob"); /* an explicit key beats the merged one */
  assert_string_equal(c->people[2].id, "carol"); /* earlier merged maps win */
  assert_string_equal(c->people[2].phone, "+15550123");
  const struct rota *b = config_rota(c, "b");
  assert_non_null(b);
  assert_int_equal(b->n_primary, 2);
  assert_int_equal(b->secondary_mode, SECONDARY_LIST);
  assert_string_equal(b->secondary[1], "bob");
  config_free(c);
}

/* ---- one problem per case ------------------------------------------------------------------- */

struct bad_case {
  const char *name;
  const char *yaml;
  int line;
  const char *expect; /* a piece of the message */
  size_t n;           /* problems in all */
};

#define STEPS(s) BASE "escalation_policies: [{name: d, steps: [" s "]}]\n"
#define RT(s) BASE "alerts: {routes: [" s "]}\n"
#define ROTA_WITH(s) \
  TZ PEOPLE SEVS "rotas: [{name: r, start: 2026-11-23, primary: [alice], " s "}]\n"
#define SMTP "smtp: {url: \"smtp://127.0.0.1:2525\", from: k@example.com}\n"

static const struct bad_case CASES[] = {
    {"unknown top key", BASE "slak: {}\n", 5,
     "unknown key \"slak\" in the top level (did you mean \"slack\"?)", 1},
    {"unknown key no hint", BASE "frobnicate: 1\n", 5,
     "unknown key \"frobnicate\" in the top level", 1},
    {"unknown nested key", BASE "slack: {announce_chanel: C0X1}\n", 5,
     "unknown key \"announce_chanel\" in slack (did you mean \"announce_channel\"?)", 1},
    {"unknown key in item", ROTA_WITH("priamry: [bob]"), 4,
     "in rotas[0] (did you mean \"primary\"?)", 1},
    {"bad top timezone", "timezone: Europe/Berlinn\n" PEOPLE SEVS ROTA, 1,
     "timezone: \"Europe/Berlinn\" is not a known time zone", 1},
    {"bad rota timezone",
     TZ PEOPLE SEVS
     "rotas:\n  - name: r\n    timezone: Mars/Base\n    start: 2026-11-23\n    primary: [alice]\n",
     6, "rotas[0].timezone: \"Mars/Base\" is not a known time zone", 1},
    {"bad duration", TZ PEOPLE "severities:\n  - {name: P0}\n  - {name: P1, ack: 15x}\n" ROTA, 5,
     "severities[1].ack: \"15x\" is not a duration (use 90s, 5m, 1h30m, 2d, 1w)", 1},
    {"bare number duration", BASE "handoff: {ack_timeout: 30}\n", 5,
     "handoff.ack_timeout: \"30\" is not a duration", 1},
    {"unknown primary",
     TZ PEOPLE SEVS
     "rotas:\n  - name: platform\n    start: 2026-11-23\n    primary: [alice, zed]\n",
     7, "rota \"platform\": primary names \"zed\", who is not in people", 1},
    {"duplicate person",
     TZ "people:\n  - {id: alice, slack: U0ALICE001}\n  - {id: alice, email: a@example.com}\n" SEVS
         ROTA,
     4, "duplicate person id \"alice\" (first defined on line 3)", 1},
    {"bad person id",
     TZ "people: [{id: alice, slack: U0ALICE001}, {id: Bob Smith, slack: U0BOB0001}]\n" SEVS ROTA,
     2, "people[1].id: \"Bob Smith\" is not a valid person id", 1},
    {"person no contact",
     TZ "people: [{id: alice, slack: U0ALICE001}, {id: bob, name: Bob}]\n" SEVS ROTA, 2,
     "person \"bob\": give slack (a user id) or email", 1},
    /* Teams (issue 6): someone only in Teams is named by their Entra object id (a GUID). */
    {"bad teams id",
     TZ "people: [{id: alice, slack: U0ALICE001}, {id: bob, teams: bob@example.com}]\n" SEVS ROTA,
     2, "people[1].teams: \"bob@example.com\" is not a GUID", 1},
    {"bad email",
     TZ "people: [{id: alice, slack: U0ALICE001, email: alice.example.com}]\n" SEVS ROTA, 2,
     "people[0].email: \"alice.example.com\" is not an email address", 1},
    {"bad slack user", TZ "people: [{id: alice, slack: alice}]\n" SEVS ROTA, 2,
     "people[0].slack: \"alice\" is not a Slack user id", 1},
    {"duplicate slack id",
     TZ "people:\n  - {id: alice, slack: U0ALICE001}\n  - {id: bob, slack: U0ALICE001}\n" SEVS ROTA,
     4, "duplicate slack user id \"U0ALICE001\" (first defined on line 3)", 1},
    {"people empty", TZ "people: []\n" SEVS ROTA, 2, "people is empty", 1},
    {"people is a map", TZ "people: {id: alice}\n" SEVS ROTA, 2, "people must be a list, not a map",
     1},
    {"channel name not id", BASE "slack: {announce_channel: \"#incidents\"}\n", 5,
     "slack.announce_channel: \"#incidents\" is not a Slack channel id", 1},
    {"pong too long", BASE "slack: {pong_timeout: 30s}\n", 5,
     "slack.pong_timeout must be under 30s", 1},
    {"pong under ping", BASE "slack: {ping_interval: 15s, pong_timeout: 10s}\n", 5,
     "slack.pong_timeout (10s) must be longer than slack.ping_interval (15s)", 1},
    {"ping too short", BASE "slack: {ping_interval: 0s}\n", 5,
     "slack.ping_interval must be at least 1s", 1},
    {"slack is a list", BASE "slack: [C0X1]\n", 5,
     "slack must be a map (key: value lines), not a list", 1},
    {"env holds a secret", BASE "slack: {bot_token_env: xoxb-1-2-abc}\n", 5,
     "slack.bot_token_env is not an environment variable name", 1},
    {"listen no port", BASE "http: {listen: localhost}\n", 5,
     "http.listen: \"localhost\" is not host:port", 1},
    {"listen bad ipv6", BASE "http: {listen: \"[::zz]:80\"}\n", 5, "is not host:port", 1},
    {"listen bad port", BASE "http: {listen: \"127.0.0.1:65536\"}\n", 5, "is not host:port", 1},
    {"listen bad ipv4", BASE "http: {listen: \"300.1.1.1:80\"}\n", 5, "is not host:port", 1},
    {"public url scheme", BASE "public_url: klaxon.example.com\n", 5,
     "public_url: \"klaxon.example.com\" is not an http:// or https:// URL", 1},
    {"log level", BASE "log: {level: verbose}\n", 5,
     "log.level: \"verbose\" is not one of debug, info, warn, error, off", 1},
    {"log format", BASE "log: {format: xml}\n", 5, "log.format: \"xml\" is not one of text, json",
     1},
    {"shift not whole days", ROTA_WITH("shift: 36h"), 4,
     "rotas[0].shift: \"36h\" is not a whole number of days", 1},
    {"start weekday", TZ PEOPLE SEVS "rotas: [{name: r, start: 2026-11-24, primary: [alice]}]\n", 4,
     "rota \"r\": start 2026-11-24 is a Tuesday, but the handoff is on Monday", 1},
    {"start not a date", TZ PEOPLE SEVS "rotas: [{name: r, start: 2026-11-31, primary: [alice]}]\n",
     4, "rotas[0].start: \"2026-11-31\" is not a date (YYYY-MM-DD)", 1},
    {"start missing", TZ PEOPLE SEVS "rotas:\n  - name: r\n    primary: [alice]\n", 5,
     "rotas[0].start is missing", 1},
    {"start empty", TZ PEOPLE SEVS "rotas:\n  - name: r\n    start:\n    primary: [alice]\n", 6,
     "rotas[0].start is empty", 1},
    {"handoff unknown day", ROTA_WITH("handoff: someday 09:00"), 4,
     "rotas[0].handoff: \"someday 09:00\" is not a weekday and time", 1},
    {"handoff bad time", ROTA_WITH("handoff: monday 25:00"), 4, "is not a weekday and time", 1},
    {"weekly handoff no day", ROTA_WITH("handoff: \"09:00\""), 4,
     "needs a weekday for a shift of whole weeks", 1},
    {"holiday not a date", ROTA_WITH("holidays: [2026-12-24, 2026-02-30]"), 4,
     "rotas[0].holidays[1]: \"2026-02-30\" is not a date", 1},
    {"hours backwards", ROTA_WITH("hours: mon-fri 18:00-08:00"), 4,
     "rotas[0].hours: \"mon-fri 18:00-08:00\" ends before it starts", 1},
    {"hours shape", ROTA_WITH("hours: weekdays 9-5"), 4,
     "rotas[0].hours: \"weekdays 9-5\" is not business hours", 1},
    {"contact unknown", ROTA_WITH("contacts: {crm: zed}"), 4,
     "rota \"r\": contact \"crm\" names \"zed\", who is not in people", 1},
    {"contact duplicate role",
     TZ PEOPLE SEVS "rotas:\n  - name: r\n    start: 2026-11-23\n    primary: [alice]\n    "
                    "contacts:\n      crm: alice\n      crm: bob\n",
     10, "duplicate contact role \"crm\" (first defined on line 9)", 1},
    {"manager unknown", ROTA_WITH("manager: zed"), 4,
     "rota \"r\": manager names \"zed\", who is not in people", 1},
    {"secondary unknown", ROTA_WITH("secondary: [bob, zed]"), 4,
     "rota \"r\": secondary names \"zed\"", 1},
    {"secondary next alone", ROTA_WITH("secondary: next"), 4,
     "rota \"r\": secondary: next needs at least two people in primary", 1},
    {"secondary one unknown", ROTA_WITH("secondary: zed"), 4, "rota \"r\": secondary names \"zed\"",
     1},
    {"shadow unknown", ROTA_WITH("shadow: [zed]"), 4, "rota \"r\": shadow names \"zed\"", 1},
    {"primary missing", TZ PEOPLE SEVS "rotas: [{name: r, start: 2026-11-23}]\n", 4,
     "rotas[0].primary is missing", 1},
    {"rota name missing", TZ PEOPLE SEVS "rotas: [{start: 2026-11-23, primary: [alice]}]\n", 4,
     "rotas[0].name is missing", 1},
    {"severity name missing", TZ PEOPLE "severities: [{ack: 5m}]\n" ROTA, 3,
     "severities[0].name is missing", 1},
    {"alerts not a map", BASE "alerts: [x]\n", 5, "alerts must be a map", 1},
    {"routes not a list", BASE "alerts: {routes: {rota: r}}\n", 5,
     "alerts.routes must be a list, not a map", 1},
    {"primary empty", TZ PEOPLE SEVS "rotas: [{name: r, start: 2026-11-23, primary: []}]\n", 4,
     "rotas[0].primary is an empty list", 1},
    {"primary not list", TZ PEOPLE SEVS "rotas: [{name: r, start: 2026-11-23, primary: alice}]\n",
     4, "rotas[0].primary must be a list, not a single value", 1},
    {"rota name", TZ PEOPLE SEVS "rotas: [{name: Platform, start: 2026-11-23, primary: [alice]}]\n",
     4, "rotas[0].name: \"Platform\" is not a valid rota name", 1},
    {"duplicate rota",
     TZ PEOPLE SEVS "rotas:\n  - {name: r, start: 2026-11-23, primary: [alice]}\n  - {name: r, "
                    "start: 2026-11-23, primary: [bob]}\n",
     6, "duplicate rota name \"r\" (first defined on line 5)", 1},
    {"usergroup", ROTA_WITH("usergroup: platform"), 4,
     "rotas[0].usergroup: \"platform\" is not a Slack user group id", 1},
    {"rota handoff channel", ROTA_WITH("handoff_channel: oncall"), 4,
     "rotas[0].handoff_channel: \"oncall\" is not a Slack channel id", 1},
    {"severity duplicate case", TZ PEOPLE "severities:\n  - {name: P1}\n  - {name: p1}\n" ROTA, 5,
     "duplicate severity \"p1\" (first defined on line 4 as \"P1\"", 1},
    {"severities empty", TZ PEOPLE "severities: []\n" ROTA, 3, "severities is empty", 1},
    {"page word", TZ PEOPLE "severities: [{name: P1, page: [primary, tertiary]}]\n" ROTA, 3,
     "severities[0].page[1]: \"tertiary\" is not primary or secondary", 1},
    {"page scalar", TZ PEOPLE "severities: [{name: P1, page: primary}]\n" ROTA, 3,
     "(write it as [x])", 1},
    {"stakeholders bool", TZ PEOPLE "severities: [{name: P1, stakeholders: maybe}]\n" ROTA, 3,
     "severities[0].stakeholders: \"maybe\" is not true or false", 1},
    {"severity policy", TZ PEOPLE "severities: [{name: P1, policy: nope}]\n" ROTA, 3,
     "severity \"P1\": policy \"nope\" is not in escalation_policies", 1},
    {"default severity", BASE "default_severity: P9\n", 5,
     "default_severity \"P9\" is not one of the severities", 1},
    {"step unknown person", STEPS("{after: 0m, notify: zed}"), 5,
     "policy \"d\" step 1: notifies \"zed\", who is not in people", 1},
    {"step after decreases",
     BASE "escalation_policies:\n  - name: d\n    steps:\n      - {after: 15m, notify: primary}\n  "
          "    - {after: 5m, notify: secondary}\n",
     9, "policy \"d\" step 2: after 5m comes before the previous step's 15m", 1},
    {"step after missing", STEPS("{notify: primary}"), 5,
     "escalation_policies[0].steps[0].after is missing", 1},
    {"email step no smtp", STEPS("{after: 0m, notify: \"email:bob\"}"), 5,
     "an email: step needs an smtp block", 1},
    {"email step no address", SMTP STEPS("{after: 0m, notify: \"email:alice\"}"), 6,
     "emails \"alice\", who has no email in people", 1},
    {"email step unknown", SMTP STEPS("{after: 0m, notify: \"email:zed\"}"), 6,
     "emails \"zed\", who is not in people", 1},
    {"channel step", STEPS("{after: 0m, notify: \"channel:alerts\"}"), 5,
     "steps[0].notify: \"alerts\" is not a Slack channel id", 1},
    {"steps missing", BASE "escalation_policies: [{name: d}]\n", 5,
     "escalation_policies[0].steps is missing", 1},
    {"policy not a map", BASE "escalation_policies: [default]\n", 5,
     "escalation_policies[0] must be a map (key: value lines), not a single value", 1},
    {"steps empty", STEPS(""), 5, "escalation_policies[0].steps is empty", 1},
    {"repeat not number",
     BASE "escalation_policies: [{name: d, repeat: lots, steps: [{after: 0m, notify: primary}]}]\n",
     5, "escalation_policies[0].repeat: \"lots\" is not a whole number from 0 to 100", 1},
    {"duplicate policy",
     BASE "escalation_policies:\n  - {name: d, steps: [{after: 0m, notify: primary}]}\n  - {name: "
          "d, steps: [{after: 0m, notify: primary}]}\n",
     7, "duplicate escalation policy \"d\" (first defined on line 6)", 1},
    {"route rota", RT("{match: {severity: critical}, rota: nope}"), 5,
     "alerts.routes[0]: rota \"nope\" is not in rotas", 1},
    {"route severity", RT("{rota: r, severity: P9}"), 5,
     "alerts.routes[0]: severity \"P9\" is not in severities", 1},
    {"route policy", RT("{rota: r, policy: nope}"), 5,
     "alerts.routes[0]: policy \"nope\" is not in escalation_policies", 1},
    {"route no target", RT("{match: {a: b}}"), 5,
     "a route needs one of rota (to page), channel (to post), email (to mail) or record: true", 1},
    {"route two targets", RT("{rota: r, record: true}"), 5,
     "a route has only one of rota, channel, email or record: true", 1},
    {"route policy no rota", RT("{record: true, severity: P1}"), 5,
     "severity only goes with rota (a route that pages) or channel", 1},
    {"route match list value", RT("{match: {severity: [a, b]}, record: true}"), 5,
     "alerts.routes[0].match.severity must be a single value, not a list", 1},
    {"route channel", RT("{channel: alerts}"), 5,
     "alerts.routes[0].channel: \"alerts\" is not a Slack channel id", 1},
    {"runbook url", BASE "runbooks: {HighCPU: \"file:///etc/passwd\"}\n", 5,
     "runbooks.HighCPU: \"file:///etc/passwd\" is not an http:// or https:// URL", 1},
    {"runbook duplicate",
     BASE "runbooks:\n  A: https://a.example.com\n  A: https://b.example.com\n", 7,
     "duplicate runbook \"A\" (first defined on line 6)", 1},
    {"false positive rate", BASE "targets: {false_positive_rate: 150%}\n", 5,
     "targets.false_positive_rate: \"150%\" is not a rate", 1},
    {"false positive nan", BASE "targets: {false_positive_rate: nan}\n", 5, "is not a rate", 1},
    {"postmortem due", BASE "postmortem: {due: 0m}\n", 5, "postmortem.due must be longer than 0",
     1},
    {"smtp scheme", BASE "smtp: {url: \"http://mail.example.com\", from: k@example.com}\n", 5,
     "smtp.url: \"http://mail.example.com\" is not an smtp:// or smtps:// URL", 1},
    {"smtp from missing", BASE "smtp: {url: \"smtp://mail.example.com\"}\n", 5,
     "smtp.from is missing", 1},
    {"smtp half login",
     BASE "smtp: {url: \"smtp://m.example.com\", from: k@example.com, username_env: U}\n", 5,
     "give both username_env and password_env", 1},
    /* people[].phone, push, notify (issue 11) */
    {"phone not e164",
     TZ "people: [{id: alice, slack: U0ALICE001, phone: \"030 1234567\"}]\n" SEVS ROTA, 2,
     "people[0].phone: \"030 1234567\" is not an E.164 phone number", 1},
    {"phone with letters",
     TZ "people: [{id: alice, slack: U0ALICE001, phone: \"+49 30 CALL-ME\"}]\n" SEVS ROTA, 2,
     "is not an E.164 phone number", 1},
    {"push not a url", TZ "people: [{id: alice, slack: U0ALICE001, push: ntfy.sh/x}]\n" SEVS ROTA,
     2, "people[0].push: \"ntfy.sh/x\" is not an http:// or https:// URL", 1},
    {"push both kinds",
     TZ "people: [{id: alice, slack: U0ALICE001, push: {ntfy: \"https://a/b\", webhook: "
        "\"https://c/d\"}}]\n" SEVS ROTA,
     2, "give one of ntfy (a topic URL) or webhook (a URL)", 1},
    {"notify unknown method",
     TZ "people: [{id: alice, slack: U0ALICE001, notify: [{after: 0m, via: pigeon}]}]\n" SEVS ROTA,
     2, "\"pigeon\" is not a method (chat, email, push, sms, voice)", 1},
    {"notify sms without phone",
     TZ "people: [{id: alice, slack: U0ALICE001, notify: [{after: 0m, via: [chat, sms]}]}]\n" SEVS
         ROTA,
     2, "people[0].notify[0]: sms and voice need phone", 1},
    {"notify push without push",
     TZ "people: [{id: alice, slack: U0ALICE001, notify: [{after: 0m, via: push}]}]\n" SEVS ROTA, 2,
     "push needs push", 1},
    {"notify out of order",
     TZ "people: [{id: alice, slack: U0ALICE001, phone: \"+4930123456\", notify: [{after: 5m, via: "
        "sms}, {after: 1m, via: voice}]}]\n" SEVS ROTA,
     2, "people[0].notify[1].after comes before the rule above it", 1},
    {"notify empty", TZ "people: [{id: alice, slack: U0ALICE001, notify: []}]\n" SEVS ROTA, 2,
     "people[0].notify is empty", 1},
    {"notify bad after",
     TZ "people: [{id: alice, slack: U0ALICE001, notify: [{after: soon, via: chat}]}]\n" SEVS ROTA,
     2, "people[0].notify[0].after", 1},
    {"twilio from not e164",
     BASE "twilio: {account_sid_env: S, auth_token_env: T, from: \"0049 30 1234\"}\n", 5,
     "twilio.from: \"0049 30 1234\" is not an E.164 phone number", 1},
    {"twilio from too long",
     BASE "twilio: {account_sid_env: S, auth_token_env: T, from: \"+1234567890123456\"}\n", 5,
     "is not an E.164 phone number", 1},
    {"twilio token given",
     BASE "twilio: {account_sid_env: S, auth_token_env: \"abc:def\", from: \"+15005550006\"}\n", 5,
     "twilio.auth_token_env", 1},
    {"twilio sid missing", BASE "twilio: {auth_token_env: T, from: \"+15005550006\"}\n", 5,
     "twilio.account_sid_env is missing", 1},
    {"twilio unknown key",
     BASE "twilio: {account_sid_env: S, auth_token_env: T, from: \"+15005550006\", form: x}\n", 5,
     "unknown key \"form\" in twilio", 1},
    {"teams app id", BASE "teams: {app_id: my-bot, app_password_env: P}\n", 5,
     "teams.app_id: \"my-bot\" is not a GUID", 1},
    {"teams nothing", BASE "teams: {service_url: \"https://smba.example.com/\"}\n", 5,
     "teams: give app_id (a bot), outgoing_webhook_secret_env or workflow_webhook_url_env", 1},
    {"teams password", BASE "teams: {app_id: 00000000-0000-0000-0000-000000000000}\n", 5,
     "teams.app_password_env is missing", 1},
    {"teams channel", BASE "teams: {workflow_webhook_url_env: W, incident_channel: general}\n", 5,
     "teams.incident_channel: \"general\" is not a Teams channel id", 1},
    {"status components", BASE "status_page: {title: S, components: api}\n", 5,
     "status_page.components must be a list, not a single value", 1},
    {"timezone is a list", "timezone: [UTC]\n" PEOPLE SEVS ROTA, 1,
     "timezone must be a single value, not a list", 1},
    {"timezone missing", PEOPLE SEVS ROTA, 0, "timezone is missing", 1},
    {"duplicate key", BASE "log: {level: info, level: debug}\n", 5,
     "duplicate key \"level\" in log (first on line 5)", 1},
    {"merge not a map", BASE "log: {<<: [1, 2], level: info}\n", 5,
     "log: << (merge) must name a map or a list of maps", 1},
    {"key not a name", BASE "log: {[a]: b}\n", 5, "log: a key must be a name, not a list", 1},
    {"second document", BASE "---\ntimezone: UTC\n", 5, "a second YAML document starts here", 1},
    {"root not a map", "- timezone: UTC\n", 1,
     "the file must be a map (key: value lines), not a list", 1},
    {"syntax error", TZ "people: [{id: alice\n" SEVS, 3, "YAML syntax error", 1},
    {"tab indentation", TZ "people:\n\t- {id: alice}\n", 3, "YAML syntax error", 1},
    {"bad utf-8", TZ "people: [{id: \"\xff\xfe\"}]\n", 2, "not UTF-8", 1},
    {"empty file", "", 0, "the file is empty", 1},
    {"only comments", "# nothing here\n\n", 0, "the file is empty", 1},
};

static void run_case(void **state)
{
  const struct bad_case *tc = *state;
  struct config_problems pr;
  struct config *c = load(tc->yaml, &pr);
  if (c || pr.n != tc->n || !find(&pr, tc->line, tc->expect)) {
    print_message("case \"%s\": want %zu problem(s), one on line %d with \"%s\"; got %zu:\n",
                  tc->name, tc->n, tc->line, tc->expect, pr.n);
    dump(&pr);
  }
  assert_null(c);
  assert_non_null(find(&pr, tc->line, tc->expect));
  assert_int_equal(pr.n, tc->n);
  config_problems_free(&pr);
}

/* The cases' common parts must load on their own, or the cases prove nothing. */
static void test_case_bases_load(void **state)
{
  (void)state;
  static const char *const bases[] = {
      BASE,
      ROTA_WITH("hours: mon-fri 08:00-18:00"),
      STEPS("{after: 0m, notify: primary}"),
      SMTP STEPS("{after: 0m, notify: \"email:bob\"}"),
      RT("{match: {severity: critical}, rota: r, severity: p1}"),
  };
  for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
    config_free(LOAD_OK(bases[i]));
  }
}

/* ---- several problems, caps, files ---------------------------------------------------------- */

static void test_many_problems(void **state)
{
  (void)state;
  struct config_problems pr;
  struct config *c = load(
      "timezon: Europe/Berlin\n"                    /* 1 */
      "people:\n"                                   /* 2 */
      "  - {id: alice, slack: U0ALICE001}\n"        /* 3 */
      "  - {id: alice, email: alice@example.com}\n" /* 4 */
      "rotas:\n"                                    /* 5 */
      "  - name: platform\n"                        /* 6 */
      "    start: 2026-11-23\n"                     /* 7 */
      "    primary: [alice, zed]\n"                 /* 8 */
      "    shift: 5x\n"                             /* 9 */
      "severities:\n"                               /* 10 */
      "  - {name: P0, ack: 15x}\n"                  /* 11 */
      "slack: {announce_channel: general}\n",       /* 12 */
      &pr);
  assert_null(c);
  expect_problem(&pr, 0, "timezone is missing");
  expect_problem(&pr, 1, "unknown key \"timezon\" in the top level (did you mean \"timezone\"?)");
  expect_problem(&pr, 4, "duplicate person id \"alice\" (first defined on line 3)");
  expect_problem(&pr, 8, "primary names \"zed\"");
  expect_problem(&pr, 9, "rotas[0].shift: \"5x\" is not a duration");
  expect_problem(&pr, 11, "severities[0].ack: \"15x\" is not a duration");
  expect_problem(&pr, 12, "slack.announce_channel: \"general\"");
  assert_int_equal(pr.n, 7);
  for (size_t i = 1; i < pr.n; i++)
    assert_true(pr.items[i - 1].line <= pr.items[i].line);
  config_problems_free(&pr);
}

/* http.max_connections_per_client: a whole number from 1 to the server's total cap. */
static void test_per_client_cap(void **state)
{
  (void)state;
  struct config *c =
      LOAD_OK(BASE "http: {listen: \"127.0.0.1:8080\", max_connections_per_client: 20}\n");
  assert_int_equal(c->http_max_connections_per_client, 20);
  config_free(c);
  static const char *const bad[] = {
      "0", "-3", "1921", "12x", "\"\"", "1e3", "99999999999999999999"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char yaml[512];
    snprintf(yaml, sizeof(yaml),
             BASE "http: {listen: \"127.0.0.1:8080\", max_connections_per_client: %s}\n", bad[i]);
    struct config_problems pr;
    assert_null(load(yaml, &pr));
    expect_problem(&pr, 5, "http.max_connections_per_client");
    config_problems_free(&pr);
  }
}

/* storage.retention: 400 days unless set; a duration from a week to ten years. */
static void test_storage_retention(void **state)
{
  (void)state;
  struct config *c = LOAD_OK(BASE);
  assert_int_equal(c->storage_retention_ms, (int64_t)400 * 86400 * MS_PER_SEC);
  config_free(c);
  c = LOAD_OK(BASE "storage: {path: k.db, retention: 90d}\n");
  assert_int_equal(c->storage_retention_ms, (int64_t)90 * 86400 * MS_PER_SEC);
  config_free(c);
  static const char *const bad[] = {"6d", "3651d", "forever", "\"\"", "-1d"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char yaml[512];
    snprintf(yaml, sizeof(yaml), BASE "storage: {path: k.db, retention: %s}\n", bad[i]);
    struct config_problems pr;
    assert_null(load(yaml, &pr));
    expect_problem(&pr, 5, "storage.retention");
    config_problems_free(&pr);
  }
}

/* storage.engine: sqlite (storage.path) unless postgres (storage.url_env, KLAXON_DATABASE_URL
 * unless said); each engine's key is refused with the other. */
static void test_storage_engine(void **state)
{
  (void)state;
  struct config *c = LOAD_OK(BASE);
  assert_false(c->storage_postgres);
  config_free(c);
  c = LOAD_OK(BASE "storage: {engine: postgres}\n");
  assert_true(c->storage_postgres);
  assert_string_equal(c->storage_url_env, "KLAXON_DATABASE_URL");
  config_free(c);
  c = LOAD_OK(BASE "storage: {engine: postgres, url_env: PAGER_DB, retention: 30d}\n");
  assert_string_equal(c->storage_url_env, "PAGER_DB");
  config_free(c);
  c = LOAD_OK(BASE "storage: {engine: sqlite, path: k.db}\n");
  assert_false(c->storage_postgres);
  assert_string_equal(c->storage_path, "k.db");
  config_free(c);
  static const char *const bad[][2] = {
      {"{engine: mysql, path: k.db}", "storage.engine"},
      {"{engine: postgres, path: k.db}", "storage.path"},
      {"{path: k.db, url_env: PAGER_DB}", "storage.url_env"},
      {"{engine: postgres, url_env: \"postgres://u:pw@h/db\"}", "storage.url_env"},
      {"{engine: sqlite}", "storage"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char yaml[512];
    snprintf(yaml, sizeof(yaml), BASE "storage: %s\n", bad[i][0]);
    struct config_problems pr;
    assert_null(load(yaml, &pr));
    expect_problem(&pr, 5, bad[i][1]);
    config_problems_free(&pr);
  }
}

/* A secret pasted where a variable name belongs is never repeated in a message. */
static void test_secret_not_echoed(void **state)
{
  (void)state;
  struct config_problems pr;
  assert_null(load(BASE "slack: {app_token_env: xapp-1-A0-123-abcdef}\n"
                        "smtp: {url: \"smtp://m.example.com\", from: k@example.com,\n"
                        "       username_env: u, password_env: \"hunter2 secret\"}\n",
                   &pr));
  assert_int_equal(pr.n, 2);
  for (size_t i = 0; i < pr.n; i++) {
    assert_null(strstr(pr.items[i].message, "xapp-"));
    assert_null(strstr(pr.items[i].message, "hunter2"));
  }
  config_problems_free(&pr);
}

static void test_huge_refused(void **state)
{
  (void)state;
  struct config_problems pr;
  size_t len = CONFIG_MAX_BYTES + 1;
  char *big = malloc(len + 1);
  assert_non_null(big);
  memset(big, '#', len);
  big[len] = '\0';
  assert_null(config_load_string(big, len, "big.yaml", &pr));
  assert_int_equal(pr.n, 1);
  expect_problem(&pr, 0, "at most 1048576 bytes");
  config_problems_free(&pr);

  char path[] = "/tmp/klaxon-test-config-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, big, len), (ssize_t)len);
  assert_int_equal(close(fd), 0);
  assert_null(config_load_file(path, &pr));
  assert_int_equal(pr.n, 1);
  expect_problem(&pr, 0, "larger than 1048576 bytes");
  config_problems_free(&pr);
  unlink(path);
  free(big);
}

static void test_file_errors(void **state)
{
  (void)state;
  struct config_problems pr;
  assert_null(config_load_file("/nonexistent/klaxon.yaml", &pr));
  assert_int_equal(pr.n, 1);
  expect_problem(&pr, 0, "cannot open /nonexistent/klaxon.yaml");
  config_problems_free(&pr);
  assert_null(config_load_file("/tmp", &pr));
  expect_problem(&pr, 0, "is a directory");
  config_problems_free(&pr);
}

/* Aliases let a small file name a huge number of values (a rota list of 1000 aliases of a rota
 * whose primary is 2000 names is 2 million): the walk stops at CONFIG_MAX_VISITS. */
static void test_alias_bomb(void **state)
{
  (void)state;
  size_t cap = (size_t)64 * 1024;
  char *yaml = malloc(cap);
  assert_non_null(yaml);
  size_t n = (size_t)snprintf(yaml, cap, TZ PEOPLE SEVS "x-team: &team [alice");
  for (int i = 1; i < 2000; i++)
    n += (size_t)snprintf(yaml + n, cap - n, ", alice");
  n += (size_t)snprintf(yaml + n, cap - n,
                        "]\nrotas:\n  - &r {name: r, start: 2026-11-23, primary: *team}\n");
  for (int i = 1; i < 1000; i++)
    n += (size_t)snprintf(yaml + n, cap - n, "  - *r\n");
  assert_true(n < cap);
  struct config_problems pr;
  assert_null(load(yaml, &pr));
  expect_problem(&pr, 0, "the file expands to more than 1000000 values");
  config_problems_free(&pr);
  free(yaml);
}

/* A list or map that loops back on itself (an anchor used inside its own value). */
static void test_alias_cycle(void **state)
{
  (void)state;
  struct config_problems pr;
  assert_null(load(TZ PEOPLE SEVS "rotas: &r [{name: r, start: 2026-11-23, primary: *r}]\n", &pr));
  expect_problem(&pr, 4, "primary");
  config_problems_free(&pr);
  assert_null(load(BASE "log: &l {<<: *l, level: info}\n", &pr));
  expect_problem(&pr, 5, "merges (<<) nest more than");
  config_problems_free(&pr);
}

static char *people_yaml(size_t n)
{
  size_t cap = 64 + n * (size_t)48;
  char *s = malloc(cap);
  assert_non_null(s);
  size_t len = (size_t)snprintf(s, cap, TZ SEVS ROTA "people:\n");
  len += (size_t)snprintf(s + len, cap - len, "- {id: alice, slack: U100}\n");
  for (size_t i = 1; i < n; i++)
    len += (size_t)snprintf(s + len, cap - len, "- {id: p%zu, slack: U%zu}\n", i, 100 + i);
  return s;
}

static void test_list_cap(void **state)
{
  (void)state;
  struct config_problems pr;
  char *ok = people_yaml(CONFIG_MAX_ITEMS);
  struct config *c = LOAD_OK(ok);
  assert_int_equal(c->n_people, CONFIG_MAX_ITEMS);
  config_free(c);
  free(ok);

  char *over = people_yaml(CONFIG_MAX_ITEMS + 1);
  assert_null(load(over, &pr));
  expect_problem(&pr, 5, "people has 10001 items; at most 10000 are allowed");
  assert_int_equal(pr.n, 1); /* the rota's names are not checked against a refused list */
  config_problems_free(&pr);
  free(over);
}

static void test_problem_cap(void **state)
{
  (void)state;
  struct config_problems pr;
  size_t cap = 64 + (size_t)400 * 24;
  char *s = malloc(cap);
  assert_non_null(s);
  size_t len = (size_t)snprintf(s, cap, BASE "log:\n");
  for (int i = 0; i < 400; i++)
    len += (size_t)snprintf(s + len, cap - len, "  bad%d: 1\n", i);
  assert_null(load(s, &pr));
  assert_int_equal(pr.n, CONFIG_MAX_PROBLEMS + 1);
  assert_non_null(strstr(pr.items[pr.n - 1].message, "and 200 more problems"));
  config_problems_free(&pr);
  free(s);
}

int main(void)
{
  static const struct CMUnitTest fixed[] = {
      cmocka_unit_test(test_example_loads),
      cmocka_unit_test(test_minimal_defaults),
      cmocka_unit_test(test_teams_only_person),
      cmocka_unit_test(test_variants),
      cmocka_unit_test(test_twilio),
      cmocka_unit_test(test_aliases_and_merges),
      cmocka_unit_test(test_push_webhook_and_notify_forms),
      cmocka_unit_test(test_case_bases_load),
      cmocka_unit_test(test_many_problems),
      cmocka_unit_test(test_secret_not_echoed),
      cmocka_unit_test(test_per_client_cap),
      cmocka_unit_test(test_storage_retention),
      cmocka_unit_test(test_storage_engine),
      cmocka_unit_test(test_huge_refused),
      cmocka_unit_test(test_file_errors),
      cmocka_unit_test(test_alias_bomb),
      cmocka_unit_test(test_alias_cycle),
      cmocka_unit_test(test_list_cap),
      cmocka_unit_test(test_problem_cap),
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
  int rc = _cmocka_run_group_tests("config", tests, n_fixed + n_cases, NULL, NULL);
  free(tests);
  return rc;
}
