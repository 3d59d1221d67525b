#include "bot/teams/teams_connector.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/teams/teams_auth.h"
#include "lib/buf.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "storage/teams_store.h"

/* A row waiting for a token, or a call in flight. */
struct call {
  struct teams_connector *c;
  struct sender *s;
  sender_done_fn done;       /* an outbox row … */
  teams_member_cb member_cb; /* … or a roster lookup */
  void *member_arg;
  int64_t row_id;
  char *http_method;
  char *url;
  char *body;
  char *conversation; /* reply/update: where; for the result's "channel" */
  bool is_post;       /* teams.post: the answer names the new thread */
  bool needs_token;
  long timeout_ms; /* 0: TEAMS_CONNECTOR_TIMEOUT_MS */
  /* teams.dm goes in up to three steps: find the user (aad: only), open the 1:1 chat (unless
   * known), post into it. Each step's answer starts the next (dm_next). */
  int dm_stage;
  char *dm_user;      /* "29:…", once known */
  char *dm_aad;       /* the Entra object id to find */
  char *dm_tenant;    /* may be NULL */
  char *dm_service;   /* the serviceUrl */
  char *dm_activity;  /* the activity to post, JSON */
  unsigned token_gen; /* which token the call carried: a 401 drops only that one */
  struct call *next;
};

struct teams_connector {
  struct http_client *http;
  struct db *db;
  const struct teams_config *cfg;
  char *secret;
  char *workflow_url;
  int64_t (*now_ms)(void);
  char *token;
  int64_t token_valid_until; /* bot clock */
  unsigned token_gen;
  bool fetching;
  struct call *waiting;
  size_t n_waiting;
  uint64_t fetches;
};

/* ---- the connector --------------------------------------------------------------------------- */

struct teams_connector *teams_connector_new(struct http_client *http,
                                            struct db *db,
                                            const struct teams_config *cfg,
                                            const char *app_password,
                                            const char *workflow_url,
                                            int64_t (*now_ms)(void))
{
  struct teams_connector *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  c->http = http;
  c->db = db;
  c->cfg = cfg;
  c->now_ms = now_ms;
  c->secret = kx_strdup(app_password);
  c->workflow_url = kx_strdup(workflow_url);
  if ((app_password && !c->secret) || (workflow_url && !c->workflow_url)) {
    teams_connector_free(c);
    return NULL;
  }
  metrics_describe(
      "klaxon_teams_token_fetches_total", METRIC_COUNTER,
      "Access tokens fetched from the Teams token endpoint (cached until near expiry)");
  metrics_describe("klaxon_teams_connector_calls_total", METRIC_COUNTER,
                   "Calls to the Bot Connector and the Workflows webhook, by method and result");
  return c;
}

static void call_free(struct call *k)
{
  if (!k)
    return;
  free(k->http_method);
  free(k->url);
  free(k->body);
  free(k->conversation);
  free(k->dm_user);
  free(k->dm_aad);
  free(k->dm_tenant);
  free(k->dm_service);
  free(k->dm_activity);
  free(k);
}

void teams_connector_free(struct teams_connector *c)
{
  if (!c)
    return;
  while (c->waiting) {
    struct call *k = c->waiting;
    c->waiting = k->next;
    call_free(k);
  }
  if (c->secret)
    explicit_bzero(c->secret, strlen(c->secret));
  if (c->token)
    explicit_bzero(c->token, strlen(c->token));
  free(c->secret);
  free(c->token);
  free(c->workflow_url);
  free(c);
}

static bool token_fresh(const struct teams_connector *c)
{
  return c->token && teams_auth_now_ms() < c->token_valid_until;
}

static void count_call(const char *method, const char *result)
{
  char labels[160];
  snprintf(labels, sizeof(labels), "method=\"%s\",result=\"%.40s\"", method, result);
  metrics_inc("klaxon_teams_connector_calls_total", labels, 1);
}

/* The result also names the message as Slack's does ({"channel", "ts"}), so a hook written for
 * chat.postMessage can update or answer a Teams message through out_update(channel, ts):
 * a new thread's channel is its conversation id (";messageid=…") and ts the activity id. */
