/*
 * paging_escalation.c — the escalation policy as due times in the jobs table: one pending
 * job per page at a time ("page:<id>:step:<g>"), run by the scheduler on the bot's clock; the
 * business-hours hold ("page:<id>:release"); and Escalate, which fires the next step now.
 * A job that finds its page acknowledged, resolved or already past that step does nothing,
 * so a restart, a redelivery or a race between a click and a timer never notifies twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/paging/paging.h"
#include "lib/kx.h"
#include "lib/log.h"

#define MIN_ROUND_MS (60 * 1000LL)

/* By hand only: the rota's ladder for pages whose severity has no policy. */
static struct policy_step implicit_steps[] = {
    {0, NOTIFY_PRIMARY, NULL},
    {0, NOTIFY_SECONDARY, NULL},
    {0, NOTIFY_MANAGER, NULL},
};
static const struct policy implicit_policy = {(char *)"(rota ladder)", implicit_steps, 3, 0};

int64_t paging_steps_total(const struct policy *p)
{
  return p && p->n_steps ? (int64_t)p->n_steps * ((int64_t)p->repeat + 1) : 0;
}

int64_t paging_round_ms(const struct policy *p)
{
  if (!p || !p->n_steps)
    return MIN_ROUND_MS;
  int64_t last = p->steps[p->n_steps - 1].after_ms;
  int64_t gap = p->n_steps >= 2 ? last - p->steps[p->n_steps - 2].after_ms : 0;
  int64_t round = last + gap;
  return round < MIN_ROUND_MS ? MIN_ROUND_MS : round;
}

int64_t paging_step_offset(const struct policy *p, int64_t g)
{
  if (!p || !p->n_steps || g < 0)
    return 0;
  int64_t n = (int64_t)p->n_steps;
  return (g / n) * paging_round_ms(p) + p->steps[g % n].after_ms;
}

const struct policy *paging_policy(struct cmd_ctx *ctx, const struct page_row *p, bool *automatic)
{
  *automatic = false;
  if (!p->rota || strcmp(p->kind, "page") != 0)
    return NULL;
  const struct policy *pol = config_policy(ctx->config, p->policy);
  if (pol) {
    *automatic = true;
    return pol;
  }
  return &implicit_policy;
}

static void step_key(char *buf, size_t n, int64_t page, int64_t g)
{
  snprintf(buf, n, "page:%lld:step:%lld", (long long)page, (long long)g);
}

int paging_schedule_step(struct cmd_ctx *ctx, const struct page_row *p, int64_t g)
{
  bool automatic;
  const struct policy *pol = paging_policy(ctx, p, &automatic);
  if (!pol || !automatic || g >= paging_steps_total(pol))
    return 0;
  int64_t due = p->anchor_at + paging_step_offset(pol, g);
  if (due < ctx->now_ms)
    due = ctx->now_ms;
  char key[80], ref[64];
  step_key(key, sizeof(key), p->id, g);
  snprintf(ref, sizeof(ref), "%lld:%lld", (long long)p->id, (long long)g);
  int rc = jobs_schedule(ctx->db, CMD_JOB_PAGE_STEP, key, due, ref, ctx->now_ms);
  return rc == KX_EEXISTS ? 0 : rc;
}

static int parse_ref(const char *ref, int64_t *page, int64_t *step)
{
  if (!ref)
    return KX_EINVAL;
  char *end;
  *page = strtoll(ref, &end, 10);
  if (end == ref || *page <= 0)
    return KX_EINVAL;
  *step = 0;
  if (*end == ':')
    *step = strtoll(end + 1, &end, 10);
  return *end ? KX_EINVAL : 0;
}

/* Fire steps from g on until one notifies someone (by hand) or just g (on time); advance.
 * Clears *p in every case (the page has changed). */
static int advance(struct cmd_ctx *ctx, struct page_row *p, int64_t g, bool by_hand, int64_t *fired)
{
  bool automatic;
  const struct policy *pol = paging_policy(ctx, p, &automatic);
  int64_t total = paging_steps_total(pol);
  int notified = 0;
  while (g < total) {
    notified = paging_fire_step(ctx, p, g, by_hand);
    if (notified < 0) {
      page_row_clear(p);
      return notified;
    }
    g++;
    if (!by_hand || notified > 0)
      break;
  }
  if (fired)
    *fired = notified;
  int64_t id = p->id;
  page_row_clear(p);
  /* The first step on time is the page itself; every later one (and any by hand) escalates. */
  return pages_set_step(ctx->db, id, g, notified > 0 && (by_hand || g - 1 > 0));
}

int paging_job_step(struct cmd_ctx *ctx, const struct job *job)
{
  int64_t id, g;
  if (parse_ref(job->ref, &id, &g)) {
    LOG_ERROR("paging", "bad_job_ref", "key=%s", job->key);
    return 0;
  }
  struct page_row p;
  int rc = pages_get(ctx->db, id, &p);
  if (rc == KX_ENOTFOUND)
    return 0;
  if (rc)
    return rc;
  if (p.state != PAGE_OPEN || p.held_until || p.next_step != g) {
    LOG_INFO("paging", "step_skipped", "page=%lld step=%lld state=%d next=%lld", (long long)id,
             (long long)g, (int)p.state, (long long)p.next_step);
    page_row_clear(&p);
    return 0;
  }
  rc = advance(ctx, &p, g, false, NULL);
  if (rc == 0)
    rc = pages_get(ctx->db, id, &p);
  if (rc == 0)
    rc = paging_schedule_step(ctx, &p, p.next_step);
  page_row_clear(&p);
  if (rc == 0)
    rc = paging_refresh(ctx, id);
  return rc;
}

