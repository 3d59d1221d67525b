#include "teams.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../commands/msg.h"
#include "../commands/people.h"
#include "../commands/render_teams.h"
#include "../lib/kx.h"
#include "../lib/log.h"
#include "../lib/metrics.h"
#include "../storage/outbox.h"
#include "../storage/teams_store.h"
#include "app.h"
#include "clock.h"
#include "teams_activity.h"
#include "teams_auth.h"
#include "teams_connector.h"
#include "teams_request.h"

/* A request held while the signing keys are fetched. */
struct held {
  struct httpd_pending *later;
  struct teams_activity *act;
  char *authorization;
  char *body;
  size_t body_len;
  struct held *next;
};

struct teams {
  struct app *a;
  const struct teams_config *cfg;
  struct teams_jwks *jwks;
  bool keys_fetching;
  struct held *held;
  size_t n_held;
  struct teams_connector *conn;
  bool routes_done;
  bool sender_done;
};

static struct teams *teams_of(struct app *a)
{
  return a->teams;
}

static void count(const char *type, const char *result)
{
  char labels[128];
  snprintf(labels, sizeof(labels), "type=\"%.30s\",result=\"%.30s\"", type, result);
  metrics_inc("klaxon_teams_activities_total", labels, 1);
}

/* ---- remembering what a verified activity tells ------------------------------------------------
 */

static const char *tenant_of(const struct teams_activity *act)
{
  return act->conversation.tenant_id ? act->conversation.tenant_id : act->channel_data.tenant_id;
}

/* membersAdded carry the aadObjectId of each user: the roster, for mentions. */
static void remember_members(
    struct db *db, const char *body, size_t len, const char *tenant, int64_t now)
{
  cJSON *root = cJSON_ParseWithLength(body, len);
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "membersAdded");
  const cJSON *m;
  int n = 0;
  cJSON_ArrayForEach (m, list) {
    if (n++ == 1000)
      break;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
    const cJSON *aad = cJSON_GetObjectItemCaseSensitive(m, "aadObjectId");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
    if (cJSON_IsString(id) && cJSON_IsString(aad) && strlen(id->valuestring) < TEAMS_FIELD_MAX &&
        strlen(aad->valuestring) < TEAMS_FIELD_MAX)
      teams_store_set_user(db, id->valuestring, aad->valuestring,
                           cJSON_IsString(name) ? name->valuestring : NULL, tenant, now);
  }
  cJSON_Delete(root);
}

static int remember(struct teams *t, const struct teams_activity *act, const char *body, size_t len)
{
  struct db *db = t->a->db;
  int64_t now = clock_now_ms();
  const char *tenant = tenant_of(act);
  int rc = db_begin(db);
  if (rc)
    return rc;
  if (tenant && act->service_url && teams_service_url_ok(act->service_url))
    rc = teams_store_set_service_url(db, tenant, act->service_url, now);
  const struct teams_channel_data *cd = &act->channel_data;
  int installed = -1;
  if (act->type == TEAMS_ACTIVITY_INSTALLATION_UPDATE && act->action)
    installed = strncmp(act->action, "remove", 6) == 0 ? 0 : 1;
  if (act->bot_added)
    installed = 1;
  if (rc == 0 && act->conversation.base_id) {
    struct teams_store_conversation c = {
        .id = act->conversation.base_id,
        .tenant_id = tenant,
        .team_id = cd->team_id,
        .team_name = cd->team_name,
        .name = cd->channel_id && strcmp(cd->channel_id, act->conversation.base_id) == 0
                    ? cd->channel_name
                    : NULL,
        .type = act->conversation.conversation_type,
        .installed = installed,
    };
    rc = teams_store_set_conversation(db, &c, now);
  }
  /* A channel created (or renamed) in a team the bot is in: its id and name. */
  if (rc == 0 && cd->channel_id && cd->team_id &&
      (!act->conversation.base_id || strcmp(cd->channel_id, act->conversation.base_id) != 0)) {
    struct teams_store_conversation c = {
        .id = cd->channel_id,
        .tenant_id = tenant,
        .team_id = cd->team_id,
        .team_name = cd->team_name,
        .name = cd->channel_name,
        .type = "channel",
        .installed = -1,
    };
    rc = teams_store_set_conversation(db, &c, now);
  }
  if (rc == 0 && (act->bot_removed || installed == 0) && cd->team_id)
    rc = teams_store_team_removed(db, cd->team_id, now);
  if (rc == 0 && act->from.id && act->from.aad_object_id)
    rc = teams_store_set_user(db, act->from.id, act->from.aad_object_id, act->from.name, tenant,
                              now);
  if (rc == 0 && act->n_members_added)
    remember_members(db, body, len, tenant, now);
  if (rc == 0)
    rc = db_commit(db);
  if (rc)
    db_rollback(db);
  return rc;
}

