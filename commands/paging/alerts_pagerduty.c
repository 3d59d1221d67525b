/*
 * alerts_pagerduty.c — PagerDuty Events API v2 in (issue 14): what Grafana, Datadog, Sentry,
 * Zabbix and most monitoring tools send to events.pagerduty.com/v2/enqueue, as one alert.
 *
 * The transport (bot/web/pagerduty_http.c) has already matched `routing_key` against the
 * variables `alerts.pagerduty_keys_env` names and put the variable's *name* in its place as
 * "routing_key_env" (the key itself is never stored), and has given a trigger without a
 * dedup_key a generated one. Here the event is checked as PagerDuty checks it
 * (developer.pagerduty.com, Events API v2: event_action trigger|acknowledge|resolve; a trigger
 * needs payload.summary (<= 1024), payload.source and payload.severity (critical, error,
 * warning, info); dedup_key <= 255 and required but for triggers) and becomes an alert with the
 * labels alertname (the summary), severity, source, component, group, class and
 * routing_key_env, routed by alerts.routes like any other. custom_details become labels when
 * they are strings (else JSON text); links and images' hrefs become annotations.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/paging/alerts.h"
#include "commands/paging/paging.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "storage/alerts.h"
#include "storage/pages.h"

#define PD_SUMMARY_MAX 1024
#define PD_DEDUP_MAX 255

static const char *str(const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Adds one error sentence to `errors` (a JSON array, may be NULL) and to why. */
static void err(cJSON *errors, char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void err(cJSON *errors, char *why, size_t n, const char *fmt, ...)
{
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  if (errors && cJSON_GetArraySize(errors) < 16)
    cJSON_AddItemToArray(errors, cJSON_CreateString(line));
  if (!why[0])
    snprintf(why, n, "%s", line);
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
  for (; s && *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return h;
}

int alerts_pd_action(const cJSON *root)
{
  const char *a = str(root, "event_action");
  return !a                              ? PD_NONE
         : strcmp(a, "trigger") == 0     ? PD_TRIGGER
         : strcmp(a, "acknowledge") == 0 ? PD_ACKNOWLEDGE
         : strcmp(a, "resolve") == 0     ? PD_RESOLVE
                                         : PD_NONE;
}

void alerts_pd_group(const char *key_env, const char *dedup_key, char *out, size_t n)
{
  uint64_t h = fnv1a(fnv1a(1469598103934665603ULL, key_env), "\x1f");
  h = fnv1a(h, dedup_key);
  snprintf(out, n, "pd:%016llx", (unsigned long long)h);
}

int alerts_pd_check(const cJSON *root, cJSON *errors, char *why, size_t n)
{
  why[0] = '\0';
  if (!cJSON_IsObject(root)) {
    err(errors, why, n, "%s", "the event must be a JSON object");
    return KX_EPROTO;
  }
  int action = alerts_pd_action(root);
  const cJSON *ea = cJSON_GetObjectItemCaseSensitive(root, "event_action");
  if (!ea)
    err(errors, why, n, "%s", "'event_action' is missing");
  else if (action == PD_NONE)
    err(errors, why, n, "%s", "'event_action' must be one of trigger, acknowledge, resolve");
  const cJSON *dk = cJSON_GetObjectItemCaseSensitive(root, "dedup_key");
  if (dk && !cJSON_IsString(dk) && !cJSON_IsNull(dk))
    err(errors, why, n, "%s", "'dedup_key' must be a string");
  else if (cJSON_IsString(dk) && strlen(dk->valuestring) > PD_DEDUP_MAX)
    err(errors, why, n, "'dedup_key' is longer than %d characters", PD_DEDUP_MAX);
  else if ((action == PD_ACKNOWLEDGE || action == PD_RESOLVE) &&
           !(cJSON_IsString(dk) && *dk->valuestring))
    err(errors, why, n, "%s", "'dedup_key' is required for acknowledge and resolve events");
  if (action == PD_TRIGGER) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "payload");
    if (!cJSON_IsObject(p)) {
      err(errors, why, n, "%s", "'payload' is missing or not an object");
    } else {
      const char *summary = str(p, "summary"), *source = str(p, "source"),
                 *sev = str(p, "severity");
      if (!summary || !*summary)
        err(errors, why, n, "%s", "'payload.summary' is missing or blank");
      else if (strlen(summary) > PD_SUMMARY_MAX)
        err(errors, why, n, "'payload.summary' is longer than %d characters", PD_SUMMARY_MAX);
      if (!source || !*source)
        err(errors, why, n, "%s", "'payload.source' is missing or blank");
      else if (strlen(source) > ALERTS_MAX_VALUE)
        err(errors, why, n, "%s", "'payload.source' is too long");
      if (!sev || (strcmp(sev, "critical") != 0 && strcmp(sev, "error") != 0 &&
                   strcmp(sev, "warning") != 0 && strcmp(sev, "info") != 0))
        err(errors, why, n, "%s",
            "'payload.severity' must be one of critical, error, warning, info");
      static const char *const OPT[] = {"component", "group", "class", "timestamp"};
      for (size_t i = 0; i < KX_ARRAY_SIZE(OPT); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, OPT[i]);
        if (v && !cJSON_IsString(v) && !cJSON_IsNull(v))
          err(errors, why, n, "'payload.%s' must be a string", OPT[i]);
        else if (cJSON_IsString(v) && strlen(v->valuestring) > ALERTS_MAX_VALUE)
          err(errors, why, n, "'payload.%s' is too long", OPT[i]);
      }
      const cJSON *cd = cJSON_GetObjectItemCaseSensitive(p, "custom_details");
      if (cd && !cJSON_IsNull(cd) && !cJSON_IsObject(cd) && !cJSON_IsString(cd))
        err(errors, why, n, "%s", "'payload.custom_details' must be an object");
      else if (cJSON_IsObject(cd) && cJSON_GetArraySize(cd) > ALERTS_MAX_LABELS)
        err(errors, why, n, "%s", "'payload.custom_details' has too many entries");
    }
    static const char *const LISTS[] = {"links", "images"};
    for (size_t i = 0; i < KX_ARRAY_SIZE(LISTS); i++) {
      const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, LISTS[i]);
      if (l && !cJSON_IsNull(l) && !cJSON_IsArray(l))
        err(errors, why, n, "'%s' must be an array", LISTS[i]);
      else if (cJSON_IsArray(l) && cJSON_GetArraySize(l) > 32)
        err(errors, why, n, "'%s' has more than 32 entries", LISTS[i]);
    }
  }
  return why[0] ? KX_EPROTO : 0;
}

