#include "bot/web/status_http.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/dbtask.h"
#include "bot/web/status_http_internal.h"
#include "commands/core/names.h"
#include "commands/status/status.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"

#define HEARTBEAT_MAX_BODY 65536 /* an Alertmanager Watchdog webhook fits */

struct check_run {
  struct status_http *owner;
  const struct check_config *cfg;
  uv_timer_t timer;
  uv_tcp_t tcp;
  uv_connect_t conn;
  uv_getaddrinfo_t resolve; /* a host name, resolved on libuv's thread pool */
  uv_timer_t deadline;
  bool busy, tcp_open, resolving;
  uint64_t started_us;
};

/* Results are stored in batches: one transaction (one fsync) per STATUS_FLUSH_MS, not per check. */
#define STATUS_FLUSH_MS 100
#define STATUS_BATCH_MAX 2000

struct status_http {
  const struct module_env *env;
  cJSON *pending; /* results not stored yet */
  uv_timer_t flush;
  bool flush_open;
  struct check_run *runs;
  size_t n;
  int open_handles;
  bool halted;
};

/* ---- pages ---------------------------------------------------------------------------------- */

static int serve(const struct module_env *env,
                 struct httpd_response *resp,
                 const char *type,
                 int (*fn)(struct cmd_ctx *, const char *, struct buf *),
                 const char *which)
{
  struct cmd_ctx ctx = cmd_ctx_at(env->ctx, clock_now_ms());
  struct buf b;
  buf_init(&b, STATUS_PAGE_MAX);
  int rc = fn(&ctx, which, &b);
  if (rc == KX_ENOTFOUND)
    httpd_error(resp, 404,
                "not found: try /status, /status/api/v2/summary.json or "
                "/status/history.atom");
  else if (rc)
    httpd_error(resp, 500, "the status page could not be built; see the log");
  else {
    httpd_text(resp, 200, type, b.data ? b.data : "");
    httpd_add_header(resp, "Cache-Control", "no-cache");
    if (strncmp(type, "application/json", 16) == 0)
      httpd_add_header(resp, "Access-Control-Allow-Origin", "*");
  }
  buf_free(&b);
  return HTTPD_DONE;
}

static int html(struct cmd_ctx *ctx, const char *which, struct buf *b)
{
  (void)which;
  return status_render_html(ctx, b);
}

static int atom(struct cmd_ctx *ctx, const char *which, struct buf *b)
{
  (void)which;
  return status_render_atom(ctx, b);
}

static int on_status(void *arg,
                     const struct httpd_request *req,
                     struct httpd_response *resp,
                     struct httpd_pending *later)
{
  (void)later;
  const struct module_env *env = arg;
  const char *p = req->path;
  if (strcmp(p, "/status") == 0 || strcmp(p, "/status/") == 0)
    return serve(env, resp, "text/html; charset=utf-8", html, NULL);
  if (strcmp(p, "/status/confirm") == 0 || strcmp(p, "/status/unsubscribe") == 0)
    return status_on_token(env, req, resp, strcmp(p, "/status/unsubscribe") == 0);
  if (strcmp(p, "/status/history.atom") == 0)
    return serve(env, resp, "application/atom+xml; charset=utf-8", atom, NULL);
  static const char api[] = "/status/api/v2/";
  size_t len = strlen(p);
  if (strncmp(p, api, sizeof(api) - 1) == 0 && len > sizeof(api) + 4 &&
      strcmp(p + len - 5, ".json") == 0 && len - sizeof(api) - 4 < 40) {
    char which[48];
    snprintf(which, sizeof(which), "%.*s", (int)(len - (sizeof(api) - 1) - 5), p + sizeof(api) - 1);
    return serve(env, resp, "application/json; charset=utf-8", status_render_json, which);
  }
  httpd_error(resp, 404,
              "not found: try /status, /status/api/v2/summary.json or "
              "/status/history.atom");
  return HTTPD_DONE;
}

/* ---- heartbeats ----------------------------------------------------------------------------- */

