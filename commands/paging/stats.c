#include "commands/paging/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "lib/kx.h"
#include "lib/timeutil.h"
#include "storage/incident_actions.h"
#include "storage/incidents.h"

static int64_t mean(int64_t sum, int64_t n)
{
  return n > 0 ? sum / n : -1;
}

/* Incidents declared in the window, drills left out (issue 3): how many by severity (in the
 * config's order), MTTR (declaration to resolution), MTTD (impact start to declaration, for the
 * incidents whose impact began before they were declared: from a page, the alert's startsAt;
 * else as set with /incident impact-start), and the action items. */
static int incident_part(struct cmd_ctx *ctx, struct stats_report *out)
{
  struct incident *list = NULL;
  size_t n = 0;
  int rc = incidents_list(ctx->db, INCIDENTS_NO_DRILLS, out->from_ms, out->to_ms, &list, &n);
  if (rc)
    return rc;
  const struct config *c = ctx->config;
  out->incidents = (int64_t)n;
  out->by_severity = calloc(c->n_severities ? c->n_severities : 1, sizeof(*out->by_severity));
  if (!out->by_severity) {
    incidents_free(list, n);
    return KX_ENOMEM;
  }
  for (size_t s = 0; s < c->n_severities; s++) {
    int64_t count = 0;
    for (size_t i = 0; i < n; i++)
      count += strcmp(list[i].severity, c->severities[s].name) == 0;
    if (!count)
      continue;
    struct stats_severity *x = &out->by_severity[out->n_severity];
    if (!(x->severity = kx_strdup(c->severities[s].name))) {
      incidents_free(list, n);
      return KX_ENOMEM;
    }
    x->count = count;
    out->n_severity++;
  }
  int64_t ttr = 0, resolved = 0, ttd = 0, detected = 0;
  for (size_t i = 0; i < n; i++) {
    if (list[i].resolved_at) {
      ttr += list[i].resolved_at - list[i].declared_at;
      resolved++;
    }
    if (list[i].impact_start_at < list[i].declared_at) {
      ttd += list[i].declared_at - list[i].impact_start_at;
      detected++;
    }
  }
  incidents_free(list, n);
  out->mttr_ms = mean(ttr, resolved);
  out->mttd_ms = mean(ttd, detected);
  return incident_actions_count(ctx->db, out->from_ms, out->to_ms, &out->actions_total,
                                &out->actions_done);
}

int stats_compute(struct cmd_ctx *ctx, int days, struct stats_report *out)
{
  memset(out, 0, sizeof(*out));
  if (days < 1 || days > STATS_MAX_DAYS)
    return KX_EINVAL;
  out->days = days;
  out->to_ms = ctx->now_ms + 1;
  out->from_ms = ctx->now_ms - (int64_t)days * MS_PER_DAY;
  int rc = pages_stats(ctx->db, out->from_ms, out->to_ms, &out->pages);
  if (rc == 0)
    rc = pages_count_by(ctx->db, PAGE_COUNT_ROTA, out->from_ms, out->to_ms, &out->by_rota,
                        &out->n_rota);
  if (rc == 0)
    rc = pages_count_by(ctx->db, PAGE_COUNT_PERSON, out->from_ms, out->to_ms, &out->by_person,
                        &out->n_person);
  if (rc) {
    stats_report_free(out);
    return rc;
  }
  const struct page_stats *p = &out->pages;
  out->mtta_ms = mean(p->ack_ms_sum, p->acked);
  out->page_resolve_ms = mean(p->resolve_ms_sum, p->resolved);
  out->false_positive_rate =
      p->with_reason > 0 ? (double)p->false_positive / (double)p->with_reason : -1;
  rc = incident_part(ctx, out);
  if (rc == 0)
    rc = stats_targets_compute(ctx, out);
  if (rc)
    stats_report_free(out);
  return rc;
}

void stats_report_free(struct stats_report *r)
{
  page_counts_free(r->by_rota, r->n_rota);
  page_counts_free(r->by_person, r->n_person);
  for (size_t i = 0; i < r->n_severity; i++)
    free(r->by_severity[i].severity);
  free(r->by_severity);
  stats_targets_free(r);
  memset(r, 0, sizeof(*r));
}

/* "4m 10s (target 5m, met)" */
static void duration_line(struct buf *b, const char *name, int64_t ms, int64_t target)
{
  char d[32], t[32];
  md_printf(b, "• *%s*: %s", name, ms < 0 ? "n/a" : time_format_duration(ms, d, sizeof(d)));
  if (target > 0)
    md_printf(b, " (target %s%s)", time_format_duration(target, t, sizeof(t)),
              ms < 0         ? ""
              : ms <= target ? ", met :white_check_mark:"
                             : ", missed :warning:");
  md_raw(b, "\n");
}

