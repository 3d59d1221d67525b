/* Messages: markup escaping, Block Kit and Adaptive Card rendering, Block Kit limits. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/render_slack.h"
#include "commands/core/render_teams.h"
#include "lib/kx.h"

static const char *slack_of(void *arg, const char *person)
{
  (void)arg;
  return strcmp(person, "alice") == 0 ? "U0ALICE001" : NULL;
}

static const char *name_of(void *arg, const char *person)
{
  (void)arg;
  return strcmp(person, "alice") == 0 ? "Alice Doe" : strcmp(person, "bob") == 0 ? "Bob" : NULL;
}

static const struct render_people people = {slack_of, name_of, NULL};

static void test_markup_escaping(void **state)
{
  (void)state;
  struct buf b;
  md_init(&b);
  md_text(&b, "<!channel> & <@U123> > x");
  assert_string_equal(b.data, "&lt;!channel&gt; &amp; &lt;@U123&gt; &gt; x");
  buf_reset(&b);
  md_bold(&b, "a*b<");
  assert_string_equal(b.data, "*a*b&lt;*");
  buf_reset(&b);
  md_link(&b, "https://x.example/a?b=1&c=<2>|", "Run|book <x>");
  assert_string_equal(b.data, "<https://x.example/a?b=1&amp;c=2|Runbook &lt;x>");
  buf_free(&b);
  char *u = md_unescape("&lt;b&gt; &amp;amp; &x");
  assert_string_equal(u, "<b> &amp; &x");
  free(u);
  char *plain =
      md_to_plain("Hi <@p:alice>, see <https://r|the runbook> &amp; <#C1>", name_of, NULL);
  assert_string_equal(plain, "Hi Alice Doe, see the runbook (https://r) & #C1");
  free(plain);
}

static void test_slack_mentions(void **state)
{
  (void)state;
  char *t = render_slack_mrkdwn("<@p:alice> and <@p:bob> and <@p:zed> and <@u:U9>", &people, 0);
  assert_string_equal(t, "<@U0ALICE001> and *Bob* and *zed* and <@U9>");
  free(t);
}

/* Issue 17 item 4: a Teams from.id of `x> <!channel> <https://evil/login|SSO>` was posted to
 * the handoff channel as a mention, a broadcast and a link. */
static void test_user_id_cannot_inject(void **state)
{
  (void)state;
  const char *evil = "x> <!channel> <https://evil/login|SSO>";
  assert_false(md_id_ok(evil));
  assert_false(md_id_ok(""));
  assert_false(md_id_ok(NULL));
  assert_false(md_id_ok("U1 U2"));
  assert_true(md_id_ok("U0ALICE001"));
  assert_true(md_id_ok("29:1kbOecyrymSn1FtrbJlQNF_BvhIpb7CLGbmjaTldT8A8tXXphjq4BcA2KfWGwoI-ahbE"));
  assert_true(md_id_ok("28:eac5e5c6-ab14-4f50-80cb-49213fe51b1a"));
  char longid[MD_ID_MAX + 2];
  memset(longid, 'U', sizeof(longid) - 1);
  longid[sizeof(longid) - 1] = '\0';
  assert_false(md_id_ok(longid));
  struct buf b;
  md_init(&b);
  md_user(&b, evil);
  char *slack = render_slack_mrkdwn(b.data, &people, 0);
  assert_null(strstr(slack, "<!channel>"));
  assert_null(strstr(slack, "<https://evil"));
  assert_null(strstr(slack, "<@"));
  free(slack);
  char *teams = render_teams_markdown(b.data, &people);
  assert_null(strstr(teams, "](https://evil"));
  free(teams);
  buf_reset(&b);
  md_user(&b, "U9");
  assert_string_equal(b.data, "<@u:U9>");
  buf_free(&b);
}

