#include "bot/teams/teams.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/modules.h"
#include "bot/teams/teams_activity.h"
#include "bot/teams/teams_auth.h"
#include "bot/teams/teams_connector.h"
#include "bot/teams/teams_internal.h"
#include "bot/teams/teams_request.h"
#include "commands/core/msg.h"
#include "commands/core/people.h"
#include "commands/core/render_teams.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "storage/outbox.h"
#include "storage/teams_store.h"

/* A request held while the signing keys are fetched. */
struct held {
  struct httpd_pending *later;
  struct teams_activity *act;
  char *authorization;
  char *body;
  size_t body_len;
  struct held *next;
};

/* ---- keys ------------------------------------------------------------------------------------ */

static int verify(struct teams *t,
                  const struct teams_activity *act,
                  const char *authz,
                  struct teams_auth_result *res)
{
  struct teams_auth_expect expect = {
      .app_id = t->cfg->app_id,
      .service_url = act->service_url,
      .channel_id = act->channel_id,
      .skew_ms = -1,
  };
  if (!act->service_url) {
    res->reason = "no serviceUrl";
    res->kid[0] = '\0';
    return KX_EAUTH;
  }
  return teams_auth_verify(t->jwks, authz, &expect, teams_auth_now_ms(), res);
}

static void refuse(struct httpd_response *resp, const struct teams_auth_result *res, int rc)
{
  LOG_WARN("teams", "auth_refused", "reason=\"%s\" kid=%s err=%s", res->reason ? res->reason : "-",
           res->kid[0] ? res->kid : "-", kx_err_name(rc));
  teams__count("-", "auth_refused");
  httpd_error(resp, 401, "unauthorized");
  httpd_add_header(resp, "WWW-Authenticate", "Bearer");
}

static void held_free(struct held *h)
{
  teams_activity_free(h->act);
  if (h->authorization)
    explicit_bzero(h->authorization, strlen(h->authorization));
  free(h->authorization);
  free(h->body);
  free(h);
}

/* The keys are in (or the fetch failed): answer every held request. */
static void release_held(struct teams *t)
{
  struct held *list = t->held;
  t->held = NULL;
  t->n_held = 0;
  while (list) {
    struct held *h = list;
    list = h->next;
    struct httpd_response *resp = httpd_pending_response(h->later);
    struct teams_auth_result res = {0};
    int done = HTTPD_DONE;
    if (teams_jwks_loaded_at(t->jwks) < 0 || app_stopping(t->env->app)) {
      teams__count("-", "keys_unavailable");
      httpd_error(resp, 503, "signing keys unavailable, try again");
    } else {
      int rc = verify(t, h->act, h->authorization, &res);
      if (rc)
        refuse(resp, &res, rc);
      else
        done = teams__serve(t, h->act, h->body, h->body_len, resp, h->later);
    }
    if (done == HTTPD_LATER)
      h->act = NULL; /* the lookup answers it */
    else
      httpd_finish(h->later, resp);
    held_free(h);
  }
}

static void keys_done(struct teams *t, const char *failure)
{
  t->keys_fetching = false;
  if (failure)
    LOG_WARN("teams", "keys_fetch_failed", "reason=\"%s\"", failure);
  release_held(t);
}

static void on_jwks(void *arg, const struct http_response *r)
{
  struct teams *t = arg;
  if (r->err || r->status != 200) {
    keys_done(t, r->err ? kx_err_name(r->err) : "jwks status not 200");
    return;
  }
  int rc = teams_jwks_load(t->jwks, r->body, r->body_len, teams_auth_now_ms());
  if (rc == 0)
    LOG_INFO("teams", "keys_loaded", "keys=%zu", teams_jwks_count(t->jwks));
  keys_done(t, rc ? "jwks not usable" : NULL);
}

static void on_openid(void *arg, const struct http_response *r)
{
  struct teams *t = arg;
  if (r->err || r->status != 200) {
    keys_done(t, r->err ? kx_err_name(r->err) : "openid metadata status not 200");
    return;
  }
  cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
  const cJSON *uri = cJSON_GetObjectItemCaseSensitive(j, "jwks_uri");
  int rc = KX_EPROTO;
  if (cJSON_IsString(uri) && teams_service_url_ok(uri->valuestring) && !app_stopping(t->env->app)) {
    struct http_request req = {
        .method = "GET",
        .url = uri->valuestring,
        .timeout_ms = TEAMS_KEYS_FETCH_TIMEOUT_MS,
        .max_response = TEAMS_JWKS_MAX_BYTES,
    };
    rc = http_client_send(t->env->http, &req, on_jwks, t);
  }
  cJSON_Delete(j);
  if (rc)
    keys_done(t, "no usable jwks_uri in the OpenID metadata");
}