/* The alerts token from `Authorization: Bearer` or `?token=`, compared in constant time. */
static bool heartbeat_allow(void *arg, const struct httpd_request *req)
{
  const struct module_env *env = arg;
  const char *var =
      env->config->alerts.token_env ? env->config->alerts.token_env : "KLAXON_ALERT_TOKEN";
  const char *token = getenv(var);
  const char *given = NULL;
  size_t glen = 0;
  if (req->authorization && strncmp(req->authorization, "Bearer ", 7) == 0) {
    given = req->authorization + 7;
    glen = strlen(given);
  } else if (req->query) {
    for (const char *q = req->query; q && *q; q = strchr(q, '&') ? strchr(q, '&') + 1 : NULL) {
      if (strncmp(q, "token=", 6) == 0) {
        given = q + 6;
        const char *amp = strchr(given, '&');
        glen = amp ? (size_t)(amp - given) : strlen(given);
        break;
      }
    }
  }
  bool ok = token && *token && given && kx_ct_equal(given, glen, token, strlen(token)) == 1;
  if (!ok)
    LOG_WARN("status", "heartbeat_refused", "path=%s status=401 peer=%s", req->path, req->peer);
  return ok;
}

static int on_heartbeat(void *arg,
                        const struct httpd_request *req,
                        struct httpd_response *resp,
                        struct httpd_pending *later)
{
  (void)later;
  const struct module_env *env = arg;
  const char *name = req->path + strlen("/heartbeat/");
  if (!config_heartbeat(env->config, name)) {
    httpd_error(resp, 404, "no such heartbeat (heartbeats: in the config)");
    return HTTPD_DONE;
  }
  cJSON *payload = cJSON_CreateObject();
  if (!payload || !cJSON_AddStringToObject(payload, "name", name)) {
    cJSON_Delete(payload);
    httpd_error(resp, 500, "out of memory");
    return HTTPD_DONE;
  }
  struct cmd_request creq = {.platform = CMD_PLATFORM_HTTP,
                             .kind = CMD_KIND_ACTION,
                             .now_ms = clock_now_ms(),
                             .action_id = CMD_ACTION_STATUS_HEARTBEAT,
                             .user = "heartbeat",
                             .payload = payload};
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  int rc = app_dispatch(env->app, &creq, &reply);
  if (rc == 0 && reply.text.len && reply.text.data[0] == '{')
    httpd_json(resp, 200, reply.text.data);
  else if (rc == 0)
    httpd_error(resp, 404, "no such heartbeat");
  else
    httpd_error(resp, 500, "the beat could not be stored; try again");
  cmd_reply_free(&reply);
  cJSON_Delete(payload);
  return HTTPD_DONE;
}

/* ---- checks --------------------------------------------------------------------------------- */

struct flush {
  struct status_http *s;
  cJSON *payload;
  int n;
};

static void store_results(void *arg)
{
  struct flush *f = arg;
  struct cmd_request creq = {.platform = CMD_PLATFORM_HTTP,
                             .kind = CMD_KIND_ACTION,
                             .now_ms = clock_now_ms(),
                             .action_id = CMD_ACTION_STATUS_CHECK,
                             .user = "checks",
                             .payload = f->payload};
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  int rc = app_dispatch(f->s->env->app, &creq, &reply);
  if (rc)
    LOG_WARN("status", "checks_not_stored", "results=%d rc=%s", f->n, kx_strerror(rc));
  cmd_reply_free(&reply);
  cJSON_Delete(f->payload);
  free(f);
}

/* Store the pending results in one transaction (a database task: bot/dbtask.h). Dropped
 * (logged) when it fails: they are observations, and the next run observes again. */
static void flush_results(struct status_http *s)
{
  if (!s->pending || cJSON_GetArraySize(s->pending) == 0 || s->halted)
    return;
  struct flush *f = calloc(1, sizeof(*f));
  cJSON *p = f ? cJSON_CreateObject() : NULL;
  if (!p) {
    free(f);
    return;
  }
  cJSON_AddItemToObject(p, "results", s->pending);
  *f = (struct flush){.s = s, .payload = p, .n = cJSON_GetArraySize(s->pending)};
  s->pending = cJSON_CreateArray();
  dbtask_run(store_results, f);
}

