/*
 * Tests for bot/teams_request.c: what each Teams activity becomes (command, help, channel
 * message, card action, event, ignored), text normalised as handlers parse it (escaping, other
 * users' mentions as <@AADID|Name>), and the reply / invoke response shapes. The real
 * recordings in tests/fixtures/teams/ are the base; variants change one field each.
 */
// cmocka must come after the headers above.
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

#include "bot/teams/teams_request.h"
#include "commands/core/render_teams.h"
#include "lib/kx.h"
#include "tests/unit/util.h"

#define FIXDIR "tests/fixtures/teams/"
#define F_CHANNEL_MENTION FIXDIR "20191020020553704-request-integrationBot.json"
#define F_PERSONAL FIXDIR "20191021205338231-request-integrationBot.json"
#define F_SUBMIT FIXDIR "20191020020633146-request-integrationBot.json"
#define F_INVOKE FIXDIR "20191020020654953-request-integrationBot.json"
#define F_MEMBER_ADDED FIXDIR "20191019181214767-request-integrationBot.json"
#define BOT_ID "28:eac5e5c6-ab14-4f50-80cb-49213fe51b1a"
#define NOW 1795532400000LL

/* The recording's body, changed by `edit` (may be NULL), parsed. */
static struct teams_activity *load(const char *path, void (*edit)(cJSON *body))
{
  char *text = test_read_file(path, NULL);
  if (!text) {
    char alt[4096];
    snprintf(alt, sizeof(alt), "%s/%s", KLAXON_SRCDIR, path);
    text = test_read_file(alt, NULL);
  }
  assert_non_null(text);
  cJSON *rec = cJSON_Parse(text);
  free(text);
  cJSON *body = cJSON_DetachItemFromObject(rec, "body");
  assert_non_null(body);
  cJSON_Delete(rec);
  if (edit)
    edit(body);
  char *json = cJSON_PrintUnformatted(body);
  cJSON_Delete(body);
  struct teams_activity *a = NULL;
  assert_int_equal(teams_activity_parse(json, strlen(json), &a), 0);
  free(json);
  return a;
}

/* Set body.name to item, whether or not the recording had the field. */
static void put(cJSON *body, const char *name, cJSON *item)
{
  cJSON_DeleteItemFromObject(body, name);
  cJSON_AddItemToObject(body, name, item);
}

static void set_text(cJSON *body, const char *text)
{
  put(body, "text", cJSON_CreateString(text));
}

static char *lookup_calls_last;
static char *fake_aad(void *arg, const char *user_id)
{
  (void)arg;
  free(lookup_calls_last);
  lookup_calls_last = strdup(user_id);
  if (strcmp(user_id, "29:bob") == 0)
    return strdup("aad-bob-0001");
  return NULL;
}

/* ---- commands from channel messages ---------------------------------------------------------- */

static void edit_declare(cJSON *b)
{
  set_text(b, "<at>My Combined</at> incident declare P1 Database down\n");
}

static void channel_command(void **state)
{
  (void)state;
  struct teams_activity *a = load(F_CHANNEL_MENTION, edit_declare);
  struct cmd_request req;
  struct teams_req_strings s;
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_DISPATCH);
  assert_int_equal(req.platform, CMD_PLATFORM_TEAMS);
  assert_int_equal(req.kind, CMD_KIND_COMMAND);
  assert_string_equal(req.command, "incident");
  assert_string_equal(req.text, "declare P1 Database down");
  assert_int_equal(req.now_ms, NOW);
  /* The person is the AAD object id; the channel the conversation (the thread). */
  assert_string_equal(req.user, a->from.aad_object_id);
  assert_string_equal(req.channel, a->conversation.id);
  assert_non_null(strstr(req.channel, ";messageid="));
  assert_string_equal(req.thread_ts, a->conversation.thread_root_id);
  assert_string_equal(req.reply_to_id, a->id);
  assert_string_equal(req.service_url, "https://smba.trafficmanager.net/amer/");
  char want[600];
  snprintf(want, sizeof(want), "teams:%s:%s", a->conversation.base_id, a->id);
  assert_string_equal(req.dedup_key, want);
  teams_req_strings_free(&s);
  teams_activity_free(a);
}

