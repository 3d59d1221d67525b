#include "commands/paging/alerts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/paging/paging.h"
#include "commands/status/status.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "storage/alerts.h"
#include "storage/pages.h"

/* ---- parsing ------------------------------------------------------------------------------- */

static const char *str(const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t n, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, n, fmt, ap);
  va_end(ap);
  return KX_EPROTO;
}

/* An object whose members are all strings, within the caps. */
static int string_object(const cJSON *o, const char *what, char *why, size_t n)
{
  if (!cJSON_IsObject(o))
    return fail(why, n, "%s must be an object of strings", what);
  int count = 0;
  const cJSON *v;
  cJSON_ArrayForEach (v, o) {
    if (!cJSON_IsString(v))
      return fail(why, n, "%s must be an object of strings", what);
    if (++count > ALERTS_MAX_LABELS)
      return fail(why, n, "%s has too many entries", what);
    if (strlen(v->valuestring) > ALERTS_MAX_VALUE)
      return fail(why, n, "a value in %s is too long", what);
  }
  return 0;
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
  for (; s && *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}

static int parse_time(const char *s, int64_t *out)
{
  *out = 0;
  if (!s || !*s || strncmp(s, "0001-", 5) == 0)
    return 0; /* Go's zero time: none */
  if (time_parse_rfc3339(s, out) != 0)
    return KX_EINVAL;
  if (*out < 0)
    *out = 0;
  return 0;
}

static int parse_am_alert(const cJSON *a, struct alert_item *it, char *why, size_t n)
{
  if (!cJSON_IsObject(a))
    return fail(why, n, "%s", "every alert must be an object");
  const char *status = str(a, "status");
  if (!status || (strcmp(status, "firing") != 0 && strcmp(status, "resolved") != 0))
    return fail(why, n, "%s", "alert status must be \"firing\" or \"resolved\"");
  it->firing = strcmp(status, "firing") == 0;
  it->labels = cJSON_GetObjectItemCaseSensitive(a, "labels");
  int rc = string_object(it->labels, "labels", why, n);
  if (rc)
    return rc;
  it->annotations = cJSON_GetObjectItemCaseSensitive(a, "annotations");
  if (it->annotations && (rc = string_object(it->annotations, "annotations", why, n)))
    return rc;
  if (!str(a, "startsAt") || parse_time(str(a, "startsAt"), &it->starts_at))
    return fail(why, n, "%s", "alert startsAt must be an RFC 3339 time");
  if (parse_time(str(a, "endsAt"), &it->ends_at))
    return fail(why, n, "%s", "alert endsAt must be an RFC 3339 time");
  const char *fp = str(a, "fingerprint");
  if (fp && (!*fp || strlen(fp) >= sizeof(it->fingerprint) - 4))
    return fail(why, n, "%s", "alert fingerprint is empty or too long");
  if (fp) {
    snprintf(it->fingerprint, sizeof(it->fingerprint), "am:%s", fp);
  } else {
    /* Older senders: the labels identify the alert (Alertmanager hashes them too). */
    char *text = cJSON_PrintUnformatted(it->labels);
    if (!text)
      return KX_ENOMEM;
    snprintf(it->fingerprint, sizeof(it->fingerprint), "am:%016llx",
             (unsigned long long)fnv1a(1469598103934665603ULL, text));
    free(text);
  }
  return 0;
}

static int parse_alertmanager(const cJSON *root, struct alert_batch *b, char *why, size_t n)
{
  const char *version = str(root, "version");
  if (!version)
    return fail(why, n, "%s", "not an Alertmanager webhook: no \"version\"");
  if (strcmp(version, "4") != 0)
    return fail(why, n, "unsupported Alertmanager webhook version \"%.20s\" (want 4)", version);
  const char *key = str(root, "groupKey");
  if (!key)
    return fail(why, n, "%s", "not an Alertmanager webhook: no \"groupKey\"");
  if (strlen(key) >= sizeof(b->group_key) - 4)
    return fail(why, n, "%s", "groupKey is too long");
  const char *status = str(root, "status");
  if (!status || (strcmp(status, "firing") != 0 && strcmp(status, "resolved") != 0))
    return fail(why, n, "%s", "status must be \"firing\" or \"resolved\"");
  const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(root, "alerts");
  if (!cJSON_IsArray(alerts))
    return fail(why, n, "%s", "not an Alertmanager webhook: no \"alerts\" list");
  int count = cJSON_GetArraySize(alerts);
  if (count > ALERTS_MAX_PER_REQUEST) {
    snprintf(why, n, "too many alerts in one webhook (%d, at most %d)", count,
             ALERTS_MAX_PER_REQUEST);
    return KX_ETOOBIG;
  }
  snprintf(b->group_key, sizeof(b->group_key), "am:%s", key);
  b->items = calloc(count ? (size_t)count : 1, sizeof(*b->items));
  if (!b->items)
    return KX_ENOMEM;
  const cJSON *a;
  cJSON_ArrayForEach (a, alerts) {
    int rc = parse_am_alert(a, &b->items[b->n], why, n);
    if (rc)
      return rc;
    b->n++;
  }
  return 0;
}

static int parse_webhook(const cJSON *root, struct alert_batch *b, char *why, size_t n)
{
  const char *title = str(root, "title");
  if (!title || !*title)
    return fail(why, n, "%s", "a generic alert needs a \"title\" (a string)");
  const char *keys[] = {"severity", "source", "dedup_key", "status", "runbook_url"};
  for (size_t i = 0; i < KX_ARRAY_SIZE(keys); i++) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
    if (v && !cJSON_IsString(v) && !cJSON_IsNull(v))
      return fail(why, n, "\"%s\" must be a string", keys[i]);
    if (v && cJSON_IsString(v) && v->valuestring && strlen(v->valuestring) > ALERTS_MAX_VALUE)
      return fail(why, n, "\"%s\" is too long", keys[i]);
  }
  if (strlen(title) > ALERTS_MAX_VALUE)
    return fail(why, n, "%s", "\"title\" is too long");
  const cJSON *details = cJSON_GetObjectItemCaseSensitive(root, "details");
  if (details && !cJSON_IsNull(details) && !cJSON_IsObject(details))
    return fail(why, n, "%s", "\"details\" must be an object");
  const char *status = str(root, "status");
  bool firing = true;
  if (status) {
    if (strcmp(status, "resolved") == 0 || strcmp(status, "resolve") == 0)
      firing = false;
    else if (strcmp(status, "firing") != 0 && strcmp(status, "trigger") != 0 &&
             strcmp(status, "triggered") != 0)
      return fail(why, n, "%s", "\"status\" must be firing (or trigger) or resolved");
  }
  b->items = calloc(1, sizeof(*b->items));
  b->owned = cJSON_CreateObject();
  if (!b->items || !b->owned)
    return KX_ENOMEM;
  cJSON *labels = cJSON_AddObjectToObject(b->owned, "labels");
  cJSON *ann = cJSON_AddObjectToObject(b->owned, "annotations");
  if (!labels || !ann)
    return KX_ENOMEM;
  cJSON_AddStringToObject(labels, "alertname", title);
  if (str(root, "severity"))
    cJSON_AddStringToObject(labels, "severity", str(root, "severity"));
  if (str(root, "source"))
    cJSON_AddStringToObject(labels, "source", str(root, "source"));
  int count = 0;
  const cJSON *d;
  const cJSON *dobj = cJSON_IsObject(details) ? details : NULL;
  cJSON_ArrayForEach (d, dobj) {
    if (++count > ALERTS_MAX_LABELS)
      return fail(why, n, "%s", "\"details\" has too many entries");
    if (!d->string || cJSON_GetObjectItemCaseSensitive(labels, d->string))
      continue;
    if (cJSON_IsString(d) && strlen(d->valuestring) <= ALERTS_MAX_VALUE) {
      if (strcmp(d->string, "summary") == 0 || strcmp(d->string, "description") == 0)
        cJSON_AddStringToObject(ann, d->string, d->valuestring);
      else
        cJSON_AddStringToObject(labels, d->string, d->valuestring);
    }
  }
  if (str(root, "runbook_url"))
    cJSON_AddStringToObject(ann, "runbook_url", str(root, "runbook_url"));
  struct alert_item *it = &b->items[0];
  it->firing = firing;
  it->labels = labels;
  it->annotations = ann;
  const char *dedup = str(root, "dedup_key");
  if (dedup && *dedup) {
    uint64_t h = fnv1a(1469598103934665603ULL, dedup);
    snprintf(it->fingerprint, sizeof(it->fingerprint), "wh:%016llx", (unsigned long long)h);
  } else {
    uint64_t h = fnv1a(fnv1a(1469598103934665603ULL, title), str(root, "source"));
    snprintf(it->fingerprint, sizeof(it->fingerprint), "wh:%016llx", (unsigned long long)h);
  }
  snprintf(b->group_key, sizeof(b->group_key), "%s", it->fingerprint);
  b->n = 1;
  return 0;
}

