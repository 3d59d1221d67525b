#include "teams_connector.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/buf.h"
#include "../lib/kx.h"
#include "../lib/log.h"
#include "../lib/metrics.h"
#include "../storage/teams_store.h"

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
  long timeout_ms;    /* 0: TEAMS_CONNECTOR_TIMEOUT_MS */
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

/* ---- pure helpers ---------------------------------------------------------------------------- */

char *teams_path_escape(const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  if (!s)
    return NULL;
  size_t n = strlen(s);
  char *out = malloc(n * 3 + 1);
  if (!out)
    return NULL;
  char *o = out;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '.' || *p == '_' || *p == '~') {
      *o++ = (char)*p;
    } else {
      *o++ = '%';
      *o++ = hex[*p >> 4];
      *o++ = hex[*p & 15];
    }
  }
  *o = '\0';
  return out;
}

int teams_service_url_ok(const char *url)
{
  if (!url)
    return 0;
  const char *host = NULL;
  if (strncasecmp(url, "https://", 8) == 0)
    host = url + 8;
  else if (strncasecmp(url, "http://", 7) == 0)
    host = url + 7;
  if (!host || !*host || *host == '/' || *host == ':')
    return 0;
  for (const char *p = url; *p; p++)
    if ((unsigned char)*p <= ' ' || *p == '\\' || *p == '#' || *p == '?')
      return 0;
  return 1;
}

char *teams_connector_url(const char *service_url, const char *conversation, const char *activity)
{
  if (!teams_service_url_ok(service_url))
    return NULL;
  size_t n = strlen(service_url);
  const char *slash = n && service_url[n - 1] == '/' ? "" : "/";
  char *conv = conversation ? teams_path_escape(conversation) : NULL;
  char *act = activity ? teams_path_escape(activity) : NULL;
  char *url = NULL;
  if ((conversation && !conv) || (activity && !act))
    url = NULL;
  else if (!conversation)
    url = kx_asprintf("%s%sv3/conversations", service_url, slash);
  else if (!activity)
    url = kx_asprintf("%s%sv3/conversations/%s/activities", service_url, slash, conv);
  else
    url = kx_asprintf("%s%sv3/conversations/%s/activities/%s", service_url, slash, conv, act);
  free(conv);
  free(act);
  return url;
}

char *teams_member_url(const char *service_url, const char *conversation, const char *user)
{
  if (!teams_service_url_ok(service_url) || !conversation || !user)
    return NULL;
  size_t n = strlen(service_url);
  char *conv = teams_path_escape(conversation);
  char *u = teams_path_escape(user);
  char *url = conv && u ? kx_asprintf("%s%sv3/conversations/%s/members/%s", service_url,
                                      n && service_url[n - 1] == '/' ? "" : "/", conv, u)
                        : NULL;
  free(conv);
  free(u);
  return url;
}

int teams_classify(long status, const char *body, char *error, size_t size)
{
  snprintf(error, size, "http_%ld", status);
  /* Connectors and Workflows report throttling in the body, whatever the status. */
  if (body && strstr(body, "HTTP error 429")) {
    snprintf(error, size, "throttled");
    return KX_ERATELIMITED;
  }
  if (status >= 200 && status < 300)
    return 0;
  if (status == 429) {
    snprintf(error, size, "throttled");
    return KX_ERATELIMITED;
  }
  if (status == 401 || status == 408 || status >= 500 || status == 0)
    return KX_ERETRY;
  cJSON *j = body ? cJSON_Parse(body) : NULL;
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
  const cJSON *sub = cJSON_GetObjectItemCaseSensitive(e, "subCode");
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
  if (cJSON_IsString(sub) && *sub->valuestring)
    snprintf(error, size, "%.60s", sub->valuestring);
  else if (cJSON_IsString(code) && *code->valuestring)
    snprintf(error, size, "%.60s", code->valuestring);
  cJSON_Delete(j);
  return KX_EPLATFORM;
}

int teams_token_parse(const char *body, char **token, int64_t *expires_in_ms)
{
  *token = NULL;
  *expires_in_ms = 0;
  cJSON *j = body ? cJSON_Parse(body) : NULL;
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "token_type");
  const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
  int rc = 0;
  double secs = -1;
  if (cJSON_IsNumber(exp))
    secs = exp->valuedouble;
  else if (cJSON_IsString(exp))
    secs = strtod(exp->valuestring, NULL); /* older endpoints send "3599" */
  if (!cJSON_IsString(t) || !*t->valuestring || secs <= 0 || secs > 7 * 86400 ||
      (type && (!cJSON_IsString(type) || strcasecmp(type->valuestring, "Bearer") != 0))) {
    rc = KX_EPROTO;
  } else if (strlen(t->valuestring) > TEAMS_TOKEN_MAX) {
    rc = KX_ETOOBIG;
  } else {
    for (const char *p = t->valuestring; *p; p++)
      if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127)
        rc = KX_EPROTO;
    if (rc == 0) {
      *token = kx_strdup(t->valuestring);
      *expires_in_ms = (int64_t)(secs * 1000);
      if (!*token)
        rc = KX_ENOMEM;
    }
  }
  cJSON_Delete(j);
  return rc;
}

