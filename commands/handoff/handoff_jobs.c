/*
 * handoff_jobs.c — the timed work around a handoff: the manager notice when nobody took the
 * pager, the reminder to the incoming primary before their shift, and the daily digest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/handoff/handoff.h"
#include "commands/handoff/handoff_internal.h"
#include "commands/oncall/oncall.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/kx.h"
#include "lib/log.h"

/* ---- nobody took the pager ------------------------------------------------------------------- */

static int notice_markup(struct cmd_ctx *ctx,
                         const struct rota *r,
                         const struct handoff_row *h,
                         struct buf *b)
{
  char t[40], d[32];
  md_printf(b, ":warning: Nobody has pressed *I have the pager* for *");
  md_text(b, r->name);
  md_printf(b, "* within %s of the handoff at %s. Incoming primary: ",
            time_format_duration(handoff_ack_timeout(ctx), d, sizeof(d)),
            oncall_fmt_time(r, h->due_at, t, sizeof(t)));
  if (h->in_primary)
    md_person(b, h->in_primary);
  else
    md_raw(b, "_nobody_");
  return md_raw(b, ".");
}

static int tell_manager(struct cmd_ctx *ctx, const struct rota *r, const struct handoff_row *h)
{
  struct buf b;
  md_init(&b);
  notice_markup(ctx, r, h, &b);
  int rc = 0;
  if (h->manager)
    rc = handoff_dm(ctx, h->manager, b.data, "Nobody has taken the pager", OUTBOX_URGENT);
  struct msg *m = rc == 0 ? msg_new() : NULL;
  if (rc == 0 && !m)
    rc = KX_ENOMEM;
  if (rc == 0) {
    struct buf t;
    md_init(&t);
    if (h->manager) {
      md_person(&t, h->manager);
      md_raw(&t, ": ");
    }
    md_raw(&t, b.data);
    msg_set_fallback(m, "Nobody has taken the pager");
    rc = msg_section_take(m, &t);
    buf_free(&t);
  }
  if (rc == 0 && h->channel && h->ts) {
    rc = out_post_thread(ctx, h->channel, h->ts, m, OUTBOX_URGENT);
  } else if (rc == 0 && !h->manager) {
    /* No manager and no thread to reply in: say it in the handoff channel. */
    int n = out_announce(ctx, OUT_HANDOFF, r->handoff_channel, m, OUTBOX_URGENT, NULL, NULL);
    rc = n < 0 ? n : 0;
  }
  msg_free(m);
  buf_free(&b);
  return rc;
}

int handoff_job_ack(struct cmd_ctx *ctx, const struct job *job)
{
  int64_t id = job->ref ? strtoll(job->ref, NULL, 10) : 0;
  struct handoff_row h;
  int rc = handoffs_get(ctx->db, id, &h);
  if (rc == KX_ENOTFOUND)
    return 0;
  if (rc)
    return rc;
  const struct rota *r = config_rota(ctx->config, h.rota);
  if (r && !h.acked_at && !h.manager_told_at) {
    rc = handoffs_manager_told(ctx->db, h.id, ctx->now_ms);
    handoff_row_clear(&h);
    if (rc == 0)
      rc = handoffs_get(ctx->db, id, &h);
    if (rc)
      return rc;
    rc = tell_manager(ctx, r, &h);
    if (rc == 0 && h.channel && h.ts) {
      struct msg *m = handoff_message(ctx, r, &h);
      rc = m ? out_update(ctx, h.channel, h.ts, m, OUTBOX_NORMAL) : KX_ENOMEM;
      msg_free(m);
    }
    LOG_WARN("handoff", "pager_not_taken", "rota=%s shift=%lld manager=%s", r->name,
             (long long)h.shift_index, h.manager ? h.manager : "-");
  }
  handoff_row_clear(&h);
  return rc;
}

/* ---- the reminder before a shift ---------------------------------------------------------------
 */

int handoff_job_remind(struct cmd_ctx *ctx, const struct job *job)
{
  const struct rota *r = config_rota(ctx->config, job->ref);
  int64_t k = handoff_key_index(job->key);
  struct rota_shift s;
  if (!r || k < 0 || rota_shift_by_index(r, k, &s) != 0 || s.start_ms == s.end_ms ||
      s.start_ms <= ctx->now_ms)
    return 0; /* gone, skipped, or too late: the handoff itself will tell them */
  struct oncall_view in, now;
  int rc = oncall_at(ctx, r, s.start_ms, &in);
  if (rc)
    return rc == KX_EDB || rc == KX_ENOMEM ? rc : 0;
  rc = oncall_at(ctx, r, ctx->now_ms, &now);
  if (rc) {
    oncall_view_free(&in);
    return rc == KX_EDB || rc == KX_ENOMEM ? rc : 0;
  }
  const char *who = in.now.primary.person;
  bool already = now.now.started && kx_streq(now.now.primary.person, who);
  if (who && !already) {
    char t1[40], t2[40];
    struct buf b;
    md_init(&b);
    md_raw(&b, ":calendar: Heads-up: you are the *primary* on-call for *");
    md_text(&b, r->name);
    md_printf(&b, "* from %s to %s (shift #%lld).", oncall_fmt_time(r, s.start_ms, t1, sizeof(t1)),
              oncall_fmt_time(r, s.end_ms, t2, sizeof(t2)), (long long)k + 1);
    if (in.now.secondary.person) {
      md_raw(&b, " Secondary: ");
      md_person(&b, in.now.secondary.person);
      md_raw(&b, ".");
    }
    if (r->manager) {
      md_raw(&b, " Manager: ");
      md_person(&b, r->manager);
      md_raw(&b, ".");
    }
    md_printf(&b,
              "\nCan't make it? `/oncall swap @someone #%lld`, `/oncall override` or "
              "`/oncall away`.",
              (long long)k + 1);
    rc = handoff_dm(ctx, who, b.data, "Heads-up: your on-call shift is coming", OUTBOX_NORMAL);
    if (rc == 0)
      LOG_INFO("handoff", "reminded", "rota=%s shift=%lld person=%s", r->name, (long long)k, who);
    buf_free(&b);
  }
  oncall_view_free(&in);
  oncall_view_free(&now);
  return rc;
}