static void edit_slash(cJSON *b)
{
  set_text(b, "<at>My Combined</at> /OnCall note x\n");
}
static void edit_help(cJSON *b)
{
  set_text(b, "<at>My Combined</at>\n");
}
static void edit_unknown(cJSON *b)
{
  set_text(b, "<at>My Combined</at> incidents please\n");
}

static void slash_case_and_help(void **state)
{
  (void)state;
  struct cmd_request req;
  struct teams_req_strings s;
  struct teams_activity *a = load(F_CHANNEL_MENTION, edit_slash);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_DISPATCH);
  assert_string_equal(req.command, "oncall");
  assert_string_equal(req.text, "note x");
  teams_req_strings_free(&s);
  teams_activity_free(a);
  a = load(F_CHANNEL_MENTION, edit_help);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_HELP);
  teams_req_strings_free(&s);
  teams_activity_free(a);
  /* "incidents" is not "incident": help, not a guess. */
  a = load(F_CHANNEL_MENTION, edit_unknown);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_HELP);
  teams_req_strings_free(&s);
  teams_activity_free(a);
}

/* The recording's own text "<at>My Combined</at>1": "1" is not a command. */
static void recording_as_is(void **state)
{
  (void)state;
  struct cmd_request req;
  struct teams_req_strings s;
  struct teams_activity *a = load(F_CHANNEL_MENTION, NULL);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_HELP);
  teams_req_strings_free(&s);
  teams_activity_free(a);
}

static void edit_no_mention(cJSON *b)
{
  set_text(b, "the database is back, <b>finally</b>");
  cJSON_DeleteItemFromObject(b, "entities");
}

static void channel_message_without_mention(void **state)
{
  (void)state;
  struct cmd_request req;
  struct teams_req_strings s;
  struct teams_activity *a = load(F_CHANNEL_MENTION, edit_no_mention);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_DISPATCH);
  assert_int_equal(req.kind, CMD_KIND_MESSAGE);
  assert_null(req.command);
  /* Escaped as Slack escapes user text, so markup can never be injected. */
  assert_string_equal(req.text, "the database is back, &lt;b&gt;finally&lt;/b&gt;");
  assert_string_equal(req.message_ts, a->id);
  assert_true(req.event_time_ms > 0);
  teams_req_strings_free(&s);
  teams_activity_free(a);
}

static void personal_chat_needs_no_mention(void **state)
{
  (void)state;
  struct cmd_request req;
  struct teams_req_strings s;
  struct teams_activity *a = load(F_PERSONAL, NULL); /* its text is "hi" */
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_HELP);
  teams_req_strings_free(&s);
  teams_activity_free(a);
}

/* ---- mentions ---------------------------------------------------------------------------------
 */

static void edit_user_mentions(cJSON *b)
{
  set_text(b,
           "<at>My Combined</at> incident lead <at>Bob B</at> and <at>Carol &amp; Co</at> & "
           "<at>Dan</at>");
  cJSON *ents = cJSON_GetObjectItem(b, "entities");
  cJSON *m1 = cJSON_Parse(
      "{\"type\":\"mention\",\"text\":\"<at>Bob B</at>\","
      "\"mentioned\":{\"id\":\"29:bob\",\"name\":\"Bob B\"}}");
  /* Carol's entity text has the entity that the text cleaning decodes. */
  cJSON *m2 = cJSON_Parse(
      "{\"type\":\"mention\",\"text\":\"<at>Carol &amp; Co</at>\","
      "\"mentioned\":{\"id\":\"29:carol\",\"name\":\"Carol & Co\","
      "\"aadObjectId\":\"aad-carol\"}}");
  cJSON *m3 = cJSON_Parse(
      "{\"type\":\"mention\",\"text\":\"<at>Dan</at>\","
      "\"mentioned\":{\"id\":\"29:dan|x>\",\"name\":\"Dan\"}}");
  cJSON_AddItemToArray(ents, m1);
  cJSON_AddItemToArray(ents, m2);
  cJSON_AddItemToArray(ents, m3);
}

