/*
 * report.c — the monthly report's numbers (report.h); docs/reports.md defines each one.
 */
#include "commands/report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/oncall/oncall.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/kx.h"
#include "lib/timeutil.h"
#include "storage/incident_actions.h"
#include "storage/incidents.h"
#include "storage/report_queries.h"

int report_parse_month(const char *text, int *year, int *month)
{
  if (!text || strlen(text) != 7 || text[4] != '-')
    return KX_EINVAL;
  for (int i = 0; i < 7; i++)
    if (i != 4 && (text[i] < '0' || text[i] > '9'))
      return KX_EINVAL;
  int y = (int)strtol(text, NULL, 10), m = (int)strtol(text + 5, NULL, 10);
  if (y < 1970 || y > 9998 || m < 1 || m > 12)
    return KX_EINVAL;
  *year = y;
  *month = m;
  return 0;
}

static const char *zone_of(const struct config *c)
{
  return c->timezone ? c->timezone : "UTC";
}

int report_last_month(const struct config *c, int64_t now_ms, int *year, int *month)
{
  struct kx_local l;
  int rc = tz_to_local(zone_of(c), now_ms, &l);
  if (rc)
    return rc;
  *year = l.m == 1 ? l.y - 1 : l.y;
  *month = l.m == 1 ? 12 : l.m - 1;
  return 0;
}

static void duration_add(struct report_duration *d, int64_t ms)
{
  d->mean_ms += ms; /* a sum until duration_finish */
  d->count++;
}

static void duration_finish(struct report_duration *d)
{
  d->mean_ms = d->count ? d->mean_ms / d->count : -1;
}

static int count_add(struct report_count **list,
                     size_t *n,
                     const char *severity,
                     const char *service)
{
  for (size_t i = 0; i < *n; i++)
    if (kx_streq((*list)[i].service, service) && kx_streq((*list)[i].severity, severity)) {
      (*list)[i].count++;
      return 0;
    }
  struct report_count *grown = realloc(*list, (*n + 1) * sizeof(**list));
  if (!grown)
    return KX_ENOMEM;
  *list = grown;
  struct report_count *x = &grown[(*n)++];
  x->severity = severity ? kx_strdup(severity) : NULL;
  x->service = kx_strdup(service);
  x->count = 1;
  return (severity && !x->severity) || !x->service ? KX_ENOMEM : 0;
}

static int by_count_desc(const void *a, const void *b)
{
  const struct report_count *x = a, *y = b;
  if (x->count != y->count)
    return x->count < y->count ? 1 : -1;
  return strcmp(x->service, y->service);
}

static int64_t overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
  int64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
  return hi > lo ? hi - lo : 0;
}

/* The incident's service: the rota it involves (the service that rota looks after). */
static const char *service_of(const struct incident *inc)
{
  return inc->rota && *inc->rota ? inc->rota : "unassigned";
}

/* Incidents declared in the month (drills left out): counts, MTTR, MTTD, MTBF; and the
 * postmortems of the incidents resolved in the month. */
