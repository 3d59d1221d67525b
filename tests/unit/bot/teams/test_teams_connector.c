/*
 * Tests for the pure parts of bot/teams_connector.c (the network part runs against the Teams
 * stand-in in tests/e2e/test_teams*.py) and for storage/teams_store.c on ":memory:":
 * percent-encoding of ids, connector URLs from the real recordings' paths, which service URLs
 * may receive our token, the classification of connector answers, the token endpoint's answer,
 * the client-credentials form, the Workflows body, and what the store remembers.
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

#include "bot/teams/teams_connector.h"
#include "lib/kx.h"
#include "storage/teams_store.h"

static void path_escape(void **state)
{
  (void)state;
  char *s = teams_path_escape("19:a1b2@thread.skype;messageid=1571537152320");
  assert_string_equal(s, "19%3Aa1b2%40thread.skype%3Bmessageid%3D1571537152320");
  free(s);
  s = teams_path_escape("1:1Zu8-_.~ /?#%");
  assert_string_equal(s, "1%3A1Zu8-_.~%20%2F%3F%23%25");
  free(s);
  s = teams_path_escape("");
  assert_string_equal(s, "");
  free(s);
  assert_null(teams_path_escape(NULL));
}

static void connector_urls(void **state)
{
  (void)state;
  /* The path of the recorded reply (20191019180813235-reply): conversation and activity. */
  char *u = teams_connector_url(
      "https://smba.trafficmanager.net/amer/",
      "19:097e6717fd7245bdbeba6baa13840db8@thread.skype;messageid=1571508491752", "1571508491752");
  assert_string_equal(u,
                      "https://smba.trafficmanager.net/amer/v3/conversations/"
                      "19%3A097e6717fd7245bdbeba6baa13840db8%40thread.skype%3Bmessageid%"
                      "3D1571508491752/activities/1571508491752");
  free(u);
  u = teams_connector_url("http://127.0.0.1:9000/amer", NULL, NULL);
  assert_string_equal(u, "http://127.0.0.1:9000/amer/v3/conversations");
  free(u);
  u = teams_connector_url("https://smba.trafficmanager.net/teams/", "a:1xyz", NULL);
  assert_string_equal(u,
                      "https://smba.trafficmanager.net/teams/v3/conversations/a%3A1xyz/activities");
  free(u);
  assert_null(teams_connector_url("file:///etc/passwd", NULL, NULL));
  assert_null(teams_connector_url(NULL, "a:1", NULL));
}

static void service_urls(void **state)
{
  (void)state;
  assert_true(teams_service_url_ok("https://smba.trafficmanager.net/amer/"));
  assert_true(teams_service_url_ok("HTTP://127.0.0.1:8080/x/"));
  assert_false(teams_service_url_ok("ftp://smba.trafficmanager.net/"));
  assert_false(teams_service_url_ok("https:///nohost"));
  assert_false(teams_service_url_ok("https://"));
  assert_false(teams_service_url_ok("https://a b/"));
  assert_false(teams_service_url_ok("https://evil.example/?x=1"));
  assert_false(teams_service_url_ok("https://evil.example/#x"));
  assert_false(teams_service_url_ok("https://a\r\nHost: b/"));
  assert_false(teams_service_url_ok(NULL));
}

static void classify(void **state)
{
  (void)state;
  char e[80];
  assert_int_equal(teams_classify(201, "{\"id\":\"1:x\"}", e, sizeof(e)), 0);
  assert_int_equal(teams_classify(200, "", e, sizeof(e)), 0);
  assert_int_equal(teams_classify(202, NULL, e, sizeof(e)), 0);
  assert_int_equal(teams_classify(429, "{\"error\":{\"code\":\"Throttled\"}}", e, sizeof(e)),
                   KX_ERATELIMITED);
  assert_string_equal(e, "throttled");
  /* Connectors and Workflows put their 429 in the body. */
  assert_int_equal(
      teams_classify(200, "Microsoft Teams endpoint returned HTTP error 429", e, sizeof(e)),
      KX_ERATELIMITED);
  assert_int_equal(teams_classify(502, "bad gateway", e, sizeof(e)), KX_ERETRY);
  assert_string_equal(e, "http_502");
  assert_int_equal(teams_classify(503, NULL, e, sizeof(e)), KX_ERETRY);
  assert_int_equal(
      teams_classify(401, "{\"message\":\"Authorization has been denied\"}", e, sizeof(e)),
      KX_ERETRY);
  assert_int_equal(teams_classify(408, "", e, sizeof(e)), KX_ERETRY);
  const char *blocked =
      "{\"error\":{\"code\":\"Forbidden\",\"subCode\":\"MessageWritesBlocked\","
      "\"message\":\"Bot is blocked\"}}";
  assert_int_equal(teams_classify(403, blocked, e, sizeof(e)), KX_EPLATFORM);
  assert_string_equal(e, "MessageWritesBlocked");
  assert_int_equal(
      teams_classify(404, "{\"error\":{\"code\":\"ConversationNotFound\"}}", e, sizeof(e)),
      KX_EPLATFORM);
  assert_string_equal(e, "ConversationNotFound");
  assert_int_equal(teams_classify(400, "not json", e, sizeof(e)), KX_EPLATFORM);
  assert_string_equal(e, "http_400");
}

