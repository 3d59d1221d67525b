/*
 * paging_actions.c — what people do with pages: the buttons on the page message
 * (Acknowledge, Escalate, Resolve and the resolve reasons), `/oncall page`, `/oncall
 * test-page`, `/oncall pages`, `/oncall escalate`, and the paging series for /metrics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/people.h"
#include "commands/incident/incident.h"
#include "commands/paging/paging.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/alerts.h"

static int not_found(struct cmd_reply *reply, int64_t id)
{
  if (reply)
    cmd_reply_printf(reply, "There is no page #%lld.", (long long)id);
  return KX_ENOTFOUND;
}

static void cancel_jobs(struct cmd_ctx *ctx, int64_t id)
{
  char prefix[64];
  snprintf(prefix, sizeof(prefix), "page:%lld:", (long long)id);
  jobs_cancel_prefix(ctx->db, prefix, ctx->now_ms);
}

static void reply_who(struct cmd_ctx *ctx,
                      struct cmd_reply *reply,
                      const char *pre,
                      const char *who,
                      const char *post)
{
  struct buf b;
  md_init(&b);
  md_raw(&b, pre);
  paging_md_who(&b, ctx, who);
  md_raw(&b, post);
  cmd_reply_printf(reply, "%s", b.data ? b.data : "");
  buf_free(&b);
}

int paging_ack(struct cmd_ctx *ctx, int64_t page_id, const char *who, struct cmd_reply *reply)
{
  struct page_row p;
  int rc = pages_get(ctx->db, page_id, &p);
  if (rc == KX_ENOTFOUND)
    return not_found(reply, page_id);
  if (rc)
    return rc;
  enum page_state st = p.state;
  char *by = p.acked_by ? kx_strdup(p.acked_by) : NULL;
  bool post = strcmp(p.kind, "post") == 0;
  int64_t created = p.created_at;
  int64_t incident = p.incident_id;
  page_row_clear(&p);
  if (st != PAGE_OPEN) {
    if (st == PAGE_ACKED)
      reply_who(ctx, reply, "Already acknowledged by ", by, ".");
    else
      cmd_reply_printf(reply, "%s #%lld is already resolved.", post ? "Alert" : "Page",
                       (long long)page_id);
    free(by);
    return KX_ESTATE;
  }
  free(by);
  rc = pages_ack(ctx->db, page_id, who, ctx->now_ms);
  if (rc)
    return rc;
  cancel_jobs(ctx, page_id);
  rc = paging_pd_follow(ctx, page_id, "acknowledge"); /* a PagerDuty incident in step */
  if (rc == 0)
    rc = paging_schedule_resolve_target(ctx, page_id);
  if (rc == 0)
    rc = paging_refresh(ctx, page_id);
  if (rc)
    return rc;
  char d[32];
  if (incident) {
    char *text = kx_asprintf("Page #%lld acknowledged (%s after it was sent)", (long long)page_id,
                             time_format_duration(ctx->now_ms - created, d, sizeof(d)));
    rc = text ? incident_timeline_add(ctx, incident, "ack", who, text, ctx->now_ms, false)
              : KX_ENOMEM;
    free(text);
    if (rc && rc != KX_ENOTFOUND)
      return rc;
  }
  if (post)
    cmd_reply_printf(reply, "Acknowledged alert #%lld after %s.", (long long)page_id,
                     time_format_duration(ctx->now_ms - created, d, sizeof(d)));
  else
    cmd_reply_printf(reply, "Acknowledged page #%lld after %s; its escalation is stopped.",
                     (long long)page_id, time_format_duration(ctx->now_ms - created, d, sizeof(d)));
  LOG_INFO("paging", "acknowledged", "page=%lld who=%s ms=%lld", (long long)page_id, who,
           (long long)(ctx->now_ms - created));
  return 0;
}

int paging_resolve(struct cmd_ctx *ctx,
                   int64_t page_id,
                   const char *who,
                   const char *reason,
                   struct cmd_reply *reply)
{
  int rc = pages_resolve(ctx->db, page_id, who, reason, ctx->now_ms);
  if (rc == KX_ENOTFOUND)
    return not_found(reply, page_id);
  if (rc == KX_ESTATE) {
    if (reply)
      cmd_reply_printf(reply, "Page #%lld is already resolved.", (long long)page_id);
    return KX_ESTATE;
  }
  if (rc)
    return rc;
  cancel_jobs(ctx, page_id);
  rc = paging_pd_follow(ctx, page_id, "resolve"); /* a PagerDuty incident in step */
  if (rc == 0)
    rc = paging_refresh(ctx, page_id);
  if (rc == 0 && reply)
    cmd_reply_printf(
        reply, "Resolved page #%lld.%s", (long long)page_id,
        reason ? "" : " Why? Pick a reason on the page (it feeds the false-positive rate).");
  LOG_INFO("paging", "resolved", "page=%lld who=%s reason=%s", (long long)page_id, who ? who : "-",
           reason ? reason : "-");
  return rc;
}