static char *aad_lookup(void *arg, const char *user_id)
{
  struct teams *t = arg;
  return teams_store_user_aad(t->a->db, user_id);
}

/* ---- replies ------------------------------------------------------------------------------------
 */

static char *reply_markdown(struct teams *t, const char *markup)
{
  struct cmd_people pp;
  cmd_people_open(&pp, &t->a->ctx);
  char *md = render_teams_markdown(markup ? markup : "", &pp.rp);
  cmd_people_close(&pp);
  return md;
}

static char *reply_plain(struct teams *t, const char *markup)
{
  struct cmd_people pp;
  cmd_people_open(&pp, &t->a->ctx);
  char *s = md_to_plain(markup ? markup : "", pp.rp.name, pp.rp.arg);
  cmd_people_close(&pp);
  return s;
}

/* The reply as an activity into the conversation, through the outbox (retried like any post). */
static int post_reply(struct teams *t,
                      const char *conversation,
                      const char *reply_to,
                      const struct cmd_reply *reply)
{
  if (reply->text.len == 0 && !reply->card)
    return 0;
  char *md = reply_markdown(t, reply->text.data);
  cJSON *row =
      teams_reply_row(conversation, reply_to, teams_reply_activity(md, reply->card, reply_to));
  free(md);
  char *body = row ? cJSON_PrintUnformatted(row) : NULL;
  cJSON_Delete(row);
  if (!body)
    return KX_ENOMEM;
  char queue[512];
  snprintf(queue, sizeof(queue), "%.*s", (int)strcspn(conversation, ";"), conversation);
  struct outbox_new o = {
      .platform = "teams",
      .method = "teams.reply",
      .queue = queue,
      .body = body,
      .priority = OUTBOX_URGENT,
      .now_ms = clock_now_ms(),
  };
  struct db *db = t->a->db;
  int rc = db_begin(db);
  if (rc == 0)
    rc = outbox_add(db, &o, NULL);
  if (rc == 0)
    rc = db_commit(db);
  if (rc)
    db_rollback(db);
  free(body);
  if (rc == 0 && t->a->sender)
    sender_kick(t->a->sender);
  return rc;
}

static void help_reply(struct cmd_reply *reply)
{
  cmd_reply_printf(reply,
                   "Write `@klaxon incident …` or `@klaxon oncall …` (in a personal chat "
                   "without the mention).\n");
  cmd_help("incident", reply);
  cmd_help("oncall", reply);
}

/* ---- one verified activity ----------------------------------------------------------------------
 */

/* Fill resp for a verified activity: remember it, dispatch it, answer. */
static void process(struct teams *t,
                    struct teams_activity *act,
                    const char *body,
                    size_t len,
                    struct httpd_response *resp)
{
  const char *type = act->type_name ? act->type_name : "-";
  const char *tenant = tenant_of(act);
  if (t->cfg->tenant_id && tenant && strcmp(tenant, t->cfg->tenant_id) != 0) {
    LOG_WARN("teams", "tenant_refused", "tenant=%s", tenant);
    count(type, "tenant_refused");
    httpd_error(resp, 403, "this bot serves another tenant");
    return;
  }
  if (remember(t, act, body, len) != 0) {
    count(type, "storage_error");
    httpd_error(resp, 503, "storage unavailable, try again");
    return;
  }
  struct cmd_request req;
  struct teams_req_strings strs;
  enum teams_route route = teams_request_build(act, clock_now_ms(), aad_lookup, t, &req, &strs);
  bool invoke = act->type == TEAMS_ACTIVITY_INVOKE;
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  const char *result = "ignored";
  int rc = 0;
  if (route == TEAMS_ROUTE_EVENT) {
    result = "event";
    if (act->bot_added || (act->action && strcmp(act->action, "add") == 0))
      LOG_INFO("teams", "installed", "team=%s conversation=%s",
               act->channel_data.team_id ? act->channel_data.team_id : "-",
               act->conversation.base_id ? act->conversation.base_id : "-");
  } else if (route == TEAMS_ROUTE_HELP) {
    result = "help";
    help_reply(&reply);
  } else if (route == TEAMS_ROUTE_DISPATCH) {
    rc = app_dispatch(t->a, &req, &reply);
    result = rc == KX_EEXISTS ? "redelivery" : rc ? "failed" : "ok";
    if (rc == KX_EEXISTS)
      buf_reset(&reply.text);
  }
  count(type, result);
  LOG_DEBUG("teams", "activity", "type=%s kind=%s result=%s", type,
            teams_activity_kind_name(act->kind), result);
  if (invoke && act->kind == TEAMS_KIND_CARD_ACTION) {
    /* Action.Execute: the answer is the HTTP response itself. */
    char *plain = reply_plain(
        t, reply.text.len ? reply.text.data : (rc == KX_EEXISTS ? "Already done." : "Done."));
    char *json = teams_invoke_response(plain);
    httpd_json(resp, 200, json ? json : "{\"statusCode\":200}");
    free(json);
    free(plain);
  } else {
    const char *to = req.reply_to_id ? req.reply_to_id : act->id;
    if (act->conversation.id && (route == TEAMS_ROUTE_HELP || route == TEAMS_ROUTE_DISPATCH) &&
        post_reply(t, act->conversation.id, to, &reply) != 0)
      LOG_ERROR("teams", "reply_not_queued", "conversation=%s", act->conversation.base_id);
    httpd_json(resp, 200, invoke ? "{\"statusCode\":200}" : "{}");
  }
  cmd_reply_free(&reply);
  teams_req_strings_free(&strs);
}

