/* Socket Mode frames and envelopes → neutral requests, on Slack's real payloads
 * (tests/fixtures/slack, copied from Slack's SDKs and docs). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

#include "bot/slack/slack_envelope.h"
#include "lib/kx.h"
#include "tests/unit/util.h"

#define FIX "tests/fixtures/slack/"

static void parse_fixture(const char *name, struct slack_frame *f)
{
  size_t len = 0;
  char *text = test_read_file(name, &len);
  assert_non_null(text);
  assert_int_equal(slack_frame_parse(text, len, f), 0);
  free(text);
}

static void test_hello(void **state)
{
  (void)state;
  struct slack_frame f;
  parse_fixture(FIX "socket_mode_hello.json", &f);
  assert_int_equal(f.type, SLACK_FRAME_HELLO);
  assert_int_equal(f.num_connections, 1);
  assert_int_equal(f.approximate_connection_time, 18060);
  slack_frame_free(&f);
}

static void test_disconnects(void **state)
{
  (void)state;
  static const struct {
    const char *file, *reason;
  } cases[] = {
      {FIX "disconnect_refresh_requested.json", "refresh_requested"},
      {FIX "disconnect_warning.json", "warning"},
      {FIX "disconnect_link_disabled.json", "link_disabled"},
  };
  for (size_t i = 0; i < KX_ARRAY_SIZE(cases); i++) {
    struct slack_frame f;
    parse_fixture(cases[i].file, &f);
    assert_int_equal(f.type, SLACK_FRAME_DISCONNECT);
    assert_string_equal(f.reason, cases[i].reason);
    slack_frame_free(&f);
  }
}

static void test_slash_command(void **state)
{
  (void)state;
  struct slack_frame f;
  parse_fixture(FIX "envelope_slash_command.json", &f);
  assert_int_equal(f.type, SLACK_FRAME_ENVELOPE);
  assert_true(f.accepts_response_payload);
  struct cmd_request req;
  struct slack_req_strings s;
  assert_int_equal(slack_envelope_request(&f, NULL, 1000, &req, &s), 0);
  assert_int_equal(req.kind, CMD_KIND_COMMAND);
  assert_string_equal(req.command, "hello-socket-mode");
  assert_string_equal(req.text, "");
  assert_string_equal(req.user, "U111");
  assert_string_equal(req.channel, "C111");
  assert_string_equal(req.response_url, "https://hooks.slack.com/commands/T111/111/xxx");
  assert_string_equal(req.trigger_id, "111.222.xxx");
  assert_int_equal(req.answer, CMD_ANSWER_ACK); /* accepts_response_payload: in the ack */
  assert_string_equal(req.dedup_key, "slack-env:1d3c79ab-0ffb-41f3-a080-d19e85f53649");
  assert_int_equal(req.now_ms, 1000);
  slack_frame_free(&f);
}

static void test_slash_command_docs(void **state)
{
  (void)state;
  struct slack_frame f;
  parse_fixture(FIX "envelope_slash_command_docs.json", &f);
  struct cmd_request req;
  struct slack_req_strings s;
  assert_int_equal(slack_envelope_request(&f, NULL, 0, &req, &s), 0);
  assert_int_equal(req.kind, CMD_KIND_COMMAND);
  assert_non_null(req.command);
  assert_non_null(req.user);
  slack_frame_free(&f);
}

static void test_block_actions(void **state)
{
  (void)state;
  struct slack_frame f;
  parse_fixture(FIX "envelope_block_actions.json", &f);
  assert_false(f.accepts_response_payload);
  struct cmd_request req;
  struct slack_req_strings s;
  assert_int_equal(slack_envelope_request(&f, NULL, 0, &req, &s), 0);
  assert_int_equal(req.kind, CMD_KIND_ACTION);
  assert_string_equal(req.action_id, "a");
  assert_string_equal(req.action_value, "underlying");
  assert_string_equal(req.channel, "C111");
  assert_string_equal(req.message_ts, "1605853634.000400");
  assert_string_equal(req.user, "U111");
  assert_int_equal(req.answer, CMD_ANSWER_RESPONSE_URL); /* a button: no payload in the ack */
  slack_frame_free(&f);
}

