/*
 * report_html.c — a report as one self-contained HTML page: inline CSS, charts as inline SVG
 * drawn here, no script and nothing fetched from elsewhere (a manager opens it from an email
 * or behind the feed token). Every text that came from outside (names, alert titles, the zone)
 * is escaped with esc(); numbers are formatted here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/report/report.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

#define CHART_W 640
#define CHART_LABEL_W 180
#define CHART_ROW_H 26
#define CHART_MAX_ROWS 40

static const char *const MONTHS[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};

/* Text and attribute values: & < > " ' escaped. */
static void esc(struct buf *b, const char *s)
{
  for (; s && *s; s++) {
    switch (*s) {
      case '&':
        buf_puts(b, "&amp;");
        break;
      case '<':
        buf_puts(b, "&lt;");
        break;
      case '>':
        buf_puts(b, "&gt;");
        break;
      case '"':
        buf_puts(b, "&quot;");
        break;
      case '\'':
        buf_puts(b, "&#39;");
        break;
      default:
        if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
          buf_puts(b, " "); /* control characters are not allowed in HTML text */
        else
          buf_append(b, s, 1);
    }
  }
}

static const char *who(struct cmd_ctx *ctx, const char *id)
{
  const struct person *p = config_person(ctx->config, id);
  return p && p->name ? p->name : id;
}

static const char *dur(int64_t ms, char *buf, size_t size)
{
  return ms < 0 ? "n/a" : time_format_duration(ms, buf, size);
}

struct series {
  const char *name;  /* legend */
  const char *color; /* fill */
  double v[CHART_MAX_ROWS];
};

/* A horizontal bar chart: one row per label, one or two stacked series, an optional target
 * mark per row. Accessible: role img, a title and a description that repeats the numbers. */
static void chart(struct buf *b,
                  int *seq,
                  const char *title,
                  const char *unit,
                  size_t n,
                  const char *const *labels,
                  const struct series *s,
                  size_t n_series,
                  const double *target)
{
  if (n == 0)
    return;
  if (n > CHART_MAX_ROWS)
    n = CHART_MAX_ROWS;
  double max = 0;
  for (size_t i = 0; i < n; i++) {
    double t = 0;
    for (size_t k = 0; k < n_series; k++)
      t += s[k].v[i];
    if (t > max)
      max = t;
    if (target && target[i] > max)
      max = target[i];
  }
  if (max <= 0)
    max = 1;
  int id = ++*seq;
  int h = (int)n * CHART_ROW_H + 40;
  double plot = CHART_W - CHART_LABEL_W - 70;
  buf_printf(b,
             "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" "
             "aria-labelledby=\"c%d-t c%d-d\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\">"
             "<title id=\"c%d-t\">",
             id, id, CHART_W, h, CHART_W, h, id);
  esc(b, title);
  buf_printf(b, "</title><desc id=\"c%d-d\">", id);
  for (size_t i = 0; i < n; i++) {
    esc(b, labels[i]);
    for (size_t k = 0; k < n_series; k++)
      buf_printf(b, "%s %s %g", k ? "," : ":", s[k].name, round(s[k].v[i] * 10) / 10);
    buf_printf(b, " %s. ", unit);
  }
  buf_puts(b, "</desc>");
  for (size_t i = 0; i < n; i++) {
    int y = (int)i * CHART_ROW_H + 4;
    buf_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"l\">", CHART_LABEL_W - 8,
               y + 17);
    esc(b, labels[i]);
    buf_puts(b, "</text>");
    double x = CHART_LABEL_W, total = 0;
    for (size_t k = 0; k < n_series; k++) {
      double w = s[k].v[i] / max * plot;
      if (w > 0)
        buf_printf(b, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>", x,
                   y + 3, w, CHART_ROW_H - 8, s[k].color);
      x += w;
      total += s[k].v[i];
    }
    if (target && target[i] > 0) {
      double tx = CHART_LABEL_W + target[i] / max * plot;
      buf_printf(b,
                 "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#000\" "
                 "stroke-width=\"2\" stroke-dasharray=\"3 2\"/>",
                 tx, tx, y, y + CHART_ROW_H - 2);
    }
    buf_printf(b, "<text x=\"%.1f\" y=\"%d\" class=\"v\">%g</text>", x + 4, y + 17,
               round(total * 10) / 10);
  }
  int ly = (int)n * CHART_ROW_H + 24;
  int lx = CHART_LABEL_W;
  for (size_t k = 0; k < n_series; k++) {
    buf_printf(b,
               "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>"
               "<text x=\"%d\" y=\"%d\" class=\"l\">",
               lx, ly - 10, s[k].color, lx + 16, ly);
    esc(b, s[k].name);
    buf_puts(b, "</text>");
    lx += 16 + 8 * (int)strlen(s[k].name) + 24;
  }
  if (target)
    buf_printf(b,
               "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#000\" stroke-width=\"2\" "
               "stroke-dasharray=\"3 2\"/><text x=\"%d\" y=\"%d\" class=\"l\">target</text>",
               lx + 6, lx + 6, ly - 12, ly + 2, lx + 14, ly);
  buf_puts(b, "</svg><figcaption>");
  esc(b, title);
  buf_printf(b, " (%s)</figcaption></figure>\n", unit);
}

