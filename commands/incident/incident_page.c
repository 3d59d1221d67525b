/*
 * incident_page.c — declaring an incident pages the on-call (issue 11): whom the severity's
 * `page:` names (P0: primary and secondary at once; `business_hours`: the primary, held until
 * business hours begin; `none`: nobody), as a page of the incident's rota with the severity's
 * escalation policy, ack and resolve targets, linked to the incident so its buttons and
 * acknowledgement land in the timeline. The page names the incident's channel. A drill pages
 * nobody, and an incident declared from a page does not page again.
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands/incident/incident_internal.h"
#include "commands/paging/paging.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/page_targets.h"

static int page_oncall(struct cmd_ctx *ctx, const struct incident *inc);

int incident_page_oncall(struct cmd_ctx *ctx, const struct incident *declared)
{
  /* Read it again: the channel's name was reserved after the caller's copy was read. */
  struct incident inc;
  int rc = incidents_get(ctx->db, declared->id, &inc);
  if (rc)
    return rc;
  rc = page_oncall(ctx, &inc);
  incident_clear(&inc);
  return rc;
}

static int page_oncall(struct cmd_ctx *ctx, const struct incident *inc)
{
  const struct severity *sev = config_severity(ctx->config, inc->severity);
  const struct rota *r = inc->rota ? config_rota(ctx->config, inc->rota) : NULL;
  if (inc->drill || !sev || !r ||
      !(sev->page_primary || sev->page_secondary || sev->page_business_hours))
    return 0;
  char title[INCIDENT_TITLE_MAX + 32];
  snprintf(title, sizeof(title), "Incident #%lld: %s", (long long)inc->id, inc->title);
  /* Slack: the channel's name is reserved before Slack is asked, so the page can name it. */
  char where[128];
  if (inc->channel_name)
    snprintf(where, sizeof(where), "the incident channel #%s", inc->channel_name);
  else
    snprintf(where, sizeof(where), "%s",
             kx_streq(inc->platform, "teams") ? "the incident's Teams thread"
                                              : "the incident channel (being created)");
  char *summary =
      kx_asprintf("%s incident declared%s%s. Join %s.%s%s", inc->severity,
                  inc->declared_by ? " by " : "", inc->declared_by ? inc->declared_by : "", where,
                  inc->description ? "\n\n" : "", inc->description ? inc->description : "");
  if (!summary)
    return KX_ENOMEM;
  struct page_new n = {
      .kind = "page",
      .rota = r->name,
      .severity = sev->name,
      .title = title,
      .summary = summary,
      .source = "incident",
      .created_by = inc->declared_by,
      .started_at = inc->impact_start_at,
  };
  int64_t page = 0;
  int rc = paging_create(ctx, &n, &page);
  free(summary);
  if (rc == 0)
    rc = pages_set_incident(ctx->db, page, inc->id);
  if (rc == 0)
    rc = paging_refresh(ctx, page);
  LOG_INFO("incident", "paged", "id=%lld page=%lld severity=%s", (long long)inc->id,
           (long long)page, inc->severity);
  return rc;
}

int incident_pages_follow(struct cmd_ctx *ctx, int64_t incident_id, const char *who, bool resolve)
{
  int64_t *ids = NULL;
  size_t n = 0;
  int rc = pages_of_incident(ctx->db, incident_id, &ids, &n);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (resolve) {
      rc = paging_resolve(ctx, ids[i], who, NULL, NULL);
      if (rc == KX_ESTATE)
        rc = 0;
      continue;
    }
    /* The incident's own timeline has the acknowledgement: the page only follows it. */
    struct page_row p;
    rc = pages_get(ctx->db, ids[i], &p);
    bool open = rc == 0 && p.state == PAGE_OPEN;
    if (rc == 0)
      page_row_clear(&p);
    if (rc == 0 && open)
      rc = pages_ack(ctx->db, ids[i], who, ctx->now_ms);
    if (rc == 0 && open) {
      char prefix[64];
      snprintf(prefix, sizeof(prefix), "page:%lld:", (long long)ids[i]);
      rc = jobs_cancel_prefix(ctx->db, prefix, ctx->now_ms);
      rc = rc < 0 ? rc : paging_refresh(ctx, ids[i]);
    }
  }
  free(ids);
  return rc;
}
