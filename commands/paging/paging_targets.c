/*
 * paging_targets.c — the severities' targets enforced on pages (issue 11):
 *   - ack: a page of a rota still open `ack` after it began (its anchor: creation, or the
 *     release of a held page) escalates to the next step at once, like Escalate pressed by
 *     nobody; the job "page:<id>:ack-target" runs once and acknowledge/resolve cancel it with
 *     the page's other jobs;
 *   - resolve: a page acknowledged but not resolved `resolve` after it was created brings the
 *     rota's manager in (a copy of the page and a DM saying why), once; the job
 *     "page:<id>:resolve-target" is set when the page is acknowledged and cancelled by resolve.
 * Stats count the missed acknowledgements from the pages' own times (stats_targets.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/incident/incident.h"
#include "commands/oncall/oncall.h"
#include "commands/paging/paging.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"

static const struct severity *page_severity(struct cmd_ctx *ctx, const struct page_row *p)
{
  if (strcmp(p->kind, "page") != 0 || !p->rota || !p->severity)
    return NULL;
  return config_severity(ctx->config, p->severity);
}

static int schedule(
    struct cmd_ctx *ctx, const char *kind, int64_t id, const char *what, int64_t due)
{
  char key[80], ref[32];
  snprintf(key, sizeof(key), "page:%lld:%s", (long long)id, what);
  snprintf(ref, sizeof(ref), "%lld", (long long)id);
  if (due < ctx->now_ms)
    due = ctx->now_ms;
  int rc = jobs_schedule(ctx->db, kind, key, due, ref, ctx->now_ms);
  return rc == KX_EEXISTS ? 0 : rc;
}

int paging_schedule_ack_target(struct cmd_ctx *ctx, const struct page_row *p)
{
  const struct severity *sev = page_severity(ctx, p);
  if (!sev || sev->ack_ms <= 0 || p->held_until || p->state != PAGE_OPEN)
    return 0;
  return schedule(ctx, CMD_JOB_PAGE_ACK_TARGET, p->id, "ack-target", p->anchor_at + sev->ack_ms);
}

int paging_schedule_resolve_target(struct cmd_ctx *ctx, int64_t page_id)
{
  struct page_row p;
  int rc = pages_get(ctx->db, page_id, &p);
  if (rc)
    return rc;
  const struct severity *sev = page_severity(ctx, &p);
  if (sev && sev->resolve_ms > 0 && p.state == PAGE_ACKED)
    rc = schedule(ctx, CMD_JOB_PAGE_RESOLVE_TARGET, p.id, "resolve-target",
                  p.created_at + sev->resolve_ms);
  page_row_clear(&p);
  return rc;
}

static int64_t job_page(const struct job *job)
{
  char *end = NULL;
  long long id = job->ref ? strtoll(job->ref, &end, 10) : 0;
  return end && *end == '\0' && id > 0 ? (int64_t)id : 0;
}

static int note_incident(struct cmd_ctx *ctx, const struct page_row *p, const char *text)
{
  if (!p->incident_id)
    return 0;
  int rc = incident_timeline_add(ctx, p->incident_id, "escalation", NULL, text, ctx->now_ms, true);
  return rc == KX_ENOTFOUND ? 0 : rc;
}

int paging_job_ack_target(struct cmd_ctx *ctx, const struct job *job)
{
  int64_t id = job_page(job);
  struct page_row p;
  int rc = id ? pages_get(ctx->db, id, &p) : KX_ENOTFOUND;
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  const struct severity *sev = page_severity(ctx, &p);
  if (!sev || p.state != PAGE_OPEN || p.held_until) {
    page_row_clear(&p);
    return 0;
  }
  char target[32];
  time_format_duration(sev->ack_ms, target, sizeof(target));
  char *text = kx_asprintf("Page #%lld not acknowledged within the %s target of %s: escalated",
                           (long long)id, sev->name, target);
  int64_t step = p.next_step;
  rc = text ? note_incident(ctx, &p, text) : KX_ENOMEM;
  free(text);
  LOG_INFO("paging", "ack_target_missed", "page=%lld severity=%s step=%lld", (long long)id,
           sev->name, (long long)step);
  page_row_clear(&p);
  if (rc)
    return rc;
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  rc = paging_escalate(ctx, id, step, NULL, &reply);
  cmd_reply_free(&reply);
  /* Nobody left to escalate to (or already past that step): the miss still counts in stats. */
  return rc == KX_ESTATE ? 0 : rc;
}