static void test_action_suffix_stripped(void **state)
{
  (void)state;
  const char *text =
      "{\"envelope_id\":\"e1\",\"type\":\"interactive\",\"accepts_response_payload\":false,"
      "\"payload\":{\"type\":\"block_actions\",\"user\":{\"id\":\"U1\"},\"container\":{\"type\":"
      "\"message\",\"message_ts\":\"1.2\",\"channel_id\":\"C1\"},\"actions\":[{\"action_id\":"
      "\"page.ack#0\",\"value\":\"42\",\"type\":\"button\"}]}}";
  struct slack_frame f;
  assert_int_equal(slack_frame_parse(text, strlen(text), &f), 0);
  struct cmd_request req;
  struct slack_req_strings s;
  assert_int_equal(slack_envelope_request(&f, NULL, 0, &req, &s), 0);
  assert_string_equal(req.action_id, "page.ack");
  assert_string_equal(req.action_value, "42");
  assert_string_equal(req.channel, "C1");
  slack_frame_free(&f);
}

/* Issue 17 item 4: a user id that is not an id is refused at parse time. */
static void test_hostile_user_id_refused(void **state)
{
  (void)state;
  const char *text =
      "{\"envelope_id\":\"e2\",\"type\":\"interactive\",\"accepts_response_payload\":false,"
      "\"payload\":{\"type\":\"block_actions\",\"user\":{\"id\":\"x> <!channel> "
      "<https://evil/login|SSO>\"},\"container\":{\"type\":\"message\",\"message_ts\":\"1.2\","
      "\"channel_id\":\"C1\"},\"actions\":[{\"action_id\":\"page.ack\",\"value\":\"42\","
      "\"type\":\"button\"}]}}";
  struct slack_frame f;
  assert_int_equal(slack_frame_parse(text, strlen(text), &f), 0);
  struct cmd_request req;
  struct slack_req_strings s;
  assert_int_equal(slack_envelope_request(&f, NULL, 0, &req, &s), KX_EPROTO);
  slack_frame_free(&f);
}

static char *wrap(const char *payload_file, const char *type)
{
  char *payload = test_read_file(payload_file, NULL);
  assert_non_null(payload);
  char *out = kx_asprintf(
      "{\"envelope_id\":\"env-1\",\"type\":\"%s\",\"accepts_response_payload\":%s,\"payload\":%s}",
      type, strcmp(type, "interactive") == 0 ? "true" : "false", payload);
  free(payload);
  return out;
}

static void test_view_submission(void **state)
{
  (void)state;
  char *text = wrap(FIX "view_submission.json", "interactive");
  struct slack_frame f;
  assert_int_equal(slack_frame_parse(text, strlen(text), &f), 0);
  free(text);
  struct cmd_request req;
  struct slack_req_strings s;
  assert_int_equal(slack_envelope_request(&f, NULL, 0, &req, &s), 0);
  assert_int_equal(req.kind, CMD_KIND_VIEW_SUBMISSION);
  assert_string_equal(req.user, "U1234567");
  assert_non_null(req.view_callback);
  assert_non_null(req.payload);
  assert_int_equal(req.answer, CMD_ANSWER_ACK); /* response_action rides in the ack */
  slack_frame_free(&f);
}

static void test_message_event(void **state)
{
  (void)state;
  struct slack_frame f;
  parse_fixture(FIX "envelope_events_api_message.json", &f);
  struct cmd_request req;
  struct slack_req_strings s;
  struct slack_self self = {"U333", "B333"};
  assert_int_equal(slack_envelope_request(&f, &self, 0, &req, &s), 0);
  assert_int_equal(req.kind, CMD_KIND_MESSAGE);
  assert_string_equal(req.text, "<@U111> Hi here!");
  assert_string_equal(req.user, "U222");
  assert_string_equal(req.channel, "C111");
  assert_string_equal(req.message_ts, "1610241741.000200");
  assert_int_equal(req.event_time_ms, 1610241741000LL + 200 / 1000);
  /* Events are deduplicated by event_id: a retry carries a new envelope id. */
  assert_string_equal(req.dedup_key, "slack-ev:Ev111");
  assert_int_equal(req.answer, CMD_ANSWER_ACK); /* chat in a channel: nobody to answer */
  slack_frame_free(&f);
}