/* ---- keys --------------------------------------------------------------------------------------
 */

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
  return teams_auth_verify(t->jwks, authz, &expect, clock_now_ms(), res);
}

static void refuse(struct httpd_response *resp, const struct teams_auth_result *res, int rc)
{
  LOG_WARN("teams", "auth_refused", "reason=\"%s\" kid=%s err=%s", res->reason ? res->reason : "-",
           res->kid[0] ? res->kid : "-", kx_err_name(rc));
  count("-", "auth_refused");
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
    if (teams_jwks_loaded_at(t->jwks) < 0 || t->a->stopping) {
      count("-", "keys_unavailable");
      httpd_error(resp, 503, "signing keys unavailable, try again");
    } else {
      int rc = verify(t, h->act, h->authorization, &res);
      if (rc)
        refuse(resp, &res, rc);
      else
        process(t, h->act, h->body, h->body_len, resp);
    }
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
  int rc = teams_jwks_load(t->jwks, r->body, r->body_len, clock_now_ms());
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
  if (cJSON_IsString(uri) && teams_service_url_ok(uri->valuestring) && !t->a->stopping) {
    struct http_request req = {
        .method = "GET",
        .url = uri->valuestring,
        .timeout_ms = TEAMS_KEYS_FETCH_TIMEOUT_MS,
        .max_response = TEAMS_JWKS_MAX_BYTES,
    };
    rc = http_client_send(t->a->http, &req, on_jwks, t);
  }
  cJSON_Delete(j);
  if (rc)
    keys_done(t, "no usable jwks_uri in the OpenID metadata");
}

static void keys_fetch(struct teams *t)
{
  if (t->keys_fetching || !t->a->http || t->a->stopping)
    return;
  teams_jwks_fetch_started(t->jwks, clock_now_ms());
  struct http_request req = {
      .method = "GET",
      .url = t->cfg->openid_metadata_url,
      .timeout_ms = TEAMS_KEYS_FETCH_TIMEOUT_MS,
      .max_response = 64 * 1024,
  };
  if (http_client_send(t->a->http, &req, on_openid, t) == 0) {
    t->keys_fetching = true;
  } else {
    LOG_WARN("teams", "keys_fetch_failed", "reason=\"not started\"");
  }
}

/* ---- POST /teams/messages ----------------------------------------------------------------------
 */

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
    count("-", "malformed");
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
  int64_t now = clock_now_ms();
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
    count("-", "keys_unavailable");
    httpd_error(resp, 503, "signing keys unavailable, try again");
  } else if (rc) {
    if (!res.reason)
      res.reason = "unknown kid";
    refuse(resp, &res, rc);
  } else {
    process(t, act, req->body, req->body_len, resp);
    /* Keys older than a day are refreshed in the background. */
    if (teams_jwks_refresh_due(t->jwks, now, 0) == 1)
      keys_fetch(t);
  }
  teams_activity_free(act);
  return HTTPD_DONE;
}

/* ---- POST /teams/webhook ----------------------------------------------------------------------
 */

