#include "bot/web/pager_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/modules.h"
#include "commands/paging/paging.h"
#include "lib/form.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/twilio_sig.h"

#define TWILIO_MAX_BODY ((size_t)16 * 1024) /* Twilio's webhooks are a few hundred bytes */

static const char *auth_token(const struct module_env *env)
{
  const char *var = env->config->twilio.auth_token_env;
  const char *t = var ? getenv(var) : NULL;
  return t && *t ? t : NULL;
}

static void refuse(struct httpd_response *resp, const struct httpd_request *req, const char *why)
{
  metrics_inc("klaxon_twilio_webhooks_refused_total", "", 1);
  LOG_WARN("twilio", "webhook_refused", "path=%s peer=%s reason=\"%s\"", req->path, req->peer, why);
  httpd_error(resp, 403, "forbidden");
}

/* On the headers: a request without a signature is refused before its body is read. */
static bool has_signature(void *arg, const struct httpd_request *req)
{
  (void)arg;
  if (req->signature && *req->signature)
    return true;
  metrics_inc("klaxon_twilio_webhooks_refused_total", "", 1);
  LOG_WARN("twilio", "webhook_refused", "path=%s peer=%s reason=\"no X-Twilio-Signature\"",
           req->path, req->peer);
  return false;
}

static void answer(struct httpd_response *resp, const struct cmd_reply *reply)
{
  httpd_text(resp, reply->http_status ? reply->http_status : 200,
             reply->content_type ? reply->content_type : "text/xml; charset=utf-8",
             reply->text.data ? reply->text.data : "");
}

static int on_twilio(void *arg,
                     const struct httpd_request *req,
                     struct httpd_response *resp,
                     struct httpd_pending *later)
{
  (void)later;
  const struct module_env *env = arg;
  const char *token = auth_token(env);
  const char *base = env->ctx->public_url;
  if (!token || !base || !*base) {
    refuse(resp, req, !token ? "the Auth Token variable is not set" : "public_url is not set");
    return HTTPD_DONE;
  }
  struct form *f = NULL;
  if (form_parse(req->body, req->body_len, &f) != 0) {
    refuse(resp, req, "the body is not a form");
    return HTTPD_DONE;
  }
  /* The URL as Twilio requested it: public_url, the path, and the query when there is one. */
  char *url = kx_asprintf("%s%s%s%s", base, req->path, req->query && *req->query ? "?" : "",
                          req->query ? req->query : "");
  bool ok = url && twilio_sig_ok(token, url, f, req->signature);
  free(url);
  if (!ok) {
    form_free(f);
    refuse(resp, req, "X-Twilio-Signature does not match");
    return HTTPD_DONE;
  }
  cJSON *payload = cJSON_CreateObject();
  for (size_t i = 0; payload && i < f->n; i++)
    if (!cJSON_GetObjectItemCaseSensitive(payload, f->v[i].key))
      cJSON_AddStringToObject(payload, f->v[i].key, f->v[i].value);
  form_free(f);
  long long attempt = 0;
  if (req->query && sscanf(req->query, "attempt=%lld", &attempt) == 1 && payload) {
    char num[32];
    snprintf(num, sizeof(num), "%lld", attempt);
    cJSON_DeleteItemFromObjectCaseSensitive(payload, "attempt");
    cJSON_AddStringToObject(payload, "attempt", num);
  }
  const char *action = strcmp(req->path, "/twilio/sms") == 0     ? CMD_ACTION_TWILIO_SMS
                       : strcmp(req->path, "/twilio/voice") == 0 ? CMD_ACTION_TWILIO_VOICE
                                                                 : CMD_ACTION_TWILIO_STATUS;
  struct cmd_request creq = {
      .platform = CMD_PLATFORM_HTTP,
      .kind = CMD_KIND_ACTION,
      .now_ms = clock_now_ms(),
      .action_id = action,
      .user = "twilio",
      .payload = payload,
  };
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  int rc = payload ? app_dispatch(env->app, &creq, &reply) : KX_ENOMEM;
  if (rc == 0)
    answer(resp, &reply);
  else
    httpd_error(resp, 500, "not stored; try again"); /* Twilio retries a failed callback */
  cmd_reply_free(&reply);
  cJSON_Delete(payload);
  return HTTPD_DONE;
}

static int on_link(void *arg,
                   const struct httpd_request *req,
                   struct httpd_response *resp,
                   struct httpd_pending *later)
{
  (void)later;
  const struct module_env *env = arg;
  const char *token = req->path + strlen("/pages/ack/");
  cJSON *payload = cJSON_CreateObject();
  if (payload) {
    cJSON_AddStringToObject(payload, "token", token);
    cJSON_AddStringToObject(payload, "method", req->method);
  }
  struct cmd_request creq = {
      .platform = CMD_PLATFORM_HTTP,
      .kind = CMD_KIND_ACTION,
      .now_ms = clock_now_ms(),
      .action_id = CMD_ACTION_PAGE_LINK,
      .user = "link",
      .payload = payload,
  };
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  int rc = payload ? app_dispatch(env->app, &creq, &reply) : KX_ENOMEM;
  if (rc == 0) {
    answer(resp, &reply);
    /* Nothing of a page is for caches, search engines or other sites' frames. */
    httpd_add_header(resp, "Cache-Control", "no-store");
    httpd_add_header(resp, "X-Robots-Tag", "noindex");
    httpd_add_header(resp, "Content-Security-Policy",
                     "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                     "frame-ancestors 'none'");
  } else {
    httpd_error(resp, 500, "something went wrong; try again");
  }
  cmd_reply_free(&reply);
  cJSON_Delete(payload);
  return HTTPD_DONE;
}

int pager_http_init(const struct module_env *env, void **state)
{
  (void)state;
  paging_notify_metrics(); /* /metrics lists them from the start */
  if (!env->httpd)
    return 0;
  static const char *const PATHS[] = {"/twilio/sms", "/twilio/voice", "/twilio/status"};
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < KX_ARRAY_SIZE(PATHS); i++) {
    struct httpd_route r = {.method = "POST",
                            .path = PATHS[i],
                            .max_body = TWILIO_MAX_BODY,
                            .fn = on_twilio,
                            .arg = (void *)env,
                            .allow = has_signature,
                            .deny_status = 403};
    rc = httpd_route(env->httpd, &r);
  }
  static const char *const METHODS[] = {"GET", "POST"};
  for (size_t i = 0; rc == 0 && i < KX_ARRAY_SIZE(METHODS); i++) {
    struct httpd_route r = {.method = METHODS[i],
                            .path = "/pages/ack/",
                            .max_body = 1024,
                            .fn = on_link,
                            .arg = (void *)env};
    rc = httpd_route(env->httpd, &r);
  }
  return rc;
}