int stats_markup(struct cmd_ctx *ctx, const struct stats_report *r, struct buf *b)
{
  const struct config *c = ctx->config;
  const struct page_stats *p = &r->pages;
  md_printf(b, "*The last %d days*\n", r->days);
  duration_line(b, "MTTA (pages)", r->mtta_ms, c->targets.mtta_ms);
  duration_line(b, "MTTR (incidents)", r->mttr_ms, c->targets.mttr_ms);
  duration_line(b, "MTTD (alert to incident)", r->mttd_ms, 0);
  duration_line(b, "Time to resolve (pages)", r->page_resolve_ms, 0);
  if (r->incidents >= 0) {
    md_printf(b, "• *Incidents*: %lld", (long long)r->incidents);
    for (size_t i = 0; i < r->n_severity; i++) {
      md_raw(b, i ? ", " : " (");
      md_text(b, r->by_severity[i].severity);
      md_printf(b, " %lld", (long long)r->by_severity[i].count);
    }
    md_raw(b, r->n_severity ? ")\n" : "\n");
  }
  md_printf(b,
            "• *Pages*: %lld, %lld acknowledged, %lld escalated (%lld escalation steps), %lld held "
            "for business hours\n",
            (long long)p->pages, (long long)p->acked, (long long)p->escalated,
            (long long)p->escalations, (long long)p->held);
  /* Page success (issue 11): pages a person acknowledged, of all pages. */
  if (p->pages > 0) {
    double ok = (double)p->acked / (double)p->pages;
    md_printf(b, "• *Page success*: %.1f%% (%lld of %lld pages acknowledged by a person)", ok * 100,
              (long long)p->acked, (long long)p->pages);
    if (c->targets.page_success >= 0)
      md_printf(b, " (target %.1f%%%s)", c->targets.page_success * 100,
                ok >= c->targets.page_success ? ", met :white_check_mark:" : ", missed :warning:");
    md_printf(b, "; %.1f attempts per page\n", (double)p->attempts / (double)p->pages);
  }
  if (r->false_positive_rate >= 0)
    md_printf(b, "• *False positives*: %.1f%% of %lld pages resolved with a reason",
              r->false_positive_rate * 100, (long long)p->with_reason);
  else
    md_raw(b, "• *False positives*: n/a (no page resolved with a reason)");
  if (c->targets.false_positive_rate >= 0)
    md_printf(b, " (target %.1f%%%s)", c->targets.false_positive_rate * 100,
              r->false_positive_rate < 0 ? ""
              : r->false_positive_rate <= c->targets.false_positive_rate
                  ? ", met :white_check_mark:"
                  : ", missed :warning:");
  md_raw(b, "\n");
  if (r->actions_total > 0)
    md_printf(b, "• *Action items*: %lld of %lld done (%.0f%%)\n", (long long)r->actions_done,
              (long long)r->actions_total,
              100.0 * (double)r->actions_done / (double)r->actions_total);
  else if (r->actions_total == 0)
    md_raw(b, "• *Action items*: none yet\n");
  stats_targets_markup(r, b);
  const struct {
    const char *title;
    const struct page_count *rows;
    size_t n;
    bool people;
  } lists[] = {{"Pages per rota", r->by_rota, r->n_rota, false},
               {"Pages per person", r->by_person, r->n_person, true}};
  for (size_t l = 0; l < 2; l++) {
    if (!lists[l].n)
      continue;
    md_printf(b, "*%s* (after hours apart)\n", lists[l].title);
    for (size_t i = 0; i < lists[l].n; i++) {
      const struct page_count *x = &lists[l].rows[i];
      md_raw(b, "• ");
      if (lists[l].people && config_person(c, x->name))
        md_person(b, x->name);
      else
        md_text(b, x->name);
      md_printf(b, ": %lld (%lld in hours, %lld after hours)\n", (long long)x->total,
                (long long)(x->total - x->after_hours), (long long)x->after_hours);
    }
  }
  return 0;
}

static void add_ms(cJSON *o, const char *name, int64_t ms, int64_t target)
{
  cJSON *m = cJSON_AddObjectToObject(o, name);
  if (!m)
    return;
  if (ms >= 0)
    cJSON_AddNumberToObject(m, "seconds", (double)ms / 1000.0);
  else
    cJSON_AddNullToObject(m, "seconds");
  if (target > 0) {
    cJSON_AddNumberToObject(m, "target_seconds", (double)target / 1000.0);
    if (ms >= 0)
      cJSON_AddBoolToObject(m, "met", ms <= target);
  }
}

static cJSON *counts_json(const struct page_count *rows, size_t n)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < n; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", rows[i].name);
    cJSON_AddNumberToObject(o, "pages", (double)rows[i].total);
    cJSON_AddNumberToObject(o, "in_hours", (double)(rows[i].total - rows[i].after_hours));
    cJSON_AddNumberToObject(o, "after_hours", (double)rows[i].after_hours);
    cJSON_AddItemToArray(a, o);
  }
  return a;
}

