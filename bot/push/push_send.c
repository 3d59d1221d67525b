#include "bot/push/push_send.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/kx.h"
#include "lib/log.h"

struct push_call {
  struct sender *s;
  sender_done_fn done;
  int64_t id;
};

static bool token_char(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool header_ok(const char *name, const char *value)
{
  if (!*name)
    return false;
  for (const char *p = name; *p; p++)
    if (!token_char(*p))
      return false;
  for (const char *p = value; *p; p++)
    if (*p == '\r' || *p == '\n')
      return false;
  /* Ours to set: the length is the body's, the host the URL's. */
  return strcasecmp(name, "Content-Length") != 0 && strcasecmp(name, "Host") != 0 &&
         strcasecmp(name, "Transfer-Encoding") != 0;
}

int push_result(
    int transport_err, long status, const char *body, char *error, size_t error_size, cJSON **json)
{
  *json = NULL;
  error[0] = '\0';
  if (transport_err || status == 0) {
    snprintf(error, error_size, "push_transport");
    return KX_ERETRY;
  }
  if (status >= 200 && status < 300) {
    cJSON *j = cJSON_CreateObject();
    if (!j || !cJSON_AddNumberToObject(j, "status", (double)status)) {
      cJSON_Delete(j);
      return KX_ENOMEM;
    }
    cJSON *answer = body ? cJSON_Parse(body) : NULL;
    if (!answer)
      answer = cJSON_CreateString(body ? body : "");
    if (answer)
      cJSON_AddItemToObject(j, "body", answer);
    *json = j;
    return 0;
  }
  snprintf(error, error_size, "push_http_%ld", status);
  if (status == 429)
    return KX_ERATELIMITED;
  if (status >= 500)
    return KX_ERETRY;
  return KX_EPLATFORM;
}

static void on_response(void *arg, const struct http_response *r)
{
  struct push_call *c = arg;
  char error[64];
  cJSON *json = NULL;
  int err = push_result(r->err, r->status, r->body, error, sizeof(error), &json);
  if (err == KX_ENOMEM)
    err = KX_ERETRY;
  if (err)
    LOG_WARN("push", "refused", "id=%lld status=%ld error=%s", (long long)c->id, r->status, error);
  else
    LOG_INFO("push", "delivered", "id=%lld status=%ld", (long long)c->id, r->status);
  c->done(c->s, c->id, err, err ? error : NULL, r->retry_after_s, json);
  cJSON_Delete(json);
  free(c);
}

int push_send_row(void *arg, struct sender *s, const struct outbox_row *row, sender_done_fn done)
{
  struct http_client *http = arg;
  cJSON *body = row->body ? cJSON_Parse(row->body) : NULL;
  const cJSON *url = cJSON_GetObjectItemCaseSensitive(body, "url");
  const cJSON *headers = cJSON_GetObjectItemCaseSensitive(body, "headers");
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(body, "body");
  if (!cJSON_IsString(url) ||
      (strncmp(url->valuestring, "https://", 8) != 0 &&
       strncmp(url->valuestring, "http://", 7) != 0) ||
      (headers && !cJSON_IsObject(headers)) || (text && !cJSON_IsString(text))) {
    LOG_ERROR("push", "unsendable", "id=%lld reason=\"bad body\"", (long long)row->id);
    cJSON_Delete(body);
    return KX_EINVAL;
  }
  char lines[PUSH_MAX_HEADERS + 1][PUSH_HEADER_MAX];
  const char *hv[PUSH_MAX_HEADERS + 2];
  size_t n = 0;
  bool has_type = false;
  const cJSON *h;
  cJSON_ArrayForEach (h, headers) {
    int w = n < PUSH_MAX_HEADERS && cJSON_IsString(h) && header_ok(h->string, h->valuestring)
                ? snprintf(lines[n], PUSH_HEADER_MAX, "%s: %s", h->string, h->valuestring)
                : -1;
    if (w < 0 || (size_t)w >= PUSH_HEADER_MAX) {
      LOG_ERROR("push", "unsendable", "id=%lld reason=\"bad header\"", (long long)row->id);
      cJSON_Delete(body);
      return KX_EINVAL;
    }
    has_type |= strcasecmp(h->string, "Content-Type") == 0;
    hv[n] = lines[n];
    n++;
  }
  if (!has_type)
    hv[n++] = "Content-Type: text/plain; charset=utf-8";
  hv[n] = NULL;
  struct push_call *c = calloc(1, sizeof(*c));
  if (!c) {
    cJSON_Delete(body);
    return KX_ENOMEM;
  }
  c->s = s;
  c->done = done;
  c->id = row->id;
  const char *b = text ? text->valuestring : "";
  struct http_request req = {
      .method = "POST",
      .url = url->valuestring,
      .headers = hv,
      .body = b,
      .body_len = strlen(b),
      .timeout_ms = PUSH_TIMEOUT_MS,
      .max_response = PUSH_RESPONSE_MAX,
  };
  int rc = http_client_send(http, &req, on_response, c);
  cJSON_Delete(body);
  if (rc)
    free(c);
  return rc;
}
