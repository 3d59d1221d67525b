/*
 * paging_pagerduty.c — an escalation step `pagerduty:KEY_ENV` (issue 14), for teams running
 * PagerDuty and klaxon side by side while they move: the step triggers a PagerDuty incident
 * (Events API v2, dedup_key "klaxon-page-<id>"), and acknowledging or resolving the page in
 * klaxon acknowledges or resolves it there, in step. Each is an outbox row of platform
 * "pagerduty" (bot/push/pagerduty_send.c reads the routing key from KEY_ENV at send time; it is
 * never stored) and an attempt (via "pagerduty", person "pagerduty:KEY_ENV") on the page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/out.h"
#include "commands/paging/paging.h"
#include "lib/kx.h"
#include "lib/log.h"

/* PagerDuty has four severities: the most severe of the config's is critical, the next error,
 * the rest warning; a page without a severity is error. */
static const char *pd_severity(struct cmd_ctx *ctx, const struct page_row *p)
{
  const struct severity *sev = config_severity(ctx->config, p->severity);
  if (!sev)
    return "error";
  return sev->rank == 0 ? "critical" : sev->rank == 1 ? "error" : "warning";
}

static int send_event(struct cmd_ctx *ctx,
                      const struct page_row *p,
                      const char *key_env,
                      const char *action,
                      int64_t attempt)
{
  cJSON *body = cJSON_CreateObject();
  cJSON *ev = body ? cJSON_AddObjectToObject(body, "event") : NULL;
  if (!ev) {
    cJSON_Delete(body);
    return KX_ENOMEM;
  }
  char dedup[48], ref[32];
  snprintf(dedup, sizeof(dedup), "klaxon-page-%lld", (long long)p->id);
  cJSON_AddStringToObject(body, "key_env", key_env);
  cJSON_AddStringToObject(ev, "event_action", action);
  cJSON_AddStringToObject(ev, "dedup_key", dedup);
  if (strcmp(action, "trigger") == 0) {
    cJSON *pl = cJSON_AddObjectToObject(ev, "payload");
    if (pl) {
      char *summary = kx_asprintf("%.1000s", p->title);
      cJSON_AddStringToObject(pl, "summary", summary ? summary : "klaxon page");
      free(summary);
      cJSON_AddStringToObject(pl, "source", p->rota ? p->rota : "klaxon");
      cJSON_AddStringToObject(pl, "severity", pd_severity(ctx, p));
      cJSON_AddStringToObject(pl, "component", "klaxon");
      cJSON *cd = cJSON_AddObjectToObject(pl, "custom_details");
      if (cd) {
        cJSON_AddNumberToObject(cd, "klaxon_page", (double)p->id);
        if (p->severity)
          cJSON_AddStringToObject(cd, "severity", p->severity);
        if (p->summary)
          cJSON_AddStringToObject(cd, "summary", p->summary);
      }
    }
    cJSON_AddStringToObject(ev, "client", "klaxon");
    if (ctx->public_url && *ctx->public_url)
      cJSON_AddStringToObject(ev, "client_url", ctx->public_url);
  }
  snprintf(ref, sizeof(ref), "%lld", (long long)attempt);
  /* One queue per page: trigger, acknowledge and resolve arrive in that order. */
  char queue[48];
  snprintf(queue, sizeof(queue), "pagerduty:%lld", (long long)p->id);
  return out_row(ctx, "pagerduty", "enqueue", queue, body, OUTBOX_URGENT,
                 strcmp(action, "trigger") == 0 ? CMD_HOOK_PAGE_ATTEMPT : NULL,
                 strcmp(action, "trigger") == 0 ? ref : NULL, NULL);
}

int paging_pd_step(struct cmd_ctx *ctx, const struct page_row *p, int64_t step, const char *key_env)
{
  char who[160];
  snprintf(who, sizeof(who), "pagerduty:%s", key_env);
  struct page_attempt_new a = {p->id,   who, step,     0,    "pagerduty",
                               key_env, 0,   "queued", NULL, ctx->now_ms};
  int64_t id = 0;
  int rc = page_attempts_add(ctx->db, &a, &id);
  if (rc == KX_EEXISTS)
    return 0;
  if (rc)
    return rc;
  LOG_INFO("paging", "pagerduty_trigger", "page=%lld step=%lld key_env=%s", (long long)p->id,
           (long long)step, key_env);
  rc = send_event(ctx, p, key_env, "trigger", id);
  return rc ? rc : 1;
}

int paging_pd_follow(struct cmd_ctx *ctx, int64_t page_id, const char *action)
{
  struct page_attempt *a = NULL;
  size_t n = 0;
  int rc = page_attempts_list(ctx->db, page_id, &a, &n);
  if (rc)
    return rc;
  struct page_row p;
  memset(&p, 0, sizeof(p));
  bool have = false;
  /* Once per routing key, however many steps triggered it. */
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (strcmp(a[i].via, "pagerduty") != 0 || !a[i].dest)
      continue;
    bool seen = false;
    for (size_t j = 0; j < i; j++)
      seen |= strcmp(a[j].via, "pagerduty") == 0 && a[j].dest && strcmp(a[j].dest, a[i].dest) == 0;
    if (seen)
      continue;
    if (!have) {
      rc = pages_get(ctx->db, page_id, &p);
      have = rc == 0;
    }
    if (rc == 0)
      rc = send_event(ctx, &p, a[i].dest, action, a[i].id);
    if (rc == 0)
      LOG_INFO("paging", "pagerduty_follow", "page=%lld action=%s key_env=%s", (long long)page_id,
               action, a[i].dest);
  }
  if (have)
    page_row_clear(&p);
  page_attempts_free(a, n);
  return rc;
}