static int form_put(struct buf *b, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  int rc = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '.' || *p == '_' || *p == '~') {
      rc = buf_append(b, p, 1);
    } else {
      char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      rc = buf_append(b, e, 3);
    }
  }
  return rc;
}

char *teams_token_form(const char *app_id, const char *secret)
{
  if (!app_id || !secret)
    return NULL;
  struct buf b;
  buf_init(&b, (size_t)64 * 1024);
  int rc = buf_puts(&b, "grant_type=client_credentials&client_id=");
  if (rc == 0)
    rc = form_put(&b, app_id);
  if (rc == 0)
    rc = buf_puts(&b, "&client_secret=");
  if (rc == 0)
    rc = form_put(&b, secret);
  if (rc == 0)
    rc = buf_puts(&b, "&scope=");
  if (rc == 0)
    rc = form_put(&b, TEAMS_TOKEN_SCOPE);
  if (rc) {
    buf_free(&b);
    return NULL;
  }
  return buf_take(&b);
}

static void strip_callbacks(cJSON *actions)
{
  cJSON *a = actions ? actions->child : NULL;
  while (a) {
    cJSON *next = a->next;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(a, "type");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "Action.OpenUrl") != 0)
      cJSON_Delete(cJSON_DetachItemViaPointer(actions, a));
    a = next;
  }
}

cJSON *teams_webhook_message(const cJSON *activity)
{
  const cJSON *atts = cJSON_GetObjectItemCaseSensitive(activity, "attachments");
  cJSON *out = cJSON_CreateObject();
  cJSON *list = out ? cJSON_AddArrayToObject(out, "attachments") : NULL;
  if (!list || !cJSON_AddStringToObject(out, "type", "message")) {
    cJSON_Delete(out);
    return NULL;
  }
  const cJSON *att;
  cJSON_ArrayForEach (att, atts) {
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(att, "contentType");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(att, "content");
    if (!cJSON_IsString(ct) ||
        strcmp(ct->valuestring, "application/vnd.microsoft.card.adaptive") != 0 ||
        !cJSON_IsObject(content))
      continue;
    cJSON *card = cJSON_Duplicate(content, 1);
    cJSON *item = cJSON_CreateObject();
    if (!card || !item) {
      cJSON_Delete(card);
      cJSON_Delete(item);
      cJSON_Delete(out);
      return NULL;
    }
    cJSON *actions = cJSON_GetObjectItemCaseSensitive(card, "actions");
    strip_callbacks(actions);
    if (actions && cJSON_GetArraySize(actions) == 0)
      cJSON_DeleteItemFromObject(card, "actions");
    cJSON_AddStringToObject(item, "contentType", ct->valuestring);
    cJSON_AddNullToObject(item, "contentUrl");
    cJSON_AddItemToObject(item, "content", card);
    cJSON_AddItemToArray(list, item);
  }
  if (cJSON_GetArraySize(list) == 0) {
    /* A text-only activity: Workflows posts Adaptive Cards only, so wrap the text in one. */
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(activity, "text");
    cJSON *item = cJSON_CreateObject();
    cJSON *card = cJSON_CreateObject();
    cJSON *body = card ? cJSON_AddArrayToObject(card, "body") : NULL;
    cJSON *tb = cJSON_CreateObject();
    if (!item || !body || !tb) {
      cJSON_Delete(item);
      cJSON_Delete(card);
      cJSON_Delete(tb);
      cJSON_Delete(out);
      return NULL;
    }
    cJSON_AddStringToObject(card, "type", "AdaptiveCard");
    cJSON_AddStringToObject(card, "version", "1.4");
    cJSON_AddStringToObject(tb, "type", "TextBlock");
    cJSON_AddStringToObject(tb, "text", cJSON_IsString(text) ? text->valuestring : "");
    cJSON_AddBoolToObject(tb, "wrap", 1);
    cJSON_AddItemToArray(body, tb);
    cJSON_AddStringToObject(item, "contentType", "application/vnd.microsoft.card.adaptive");
    cJSON_AddNullToObject(item, "contentUrl");
    cJSON_AddItemToObject(item, "content", card);
    cJSON_AddItemToArray(list, item);
  }
  return out;
}

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

uint64_t teams_connector_token_fetches(const struct teams_connector *c)
{
  return c ? c->fetches : 0;
}

static bool token_fresh(const struct teams_connector *c)
{
  return c->token && c->now_ms() < c->token_valid_until;
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
      k->done(k->s, k->row_id, KX_ERETRY, err ? error : kx_err_name(rc), -1, NULL);
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
      c->token_valid_until = c->now_ms() + life - margin;
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
               strcmp(row->method, "teams.update") == 0;
  if (!known || !cJSON_IsObject(activity)) {
    rc = KX_EINVAL;
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