static int incident_part(struct cmd_ctx *ctx, struct report *r)
{
  const struct config *c = ctx->config;
  struct incident *list = NULL;
  size_t n = 0;
  int rc = incidents_list(ctx->db, INCIDENTS_NO_DRILLS, 0, 0, &list, &n);
  if (rc)
    return rc;
  int64_t pm_due = c->postmortem.due_ms > 0 ? c->postmortem.due_ms : 24 * MS_PER_HOUR;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const struct incident *inc = &list[i];
    if (inc->resolved_at >= r->from_ms && inc->resolved_at < r->to_ms) {
      r->postmortems_owed++;
      int64_t due = inc->resolved_at + pm_due;
      bool late = inc->postmortem_done_at ? inc->postmortem_done_at > due : due <= r->made_ms;
      if (late) {
        int64_t *grown = realloc(r->late_ids, (r->n_late + 1) * sizeof(*grown));
        if (!grown) {
          rc = KX_ENOMEM;
          break;
        }
        r->late_ids = grown;
        r->late_ids[r->n_late++] = inc->id;
        r->postmortems_late++;
      }
    }
    if (inc->declared_at < r->from_ms || inc->declared_at >= r->to_ms)
      continue;
    r->incidents++;
    struct report_severity *s = NULL;
    for (size_t k = 0; k < r->n_sev; k++)
      if (strcmp(r->sev[k].name, inc->severity) == 0)
        s = &r->sev[k];
    if (s)
      s->incidents++;
    if (inc->resolved_at) {
      duration_add(&r->mttr, inc->resolved_at - inc->declared_at);
      if (s)
        duration_add(&s->mttr, inc->resolved_at - inc->declared_at);
    }
    if (inc->impact_start_at && inc->impact_start_at < inc->declared_at) {
      duration_add(&r->mttd, inc->declared_at - inc->impact_start_at);
      if (s)
        duration_add(&s->mttd, inc->declared_at - inc->impact_start_at);
    }
    int64_t start = inc->impact_start_at ? inc->impact_start_at : inc->declared_at;
    int64_t end = inc->resolved_at ? inc->resolved_at : r->to_ms;
    r->downtime_ms += overlap(start, end, r->from_ms, r->to_ms);
    rc = count_add(&r->by_service, &r->n_service, NULL, service_of(inc));
    if (rc == 0)
      rc = count_add(&r->by_sev_service, &r->n_sev_service, inc->severity, service_of(inc));
  }
  incidents_free(list, n);
  if (rc)
    return rc;
  if (r->n_service)
    qsort(r->by_service, r->n_service, sizeof(*r->by_service), by_count_desc);
  r->mtbf_ms = r->incidents ? (r->to_ms - r->from_ms - r->downtime_ms) / r->incidents : -1;
  return 0;
}

static int page_part(struct cmd_ctx *ctx, struct report *r)
{
  int rc = pages_stats(ctx->db, r->from_ms, r->to_ms, &r->pages);
  if (rc == 0)
    rc = pages_count_by(ctx->db, PAGE_COUNT_ROTA, r->from_ms, r->to_ms, &r->by_rota, &r->n_rota);
  if (rc == 0)
    rc = pages_count_by(ctx->db, PAGE_COUNT_PERSON, r->from_ms, r->to_ms, &r->by_person,
                        &r->n_person);
  for (size_t i = 0; rc == 0 && i < r->n_rota; i++)
    r->pages_after_hours += r->by_rota[i].after_hours;
  struct report_page_row *rows = NULL;
  size_t n = 0;
  if (rc == 0)
    rc = report_pages_by(ctx->db, REPORT_PAGES_SEVERITY, r->from_ms, r->to_ms, 0, &rows, &n);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    for (size_t k = 0; k < r->n_sev; k++)
      if (strcmp(r->sev[k].name, rows[i].name) == 0 && rows[i].acked) {
        r->sev[k].mtta.mean_ms = rows[i].ack_ms_sum; /* a sum until finished */
        r->sev[k].mtta.count = rows[i].acked;
      }
    r->mtta.mean_ms += rows[i].ack_ms_sum;
    r->mtta.count += rows[i].acked;
  }
  report_rows_free(rows, n);
  if (rc == 0)
    rc = report_pages_by(ctx->db, REPORT_PAGES_ALERT, r->from_ms, r->to_ms, REPORT_TOP_ALERTS,
                         &r->alerts, &r->n_alerts);
  return rc;
}

static int hours_add(struct report *r, const char *person, int64_t ms, bool secondary)
{
  if (!person || ms <= 0)
    return 0;
  size_t i = 0;
  while (i < r->n_hours && strcmp(r->hours[i].person, person) != 0)
    i++;
  if (i == r->n_hours) {
    struct report_hours *grown = realloc(r->hours, (r->n_hours + 1) * sizeof(*grown));
    if (!grown)
      return KX_ENOMEM;
    r->hours = grown;
    r->hours[i] = (struct report_hours){.person = kx_strdup(person)};
    r->n_hours++;
    if (!r->hours[i].person)
      return KX_ENOMEM;
  }
  *(secondary ? &r->hours[i].secondary_ms : &r->hours[i].primary_ms) += ms;
  return 0;
}

static int by_person(const void *a, const void *b)
{
  return strcmp(((const struct report_hours *)a)->person, ((const struct report_hours *)b)->person);
}

