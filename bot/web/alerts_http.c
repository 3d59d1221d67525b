#include "bot/web/alerts_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/modules.h"
#include "commands/paging/alerts.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"

static const double LATENCY_BOUNDS[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                        0.1,   0.25,   0.5,   1,    2.5};

static bool authorised(const struct module_env *env, const struct httpd_request *req)
{
  const char *var =
      env->config->alerts.token_env ? env->config->alerts.token_env : "KLAXON_ALERT_TOKEN";
  const char *token = getenv(var);
  if (!token || !*token) {
    LOG_WARN("alerts", "token_unset",
             "env=%s note=\"every alert webhook is refused until it is set\"", var);
    return false;
  }
  const char *auth = req->authorization;
  if (!auth || strncmp(auth, "Bearer ", 7) != 0)
    return false;
  const char *given = auth + 7;
  return kx_ct_equal(given, strlen(given), token, strlen(token)) == 1;
}

static void refuse(struct httpd_response *resp,
                   int status,
                   const char *why,
                   const struct httpd_request *req)
{
  char q[300];
  LOG_WARN("alerts", "refused", "path=%s status=%d peer=%s reason=%s", req->path, status, req->peer,
           log_quote(q, sizeof(q), why));
  httpd_error(resp, status, why);
  if (status == 401)
    httpd_add_header(resp, "WWW-Authenticate", "Bearer realm=\"klaxon\"");
}

static int handle(const struct module_env *env,
                  enum alert_source src,
                  const struct httpd_request *req,
                  struct httpd_response *resp)
{
  uint64_t t0 = clock_mono_us();
  if (!authorised(env, req)) {
    refuse(resp, 401, "a valid bearer token is required", req);
    return HTTPD_DONE;
  }
  cJSON *root = cJSON_ParseWithLength(req->body, req->body_len);
  if (!root) {
    refuse(resp, 400, "the body is not valid JSON", req);
    return HTTPD_DONE;
  }
  struct alert_batch b;
  char why[256];
  int rc = alerts_parse(src, root, &b, why, sizeof(why));
  if (rc) {
    refuse(resp,
           rc == KX_ETOOBIG  ? 413
           : rc == KX_ENOMEM ? 500
                             : 400,
           why[0] ? why : kx_strerror(rc), req);
    cJSON_Delete(root);
    return HTTPD_DONE;
  }
  size_t n = b.n;
  alert_batch_free(&b);
  struct cmd_request creq = {
      .platform = CMD_PLATFORM_HTTP,
      .kind = CMD_KIND_ACTION,
      .now_ms = clock_now_ms(),
      .action_id = src == ALERT_SRC_ALERTMANAGER ? ALERTS_ACTION_AM : ALERTS_ACTION_WEBHOOK,
      .user = src == ALERT_SRC_ALERTMANAGER ? "alertmanager" : "webhook",
      .payload = root,
  };
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  rc = app_dispatch(env->app, &creq, &reply);
  if (rc == 0 && reply.text.len)
    httpd_json(resp, 200, reply.text.data);
  else if (rc == 0)
    httpd_json(resp, 200, "{\"status\":\"ok\"}");
  else
    httpd_error(resp, 500, "the alerts could not be stored; try again");
  cmd_reply_free(&reply);
  cJSON_Delete(root);
  double secs = (double)(clock_mono_us() - t0) / 1e6;
  metrics_observe("klaxon_alert_webhook_seconds", "", secs);
  LOG_DEBUG("alerts", "webhook", "alerts=%zu status=%d ms=%.1f", n, resp->status, secs * 1000);
  return HTTPD_DONE;
}

static int on_alertmanager(void *arg,
                           const struct httpd_request *req,
                           struct httpd_response *resp,
                           struct httpd_pending *later)
{
  (void)later;
  return handle(arg, ALERT_SRC_ALERTMANAGER, req, resp);
}

static int on_webhook(void *arg,
                      const struct httpd_request *req,
                      struct httpd_response *resp,
                      struct httpd_pending *later)
{
  (void)later;
  return handle(arg, ALERT_SRC_WEBHOOK, req, resp);
}

/* The bearer token, checked on the headers before the body is read (httpd_route.allow). */
static bool allow(void *arg, const struct httpd_request *req)
{
  if (authorised(arg, req))
    return true;
  LOG_WARN("alerts", "refused", "path=%s status=401 peer=%s reason=\"no valid bearer token\"",
           req->path, req->peer);
  return false;
}

int alerts_http_init(const struct module_env *env, void **state)
{
  (void)state;
  if (!env->httpd)
    return 0;
  metrics_histogram("klaxon_alert_webhook_seconds", "Time to store and answer one alert webhook",
                    LATENCY_BOUNDS, KX_ARRAY_SIZE(LATENCY_BOUNDS));
  struct httpd_route am = {.method = "POST",
                           .path = "/alerts/alertmanager",
                           .max_body = ALERTS_HTTP_MAX_BODY,
                           .fn = on_alertmanager,
                           .arg = (void *)env,
                           .allow = allow};
  struct httpd_route wh = {.method = "POST",
                           .path = "/alerts/webhook",
                           .max_body = ALERTS_HTTP_MAX_BODY,
                           .fn = on_webhook,
                           .arg = (void *)env,
                           .allow = allow};
  int rc = httpd_route(env->httpd, &am);
  return rc ? rc : httpd_route(env->httpd, &wh);
}