static void test_slack_cut(void **state)
{
  (void)state;
  /* 2999 ASCII bytes then a 3-byte character: the cut must not split it. */
  char src[3100];
  memset(src, 'a', 2999);
  memcpy(src + 2999, "\xe2\x82\xac tail", 8);
  src[3007] = '\0';
  char *t = render_slack_mrkdwn(src, &people, 3000);
  assert_true(strlen(t) <= 3000);
  size_t n = strlen(t);
  assert_memory_equal(t + n - 3, "\xe2\x80\xa6", 3);
  free(t);
  /* A cut never leaves half an entity. */
  memset(src, 'b', 2990);
  strcpy(src + 2990, "&amp;&amp;&amp;&amp;");
  t = render_slack_mrkdwn(src, &people, 3000);
  const char *amp = strrchr(t, '&');
  assert_true(amp == NULL || strncmp(amp, "&amp;", 5) == 0);
  free(t);
}

static struct msg *sample(void)
{
  struct msg *m = msg_new();
  msg_set_fallback(m, "P1: db down <!here>");
  msg_set_header(m, ":rotating_light: P1 db down");
  struct buf b;
  md_init(&b);
  md_raw(&b, "Commander: ");
  md_person(&b, "alice");
  md_raw(&b, "\nTitle: ");
  md_text(&b, "<script> & co");
  msg_section_take(m, &b);
  msg_field(m, "Severity", "*P1*");
  msg_field(m, "Status", "investigating");
  msg_divider(m);
  msg_context(m, "declared by <@u:U0BOB00001>");
  msg_button(m, "Take commander", "incident.lead", "42", MSG_STYLE_PRIMARY);
  msg_button(m, "Resolve", "incident.resolve", "42", MSG_STYLE_DANGER);
  msg_link_button(m, "Runbook", "https://runbooks.example/db");
  return m;
}

static void test_block_kit(void **state)
{
  (void)state;
  struct msg *m = sample();
  cJSON *body = render_slack_message(m, "C1", &people);
  assert_string_equal(cJSON_GetObjectItem(body, "channel")->valuestring, "C1");
  /* The fallback is escaped: Slack parses `text` as mrkdwn. */
  assert_string_equal(cJSON_GetObjectItem(body, "text")->valuestring, "P1: db down &lt;!here&gt;");
  cJSON *blocks = cJSON_GetObjectItem(body, "blocks");
  assert_int_equal(cJSON_GetArraySize(blocks), 6);
  cJSON *header = cJSON_GetArrayItem(blocks, 0);
  assert_string_equal(cJSON_GetObjectItem(header, "type")->valuestring, "header");
  cJSON *section = cJSON_GetArrayItem(blocks, 1);
  const char *text = cJSON_GetObjectItem(cJSON_GetObjectItem(section, "text"), "text")->valuestring;
  assert_string_equal(text, "Commander: <@U0ALICE001>\nTitle: &lt;script&gt; &amp; co");
  cJSON *fields = cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 2), "fields");
  assert_int_equal(cJSON_GetArraySize(fields), 2);
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(fields, 0), "text")->valuestring,
                      "*Severity*\n*P1*");
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 3), "type")->valuestring,
                      "divider");
  cJSON *actions = cJSON_GetArrayItem(blocks, 5);
  cJSON *elements = cJSON_GetObjectItem(actions, "elements");
  assert_int_equal(cJSON_GetArraySize(elements), 3);
  cJSON *b0 = cJSON_GetArrayItem(elements, 0);
  assert_string_equal(cJSON_GetObjectItem(b0, "action_id")->valuestring, "incident.lead#0");
  assert_string_equal(cJSON_GetObjectItem(b0, "value")->valuestring, "42");
  assert_string_equal(cJSON_GetObjectItem(b0, "style")->valuestring, "primary");
  cJSON *b2 = cJSON_GetArrayItem(elements, 2);
  assert_string_equal(cJSON_GetObjectItem(b2, "url")->valuestring, "https://runbooks.example/db");
  cJSON_Delete(body);
  msg_free(m);
}

