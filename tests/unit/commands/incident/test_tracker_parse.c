/* commands/incident/tracker_parse.c: what the trackers' webhooks say (issue 14), on payloads
 * shaped as GitHub's `issues` event and Jira Cloud's `jira:issue_updated` document them. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

#include "commands/incident/tracker_parse.h"
#include "lib/kx.h"

static int parse(enum tracker_kind k, const char *event, const char *body, char *key, char *repo)
{
  return tracker_webhook_parse(k, event, body, strlen(body), key, TRACKER_KEY_MAX + 8, repo, 600);
}

static void test_github(void **state)
{
  (void)state;
  char key[TRACKER_KEY_MAX + 8], repo[600];
  const char *closed =
      "{\"action\":\"closed\",\"issue\":{\"number\":41,\"state\":\"closed\"},"
      "\"repository\":{\"full_name\":\"acme/platform\"},\"sender\":{}}";
  assert_int_equal(parse(TRACKER_GITHUB, "issues", closed, key, repo), 1);
  assert_string_equal(key, "acme/platform#41");
  assert_string_equal(repo, "acme/platform");
  /* Another event, another action: ignored. */
  assert_int_equal(parse(TRACKER_GITHUB, "ping", "{\"zen\":\"x\"}", key, repo), 0);
  assert_int_equal(parse(TRACKER_GITHUB, NULL, closed, key, repo), 0);
  const char *opened =
      "{\"action\":\"opened\",\"issue\":{\"number\":41},"
      "\"repository\":{\"full_name\":\"acme/platform\"}}";
  assert_int_equal(parse(TRACKER_GITHUB, "issues", opened, key, repo), 0);
  assert_string_equal(key, "");
  /* Broken: not JSON, no number, a fractional or negative number, a spaced repo name. */
  assert_int_equal(parse(TRACKER_GITHUB, "issues", "[1,", key, repo), KX_EINVAL);
  assert_int_equal(parse(TRACKER_GITHUB, "issues", "[]", key, repo), KX_EINVAL);
  assert_int_equal(
      parse(TRACKER_GITHUB, "issues",
            "{\"action\":\"closed\",\"repository\":{\"full_name\":\"a/b\"}}", key, repo),
      KX_EINVAL);
  assert_int_equal(parse(TRACKER_GITHUB, "issues",
                         "{\"action\":\"closed\",\"issue\":{\"number\":1.5},\"repository\":{"
                         "\"full_name\":\"a/b\"}}",
                         key, repo),
                   KX_EINVAL);
  assert_int_equal(parse(TRACKER_GITHUB, "issues",
                         "{\"action\":\"closed\",\"issue\":{\"number\":-3},\"repository\":{"
                         "\"full_name\":\"a/b\"}}",
                         key, repo),
                   KX_EINVAL);
  assert_int_equal(parse(TRACKER_GITHUB, "issues",
                         "{\"action\":\"closed\",\"issue\":{\"number\":3},\"repository\":{"
                         "\"full_name\":\"a b/c\"}}",
                         key, repo),
                   KX_EINVAL);
}

static void test_jira(void **state)
{
  (void)state;
  char key[TRACKER_KEY_MAX + 8], repo[600];
  const char *done =
      "{\"webhookEvent\":\"jira:issue_updated\",\"issue\":{\"key\":\"OPS-7\","
      "\"self\":\"https://acme.atlassian.net/rest/api/3/issue/10007\",\"fields\":{"
      "\"status\":{\"name\":\"Done\",\"statusCategory\":{\"key\":\"done\"}}}}}";
  assert_int_equal(parse(TRACKER_JIRA, NULL, done, key, repo), 1);
  assert_string_equal(key, "OPS-7");
  const char *doing =
      "{\"webhookEvent\":\"jira:issue_updated\",\"issue\":{\"key\":\"OPS-7\","
      "\"fields\":{\"status\":{\"statusCategory\":{\"key\":\"indeterminate\"}}}}}";
  assert_int_equal(parse(TRACKER_JIRA, NULL, doing, key, repo), 0);
  assert_int_equal(
      parse(TRACKER_JIRA, NULL,
            "{\"webhookEvent\":\"jira:issue_created\",\"issue\":{\"key\":\"OPS-8\"}}", key, repo),
      0);
  assert_int_equal(parse(TRACKER_JIRA, NULL, "{\"issue\":{}}", key, repo), KX_EINVAL);
  assert_int_equal(
      parse(TRACKER_JIRA, NULL, "{\"webhookEvent\":\"jira:issue_updated\"}", key, repo), KX_EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_github),
      cmocka_unit_test(test_jira),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