static void report(struct check_run *r, bool ok, double ms, const char *detail, const char *warn)
{
  struct status_http *s = r->owner;
  r->busy = false;
  if (s->halted || app_stopping(s->env->app))
    return;
  metrics_inc("klaxon_checks_total", ok ? "result=\"ok\"" : "result=\"fail\"", 1);
  LOG_DEBUG("status", "check", "check=%s ok=%d ms=%.1f", r->cfg->name, ok, ms);
  cJSON *p = cJSON_CreateObject();
  if (!p || !cJSON_AddStringToObject(p, "name", r->cfg->name) ||
      !cJSON_AddBoolToObject(p, "ok", ok) || !cJSON_AddNumberToObject(p, "ms", ms) ||
      !cJSON_AddNumberToObject(p, "at", (double)clock_now_ms()) ||
      (detail && !cJSON_AddStringToObject(p, "detail", detail)) ||
      (warn && !cJSON_AddStringToObject(p, "warn", warn)) || !cJSON_AddItemToArray(s->pending, p)) {
    cJSON_Delete(p);
    return;
  }
  if (cJSON_GetArraySize(s->pending) >= STATUS_BATCH_MAX)
    flush_results(s);
}

static void on_flush(uv_timer_t *t)
{
  flush_results(t->data);
}

static void slow_warning(const struct check_run *r, double ms, char *warn, size_t n)
{
  warn[0] = '\0';
  if (r->cfg->slow_ms > 0 && ms > (double)r->cfg->slow_ms)
    snprintf(warn, n, "slow: %.0f ms (slow: %lld ms)", ms, (long long)r->cfg->slow_ms);
}

static void on_http(void *arg, const struct http_response *resp)
{
  struct check_run *r = arg;
  const struct check_config *c = r->cfg;
  char detail[STATUS_DETAIL_MAX], warn[128];
  bool ok = false;
  if (resp->err)
    snprintf(detail, sizeof(detail), "%s",
             resp->error_text ? resp->error_text : kx_strerror(resp->err));
  else if (c->expect_status ? resp->status != c->expect_status
                            : resp->status < 200 || resp->status > 399)
    snprintf(detail, sizeof(detail), "HTTP %ld", resp->status);
  else if (c->expect_body && (!resp->body || !strstr(resp->body, c->expect_body)))
    snprintf(detail, sizeof(detail), "HTTP %ld without the expected text", resp->status);
  else
    ok = true;
  slow_warning(r, resp->total_ms, warn, sizeof(warn));
  if (!warn[0] && c->tls_expiry_ms > 0 && resp->cert_expires_ms > 0) {
    /* Certificates expire in real time, whatever the bot's clock says. */
    long long left = resp->cert_expires_ms - clock_wall_ms();
    if (left < c->tls_expiry_ms)
      snprintf(warn, sizeof(warn), "the TLS certificate expires in %lld days", left / 86400000);
  }
  report(r, ok, resp->total_ms, ok ? NULL : detail, warn[0] ? warn : NULL);
}

static void tcp_closed(uv_handle_t *h)
{
  struct check_run *r = h->data;
  r->tcp_open = false;
  r->owner->open_handles--;
}

static void tcp_finish(struct check_run *r, int status)
{
  uv_timer_stop(&r->deadline);
  if (r->tcp_open && !uv_is_closing((uv_handle_t *)&r->tcp))
    uv_close((uv_handle_t *)&r->tcp, tcp_closed);
  double ms = (double)(clock_mono_us() - r->started_us) / 1000.0;
  char detail[STATUS_DETAIL_MAX], warn[128];
  /* Only for a failure: uv_strerror(0) allocates ("Unknown system error 0") and never frees. */
  detail[0] = '\0';
  if (status != 0)
    snprintf(detail, sizeof(detail), "connect: %s",
             status == UV_ETIMEDOUT ? "timed out" : uv_strerror(status));
  slow_warning(r, ms, warn, sizeof(warn));
  report(r, status == 0, ms, status == 0 ? NULL : detail, warn[0] ? warn : NULL);
}