static void test_own_and_bot_messages_ignored(void **state)
{
  (void)state;
  /* The same message, said by the bot itself: nothing to do. */
  struct slack_frame f;
  parse_fixture(FIX "envelope_events_api_message.json", &f);
  struct cmd_request req;
  struct slack_req_strings s;
  struct slack_self self = {"U222", "B333"};
  assert_int_equal(slack_envelope_request(&f, &self, 0, &req, &s), KX_ENOTFOUND);
  slack_frame_free(&f);
  /* Any bot's message (bot_id present) is not what people said. */
  char *text = wrap(FIX "events_api_bot_message.json", "events_api");
  assert_int_equal(slack_frame_parse(text, strlen(text), &f), 0);
  free(text);
  assert_int_equal(slack_envelope_request(&f, &self, 0, &req, &s), KX_ENOTFOUND);
  slack_frame_free(&f);
}

static void test_reaction(void **state)
{
  (void)state;
  char *text = wrap(FIX "events_api_reaction_added.json", "events_api");
  struct slack_frame f;
  assert_int_equal(slack_frame_parse(text, strlen(text), &f), 0);
  free(text);
  struct cmd_request req;
  struct slack_req_strings s;
  assert_int_equal(slack_envelope_request(&f, NULL, 0, &req, &s), 0);
  assert_int_equal(req.kind, CMD_KIND_REACTION_ADDED);
  assert_string_equal(req.action_id, "slightly_smiling_face");
  assert_string_equal(req.channel, "C123ABC456");
  assert_string_equal(req.message_ts, "1464196127.000002");
  assert_string_equal(req.user, "U123ABC456");
  slack_frame_free(&f);
}

static void test_app_mention_command(void **state)
{
  (void)state;
  const char *text =
      "{\"envelope_id\":\"e2\",\"type\":\"events_api\",\"payload\":{\"type\":\"event_callback\","
      "\"event_id\":\"Ev9\",\"event\":{\"type\":\"app_mention\",\"user\":\"U1\",\"channel\":\"C1\","
      "\"text\":\"<@UBOT> incident declare P1 db down\",\"ts\":\"1.1\"}}}";
  struct slack_frame f;
  assert_int_equal(slack_frame_parse(text, strlen(text), &f), 0);
  struct cmd_request req;
  struct slack_req_strings s;
  struct slack_self self = {"UBOT", "BBOT"};
  assert_int_equal(slack_envelope_request(&f, &self, 0, &req, &s), 0);
  assert_int_equal(req.kind, CMD_KIND_COMMAND);
  assert_string_equal(req.command, "incident");
  assert_string_equal(req.text, "declare P1 db down");
  assert_int_equal(req.answer, CMD_ANSWER_EPHEMERAL); /* an event has no response_url */
  slack_frame_free(&f);
  /* The fixture's mention is just chat: nothing to run. */
  parse_fixture(FIX "envelope_events_api_app_mention.json", &f);
  struct slack_self self2 = {"U222", NULL};
  assert_int_equal(slack_envelope_request(&f, &self2, 0, &req, &s), KX_ENOTFOUND);
  slack_frame_free(&f);
}

static void test_edits_and_deletions(void **state)
{
  (void)state;
  const char *changed =
      "{\"envelope_id\":\"e3\",\"type\":\"events_api\",\"payload\":{\"event_id\":\"Ev3\","
      "\"event\":{\"type\":\"message\",\"subtype\":\"message_changed\",\"channel\":\"C1\",\"ts\":"
      "\"5.0\",\"message\":{\"type\":\"message\",\"user\":\"U1\",\"text\":\"fixed typo\",\"ts\":"
      "\"4.0\",\"edited\":{\"user\":\"U1\",\"ts\":\"5.0\"}}}}}";
  const char *deleted =
      "{\"envelope_id\":\"e4\",\"type\":\"events_api\",\"payload\":{\"event_id\":\"Ev4\","
      "\"event\":{\"type\":\"message\",\"subtype\":\"message_deleted\",\"channel\":\"C1\",\"ts\":"
      "\"6.0\",\"deleted_ts\":\"4.0\",\"hidden\":true}}}";
  struct slack_frame f;
  struct cmd_request req;
  struct slack_req_strings s;
  assert_int_equal(slack_frame_parse(changed, strlen(changed), &f), 0);
  assert_int_equal(slack_envelope_request(&f, NULL, 0, &req, &s), 0);
  assert_int_equal(req.kind, CMD_KIND_MESSAGE_CHANGED);
  assert_string_equal(req.message_ts, "4.0");
  assert_string_equal(req.text, "fixed typo");
  slack_frame_free(&f);
  assert_int_equal(slack_frame_parse(deleted, strlen(deleted), &f), 0);
  assert_int_equal(slack_envelope_request(&f, NULL, 0, &req, &s), 0);
  assert_int_equal(req.kind, CMD_KIND_MESSAGE_DELETED);
  assert_string_equal(req.message_ts, "4.0");
  slack_frame_free(&f);
}

