/* bot/twilio/twilio_send.c and bot/push/push_send.c: the request a row becomes, and how an
 * answer maps to the sender's result (Twilio's error JSON as documented: code, message,
 * more_info, status). */
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

#include "bot/push/push_send.h"
#include "bot/twilio/twilio_send.h"
#include "lib/form.h"
#include "lib/kx.h"

#define SID "AC0123456789abcdef0123456789abcdef"

static void test_request(void **state)
{
  (void)state;
  char *url, *form;
  assert_int_equal(
      twilio_request("http://127.0.0.1:9", SID, "+15005550006", "Messages",
                     "{\"To\":\"+15005550001\",\"Body\":\"P1 db down & out: reply 1\","
                     "\"StatusCallback\":\"https://k.example.com/twilio/status?attempt=3\"}",
                     &url, &form),
      0);
  assert_string_equal(url, "http://127.0.0.1:9/2010-04-01/Accounts/" SID "/Messages.json");
  struct form *f = NULL;
  assert_int_equal(form_parse(form, strlen(form), &f), 0);
  assert_int_equal(f->n, 4);
  assert_string_equal(form_get(f, "To"), "+15005550001");
  assert_string_equal(form_get(f, "From"), "+15005550006"); /* the config's */
  assert_string_equal(form_get(f, "Body"), "P1 db down & out: reply 1");
  assert_string_equal(form_get(f, "StatusCallback"),
                      "https://k.example.com/twilio/status?attempt=3");
  form_free(f);
  free(url);
  free(form);

  /* A row's own From wins; Calls. */
  assert_int_equal(twilio_request("https://api.twilio.com", SID, "+15005550006", "Calls",
                                  "{\"To\":\"+15005550001\",\"From\":\"+15005550009\","
                                  "\"Url\":\"https://k.example.com/twilio/voice?page=1\","
                                  "\"MachineDetection\":\"Enable\"}",
                                  &url, &form),
                   0);
  assert_string_equal(url, "https://api.twilio.com/2010-04-01/Accounts/" SID "/Calls.json");
  assert_non_null(strstr(form, "From=%2B15005550009"));
  assert_null(strstr(form, "15005550006"));
  free(url);
  free(form);

  /* Refused: another method, a body that is not an object of strings, no To, no From at all, a
   * SID that would change the path. */
  assert_int_equal(twilio_request("h", SID, "+1500", "Recordings", "{\"To\":\"+1\"}", &url, &form),
                   KX_EUNSUPPORTED);
  assert_int_equal(twilio_request("h", SID, "+1500", "Messages", "[1]", &url, &form), KX_EINVAL);
  assert_int_equal(twilio_request("h", SID, "+1500", "Messages", "{\"To\":1}", &url, &form),
                   KX_EINVAL);
  assert_int_equal(twilio_request("h", SID, "+1500", "Messages", "{\"Body\":\"x\"}", &url, &form),
                   KX_EINVAL);
  assert_int_equal(twilio_request("h", SID, NULL, "Messages", "{\"To\":\"+1\"}", &url, &form),
                   KX_EINVAL);
  assert_int_equal(twilio_request("h", "AC/../x", "+1", "Messages", "{\"To\":\"+1\"}", &url, &form),
                   KX_EINVAL);
  assert_int_equal(twilio_request("h", SID, "+1", "Messages", "not json", &url, &form), KX_EINVAL);
  assert_null(url);
  assert_null(form);
}

static void test_result(void **state)
{
  (void)state;
  char error[256];
  cJSON *j = NULL;
  assert_int_equal(twilio_result(0, 201,
                                 "{\"sid\":\"SM0123456789abcdef0123456789abcdef\","
                                 "\"status\":\"queued\"}",
                                 error, sizeof(error), &j),
                   0);
  assert_string_equal(cJSON_GetObjectItem(j, "sid")->valuestring,
                      "SM0123456789abcdef0123456789abcdef");
  assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "queued");
  cJSON_Delete(j);
  /* A 2xx without JSON is still accepted (never sent twice): an empty object. */
  assert_int_equal(twilio_result(0, 200, "ok", error, sizeof(error), &j), 0);
  assert_true(cJSON_IsObject(j));
  cJSON_Delete(j);

  assert_int_equal(twilio_result(0, 400,
                                 "{\"code\": 21211, \"message\": \"Invalid 'To' Phone Number\", "
                                 "\"more_info\": \"https://www.twilio.com/docs/errors/21211\", "
                                 "\"status\": 400}",
                                 error, sizeof(error), &j),
                   KX_EPLATFORM);
  assert_null(j);
  assert_string_equal(error, "twilio_21211: Invalid 'To' Phone Number");
  assert_int_equal(twilio_result(0, 401,
                                 "{\"code\": 20003, \"message\": \"Authenticate\", "
                                 "\"status\": 401}",
                                 error, sizeof(error), &j),
                   KX_EPLATFORM);
  assert_string_equal(error, "twilio_20003: Authenticate");
  assert_int_equal(twilio_result(0, 404, "<html>", error, sizeof(error), &j), KX_EPLATFORM);
  assert_string_equal(error, "twilio_http_404");
  assert_int_equal(twilio_result(0, 429, "{\"code\":20429,\"message\":\"Too Many Requests\"}",
                                 error, sizeof(error), &j),
                   KX_ERATELIMITED);
  assert_int_equal(twilio_result(0, 503, "", error, sizeof(error), &j), KX_ERETRY);
  assert_int_equal(twilio_result(0, 500, NULL, error, sizeof(error), &j), KX_ERETRY);
  assert_int_equal(twilio_result(KX_ETIMEOUT, 0, NULL, error, sizeof(error), &j), KX_ERETRY);
  assert_string_equal(error, "twilio_transport");
}

static void test_push_result(void **state)
{
  (void)state;
  char error[64];
  cJSON *j = NULL;
  assert_int_equal(
      push_result(0, 200, "{\"id\":\"abc\",\"event\":\"message\"}", error, sizeof(error), &j), 0);
  assert_int_equal(cJSON_GetObjectItem(j, "status")->valueint, 200);
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "body"), "id")->valuestring,
                      "abc");
  cJSON_Delete(j);
  assert_int_equal(push_result(0, 204, "", error, sizeof(error), &j), 0);
  assert_string_equal(cJSON_GetObjectItem(j, "body")->valuestring, "");
  cJSON_Delete(j);
  assert_int_equal(push_result(0, 302, "", error, sizeof(error), &j), KX_EPLATFORM);
  assert_string_equal(error, "push_http_302");
  assert_int_equal(push_result(0, 404, "", error, sizeof(error), &j), KX_EPLATFORM);
  assert_int_equal(push_result(0, 429, "", error, sizeof(error), &j), KX_ERATELIMITED);
  assert_int_equal(push_result(0, 502, "", error, sizeof(error), &j), KX_ERETRY);
  assert_int_equal(push_result(KX_ETIMEOUT, 0, NULL, error, sizeof(error), &j), KX_ERETRY);
  assert_null(j);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request),
      cmocka_unit_test(test_result),
      cmocka_unit_test(test_push_result),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
