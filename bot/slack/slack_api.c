#include "bot/slack/slack_api.h"

#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"

struct slack_api {
  struct http_client *http;
  char *base;
  char *bot_auth; /* "Authorization: Bearer xoxb-…" */
  char *app_auth;
};

struct call {
  struct slack_api *api;
  char method[64];
  slack_cb cb;
  void *arg;
  int response_url;
};

static void count(const char *method, const char *result)
{
  char labels[160];
  snprintf(labels, sizeof(labels), "method=\"%.60s\",result=\"%.60s\"", method, result);
  metrics_inc("klaxon_slack_api_calls_total", labels, 1);
}

struct slack_api *slack_api_new(struct http_client *http,
                                const char *base_url,
                                const char *bot_token,
                                const char *app_token)
{
  metrics_describe("klaxon_slack_api_calls_total", METRIC_COUNTER,
                   "Slack Web API calls by method and result (ok, an error name, http_NNN)");
  struct slack_api *api = calloc(1, sizeof(*api));
  if (!api)
    return NULL;
  api->http = http;
  size_t n = strlen(base_url);
  api->base = (n && base_url[n - 1] == '/') ? strdup(base_url) : kx_asprintf("%s/", base_url);
  api->bot_auth = bot_token ? kx_asprintf("Authorization: Bearer %s", bot_token) : NULL;
  api->app_auth = app_token ? kx_asprintf("Authorization: Bearer %s", app_token) : NULL;
  if (!api->base || (bot_token && !api->bot_auth) || (app_token && !api->app_auth)) {
    slack_api_free(api);
    return NULL;
  }
  return api;
}

void slack_api_free(struct slack_api *api)
{
  if (!api)
    return;
  free(api->base);
  if (api->bot_auth)
    explicit_bzero(api->bot_auth, strlen(api->bot_auth));
  if (api->app_auth)
    explicit_bzero(api->app_auth, strlen(api->app_auth));
  free(api->bot_auth);
  free(api->app_auth);
  free(api);
}

static bool slack_error_retryable(const char *error)
{
  static const char *retry[] = {
      "ratelimited",     "rate_limited", "internal_error", "fatal_error", "service_unavailable",
      "request_timeout", "timeout",      "transport",      "http_500",    "team_added_to_org"};
  for (size_t i = 0; error && i < KX_ARRAY_SIZE(retry); i++)
    if (strcmp(error, retry[i]) == 0)
      return true;
  return false;
}

bool slack_error_fatal_auth(const char *error)
{
  static const char *fatal[] = {
      "not_authed",    "invalid_auth",           "account_inactive",       "token_revoked",
      "token_expired", "not_allowed_token_type", "user_removed_from_team", "team_disabled",
      "missing_scope"};
  for (size_t i = 0; error && i < KX_ARRAY_SIZE(fatal); i++)
    if (strcmp(error, fatal[i]) == 0)
      return true;
  return false;
}

static void on_response(void *arg, const struct http_response *resp)
{
  struct call *c = arg;
  struct slack_result r;
  memset(&r, 0, sizeof(r));
  r.status = resp->status;
  r.retry_after_s = -1;
  r.total_ms = resp->total_ms;
  cJSON *json = NULL;
  char reason[32];
  if (resp->err) {
    r.err = KX_ERETRY;
    r.error = resp->err == KX_ETIMEOUT ? "timeout" : "transport";
    LOG_WARN("slack_api", "transport_failed", "method=%s reason=%s", c->method, r.error);
  } else if (resp->status == 429) {
    r.err = KX_ERATELIMITED;
    r.error = "ratelimited";
    /* Slack always sends Retry-After with a 429; be conservative without one. */
    r.retry_after_s = resp->retry_after_s >= 0 ? resp->retry_after_s : 30;
  } else if (resp->status >= 500) {
    r.err = KX_ERETRY;
    snprintf(reason, sizeof(reason), "http_%ld", resp->status);
    r.error = reason;
  } else if (c->response_url) {
    /* response_url answers 200 "ok" (or JSON); anything 2xx is delivered. */
    r.err = (resp->status >= 200 && resp->status < 300) ? 0 : KX_EPLATFORM;
    if (r.err) {
      snprintf(reason, sizeof(reason), "http_%ld", resp->status);
      r.error = reason;
    }
    json = cJSON_ParseWithLength(resp->body, resp->body_len);
  } else {
    json = cJSON_ParseWithLength(resp->body, resp->body_len);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(json, "ok");
    if (!cJSON_IsBool(ok)) {
      r.err = resp->status >= 400 ? KX_ERETRY : KX_EPROTO;
      snprintf(reason, sizeof(reason), "http_%ld", resp->status);
      r.error = resp->status >= 400 ? reason : "not_slack_json";
    } else if (!cJSON_IsTrue(ok)) {
      const cJSON *e = cJSON_GetObjectItemCaseSensitive(json, "error");
      r.error = cJSON_IsString(e) ? e->valuestring : "unknown_error";
      r.err = slack_error_retryable(r.error) ? KX_ERETRY : KX_EPLATFORM;
    }
  }
  r.json = json;
  count(c->method, r.err ? r.error : "ok");
  c->cb(c->arg, &r);
  cJSON_Delete(json);
  free(c);
}