static void user_mentions_normalised(void **state)
{
  (void)state;
  struct cmd_request req;
  struct teams_req_strings s;
  struct teams_activity *a = load(F_CHANNEL_MENTION, edit_user_mentions);
  assert_int_equal(teams_request_build(a, NOW, fake_aad, NULL, &req, &s), TEAMS_ROUTE_DISPATCH);
  assert_string_equal(req.command, "incident");
  /* Bob resolved through the roster, Carol by the id the entity carried, Dan unknown: his 29:
   * id stays (without the characters that would end the mention early). */
  assert_string_equal(
      req.text, "lead <@aad-bob-0001|Bob B> and <@aad-carol|Carol &amp; Co> &amp; <@29:danx|Dan>");
  teams_req_strings_free(&s);
  teams_activity_free(a);
  free(lookup_calls_last);
  lookup_calls_last = NULL;
}

/* ---- card actions -----------------------------------------------------------------------------
 */

static void edit_submit(cJSON *b)
{
  put(b, "value", cJSON_Parse("{\"action\":\"page.ack\",\"value\":\"42\"}"));
}

static void card_submit(void **state)
{
  (void)state;
  struct cmd_request req;
  struct teams_req_strings s;
  struct teams_activity *a = load(F_SUBMIT, edit_submit);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_DISPATCH);
  assert_int_equal(req.kind, CMD_KIND_ACTION);
  assert_string_equal(req.action_id, "page.ack");
  assert_string_equal(req.action_value, "42");
  assert_string_equal(req.message_ts, a->reply_to_id); /* the card, to update it */
  assert_string_equal(req.channel, a->conversation.id);
  teams_req_strings_free(&s);
  teams_activity_free(a);
}

/* The recording's own value {"key":"value"} names no action: ignored, not guessed. */
static void card_submit_recording_ignored(void **state)
{
  (void)state;
  struct cmd_request req;
  struct teams_req_strings s;
  struct teams_activity *a = load(F_SUBMIT, NULL);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_IGNORE);
  assert_null(s.dedup);
  teams_activity_free(a);
}

static void edit_execute(cJSON *b)
{
  put(b, "name", cJSON_CreateString("adaptiveCard/action"));
  put(b, "value",
      cJSON_Parse("{\"action\":{\"type\":\"Action.Execute\",\"verb\":\"page.ack\","
                  "\"data\":{\"action\":\"page.ack\",\"value\":7}},\"trigger\":\"manual\"}"));
}

static void card_execute(void **state)
{
  (void)state;
  struct cmd_request req;
  struct teams_req_strings s;
  struct teams_activity *a = load(F_INVOKE, edit_execute);
  assert_int_equal(a->kind, TEAMS_KIND_CARD_ACTION);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_DISPATCH);
  assert_int_equal(req.kind, CMD_KIND_ACTION);
  assert_string_equal(req.action_id, "page.ack");
  assert_string_equal(req.action_value, "7");
  assert_string_equal(req.message_ts, a->reply_to_id);
  teams_req_strings_free(&s);
  teams_activity_free(a);
}

static void edit_execute_verb_only(cJSON *b)
{
  put(b, "name", cJSON_CreateString("adaptiveCard/action"));
  put(b, "value",
      cJSON_Parse("{\"action\":{\"type\":\"Action.Execute\",\"verb\":\"incident.resolve\"}}"));
}

