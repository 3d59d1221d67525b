/*
 * Tests for bot/teams_activity.c on the real Teams recordings in tests/fixtures/teams/ (each
 * file's `body` is the activity exactly as Teams sent it), and on variants of them.
 * The test runs from the repository root; KLAXON_SRCDIR is the fallback.
 */
// cmocka must come after the headers above.
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/teams/teams_activity.h"
#include "lib/kx.h"

#define FIXDIR "tests/fixtures/teams/"
#define F_CHANNEL_MENTION "20191020020553704-request-integrationBot.json"
#define F_PERSONAL "20191021205338231-request-integrationBot.json"
#define F_SUBMIT "20191020020633146-request-integrationBot.json"
#define F_INVOKE "20191020020654953-request-integrationBot.json"
#define F_MEMBER_ADDED "20191019181214767-request-integrationBot.json"
#define F_MEMBER_REMOVED "20191019181218849-request-integrationBot.json"
#define F_CHANNEL_CREATED "20191019205529596-request-integrationBot.json"
#define F_TEAM_RENAMED "20191019181135720-request-integrationBot.json"
#define F_GROUPCHAT "20191019235900304-request-integrationBot.json"

#define BOT_ID "28:eac5e5c6-ab14-4f50-80cb-49213fe51b1a"
#define TEAM_ID "19:097e6717fd7245bdbeba6baa13840db8@thread.skype"
#define TENANT "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define USER_ID \
  "29:1CFIxRJBLjT_io3iNsDZxMk_4YPWQmr3DZUM1I6ihf5L2ocCDqg9S1vkHK6kRdGfK1P_2LFE2nQqFIvdu-GBOZA"

