/*
 * status_checks.c — what a check result or a heartbeat changes: the stored state, the
 * component's daily history, and an alert raised (after down_after, or a missed beat) or
 * resolved (on recovery, or the next beat) through the generic-webhook alert path.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/names.h"
#include "commands/paging/alerts.h"
#include "commands/status/status.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"

static int64_t day_of(int64_t ms)
{
  return ms >= 0 ? ms / MS_PER_DAY : -1 - (-ms - 1) / MS_PER_DAY;
}

int status_in_maintenance(struct cmd_ctx *ctx, const char *component)
{
  if (!component)
    return 0;
  struct status_window w;
  int rc = status_window_active(ctx->db, component, ctx->now_ms, &w);
  status_window_clear(&w);
  return rc;
}

static const char *label(const cJSON *labels, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

int status_alert_in_maintenance(struct cmd_ctx *ctx, const cJSON *labels)
{
  const struct config *c = ctx->config;
  const char *named = label(labels, "component");
  if (named && config_component(c, named))
    return status_in_maintenance(ctx, named);
  for (size_t i = 0; c->status_page.comp && i < c->status_page.n_components; i++) {
    const struct status_component *k = &c->status_page.comp[i];
    bool all = k->n_match > 0;
    for (size_t j = 0; all && j < k->n_match; j++) {
      const char *v = label(labels, k->match_keys[j]);
      all = v && strcmp(v, k->match_values[j]) == 0;
    }
    if (all)
      return status_in_maintenance(ctx, k->name);
  }
  return 0;
}

/* Raise (firing) or resolve the alert of check or heartbeat NAME through the webhook path. */
static int alert(struct cmd_ctx *ctx,
                 const char *kind,
                 const char *name,
                 const char *component,
                 const char *severity,
                 const char *rota,
                 bool firing,
                 const char *summary)
{
  cJSON *root = cJSON_CreateObject();
  cJSON *details = root ? cJSON_AddObjectToObject(root, "details") : NULL;
  char title[160], key[128];
  snprintf(title, sizeof(title), "%s %s %s", kind, name, firing ? "down" : "up");
  if (strcmp(kind, "heartbeat") == 0)
    snprintf(title, sizeof(title), "heartbeat %s missed", name);
  else
    snprintf(title, sizeof(title), "check %s down", name);
  snprintf(key, sizeof(key), "%s:%s", kind, name);
  if (!details || !cJSON_AddStringToObject(root, "title", title) ||
      !cJSON_AddStringToObject(root, "severity", severity ? severity : "critical") ||
      !cJSON_AddStringToObject(root, "source", "klaxon") ||
      !cJSON_AddStringToObject(root, "dedup_key", key) ||
      !cJSON_AddStringToObject(root, "status", firing ? "firing" : "resolved") ||
      !cJSON_AddStringToObject(details, kind, name) ||
      (component && !cJSON_AddStringToObject(details, "component", component)) ||
      (rota && !cJSON_AddStringToObject(details, "rota", rota)) ||
      (summary && !cJSON_AddStringToObject(details, "summary", summary))) {
    cJSON_Delete(root);
    return KX_ENOMEM;
  }
  struct alert_batch b;
  char why[256];
  int rc = alerts_parse(ALERT_SRC_WEBHOOK, root, &b, why, sizeof(why));
  if (rc == 0) {
    struct alerts_result res;
    rc = alerts_ingest(ctx, &b, &res);
    alert_batch_free(&b);
    LOG_INFO("status", firing ? "alert_raised" : "alert_resolved",
             "kind=%s name=%s pages_created=%zu pages_resolved=%zu", kind, name, res.pages_created,
             res.pages_resolved);
  } else {
    LOG_ERROR("status", "alert_refused", "kind=%s name=%s rc=%d", kind, name, rc);
  }
  cJSON_Delete(root);
  return rc;
}

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *cut(const char *s)
{
  if (!s || !*s)
    return NULL;
  size_t n = strlen(s);
  return kx_strndup(s, n > STATUS_DETAIL_MAX ? STATUS_DETAIL_MAX : n);
}