static const char STYLE[] =
    "body{font-family:system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0}"
    "main{max-width:52rem;margin:0 auto;padding:1rem}"
    "h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #999;margin-top:2rem}"
    "table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #999;padding:.25rem "
    ".5rem;text-align:left}td.n{text-align:right}caption{text-align:left;font-weight:600}"
    ".met{color:#155724}.missed{color:#8b0000;font-weight:600}"
    "figure{margin:1rem 0;max-width:100%;overflow-x:auto}svg{max-width:100%;height:auto}"
    "svg .l{font-size:13px;fill:#1a1a1a}svg .v{font-size:12px;fill:#1a1a1a}"
    "figcaption{font-size:.9rem;color:#333}";

static void target_cell(struct buf *b, const struct report_duration *d)
{
  char x[32], t[32];
  buf_printf(b, "<td class=\"n\">%s</td><td>", dur(d->mean_ms, x, sizeof(x)));
  if (d->target_ms > 0) {
    buf_printf(b, "%s", dur(d->target_ms, t, sizeof(t)));
    if (d->mean_ms >= 0)
      buf_printf(b, " <span class=\"%s\">%s</span>", d->mean_ms <= d->target_ms ? "met" : "missed",
                 d->mean_ms <= d->target_ms ? "met" : "missed");
  } else {
    buf_puts(b, "none");
  }
  buf_puts(b, "</td>");
}