static void token_answers(void **state)
{
  (void)state;
  char *t = NULL;
  int64_t life = 0;
  assert_int_equal(teams_token_parse("{\"token_type\":\"Bearer\",\"expires_in\":3599,"
                                     "\"ext_expires_in\":3599,\"access_token\":\"eyJ0.abc.def\"}",
                                     &t, &life),
                   0);
  assert_string_equal(t, "eyJ0.abc.def");
  assert_int_equal(life, 3599000);
  free(t);
  /* Old endpoints send the lifetime as a string. */
  assert_int_equal(teams_token_parse("{\"expires_in\":\"3600\",\"access_token\":\"x\"}", &t, &life),
                   0);
  assert_int_equal(life, 3600000);
  free(t);
  const char *bad[] = {
      "",
      "[]",
      "{\"access_token\":\"x\"}",
      "{\"access_token\":\"\",\"expires_in\":3600}",
      "{\"access_token\":\"x\",\"expires_in\":0}",
      "{\"access_token\":\"x\",\"expires_in\":-5}",
      "{\"access_token\":\"x\",\"expires_in\":99999999}",
      "{\"access_token\":\"x\",\"expires_in\":3600,\"token_type\":\"mac\"}",
      "{\"access_token\":\"a b\",\"expires_in\":3600}",
      "{\"access_token\":\"a\\r\\nX-Evil: 1\",\"expires_in\":3600}",
      "{\"access_token\":7,\"expires_in\":3600}",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(teams_token_parse(bad[i], &t, &life), KX_EPROTO);
    assert_null(t);
  }
  char *big = malloc(TEAMS_TOKEN_MAX + 100);
  int n = snprintf(big, TEAMS_TOKEN_MAX + 100, "{\"expires_in\":3600,\"access_token\":\"");
  memset(big + n, 'a', TEAMS_TOKEN_MAX + 1);
  strcpy(big + n + TEAMS_TOKEN_MAX + 1, "\"}");
  assert_int_equal(teams_token_parse(big, &t, &life), KX_ETOOBIG);
  free(big);
}

static void token_form(void **state)
{
  (void)state;
  char *f = teams_token_form("00000000-0000-4000-8000-00000000b07a", "s3cr=t&x~y+z");
  assert_string_equal(f,
                      "grant_type=client_credentials&client_id=00000000-0000-4000-8000-"
                      "00000000b07a&client_secret=s3cr%3Dt%26x~y%2Bz&scope=https%3A%2F%2Fapi."
                      "botframework.com%2F.default");
  free(f);
  assert_null(teams_token_form(NULL, "x"));
}