static void add_slack_names(const struct call *k, cJSON *json)
{
  if (!cJSON_IsObject(json))
    return;
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(json, "id");
  const cJSON *aid = cJSON_GetObjectItemCaseSensitive(json, "activityId");
  const char *channel =
      k->is_post ? (cJSON_IsString(id) ? id->valuestring : NULL) : k->conversation;
  const char *ts = k->is_post ? (cJSON_IsString(aid) ? aid->valuestring : NULL)
                              : (cJSON_IsString(id) ? id->valuestring : NULL);
  if (channel && ts && !cJSON_GetObjectItemCaseSensitive(json, "channel") &&
      !cJSON_GetObjectItemCaseSensitive(json, "ts")) {
    char *c = kx_strdup(channel), *t = kx_strdup(ts);
    if (c && t) {
      cJSON_AddStringToObject(json, "channel", c);
      cJSON_AddStringToObject(json, "ts", t);
    }
    free(c);
    free(t);
  }
}

static void member_done(struct call *k, const struct http_response *r, int err)
{
  cJSON *j = err == 0 ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
  const cJSON *aad = cJSON_GetObjectItemCaseSensitive(j, "aadObjectId");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
  if (err == 0 && !cJSON_IsString(aad))
    err = KX_EPROTO;
  if (err == KX_EPLATFORM && r->status == 404)
    err = KX_ENOTFOUND;
  k->member_cb(k->member_arg, err, err ? NULL : aad->valuestring,
               err == 0 && cJSON_IsString(name) ? name->valuestring : NULL);
  cJSON_Delete(j);
  call_free(k);
}

/* ---- teams.dm: the bot's 1:1 chat with a person ------------------------------------------ */

enum {
  DM_LOOKUP = 1, /* GET …/conversations/{team}/members/{aad}: the user's 29: id */
  DM_CREATE,     /* POST …/v3/conversations {isGroup:false, members:[{id}]}: the chat's id */
  DM_SEND        /* POST …/v3/conversations/{a:…}/activities */
};

static int call_go(struct teams_connector *c, struct call *k);

static void dm_stage_send(struct call *k, const char *personal)
{
  free(k->conversation);
  free(k->url);
  free(k->body);
  k->dm_stage = DM_SEND;
  k->conversation = kx_strdup(personal);
  k->url = teams_connector_url(k->dm_service, personal, NULL);
  k->body = kx_strdup(k->dm_activity);
}

static void dm_stage_create(struct teams_connector *c, struct call *k)
{
  free(k->url);
  free(k->body);
  k->dm_stage = DM_CREATE;
  k->url = teams_connector_url(k->dm_service, NULL, NULL);
  cJSON *b = cJSON_CreateObject();
  cJSON *bot = cJSON_AddObjectToObject(b, "bot");
  cJSON *members = cJSON_AddArrayToObject(b, "members");
  cJSON *m = cJSON_CreateObject();
  char bot_id[128];
  snprintf(bot_id, sizeof(bot_id), "28:%s", c->cfg->app_id ? c->cfg->app_id : "");
  if (bot)
    cJSON_AddStringToObject(bot, "id", bot_id);
  if (m)
    cJSON_AddStringToObject(m, "id", k->dm_user);
  if (members && m)
    cJSON_AddItemToArray(members, m);
  else
    cJSON_Delete(m);
  cJSON_AddBoolToObject(b, "isGroup", 0);
  if (k->dm_tenant) {
    cJSON *cd = cJSON_AddObjectToObject(b, "channelData");
    cJSON *t = cd ? cJSON_AddObjectToObject(cd, "tenant") : NULL;
    if (t)
      cJSON_AddStringToObject(t, "id", k->dm_tenant);
    cJSON_AddStringToObject(b, "tenantId", k->dm_tenant);
  }
  k->body = cJSON_PrintUnformatted(b);
  cJSON_Delete(b);
}

/* Store what a step learnt (in its own transaction: no other is open while calls run). */
static void dm_store(struct teams_connector *c,
                     const struct call *k,
                     const char *name,
                     const char *personal)
{
  if (db_begin(c->db) != 0)
    return;
  int rc =
      personal
          ? teams_store_set_personal(c->db, k->dm_user, personal, k->dm_tenant, c->now_ms())
          : teams_store_set_user(c->db, k->dm_user, k->dm_aad, name, k->dm_tenant, c->now_ms());
  if (rc == 0)
    db_commit(c->db);
  else
    db_rollback(c->db);
}

