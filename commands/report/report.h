/*
 * report.h — the monthly report a lead reads (issue 16): incidents by severity and service,
 * MTTA/MTTR/MTTD per severity against the targets, MTBF, pages per rota and person with those
 * outside business hours apart, hours on call per person (the rota schedule with overrides and
 * absences), the noisiest alerts, action items and late postmortems, for one calendar month in
 * the config's time zone. Every figure is defined in docs/reports.md.
 *
 * report_compute() reads the database and the config only (time is ctx->now_ms); the renderers
 * turn a report into markup (Slack, the CLI's text), JSON, CSV and a self-contained HTML page
 * with SVG charts (report_html.c). A struct report owns its arrays (report_free, NULL-safe
 * members). Errors: 0 or KX_E* (KX_EINVAL for a month that is not YYYY-MM).
 */
#ifndef KX_REPORT_H
#define KX_REPORT_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "commands/core/command.h"
#include "lib/buf.h"
#include "storage/pages.h"
#include "storage/report_queries.h"

#define REPORT_TOP_ALERTS 10       /* the noisiest alerts listed */
#define REPORT_ACTION_DUE_DAYS 30  /* an action item open this long is overdue */
#define REPORT_HTML_MAX (4u << 20) /* the largest HTML page made */

/* A mean duration: mean_ms -1 when there was nothing to measure; target_ms 0 when none. */
struct report_duration {
  int64_t mean_ms;
  int64_t count;
  int64_t target_ms;
};

struct report_severity {
  const char *name; /* the config's */
  int64_t incidents;
  struct report_duration mtta; /* pages of this severity: created -> acknowledged */
  struct report_duration mttr; /* incidents: declared -> resolved */
  struct report_duration mttd; /* incidents: impact start -> declared */
};

struct report_count {
  char *severity; /* NULL in by_service */
  char *service;
  int64_t count;
};

struct report_hours {
  char *person;
  int64_t primary_ms, secondary_ms;
};

struct report {
  int year, month;
  int64_t from_ms, to_ms; /* [from, to): the month in the config's zone */
  int64_t made_ms;        /* ctx->now_ms when computed */
  const char *zone;
  int64_t incidents;
  struct report_severity *sev; /* every configured severity, in config order */
  size_t n_sev;
  struct report_duration mtta, mttr, mttd; /* all severities */
  struct report_count *by_service;         /* service, count: most first */
  size_t n_service;
  struct report_count *by_sev_service; /* severity x service */
  size_t n_sev_service;
  int64_t mtbf_ms; /* -1: no incident */
  int64_t downtime_ms;
  struct page_stats pages;
  int64_t pages_after_hours; /* pages with a notification outside business hours */
  struct page_count *by_rota, *by_person;
  size_t n_rota, n_person;
  struct report_hours *hours;
  size_t n_hours;
  struct report_page_row *alerts;
  size_t n_alerts;
  int64_t actions_opened, actions_done, actions_overdue;
  int64_t postmortems_owed, postmortems_late;
  int64_t *late_ids;
  size_t n_late;
};

/* "2026-11" -> year, month; KX_EINVAL otherwise. */
int report_parse_month(const char *text, int *year, int *month);
/* The last full month before `now_ms` in the config's zone. */
int report_last_month(const struct config *c, int64_t now_ms, int *year, int *month);
int report_compute(struct cmd_ctx *ctx, int year, int month, struct report *out);
void report_free(struct report *r);

/* Markup (Slack and the CLI's text); `html_url` (may be NULL) is linked at the end. */
int report_markup(struct cmd_ctx *ctx,
                  const struct report *r,
                  const char *html_url,
                  struct buf *out);
cJSON *report_json(struct cmd_ctx *ctx, const struct report *r);
int report_csv(struct cmd_ctx *ctx, const struct report *r, struct buf *out);
int report_html(struct cmd_ctx *ctx, const struct report *r, struct buf *out);

/* The monthly job and the start-up task that keeps the next one scheduled (report_jobs.c). */
struct job;
int report_job_monthly(struct cmd_ctx *ctx, const struct job *job);
int report_startup(struct cmd_ctx *ctx);
/* When the report of the month before (year, month) is sent: the first working day of
 * (year, month) of the config's first rota, at its business hours' start. */
int report_send_at(const struct config *c, int year, int month, int64_t *at_ms);

#endif