/* ---- the daily digest --------------------------------------------------------------------------
 */

int handoff_job_digest(struct cmd_ctx *ctx, const struct job *job)
{
  const struct rota *r = config_rota(ctx->config, job->ref);
  if (!r)
    return 0;
  /* The next one first: a digest that is skipped must not break the chain. */
  int rc = handoff_schedule_digest(ctx, r, job->due_at);
  if (rc)
    return rc;
  if (ctx->now_ms - job->due_at > HANDOFF_DIGEST_STALE_MS) {
    LOG_INFO("handoff", "digest_stale", "rota=%s key=%s", r->name, job->key);
    return 0;
  }
  struct oncall_view v;
  rc = oncall_at(ctx, r, ctx->now_ms, &v);
  if (rc)
    return rc == KX_EDB || rc == KX_ENOMEM ? rc : 0;
  const char *who = v.now.started ? v.now.primary.person : NULL;
  int64_t since;
  if (handoff_prev_digest(r, job->due_at, &since) != 0)
    since = job->due_at - 24LL * 3600 * 1000;
  if (who) {
    char t[40];
    struct buf b;
    md_init(&b);
    md_raw(&b, ":sunrise: *Your on-call digest for ");
    md_text(&b, r->name);
    md_printf(&b, "*, %s\n", oncall_fmt_time(r, job->due_at, t, sizeof(t)));
    rc = handoff_section_pages(ctx, r, who, since, ctx->now_ms, &b);
    if (rc == 0)
      rc = handoff_section_incidents(ctx, r, &b);
    if (rc == 0)
      rc = handoff_section_actions(ctx, r, who, &b);
    if (rc == 0)
      rc = handoff_dm(ctx, who, b.data, "Your on-call digest", OUTBOX_BULK);
    if (rc == 0)
      LOG_INFO("handoff", "digest", "rota=%s person=%s", r->name, who);
    buf_free(&b);
  }
  /* The manager's digest (issue 14): the overdue action items, when there are any. */
  const char *m = r->manager;
  if (rc == 0 && m) {
    struct buf b;
    md_init(&b);
    md_raw(&b, ":clipboard: *Overdue action items* (");
    md_text(&b, r->name);
    md_raw(&b, ", for its manager)\n");
    int n = handoff_section_overdue(ctx, &b);
    rc = n < 0 ? n : 0;
    if (n > 0)
      rc = handoff_dm(ctx, m, b.data, "Overdue action items", OUTBOX_BULK);
    if (n > 0 && rc == 0)
      LOG_INFO("handoff", "manager_digest", "rota=%s manager=%s overdue=%d", r->name, m, n);
    buf_free(&b);
  }
  oncall_view_free(&v);
  return rc;
}

/* ---- /metrics -----------------------------------------------------------------------------------
 */

int handoff_metrics(struct cmd_ctx *ctx, struct buf *out)
{
  struct handoff_totals *t = NULL;
  size_t n = 0;
  int rc = handoffs_totals(ctx->db, &t, &n);
  if (rc == 0)
    rc = buf_puts(out,
                  "# HELP klaxon_handoffs_total Shift handoffs by rota and what became of them "
                  "(posted on time, late, missed while down; the pager taken; the manager told)\n"
                  "# TYPE klaxon_handoffs_total counter\n");
  for (size_t i = 0; rc == 0 && i < n; i++) {
    static const char *const results[] = {"on_time", "late", "missed", "pager_taken",
                                          "manager_told"};
    const int64_t v[] = {t[i].on_time, t[i].late, t[i].missed, t[i].taken, t[i].told};
    for (size_t k = 0; rc == 0 && k < KX_ARRAY_SIZE(results); k++)
      rc = buf_printf(out, "klaxon_handoffs_total{rota=\"%s\",result=\"%s\"} %lld\n",
                      t[i].rota ? t[i].rota : "none", results[k], (long long)v[k]);
  }
  handoff_totals_free(t, n);
  return rc;
}