static void test_limits(void **state)
{
  (void)state;
  struct msg *m = msg_new();
  for (int i = 0; i < MSG_MAX_BLOCKS; i++)
    assert_int_equal(msg_section(m, "x"), 0);
  assert_int_equal(msg_section(m, "one too many"), KX_ETOOBIG);
  msg_free(m);
  m = msg_new();
  for (int i = 0; i < 25; i++)
    assert_int_equal(msg_field(m, "k", "v"), 0);
  assert_int_equal(m->n_blocks, 3); /* ten fields a section */
  for (int i = 0; i < MSG_MAX_BUTTONS; i++)
    assert_int_equal(msg_button(m, "b", "a", "1", 0), 0);
  assert_int_equal(msg_button(m, "b", "a", "1", 0), KX_ETOOBIG);
  char label[200];
  memset(label, 'L', sizeof(label) - 1);
  label[sizeof(label) - 1] = '\0';
  msg_free(m);
  m = msg_new();
  msg_button(m, label, "a", "1", 0);
  assert_int_equal(strlen(m->blocks[0].buttons[0].label), MSG_BUTTON_LABEL_MAX);
  char header[400];
  memset(header, 'H', sizeof(header) - 1);
  header[sizeof(header) - 1] = '\0';
  msg_set_header(m, header);
  cJSON *blocks = render_slack_blocks(m, &people);
  const char *h =
      cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 0), "text"), "text")
          ->valuestring;
  assert_true(strlen(h) <= MSG_HEADER_MAX);
  cJSON_Delete(blocks);
  msg_free(m);
}

static void test_teams(void **state)
{
  (void)state;
  char *t = render_teams_markdown("*Sev* <@p:alice> <https://r|book> &lt;x&gt;\nnext", &people);
  assert_string_equal(t, "**Sev** **Alice Doe** [book](https://r) <x>\n\nnext");
  free(t);
  /* severities[].mention (issue 11): Slack's special mention passes to Slack as it is, and is
   * plain text in Teams; a typed one is escaped by md_text and stays text on both. */
  char *sl = render_slack_mrkdwn("<!here> *P0 incident*", &people, 0);
  assert_string_equal(sl, "<!here> *P0 incident*");
  free(sl);
  t = render_teams_markdown("<!channel> *P0 incident* &lt;!here&gt;", &people);
  assert_string_equal(t, "@channel **P0 incident** <!here>");
  free(t);
  struct msg *m = sample();
  cJSON *act = render_teams_activity(m, &people);
  assert_string_equal(cJSON_GetObjectItem(act, "type")->valuestring, "message");
  assert_string_equal(cJSON_GetObjectItem(act, "text")->valuestring, "P1: db down <!here>");
  cJSON *att = cJSON_GetArrayItem(cJSON_GetObjectItem(act, "attachments"), 0);
  assert_string_equal(cJSON_GetObjectItem(att, "contentType")->valuestring,
                      "application/vnd.microsoft.card.adaptive");
  cJSON *card = cJSON_GetObjectItem(att, "content");
  assert_string_equal(cJSON_GetObjectItem(card, "type")->valuestring, "AdaptiveCard");
  cJSON *actions = cJSON_GetObjectItem(card, "actions");
  assert_int_equal(cJSON_GetArraySize(actions), 3);
  cJSON *a0 = cJSON_GetArrayItem(actions, 0);
  assert_string_equal(cJSON_GetObjectItem(a0, "type")->valuestring, "Action.Execute");
  assert_string_equal(cJSON_GetObjectItem(a0, "verb")->valuestring, "incident.lead");
  cJSON *data = cJSON_GetObjectItem(a0, "data");
  assert_string_equal(cJSON_GetObjectItem(data, "action")->valuestring, "incident.lead");
  assert_string_equal(cJSON_GetObjectItem(data, "value")->valuestring, "42");
  cJSON *fb = cJSON_GetObjectItem(a0, "fallback");
  assert_string_equal(cJSON_GetObjectItem(fb, "type")->valuestring, "Action.Submit");
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(actions, 2), "type")->valuestring,
                      "Action.OpenUrl");
  cJSON *body = cJSON_GetObjectItem(card, "body");
  cJSON *facts = cJSON_GetArrayItem(body, 2);
  assert_string_equal(cJSON_GetObjectItem(facts, "type")->valuestring, "FactSet");
  cJSON_Delete(act);
  msg_free(m);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_markup_escaping), cmocka_unit_test(test_slack_mentions),
      cmocka_unit_test(test_slack_cut),       cmocka_unit_test(test_user_id_cannot_inject),
      cmocka_unit_test(test_block_kit),       cmocka_unit_test(test_limits),
      cmocka_unit_test(test_teams),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