static int tell_manager(struct cmd_ctx *ctx,
                        const struct page_row *p,
                        const struct severity *sev,
                        const struct person *mgr)
{
  char target[32], open[32];
  time_format_duration(sev->resolve_ms, target, sizeof(target));
  time_format_duration(ctx->now_ms - p->created_at, open, sizeof(open));
  struct buf b;
  md_init(&b);
  md_printf(&b, ":rotating_light: Page #%lld ", (long long)p->id);
  md_bold(&b, p->title);
  md_printf(&b, " (%s) was acknowledged by ", sev->name);
  paging_md_who(&b, ctx, p->acked_by);
  md_printf(&b,
            " but is not resolved within its %s target (open for %s). You are brought in as the "
            "rota's manager; the page follows.",
            target, open);
  struct msg *m = msg_new();
  int rc = m ? msg_section_take(m, &b) : KX_ENOMEM;
  buf_free(&b);
  if (rc == 0)
    rc = msg_set_fallback(m, "A page is not resolved within its target");
  if (rc == 0) {
    rc = out_dm(ctx, mgr, m, OUTBOX_URGENT, NULL, NULL);
    if (rc == KX_ENOTFOUND)
      rc = 0; /* no Slack id: the page copy goes by the person's other ways */
  }
  msg_free(m);
  return rc == 0 ? paging_notify(ctx, p, mgr, PAGING_STEP_MANAGER_TARGET) : rc;
}

int paging_job_resolve_target(struct cmd_ctx *ctx, const struct job *job)
{
  int64_t id = job_page(job);
  struct page_row p;
  int rc = id ? pages_get(ctx->db, id, &p) : KX_ENOTFOUND;
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  const struct severity *sev = page_severity(ctx, &p);
  const struct rota *r = config_rota(ctx->config, p.rota);
  /* A page of an incident: the incident's own resolve target brings the manager in. */
  if (!sev || !r || p.state != PAGE_ACKED || p.incident_id) {
    page_row_clear(&p);
    return 0;
  }
  struct oncall_view v;
  const struct person *mgr = NULL;
  bool have_view = oncall_at(ctx, r, ctx->now_ms, &v) == 0;
  if (have_view)
    mgr = oncall_manager(ctx, &v);
  char target[32];
  time_format_duration(sev->resolve_ms, target, sizeof(target));
  char *text =
      mgr ? kx_asprintf(
                "Page #%lld not resolved within the %s target (%s): %s (manager) brought in",
                (long long)id, sev->name, target, cmd_person_name(mgr))
          : kx_asprintf("Page #%lld not resolved within the %s target (%s); no manager configured",
                        (long long)id, sev->name, target);
  rc = text ? note_incident(ctx, &p, text) : KX_ENOMEM;
  free(text);
  if (rc == 0 && mgr)
    rc = tell_manager(ctx, &p, sev, mgr);
  if (rc == 0 && !mgr)
    LOG_WARN("paging", "resolve_target_no_manager", "page=%lld rota=%s", (long long)id, r->name);
  LOG_INFO("paging", "resolve_target_missed", "page=%lld severity=%s manager=%s", (long long)id,
           sev->name, mgr ? mgr->id : "-");
  if (have_view)
    oncall_view_free(&v);
  page_row_clear(&p);
  return rc;
}