/* Held pages begin: notify the first targets and start the policy from now. */
static int release(struct cmd_ctx *ctx, int64_t id)
{
  int rc = pages_release(ctx->db, id, ctx->now_ms);
  if (rc)
    return rc;
  struct page_row p;
  rc = pages_get(ctx->db, id, &p);
  if (rc)
    return rc;
  /* Steps due at once count from the release, like at creation. */
  bool automatic;
  const struct policy *pol = paging_policy(ctx, &p, &automatic);
  int64_t first = p.next_step, upto = p.next_step, total = paging_steps_total(pol);
  while (automatic && upto < total && p.anchor_at + paging_step_offset(pol, upto) <= ctx->now_ms)
    upto++;
  if (upto > first)
    rc = pages_set_step(ctx->db, id, upto, false);
  page_row_clear(&p);
  if (rc == 0)
    rc = pages_get(ctx->db, id, &p);
  if (rc)
    return rc;
  rc = paging_start(ctx, &p, first, upto);
  page_row_clear(&p);
  LOG_INFO("paging", "released", "page=%lld", (long long)id);
  return rc;
}

int paging_job_release(struct cmd_ctx *ctx, const struct job *job)
{
  int64_t id, unused;
  if (parse_ref(job->ref, &id, &unused))
    return 0;
  int rc = release(ctx, id);
  if (rc == KX_ESTATE || rc == KX_ENOTFOUND)
    return 0; /* resolved, or released by hand */
  if (rc == 0)
    rc = paging_refresh(ctx, id);
  return rc;
}

int paging_escalate(
    struct cmd_ctx *ctx, int64_t page_id, int64_t step, const char *who, struct cmd_reply *reply)
{
  struct page_row p;
  int rc = pages_get(ctx->db, page_id, &p);
  if (rc == KX_ENOTFOUND) {
    cmd_reply_printf(reply, "There is no page #%lld.", (long long)page_id);
    return KX_ENOTFOUND;
  }
  if (rc)
    return rc;
  bool automatic;
  const struct policy *pol = paging_policy(ctx, &p, &automatic);
  if (p.state == PAGE_RESOLVED || !pol) {
    cmd_reply_printf(reply,
                     p.state == PAGE_RESOLVED ? "Page #%lld is already resolved."
                                              : "Page #%lld has no one to escalate to.",
                     (long long)page_id);
    page_row_clear(&p);
    return KX_ESTATE;
  }
  if (step >= 0 && step != p.next_step) {
    cmd_reply_printf(reply, "Page #%lld has already been escalated past that step.",
                     (long long)page_id);
    page_row_clear(&p);
    return KX_ESTATE;
  }
  /* Escalating a held page by hand releases it: the first targets now, then the next step. */
  bool was_held = p.held_until != 0;
  page_row_clear(&p);
  /* The steps and the hold only: the ack target (issue 11) stays, the page is still open. */
  char prefix[64], held[64];
  snprintf(prefix, sizeof(prefix), "page:%lld:step:", (long long)page_id);
  snprintf(held, sizeof(held), "page:%lld:release", (long long)page_id);
  rc = jobs_cancel_prefix(ctx->db, prefix, ctx->now_ms);
  if (rc >= 0)
    rc = jobs_cancel(ctx->db, held, ctx->now_ms);
  if (rc < 0)
    return rc;
  if (was_held) {
    rc = release(ctx, page_id);
    if (rc)
      return rc;
    jobs_cancel_prefix(ctx->db, prefix, ctx->now_ms);
  }
  rc = pages_get(ctx->db, page_id, &p);
  if (rc)
    return rc;
  int64_t total = paging_steps_total(pol);
  if (p.next_step >= total) {
    cmd_reply_printf(reply, "Page #%lld has gone through every step of its escalation.",
                     (long long)page_id);
    page_row_clear(&p);
    return was_held ? 0 : KX_ESTATE;
  }
  int64_t fired = 0, from = p.next_step;
  bool open = p.state == PAGE_OPEN;
  rc = advance(ctx, &p, from, true, &fired);
  if (rc)
    return rc;
  rc = pages_get(ctx->db, page_id, &p);
  if (rc)
    return rc;
  /* Still unacknowledged: the policy goes on from the step after. */
  if (open)
    rc = paging_schedule_step(ctx, &p, p.next_step);
  page_row_clear(&p);
  if (rc == 0)
    rc = paging_refresh(ctx, page_id);
  if (rc)
    return rc;
  struct buf b;
  md_init(&b);
  md_printf(&b, "Escalated page #%lld", (long long)page_id);
  if (who) {
    md_raw(&b, " (by ");
    paging_md_who(&b, ctx, who);
    md_raw(&b, ")");
  }
  md_raw(&b, fired > 0 ? "." : "; nobody new was left to notify.");
  cmd_reply_printf(reply, "%s", b.data ? b.data : "");
  buf_free(&b);
  LOG_INFO("paging", "escalated_by_hand", "page=%lld from_step=%lld", (long long)page_id,
           (long long)from);
  return 0;
}
