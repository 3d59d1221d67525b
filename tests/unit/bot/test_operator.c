/* Telling the operator (bot/operator.c, issue 15): never through the platform the news is
 * about; one email row per address, a post in the other platform's channel; nothing when the
 * config has no operator block. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

#include "bot/operator.h"
#include "tests/unit/fixture.h"

#define BASE                                                           \
  "timezone: UTC\n"                                                    \
  "people: [{id: alice, slack: U0ALICE001}]\n"                         \
  "severities: [{name: P1}]\n"                                         \
  "rotas: [{name: r, start: 2026-11-23, primary: [alice]}]\n"          \
  "smtp: {url: \"smtp://127.0.0.1:2525\", from: klaxon@example.com}\n" \
  "teams: {app_id: 00000000-0000-0000-0000-000000000000, app_password_env: TP}\n"
#define OPS                                                                \
  "operator: {email: [ops@example.com, lead@example.com], teams_channel: " \
  "\"19:a1b2c3d4e5f60718293a4b5c6d7e8f90@thread.tacv2\", slack_channel: C0OPS00001}\n"

static void test_slack_refused_goes_by_email_and_teams(void **state)
{
  (void)state;
  struct fx *f = fx_new(BASE OPS, "2026-12-07T09:00:00Z");
  int64_t ids[8];
  int n = operator_tell(&f->ctx, f->t0, "slack", OPERATOR_REFUSED, "token_revoked", ids, 8);
  assert_int_equal(n, 3);
  assert_int_equal(fx_count(f,
                            "SELECT count(*) FROM outbox WHERE platform = 'email' AND "
                            "queue = 'operator:email' AND priority = 0"),
                   2);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM outbox WHERE platform = 'teams'"), 1);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM outbox WHERE platform = 'slack'"), 0);
  assert_int_equal(fx_count(f,
                            "SELECT count(*) FROM outbox WHERE body LIKE "
                            "'%Slack refuses the bot token (token_revoked)%'"),
                   3);
  assert_true(ids[0] > 0 && ids[1] > ids[0] && ids[2] > ids[1]);
  fx_free(f);
}

static void test_teams_refused_goes_by_email_and_slack(void **state)
{
  (void)state;
  struct fx *f = fx_new(BASE OPS, "2026-12-07T09:00:00Z");
  int n = operator_tell(&f->ctx, f->t0, "teams", OPERATOR_ACCEPTED, NULL, NULL, 0);
  assert_int_equal(n, 3);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM outbox WHERE platform = 'email'"), 2);
  assert_int_equal(fx_count(f,
                            "SELECT count(*) FROM outbox WHERE platform = 'slack' AND "
                            "queue = 'C0OPS00001' AND method = 'chat.postMessage'"),
                   1);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM outbox WHERE platform = 'teams'"), 0);
  assert_int_equal(fx_count(f,
                            "SELECT count(*) FROM outbox WHERE body LIKE "
                            "'%accepts the Teams bot''s credentials again%'"),
                   3);
  fx_free(f);
}

static void test_no_operator_block_writes_nothing(void **state)
{
  (void)state;
  struct fx *f = fx_new(BASE, "2026-12-07T09:00:00Z");
  assert_int_equal(
      operator_tell(&f->ctx, f->t0, "slack", OPERATOR_DISABLED, "link_disabled", NULL, 0), 0);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM outbox"), 0);
  fx_free(f);
}

static void test_disabled_says_exit_code_and_waiting(void **state)
{
  (void)state;
  struct fx *f = fx_new(BASE "operator: {email: ops@example.com}\n", "2026-12-07T09:00:00Z");
  assert_int_equal(operator_tell(&f->ctx, f->t0, "slack", OPERATOR_REFUSED, "x", NULL, 0), 1);
  assert_int_equal(
      operator_tell(&f->ctx, f->t0, "slack", OPERATOR_DISABLED, "link_disabled", NULL, 0), 1);
  /* the second message counts the first, still pending, as waiting */
  assert_int_equal(fx_count(f,
                            "SELECT count(*) FROM outbox WHERE body LIKE '%exit code 6%' "
                            "AND body LIKE '%1 messages wait%'"),
                   1);
  fx_free(f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_slack_refused_goes_by_email_and_teams),
      cmocka_unit_test(test_teams_refused_goes_by_email_and_slack),
      cmocka_unit_test(test_no_operator_block_writes_nothing),
      cmocka_unit_test(test_disabled_says_exit_code_and_waiting),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
