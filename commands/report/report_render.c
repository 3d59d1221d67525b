/*
 * report_render.c — a report as markup (Slack, the CLI's text), JSON and CSV; the HTML page
 * is report_html.c. Names people typed or alerts carried go through md_text / the CSV quoting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/report/report.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

static const char *const MONTHS[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};

static const char *dur(int64_t ms, char *buf, size_t size)
{
  return ms < 0 ? "n/a" : time_format_duration(ms, buf, size);
}

static void duration_md(struct buf *b, const char *name, const struct report_duration *d)
{
  char x[32], t[32];
  md_printf(b, "%s %s", name, dur(d->mean_ms, x, sizeof(x)));
  if (d->target_ms > 0)
    md_printf(b, " (target %s%s)", dur(d->target_ms, t, sizeof(t)),
              d->mean_ms < 0               ? ""
              : d->mean_ms <= d->target_ms ? ", met"
                                           : ", missed");
}

static void md_who(struct cmd_ctx *ctx, struct buf *b, const char *id)
{
  if (config_person(ctx->config, id))
    md_person(b, id);
  else
    md_text(b, id);
}

static double share(int64_t part, int64_t whole)
{
  return whole > 0 ? (double)part / (double)whole : -1;
}

int report_markup(struct cmd_ctx *ctx, const struct report *r, const char *html_url, struct buf *b)
{
  char d1[40], d2[40];
  md_printf(b, "*Monthly report: %s %d* (", MONTHS[r->month - 1], r->year);
  md_text(b, r->zone);
  md_printf(b, ", %s to %s)\n", time_format_zone(r->from_ms, r->zone, d1, sizeof(d1)),
            time_format_zone(r->to_ms, r->zone, d2, sizeof(d2)));
  md_printf(b, "*Incidents*: %lld", (long long)r->incidents);
  bool first = true;
  for (size_t i = 0; i < r->n_sev; i++) {
    if (!r->sev[i].incidents)
      continue;
    md_raw(b, first ? " (" : ", ");
    first = false;
    md_text(b, r->sev[i].name);
    md_printf(b, " %lld", (long long)r->sev[i].incidents);
  }
  md_raw(b, first ? "\n" : ")\n");
  if (r->n_service) {
    md_raw(b, "By service: ");
    for (size_t i = 0; i < r->n_service; i++) {
      md_raw(b, i ? ", " : "");
      md_text(b, r->by_service[i].service);
      md_printf(b, " %lld", (long long)r->by_service[i].count);
    }
    md_raw(b, "\n");
  }
  md_raw(b, "*Response* (means)\n• All: ");
  duration_md(b, "MTTA", &r->mtta);
  duration_md(b, ", MTTR", &r->mttr);
  duration_md(b, ", MTTD", &r->mttd);
  md_raw(b, "\n");
  for (size_t i = 0; i < r->n_sev; i++) {
    const struct report_severity *s = &r->sev[i];
    if (!s->incidents && !s->mtta.count)
      continue;
    md_raw(b, "• ");
    md_text(b, s->name);
    md_raw(b, ": ");
    duration_md(b, "MTTA", &s->mtta);
    duration_md(b, ", MTTR", &s->mttr);
    duration_md(b, ", MTTD", &s->mttd);
    md_raw(b, "\n");
  }
  md_printf(b, "*MTBF*: %s\n", dur(r->mtbf_ms, d1, sizeof(d1)));
  md_printf(b, "*Pages*: %lld, %lld of them outside business hours\n", (long long)r->pages.pages,
            (long long)r->pages_after_hours);
  const struct {
    const char *title;
    const struct page_count *rows;
    size_t n;
  } lists[] = {{"Pages per rota", r->by_rota, r->n_rota},
               {"Pages per person", r->by_person, r->n_person}};
  for (size_t l = 0; l < 2; l++) {
    if (!lists[l].n)
      continue;
    md_printf(b, "*%s*\n", lists[l].title);
    for (size_t i = 0; i < lists[l].n; i++) {
      const struct page_count *x = &lists[l].rows[i];
      md_raw(b, "• ");
      if (l == 1)
        md_who(ctx, b, x->name);
      else
        md_text(b, x->name);
      md_printf(b, ": %lld (%lld in business hours, %lld outside)\n", (long long)x->total,
                (long long)(x->total - x->after_hours), (long long)x->after_hours);
    }
  }
  if (r->n_hours) {
    md_raw(b, "*Hours on call*\n");
    for (size_t i = 0; i < r->n_hours; i++) {
      md_raw(b, "• ");
      md_who(ctx, b, r->hours[i].person);
      md_printf(b, ": %.1f h primary, %.1f h secondary\n",
                (double)r->hours[i].primary_ms / MS_PER_HOUR,
                (double)r->hours[i].secondary_ms / MS_PER_HOUR);
    }
  }
  if (r->n_alerts) {
    md_raw(b, "*Noisiest alerts*\n");
    for (size_t i = 0; i < r->n_alerts; i++) {
      const struct report_page_row *a = &r->alerts[i];
      md_raw(b, "• ");
      md_text(b, a->name);
      md_printf(b, ": %lld pages", (long long)a->pages);
      double fp = share(a->false_positive, a->with_reason);
      if (fp >= 0)
        md_printf(b, ", %.0f%% false positives", fp * 100);
      md_printf(b, ", mean time to acknowledge %s\n",
                dur(a->acked ? a->ack_ms_sum / a->acked : -1, d1, sizeof(d1)));
    }
  }
  md_printf(b, "*Action items*: %lld opened, %lld done, %lld overdue\n",
            (long long)r->actions_opened, (long long)r->actions_done,
            (long long)r->actions_overdue);
  md_printf(b, "*Postmortems*: %lld owed, %lld late", (long long)r->postmortems_owed,
            (long long)r->postmortems_late);
  for (size_t i = 0; i < r->n_late; i++)
    md_printf(b, "%s#%lld", i ? ", " : " (", (long long)r->late_ids[i]);
  md_raw(b, r->n_late ? ")\n" : "\n");
  if (html_url)
    md_link(b, html_url, "The whole report, with charts");
  return 0;
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static void add_duration(cJSON *o, const char *name, const struct report_duration *d)
{
  cJSON *m = cJSON_AddObjectToObject(o, name);
  if (!m)
    return;
  if (d->mean_ms >= 0)
    cJSON_AddNumberToObject(m, "seconds", (double)d->mean_ms / 1000.0);
  else
    cJSON_AddNullToObject(m, "seconds");
  cJSON_AddNumberToObject(m, "count", (double)d->count);
  if (d->target_ms > 0) {
    cJSON_AddNumberToObject(m, "target_seconds", (double)d->target_ms / 1000.0);
    if (d->mean_ms >= 0)
      cJSON_AddBoolToObject(m, "met", d->mean_ms <= d->target_ms);
  }
}

static cJSON *page_counts(const struct page_count *rows, size_t n)
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

static void json_incidents(const struct report *r, cJSON *o)
{
  cJSON *inc = cJSON_AddObjectToObject(o, "incidents");
  cJSON_AddNumberToObject(inc, "total", (double)r->incidents);
  cJSON *sev = cJSON_AddObjectToObject(inc, "by_severity");
  for (size_t i = 0; i < r->n_sev; i++)
    cJSON_AddNumberToObject(sev, r->sev[i].name, (double)r->sev[i].incidents);
  cJSON *svc = cJSON_AddObjectToObject(inc, "by_service");
  for (size_t i = 0; i < r->n_service; i++)
    cJSON_AddNumberToObject(svc, r->by_service[i].service, (double)r->by_service[i].count);
  cJSON *x = cJSON_AddArrayToObject(inc, "by_severity_and_service");
  for (size_t i = 0; x && i < r->n_sev_service; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "severity", r->by_sev_service[i].severity);
    cJSON_AddStringToObject(e, "service", r->by_sev_service[i].service);
    cJSON_AddNumberToObject(e, "count", (double)r->by_sev_service[i].count);
    cJSON_AddItemToArray(x, e);
  }
  cJSON *resp = cJSON_AddObjectToObject(o, "response");
  cJSON *all = cJSON_AddObjectToObject(resp, "all");
  add_duration(all, "mtta", &r->mtta);
  add_duration(all, "mttr", &r->mttr);
  add_duration(all, "mttd", &r->mttd);
  cJSON *per = cJSON_AddObjectToObject(resp, "by_severity");
  for (size_t i = 0; per && i < r->n_sev; i++) {
    cJSON *s = cJSON_AddObjectToObject(per, r->sev[i].name);
    cJSON_AddNumberToObject(s, "incidents", (double)r->sev[i].incidents);
    add_duration(s, "mtta", &r->sev[i].mtta);
    add_duration(s, "mttr", &r->sev[i].mttr);
    add_duration(s, "mttd", &r->sev[i].mttd);
  }
  cJSON *mtbf = cJSON_AddObjectToObject(o, "mtbf");
  if (r->mtbf_ms >= 0)
    cJSON_AddNumberToObject(mtbf, "seconds", (double)r->mtbf_ms / 1000.0);
  else
    cJSON_AddNullToObject(mtbf, "seconds");
  cJSON_AddNumberToObject(mtbf, "downtime_seconds", (double)r->downtime_ms / 1000.0);
}

cJSON *report_json(struct cmd_ctx *ctx, const struct report *r)
{
  (void)ctx;
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  char t[48];
  snprintf(t, sizeof(t), "%04d-%02d", r->year, r->month);
  cJSON_AddStringToObject(o, "month", t);
  cJSON_AddStringToObject(o, "timezone", r->zone);
  cJSON_AddStringToObject(o, "from", time_format_utc(r->from_ms, t, sizeof(t)));
  cJSON_AddStringToObject(o, "to", time_format_utc(r->to_ms, t, sizeof(t)));
  cJSON_AddStringToObject(o, "made", time_format_utc(r->made_ms, t, sizeof(t)));
  json_incidents(r, o);
  cJSON *p = cJSON_AddObjectToObject(o, "pages");
  cJSON_AddNumberToObject(p, "total", (double)r->pages.pages);
  cJSON_AddNumberToObject(p, "acknowledged", (double)r->pages.acked);
  cJSON_AddNumberToObject(p, "after_hours", (double)r->pages_after_hours);
  cJSON_AddItemToObject(p, "by_rota", page_counts(r->by_rota, r->n_rota));
  cJSON_AddItemToObject(p, "by_person", page_counts(r->by_person, r->n_person));
  cJSON *h = cJSON_AddArrayToObject(o, "oncall_hours");
  for (size_t i = 0; h && i < r->n_hours; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "person", r->hours[i].person);
    cJSON_AddNumberToObject(e, "primary_hours", (double)r->hours[i].primary_ms / MS_PER_HOUR);
    cJSON_AddNumberToObject(e, "secondary_hours", (double)r->hours[i].secondary_ms / MS_PER_HOUR);
    cJSON_AddItemToArray(h, e);
  }
  cJSON *al = cJSON_AddArrayToObject(o, "noisiest_alerts");
  for (size_t i = 0; al && i < r->n_alerts; i++) {
    const struct report_page_row *a = &r->alerts[i];
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", a->name);
    cJSON_AddNumberToObject(e, "pages", (double)a->pages);
    cJSON_AddNumberToObject(e, "false_positives", (double)a->false_positive);
    cJSON_AddNumberToObject(e, "resolved_with_reason", (double)a->with_reason);
    double fp = share(a->false_positive, a->with_reason);
    if (fp >= 0)
      cJSON_AddNumberToObject(e, "false_positive_share", fp);
    else
      cJSON_AddNullToObject(e, "false_positive_share");
    cJSON_AddNumberToObject(e, "acknowledged", (double)a->acked);
    if (a->acked)
      cJSON_AddNumberToObject(e, "mean_ack_seconds",
                              (double)a->ack_ms_sum / (double)a->acked / 1000.0);
    else
      cJSON_AddNullToObject(e, "mean_ack_seconds");
    cJSON_AddItemToArray(al, e);
  }
  cJSON *act = cJSON_AddObjectToObject(o, "action_items");
  cJSON_AddNumberToObject(act, "opened", (double)r->actions_opened);
  cJSON_AddNumberToObject(act, "done", (double)r->actions_done);
  cJSON_AddNumberToObject(act, "overdue", (double)r->actions_overdue);
  cJSON *pm = cJSON_AddObjectToObject(o, "postmortems");
  cJSON_AddNumberToObject(pm, "owed", (double)r->postmortems_owed);
  cJSON_AddNumberToObject(pm, "late", (double)r->postmortems_late);
  cJSON *ids = cJSON_AddArrayToObject(pm, "late_incidents");
  for (size_t i = 0; ids && i < r->n_late; i++)
    cJSON_AddItemToArray(ids, cJSON_CreateNumber((double)r->late_ids[i]));
  return o;
}

/* ---- CSV: one figure a line, section,name,metric,value (RFC 4180 quoting) ---------------- */