/* A step answered 2xx: set up and start the next. 1 when the call goes on (or has ended with
 * an error already reported), 0 when the answer is not usable (the caller reports it). */
static int dm_next(struct call *k, const struct http_response *r)
{
  struct teams_connector *c = k->c;
  cJSON *j = cJSON_ParseWithLength(r->body ? r->body : "", r->body_len);
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
  if (!cJSON_IsString(id) || !*id->valuestring) {
    cJSON_Delete(j);
    return 0;
  }
  if (k->dm_stage == DM_LOOKUP) {
    free(k->dm_user);
    k->dm_user = kx_strdup(id->valuestring);
    dm_store(c, k, cJSON_IsString(name) ? name->valuestring : NULL, NULL);
    char *personal = k->dm_user ? teams_store_personal(c->db, k->dm_user) : NULL;
    if (personal)
      dm_stage_send(k, personal);
    else
      dm_stage_create(c, k);
    free(personal);
  } else {
    dm_store(c, k, NULL, id->valuestring);
    LOG_INFO("teams", "personal_chat_opened", "row=%lld", (long long)k->row_id);
    dm_stage_send(k, id->valuestring);
  }
  cJSON_Delete(j);
  free(k->http_method);
  k->http_method = kx_strdup("POST");
  int rc = k->url && k->body && k->http_method ? call_go(c, k) : KX_ENOMEM;
  if (rc) {
    k->done(k->s, k->row_id, KX_ERETRY, kx_err_name(rc), -1, NULL);
    call_free(k);
  }
  return 1;
}

/* The first step of a teams.dm row: {"user": "29:…" | "aad:<object id>", "activity": {…}}. */
static int dm_build(struct teams_connector *c, const char *user, cJSON *activity, struct call *k)
{
  k->dm_activity = cJSON_PrintUnformatted(activity);
  if (strncmp(user, "aad:", 4) == 0) {
    k->dm_aad = kx_strdup(user + 4);
    k->dm_user = teams_store_user_by_aad(c->db, user + 4);
  } else {
    k->dm_user = kx_strdup(user);
  }
  k->dm_tenant = k->dm_user ? teams_store_user_tenant(c->db, k->dm_user) : NULL;
  if (!k->dm_tenant && c->cfg->tenant_id)
    k->dm_tenant = kx_strdup(c->cfg->tenant_id);
  char *url = teams_store_service_url(c->db, k->dm_tenant);
  if (url && teams_service_url_trusted(url, c->cfg->service_url)) {
    k->dm_service = url;
  } else {
    free(url);
    k->dm_service = kx_strdup(c->cfg->service_url);
  }
  if (!k->dm_activity || !k->dm_service)
    return KX_ENOMEM;
  k->needs_token = true;
  char *personal = k->dm_user ? teams_store_personal(c->db, k->dm_user) : NULL;
  if (personal) {
    dm_stage_send(k, personal);
  } else if (k->dm_user) {
    dm_stage_create(c, k);
  } else {
    /* Never seen: ask a team the bot is in for the user's roster entry. */
    char *team = teams_store_any_team(c->db, k->dm_tenant);
    if (!team) {
      LOG_WARN("teams", "dm_user_unknown",
               "aad=%s reason=\"the bot is in no team to find the user in\"", k->dm_aad);
      return KX_ECONFIG;
    }
    k->dm_stage = DM_LOOKUP;
    k->url = teams_member_url(k->dm_service, team, k->dm_aad);
    free(team);
  }
  free(personal);
  k->http_method = kx_strdup(k->dm_stage == DM_LOOKUP ? "GET" : "POST");
  return k->url && k->http_method ? 0 : KX_ENOMEM;
}