static void keys_fetch(struct teams *t)
{
  if (t->keys_fetching || !t->env->http || app_stopping(t->env->app))
    return;
  teams_jwks_fetch_started(t->jwks, teams_auth_now_ms());
  struct http_request req = {
      .method = "GET",
      .url = t->cfg->openid_metadata_url,
      .timeout_ms = TEAMS_KEYS_FETCH_TIMEOUT_MS,
      .max_response = (size_t)64 * 1024,
  };
  if (http_client_send(t->env->http, &req, on_openid, t) == 0) {
    t->keys_fetching = true;
  } else {
    LOG_WARN("teams", "keys_fetch_failed", "reason=\"not started\"");
  }
}

/* ---- POST /teams/messages -------------------------------------------------------------------- */

static int hold(struct teams *t,
                const struct httpd_request *req,
                struct teams_activity *act,
                struct httpd_pending *later)
{
  if (t->n_held >= TEAMS_HELD_MAX)
    return KX_EBUSY;
  struct held *h = calloc(1, sizeof(*h));
  if (!h)
    return KX_ENOMEM;
  h->later = later;
  h->act = act;
  h->authorization = kx_strdup(req->authorization);
  h->body = kx_strndup(req->body, req->body_len);
  h->body_len = req->body_len;
  if (!h->authorization || !h->body) {
    h->act = NULL;
    held_free(h);
    return KX_ENOMEM;
  }
  struct held **tail = &t->held;
  while (*tail)
    tail = &(*tail)->next;
  *tail = h;
  t->n_held++;
  return 0;
}

static int on_messages(void *arg,
                       const struct httpd_request *req,
                       struct httpd_response *resp,
                       struct httpd_pending *later)
{
  struct teams *t = arg;
  struct teams_activity *act = NULL;
  int rc = teams_activity_parse(req->body, req->body_len, &act);
  if (rc) {
    teams__count("-", "malformed");
    LOG_WARN("teams", "activity_malformed", "err=%s bytes=%zu", kx_err_name(rc), req->body_len);
    httpd_error(resp, rc == KX_ETOOBIG ? 413 : 400, "not a Bot Framework activity");
    return HTTPD_DONE;
  }
  struct teams_auth_result res = {0};
  if (!req->authorization) {
    res.reason = "no Authorization header";
    refuse(resp, &res, KX_EAUTH);
    teams_activity_free(act);
    return HTTPD_DONE;
  }
  int64_t now = teams_auth_now_ms();
  bool never = teams_jwks_loaded_at(t->jwks) < 0;
  rc = never ? KX_ENOTFOUND : verify(t, act, req->authorization, &res);
  if (rc == KX_ENOTFOUND && teams_jwks_refresh_due(t->jwks, now, 1) == 1) {
    /* Unknown kid (keys rotated) or no keys yet: fetch them, answer when they are in. */
    keys_fetch(t);
  }
  /* Held while a fetch (this one or one already running) brings the keys. */
  if (rc == KX_ENOTFOUND && t->keys_fetching && hold(t, req, act, later) == 0)
    return HTTPD_LATER;
  if (never && rc == KX_ENOTFOUND) {
    teams__count("-", "keys_unavailable");
    httpd_error(resp, 503, "signing keys unavailable, try again");
  } else if (rc) {
    if (!res.reason)
      res.reason = "unknown kid";
    refuse(resp, &res, rc);
  } else {
    /* Keys older than a day are refreshed in the background. */
    if (teams_jwks_refresh_due(t->jwks, now, 0) == 1)
      keys_fetch(t);
    if (teams__serve(t, act, req->body, req->body_len, resp, later) == HTTPD_LATER)
      return HTTPD_LATER;
  }
  teams_activity_free(act);
  return HTTPD_DONE;
}

/* ---- the module ------------------------------------------------------------------------------ */

static int env_required(const char *key, const char *env)
{
  const char *v = env ? getenv(env) : NULL;
  if (v && *v)
    return 0;
  fprintf(stderr, "klaxon: %s names the environment variable %s, which is not set\n", key,
          env ? env : "?");
  LOG_ERROR("teams", "env_missing", "key=%s env=%s", key, env ? env : "-");
  return KX_ECONFIG;
}