static void incidents_html(struct cmd_ctx *ctx, const struct report *r, struct buf *b, int *seq)
{
  (void)ctx;
  char x[32];
  buf_printf(b,
             "<section aria-labelledby=\"h-inc\"><h2 id=\"h-inc\">Incidents</h2><p>%lld "
             "incidents declared (drills left out). MTBF: %s.</p>\n",
             (long long)r->incidents, dur(r->mtbf_ms, x, sizeof(x)));
  const char *labels[CHART_MAX_ROWS];
  struct series s = {.name = "incidents", .color = "#1f4e79"};
  size_t n = 0;
  for (size_t i = 0; i < r->n_sev && n < CHART_MAX_ROWS; i++, n++) {
    labels[n] = r->sev[i].name;
    s.v[n] = (double)r->sev[i].incidents;
  }
  chart(b, seq, "Incidents by severity", "incidents", n, labels, &s, 1, NULL);
  if (r->n_sev_service) {
    buf_puts(b,
             "<table><caption>Incidents by severity and service</caption><thead><tr><th "
             "scope=\"col\">Severity</th><th scope=\"col\">Service</th><th "
             "scope=\"col\">Incidents</th></tr></thead><tbody>");
    for (size_t i = 0; i < r->n_sev_service; i++) {
      buf_puts(b, "<tr><td>");
      esc(b, r->by_sev_service[i].severity);
      buf_puts(b, "</td><td>");
      esc(b, r->by_sev_service[i].service);
      buf_printf(b, "</td><td class=\"n\">%lld</td></tr>", (long long)r->by_sev_service[i].count);
    }
    buf_puts(b, "</tbody></table>\n");
  }
  buf_puts(b,
           "<table><caption>Response times per severity (means)</caption><thead><tr><th "
           "scope=\"col\">Severity</th><th scope=\"col\">Incidents</th><th "
           "scope=\"col\">MTTA</th><th scope=\"col\">MTTA target</th><th "
           "scope=\"col\">MTTR</th><th scope=\"col\">MTTR target</th><th "
           "scope=\"col\">MTTD</th></tr></thead><tbody>");
  for (size_t i = 0; i <= r->n_sev; i++) {
    bool all = i == r->n_sev;
    const struct report_duration *a = all ? &r->mtta : &r->sev[i].mtta;
    const struct report_duration *t = all ? &r->mttr : &r->sev[i].mttr;
    const struct report_duration *d = all ? &r->mttd : &r->sev[i].mttd;
    buf_puts(b, "<tr><th scope=\"row\">");
    esc(b, all ? "All" : r->sev[i].name);
    buf_printf(b, "</th><td class=\"n\">%lld</td>",
               (long long)(all ? r->incidents : r->sev[i].incidents));
    target_cell(b, a);
    target_cell(b, t);
    buf_printf(b, "<td class=\"n\">%s</td></tr>", dur(d->mean_ms, x, sizeof(x)));
  }
  buf_puts(b, "</tbody></table>\n");
  struct series mttr = {.name = "MTTR", .color = "#1f4e79"};
  double target[CHART_MAX_ROWS] = {0};
  for (size_t i = 0; i < n; i++) {
    mttr.v[i] = r->sev[i].mttr.mean_ms > 0 ? (double)r->sev[i].mttr.mean_ms / MS_PER_MIN : 0;
    /* Only where there is something to hold against it: an idle severity's long target would
     * squash every bar. */
    target[i] = r->sev[i].incidents ? (double)r->sev[i].mttr.target_ms / MS_PER_MIN : 0;
  }
  chart(b, seq, "Mean time to resolve per severity, against its target", "minutes", n, labels,
        &mttr, 1, target);
  buf_puts(b, "</section>\n");
}

static void pages_html(struct cmd_ctx *ctx, const struct report *r, struct buf *b, int *seq)
{
  buf_printf(b,
             "<section aria-labelledby=\"h-pages\"><h2 id=\"h-pages\">Pages</h2><p>%lld "
             "pages, %lld acknowledged, %lld outside business hours.</p>\n",
             (long long)r->pages.pages, (long long)r->pages.acked, (long long)r->pages_after_hours);
  for (int l = 0; l < 2; l++) {
    const struct page_count *rows = l ? r->by_person : r->by_rota;
    size_t n = l ? r->n_person : r->n_rota;
    const char *labels[CHART_MAX_ROWS];
    struct series s[2] = {{.name = "in business hours", .color = "#1f4e79"},
                          {.name = "outside business hours", .color = "#b34700"}};
    size_t k = 0;
    for (; k < n && k < CHART_MAX_ROWS; k++) {
      labels[k] = l ? who(ctx, rows[k].name) : rows[k].name;
      s[0].v[k] = (double)(rows[k].total - rows[k].after_hours);
      s[1].v[k] = (double)rows[k].after_hours;
    }
    chart(b, seq, l ? "Pages per person" : "Pages per rota", l ? "notifications" : "pages", k,
          labels, s, 2, NULL);
  }
  buf_puts(b,
           "</section>\n<section aria-labelledby=\"h-hours\"><h2 id=\"h-hours\">Hours on "
           "call</h2>\n");
  const char *labels[CHART_MAX_ROWS];
  struct series s[2] = {{.name = "primary", .color = "#1f4e79"},
                        {.name = "secondary", .color = "#5c6b73"}};
  size_t k = 0;
  for (; k < r->n_hours && k < CHART_MAX_ROWS; k++) {
    labels[k] = who(ctx, r->hours[k].person);
    s[0].v[k] = (double)r->hours[k].primary_ms / MS_PER_HOUR;
    s[1].v[k] = (double)r->hours[k].secondary_ms / MS_PER_HOUR;
  }
  chart(b, seq, "Hours on call per person", "hours", k, labels, s, 2, NULL);
  if (r->n_hours) {
    buf_puts(b,
             "<table><caption>Hours on call</caption><thead><tr><th scope=\"col\">Person</th>"
             "<th scope=\"col\">Primary (h)</th><th scope=\"col\">Secondary (h)</th></tr>"
             "</thead><tbody>");
    for (size_t i = 0; i < r->n_hours; i++) {
      buf_puts(b, "<tr><td>");
      esc(b, who(ctx, r->hours[i].person));
      buf_printf(b, "</td><td class=\"n\">%.1f</td><td class=\"n\">%.1f</td></tr>",
                 (double)r->hours[i].primary_ms / MS_PER_HOUR,
                 (double)r->hours[i].secondary_ms / MS_PER_HOUR);
    }
    buf_puts(b, "</tbody></table>\n");
  }
  buf_puts(b, "</section>\n");
}