/* "42" or "42:rest" -> 42 and a pointer to rest (NULL when none). */
static int64_t value_id(const char *v, const char **rest)
{
  if (rest)
    *rest = NULL;
  if (!v)
    return 0;
  char *end;
  long long id = strtoll(v, &end, 10);
  if (end == v || id <= 0)
    return 0;
  if (*end == ':' && rest)
    *rest = end + 1;
  else if (*end)
    return 0;
  return id;
}

static int bad_button(struct cmd_reply *reply)
{
  cmd_reply_printf(reply, "That button does not name a page I know.");
  return KX_EINVAL;
}

int paging_action_ack(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  int64_t id = value_id(req->action_value, NULL);
  if (!id)
    return bad_button(reply);
  return paging_ack(ctx, id, paging_who(ctx, req), reply);
}

int paging_action_escalate(struct cmd_ctx *ctx,
                           const struct cmd_request *req,
                           struct cmd_reply *reply)
{
  const char *rest;
  int64_t id = value_id(req->action_value, &rest);
  if (!id || !rest)
    return bad_button(reply);
  char *end;
  long long step = strtoll(rest, &end, 10);
  if (end == rest || *end || step < 0)
    return bad_button(reply);
  return paging_escalate(ctx, id, step, paging_who(ctx, req), reply);
}

int paging_action_resolve(struct cmd_ctx *ctx,
                          const struct cmd_request *req,
                          struct cmd_reply *reply)
{
  int64_t id = value_id(req->action_value, NULL);
  if (!id)
    return bad_button(reply);
  return paging_resolve(ctx, id, paging_who(ctx, req), NULL, reply);
}

/* The page so far, in the new incident's timeline: when it was sent, and who acknowledged it. */
static int page_history(struct cmd_ctx *ctx, int64_t incident, const struct page_row *p)
{
  char *text = kx_asprintf("Page #%lld sent: %s", (long long)p->id, p->title ? p->title : "");
  int rc = text ? incident_timeline_add(ctx, incident, "page", NULL, text, p->created_at, false)
                : KX_ENOMEM;
  free(text);
  if (rc == 0 && p->acked_at) {
    char d[32];
    text = kx_asprintf("Page #%lld acknowledged (%s after it was sent)", (long long)p->id,
                       time_format_duration(p->acked_at - p->created_at, d, sizeof(d)));
    rc = text ? incident_timeline_add(ctx, incident, "ack", p->acked_by, text, p->acked_at, false)
              : KX_ENOMEM;
    free(text);
  }
  return rc;
}

int paging_action_declare(struct cmd_ctx *ctx,
                          const struct cmd_request *req,
                          struct cmd_reply *reply)
{
  int64_t id = value_id(req->action_value, NULL);
  if (!id)
    return bad_button(reply);
  struct page_row p;
  int rc = pages_get(ctx->db, id, &p);
  if (rc == KX_ENOTFOUND)
    return not_found(reply, id);
  if (rc)
    return rc;
  if (p.incident_id) {
    /* A double click, or someone was quicker. */
    cmd_reply_printf(reply, "Page #%lld is already incident #%lld.", (long long)id,
                     (long long)p.incident_id);
    page_row_clear(&p);
    return KX_EINVAL;
  }
  const struct person *who = cmd_person_for_user(ctx, req->platform, req->user);
  struct incident_new n = {
      .title = p.title && *p.title ? p.title : "Incident from a page",
      .severity = p.severity,
      .description = p.summary,
      .declared_by_person = who ? who->id : NULL,
      .declared_by_user = req->user,
      .platform = req->platform,
      .origin_channel = req->channel,
      .impact_start_ms = p.started_at && p.started_at <= ctx->now_ms ? p.started_at : 0,
      .rota = p.rota,
      .from_page = true,
  };
  int64_t incident = 0;
  rc = incident_declare(ctx, &n, &incident, reply);
  if (rc == 0 && incident)
    rc = pages_set_incident(ctx->db, id, incident);
  if (rc == 0 && incident)
    rc = page_history(ctx, incident, &p);
  if (rc == 0)
    rc = paging_refresh(ctx, id);
  LOG_INFO("paging", "incident_declared", "page=%lld incident=%lld", (long long)id,
           (long long)incident);
  page_row_clear(&p);
  return rc;
}