static int one_result(struct cmd_ctx *outer, const cJSON *res)
{
  /* Each result carries when it completed ("at"); a batch is stored a little later. */
  struct cmd_ctx local = *outer, *ctx = &local;
  const cJSON *at = cJSON_GetObjectItemCaseSensitive(res, "at");
  if (cJSON_IsNumber(at) && at->valuedouble > 0 && at->valuedouble <= (double)outer->now_ms)
    local.now_ms = (int64_t)at->valuedouble;
  const struct check_config *cc = config_check(ctx->config, jstr(res, "name"));
  if (!cc)
    return 0; /* a check the config no longer has: nothing to record */
  bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "ok"));
  const cJSON *ms = cJSON_GetObjectItemCaseSensitive(res, "ms");
  struct status_check st;
  int rc = status_check_get(ctx->db, cc->name, &st);
  if (rc == KX_ENOTFOUND) {
    st.name = kx_strdup(cc->name);
    st.up = 1;
    rc = st.name ? 0 : KX_ENOMEM;
  }
  if (rc)
    return rc;
  free(st.detail);
  free(st.warn);
  st.detail = ok ? NULL : cut(jstr(res, "detail"));
  st.warn = cut(jstr(res, "warn"));
  st.last_at = ctx->now_ms;
  st.last_ms = cJSON_IsNumber(ms) ? ms->valuedouble : 0;
  bool maint = status_in_maintenance(ctx, cc->component) == 1;
  if (ok) {
    if (st.firing)
      rc = alert(ctx, "check", cc->name, cc->component, cc->severity, cc->rota, false, NULL);
    st.up = 1;
    st.firing = 0;
    st.down_since = 0;
  } else {
    if (st.up || !st.down_since)
      st.down_since = ctx->now_ms;
    st.up = 0;
    /* During maintenance a failure is recorded, never paged (issue 13). */
    if (!st.firing && !maint && ctx->now_ms - st.down_since >= cc->down_after_ms) {
      char summary[STATUS_DETAIL_MAX + 64];
      snprintf(summary, sizeof(summary), "%s failing since %lld ms ago: %s",
               cc->http ? cc->http : cc->tcp, (long long)(ctx->now_ms - st.down_since),
               st.detail ? st.detail : "no answer");
      rc = alert(ctx, "check", cc->name, cc->component, cc->severity, cc->rota, true, summary);
      st.firing = rc == 0;
    }
  }
  if (rc == 0)
    rc = status_check_put(ctx->db, &st);
  if (rc == 0 && cc->component && !maint)
    rc = status_day_result(ctx->db, cc->component, day_of(ctx->now_ms), ok);
  status_check_clear(&st);
  return rc;
}

/* The runner sends results in batches, {"results": [{name, ok, ms, detail, warn}, …]}, one
 * transaction for many checks (a commit is an fsync; one per check would bound the rate by the
 * disk). A single result object is accepted too. */
int status_action_check(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *r)
{
  (void)r;
  if (req->platform != CMD_PLATFORM_HTTP || !req->payload)
    return KX_EAUTH;
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(req->payload, "results");
  if (!cJSON_IsArray(list))
    return one_result(ctx, req->payload);
  const cJSON *it;
  int rc = 0;
  cJSON_ArrayForEach (it, list) {
    if ((rc = one_result(ctx, it)) != 0)
      break;
  }
  return rc;
}

static char *beat_key(const char *name)
{
  return kx_asprintf("heartbeat:%s", name);
}

int status_action_heartbeat(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *r)
{
  if (req->platform != CMD_PLATFORM_HTTP || !req->payload)
    return KX_EAUTH;
  const struct heartbeat_config *hb = config_heartbeat(ctx->config, jstr(req->payload, "name"));
  if (!hb) {
    cmd_reply_printf(r, "no such heartbeat");
    return KX_ENOTFOUND;
  }
  struct status_check st;
  int rc = status_check_get(ctx->db, hb->name, &st);
  if (rc == KX_ENOTFOUND) {
    st.name = kx_strdup(hb->name);
    rc = st.name ? 0 : KX_ENOMEM;
  }
  if (rc)
    return rc;
  if (st.firing)
    rc = alert(ctx, "heartbeat", hb->name, hb->component, hb->severity, hb->rota, false, NULL);
  st.up = 1;
  st.firing = 0;
  st.down_since = 0;
  st.last_at = ctx->now_ms;
  free(st.detail);
  st.detail = NULL;
  char *key = beat_key(hb->name);
  if (rc == 0)
    rc = status_check_put(ctx->db, &st);
  if (rc == 0)
    rc = key ? jobs_upsert(ctx->db, CMD_JOB_STATUS_HEARTBEAT, key,
                           ctx->now_ms + hb->every_ms + hb->grace_ms, hb->name, ctx->now_ms)
             : KX_ENOMEM;
  if (rc == 0 && hb->component)
    rc = status_day_result(ctx->db, hb->component, day_of(ctx->now_ms), true);
  int64_t due = ctx->now_ms + hb->every_ms + hb->grace_ms;
  if (rc == 0)
    cmd_reply_printf(r, "{\"status\":\"ok\",\"next_due\":%lld}", (long long)due);
  free(key);
  status_check_clear(&st);
  return rc;
}

