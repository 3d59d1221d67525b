/*
 * config_export.c — issue 14's blocks about an incident's afterlife: `incident:` (archive_after)
 * and the postmortem's export (`postmortem.confluence`, `postmortem.webhook_url_env`).
 */
#include "bot/config/config_load_internal.h"

static const char *const INCIDENT_KEYS[] = {"archive_after", NULL};

/* incident: {archive_after: 7d}: a closed incident's channel is archived that long after. */
void cfg_load_incident(struct cfg_loader *L, yaml_node_t *n)
{
  struct cfg_obj o;
  if (!n || !cfg_obj_open(L, n, "incident", INCIDENT_KEYS, &o))
    return;
  yaml_node_t *a = cfg_get(&o, "archive_after");
  if (cfg_duration(L, a, "incident.archive_after", &L->c->incident.archive_after_ms) &&
      L->c->incident.archive_after_ms < 60 * 1000)
    cfg_problem(L, cfg_line(a), "incident.archive_after: at least 1m (or leave it out: never)");
}
