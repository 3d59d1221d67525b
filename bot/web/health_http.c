/* health_http.c — /healthz and /metrics; see health_http.h. */
#include "bot/web/health_http.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/dbtask.h"
#include "bot/modules.h"
#include "bot/web/feed_auth.h"
#include "lib/kx.h"
#include "lib/metrics.h"
#include "storage/db.h"
#include "storage/outbox.h"

static const char *integrity_name(int integrity)
{
  return integrity > 0 ? "ok" : integrity < 0 ? "error" : "unchecked";
}

/* ?probe=live touches no database: answered on the loop, never behind a database task. */
static bool live_probe(void *arg, const struct httpd_request *req)
{
  (void)arg;
  return req->query && strstr(req->query, "probe=live") != NULL;
}

static int health(void *arg,
                  const struct httpd_request *req,
                  struct httpd_response *resp,
                  struct httpd_pending *later)
{
  (void)later;
  const struct module_env *env = arg;
  const char *slack = app_module_status(env->app, "slack");
  if (!slack)
    slack = "disabled";
  /* ?probe=live: the loop answers, which is all a liveness probe should ask (restarting
   * klaxon does not bring a Slack outage to an end), and it touches no database: a slow or
   * locked database must not get a healthy process killed, nor a probe stall the loop. */
  bool live_only = req->query && strstr(req->query, "probe=live") != NULL;
  bool ok = true;
  cJSON *o = cJSON_CreateObject();
  if (live_only) {
    cJSON_AddStringToObject(o, "status", "ok");
    cJSON_AddStringToObject(o, "probe", "live");
    cJSON_AddStringToObject(o, "slack", slack);
    cJSON_AddStringToObject(o, "version", KLAXON_VERSION);
  } else {
    /* The worker's last look (each second, off the loop) when there is one: a database that
     * hangs must not hang the probe. */
    bool db_ok = (env->health->db_checked ? !env->health->db_down : db_ping(env->db) == 0) &&
                 env->health->integrity >= 0;
    ok = db_ok && strcmp(slack, "disconnected") != 0;
    cJSON_AddStringToObject(o, "status", ok ? "ok" : "unavailable");
    cJSON_AddStringToObject(o, "slack", slack);
    cJSON_AddStringToObject(o, "database", db_ok ? "ok" : "error");
    cJSON_AddStringToObject(o, "integrity", integrity_name(env->health->integrity));
    if (env->health->integrity_at_ms)
      cJSON_AddNumberToObject(o, "integrity_checked_ms", (double)env->health->integrity_at_ms);
    cJSON_AddStringToObject(o, "version", KLAXON_VERSION);
    if (db_ok) {
      int64_t oldest = outbox_oldest_pending(env->db);
      cJSON_AddNumberToObject(o, "outbox_depth", (double)outbox_depth(env->db));
      cJSON_AddNumberToObject(o, "outbox_oldest_age_seconds",
                              oldest < 0 ? 0 : (double)(clock_now_ms() - oldest) / 1000.0);
    }
  }
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  httpd_json(resp, ok ? 200 : 503, text);
  free(text);
  return HTTPD_DONE;
}

static int metrics_page(void *arg,
                        const struct httpd_request *req,
                        struct httpd_response *resp,
                        struct httpd_pending *later)
{
  (void)later;
  const struct module_env *env = arg;
  if (!feed_auth(env, req, resp))
    return HTTPD_DONE;
  if (!env->health->db_down) { /* the last values stand while the database does not answer */
    metrics_set("klaxon_outbox_depth", "", (double)outbox_depth(env->db));
    int64_t oldest = outbox_oldest_pending(env->db);
    metrics_set("klaxon_outbox_oldest_age_seconds", "",
                oldest < 0 ? 0 : (double)(clock_now_ms() - oldest) / 1000.0);
  }
  metrics_set("klaxon_database_up", "", env->health->db_down ? 0 : 1);
  metrics_set("klaxon_db_loop_waits_total", "", (double)dbtasks_loop_waits());
  metrics_set("klaxon_database_integrity_ok", "", env->health->integrity > 0 ? 1 : 0);
  resp->status = 200;
  snprintf(resp->content_type, sizeof(resp->content_type), "text/plain; version=0.0.4");
  metrics_render(&resp->body);
  struct cmd_ctx run = cmd_ctx_at(env->ctx, clock_now_ms());
  for (const struct cmd_metrics_def *m = cmd_metrics; m->fn; m++)
    m->fn(&run, &resp->body);
  return HTTPD_DONE;
}

int health_http_init(const struct module_env *env, void **state)
{
  (void)state;
  if (!env->httpd)
    return 0;
  metrics_describe("klaxon_outbox_depth", METRIC_GAUGE, "Outbox rows not yet delivered");
  metrics_describe("klaxon_db_loop_waits_total", METRIC_COUNTER,
                   "PostgreSQL: times the event loop itself waited for the database (a round "
                   "trip made outside a database task, or a wait for the running task); 0 in a "
                   "healthy run after start (bot/dbtask.h)");
  metrics_describe("klaxon_database_up", METRIC_GAUGE,
                   "1 when the database answered the last check (each second, off the loop)");
  metrics_describe("klaxon_outbox_oldest_age_seconds", METRIC_GAUGE,
                   "Age of the oldest undelivered outbox row (bot clock)");
  metrics_describe("klaxon_database_integrity_ok", METRIC_GAUGE,
                   "1 when the last PRAGMA quick_check (off the loop) said ok; always 1 on "
                   "PostgreSQL, which checks its own pages (see klaxon_database_up)");
  struct httpd_route healthz = {.method = "GET",
                                .path = "/healthz",
                                .max_body = 0,
                                .fn = health,
                                .arg = (void *)env,
                                .on_loop = live_probe};
  struct httpd_route metrics = {
      .method = "GET", .path = "/metrics", .max_body = 0, .fn = metrics_page, .arg = (void *)env};
  int rc = httpd_route(env->httpd, &healthz);
  if (rc == 0)
    rc = httpd_route(env->httpd, &metrics);
  return rc;
}
