/*
 * report_jobs.c — the monthly report, sent once on the first working day of each month: a
 * post in the handoff channel with the summary and an email to every rota's manager. The
 * job's key names the month it is sent in ("report.monthly:2026-12"), so scheduling it again
 * (each start-up does) is a no-op, and the scheduler marks it done in the transaction that
 * writes the post and the emails: once, whatever restarts or kills happen around it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/links.h"
#include "commands/core/msg.h"
#include "commands/core/names.h"
#include "commands/core/out.h"
#include "commands/handoff/handoff.h"
#include "commands/oncall/rota.h"
#include "commands/report/report.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "storage/jobs.h"

/* A report more than this late (the bot was down for long) is not sent any more. */
#define REPORT_STALE_MS (7 * MS_PER_DAY)

int report_send_at(const struct config *c, int year, int month, int64_t *at_ms)
{
  const struct rota *r = c->n_rotas ? &c->rotas[0] : NULL;
  const char *zone = r ? rota_zone(r) : (c->timezone ? c->timezone : "UTC");
  int start = r && r->has_hours ? r->hours_start_min : 8 * 60;
  struct kx_date d = {year, month, 1};
  for (int i = 0; i < 31; i++, d = date_add_days(d, 1)) {
    bool working = r ? handoff_working_day(r, d) : date_weekday(d) >= 1 && date_weekday(d) <= 5;
    if (working)
      return tz_from_local(zone, d.y, d.m, d.d, start / 60, start % 60, 0, at_ms);
  }
  return KX_ENOTFOUND;
}

/* The next sending strictly after `after_ms`: this month's if still ahead, else next month's. */
static int schedule_next(struct cmd_ctx *ctx, int64_t after_ms)
{
  const struct config *c = ctx->config;
  struct kx_local l;
  int rc = tz_to_local(c->timezone ? c->timezone : "UTC", after_ms, &l);
  if (rc)
    return rc;
  int y = l.y, m = l.m;
  for (int tries = 0; tries < 3; tries++) {
    int64_t at;
    rc = report_send_at(c, y, m, &at);
    if (rc == 0 && at > after_ms) {
      char key[96], ref[32];
      snprintf(key, sizeof(key), "%s:%04d-%02d", CMD_JOB_REPORT_MONTHLY, y, m);
      snprintf(ref, sizeof(ref), "%04d-%02d", m == 1 ? y - 1 : y, m == 1 ? 12 : m - 1);
      rc = jobs_schedule(ctx->db, CMD_JOB_REPORT_MONTHLY, key, at, ref, ctx->now_ms);
      return rc == KX_EEXISTS ? 0 : rc;
    }
    if (rc && rc != KX_ENOTFOUND)
      return rc;
    y = m == 12 ? y + 1 : y;
    m = m == 12 ? 1 : m + 1;
  }
  LOG_WARN("report", "no_working_day", "month=%04d-%02d", y, m);
  return 0;
}

int report_startup(struct cmd_ctx *ctx)
{
  return schedule_next(ctx, ctx->now_ms);
}

static const char *name_of(void *arg, const char *id)
{
  const struct person *p = config_person(arg, id);
  return p ? (p->name ? p->name : p->id) : id;
}

/* The largest page attached to the email (base64 grows it by a third; render_email caps a
 * message at EMAIL_MAX_BYTES). A larger one is only linked. */
#define REPORT_ATTACH_MAX ((size_t)512 * 1024)

/* Each rota's manager with an email address, once; the HTML page attached (html may be NULL). */
static int email_managers(struct cmd_ctx *ctx,
                          const struct report *r,
                          const char *subject,
                          const char *text,
                          const char *html)
{
  char name[48];
  snprintf(name, sizeof(name), "klaxon-report-%04d-%02d.html", r->year, r->month);
  const struct config *c = ctx->config;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < c->n_rotas; i++) {
    const char *id = c->rotas[i].manager;
    const struct person *p = id ? config_person(c, id) : NULL;
    bool seen = false;
    for (size_t k = 0; k < i; k++)
      seen = seen || kx_streq(c->rotas[k].manager, id);
    if (!p || !p->email || seen)
      continue;
    rc = html && strlen(html) <= REPORT_ATTACH_MAX
             ? out_email_attach(ctx, p->email, subject, text, name, "text/html", html, OUTBOX_BULK)
             : out_email(ctx, p->email, subject, text, OUTBOX_BULK);
    if (rc == 0)
      LOG_INFO("report", "emailed", "manager=%s", p->id);
  }
  return rc;
}

