/*
 * alerts_email.c — alert routes that mail (issue 11): `email: [person id or address …]` mails
 * each new firing alert at once; with `digest: next_business_day` the alert waits in
 * storage/alert_mail.h and one digest mail goes at the start of the next business day (the
 * business hours of the route's `hours:` rota, else the first rota with hours, else the first
 * rota, whose default is Mon–Fri 08:00–18:00). The digest is a durable job per due instant
 * ("alerts:digest:route<i>@<due>"): alerts arriving before it join it, a restart sends it
 * once, and it marks its alerts sent in the same transaction as the mail's outbox rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/out.h"
#include "commands/oncall/rota.h"
#include "commands/paging/alerts.h"
#include "lib/buf.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "storage/alert_mail.h"

#define DIGEST_MAX_ALERTS 200 /* alerts listed in one digest mail; the rest are counted */
#define BUSINESS_SCAN_STEP_MS (15LL * 60 * 1000)
#define BUSINESS_SCAN_MAX 200 /* 50 hours in 15-minute steps: longer than any business day */

static const char *str(const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The route's recipients as addresses, comma-separated; NULL when none has one. */
static char *recipients(const struct config *c, const struct alert_route *r)
{
  struct buf b;
  buf_init(&b, (size_t)16 * 1024);
  for (size_t i = 0; i < r->n_email; i++) {
    const struct person *p = config_person(c, r->email[i]);
    const char *addr = p ? p->email : r->email[i];
    if (addr && strchr(addr, '@'))
      buf_printf(&b, "%s%s", b.len ? "," : "", addr);
  }
  if (!b.len) {
    buf_free(&b);
    return NULL;
  }
  return buf_take(&b);
}

static int mail_each(struct cmd_ctx *ctx, const char *list, const char *subject, const char *text)
{
  char *copy = kx_strdup(list);
  if (!copy)
    return KX_ENOMEM;
  int rc = 0;
  char *save = NULL;
  for (char *a = strtok_r(copy, ",", &save); a && rc == 0; a = strtok_r(NULL, ",", &save))
    rc = out_email(ctx, a, subject, text, OUTBOX_BULK);
  free(copy);
  return rc;
}

static void alert_lines(struct buf *b, const struct alert_mail *m, const char *zone)
{
  char at[48];
  buf_printf(b, "* [%s] %s\n", m->severity ? m->severity : "-", m->title);
  if (m->summary)
    buf_printf(b, "  %s\n", m->summary);
  int64_t t = m->starts_at ? m->starts_at : m->created_at;
  buf_printf(b, "  since %s", time_format_zone(t, zone, at, sizeof(at)));
  if (m->labels && strcmp(m->labels, "{}") != 0)
    buf_printf(b, "  labels %s", m->labels);
  buf_puts(b, "\n");
}

/* The first business-hours start after the business period that holds `now` (if any). */
static int next_business_day(const struct rota *r, int64_t now, int64_t *due)
{
  int64_t t = now;
  for (int i = 0; i < BUSINESS_SCAN_MAX && rota_in_business_hours(r, t); i++)
    t += BUSINESS_SCAN_STEP_MS;
  return rota_next_business_start(r, t, due);
}

static const struct rota *hours_rota(const struct config *c, const struct alert_route *r)
{
  if (r->hours_rota)
    return config_rota(c, r->hours_rota);
  for (size_t i = 0; i < c->n_rotas; i++)
    if (c->rotas[i].has_hours)
      return &c->rotas[i];
  return c->n_rotas ? &c->rotas[0] : NULL;
}

int alerts_email(struct cmd_ctx *ctx,
                 int route,
                 const struct alert_item *it,
                 const char *severity,
                 const char *labels_json)
{
  const struct config *c = ctx->config;
  const struct alert_route *r = &c->alerts.routes[route];
  char *to = recipients(c, r);
  if (!to || !c->smtp.url) {
    LOG_WARN("alerts", "email_route_unusable", "route=%d smtp=%s", route,
             c->smtp.url ? "yes" : "no");
    free(to);
    return 0;
  }
  const char *name = str(it->labels, "alertname");
  const char *summary = str(it->annotations, "summary");
  if (!summary)
    summary = str(it->annotations, "description");
  struct alert_mail m = {
      .recipients = to,
      .title = (char *)(name ? name : "alert"),
      .summary = (char *)summary,
      .severity = (char *)severity,
      .labels = (char *)labels_json,
      .starts_at = it->starts_at,
      .created_at = ctx->now_ms,
  };
  int rc;
  if (!r->digest) {
    struct buf b;
    buf_init(&b, (size_t)64 * 1024);
    alert_lines(&b, &m, c->timezone);
    buf_puts(&b, "\nSent by klaxon (alerts.routes email).\n");
    char *subject = kx_asprintf("[klaxon] Alert [%s] %s", severity ? severity : "-", m.title);
    rc = subject && b.data ? mail_each(ctx, to, subject, b.data) : KX_ENOMEM;
    free(subject);
    buf_free(&b);
    free(to);
    return rc;
  }
  const struct rota *hr = hours_rota(c, r);
  int64_t due = 0;
  rc = hr ? next_business_day(hr, ctx->now_ms, &due) : KX_ECONFIG;
  if (rc) {
    free(to);
    LOG_ERROR("alerts", "digest_no_business_day", "route=%d err=%s", route, kx_err_name(rc));
    return rc;
  }
  char key[128], ref[96];
  snprintf(ref, sizeof(ref), "route%d@%lld", route, (long long)due);
  snprintf(key, sizeof(key), "alerts:digest:%s", ref);
  m.digest_key = ref;
  rc = alert_mail_add(ctx->db, &m, NULL);
  free(to);
  if (rc == 0)
    rc = jobs_schedule(ctx->db, CMD_JOB_ALERTS_DIGEST, key, due, ref, ctx->now_ms);
  LOG_INFO("alerts", "digest_queued", "route=%d due=%lld", route, (long long)due);
  return rc == KX_EEXISTS ? 0 : rc;
}

int alerts_job_digest(struct cmd_ctx *ctx, const struct job *job)
{
  if (!job->ref)
    return 0;
  struct alert_mail *rows = NULL;
  size_t n = 0;
  int rc = alert_mail_pending(ctx->db, job->ref, DIGEST_MAX_ALERTS + 1, &rows, &n);
  if (rc || n == 0)
    return rc;
  size_t shown = n > DIGEST_MAX_ALERTS ? DIGEST_MAX_ALERTS : n;
  struct buf b;
  buf_init(&b, (size_t)512 * 1024);
  buf_printf(&b, "%zu alert%s fired since the last business day:\n\n", shown,
             shown == 1 ? "" : "s");
  for (size_t i = 0; i < shown; i++)
    alert_lines(&b, &rows[i], ctx->config->timezone);
  if (n > shown)
    buf_puts(&b, "\n… and more: see `klaxon` alerts for the rest.\n");
  buf_puts(&b, "\nSent by klaxon (alerts.routes email, digest: next_business_day).\n");
  char *subject = kx_asprintf("[klaxon] Alert digest: %zu alert%s", shown, shown == 1 ? "" : "s");
  rc = subject && b.data ? mail_each(ctx, rows[n - 1].recipients, subject, b.data) : KX_ENOMEM;
  if (rc == 0)
    rc = alert_mail_sent(ctx->db, job->ref, ctx->now_ms);
  LOG_INFO("alerts", "digest_sent", "digest=%s alerts=%zu", job->ref, shown);
  free(subject);
  buf_free(&b);
  alert_mail_free(rows, n);
  return rc;
}
