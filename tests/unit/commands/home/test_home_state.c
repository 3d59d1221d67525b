/* The team's-view parsers of outside input (commands/home/home_state.c): form fields of a
 * view_submission, Teams action data, a message shortcut's message, incident links of a
 * link_shared event; and the envelope parser's new kinds (app_home_opened, link_shared,
 * message_action) on payloads shaped like Slack's (tests/fuzz/seeds/fuzz_home). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

#include "bot/slack/slack_envelope.h"
#include "commands/home/home_state.h"
#include "lib/kx.h"
#include "tests/unit/util.h"

#define SEEDS "tests/fuzz/seeds/fuzz_home/"

static cJSON *load(const char *name)
{
  char *text = test_read_file(name, NULL);
  assert_non_null(text);
  cJSON *j = cJSON_Parse(text);
  free(text);
  assert_non_null(j);
  return j;
}

static void test_form_fields(void **state)
{
  (void)state;
  cJSON *env = load(SEEDS "envelope_view_submission_override.json");
  const cJSON *p = cJSON_GetObjectItem(env, "payload");
  assert_string_equal(home_state_get(p, "who"), "U0CAROL001");
  assert_string_equal(home_state_get(p, "rota"), "platform");
  assert_string_equal(home_state_get(p, "from"), "2026-02-29");
  assert_null(home_state_get(p, "slot")); /* not in the state */
  assert_null(home_state_get(p, "nothing"));
  assert_string_equal(home_state_callback(p), "oncall.override");
  assert_non_null(home_state_metadata(p));
  /* 2026 is no leap year, 2028 is */
  assert_false(home_state_date_ok(home_state_get(p, "from")));
  assert_true(home_state_date_ok(home_state_get(p, "to")));
  assert_false(home_state_date_ok("2026-13-01"));
  assert_false(home_state_date_ok("2026-1-01"));
  assert_false(home_state_date_ok(NULL));
  assert_true(home_state_user_ok("U0CAROL001"));
  assert_true(home_state_user_ok("W0ABC"));
  assert_false(home_state_user_ok("U0<!here>"));
  assert_false(home_state_user_ok("carol"));
  cJSON_Delete(env);
}

static void test_wrong_shapes_are_absent(void **state)
{
  (void)state;
  cJSON *p = cJSON_Parse(
      "{\"view\":{\"state\":{\"values\":{\"who\":{\"who\":{\"selected_user\":7}},"
      "\"rota\":{\"rota\":{\"selected_option\":\"platform\"}},"
      "\"text\":{\"text\":{\"value\":\"\"}},\"from\":[1]}}}}");
  assert_non_null(p);
  assert_null(home_state_get(p, "who"));
  assert_null(home_state_get(p, "rota"));
  assert_null(home_state_get(p, "text"));
  assert_null(home_state_get(p, "from"));
  assert_null(home_state_get(NULL, "who"));
  /* longer than HOME_FIELD_MAX: absent, never cut silently */
  char *big = malloc(HOME_FIELD_MAX + 2);
  memset(big, 'x', HOME_FIELD_MAX + 1);
  big[HOME_FIELD_MAX + 1] = '\0';
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "text", big);
  assert_null(home_state_data(d, "text"));
  free(big);
  cJSON_Delete(d);
  cJSON_Delete(p);
}

static void test_teams_data(void **state)
{
  (void)state;
  cJSON *d = load(SEEDS "teams_action_data.json");
  assert_string_equal(home_state_data(d, "who"), "carol");
  assert_string_equal(home_state_data(d, "slot"), "secondary");
  assert_null(home_state_data(d, "week"));
  cJSON_Delete(d);
}

static void test_shortcut(void **state)
{
  (void)state;
  cJSON *env = load(SEEDS "envelope_message_action.json");
  const cJSON *p = cJSON_GetObjectItem(env, "payload");
  struct home_shortcut sc;
  assert_int_equal(home_shortcut_parse(p, &sc), 0);
  assert_string_equal(sc.channel, "C0INCIDENT");
  assert_string_equal(sc.ts, "1700000000.000100");
  assert_string_equal(sc.author, "U0BOB00001");
  assert_string_equal(sc.text, "db down\nsince 09:50");
  cJSON *bad = cJSON_Parse("{\"channel\":{\"id\":\"C<1>\"},\"message\":{\"ts\":\"1.2\"}}");
  assert_int_equal(home_shortcut_parse(bad, &sc), KX_EPROTO);
  cJSON_Delete(bad);
  bad = cJSON_Parse("{\"channel\":{\"id\":\"C1\"},\"message\":{\"ts\":\"1.2; drop\"}}");
  assert_int_equal(home_shortcut_parse(bad, &sc), KX_EPROTO);
  cJSON_Delete(bad);
  cJSON_Delete(env);
}

