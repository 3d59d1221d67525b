/*
 * stats_targets.c — the severities' acknowledge targets in `stats` (issue 11): per severity
 * with an `ack`, how many pages met it and how many missed it, the compliance (met of
 * measured) and the severity's own MTTA; channel posts acknowledged with their button are
 * measured against the same target, apart. Computed from the pages' times, so a page that
 * escalated on its ack target and one that was acknowledged late both count as missed.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/core/msg.h"
#include "commands/paging/stats.h"
#include "lib/kx.h"
#include "lib/timeutil.h"
#include "storage/page_targets.h"

/* 1 met, 0 missed, -1 not decided yet (open inside its target). */
static int verdict(const struct page_target_row *p, int64_t target, int64_t now)
{
  int64_t done = p->acked_at ? p->acked_at : p->resolved_at;
  if (done)
    return done - p->anchor_at <= target ? 1 : 0;
  return now - p->anchor_at > target ? 0 : -1;
}

static void count(struct stats_ack_target *x, const struct page_target_row *p, int64_t now)
{
  if (strcmp(p->kind, "post") == 0) {
    x->posts++;
    if (p->acked_at) {
      x->posts_acked++;
      x->post_ack_ms_sum += p->acked_at - p->anchor_at;
      x->posts_met += p->acked_at - p->anchor_at <= x->target_ms;
    }
    return;
  }
  int v = verdict(p, x->target_ms, now);
  if (v >= 0) {
    x->measured++;
    x->met += v;
    x->missed += !v;
  }
  if (p->acked_at) {
    x->acked++;
    x->ack_ms_sum += p->acked_at - p->anchor_at;
  }
}

int stats_targets_compute(struct cmd_ctx *ctx, struct stats_report *r)
{
  const struct config *c = ctx->config;
  struct page_target_row *rows = NULL;
  size_t n = 0;
  int rc = pages_target_rows(ctx->db, r->from_ms, r->to_ms, &rows, &n);
  if (rc)
    return rc;
  r->ack_targets = calloc(c->n_severities ? c->n_severities : 1, sizeof(*r->ack_targets));
  if (!r->ack_targets) {
    page_target_rows_free(rows, n);
    return KX_ENOMEM;
  }
  for (size_t s = 0; s < c->n_severities; s++) {
    const struct severity *sev = &c->severities[s];
    if (sev->ack_ms <= 0)
      continue;
    struct stats_ack_target x = {.target_ms = sev->ack_ms};
    for (size_t i = 0; i < n; i++)
      if (rows[i].severity && strcasecmp(rows[i].severity, sev->name) == 0)
        count(&x, &rows[i], ctx->now_ms);
    if (!x.measured && !x.acked && !x.posts)
      continue;
    if (!(x.severity = kx_strdup(sev->name))) {
      page_target_rows_free(rows, n);
      return KX_ENOMEM;
    }
    r->ack_targets[r->n_ack_targets++] = x;
  }
  page_target_rows_free(rows, n);
  return 0;
}

void stats_targets_free(struct stats_report *r)
{
  for (size_t i = 0; r->ack_targets && i < r->n_ack_targets; i++)
    free(r->ack_targets[i].severity);
  free(r->ack_targets);
  r->ack_targets = NULL;
  r->n_ack_targets = 0;
}

void stats_targets_markup(const struct stats_report *r, struct buf *b)
{
  if (!r->n_ack_targets)
    return;
  md_raw(b, "*Acknowledge targets* (per severity)\n");
  for (size_t i = 0; i < r->n_ack_targets; i++) {
    const struct stats_ack_target *x = &r->ack_targets[i];
    char t[32], d[32];
    md_raw(b, "• ");
    md_bold(b, x->severity);
    md_printf(b, " (ack within %s): ", time_format_duration(x->target_ms, t, sizeof(t)));
    if (x->measured)
      md_printf(b, "%lld of %lld met (%.0f%%), %lld missed%s", (long long)x->met,
                (long long)x->measured, 100.0 * (double)x->met / (double)x->measured,
                (long long)x->missed, x->missed ? " :warning:" : " :white_check_mark:");
    else
      md_raw(b, "no page measured yet");
    if (x->acked)
      md_printf(b, "; MTTA %s", time_format_duration(x->ack_ms_sum / x->acked, d, sizeof(d)));
    if (x->posts) {
      md_printf(b, "; channel alerts: %lld of %lld acknowledged", (long long)x->posts_acked,
                (long long)x->posts);
      if (x->posts_acked)
        md_printf(b, ", in %s on average, %lld within the target",
                  time_format_duration(x->post_ack_ms_sum / x->posts_acked, d, sizeof(d)),
                  (long long)x->posts_met);
    }
    md_raw(b, "\n");
  }
}

void stats_targets_json(const struct stats_report *r, cJSON *o)
{
  cJSON *all = cJSON_AddObjectToObject(o, "ack_targets");
  for (size_t i = 0; all && i < r->n_ack_targets; i++) {
    const struct stats_ack_target *x = &r->ack_targets[i];
    cJSON *s = cJSON_AddObjectToObject(all, x->severity);
    if (!s)
      continue;
    cJSON_AddNumberToObject(s, "target_seconds", (double)x->target_ms / 1000.0);
    cJSON_AddNumberToObject(s, "measured", (double)x->measured);
    cJSON_AddNumberToObject(s, "met", (double)x->met);
    cJSON_AddNumberToObject(s, "missed", (double)x->missed);
    if (x->measured)
      cJSON_AddNumberToObject(s, "compliance", (double)x->met / (double)x->measured);
    else
      cJSON_AddNullToObject(s, "compliance");
    if (x->acked)
      cJSON_AddNumberToObject(s, "mtta_seconds", (double)x->ack_ms_sum / (double)x->acked / 1000.0);
    else
      cJSON_AddNullToObject(s, "mtta_seconds");
    cJSON_AddNumberToObject(s, "channel_alerts", (double)x->posts);
    cJSON_AddNumberToObject(s, "channel_alerts_acknowledged", (double)x->posts_acked);
    cJSON_AddNumberToObject(s, "channel_alerts_acknowledged_in_target", (double)x->posts_met);
    if (x->posts_acked)
      cJSON_AddNumberToObject(s, "channel_alert_ack_seconds",
                              (double)x->post_ack_ms_sum / (double)x->posts_acked / 1000.0);
  }
}