cJSON *stats_json(struct cmd_ctx *ctx, const struct stats_report *r)
{
  const struct config *c = ctx->config;
  const struct page_stats *p = &r->pages;
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  char from[40], to[40];
  cJSON_AddNumberToObject(o, "days", r->days);
  cJSON_AddStringToObject(o, "from", time_format_utc(r->from_ms, from, sizeof(from)));
  cJSON_AddStringToObject(o, "to", time_format_utc(r->to_ms - 1, to, sizeof(to)));
  add_ms(o, "mtta", r->mtta_ms, c->targets.mtta_ms);
  add_ms(o, "mttr", r->mttr_ms, c->targets.mttr_ms);
  add_ms(o, "mttd", r->mttd_ms, 0);
  add_ms(o, "page_time_to_resolve", r->page_resolve_ms, 0);
  cJSON *pages = cJSON_AddObjectToObject(o, "pages");
  cJSON_AddNumberToObject(pages, "total", (double)p->pages);
  cJSON_AddNumberToObject(pages, "acknowledged", (double)p->acked);
  cJSON_AddNumberToObject(pages, "resolved", (double)p->resolved);
  cJSON_AddNumberToObject(pages, "escalated", (double)p->escalated);
  cJSON_AddNumberToObject(pages, "escalations", (double)p->escalations);
  cJSON_AddNumberToObject(pages, "held_for_business_hours", (double)p->held);
  cJSON_AddItemToObject(pages, "by_rota", counts_json(r->by_rota, r->n_rota));
  cJSON_AddItemToObject(pages, "by_person", counts_json(r->by_person, r->n_person));
  cJSON *ps = cJSON_AddObjectToObject(o, "page_success");
  if (ps) {
    double ok = p->pages > 0 ? (double)p->acked / (double)p->pages : -1;
    if (ok >= 0)
      cJSON_AddNumberToObject(ps, "rate", ok);
    else
      cJSON_AddNullToObject(ps, "rate");
    cJSON_AddNumberToObject(ps, "acknowledged", (double)p->acked);
    cJSON_AddNumberToObject(ps, "pages", (double)p->pages);
    cJSON_AddNumberToObject(ps, "attempts", (double)p->attempts);
    if (c->targets.page_success >= 0) {
      cJSON_AddNumberToObject(ps, "target", c->targets.page_success);
      if (ok >= 0)
        cJSON_AddBoolToObject(ps, "met", ok >= c->targets.page_success);
    }
  }
  cJSON *fp = cJSON_AddObjectToObject(o, "false_positive_rate");
  if (r->false_positive_rate >= 0)
    cJSON_AddNumberToObject(fp, "rate", r->false_positive_rate);
  else
    cJSON_AddNullToObject(fp, "rate");
  cJSON_AddNumberToObject(fp, "false_positives", (double)p->false_positive);
  cJSON_AddNumberToObject(fp, "resolved_with_reason", (double)p->with_reason);
  if (c->targets.false_positive_rate >= 0) {
    cJSON_AddNumberToObject(fp, "target", c->targets.false_positive_rate);
    if (r->false_positive_rate >= 0)
      cJSON_AddBoolToObject(fp, "met", r->false_positive_rate <= c->targets.false_positive_rate);
  }
  cJSON *inc = cJSON_AddObjectToObject(o, "incidents");
  if (r->incidents >= 0) {
    cJSON_AddNumberToObject(inc, "total", (double)r->incidents);
    cJSON *sev = cJSON_AddObjectToObject(inc, "by_severity");
    for (size_t i = 0; i < r->n_severity; i++)
      cJSON_AddNumberToObject(sev, r->by_severity[i].severity, (double)r->by_severity[i].count);
  } else {
    cJSON_AddNullToObject(inc, "total");
  }
  stats_targets_json(r, o);
  cJSON *act = cJSON_AddObjectToObject(o, "action_items");
  if (r->actions_total >= 0) {
    cJSON_AddNumberToObject(act, "total", (double)r->actions_total);
    cJSON_AddNumberToObject(act, "done", (double)r->actions_done);
    if (r->actions_total > 0)
      cJSON_AddNumberToObject(act, "completion_rate",
                              (double)r->actions_done / (double)r->actions_total);
  } else {
    cJSON_AddNullToObject(act, "total");
  }
  return o;
}

int stats_cmd(struct cmd_ctx *ctx,
              const struct cmd_request *req,
              const struct cmd_args *args,
              struct cmd_reply *reply)
{
  (void)req;
  int days = 30;
  if (args->argc == 1) {
    const char *a = args->argv[0];
    if (strcmp(a, "7d") == 0)
      days = 7;
    else if (strcmp(a, "30d") == 0)
      days = 30;
    else if (strcmp(a, "90d") == 0)
      days = 90;
    else {
      cmd_usage(reply, args->def);
      cmd_reply_printf(reply, " (default 30d)");
      return KX_EINVAL;
    }
  }
  struct stats_report r;
  int rc = stats_compute(ctx, days, &r);
  if (rc)
    return rc;
  struct buf b;
  md_init(&b);
  stats_markup(ctx, &r, &b);
  cmd_reply_printf(reply, "%s", b.data ? b.data : "");
  buf_free(&b);
  stats_report_free(&r);
  return 0;
}