/* Hours on call: every rota's schedule over the month, overrides and absences applied. */
static int hours_part(struct cmd_ctx *ctx, struct report *r)
{
  const struct config *c = ctx->config;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < c->n_rotas; i++) {
    const struct rota *rota = &c->rotas[i];
    struct rota_change_row *rows = NULL;
    struct rota_change *changes = NULL;
    size_t n = 0;
    rc = oncall_changes_load_opt(ctx, rota, r->from_ms, &rows, &changes, &n);
    if (rc)
      return rc;
    struct rota_segment *seg = NULL;
    size_t n_seg = 0;
    int64_t days = (r->to_ms - r->from_ms) / MS_PER_DAY + 2;
    rc = rota_schedule(rota, changes, n, r->from_ms, oncall_shifts_for_days(rota, days) + 1, &seg,
                       &n_seg);
    if (rc == KX_ECONFIG)
      rc = 0; /* an unusable rota has nobody on call; check-config says why */
    for (size_t k = 0; rc == 0 && k < n_seg; k++) {
      int64_t ms = overlap(seg[k].start_ms, seg[k].end_ms, r->from_ms, r->to_ms);
      rc = hours_add(r, seg[k].primary.person, ms, false);
      if (rc == 0)
        rc = hours_add(r, seg[k].secondary.person, ms, true);
    }
    rota_segments_free(seg);
    oncall_changes_free(rows, changes, n);
  }
  if (rc == 0 && r->n_hours)
    qsort(r->hours, r->n_hours, sizeof(*r->hours), by_person);
  return rc;
}

int report_compute(struct cmd_ctx *ctx, int year, int month, struct report *out)
{
  memset(out, 0, sizeof(*out));
  if (year < 1970 || year > 9998 || month < 1 || month > 12)
    return KX_EINVAL;
  const struct config *c = ctx->config;
  out->year = year;
  out->month = month;
  out->zone = zone_of(c);
  out->made_ms = ctx->now_ms;
  int rc = tz_from_local(out->zone, year, month, 1, 0, 0, 0, &out->from_ms);
  if (rc == 0)
    rc = tz_from_local(out->zone, month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, 1, 0,
                       0, 0, &out->to_ms);
  if (rc)
    return rc;
  out->mtta = out->mttr = out->mttd = (struct report_duration){0, 0, 0};
  out->mtta.target_ms = c->targets.mtta_ms;
  out->mttr.target_ms = c->targets.mttr_ms;
  out->sev = calloc(c->n_severities ? c->n_severities : 1, sizeof(*out->sev));
  if (!out->sev)
    return KX_ENOMEM;
  out->n_sev = c->n_severities;
  for (size_t i = 0; i < c->n_severities; i++) {
    struct report_severity *s = &out->sev[i];
    s->name = c->severities[i].name;
    s->mtta.target_ms = c->severities[i].ack_ms ? c->severities[i].ack_ms : c->targets.mtta_ms;
    s->mttr.target_ms =
        c->severities[i].resolve_ms ? c->severities[i].resolve_ms : c->targets.mttr_ms;
  }
  rc = incident_part(ctx, out);
  if (rc == 0)
    rc = page_part(ctx, out);
  if (rc == 0)
    rc = hours_part(ctx, out);
  if (rc == 0)
    rc = report_actions(ctx->db, out->from_ms, out->to_ms, REPORT_ACTION_DUE_DAYS * MS_PER_DAY,
                        &out->actions_opened, &out->actions_done, &out->actions_overdue);
  if (rc) {
    report_free(out);
    return rc;
  }
  duration_finish(&out->mtta);
  duration_finish(&out->mttr);
  duration_finish(&out->mttd);
  for (size_t i = 0; i < out->n_sev; i++) {
    duration_finish(&out->sev[i].mtta);
    duration_finish(&out->sev[i].mttr);
    duration_finish(&out->sev[i].mttd);
  }
  return 0;
}

static void counts_free(struct report_count *c, size_t n)
{
  for (size_t i = 0; c && i < n; i++) {
    free(c[i].severity);
    free(c[i].service);
  }
  free(c);
}

void report_free(struct report *r)
{
  free(r->sev);
  counts_free(r->by_service, r->n_service);
  counts_free(r->by_sev_service, r->n_sev_service);
  page_counts_free(r->by_rota, r->n_rota);
  page_counts_free(r->by_person, r->n_person);
  for (size_t i = 0; r->hours && i < r->n_hours; i++)
    free(r->hours[i].person);
  free(r->hours);
  report_rows_free(r->alerts, r->n_alerts);
  free(r->late_ids);
  memset(r, 0, sizeof(*r));
}
