#include "bot/push/pagerduty_send.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/push/push_send.h"
#include "lib/kx.h"
#include "lib/log.h"

struct pd_call {
  struct sender *s;
  sender_done_fn done;
  int64_t id;
  char *json;
};

static void on_response(void *arg, const struct http_response *r)
{
  struct pd_call *c = arg;
  char error[64];
  cJSON *json = NULL;
  int err = push_result(r->err, r->status, r->body, error, sizeof(error), &json);
  if (err == KX_ENOMEM)
    err = KX_ERETRY;
  if (err) {
    snprintf(error, sizeof(error), "pagerduty_http_%ld", r->status);
    LOG_WARN("pagerduty", "refused", "id=%lld status=%ld", (long long)c->id, r->status);
  } else {
    LOG_INFO("pagerduty", "sent", "id=%lld status=%ld", (long long)c->id, r->status);
  }
  c->done(c->s, c->id, err, err ? error : NULL, r->retry_after_s, json);
  cJSON_Delete(json);
  free(c->json);
  free(c);
}

int pagerduty_send_row(void *arg,
                       struct sender *s,
                       const struct outbox_row *row,
                       sender_done_fn done)
{
  struct http_client *http = arg;
  cJSON *body = row->body ? cJSON_Parse(row->body) : NULL;
  const cJSON *key_env = cJSON_GetObjectItemCaseSensitive(body, "key_env");
  cJSON *event = cJSON_DetachItemFromObjectCaseSensitive(body, "event");
  const char *key = cJSON_IsString(key_env) ? getenv(key_env->valuestring) : NULL;
  if (!cJSON_IsObject(event) || !key || !*key) {
    LOG_ERROR("pagerduty", "unsendable", "id=%lld reason=\"%s\"", (long long)row->id,
              !cJSON_IsObject(event) ? "bad body" : "the routing key's variable is not set");
    cJSON_Delete(event);
    cJSON_Delete(body);
    return KX_EINVAL;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(event, "routing_key");
  cJSON_AddStringToObject(event, "routing_key", key);
  struct pd_call *c = calloc(1, sizeof(*c));
  if (c)
    c->json = cJSON_PrintUnformatted(event);
  cJSON_Delete(event);
  cJSON_Delete(body);
  if (!c || !c->json) {
    if (c)
      free(c);
    return KX_ENOMEM;
  }
  c->s = s;
  c->done = done;
  c->id = row->id;
  const char *url = getenv("KLAXON_PAGERDUTY_EVENTS_URL");
  static const char *const HEADERS[] = {"Content-Type: application/json", NULL};
  struct http_request req = {
      .method = "POST",
      .url = url && *url ? url : PAGERDUTY_EVENTS_URL,
      .headers = HEADERS,
      .body = c->json,
      .body_len = strlen(c->json),
      .timeout_ms = PUSH_TIMEOUT_MS,
      .max_response = PUSH_RESPONSE_MAX,
  };
  int rc = http_client_send(http, &req, on_response, c);
  if (rc) {
    free(c->json);
    free(c);
  }
  return rc;
}