static char *read_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  char alt[4096];
  if (!f) {
    snprintf(alt, sizeof(alt), "%s/%s", KLAXON_SRCDIR, path);
    f = fopen(alt, "rb");
  }
  if (!f)
    fail_msg("cannot open %s (run from the repository root)", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* The recording's `body` as a cJSON tree the caller deletes. */
static cJSON *fixture_body(const char *name)
{
  char path[512];
  snprintf(path, sizeof(path), FIXDIR "%s", name);
  char *text = read_file(path);
  cJSON *root = cJSON_Parse(text);
  free(text);
  assert_non_null(root);
  cJSON *body = cJSON_DetachItemFromObjectCaseSensitive(root, "body");
  cJSON_Delete(root);
  assert_non_null(body);
  return body;
}

static struct teams_activity *parse_tree(const cJSON *body)
{
  char *json = cJSON_PrintUnformatted(body);
  struct teams_activity *a = NULL;
  int rc = teams_activity_parse(json, strlen(json), &a);
  if (rc != 0)
    fail_msg("parse: %s", kx_err_name(rc));
  free(json);
  return a;
}

static struct teams_activity *parse_fixture(const char *name)
{
  cJSON *body = fixture_body(name);
  struct teams_activity *a = parse_tree(body);
  cJSON_Delete(body);
  return a;
}

static int parse_text(const char *json, struct teams_activity **a)
{
  return teams_activity_parse(json, strlen(json), a);
}

/* ---- the real recordings ----------------------------------------------------------------- */

static void test_every_request_fixture_parses(void **state)
{
  (void)state;
  glob_t g;
  int rc = glob(FIXDIR "*-request-*.json", 0, NULL, &g);
  if (rc != 0) {
    char pat[4096];
    snprintf(pat, sizeof(pat), "%s/" FIXDIR "*-request-*.json", KLAXON_SRCDIR);
    rc = glob(pat, 0, NULL, &g);
  }
  assert_int_equal(rc, 0);
  assert_int_equal(g.gl_pathc, 9);
  for (size_t i = 0; i < g.gl_pathc; i++) {
    const char *base = strrchr(g.gl_pathv[i], '/') + 1;
    struct teams_activity *a = parse_fixture(base);
    if (a->type == TEAMS_ACTIVITY_OTHER || a->kind == TEAMS_KIND_OTHER)
      fail_msg("%s: type %s kind %s", base, a->type_name, teams_activity_kind_name(a->kind));
    assert_string_equal(a->channel_id, "msteams");
    assert_string_equal(a->service_url, "https://smba.trafficmanager.net/amer/");
    assert_non_null(a->conversation.id);
    assert_non_null(a->recipient.id);
    assert_non_null(a->from.id);
    assert_true(a->timestamp_ms > 1571000000000LL);
    teams_activity_free(a);
  }
  globfree(&g);
}

static void test_channel_mention(void **state)
{
  (void)state;
  struct teams_activity *a = parse_fixture(F_CHANNEL_MENTION);
  assert_int_equal(a->type, TEAMS_ACTIVITY_MESSAGE);
  assert_int_equal(a->kind, TEAMS_KIND_TEXT);
  assert_string_equal(a->type_name, "message");
  assert_string_equal(a->id, "1571537152320");
  assert_string_equal(a->timestamp, "2019-10-20T02:05:52.349Z");
  assert_int_equal(a->timestamp_ms, 1571537152349LL);
  /* The mention's name ("My Combined") is not recipient.name ("teams2"): matched by id. */
  assert_string_equal(a->recipient.id, BOT_ID);
  assert_string_equal(a->recipient.name, "teams2");
  assert_true(a->bot_mentioned);
  assert_string_equal(a->raw_text, "<at>My Combined</at>1\n");
  assert_string_equal(a->text, "1");
  assert_int_equal(a->n_mentions, 0);
  assert_string_equal(a->from.id, USER_ID);
  assert_string_equal(a->from.name, "Dave Taniguchi");
  assert_string_equal(a->from.aad_object_id, "6b703ce3-6d14-4fe6-b90c-dc5f03657ae4");
  assert_string_equal(a->conversation.id, TEAM_ID ";messageid=1571537152320");
  assert_string_equal(a->conversation.base_id, TEAM_ID);
  assert_string_equal(a->conversation.thread_root_id, "1571537152320");
  assert_string_equal(a->conversation.conversation_type, "channel");
  assert_true(a->conversation.is_group);
  assert_string_equal(a->conversation.tenant_id, TENANT);
  assert_string_equal(a->channel_data.tenant_id, TENANT);
  assert_string_equal(a->channel_data.team_id, TEAM_ID);
  assert_string_equal(a->channel_data.channel_id, TEAM_ID); /* General: channel id == team id */
  assert_null(a->channel_data.event_type);
  assert_null(a->value);
  assert_null(a->reply_to_id);
  teams_activity_free(a);
}

static void test_mention_matched_by_id_not_name(void **state)
{
  (void)state;
  cJSON *body = fixture_body(F_CHANNEL_MENTION);
  /* Another bot receives the same message: the mention is not its own, so the text stays and
   * the mention is listed as someone else's. */
  cJSON *recipient = cJSON_GetObjectItemCaseSensitive(body, "recipient");
  cJSON_ReplaceItemInObjectCaseSensitive(recipient, "id", cJSON_CreateString("28:other-bot"));
  struct teams_activity *a = parse_tree(body);
  assert_false(a->bot_mentioned);
  assert_string_equal(a->text, "<at>My Combined</at>1");
  assert_int_equal(a->n_mentions, 1);
  assert_string_equal(a->mentions[0].id, BOT_ID);
  assert_string_equal(a->mentions[0].name, "My Combined");
  teams_activity_free(a);
  /* Same name as the mention but another id: still not the bot's mention. */
  cJSON_ReplaceItemInObjectCaseSensitive(recipient, "name", cJSON_CreateString("My Combined"));
  a = parse_tree(body);
  assert_false(a->bot_mentioned);
  assert_string_equal(a->text, "<at>My Combined</at>1");
  teams_activity_free(a);
  cJSON_Delete(body);
}

/* Issue 17 item 4: a from.id that is not an id is refused at parse time. */
static void test_hostile_from_id_refused(void **state)
{
  (void)state;
  struct teams_activity *a = NULL;
  const char *evil =
      "{\"type\":\"message\",\"id\":\"1\",\"channelId\":\"msteams\",\"text\":\"hi\","
      "\"from\":{\"id\":\"x> <!channel> <https://evil/login|SSO>\",\"name\":\"E\"},"
      "\"conversation\":{\"id\":\"a:1\"},\"recipient\":{\"id\":\"28:b\"}}";
  assert_int_not_equal(parse_text(evil, &a), 0);
  assert_null(a);
  const char *fine =
      "{\"type\":\"message\",\"id\":\"1\",\"channelId\":\"msteams\",\"text\":\"hi\","
      "\"from\":{\"id\":\"29:1abc-_Z\",\"name\":\"E\"},"
      "\"conversation\":{\"id\":\"a:1\"},\"recipient\":{\"id\":\"28:b\"}}";
  assert_int_equal(parse_text(fine, &a), 0);
  teams_activity_free(a);
}

static void test_personal_message(void **state)
{
  (void)state;
  struct teams_activity *a = parse_fixture(F_PERSONAL);
  assert_int_equal(a->kind, TEAMS_KIND_TEXT);
  assert_string_equal(a->text, "file");
  assert_false(a->bot_mentioned);
  assert_string_equal(a->conversation.conversation_type, "personal");
  assert_false(a->conversation.is_group);
  assert_null(a->conversation.thread_root_id);
  assert_string_equal(a->conversation.base_id, a->conversation.id);
  assert_int_equal(strncmp(a->conversation.id, "a:", 2), 0);
  assert_string_equal(a->recipient.id, "28:cd59cf47-aca1-41e0-8441-387faee8331e");
  assert_null(a->channel_data.team_id);
  assert_null(a->channel_data.channel_id);
  assert_string_equal(a->channel_data.tenant_id, TENANT);
  teams_activity_free(a);
}

static void test_card_submit(void **state)
{
  (void)state;
  struct teams_activity *a = parse_fixture(F_SUBMIT);
  assert_int_equal(a->type, TEAMS_ACTIVITY_MESSAGE);
  assert_int_equal(a->kind, TEAMS_KIND_CARD_SUBMIT);
  assert_null(a->text);
  assert_null(a->raw_text);
  assert_string_equal(a->reply_to_id, "1:1g3Sc3hSqAvmoAIhMskhBW8kahcBMC2urNd_TZF79abY");
  assert_true(cJSON_IsObject(a->value));
  assert_string_equal(cJSON_GetObjectItemCaseSensitive(a->value, "key")->valuestring, "value");
  assert_string_equal(a->id, "f:8747470350298826072");
  assert_string_equal(a->conversation.thread_root_id, "1571537152320");
  teams_activity_free(a);
}

static void test_submit_with_text_is_still_a_submit(void **state)
{
  (void)state;
  /* messageBack with a `text` (the "local echo" button of the recordings' card) carries both. */
  cJSON *body = fixture_body(F_SUBMIT);
  cJSON_AddStringToObject(body, "text", "text received by bots");
  struct teams_activity *a = parse_tree(body);
  assert_int_equal(a->kind, TEAMS_KIND_CARD_SUBMIT);
  assert_string_equal(a->text, "text received by bots");
  teams_activity_free(a);
  /* Without value it is a typed message; a null value counts as none. */
  cJSON_ReplaceItemInObjectCaseSensitive(body, "value", cJSON_CreateNull());
  a = parse_tree(body);
  assert_int_equal(a->kind, TEAMS_KIND_TEXT);
  teams_activity_free(a);
  cJSON_DeleteItemFromObjectCaseSensitive(body, "value");
  cJSON_DeleteItemFromObjectCaseSensitive(body, "text");
  a = parse_tree(body);
  assert_int_equal(a->kind, TEAMS_KIND_OTHER);
  assert_int_equal(a->type, TEAMS_ACTIVITY_MESSAGE);
  teams_activity_free(a);
  cJSON_Delete(body);
}

static void test_plain_invoke(void **state)
{
  (void)state;
  struct teams_activity *a = parse_fixture(F_INVOKE);
  assert_int_equal(a->type, TEAMS_ACTIVITY_INVOKE);
  assert_int_equal(a->kind, TEAMS_KIND_INVOKE);
  assert_null(a->name);
  assert_string_equal(a->reply_to_id, "1:1g3Sc3hSqAvmoAIhMskhBW8kahcBMC2urNd_TZF79abY");
  assert_true(cJSON_IsObject(a->value));
  assert_null(a->action_verb);
  assert_null(a->action_data);
  teams_activity_free(a);
}

static void test_adaptive_card_action(void **state)
{
  (void)state;
  /* The recordings have no Action.Execute; its shape is the documented one
   * (protocols/teams.md §2.2), put on the real invoke recording. */
  cJSON *body = fixture_body(F_INVOKE);
  cJSON_AddStringToObject(body, "name", "adaptiveCard/action");
  cJSON *value = cJSON_Parse(
      "{\"action\":{\"type\":\"Action.Execute\",\"id\":\"a1\",\"verb\":\"ack\","
      "\"data\":{\"incidentId\":\"INC-1\"}},\"trigger\":\"manual\"}");
  cJSON_ReplaceItemInObjectCaseSensitive(body, "value", value);
  struct teams_activity *a = parse_tree(body);
  assert_int_equal(a->kind, TEAMS_KIND_CARD_ACTION);
  assert_string_equal(a->name, "adaptiveCard/action");
  assert_string_equal(a->action_type, "Action.Execute");
  assert_string_equal(a->action_verb, "ack");
  assert_non_null(a->action_data);
  assert_string_equal(cJSON_GetObjectItemCaseSensitive(a->action_data, "incidentId")->valuestring,
                      "INC-1");
  assert_string_equal(a->reply_to_id, "1:1g3Sc3hSqAvmoAIhMskhBW8kahcBMC2urNd_TZF79abY");
  teams_activity_free(a);
  /* Another invoke name is a plain invoke. */
  cJSON_ReplaceItemInObjectCaseSensitive(body, "name", cJSON_CreateString("task/fetch"));
  a = parse_tree(body);
  assert_int_equal(a->kind, TEAMS_KIND_INVOKE);
  assert_string_equal(a->name, "task/fetch");
  assert_null(a->action_verb);
  teams_activity_free(a);
  /* adaptiveCard/action without value.action: still the kind, nothing to read. */
  cJSON_ReplaceItemInObjectCaseSensitive(body, "name", cJSON_CreateString("adaptiveCard/action"));
  cJSON_DeleteItemFromObjectCaseSensitive(body, "value");
  a = parse_tree(body);
  assert_int_equal(a->kind, TEAMS_KIND_CARD_ACTION);
  assert_null(a->action_verb);
  assert_null(a->action_data);
  teams_activity_free(a);
  cJSON_Delete(body);
}

static void test_conversation_updates(void **state)
{
  (void)state;
  struct teams_activity *a = parse_fixture(F_MEMBER_ADDED);
  assert_int_equal(a->type, TEAMS_ACTIVITY_CONVERSATION_UPDATE);
  assert_int_equal(a->kind, TEAMS_KIND_EVENT);
  assert_string_equal(a->channel_data.event_type, "teamMemberAdded");
  assert_string_equal(a->channel_data.team_name, "DaveTeams TEST");
  assert_int_equal(a->n_members_added, 1);
  assert_false(a->bot_added);
  assert_null(a->conversation.thread_root_id);
  assert_null(a->from.name);
  teams_activity_free(a);

  a = parse_fixture(F_MEMBER_REMOVED);
  assert_string_equal(a->channel_data.event_type, "teamMemberRemoved");
  assert_int_equal(a->n_members_removed, 1);
  assert_int_equal(a->n_members_added, 0);
  assert_false(a->bot_removed);
  teams_activity_free(a);

  a = parse_fixture(F_CHANNEL_CREATED);
  assert_string_equal(a->channel_data.event_type, "channelCreated");
  assert_string_equal(a->channel_data.channel_id,
                      "19:aaa04daa38af4f97a8c85dc57167fa23@thread.skype");
  assert_string_equal(a->channel_data.channel_name, "MOO");
  assert_string_equal(a->channel_data.team_id, TEAM_ID);
  teams_activity_free(a);

  a = parse_fixture(F_TEAM_RENAMED);
  assert_string_equal(a->channel_data.event_type, "teamRenamed");
  assert_string_equal(a->channel_data.team_name, "DaveTeams TEST");
  teams_activity_free(a);

  a = parse_fixture(F_GROUPCHAT);
  assert_int_equal(a->kind, TEAMS_KIND_EVENT);
  assert_string_equal(a->conversation.conversation_type, "groupChat");
  assert_true(a->conversation.is_group);
  assert_null(a->channel_data.event_type);
  assert_int_equal(a->n_members_added, 1);
  teams_activity_free(a);
}

static void test_bot_installed(void **state)
{
  (void)state;
  /* The bot's own id in membersAdded means it was added to the team. */
  cJSON *body = fixture_body(F_MEMBER_ADDED);
  cJSON *members = cJSON_GetObjectItemCaseSensitive(body, "membersAdded");
  cJSON *bot = cJSON_CreateObject();
  cJSON_AddStringToObject(bot, "id", BOT_ID);
  cJSON_AddItemToArray(members, bot);
  struct teams_activity *a = parse_tree(body);
  assert_true(a->bot_added);
  assert_int_equal(a->n_members_added, 2);
  teams_activity_free(a);
  /* installationUpdate with its action. */
  cJSON_ReplaceItemInObjectCaseSensitive(body, "type", cJSON_CreateString("installationUpdate"));
  cJSON_AddStringToObject(body, "action", "add");
  a = parse_tree(body);
  assert_int_equal(a->type, TEAMS_ACTIVITY_INSTALLATION_UPDATE);
  assert_int_equal(a->kind, TEAMS_KIND_EVENT);
  assert_string_equal(a->action, "add");
  assert_string_equal(teams_activity_type_name(a->type), "installationUpdate");
  teams_activity_free(a);
  cJSON_Delete(body);
}

/* ---- text -------------------------------------------------------------------------------- */

static void test_mentions_in_the_middle(void **state)
{
  (void)state;
  const char *json =
      "{\"type\":\"message\",\"text\":\"<at>klaxon</at>&nbsp;incident role ic <at>Alice "
      "Doe</at> &amp; go\\n\",\"recipient\":{\"id\":\"28:bot\",\"name\":\"klaxon\"},"
      "\"entities\":[{\"type\":\"mention\",\"text\":\"<at>klaxon</at>\",\"mentioned\":{\"id\":"
      "\"28:bot\",\"name\":\"klaxon\"}},{\"type\":\"mention\",\"text\":\"<at>Alice Doe</at>\","
      "\"mentioned\":{\"id\":\"29:alice\",\"name\":\"Alice Doe\"}},{\"type\":\"clientInfo\","
      "\"locale\":\"en-US\"}]}";
  struct teams_activity *a = NULL;
  assert_int_equal(parse_text(json, &a), 0);
  assert_true(a->bot_mentioned);
  assert_string_equal(a->text, "incident role ic <at>Alice Doe</at> & go");
  assert_int_equal(a->n_mentions, 1);
  assert_string_equal(a->mentions[0].id, "29:alice");
  assert_string_equal(a->mentions[0].name, "Alice Doe");
  teams_activity_free(a);
  /* Mentioned twice, and once without entity text (the fallback builds "<at>name</at>"). */
  json =
      "{\"type\":\"message\",\"text\":\"<at>Bot</at> ack <at>Bot</at> \","
      "\"recipient\":{\"id\":\"28:bot\"},\"entities\":["
      "{\"type\":\"mention\",\"text\":\"<at>Bot</at>\",\"mentioned\":{\"id\":\"28:bot\"}},"
      "{\"type\":\"mention\",\"mentioned\":{\"id\":\"28:bot\",\"name\":\"Bot\"}}]}";
  assert_int_equal(parse_text(json, &a), 0);
  assert_string_equal(a->text, "ack");
  teams_activity_free(a);
  /* Only the mention: an empty command, still a typed message. */
  json =
      "{\"type\":\"message\",\"text\":\"<at>Bot</at>\",\"recipient\":{\"id\":\"28:bot\"},"
      "\"entities\":[{\"type\":\"mention\",\"text\":\"<at>Bot</at>\",\"mentioned\":{\"id\":"
      "\"28:bot\"}}]}";
  assert_int_equal(parse_text(json, &a), 0);
  assert_int_equal(a->kind, TEAMS_KIND_TEXT);
  assert_string_equal(a->text, "");
  teams_activity_free(a);
}

static void test_text_clean(void **state)
{
  (void)state;
  char s[256];
  snprintf(s, sizeof(s), "%s",
           " \t&nbsp;a&amp;b &lt;c&gt; &quot;d&quot; &#39;e&apos; &#65;&#x42;&#X43; \xc2\xa0 ");
  teams_text_clean(s);
  assert_string_equal(s, "a&b <c> \"d\" 'e' ABC");
  /* Multi-byte numeric entities, and ones left alone: unknown, NUL, surrogate, too big,
   * unterminated, no digits. */
  snprintf(s, sizeof(s), "%s", "&#x1F525;&#233;&#x20AC; &copy; &#0; &#xD800; &#x110000; &#65 &#;");
  teams_text_clean(s);
  assert_string_equal(s,
                      "\xf0\x9f\x94\xa5\xc3\xa9\xe2\x82\xac &copy; &#0; &#xD800; &#x110000; "
                      "&#65 &#;");
  /* Entities are decoded once: "&amp;lt;" is "&lt;", not "<". */
  snprintf(s, sizeof(s), "%s", "&amp;lt;");
  teams_text_clean(s);
  assert_string_equal(s, "&lt;");
  snprintf(s, sizeof(s), "%s", "   ");
  teams_text_clean(s);
  assert_string_equal(s, "");
  teams_text_clean(NULL);
  snprintf(s, sizeof(s), "%s", "ab<at>x</at>cd<at>x</at>");
  assert_true(teams_text_remove(s, "<at>x</at>"));
  assert_string_equal(s, "abcd<at>x</at>");
  assert_false(teams_text_remove(s, "zz"));
  assert_false(teams_text_remove(s, ""));
}

/* ---- bad input --------------------------------------------------------------------------- */

static void test_bad_input(void **state)
{
  (void)state;
  struct teams_activity *a = (struct teams_activity *)1;
  assert_int_equal(parse_text("", &a), KX_EINVAL);
  assert_null(a);
  assert_int_equal(parse_text("not json", &a), KX_EINVAL);
  assert_int_equal(parse_text("[{\"type\":\"message\"}]", &a), KX_EINVAL);
  assert_int_equal(parse_text("\"message\"", &a), KX_EINVAL);
  assert_int_equal(parse_text("{}", &a), KX_EINVAL);
  assert_int_equal(parse_text("{\"type\":5}", &a), KX_EINVAL);
  assert_int_equal(parse_text("{\"type\":\"message\"", &a), KX_EINVAL);
  assert_int_equal(teams_activity_parse(NULL, 0, &a), KX_EINVAL);
  assert_int_equal(teams_activity_parse("{}", 2, NULL), KX_EINVAL);
  /* The length is honoured: trailing bytes beyond it are not read. */
  assert_int_equal(teams_activity_parse("{\"type\":\"message\"}garbage", 18, &a), 0);
  teams_activity_free(a);
  teams_activity_free(NULL);
}

static void test_unknown_type_and_wrong_field_types(void **state)
{
  (void)state;
  struct teams_activity *a = NULL;
  assert_int_equal(parse_text("{\"type\":\"typing\",\"id\":\"1\"}", &a), 0);
  assert_int_equal(a->type, TEAMS_ACTIVITY_OTHER);
  assert_int_equal(a->kind, TEAMS_KIND_OTHER);
  assert_string_equal(a->type_name, "typing");
  assert_string_equal(teams_activity_type_name(a->type), "other");
  teams_activity_free(a);
  /* Fields of the wrong JSON type are treated as absent, never as an error. */
  assert_int_equal(parse_text("{\"type\":\"message\",\"id\":5,\"text\":[1],\"from\":\"x\","
                              "\"conversation\":{\"id\":{},\"isGroup\":\"true\"},"
                              "\"entities\":{\"type\":\"mention\"},\"timestamp\":\"yesterday\","
                              "\"membersAdded\":{}}",
                              &a),
                   0);
  assert_null(a->id);
  assert_null(a->text);
  assert_null(a->from.id);
  assert_null(a->conversation.id);
  assert_false(a->conversation.is_group);
  assert_int_equal(a->timestamp_ms, -1);
  assert_string_equal(a->timestamp, "yesterday");
  assert_int_equal(a->kind, TEAMS_KIND_OTHER);
  teams_activity_free(a);
  /* ";messageid=" with nothing after it gives no thread. */
  assert_int_equal(parse_text("{\"type\":\"message\",\"text\":\"x\",\"conversation\":{\"id\":"
                              "\"19:a@thread.skype;messageid=\"}}",
                              &a),
                   0);
  assert_null(a->conversation.thread_root_id);
  assert_string_equal(a->conversation.base_id, "19:a@thread.skype");
  teams_activity_free(a);
}

static void test_caps(void **state)
{
  (void)state;
  struct teams_activity *a = NULL;
  /* A body over the cap is refused before it is parsed. */
  size_t big = TEAMS_ACTIVITY_MAX_BYTES + 1;
  char *huge = malloc(big);
  memset(huge, ' ', big);
  assert_int_equal(teams_activity_parse(huge, big, &a), KX_ETOOBIG);
  free(huge);
  /* Text at the cap is accepted, one byte more is refused. */
  char *text = malloc(TEAMS_TEXT_MAX + 2);
  memset(text, 'x', TEAMS_TEXT_MAX + 1);
  text[TEAMS_TEXT_MAX] = '\0';
  char *json = kx_asprintf("{\"type\":\"message\",\"text\":\"%s\"}", text);
  assert_int_equal(parse_text(json, &a), 0);
  assert_int_equal(strlen(a->text), TEAMS_TEXT_MAX);
  teams_activity_free(a);
  free(json);
  text[TEAMS_TEXT_MAX] = 'x';
  text[TEAMS_TEXT_MAX + 1] = '\0';
  json = kx_asprintf("{\"type\":\"message\",\"text\":\"%s\"}", text);
  assert_int_equal(parse_text(json, &a), KX_ETOOBIG);
  assert_null(a);
  free(json);
  /* An id longer than the field cap. */
  text[TEAMS_FIELD_MAX + 1] = '\0';
  json = kx_asprintf("{\"type\":\"message\",\"replyToId\":\"%s\"}", text);
  assert_int_equal(parse_text(json, &a), KX_EINVAL);
  free(json);
  /* More mentions than are kept: the rest are ignored, nothing overflows. */
  char *ents = kx_strdup("");
  for (int i = 0; i < TEAMS_MENTIONS_MAX + 5; i++) {
    char *next = kx_asprintf(
        "%s%s{\"type\":\"mention\",\"text\":\"<at>u%d</at>\",\"mentioned\":"
        "{\"id\":\"29:u%d\",\"name\":\"u%d\"}}",
        ents, i ? "," : "", i, i, i);
    free(ents);
    ents = next;
  }
  json = kx_asprintf(
      "{\"type\":\"message\",\"text\":\"hi\",\"recipient\":{\"id\":\"28:b\"},"
      "\"entities\":[%s]}",
      ents);
  assert_int_equal(parse_text(json, &a), 0);
  assert_int_equal(a->n_mentions, TEAMS_MENTIONS_MAX);
  assert_string_equal(a->mentions[TEAMS_MENTIONS_MAX - 1].id, "29:u31");
  teams_activity_free(a);
  free(json);
  free(ents);
  free(text);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_request_fixture_parses),
      cmocka_unit_test(test_channel_mention),
      cmocka_unit_test(test_mention_matched_by_id_not_name),
      cmocka_unit_test(test_personal_message),
      cmocka_unit_test(test_hostile_from_id_refused),
      cmocka_unit_test(test_card_submit),
      cmocka_unit_test(test_submit_with_text_is_still_a_submit),
      cmocka_unit_test(test_plain_invoke),
      cmocka_unit_test(test_adaptive_card_action),
      cmocka_unit_test(test_conversation_updates),
      cmocka_unit_test(test_bot_installed),
      cmocka_unit_test(test_mentions_in_the_middle),
      cmocka_unit_test(test_text_clean),
      cmocka_unit_test(test_bad_input),
      cmocka_unit_test(test_unknown_type_and_wrong_field_types),
      cmocka_unit_test(test_caps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