int alerts_parse(
    enum alert_source src, const cJSON *root, struct alert_batch *out, char *why, size_t n)
{
  memset(out, 0, sizeof(*out));
  out->source = src;
  why[0] = '\0';
  if (!cJSON_IsObject(root))
    return fail(why, n, "%s", "the body must be a JSON object");
  int rc = src == ALERT_SRC_ALERTMANAGER ? parse_alertmanager(root, out, why, n)
           : src == ALERT_SRC_PAGERDUTY  ? alerts_parse_pagerduty(root, out, why, n)
                                         : parse_webhook(root, out, why, n);
  if (rc)
    alert_batch_free(out);
  return rc;
}

void alert_batch_free(struct alert_batch *b)
{
  free(b->items);
  cJSON_Delete(b->owned);
  b->items = NULL;
  b->owned = NULL;
  b->n = 0;
}

/* ---- routing ------------------------------------------------------------------------------- */

int alerts_route(const struct config *c, const cJSON *labels)
{
  for (size_t i = 0; i < c->alerts.n_routes; i++) {
    const struct alert_route *r = &c->alerts.routes[i];
    bool all = true;
    for (size_t j = 0; all && j < r->n_match; j++) {
      const char *v = str(labels, r->match[j].key);
      all = v && strcmp(v, r->match[j].value) == 0;
    }
    if (all)
      return (int)i;
  }
  return -1;
}