static void on_call(void *arg, const struct http_response *r)
{
  struct call *k = arg;
  struct teams_connector *c = k->c;
  char error[80];
  int err;
  if (r->err) {
    snprintf(error, sizeof(error), "%s", kx_err_name(r->err));
    err = KX_ERETRY;
  } else {
    err = teams_classify(r->status, r->body, error, sizeof(error));
  }
  if (!r->err && r->status == 401 && k->needs_token && k->token_gen == c->token_gen && c->token) {
    /* The connector no longer takes this token (revoked, or our clock runs ahead of its). */
    LOG_WARN("teams", "token_refused", "status=401 url_kind=connector");
    explicit_bzero(c->token, strlen(c->token));
    free(c->token);
    c->token = NULL;
  }
  count_call(k->member_cb ? "GET member" : k->http_method, err == 0 ? "ok" : error);
  if (k->member_cb) {
    member_done(k, r, err);
    return;
  }
  if (err == 0 && k->dm_stage && k->dm_stage != DM_SEND && dm_next(k, r))
    return;
  cJSON *json = (err == 0 && r->body && r->body_len) ? cJSON_Parse(r->body) : NULL;
  if (err == 0)
    add_slack_names(k, json);
  if (err && err != KX_ERETRY && err != KX_ERATELIMITED) {
    char q[300];
    LOG_WARN("teams", "connector_refused", "status=%ld error=%s body=%s", r->status, error,
             log_quote(q, sizeof(q), r->body ? r->body : ""));
  }
  k->done(k->s, k->row_id, err, err ? error : NULL, err == KX_ERATELIMITED ? r->retry_after_s : -1,
          json);
  cJSON_Delete(json);
  call_free(k);
}

static int call_start(struct call *k)
{
  struct teams_connector *c = k->c;
  char authz[TEAMS_TOKEN_MAX + 32];
  const char *headers[3] = {NULL, NULL, NULL};
  size_t h = 0;
  if (k->body)
    headers[h++] = "Content-Type: application/json; charset=utf-8";
  if (k->needs_token) {
    if (!c->token)
      return KX_ERETRY;
    snprintf(authz, sizeof(authz), "Authorization: Bearer %s", c->token);
    headers[h++] = authz;
    k->token_gen = c->token_gen;
  }
  struct http_request req = {
      .method = k->http_method,
      .url = k->url,
      .headers = headers,
      .body = k->body,
      .body_len = k->body ? strlen(k->body) : 0,
      .timeout_ms = k->timeout_ms ? k->timeout_ms : TEAMS_CONNECTOR_TIMEOUT_MS,
      .max_response = TEAMS_CONNECTOR_RESPONSE_MAX,
  };
  int rc = http_client_send(c->http, &req, on_call, k);
  if (k->needs_token)
    explicit_bzero(authz, sizeof(authz));
  return rc;
}

static void flush_waiters(struct teams_connector *c, int err, const char *error)
{
  struct call *list = c->waiting;
  c->waiting = NULL;
  c->n_waiting = 0;
  while (list) {
    struct call *k = list;
    list = k->next;
    k->next = NULL;
    int rc = err ? err : call_start(k);
    if (rc && k->member_cb) {
      k->member_cb(k->member_arg, KX_ERETRY, NULL, NULL);
      call_free(k);
    } else if (rc) {
      /* KX_EAUTH: the token endpoint refused our credentials (the sender tells the operator) */
      k->done(k->s, k->row_id, err == KX_EAUTH ? KX_EAUTH : KX_ERETRY,
              err ? error : kx_err_name(rc), -1, NULL);
      call_free(k);
    }
  }
}

static void on_token(void *arg, const struct http_response *r)
{
  struct teams_connector *c = arg;
  c->fetching = false;
  char error[80] = "token_transport";
  int err = KX_ERETRY;
  if (r->err) {
    LOG_WARN("teams", "token_failed", "error=%s", kx_err_name(r->err));
  } else if (r->status != 200) {
    /* AAD names the problem in error/error_codes; the secret never appears there. */
    cJSON *j = cJSON_Parse(r->body ? r->body : "");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    snprintf(error, sizeof(error), "token_%s", cJSON_IsString(e) ? e->valuestring : "http");
    bool creds = r->status == 400 || r->status == 401;
    if (creds)
      err = KX_EAUTH;
    if (creds)
      LOG_ERROR("teams", "token_refused",
                "status=%ld error=%s hint=\"check teams.app_id, "
                "teams.tenant_id and the client secret in teams.app_password_env\"",
                r->status, cJSON_IsString(e) ? e->valuestring : "-");
    else
      LOG_WARN("teams", "token_failed", "status=%ld", r->status);
    cJSON_Delete(j);
  } else {
    char *token = NULL;
    int64_t life = 0;
    int rc = teams_token_parse(r->body, &token, &life);
    if (rc == 0) {
      int64_t margin = life / 2 < TEAMS_TOKEN_MARGIN_MS ? life / 2 : TEAMS_TOKEN_MARGIN_MS;
      if (c->token)
        explicit_bzero(c->token, strlen(c->token));
      free(c->token);
      c->token = token;
      c->token_gen++;
      c->token_valid_until = teams_auth_now_ms() + life - margin;
      c->fetches++;
      metrics_inc("klaxon_teams_token_fetches_total", "", 1);
      LOG_INFO("teams", "token_fetched", "expires_in_s=%lld", (long long)(life / 1000));
      err = 0;
    } else {
      LOG_WARN("teams", "token_malformed", "err=%s", kx_err_name(rc));
      snprintf(error, sizeof(error), "token_malformed");
    }
  }
  flush_waiters(c, err, error);
}