static void edit_execute_nothing(cJSON *b)
{
  put(b, "name", cJSON_CreateString("adaptiveCard/action"));
  put(b, "value", cJSON_Parse("{\"action\":{\"type\":\"Action.Execute\"}}"));
}

static void card_execute_verb_and_nothing(void **state)
{
  (void)state;
  struct cmd_request req;
  struct teams_req_strings s;
  struct teams_activity *a = load(F_INVOKE, edit_execute_verb_only);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_DISPATCH);
  assert_string_equal(req.action_id, "incident.resolve");
  assert_string_equal(req.action_value, "");
  teams_req_strings_free(&s);
  teams_activity_free(a);
  a = load(F_INVOKE, edit_execute_nothing);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_IGNORE);
  teams_activity_free(a);
}

static void events_and_own_messages(void **state)
{
  (void)state;
  struct cmd_request req;
  struct teams_req_strings s;
  struct teams_activity *a = load(F_MEMBER_ADDED, NULL);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_EVENT);
  teams_activity_free(a);
  /* A message from the bot itself is never run. */
  a = load(F_CHANNEL_MENTION, edit_declare);
  free(a->from.id);
  a->from.id = strdup(a->recipient.id);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_IGNORE);
  teams_activity_free(a);
}

static void edit_update(cJSON *b)
{
  put(b, "type", cJSON_CreateString("messageUpdate"));
  set_text(b, "the database is back (edited)");
  cJSON_DeleteItemFromObject(b, "entities");
}

static void edit_delete(cJSON *b)
{
  put(b, "type", cJSON_CreateString("messageDelete"));
  cJSON_DeleteItemFromObject(b, "text");
  cJSON_DeleteItemFromObject(b, "entities");
}

static void message_edit_and_delete(void **state)
{
  (void)state;
  struct cmd_request req;
  struct teams_req_strings s;
  struct teams_activity *a = load(F_CHANNEL_MENTION, edit_update);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_DISPATCH);
  assert_int_equal(req.kind, CMD_KIND_MESSAGE_CHANGED);
  assert_string_equal(req.text, "the database is back (edited)");
  assert_string_equal(req.message_ts, a->id);
  /* Not the dedup key of the message itself, or the edit would be dropped as a repeat. */
  char plain[600];
  snprintf(plain, sizeof(plain), "teams:%s:%s", a->conversation.base_id, a->id);
  assert_string_not_equal(req.dedup_key, plain);
  assert_non_null(strstr(req.dedup_key, ":edit:"));
  teams_req_strings_free(&s);
  teams_activity_free(a);
  a = load(F_CHANNEL_MENTION, edit_delete);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_DISPATCH);
  assert_int_equal(req.kind, CMD_KIND_MESSAGE_DELETED);
  assert_string_equal(req.message_ts, a->id);
  assert_null(req.text);
  teams_req_strings_free(&s);
  teams_activity_free(a);
}

/* ---- Outgoing Webhook -------------------------------------------------------------------------
 */

static void edit_webhook(cJSON *b)
{
  /* The 2018 doc's example: the recipient is not the mentioned webhook. */
  put(b, "recipient", cJSON_Parse("{\"id\":\"null\"}"));
  set_text(b, "<at>klaxon</at> oncall help");
  cJSON *ents = cJSON_GetObjectItem(b, "entities");
  cJSON_ReplaceItemInArray(ents, 0,
                           cJSON_Parse("{\"type\":\"mention\",\"text\":\"<at>klaxon</at>\","
                                       "\"mentioned\":{\"id\":\"28:hook\",\"name\":\"klaxon\"}}"));
}