static int on_webhook(void *arg,
                      const struct httpd_request *req,
                      struct httpd_response *resp,
                      struct httpd_pending *later)
{
  (void)later;
  struct teams *t = arg;
  const char *env = t->cfg->outgoing_webhook_secret_env;
  const char *secret = env ? getenv(env) : NULL;
  int rc = secret && *secret
               ? teams_hmac_verify(req->authorization, req->body, req->body_len, secret)
               : KX_ECONFIG;
  if (rc) {
    LOG_WARN("teams", "webhook_refused", "err=%s", kx_err_name(rc));
    count("webhook", "auth_refused");
    httpd_error(resp, 401, "unauthorized");
    return HTTPD_DONE;
  }
  struct teams_activity *act = NULL;
  rc = teams_activity_parse(req->body, req->body_len, &act);
  if (rc) {
    count("webhook", "malformed");
    httpd_error(resp, 400, "not a Teams message");
    return HTTPD_DONE;
  }
  const char *tenant = tenant_of(act);
  if (t->cfg->tenant_id && tenant && strcmp(tenant, t->cfg->tenant_id) != 0) {
    count("webhook", "tenant_refused");
    httpd_error(resp, 403, "this bot serves another tenant");
    teams_activity_free(act);
    return HTTPD_DONE;
  }
  /* Every Outgoing Webhook message is addressed to the webhook: its mention leads the text. */
  teams_webhook_addressed(act);
  struct cmd_request creq;
  struct teams_req_strings strs;
  enum teams_route route = teams_request_build(act, clock_now_ms(), aad_lookup, t, &creq, &strs);
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  const char *result = "ignored";
  if (route == TEAMS_ROUTE_DISPATCH && creq.kind == CMD_KIND_COMMAND) {
    rc = app_dispatch(t->a, &creq, &reply);
    result = rc == KX_EEXISTS ? "redelivery" : rc ? "failed" : "ok";
  } else {
    result = "help";
    help_reply(&reply);
  }
  count("webhook", result);
  char *md = reply_markdown(t, reply.text.len ? reply.text.data : "Done.");
  cJSON *out = teams_reply_activity(md, reply.card, NULL);
  char *json = out ? cJSON_PrintUnformatted(out) : NULL;
  httpd_json(resp, json ? 200 : 500, json ? json : "{\"error\":\"out of memory\"}");
  free(json);
  cJSON_Delete(out);
  free(md);
  cmd_reply_free(&reply);
  teams_req_strings_free(&strs);
  teams_activity_free(act);
  return HTTPD_DONE;
}

/* ---- the module ---------------------------------------------------------------------------------
 */

static int teams_create(struct app *a)
{
  if (a->teams)
    return 0;
  const struct teams_config *cfg = &a->config->teams;
  struct teams *t = calloc(1, sizeof(*t));
  if (!t)
    return KX_ENOMEM;
  t->a = a;
  t->cfg = cfg;
  t->jwks = teams_jwks_new();
  if (!t->jwks) {
    free(t);
    return KX_ENOMEM;
  }
  metrics_describe("klaxon_teams_activities_total", METRIC_COUNTER,
                   "Teams activities and Outgoing Webhook requests received, by type and result");
  a->teams = t;
  return 0;
}

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

int teams_init(struct app *a)
{
  const struct teams_config *cfg = &a->config->teams;
  if (!cfg->enabled)
    return 0;
  int rc = teams_create(a);
  if (rc)
    return rc;
  struct teams *t = teams_of(a);
  if (cfg->app_id) {
    struct httpd_route r = {"POST", "/teams/messages", TEAMS_ACTIVITY_MAX_BYTES, on_messages, t};
    rc = httpd_route(a->httpd, &r);
  }
  if (rc == 0 && cfg->outgoing_webhook_secret_env) {
    rc = env_required("teams.outgoing_webhook_secret_env", cfg->outgoing_webhook_secret_env);
    struct httpd_route r = {"POST", "/teams/webhook", TEAMS_HMAC_BODY_MAX, on_webhook, t};
    if (rc == 0)
      rc = httpd_route(a->httpd, &r);
  }
  t->routes_done = rc == 0;
  return rc;
}

int teams_start(struct app *a)
{
  const struct teams_config *cfg = &a->config->teams;
  if (!cfg->enabled)
    return 0;
  int rc = teams_create(a);
  if (rc)
    return rc;
  struct teams *t = teams_of(a);
  const char *password = NULL;
  const char *workflow = NULL;
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
    if (strncmp(workflow, "https://", 8) != 0 && strncmp(workflow, "http://", 7) != 0) {
      fprintf(stderr, "klaxon: %s does not hold an http(s) URL\n", cfg->workflow_webhook_url_env);
      return KX_ECONFIG;
    }
  }
  if (!password && !workflow)
    return 0;
  t->conn = teams_connector_new(a->http, a->db, cfg, password, workflow, clock_now_ms);
  if (!t->conn)
    return KX_ENOMEM;
  rc = sender_register(a->sender, "teams", teams_connector_send, t->conn);
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

void teams_close(struct app *a)
{
  struct teams *t = teams_of(a);
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
  a->teams = NULL;
}