/* ---- ingesting ----------------------------------------------------------------------------- */

struct touched {
  int64_t page;
  bool created;
  bool resolve_check;
  size_t joins;
};

struct touched_set {
  struct touched *t;
  size_t n, cap;
};

static struct touched *touch(struct touched_set *s, int64_t page)
{
  for (size_t i = s->n; i > 0; i--)
    if (s->t[i - 1].page == page)
      return &s->t[i - 1];
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    struct touched *g = realloc(s->t, cap * sizeof(*g));
    if (!g)
      return NULL;
    s->t = g;
    s->cap = cap;
  }
  struct touched *t = &s->t[s->n++];
  memset(t, 0, sizeof(*t));
  t->page = page;
  return t;
}

/* A page's severity: the route's, else the alert's own when it names one, else the default. */
static const char *page_severity(const struct config *c,
                                 const struct alert_route *r,
                                 const char *label)
{
  if (r->severity)
    return r->severity;
  const struct severity *s = config_severity(c, label);
  return s ? s->name : c->default_severity;
}

static int new_page(struct cmd_ctx *ctx,
                    const struct alert_batch *b,
                    const struct alert_item *it,
                    int route,
                    const char *key,
                    const char *labels_json,
                    int64_t *id)
{
  const struct alert_route *r = &ctx->config->alerts.routes[route];
  const char *alertname = str(it->labels, "alertname");
  const char *summary = str(it->annotations, "summary");
  if (!summary)
    summary = str(it->annotations, "description");
  const char *runbook = str(it->annotations, "runbook_url");
  if (!runbook)
    runbook = config_runbook(ctx->config, alertname);
  const char *label_sev = str(it->labels, "severity");
  struct page_new n = {
      .kind = r->rota ? "page" : "post",
      .group_key = key,
      .rota = r->rota,
      /* A channel route's severity (issue 11) is what its Acknowledge button is measured by. */
      .severity = r->rota ? page_severity(ctx->config, r, label_sev)
                          : (r->severity ? r->severity : label_sev),
      .policy = r->policy,
      .channel = r->channel,
      .title = alertname ? alertname : "alert",
      .summary = summary,
      .labels = labels_json,
      .runbook = runbook,
      .source = alerts_source_name(b->source),
      .started_at = it->starts_at,
  };
  return paging_create(ctx, &n, id);
}