int paging_action_reason(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         struct cmd_reply *reply)
{
  const char *reason;
  int64_t id = value_id(req->action_value, &reason);
  if (!id || !paging_reason_valid(reason))
    return bad_button(reply);
  int rc = pages_set_reason(ctx->db, id, reason);
  if (rc == KX_ENOTFOUND)
    return not_found(reply, id);
  if (rc == KX_ESTATE) {
    cmd_reply_printf(reply, "Page #%lld is not resolved yet.", (long long)id);
    return rc;
  }
  if (rc == 0)
    rc = paging_refresh(ctx, id);
  if (rc == 0)
    cmd_reply_printf(reply, "Thanks: page #%lld is recorded as %s.", (long long)id,
                     paging_reason_label(reason));
  return rc;
}

/* ---- slash commands ------------------------------------------------------------------------ */

/* The severity of a page by hand: the first that pages only the primary at any hour. */
static const struct severity *manual_severity(const struct config *c)
{
  for (size_t i = 0; i < c->n_severities; i++) {
    const struct severity *s = &c->severities[i];
    if (s->page_primary && !s->page_secondary && !s->page_business_hours)
      return s;
  }
  return c->n_severities ? &c->severities[0] : NULL;
}

int paging_cmd_page(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const struct cmd_args *args,
                    struct cmd_reply *reply)
{
  const char *target = args->argv[0];
  const struct rota *r = config_rota(ctx->config, target);
  const struct person *who = r ? NULL : cmd_person_arg(ctx, req->platform, target);
  char uid[64] = "";
  if (!r && !who && (cmd_mention_id(target, uid, sizeof(uid)) != 0 || !*uid)) {
    char *esc = md_escape(target);
    cmd_reply_printf(reply, "`%s` is neither a rota nor someone I know. ", esc ? esc : "");
    cmd_usage(reply, args->def);
    free(esc);
    return KX_EINVAL;
  }
  int first = 1;
  const struct severity *sev = NULL;
  if (r && args->argc > 2 && config_severity(ctx->config, args->argv[1])) {
    sev = config_severity(ctx->config, args->argv[1]);
    first = 2;
  }
  if (r && !sev)
    sev = manual_severity(ctx->config);
  char *text = md_unescape(args->rest[first]);
  const char *by = paging_who(ctx, req);
  struct page_new n = {
      .kind = "page",
      .rota = r ? r->name : NULL,
      .severity = sev ? sev->name : NULL,
      .person = who,
      .user = (!r && !who) ? uid : NULL,
      .title = text,
      .source = "manual",
      .created_by = by,
  };
  int64_t id = 0;
  int rc = paging_create(ctx, &n, &id);
  free(text);
  if (rc)
    return rc;
  struct buf b;
  md_init(&b);
  md_printf(&b, "Paging ");
  if (r) {
    md_raw(&b, "the ");
    md_bold(&b, r->name);
    md_raw(&b, " on-call");
  } else if (who) {
    md_person(&b, who->id);
  } else {
    md_user(&b, uid);
  }
  md_printf(&b, " (page #%lld). You will see here when it is acknowledged: `/oncall pages`.",
            (long long)id);
  cmd_reply_printf(reply, "%s", b.data ? b.data : "");
  buf_free(&b);
  return 0;
}

int paging_cmd_test_page(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         const struct cmd_args *args,
                         struct cmd_reply *reply)
{
  (void)args;
  const struct person *who = cmd_person_for_user(ctx, req->platform, req->user);
  struct page_new n = {
      .kind = "test",
      .person = who,
      .user = who ? NULL : req->user,
      .title = "delivery check",
      .summary =
          "This is a test page you asked for with /oncall test-page. Press Acknowledge to "
          "check that buttons work too. Nothing else happens.",
      .source = "test",
      .created_by = who ? who->id : req->user,
  };
  int64_t id = 0;
  int rc = paging_create(ctx, &n, &id);
  if (rc)
    return rc;
  cmd_reply_printf(reply, "Test page #%lld is on its way to you as a direct message.",
                   (long long)id);
  return 0;
}

