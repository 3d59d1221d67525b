#include "bot/push/export_send.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/push/push_send.h"
#include "lib/kx.h"
#include "lib/log.h"

#define EXPORT_AUTH_MAX 1024

struct export_call {
  struct sender *s;
  sender_done_fn done;
  int64_t id;
  char *json;
  char auth[EXPORT_AUTH_MAX + 32];
};

static void on_response(void *arg, const struct http_response *r)
{
  struct export_call *c = arg;
  char error[64];
  cJSON *json = NULL;
  int err = push_result(r->err, r->status, r->body, error, sizeof(error), &json);
  if (err == KX_ENOMEM)
    err = KX_ERETRY;
  if (err) {
    snprintf(error, sizeof(error), "export_http_%ld", r->status);
    LOG_WARN("export", "refused", "id=%lld status=%ld", (long long)c->id, r->status);
  } else {
    LOG_INFO("export", "sent", "id=%lld status=%ld", (long long)c->id, r->status);
  }
  c->done(c->s, c->id, err, err ? error : NULL, r->retry_after_s, json);
  cJSON_Delete(json);
  free(c->json);
  free(c);
}

static const char *env_of(const cJSON *body, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
  const char *s = cJSON_IsString(v) ? getenv(v->valuestring) : NULL;
  return s && *s ? s : NULL;
}

static bool http_url(const char *u)
{
  return u && (strncmp(u, "https://", 8) == 0 || strncmp(u, "http://", 7) == 0) &&
         !strpbrk(u, " \r\n\t");
}

/* "Authorization: Basic base64(email:token)"; false when a variable is unset or too long. */
static bool basic_auth(const cJSON *body, char *out, size_t size)
{
  const char *email = env_of(body, "email_env"), *token = env_of(body, "token_env");
  char plain[EXPORT_AUTH_MAX / 4 * 3 - 2];
  if (!email || !token || strchr(email, ':'))
    return false;
  int n = snprintf(plain, sizeof(plain), "%s:%s", email, token);
  if (n < 0 || (size_t)n >= sizeof(plain))
    return false;
  int w = snprintf(out, size, "Authorization: Basic ");
  EVP_EncodeBlock((unsigned char *)out + w, (const unsigned char *)plain, n);
  return true;
}

int export_send_row(void *arg, struct sender *s, const struct outbox_row *row, sender_done_fn done)
{
  struct http_client *http = arg;
  cJSON *body = row->body ? cJSON_Parse(row->body) : NULL;
  const cJSON *url = cJSON_GetObjectItemCaseSensitive(body, "url");
  const cJSON *method = cJSON_GetObjectItemCaseSensitive(body, "method");
  const cJSON *json = cJSON_GetObjectItemCaseSensitive(body, "json");
  const char *u = cJSON_IsString(url) ? url->valuestring : env_of(body, "url_env");
  const char *m = cJSON_IsString(method) ? method->valuestring : "";
  bool wants_auth = cJSON_GetObjectItemCaseSensitive(body, "token_env") != NULL;
  struct export_call *c = calloc(1, sizeof(*c));
  const char *why = !c                                                ? NULL
                    : !http_url(u)                                    ? "no http(s) URL"
                    : strcmp(m, "POST") != 0 && strcmp(m, "PUT") != 0 ? "bad method"
                    : !cJSON_IsObject(json)                           ? "bad body"
                    : wants_auth && !basic_auth(body, c->auth, sizeof(c->auth))
                        ? "the credentials' variables are not set"
                        : NULL;
  if (c && why) {
    LOG_ERROR("export", "unsendable", "id=%lld reason=\"%s\"", (long long)row->id, why);
    free(c);
    cJSON_Delete(body);
    return KX_EINVAL;
  }
  if (c)
    c->json = cJSON_PrintUnformatted(json);
  if (!c || !c->json) {
    if (c)
      free(c);
    cJSON_Delete(body);
    return KX_ENOMEM;
  }
  c->s = s;
  c->done = done;
  c->id = row->id;
  const char *headers[] = {"Content-Type: application/json", "Accept: application/json",
                           c->auth[0] ? c->auth : NULL, NULL};
  struct http_request req = {
      .method = m,
      .url = u,
      .headers = headers,
      .body = c->json,
      .body_len = strlen(c->json),
      .timeout_ms = PUSH_TIMEOUT_MS,
      .max_response = PUSH_RESPONSE_MAX,
  };
  int rc = http_client_send(http, &req, on_response, c);
  cJSON_Delete(body);
  if (rc) {
    free(c->json);
    free(c);
  }
  return rc;
}