/* On the headers, before any body is read: a request without the scheme of its route's
 * credential is refused at once (the credential itself is checked with the body, which the
 * JWT's serviceurl claim and the HMAC both cover). */
static bool allow_bearer(void *arg, const struct httpd_request *req)
{
  (void)arg;
  return req->authorization && strncmp(req->authorization, "Bearer ", 7) == 0 &&
         req->authorization[7] != '\0';
}

static bool allow_hmac(void *arg, const struct httpd_request *req)
{
  (void)arg;
  return req->authorization && strncmp(req->authorization, "HMAC ", 5) == 0 &&
         req->authorization[5] != '\0';
}

static int routes(struct teams *t)
{
  const struct teams_config *cfg = t->cfg;
  int rc = 0;
  if (!t->env->httpd)
    return 0;
  if (cfg->app_id) {
    struct httpd_route r = {.method = "POST",
                            .path = "/teams/messages",
                            .max_body = TEAMS_ACTIVITY_MAX_BYTES,
                            .fn = on_messages,
                            .arg = t,
                            .allow = allow_bearer};
    rc = httpd_route(t->env->httpd, &r);
  }
  if (rc == 0 && cfg->outgoing_webhook_secret_env) {
    rc = env_required("teams.outgoing_webhook_secret_env", cfg->outgoing_webhook_secret_env);
    struct httpd_route r = {.method = "POST",
                            .path = "/teams/webhook",
                            .max_body = TEAMS_HMAC_BODY_MAX,
                            .fn = teams__on_webhook,
                            .arg = t,
                            .allow = allow_hmac};
    if (rc == 0)
      rc = httpd_route(t->env->httpd, &r);
  }
  t->routes_done = rc == 0;
  return rc;
}

int teams_init(const struct module_env *env, void **state)
{
  const struct teams_config *cfg = &env->config->teams;
  if (!cfg->enabled)
    return 0;
  struct teams *t = calloc(1, sizeof(*t));
  if (!t)
    return KX_ENOMEM;
  t->env = env;
  t->cfg = cfg;
  *state = t;
  t->jwks = teams_jwks_new();
  if (!t->jwks)
    return KX_ENOMEM;
  metrics_describe("klaxon_teams_activities_total", METRIC_COUNTER,
                   "Teams activities and Outgoing Webhook requests received, by type and result");
  return routes(t);
}

int teams_start(void *state)
{
  struct teams *t = state;
  const struct teams_config *cfg = t->cfg;
  const char *password = NULL;
  const char *workflow = NULL;
  int rc;
  if (cfg->app_id) {
    rc = env_required("teams.app_password_env", cfg->app_password_env);
    if (rc)
      return rc;
    password = getenv(cfg->app_password_env);
  }
  if (cfg->workflow_webhook_url_env) {
    rc = env_required("teams.workflow_webhook_url_env", cfg->workflow_webhook_url_env);
    if (rc)
      return rc;
    workflow = getenv(cfg->workflow_webhook_url_env);
    /* The URL carries its own credential (sig=…) in the query: never logged. */
    if (!workflow ||
        (strncmp(workflow, "https://", 8) != 0 && strncmp(workflow, "http://", 7) != 0)) {
      fprintf(stderr, "klaxon: %s does not hold an http(s) URL\n", cfg->workflow_webhook_url_env);
      return KX_ECONFIG;
    }
  }
  if (!password && !workflow)
    return 0;
  t->conn = teams_connector_new(t->env->http, t->env->db, cfg, password, workflow, clock_now_ms);
  if (!t->conn)
    return KX_ENOMEM;
  rc = sender_register(t->env->sender, "teams", teams_connector_send, t->conn);
  if (rc)
    return rc;
  t->sender_done = true;
  /* The first activity should not wait for the keys: fetch them now. */
  if (cfg->app_id && t->routes_done)
    keys_fetch(t);
  LOG_INFO("teams", "enabled", "bot=%s webhook=%s workflows=%s", cfg->app_id ? "yes" : "no",
           cfg->outgoing_webhook_secret_env ? "yes" : "no", workflow ? "yes" : "no");
  return 0;
}

void teams_close(void *state)
{
  struct teams *t = state;
  if (!t)
    return;
  if (t->held)
    LOG_WARN("teams", "held_at_close", "n=%zu", t->n_held);
  while (t->held) {
    struct held *h = t->held;
    t->held = h->next;
    held_free(h);
  }
  teams_connector_free(t->conn);
  teams_jwks_free(t->jwks);
  free(t);
}