/* The beat did not come in every + grace: raise once (the next beat resolves). */
int status_job_heartbeat(struct cmd_ctx *ctx, const struct job *job)
{
  const struct heartbeat_config *hb = config_heartbeat(ctx->config, job->ref);
  if (!hb)
    return 0;
  struct status_check st;
  int rc = status_check_get(ctx->db, hb->name, &st);
  if (rc == KX_ENOTFOUND) {
    st.name = kx_strdup(hb->name);
    st.last_at = 0;
    rc = st.name ? 0 : KX_ENOMEM;
  }
  if (rc)
    return rc;
  if (!st.firing && status_in_maintenance(ctx, hb->component) != 1) {
    char summary[200];
    char since[64];
    if (st.last_at)
      time_format_utc(st.last_at, since, sizeof(since));
    snprintf(summary, sizeof(summary), "no beat since %s (every %lld s, grace %lld s)",
             st.last_at ? since : "klaxon started", (long long)(hb->every_ms / 1000),
             (long long)(hb->grace_ms / 1000));
    rc = alert(ctx, "heartbeat", hb->name, hb->component, hb->severity, hb->rota, true, summary);
    st.firing = rc == 0;
    st.up = 0;
    st.down_since = st.down_since ? st.down_since : ctx->now_ms;
    free(st.detail);
    st.detail = kx_strdup(summary);
    if (rc == 0)
      rc = status_check_put(ctx->db, &st);
    if (rc == 0 && hb->component)
      rc = status_day_result(ctx->db, hb->component, day_of(ctx->now_ms), false);
  }
  status_check_clear(&st);
  return rc;
}

/* A window's start or end: nothing to change in the state (it is computed from the window at
 * each `now`); the job is what makes the end happen on time when nobody looks — the log line
 * and the day's history. */
int status_job_window(struct cmd_ctx *ctx, const struct job *job)
{
  LOG_INFO("status", "maintenance_edge", "key=%s ref=%s", job->key, job->ref ? job->ref : "");
  if (job->ref && config_component(ctx->config, job->ref))
    return status_day_worst(ctx->db, job->ref, day_of(ctx->now_ms), STATUS_MAINTENANCE);
  return 0;
}

int status_schedule_window(struct cmd_ctx *ctx, const struct status_window *w, int64_t id);
int status_schedule_window(struct cmd_ctx *ctx, const struct status_window *w, int64_t id)
{
  char key[64];
  snprintf(key, sizeof(key), "window:%lld:start", (long long)id);
  int rc =
      jobs_schedule(ctx->db, CMD_JOB_STATUS_WINDOW, key, w->from_ms, w->component, ctx->now_ms);
  if (rc && rc != KX_EEXISTS)
    return rc;
  snprintf(key, sizeof(key), "window:%lld:end", (long long)id);
  rc = jobs_schedule(ctx->db, CMD_JOB_STATUS_WINDOW, key, w->to_ms, w->component, ctx->now_ms);
  return rc == KX_EEXISTS ? 0 : rc;
}

/* At boot: a heartbeat with no pending job gets one (a beat is due every + grace from now), and
 * the config's maintenance windows are stored. */
int status_startup(struct cmd_ctx *ctx)
{
  const struct config *c = ctx->config;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < c->n_heartbeats; i++) {
    const struct heartbeat_config *hb = &c->heartbeats[i];
    char *key = beat_key(hb->name);
    if (!key)
      return KX_ENOMEM;
    rc = jobs_pending(ctx->db, key);
    if (rc == 0)
      rc = jobs_upsert(ctx->db, CMD_JOB_STATUS_HEARTBEAT, key,
                       ctx->now_ms + hb->every_ms + hb->grace_ms, hb->name, ctx->now_ms);
    else if (rc > 0)
      rc = 0;
    free(key);
  }
  for (size_t i = 0; rc == 0 && i < c->n_maintenance; i++) {
    const struct maintenance_config *m = &c->maintenance[i];
    struct status_window w = {0, m->component, m->from_ms, m->to_ms, m->text, "config"};
    int64_t id = 0;
    if (m->to_ms <= ctx->now_ms)
      continue;
    rc = status_window_add(ctx->db, &w, ctx->now_ms, &id);
    if (rc == KX_EEXISTS)
      rc = 0;
    else if (rc == 0)
      rc = status_schedule_window(ctx, &w, id);
  }
  return rc;
}