static int ingest_one(struct cmd_ctx *ctx,
                      const struct alert_batch *b,
                      const struct alert_item *it,
                      struct touched_set *set,
                      struct alerts_result *res)
{
  int route = alerts_route(ctx->config, it->labels);
  const struct alert_route *r = route >= 0 ? &ctx->config->alerts.routes[route] : NULL;
  const char *action = !r           ? "record"
                       : r->rota    ? "page"
                       : r->channel ? "post"
                       : r->n_email ? "email"
                                    : "record";
  /* A maintenance window on the alert's component: recorded, not paged (issue 13). */
  int maint = r ? status_alert_in_maintenance(ctx, it->labels) : 0;
  if (maint < 0)
    return maint;
  if (maint)
    action = "maintenance";
  char *labels = cJSON_PrintUnformatted(it->labels);
  char *ann = it->annotations ? cJSON_PrintUnformatted(it->annotations) : NULL;
  if (!labels) {
    free(ann);
    return KX_ENOMEM;
  }
  struct alert_in in = {
      .fingerprint = it->fingerprint,
      .group_key = b->group_key,
      .source = alerts_source_name(b->source),
      .firing = it->firing,
      .alertname = str(it->labels, "alertname"),
      .severity = str(it->labels, "severity"),
      .labels_json = labels,
      .annotations_json = ann,
      .starts_at = it->starts_at,
      .ends_at = it->ends_at,
      .route = route,
      .action = action,
  };
  int64_t alert_id = 0, old_page = 0;
  enum alert_change change;
  int rc = alerts_upsert(ctx->db, &in, ctx->now_ms, &alert_id, &change, &old_page);
  if (rc == 0) {
    res->received++;
    if (change == ALERT_NEW || change == ALERT_NEW_RESOLVED)
      res->stored_new++;
    if (change == ALERT_REPEAT || change == ALERT_REPEAT_RESOLVED)
      res->repeats++;
    if (change == ALERT_RESOLVED)
      res->resolved++;
  }
  if (rc == 0 && strcmp(action, "email") == 0 && it->firing &&
      (change == ALERT_NEW || change == ALERT_REFIRED))
    rc = alerts_email(ctx, route, it, in.severity, labels);
  if (rc || strcmp(action, "record") == 0 || strcmp(action, "email") == 0 ||
      strcmp(action, "maintenance") == 0)
    goto out;
  char key[600];
  snprintf(key, sizeof(key), "%s#%d", b->group_key, route);
  if (it->firing && (change == ALERT_NEW || change == ALERT_REFIRED)) {
    int64_t page = 0;
    bool created = false;
    rc = pages_find_open(ctx->db, key, &page);
    if (rc == KX_ENOTFOUND) {
      rc = new_page(ctx, b, it, route, key, labels, &page);
      created = rc == 0;
      /* Another instance opened the group's page after the look (pages_add): join it. */
      if (rc == KX_EEXISTS)
        rc = 0;
      if (created && strcmp(action, "page") == 0)
        res->pages_created++;
      if (created && strcmp(action, "post") == 0)
        res->posts_created++;
    }
    if (rc == 0)
      rc = alerts_set_page(ctx->db, alert_id, page);
    struct touched *t = rc == 0 ? touch(set, page) : NULL;
    if (rc == 0 && !t)
      rc = KX_ENOMEM;
    if (t) {
      t->created |= created;
      t->joins++;
    }
  } else if (!it->firing && change == ALERT_RESOLVED && old_page > 0) {
    struct touched *t = touch(set, old_page);
    if (!t)
      rc = KX_ENOMEM;
    else
      t->resolve_check = true;
  }
out:
  free(labels);
  free(ann);
  return rc;
}

