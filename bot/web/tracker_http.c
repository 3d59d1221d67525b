#include "bot/web/tracker_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/modules.h"
#include "commands/core/names.h"
#include "commands/incident/tracker_parse.h"
#include "lib/hub_sig.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"

static enum tracker_kind kind_of(const char *path)
{
  return strcmp(path, "/trackers/github") == 0 ? TRACKER_GITHUB : TRACKER_JIRA;
}

static void refuse(struct httpd_response *resp,
                   const struct httpd_request *req,
                   enum tracker_kind kind,
                   int status,
                   const char *why)
{
  char labels[64];
  snprintf(labels, sizeof(labels), "tracker=\"%s\",status=\"%d\"",
           kind == TRACKER_GITHUB ? "github" : "jira", status);
  metrics_inc("klaxon_tracker_webhooks_refused_total", labels, 1);
  LOG_WARN("tracker", "webhook_refused", "status=%d peer=%s reason=\"%s\"", status, req->peer, why);
  char body[160];
  snprintf(body, sizeof(body), "{\"ok\":false,\"error\":\"%s\"}", why);
  httpd_json(resp, status, body);
}

/* Does the signature match the secret of any rota with a tracker of this kind? Every secret is
 * tried, whatever matched before. */
static bool signed_by_us(const struct config *c,
                         enum tracker_kind kind,
                         const struct httpd_request *req)
{
  bool ok = false;
  for (size_t i = 0; i < c->n_rotas; i++) {
    const struct tracker *t = &c->rotas[i].tracker;
    if (t->kind != kind || !t->webhook_secret_env)
      continue;
    const char *secret = getenv(t->webhook_secret_env);
    if (secret && *secret && hub_sig_ok(secret, req->body, req->body_len, req->hub_signature))
      ok = true;
  }
  return ok;
}

static int on_hook(void *arg,
                   const struct httpd_request *req,
                   struct httpd_response *resp,
                   struct httpd_pending *later)
{
  (void)later;
  const struct module_env *env = arg;
  enum tracker_kind kind = kind_of(req->path);
  if (!req->hub_signature) {
    refuse(resp, req, kind, 401, "no signature");
    return HTTPD_DONE;
  }
  if (!signed_by_us(env->config, kind, req)) {
    refuse(resp, req, kind, 401, "bad signature");
    return HTTPD_DONE;
  }
  char key[TRACKER_KEY_MAX + 8], where[600];
  int rc = tracker_webhook_parse(kind, req->event_name, req->body, req->body_len, key, sizeof(key),
                                 where, sizeof(where));
  if (rc < 0) {
    refuse(resp, req, kind, 400, "not an issue event");
    return HTTPD_DONE;
  }
  if (rc == 0) {
    httpd_json(resp, 200, "{\"ok\":true,\"ignored\":true}");
    return HTTPD_DONE;
  }
  cJSON *payload = cJSON_CreateObject();
  if (payload) {
    cJSON_AddStringToObject(payload, "tracker", kind == TRACKER_GITHUB ? "github" : "jira");
    cJSON_AddStringToObject(payload, "key", key);
  }
  struct cmd_request creq = {
      .platform = CMD_PLATFORM_HTTP,
      .kind = CMD_KIND_ACTION,
      .now_ms = clock_now_ms(),
      .action_id = CMD_ACTION_TRACKER_CLOSED,
      .user = kind == TRACKER_GITHUB ? "github" : "jira",
      .payload = payload,
  };
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  rc = payload ? app_dispatch(env->app, &creq, &reply) : KX_ENOMEM;
  cmd_reply_free(&reply);
  cJSON_Delete(payload);
  LOG_INFO("tracker", "webhook", "tracker=%s key=%s rc=%d",
           kind == TRACKER_GITHUB ? "github" : "jira", key, rc);
  if (rc)
    httpd_json(resp, 500, "{\"ok\":false,\"error\":\"not stored; retry\"}");
  else
    httpd_json(resp, 200, "{\"ok\":true}");
  return HTTPD_DONE;
}

int tracker_http_init(const struct module_env *env, void **state)
{
  (void)state;
  metrics_describe("klaxon_tracker_webhooks_refused_total", METRIC_COUNTER,
                   "Tracker webhooks (GitHub, Jira) refused, by tracker and HTTP status");
  if (!env->httpd)
    return 0;
  bool gh = false, jira = false;
  for (size_t i = 0; i < env->config->n_rotas; i++) {
    gh |= env->config->rotas[i].tracker.kind == TRACKER_GITHUB;
    jira |= env->config->rotas[i].tracker.kind == TRACKER_JIRA;
  }
  int rc = 0;
  if (gh) {
    struct httpd_route r = {.method = "POST",
                            .path = "/trackers/github",
                            .max_body = TRACKER_MAX_BODY,
                            .fn = on_hook,
                            .arg = (void *)env};
    rc = httpd_route(env->httpd, &r);
  }
  if (rc == 0 && jira) {
    struct httpd_route r = {.method = "POST",
                            .path = "/trackers/jira",
                            .max_body = TRACKER_MAX_BODY,
                            .fn = on_hook,
                            .arg = (void *)env};
    rc = httpd_route(env->httpd, &r);
  }
  return rc;
}