static void webhook_addressed(void **state)
{
  (void)state;
  struct cmd_request req;
  struct teams_req_strings s;
  struct teams_activity *a = load(F_CHANNEL_MENTION, edit_webhook);
  assert_false(a->bot_mentioned);
  /* Unaddressed, it would be a channel message, not a command. */
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_DISPATCH);
  assert_int_equal(req.kind, CMD_KIND_MESSAGE);
  teams_req_strings_free(&s);
  teams_webhook_addressed(a);
  assert_int_equal(a->n_mentions, 0);
  assert_int_equal(teams_request_build(a, NOW, NULL, NULL, &req, &s), TEAMS_ROUTE_DISPATCH);
  assert_int_equal(req.kind, CMD_KIND_COMMAND);
  assert_string_equal(req.command, "oncall");
  assert_string_equal(req.text, "help");
  teams_req_strings_free(&s);
  teams_activity_free(a);
}

/* ---- replies ----------------------------------------------------------------------------------
 */

static void reply_shapes(void **state)
{
  (void)state;
  cJSON *card = cJSON_Parse("{\"type\":\"AdaptiveCard\",\"version\":\"1.5\",\"body\":[]}");
  cJSON *act = render_teams_reply_activity("**Noted** (#1)", card, "1571537152320");
  cJSON *row = render_teams_reply_row("19:x@thread.skype;messageid=1", "1571537152320", act);
  char *json = cJSON_PrintUnformatted(row);
  assert_string_equal(json,
                      "{\"conversation\":\"19:x@thread.skype;messageid=1\",\"reply_to_id\":"
                      "\"1571537152320\",\"activity\":{\"type\":\"message\",\"text\":"
                      "\"**Noted** (#1)\",\"textFormat\":\"markdown\",\"replyToId\":"
                      "\"1571537152320\",\"attachments\":[{\"contentType\":\"application/"
                      "vnd.microsoft.card.adaptive\",\"content\":{\"type\":\"AdaptiveCard\","
                      "\"version\":\"1.5\",\"body\":[]}}]}}");
  free(json);
  cJSON_Delete(row);
  cJSON_Delete(card);
  assert_null(render_teams_reply_row(NULL, NULL, render_teams_reply_activity("x", NULL, NULL)));
  char *inv = teams_invoke_response("Acknowledged by Alice");
  assert_string_equal(inv,
                      "{\"statusCode\":200,\"type\":\"application/vnd.microsoft.activity."
                      "message\",\"value\":\"Acknowledged by Alice\"}");
  free(inv);
}

/* Slack shortcodes in klaxon's messages become emoji on Teams cards; anything else stays. */
static void render_emoji(void **state)
{
  (void)state;
  static const struct {
    const char *in, *out;
  } cases[] = {
      {":rotating_light: P1 down", "\U0001F6A8 P1 down"},
      {":alarm_clock::x:", "\u23F0\u274C"},
      {"done :white_check_mark:", "done \u2705"},
      {":warning:", "\u26A0\uFE0F"},
      {"at 10:30:00 ok", "at 10:30:00 ok"},
      {":not_an_emoji: ::", ":not_an_emoji: ::"},
      {":ROTATING_LIGHT:", ":ROTATING_LIGHT:"},
      {":rotating_light", ":rotating_light"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char *t = render_teams_markdown(cases[i].in, NULL);
    assert_non_null(t);
    assert_string_equal(t, cases[i].out);
    free(t);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(channel_command),
      cmocka_unit_test(slash_case_and_help),
      cmocka_unit_test(recording_as_is),
      cmocka_unit_test(channel_message_without_mention),
      cmocka_unit_test(personal_chat_needs_no_mention),
      cmocka_unit_test(user_mentions_normalised),
      cmocka_unit_test(card_submit),
      cmocka_unit_test(card_submit_recording_ignored),
      cmocka_unit_test(card_execute),
      cmocka_unit_test(card_execute_verb_and_nothing),
      cmocka_unit_test(events_and_own_messages),
      cmocka_unit_test(message_edit_and_delete),
      cmocka_unit_test(webhook_addressed),
      cmocka_unit_test(reply_shapes),
      cmocka_unit_test(render_emoji),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
