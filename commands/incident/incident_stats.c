/*
 * incident_stats.c — the incident series of /metrics (drills left out): incidents declared and
 * still open by severity, the time to resolve as a histogram, and action items open and done.
 * Computed from the database at scrape time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/incident/incident_internal.h"
#include "lib/kx.h"
#include "storage/incident_actions.h"

static const double RESOLVE_BOUNDS[] = {300, 900, 1800, 3600, 7200, 14400, 28800, 86400};

/* A label value: severity names are [A-Za-z0-9 …] in practice; quote and backslash escaped. */
static int label(struct buf *b, const char *v)
{
  int rc = 0;
  for (; rc == 0 && v && *v; v++) {
    if (*v == '"' || *v == '\\')
      rc = buf_printf(b, "\\%c", *v);
    else if (*v == '\n')
      rc = buf_puts(b, "\\n");
    else
      rc = buf_append(b, v, 1);
  }
  return rc;
}

int incident_metrics(struct cmd_ctx *ctx, struct buf *out)
{
  struct incident *list = NULL;
  size_t n = 0;
  int rc = incidents_list(ctx->db, INCIDENTS_NO_DRILLS, 0, 0, &list, &n);
  if (rc)
    return rc;
  const struct config *c = ctx->config;
  rc = buf_puts(out,
                "# HELP klaxon_incidents_total Incidents declared (drills left out), by severity\n"
                "# TYPE klaxon_incidents_total counter\n");
  for (size_t s = 0; rc == 0 && s < c->n_severities; s++) {
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
      total += strcmp(list[i].severity, c->severities[s].name) == 0;
    rc = buf_puts(out, "klaxon_incidents_total{severity=\"");
    if (rc == 0)
      rc = label(out, c->severities[s].name);
    if (rc == 0)
      rc = buf_printf(out, "\"} %lld\n", (long long)total);
  }
  if (rc == 0)
    rc = buf_puts(out,
                  "# HELP klaxon_incidents_open Incidents not resolved yet (drills left out)\n"
                  "# TYPE klaxon_incidents_open gauge\n");
  for (size_t s = 0; rc == 0 && s < c->n_severities; s++) {
    int64_t open = 0;
    for (size_t i = 0; i < n; i++)
      open += strcmp(list[i].severity, c->severities[s].name) == 0 && incident_is_open(&list[i]);
    rc = buf_puts(out, "klaxon_incidents_open{severity=\"");
    if (rc == 0)
      rc = label(out, c->severities[s].name);
    if (rc == 0)
      rc = buf_printf(out, "\"} %lld\n", (long long)open);
  }
  double sum = 0;
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    if (list[i].resolved_at) {
      sum += (double)(list[i].resolved_at - list[i].declared_at) / 1000.0;
      count++;
    }
  if (rc == 0)
    rc = buf_puts(out,
                  "# HELP klaxon_incident_resolve_seconds Time from declaration to resolution "
                  "(drills left out)\n# TYPE klaxon_incident_resolve_seconds histogram\n");
  for (size_t b = 0; rc == 0 && b <= KX_ARRAY_SIZE(RESOLVE_BOUNDS); b++) {
    size_t le = 0;
    for (size_t i = 0; i < n; i++)
      if (list[i].resolved_at &&
          (b == KX_ARRAY_SIZE(RESOLVE_BOUNDS) ||
           (double)(list[i].resolved_at - list[i].declared_at) / 1000.0 <= RESOLVE_BOUNDS[b]))
        le++;
    if (b < KX_ARRAY_SIZE(RESOLVE_BOUNDS))
      rc = buf_printf(out, "klaxon_incident_resolve_seconds_bucket{le=\"%g\"} %zu\n",
                      RESOLVE_BOUNDS[b], le);
    else
      rc = buf_printf(out, "klaxon_incident_resolve_seconds_bucket{le=\"+Inf\"} %zu\n", le);
  }
  if (rc == 0)
    rc = buf_printf(
        out,
        "klaxon_incident_resolve_seconds_sum %.3f\nklaxon_incident_resolve_seconds_count %zu\n",
        sum, count);
  incidents_free(list, n);
  int64_t total = 0, done = 0;
  if (rc == 0)
    rc = incident_actions_count(ctx->db, 0, 0, &total, &done);
  if (rc == 0)
    rc = buf_printf(
        out,
        "# HELP klaxon_incident_action_items Action items of incidents (drills left out)\n"
        "# TYPE klaxon_incident_action_items gauge\n"
        "klaxon_incident_action_items{state=\"open\"} %lld\n"
        "klaxon_incident_action_items{state=\"done\"} %lld\n",
        (long long)(total - done), (long long)done);
  return rc;
}