static void workflow_body(void **state)
{
  (void)state;
  cJSON *act = cJSON_Parse(
      "{\"type\":\"message\",\"text\":\"Page\",\"attachments\":[{\"contentType\":\"application/"
      "vnd.microsoft.card.adaptive\",\"content\":{\"type\":\"AdaptiveCard\",\"version\":\"1.5\","
      "\"body\":[{\"type\":\"TextBlock\",\"text\":\"P1\"}],\"actions\":[{\"type\":\"Action."
      "Execute\",\"title\":\"Ack\",\"fallback\":{\"type\":\"Action.Submit\"}},{\"type\":\"Action."
      "OpenUrl\",\"title\":\"Runbook\",\"url\":\"https://r\"}]}},{\"contentType\":\"text/html\","
      "\"content\":\"x\"}]}");
  cJSON *m = teams_webhook_message(act);
  char *json = cJSON_PrintUnformatted(m);
  assert_string_equal(json,
                      "{\"attachments\":[{\"contentType\":\"application/vnd.microsoft.card."
                      "adaptive\",\"contentUrl\":null,\"content\":{\"type\":\"AdaptiveCard\","
                      "\"version\":\"1.5\",\"body\":[{\"type\":\"TextBlock\",\"text\":\"P1\"}"
                      "],\"actions\":[{\"type\":\"Action.OpenUrl\",\"title\":\"Runbook\","
                      "\"url\":\"https://r\"}]}}],\"type\":\"message\"}");
  free(json);
  cJSON_Delete(m);
  cJSON_Delete(act);
  /* Only callback buttons: the actions go entirely; text only: wrapped in a card. */
  act = cJSON_Parse("{\"type\":\"message\",\"text\":\"hello\"}");
  m = teams_webhook_message(act);
  const cJSON *card =
      cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "attachments"), 0), "content");
  assert_string_equal(cJSON_GetObjectItem(card, "type")->valuestring, "AdaptiveCard");
  assert_string_equal(
      cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(card, "body"), 0), "text")
          ->valuestring,
      "hello");
  cJSON_Delete(m);
  cJSON_Delete(act);
}

static void store(void **state)
{
  (void)state;
  int err = 0;
  struct db *db = db_open(":memory:", 0, &err);
  assert_non_null(db);
  assert_null(teams_store_service_url(db, "t1"));
  assert_int_equal(
      teams_store_set_service_url(db, "t1", "https://smba.trafficmanager.net/amer/", 1), 0);
  assert_int_equal(
      teams_store_set_service_url(db, "t1", "https://smba.trafficmanager.net/emea/", 2), 0);
  char *s = teams_store_service_url(db, "t1");
  assert_string_equal(s, "https://smba.trafficmanager.net/emea/");
  free(s);
  assert_int_equal(teams_store_set_service_url(db, NULL, "x", 1), KX_EINVAL);

  struct teams_store_conversation c = {.id = "19:team@thread.skype",
                                       .tenant_id = "t1",
                                       .team_id = "19:team@thread.skype",
                                       .team_name = "Ops",
                                       .type = "channel",
                                       .installed = 1};
  assert_int_equal(teams_store_set_conversation(db, &c, 3), 0);
  /* A later message names neither team name nor installation: both kept. */
  struct teams_store_conversation later = {
      .id = "19:team@thread.skype", .type = "channel", .installed = -1};
  assert_int_equal(teams_store_set_conversation(db, &later, 4), 0);
  s = teams_store_conversation_tenant(db, "19:team@thread.skype");
  assert_string_equal(s, "t1");
  free(s);
  assert_int_equal(teams_store_installed(db, "19:team@thread.skype"), 1);
  struct teams_store_conversation ch = {.id = "19:inc@thread.skype",
                                        .tenant_id = "t1",
                                        .team_id = "19:team@thread.skype",
                                        .name = "Incidents",
                                        .installed = -1};
  assert_int_equal(teams_store_set_conversation(db, &ch, 5), 0);
  assert_int_equal(teams_store_installed(db, "19:inc@thread.skype"), 1);
  assert_int_equal(teams_store_team_removed(db, "19:team@thread.skype", 6), 0);
  assert_int_equal(teams_store_installed(db, "19:team@thread.skype"), 0);
  assert_int_equal(teams_store_installed(db, "19:inc@thread.skype"), 0);
  assert_int_equal(teams_store_installed(db, "19:none@thread.skype"), KX_ENOTFOUND);
  assert_null(teams_store_conversation_tenant(db, "19:none@thread.skype"));

  assert_int_equal(teams_store_set_user(db, "29:1abc", "aad-1", "Alice", "t1", 7), 0);
  assert_int_equal(teams_store_set_user(db, "29:1abc", NULL, NULL, NULL, 8), 0); /* kept */
  s = teams_store_user_aad(db, "29:1abc");
  assert_string_equal(s, "aad-1");
  free(s);
  assert_null(teams_store_user_aad(db, "29:other"));
  db_close(db);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(path_escape),   cmocka_unit_test(connector_urls),
      cmocka_unit_test(service_urls),  cmocka_unit_test(classify),
      cmocka_unit_test(token_answers), cmocka_unit_test(token_form),
      cmocka_unit_test(workflow_body), cmocka_unit_test(store),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