/* After the batch: resolve pages whose alerts have all resolved, update the others once. */
static int settle(struct cmd_ctx *ctx,
                  const struct touched *t,
                  const char *source,
                  struct alerts_result *res)
{
  struct page_row p;
  int rc = pages_get(ctx->db, t->page, &p);
  if (rc)
    return rc;
  enum page_state state = p.state;
  page_row_clear(&p);
  if (t->resolve_check && state != PAGE_RESOLVED) {
    int64_t total = 0, firing = 0;
    rc = alerts_page_counts(ctx->db, t->page, &total, &firing);
    if (rc)
      return rc;
    if (firing == 0) {
      rc = paging_resolve(ctx, t->page, source, "alert_resolved", NULL);
      if (rc == 0)
        res->pages_resolved++;
      return rc == KX_ESTATE ? 0 : rc;
    }
  }
  if (t->created && t->joins <= 1 && !t->resolve_check)
    return 0;
  rc = pages_bump(ctx->db, t->page);
  return rc ? rc : paging_refresh(ctx, t->page);
}

int alerts_ingest(struct cmd_ctx *ctx, const struct alert_batch *b, struct alerts_result *res)
{
  memset(res, 0, sizeof(*res));
  struct touched_set set = {NULL, 0, 0};
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < b->n; i++)
    rc = ingest_one(ctx, b, &b->items[i], &set, res);
  for (size_t i = 0; rc == 0 && i < set.n; i++)
    rc = settle(ctx, &set.t[i], alerts_source_name(b->source), res);
  free(set.t);
  return rc;
}

const char *alerts_source_name(enum alert_source src)
{
  return src == ALERT_SRC_ALERTMANAGER ? "alertmanager"
         : src == ALERT_SRC_PAGERDUTY  ? "pagerduty"
                                       : "webhook";
}

int alerts_action_ingest(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         struct cmd_reply *reply)
{
  if (req->platform != CMD_PLATFORM_HTTP || !req->payload) {
    LOG_WARN("alerts", "ingest_refused", "platform=%d", (int)req->platform);
    return KX_EAUTH;
  }
  enum alert_source src = strcmp(req->action_id, CMD_ACTION_ALERTS_AM) == 0 ? ALERT_SRC_ALERTMANAGER
                          : strcmp(req->action_id, CMD_ACTION_ALERTS_PD) == 0 ? ALERT_SRC_PAGERDUTY
                                                                              : ALERT_SRC_WEBHOOK;
  if (src == ALERT_SRC_PAGERDUTY && alerts_pd_action(req->payload) == PD_ACKNOWLEDGE)
    return alerts_pd_acknowledge(ctx, req, reply);
  struct alert_batch b;
  char why[256];
  int rc = alerts_parse(src, req->payload, &b, why, sizeof(why));
  if (rc) {
    cmd_reply_printf(reply, "{\"error\":\"payload refused\"}");
    return rc == KX_ENOMEM ? rc : KX_EINVAL;
  }
  struct alerts_result res;
  rc = src == ALERT_SRC_PAGERDUTY ? alerts_pd_known_labels(ctx, &b) : 0;
  if (rc == 0)
    rc = alerts_ingest(ctx, &b, &res);
  alert_batch_free(&b);
  if (rc)
    return rc;
  cmd_reply_printf(
      reply,
      "{\"status\":\"ok\",\"received\":%zu,\"new\":%zu,\"repeats\":%zu,\"resolved\":%zu,"
      "\"pages_created\":%zu,\"posts_created\":%zu,\"pages_resolved\":%zu}",
      res.received, res.stored_new, res.repeats, res.resolved, res.pages_created, res.posts_created,
      res.pages_resolved);
  LOG_INFO("alerts", "ingested",
           "source=%s received=%zu new=%zu pages=%zu posts=%zu resolved_pages=%zu",
           alerts_source_name(src), res.received, res.stored_new, res.pages_created,
           res.posts_created, res.pages_resolved);
  return 0;
}