/* ISO 8601 as PagerDuty's examples write it ("2015-07-17T08:42:58.315+0000", an offset
 * without its colon) or RFC 3339. */
static int pd_time(const char *ts, int64_t *out)
{
  char buf[64];
  size_t len = strlen(ts);
  if (len < 5 || len >= sizeof(buf) - 2)
    return KX_EINVAL;
  const char *tail = ts + len - 5;
  if ((tail[0] == '+' || tail[0] == '-') && strspn(tail + 1, "0123456789") == 4) {
    snprintf(buf, sizeof(buf), "%.*s%.3s:%s", (int)(len - 5), ts, tail, tail + 3);
    ts = buf;
  }
  return time_parse_rfc3339(ts, out);
}

/* A custom detail as a label value: a string as it is, anything else as compact JSON. */
static void add_detail(cJSON *labels, const cJSON *d)
{
  if (!d->string || !*d->string || cJSON_GetObjectItemCaseSensitive(labels, d->string))
    return;
  char *text = cJSON_IsString(d) ? NULL : cJSON_PrintUnformatted(d);
  const char *v = cJSON_IsString(d) ? d->valuestring : text;
  if (v && strlen(v) <= ALERTS_MAX_VALUE && strlen(d->string) <= 128)
    cJSON_AddStringToObject(labels, d->string, v);
  free(text);
}