/* A quoted field; one that a spreadsheet would take for a formula (= + - @ at the start, or a
 * tab or CR there) gets a leading apostrophe, so opening the file runs nothing. */
static void csv_field(struct buf *b, const char *s)
{
  buf_puts(b, "\"");
  if (s && *s && strchr("=+-@\t\r", *s))
    buf_puts(b, "'");
  for (; s && *s; s++)
    buf_append(b, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
  buf_puts(b, "\"");
}

static void csv_row(struct buf *b,
                    const char *section,
                    const char *name,
                    const char *metric,
                    double value,
                    bool null)
{
  csv_field(b, section);
  buf_puts(b, ",");
  csv_field(b, name);
  buf_puts(b, ",");
  csv_field(b, metric);
  if (null)
    buf_puts(b, ",\r\n");
  else
    buf_printf(b, ",%.3f\r\n", value);
}

static void csv_duration(struct buf *b,
                         const char *name,
                         const char *metric,
                         const struct report_duration *d)
{
  char m[64];
  csv_row(b, "response", name, metric, (double)d->mean_ms / 1000.0, d->mean_ms < 0);
  snprintf(m, sizeof(m), "%s_target", metric);
  if (d->target_ms > 0)
    csv_row(b, "response", name, m, (double)d->target_ms / 1000.0, false);
}

int report_csv(struct cmd_ctx *ctx, const struct report *r, struct buf *b)
{
  (void)ctx;
  buf_puts(b, "section,name,metric,value\r\n");
  csv_row(b, "incidents", "all", "count", (double)r->incidents, false);
  for (size_t i = 0; i < r->n_sev; i++)
    csv_row(b, "incidents", r->sev[i].name, "count", (double)r->sev[i].incidents, false);
  for (size_t i = 0; i < r->n_service; i++)
    csv_row(b, "incidents_by_service", r->by_service[i].service, "count",
            (double)r->by_service[i].count, false);
  csv_duration(b, "all", "mtta_seconds", &r->mtta);
  csv_duration(b, "all", "mttr_seconds", &r->mttr);
  csv_duration(b, "all", "mttd_seconds", &r->mttd);
  for (size_t i = 0; i < r->n_sev; i++) {
    csv_duration(b, r->sev[i].name, "mtta_seconds", &r->sev[i].mtta);
    csv_duration(b, r->sev[i].name, "mttr_seconds", &r->sev[i].mttr);
    csv_duration(b, r->sev[i].name, "mttd_seconds", &r->sev[i].mttd);
  }
  csv_row(b, "mtbf", "all", "seconds", (double)r->mtbf_ms / 1000.0, r->mtbf_ms < 0);
  csv_row(b, "pages", "all", "count", (double)r->pages.pages, false);
  for (size_t i = 0; i < r->n_rota; i++) {
    csv_row(b, "pages_by_rota", r->by_rota[i].name, "count", (double)r->by_rota[i].total, false);
    csv_row(b, "pages_by_rota", r->by_rota[i].name, "after_hours",
            (double)r->by_rota[i].after_hours, false);
  }
  for (size_t i = 0; i < r->n_person; i++) {
    csv_row(b, "pages_by_person", r->by_person[i].name, "count", (double)r->by_person[i].total,
            false);
    csv_row(b, "pages_by_person", r->by_person[i].name, "after_hours",
            (double)r->by_person[i].after_hours, false);
  }
  for (size_t i = 0; i < r->n_hours; i++) {
    csv_row(b, "oncall_hours", r->hours[i].person, "primary",
            (double)r->hours[i].primary_ms / MS_PER_HOUR, false);
    csv_row(b, "oncall_hours", r->hours[i].person, "secondary",
            (double)r->hours[i].secondary_ms / MS_PER_HOUR, false);
  }
  for (size_t i = 0; i < r->n_alerts; i++) {
    const struct report_page_row *a = &r->alerts[i];
    csv_row(b, "noisiest_alerts", a->name, "pages", (double)a->pages, false);
    double fp = share(a->false_positive, a->with_reason);
    csv_row(b, "noisiest_alerts", a->name, "false_positive_share", fp, fp < 0);
    csv_row(b, "noisiest_alerts", a->name, "mean_ack_seconds",
            a->acked ? (double)a->ack_ms_sum / (double)a->acked / 1000.0 : 0, !a->acked);
  }
  csv_row(b, "action_items", "all", "opened", (double)r->actions_opened, false);
  csv_row(b, "action_items", "all", "done", (double)r->actions_done, false);
  csv_row(b, "action_items", "all", "overdue", (double)r->actions_overdue, false);
  csv_row(b, "postmortems", "all", "owed", (double)r->postmortems_owed, false);
  csv_row(b, "postmortems", "all", "late", (double)r->postmortems_late, false);
  return b->data ? 0 : KX_ETOOBIG;
}