static void test_links(void **state)
{
  (void)state;
  cJSON *env = load(SEEDS "envelope_link_shared.json");
  const cJSON *p = cJSON_GetObjectItem(env, "payload");
  const char *urls[HOME_UNFURL_MAX];
  long long ids[HOME_UNFURL_MAX];
  /* only BASE/incidents/<digits>[/…]: not /incidents/x, not another host */
  assert_int_equal(home_links_parse(p, "https://klaxon.example.com/", urls, ids, HOME_UNFURL_MAX),
                   1);
  assert_int_equal(ids[0], 12);
  assert_string_equal(urls[0], "https://klaxon.example.com/incidents/12/postmortem.md");
  assert_int_equal(home_links_parse(p, "https://klaxon.example", urls, ids, HOME_UNFURL_MAX), 0);
  assert_int_equal(home_links_parse(p, NULL, urls, ids, HOME_UNFURL_MAX), 0);
  assert_int_equal(home_links_parse(p, "https://klaxon.example.com", urls, ids, 0), 0);
  cJSON_Delete(env);
}

static int request_of(const char *seed,
                      struct slack_frame *f,
                      struct cmd_request *req,
                      struct slack_req_strings *s)
{
  size_t len = 0;
  char *text = test_read_file(seed, &len);
  assert_non_null(text);
  assert_int_equal(slack_frame_parse(text, len, f), 0);
  free(text);
  return slack_envelope_request(f, NULL, 0, req, s);
}

static void test_envelope_kinds(void **state)
{
  (void)state;
  struct slack_frame f;
  struct cmd_request req;
  struct slack_req_strings s;
  assert_int_equal(request_of(SEEDS "envelope_app_home_opened.json", &f, &req, &s), 0);
  assert_int_equal(req.kind, CMD_KIND_HOME_OPENED);
  assert_string_equal(req.user, "U0ALICE001");
  assert_int_equal(req.answer, CMD_ANSWER_ACK);
  slack_frame_free(&f);
  assert_int_equal(request_of(SEEDS "envelope_link_shared.json", &f, &req, &s), 0);
  assert_int_equal(req.kind, CMD_KIND_LINK_SHARED);
  assert_string_equal(req.channel, "C1");
  assert_string_equal(req.message_ts, "1.2");
  slack_frame_free(&f);
  assert_int_equal(request_of(SEEDS "envelope_message_action.json", &f, &req, &s), 0);
  assert_int_equal(req.kind, CMD_KIND_ACTION);
  assert_string_equal(req.action_id, "incident.timeline_add");
  assert_string_equal(req.channel, "C0INCIDENT");
  assert_string_equal(req.message_ts, "1700000000.000100");
  assert_string_equal(req.trigger_id, "1.2.ab");
  assert_int_equal(req.answer, CMD_ANSWER_RESPONSE_URL);
  slack_frame_free(&f);
  /* the Messages tab is nothing to do */
  const char *msgs =
      "{\"envelope_id\":\"e\",\"type\":\"events_api\",\"payload\":{\"event\":"
      "{\"type\":\"app_home_opened\",\"user\":\"U1\",\"tab\":\"messages\"}}}";
  assert_int_equal(slack_frame_parse(msgs, strlen(msgs), &f), 0);
  assert_int_equal(slack_envelope_request(&f, NULL, 0, &req, &s), KX_ENOTFOUND);
  slack_frame_free(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_form_fields), cmocka_unit_test(test_wrong_shapes_are_absent),
      cmocka_unit_test(test_teams_data),  cmocka_unit_test(test_shortcut),
      cmocka_unit_test(test_links),       cmocka_unit_test(test_envelope_kinds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