/* The summary in sections cut at line ends, each under Block Kit's limit (a section would
 * otherwise be cut short with an ellipsis), at most REPORT_MAX_SECTIONS of them. */
#define REPORT_MAX_SECTIONS 40
static int sections(struct msg *m, const char *markup)
{
  struct buf chunk;
  md_init(&chunk);
  int rc = 0, n = 0;
  const char *p = markup;
  while (*p && rc == 0 && n < REPORT_MAX_SECTIONS) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
    if (chunk.len && chunk.len + len > MSG_SECTION_MAX - 200) {
      rc = msg_section_take(m, &chunk);
      n++;
    }
    if (rc == 0)
      rc = buf_append(&chunk, p, len);
    p += len;
  }
  if (rc == 0 && chunk.len && n < REPORT_MAX_SECTIONS)
    rc = msg_section_take(m, &chunk);
  buf_free(&chunk);
  return rc;
}

static int send(struct cmd_ctx *ctx, const struct report *r)
{
  char path[64], subject[96];
  snprintf(path, sizeof(path), "/reports/%04d-%02d.html", r->year, r->month);
  char *url = links_feed_url(ctx, path);
  struct buf b;
  md_init(&b);
  int rc = report_markup(ctx, r, url, &b);
  snprintf(subject, sizeof(subject), "klaxon: the report of %04d-%02d", r->year, r->month);
  struct msg *m = rc == 0 ? msg_new() : NULL;
  if (rc == 0 && !m)
    rc = KX_ENOMEM;
  if (rc == 0)
    rc = msg_set_fallback(m, subject);
  if (rc == 0)
    rc = sections(m, b.data ? b.data : "");
  if (rc == 0) {
    const struct config *c = ctx->config;
    int n = out_announce(ctx, OUT_HANDOFF, c->n_rotas ? c->rotas[0].handoff_channel : NULL, m,
                         OUTBOX_BULK, NULL, NULL);
    rc = n < 0 ? n : 0;
  }
  char *plain = rc == 0 ? md_to_plain(b.data ? b.data : "", name_of, (void *)ctx->config) : NULL;
  if (rc == 0 && !plain)
    rc = KX_ENOMEM;
  struct buf html;
  buf_init(&html, REPORT_HTML_MAX);
  if (rc == 0 && report_html(ctx, r, &html) != 0)
    buf_free(&html); /* too big or out of memory: the email carries the link only */
  if (rc == 0)
    rc = email_managers(ctx, r, subject, plain, html.data);
  buf_free(&html);
  free(plain);
  msg_free(m);
  buf_free(&b);
  free(url);
  return rc;
}

int report_job_monthly(struct cmd_ctx *ctx, const struct job *job)
{
  /* The next one first: a report that is skipped must not break the chain. */
  int rc = schedule_next(ctx, job->due_at);
  if (rc)
    return rc;
  int y, m;
  if (report_parse_month(job->ref, &y, &m) != 0) {
    LOG_WARN("report", "bad_job", "key=%s", job->key);
    return 0;
  }
  if (ctx->now_ms - job->due_at > REPORT_STALE_MS) {
    LOG_INFO("report", "stale", "key=%s", job->key);
    return 0;
  }
  struct report r;
  rc = report_compute(ctx, y, m, &r);
  if (rc)
    return rc;
  rc = send(ctx, &r);
  if (rc == 0)
    LOG_INFO("report", "sent", "month=%s incidents=%lld pages=%lld", job->ref,
             (long long)r.incidents, (long long)r.pages.pages);
  report_free(&r);
  return rc;
}