int paging_cmd_pages(struct cmd_ctx *ctx,
                     const struct cmd_request *req,
                     const struct cmd_args *args,
                     struct cmd_reply *reply)
{
  (void)req;
  (void)args;
  struct page_row *rows = NULL;
  size_t n = 0;
  int rc = pages_list_open(ctx->db, 20, &rows, &n);
  if (rc)
    return rc;
  if (n == 0)
    cmd_reply_printf(reply, "No open pages.");
  struct buf b;
  md_init(&b);
  for (size_t i = 0; i < n; i++) {
    const struct page_row *p = &rows[i];
    md_printf(&b, "• #%lld ", (long long)p->id);
    if (p->severity) {
      md_raw(&b, "[");
      md_text(&b, p->severity);
      md_raw(&b, "] ");
    }
    md_bold(&b, p->title);
    if (p->rota) {
      md_raw(&b, " — ");
      md_text(&b, p->rota);
    }
    if (p->held_until) {
      char at[40];
      md_printf(&b, " — held until %s", time_format_utc(p->held_until, at, sizeof(at)));
    } else if (p->state == PAGE_ACKED) {
      md_raw(&b, " — acknowledged by ");
      paging_md_who(&b, ctx, p->acked_by);
    } else {
      md_raw(&b, " — not acknowledged");
    }
    char *line = paging_attempts_line(ctx, p->id);
    if (line) {
      md_raw(&b, "\n      ");
      md_text(&b, line);
    }
    free(line);
    md_raw(&b, "\n");
  }
  if (n)
    cmd_reply_printf(reply, "*Open pages*\n%s", b.data ? b.data : "");
  buf_free(&b);
  pages_free(rows, n);
  return 0;
}

int paging_cmd_escalate(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        const struct cmd_args *args,
                        struct cmd_reply *reply)
{
  const char *arg = args->argv[0][0] == '#' ? args->argv[0] + 1 : args->argv[0];
  int64_t id = value_id(arg, NULL);
  if (!id) {
    cmd_usage(reply, args->def);
    cmd_reply_printf(reply, " (PAGE: the page's number, as `/oncall pages` lists it)");
    return KX_EINVAL;
  }
  return paging_escalate(ctx, id, -1, paging_who(ctx, req), reply);
}

/* ---- /metrics ------------------------------------------------------------------------------ */

static const double ACK_BOUNDS[] = {30, 60, 120, 300, 600, 900, 1800, 3600, 7200};

int paging_metrics(struct cmd_ctx *ctx, struct buf *out)
{
  int64_t received = alerts_received_total(ctx->db);
  int rc = buf_printf(out,
                      "# HELP klaxon_alerts_received_total Alerts received in accepted webhooks "
                      "(repeats included)\n# TYPE klaxon_alerts_received_total counter\n"
                      "klaxon_alerts_received_total %lld\n",
                      (long long)(received < 0 ? 0 : received));
  struct page_rota_totals *t = NULL;
  size_t n = 0;
  if (rc == 0)
    rc = pages_rota_totals(ctx->db, &t, &n);
  if (rc == 0)
    rc = buf_puts(out,
                  "# HELP klaxon_pages_total Pages by rota and what became of them "
                  "(created, acknowledged, resolved, escalated)\n"
                  "# TYPE klaxon_pages_total counter\n");
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const char *results[] = {"created", "acknowledged", "resolved", "escalated"};
    int64_t v[] = {t[i].created, t[i].acked, t[i].resolved, t[i].escalated};
    for (size_t k = 0; rc == 0 && k < 4; k++)
      rc = buf_printf(out, "klaxon_pages_total{rota=\"%s\",result=\"%s\"} %lld\n",
                      *t[i].rota ? t[i].rota : "none", results[k], (long long)v[k]);
  }
  page_rota_totals_free(t, n);
  int64_t *d = NULL;
  size_t nd = 0;
  if (rc == 0)
    rc = pages_ack_durations(ctx->db, &d, &nd);
  if (rc == 0)
    rc = buf_puts(out,
                  "# HELP klaxon_page_ack_seconds Time from page to acknowledgement\n"
                  "# TYPE klaxon_page_ack_seconds histogram\n");
  double sum = 0;
  for (size_t i = 0; i < nd; i++)
    sum += (double)d[i] / 1000.0;
  for (size_t b = 0; rc == 0 && b <= KX_ARRAY_SIZE(ACK_BOUNDS); b++) {
    size_t count = 0;
    for (size_t i = 0; i < nd; i++)
      if (b == KX_ARRAY_SIZE(ACK_BOUNDS) || (double)d[i] / 1000.0 <= ACK_BOUNDS[b])
        count++;
    if (b < KX_ARRAY_SIZE(ACK_BOUNDS))
      rc = buf_printf(out, "klaxon_page_ack_seconds_bucket{le=\"%g\"} %zu\n", ACK_BOUNDS[b], count);
    else
      rc = buf_printf(out, "klaxon_page_ack_seconds_bucket{le=\"+Inf\"} %zu\n", count);
  }
  if (rc == 0)
    rc = buf_printf(out, "klaxon_page_ack_seconds_sum %.3f\nklaxon_page_ack_seconds_count %zu\n",
                    sum, nd);
  free(d);
  return rc;
}