int alerts_parse_pagerduty(const cJSON *root, struct alert_batch *b, char *why, size_t n)
{
  int rc = alerts_pd_check(root, NULL, why, n);
  if (rc)
    return rc;
  const char *key_env = str(root, "routing_key_env");
  const char *dedup = str(root, "dedup_key");
  if (!key_env || !*key_env || !dedup || !*dedup) {
    snprintf(why, n, "%s",
             "the event lacks routing_key_env or dedup_key (the transport sets them)");
    return KX_EPROTO;
  }
  int action = alerts_pd_action(root);
  b->items = calloc(1, sizeof(*b->items));
  b->owned = cJSON_CreateObject();
  if (!b->items || !b->owned)
    return KX_ENOMEM;
  cJSON *labels = cJSON_AddObjectToObject(b->owned, "labels");
  cJSON *ann = cJSON_AddObjectToObject(b->owned, "annotations");
  if (!labels || !ann)
    return KX_ENOMEM;
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(root, "payload");
  if (action == PD_TRIGGER) {
    cJSON_AddStringToObject(labels, "alertname", str(p, "summary"));
    static const char *const KEYS[] = {"severity", "source", "component", "group", "class"};
    for (size_t i = 0; i < KX_ARRAY_SIZE(KEYS); i++)
      if (str(p, KEYS[i]) && *str(p, KEYS[i]))
        cJSON_AddStringToObject(labels, KEYS[i], str(p, KEYS[i]));
  } else {
    /* acknowledge / resolve carry no payload: the alert is named by its dedup_key. */
    cJSON_AddStringToObject(labels, "alertname", dedup);
  }
  cJSON_AddStringToObject(labels, "routing_key_env", key_env);
  cJSON_AddStringToObject(labels, "dedup_key", dedup);
  const cJSON *cd = p ? cJSON_GetObjectItemCaseSensitive(p, "custom_details") : NULL;
  const cJSON *d;
  if (cJSON_IsObject(cd)) {
    cJSON_ArrayForEach (d, cd)
      add_detail(labels, d);
  } else if (cJSON_IsString(cd) && strlen(cd->valuestring) <= ALERTS_MAX_VALUE) {
    cJSON_AddStringToObject(ann, "description", cd->valuestring);
  }
  const char *client = str(root, "client"), *client_url = str(root, "client_url");
  if (client && strlen(client) <= ALERTS_MAX_VALUE)
    cJSON_AddStringToObject(ann, "client", client);
  if (client_url && strlen(client_url) <= ALERTS_MAX_VALUE)
    cJSON_AddStringToObject(ann, "client_url", client_url);
  /* Links are kept as annotations link_1 … link_8 (shown with the page's labels). */
  const cJSON *links = cJSON_GetObjectItemCaseSensitive(root, "links");
  const cJSON *list = cJSON_IsArray(links) ? links : NULL;
  int k = 0;
  cJSON_ArrayForEach (d, list) {
    const char *href = str(d, "href");
    if (!href || strlen(href) > ALERTS_MAX_VALUE || k >= 8)
      continue;
    char name[16];
    snprintf(name, sizeof(name), "link_%d", ++k);
    cJSON_AddStringToObject(ann, name, href);
  }
  struct alert_item *it = &b->items[0];
  it->firing = action == PD_TRIGGER;
  it->labels = labels;
  it->annotations = ann;
  alerts_pd_group(key_env, dedup, it->fingerprint, sizeof(it->fingerprint));
  const char *ts = p ? str(p, "timestamp") : NULL;
  int64_t at = 0;
  if (ts && pd_time(ts, &at) == 0)
    it->starts_at = at;
  snprintf(b->group_key, sizeof(b->group_key), "%s", it->fingerprint);
  b->n = 1;
  return 0;
}

int alerts_pd_acknowledge(struct cmd_ctx *ctx,
                          const struct cmd_request *req,
                          struct cmd_reply *reply)
{
  char why[256];
  int rc = alerts_pd_check(req->payload, NULL, why, sizeof(why));
  const char *key_env = str(req->payload, "routing_key_env");
  const char *dedup = str(req->payload, "dedup_key");
  if (rc || !key_env || !dedup)
    return KX_EINVAL;
  char group[80];
  alerts_pd_group(key_env, dedup, group, sizeof(group));
  int64_t page = 0;
  rc = alerts_page_of(ctx->db, group, &page);
  if (rc == KX_ENOTFOUND) {
    LOG_INFO("alerts", "pagerduty_ack_dropped", "reason=\"no open page for the dedup_key\"");
    cmd_reply_printf(reply, "{\"status\":\"ok\",\"acknowledged\":0}");
    return 0;
  }
  if (rc)
    return rc;
  struct cmd_reply inner;
  cmd_reply_init(&inner);
  rc = paging_ack(ctx, page, "pagerduty", &inner);
  cmd_reply_free(&inner);
  if (rc && rc != KX_ESTATE)
    return rc;
  LOG_INFO("alerts", "pagerduty_ack", "page=%lld acknowledged=%d", (long long)page, rc == 0);
  cmd_reply_printf(reply, "{\"status\":\"ok\",\"acknowledged\":%d}", rc == 0 ? 1 : 0);
  return 0;
}

int alerts_pd_known_labels(struct cmd_ctx *ctx, struct alert_batch *b)
{
  /* resolve carries no payload: the alert keeps the labels its trigger had, so it is routed
   * (and its page resolved) as the trigger was. */
  if (b->n != 1 || b->items[0].firing)
    return 0;
  char *text = alerts_labels_of(ctx->db, b->items[0].fingerprint);
  cJSON *known = text ? cJSON_Parse(text) : NULL;
  free(text);
  if (!cJSON_IsObject(known)) {
    cJSON_Delete(known);
    return 0;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(b->owned, "known_labels");
  cJSON_AddItemToObject(b->owned, "known_labels", known);
  b->items[0].labels = known;
  return 0;
}