static void on_connect(uv_connect_t *req, int status)
{
  struct check_run *r = req->data;
  if (status == UV_ECANCELED)
    return; /* closed by the deadline or at halt, reported there */
  tcp_finish(r, status);
}

static void on_deadline(uv_timer_t *t)
{
  struct check_run *r = t->data;
  tcp_finish(r, UV_ETIMEDOUT);
}

static void tcp_connect(struct check_run *r, const struct sockaddr *sa)
{
  if (uv_tcp_init(r->owner->env->loop, &r->tcp) != 0) {
    report(r, false, 0, "tcp: no socket", NULL);
    return;
  }
  r->tcp.data = r;
  r->tcp_open = true;
  r->owner->open_handles++;
  r->conn.data = r;
  int rc = uv_tcp_connect(&r->conn, &r->tcp, sa, on_connect);
  if (rc) {
    tcp_finish(r, rc);
    return;
  }
  uv_timer_start(&r->deadline, on_deadline, (uint64_t)r->cfg->timeout_ms, 0);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
  struct check_run *r = req->data;
  r->resolving = false;
  if (status == UV_EAI_CANCELED || r->owner->halted) {
    uv_freeaddrinfo(res);
    return;
  }
  if (status != 0 || !res) {
    char detail[STATUS_DETAIL_MAX];
    snprintf(detail, sizeof(detail), "resolve: %s", uv_strerror(status));
    uv_freeaddrinfo(res);
    double ms = (double)(clock_mono_us() - r->started_us) / 1000.0;
    report(r, false, ms, detail, NULL);
    return;
  }
  tcp_connect(r, res->ai_addr);
  uv_freeaddrinfo(res);
}

static void run_tcp(struct check_run *r)
{
  char host[256];
  snprintf(host, sizeof(host), "%s", r->cfg->tcp);
  char *colon = strrchr(host, ':');
  *colon = '\0';
  const char *port_text = colon + 1; /* checked by the config loader: 1-65535 */
  int port = (int)strtol(port_text, NULL, 10);
  if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') { /* [::1]:5432 */
    memmove(host, host + 1, strlen(host));
    host[strlen(host) - 1] = '\0';
  }
  struct sockaddr_storage sa;
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)&sa) == 0 ||
      uv_ip6_addr(host, port, (struct sockaddr_in6 *)&sa) == 0) {
    tcp_connect(r, (struct sockaddr *)&sa);
    return;
  }
  /* A host name: getaddrinfo on libuv's thread pool, never on the loop. */
  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  r->resolve.data = r;
  if (uv_getaddrinfo(r->owner->env->loop, &r->resolve, on_resolved, host, port_text, &hints) != 0) {
    report(r, false, 0, "resolve: could not start", NULL);
    return;
  }
  r->resolving = true;
}

static void on_tick(uv_timer_t *t)
{
  struct check_run *r = t->data;
  if (r->busy || r->owner->halted)
    return; /* the last run is still going: never two at once */
  r->busy = true;
  r->started_us = clock_mono_us();
  if (r->cfg->tcp) {
    run_tcp(r);
    return;
  }
  struct http_request hr = {
      .method = "GET",
      .url = r->cfg->http,
      .timeout_ms = (long)r->cfg->timeout_ms,
      .connect_timeout_ms = (long)r->cfg->timeout_ms,
      .max_response = (size_t)256 * 1024,
      .want_cert = r->cfg->tls_expiry_ms > 0 && strncmp(r->cfg->http, "https:", 6) == 0};
  if (http_client_send(r->owner->env->http, &hr, on_http, r) != 0)
    report(r, false, 0, "the HTTP client refused the request", NULL);
}

/* ---- the module ----------------------------------------------------------------------------- */