static int token_fetch(struct teams_connector *c)
{
  if (c->fetching)
    return 0;
  if (!c->secret || !c->cfg->app_id || !c->cfg->token_url)
    return KX_ECONFIG;
  char *form = teams_token_form(c->cfg->app_id, c->secret);
  if (!form)
    return KX_ENOMEM;
  const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
  struct http_request req = {
      .method = "POST",
      .url = c->cfg->token_url,
      .headers = headers,
      .body = form,
      .body_len = strlen(form),
      .timeout_ms = TEAMS_CONNECTOR_TIMEOUT_MS,
      .max_response = (size_t)64 * 1024,
  };
  int rc = http_client_send(c->http, &req, on_token, c);
  explicit_bzero(form, strlen(form));
  free(form);
  if (rc == 0)
    c->fetching = true;
  return rc;
}

/* The serviceUrl for a conversation or channel id: its tenant's, else the config's. */
static char *service_for(struct teams_connector *c, const char *dest)
{
  char base[1024];
  snprintf(base, sizeof(base), "%.*s", (int)strcspn(dest, ";"), dest);
  char *tenant = teams_store_conversation_tenant(c->db, base);
  char *url = teams_store_service_url(c->db, tenant ? tenant : c->cfg->tenant_id);
  free(tenant);
  if (url && teams_service_url_ok(url))
    return url;
  free(url);
  return teams_service_url_ok(c->cfg->service_url) ? kx_strdup(c->cfg->service_url) : NULL;
}

static const char *str_member(const cJSON *o, const char *name)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(it) && *it->valuestring ? it->valuestring : NULL;
}