static int send_call(struct slack_api *api,
                     const char *method,
                     const char *url,
                     enum slack_token token,
                     const char *content_type,
                     const char *body,
                     slack_cb cb,
                     void *arg)
{
  const char *auth = token == SLACK_TOKEN_BOT   ? api->bot_auth
                     : token == SLACK_TOKEN_APP ? api->app_auth
                                                : NULL;
  if (token != SLACK_TOKEN_NONE && !auth)
    return KX_EAUTH;
  struct call *c = calloc(1, sizeof(*c));
  if (!c)
    return KX_ENOMEM;
  c->api = api;
  snprintf(c->method, sizeof(c->method), "%s", method);
  c->cb = cb;
  c->arg = arg;
  c->response_url = token == SLACK_TOKEN_NONE;
  const char *headers[4] = {content_type, "Accept: application/json", auth, NULL};
  struct http_request req = {
      .method = "POST",
      .url = url,
      .headers = headers,
      .body = body ? body : "",
      .body_len = body ? strlen(body) : 0,
  };
  int rc = http_client_send(api->http, &req, on_response, c);
  if (rc)
    free(c);
  return rc;
}

int slack_api_call(struct slack_api *api,
                   const char *method,
                   enum slack_token token,
                   const char *json_body,
                   slack_cb cb,
                   void *arg)
{
  char *url = kx_asprintf("%s%s", api->base, method);
  if (!url)
    return KX_ENOMEM;
  int rc = send_call(api, method, url, token, "Content-Type: application/json; charset=utf-8",
                     json_body ? json_body : "{}", cb, arg);
  free(url);
  return rc;
}

int slack_api_form(struct slack_api *api,
                   const char *method,
                   enum slack_token token,
                   const char *form_body,
                   slack_cb cb,
                   void *arg)
{
  char *url = kx_asprintf("%s%s", api->base, method);
  if (!url)
    return KX_ENOMEM;
  int rc = send_call(api, method, url, token, "Content-Type: application/x-www-form-urlencoded",
                     form_body ? form_body : "", cb, arg);
  free(url);
  return rc;
}

char *slack_form_encode(const cJSON *args)
{
  static const char hex[] = "0123456789ABCDEF";
  struct buf b;
  buf_init(&b, (size_t)1 << 20);
  int rc = buf_puts(&b, "");
  const cJSON *a;
  cJSON_ArrayForEach (a, args) {
    char *own = NULL;
    const char *v = NULL;
    if (cJSON_IsString(a))
      v = a->valuestring;
    else if (cJSON_IsBool(a))
      v = cJSON_IsTrue(a) ? "true" : "false";
    else
      v = own = cJSON_PrintUnformatted(a); /* numbers; objects and arrays as JSON text */
    if (!a->string || !v)
      rc = KX_ENOMEM;
    for (int part = 0; rc == 0 && part < 2; part++) {
      const unsigned char *p = (const unsigned char *)(part ? v : a->string);
      rc = buf_puts(&b, part ? "=" : (b.len ? "&" : ""));
      for (; rc == 0 && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
          rc = buf_append(&b, p, 1);
        } else {
          char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
          rc = buf_append(&b, esc, 3);
        }
      }
    }
    free(own);
    if (rc)
      break;
  }
  if (rc) {
    buf_free(&b);
    return NULL;
  }
  return buf_take(&b);
}

int slack_api_response_url(
    struct slack_api *api, const char *url, const char *json_body, slack_cb cb, void *arg)
{
  return send_call(api, "response_url", url, SLACK_TOKEN_NONE,
                   "Content-Type: application/json; charset=utf-8", json_body, cb, arg);
}