static void test_malformed(void **state)
{
  (void)state;
  static const char *bad[] = {"",
                              "{",
                              "[]",
                              "null",
                              "42",
                              "{\"no\":\"type\"}",
                              "{\"type\":7}",
                              "{\"type\":\"hello\"",
                              "\xff\xfe"};
  for (size_t i = 0; i < KX_ARRAY_SIZE(bad); i++) {
    struct slack_frame f;
    assert_int_equal(slack_frame_parse(bad[i], strlen(bad[i]), &f), KX_EPROTO);
  }
  /* Valid JSON of an unknown type is not an error: it is ignored (acked when it has an id). */
  struct slack_frame f;
  const char *unknown = "{\"type\":\"brand_new\",\"envelope_id\":\"x\"}";
  assert_int_equal(slack_frame_parse(unknown, strlen(unknown), &f), 0);
  assert_int_equal(f.type, SLACK_FRAME_UNKNOWN);
  assert_string_equal(f.envelope_id, "x");
  slack_frame_free(&f);
  /* An envelope without payload, or with the wrong shapes. */
  static const char *broken[] = {
      "{\"type\":\"slash_commands\",\"envelope_id\":\"1\"}",
      "{\"type\":\"slash_commands\",\"envelope_id\":\"1\",\"payload\":[]}",
      "{\"type\":\"slash_commands\",\"envelope_id\":\"1\",\"payload\":{\"command\":\"x\"}}",
      "{\"type\":\"slash_commands\",\"payload\":{\"command\":\"/x\",\"user_id\":\"U\"}}",
      "{\"type\":\"interactive\",\"envelope_id\":\"1\",\"payload\":{\"type\":\"block_actions\"}}",
      "{\"type\":\"events_api\",\"envelope_id\":\"1\",\"payload\":{\"event\":{}}}",
  };
  for (size_t i = 0; i < KX_ARRAY_SIZE(broken); i++) {
    struct cmd_request req;
    struct slack_req_strings s;
    assert_int_equal(slack_frame_parse(broken[i], strlen(broken[i]), &f), 0);
    assert_int_equal(slack_envelope_request(&f, NULL, 0, &req, &s), KX_EPROTO);
    slack_frame_free(&f);
  }
}

static void test_too_big(void **state)
{
  (void)state;
  size_t n = SLACK_FRAME_MAX + 1;
  char *big = malloc(n);
  memset(big, ' ', n);
  struct slack_frame f;
  assert_int_equal(slack_frame_parse(big, n, &f), KX_ETOOBIG);
  free(big);
}

static void test_ts(void **state)
{
  (void)state;
  assert_int_equal(slack_ts_to_ms("1610241741.000200"), 1610241741000LL);
  assert_int_equal(slack_ts_to_ms("1610241741.123456"), 1610241741123LL);
  assert_int_equal(slack_ts_to_ms("12"), 12000);
  assert_int_equal(slack_ts_to_ms("x"), 0);
  assert_int_equal(slack_ts_to_ms(NULL), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hello),
      cmocka_unit_test(test_disconnects),
      cmocka_unit_test(test_slash_command),
      cmocka_unit_test(test_slash_command_docs),
      cmocka_unit_test(test_block_actions),
      cmocka_unit_test(test_action_suffix_stripped),
      cmocka_unit_test(test_hostile_user_id_refused),
      cmocka_unit_test(test_view_submission),
      cmocka_unit_test(test_message_event),
      cmocka_unit_test(test_own_and_bot_messages_ignored),
      cmocka_unit_test(test_reaction),
      cmocka_unit_test(test_app_mention_command),
      cmocka_unit_test(test_edits_and_deletions),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_too_big),
      cmocka_unit_test(test_ts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