int status_http_init(const struct module_env *env, void **state)
{
  struct status_http *s = calloc(1, sizeof(*s));
  if (!s)
    return KX_ENOMEM;
  s->env = env;
  *state = s;
  metrics_describe("klaxon_checks_total", METRIC_COUNTER, "Synthetic check results by outcome");
  if (!env->httpd)
    return 0;
  struct httpd_route page = {
      .method = "GET", .path = "/status", .fn = on_status, .arg = (void *)env};
  struct httpd_route api = {
      .method = "GET", .path = "/status/", .fn = on_status, .arg = (void *)env};
  struct httpd_route beat = {.method = "POST",
                             .path = "/heartbeat/",
                             .max_body = HEARTBEAT_MAX_BODY,
                             .fn = on_heartbeat,
                             .arg = (void *)env,
                             .allow = heartbeat_allow};
  struct httpd_route subscribe = {.method = "POST",
                                  .path = "/status/subscribe",
                                  .max_body = STATUS_SUBSCRIBE_MAX_BODY,
                                  .fn = status_on_subscribe,
                                  .arg = (void *)env};
  struct httpd_route unsub = {.method = "POST",
                              .path = "/status/unsubscribe",
                              .max_body = STATUS_SUBSCRIBE_MAX_BODY,
                              .fn = on_status,
                              .arg = (void *)env};
  int rc = httpd_route(env->httpd, &page);
  if (rc == 0)
    rc = httpd_route(env->httpd, &subscribe);
  if (rc == 0)
    rc = httpd_route(env->httpd, &unsub);
  if (rc == 0)
    rc = httpd_route(env->httpd, &api);
  return rc ? rc : httpd_route(env->httpd, &beat);
}

int status_http_start(void *state)
{
  struct status_http *s = state;
  const struct config *c = s ? s->env->config : NULL;
  if (!c || c->n_checks == 0)
    return 0;
  if (!(s->runs = calloc(c->n_checks, sizeof(*s->runs))) || !(s->pending = cJSON_CreateArray()))
    return KX_ENOMEM;
  uv_timer_init(s->env->loop, &s->flush);
  s->flush.data = s;
  s->flush_open = true;
  uv_timer_start(&s->flush, on_flush, STATUS_FLUSH_MS, STATUS_FLUSH_MS);
  s->n = c->n_checks;
  for (size_t i = 0; i < s->n; i++) {
    struct check_run *r = &s->runs[i];
    r->owner = s;
    r->cfg = &c->checks[i];
    uv_timer_init(s->env->loop, &r->timer);
    uv_timer_init(s->env->loop, &r->deadline);
    r->timer.data = r->deadline.data = r;
    s->open_handles += 2;
    /* The interval follows the bot's clock (KLAXON_TIME_SCALE); timeouts are real time. */
    uint64_t every = clock_real_delay_ms(r->cfg->every_ms);
    uv_timer_start(&r->timer, on_tick, 10 + (uint64_t)i * 7 % (every ? every : 1),
                   every ? every : 1);
  }
  LOG_INFO("status", "checks_started", "checks=%zu heartbeats=%zu", c->n_checks, c->n_heartbeats);
  return 0;
}

static void closed(uv_handle_t *h)
{
  struct check_run *r = h->data;
  r->owner->open_handles--;
}

void status_http_halt(void *state)
{
  struct status_http *s = state;
  if (!s)
    return;
  s->halted = true;
  if (s->flush_open)
    uv_close((uv_handle_t *)&s->flush, NULL);
  for (size_t i = 0; i < s->n; i++) {
    struct check_run *r = &s->runs[i];
    uv_close((uv_handle_t *)&r->timer, closed);
    uv_close((uv_handle_t *)&r->deadline, closed);
    if (r->tcp_open && !uv_is_closing((uv_handle_t *)&r->tcp))
      uv_close((uv_handle_t *)&r->tcp, tcp_closed);
    /* A name still being resolved is left to finish: uv_run waits for it, and on_resolved
     * sees the module halted and drops the answer. */
  }
}

void status_http_close(void *state)
{
  struct status_http *s = state;
  if (!s)
    return;
  if (s->open_handles)
    LOG_WARN("status", "handles_open", "n=%d", s->open_handles);
  free(s->runs);
  cJSON_Delete(s->pending);
  free(s);
}