/* Build the HTTP call for a row; KX_EINVAL for a row that can never be sent. */
static int call_build(struct teams_connector *c, const struct outbox_row *row, struct call *k)
{
  cJSON *body = cJSON_Parse(row->body);
  cJSON *activity = cJSON_GetObjectItemCaseSensitive(body, "activity");
  int rc = 0;
  cJSON *out = NULL;
  char *service = NULL;
  bool known = strcmp(row->method, "teams.webhook") == 0 ||
               strcmp(row->method, "teams.post") == 0 || strcmp(row->method, "teams.reply") == 0 ||
               strcmp(row->method, "teams.update") == 0 || strcmp(row->method, "teams.dm") == 0;
  if (!known || !cJSON_IsObject(activity)) {
    rc = KX_EINVAL;
  } else if (strcmp(row->method, "teams.dm") == 0) {
    const char *user = str_member(body, "user");
    rc = user ? dm_build(c, user, activity, k) : KX_EINVAL;
    cJSON_Delete(body);
    return rc;
  } else if (strcmp(row->method, "teams.webhook") == 0) {
    if (!c->workflow_url) {
      rc = KX_ECONFIG;
    } else {
      out = teams_webhook_message(activity);
      k->url = kx_strdup(c->workflow_url);
      k->needs_token = false;
    }
  } else if (strcmp(row->method, "teams.post") == 0) {
    const char *channel = str_member(body, "channel");
    service = channel ? service_for(c, channel) : NULL;
    out = cJSON_CreateObject();
    cJSON *cd = out ? cJSON_AddObjectToObject(out, "channelData") : NULL;
    cJSON *ch = cd ? cJSON_AddObjectToObject(cd, "channel") : NULL;
    if (!channel) {
      rc = KX_EINVAL;
    } else if (ch) {
      cJSON_AddBoolToObject(out, "isGroup", 1);
      cJSON_AddStringToObject(ch, "id", channel);
      char base[1024];
      snprintf(base, sizeof(base), "%.*s", (int)strcspn(channel, ";"), channel);
      char *tenant = teams_store_conversation_tenant(c->db, base);
      const char *tid = tenant ? tenant : c->cfg->tenant_id;
      if (tid) {
        cJSON *t = cJSON_AddObjectToObject(cd, "tenant");
        if (t)
          cJSON_AddStringToObject(t, "id", tid);
      }
      free(tenant);
      cJSON_AddItemToObject(out, "activity", cJSON_DetachItemViaPointer(body, activity));
      k->url = teams_connector_url(service, NULL, NULL);
    }
    k->is_post = true;
    k->needs_token = true;
  } else { /* teams.reply, teams.update */
    bool update = strcmp(row->method, "teams.update") == 0;
    const char *conv = str_member(body, "conversation");
    const char *act_id = str_member(body, update ? "activity_id" : "reply_to_id");
    if (!conv || (update && !act_id)) {
      rc = KX_EINVAL;
    } else {
      service = service_for(c, conv);
      out = cJSON_DetachItemViaPointer(body, activity);
      if (update && !cJSON_GetObjectItemCaseSensitive(out, "id"))
        cJSON_AddStringToObject(out, "id", act_id);
      k->url = teams_connector_url(service, conv, act_id);
      k->http_method = kx_strdup(update ? "PUT" : "POST");
      k->conversation = kx_strdup(conv);
    }
    k->needs_token = true;
  }
  if (rc == 0 && !k->http_method)
    k->http_method = kx_strdup("POST");
  if (rc == 0 && !k->url) {
    LOG_ERROR("teams", "no_service_url", "id=%lld method=%s", (long long)row->id, row->method);
    rc = KX_ECONFIG;
  }
  if (rc == 0) {
    k->body = out ? cJSON_PrintUnformatted(out) : NULL;
    if (!k->body || !k->http_method)
      rc = KX_ENOMEM;
  }
  free(service);
  cJSON_Delete(out);
  cJSON_Delete(body);
  return rc;
}

/* Start a call now, or queue it behind the token fetch. */
static int call_go(struct teams_connector *c, struct call *k)
{
  if (!k->needs_token || token_fresh(c))
    return call_start(k);
  if (c->n_waiting >= TEAMS_TOKEN_WAITERS_MAX)
    return KX_EBUSY;
  int rc = token_fetch(c);
  if (rc)
    return rc;
  struct call **tail = &c->waiting;
  while (*tail)
    tail = &(*tail)->next;
  *tail = k;
  c->n_waiting++;
  return 0;
}

int teams_connector_member(struct teams_connector *c,
                           const char *service_url,
                           const char *conversation,
                           const char *user_id,
                           teams_member_cb cb,
                           void *arg)
{
  if (!c || !c->secret || !cb)
    return KX_ECONFIG;
  struct call *k = calloc(1, sizeof(*k));
  if (!k)
    return KX_ENOMEM;
  k->c = c;
  k->member_cb = cb;
  k->member_arg = arg;
  k->needs_token = true;
  k->http_method = kx_strdup("GET");
  k->url = teams_member_url(service_url, conversation, user_id);
  k->timeout_ms = TEAMS_MEMBER_TIMEOUT_MS;
  int rc = k->http_method && k->url ? call_go(c, k) : KX_EINVAL;
  if (rc)
    call_free(k);
  return rc;
}

int teams_connector_send(void *arg,
                         struct sender *s,
                         const struct outbox_row *row,
                         sender_done_fn done)
{
  struct teams_connector *c = arg;
  struct call *k = calloc(1, sizeof(*k));
  if (!k)
    return KX_ENOMEM;
  k->c = c;
  k->s = s;
  k->done = done;
  k->row_id = row->id;
  int rc = call_build(c, row, k);
  if (rc == 0 && k->needs_token && !c->secret)
    rc = KX_ECONFIG;
  /* Without a fresh token the row waits for it; one fetch serves every waiting call. */
  if (rc == 0)
    rc = call_go(c, k);
  if (rc)
    call_free(k);
  return rc;
}