static void rest_html(const struct report *r, struct buf *b)
{
  char x[32];
  buf_puts(b, "<section aria-labelledby=\"h-noise\"><h2 id=\"h-noise\">Noisiest alerts</h2>");
  if (!r->n_alerts)
    buf_puts(b, "<p>No pages this month.</p>");
  else
    buf_puts(b,
             "<table><thead><tr><th scope=\"col\">Alert</th><th scope=\"col\">Pages</th><th "
             "scope=\"col\">False positives</th><th scope=\"col\">Mean time to "
             "acknowledge</th></tr></thead><tbody>");
  for (size_t i = 0; i < r->n_alerts; i++) {
    const struct report_page_row *a = &r->alerts[i];
    buf_puts(b, "<tr><td>");
    esc(b, a->name);
    buf_printf(b, "</td><td class=\"n\">%lld</td><td class=\"n\">", (long long)a->pages);
    if (a->with_reason)
      buf_printf(b, "%.0f%% of %lld", 100.0 * (double)a->false_positive / (double)a->with_reason,
                 (long long)a->with_reason);
    else
      buf_puts(b, "n/a");
    buf_printf(b, "</td><td class=\"n\">%s</td></tr>",
               dur(a->acked ? a->ack_ms_sum / a->acked : -1, x, sizeof(x)));
  }
  if (r->n_alerts)
    buf_puts(b, "</tbody></table>");
  buf_printf(b,
             "</section>\n<section aria-labelledby=\"h-follow\"><h2 id=\"h-follow\">Follow-up</h2>"
             "<ul><li>Action items: %lld opened, %lld done, %lld overdue (open more than %d "
             "days)</li><li>Postmortems: %lld owed for incidents resolved this month, %lld late",
             (long long)r->actions_opened, (long long)r->actions_done,
             (long long)r->actions_overdue, REPORT_ACTION_DUE_DAYS, (long long)r->postmortems_owed,
             (long long)r->postmortems_late);
  for (size_t i = 0; i < r->n_late; i++)
    buf_printf(b, "%s#%lld", i ? ", " : " (", (long long)r->late_ids[i]);
  buf_puts(b, r->n_late ? ")</li></ul></section>\n" : "</li></ul></section>\n");
}

int report_html(struct cmd_ctx *ctx, const struct report *r, struct buf *b)
{
  char d1[40], d2[40], d3[40];
  int seq = 0;
  buf_printf(b,
             "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta "
             "name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>klaxon "
             "report: %s %d</title><style>%s</style></head>\n<body><main><h1>Monthly report: %s "
             "%d</h1>\n<p>",
             MONTHS[r->month - 1], r->year, STYLE, MONTHS[r->month - 1], r->year);
  esc(b, r->zone);
  buf_printf(b, ", %s to %s. Made %s.</p>\n", time_format_zone(r->from_ms, r->zone, d1, sizeof(d1)),
             time_format_zone(r->to_ms, r->zone, d2, sizeof(d2)),
             time_format_zone(r->made_ms, r->zone, d3, sizeof(d3)));
  incidents_html(ctx, r, b, &seq);
  pages_html(ctx, r, b, &seq);
  rest_html(r, b);
  buf_puts(b,
           "<p><small>Figures defined in klaxon's docs/reports.md.</small></p></main></body>"
           "</html>\n");
  return b->data ? 0 : KX_ETOOBIG;
}
