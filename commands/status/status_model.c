/*
 * status_model.c — each component's state at `now`, from what decides it: the states open
 * incidents set (`/incident component`), the checks and heartbeats that feed it, and
 * maintenance windows. A resolved incident drops out of the open ones, so resolving restores
 * its components without anything to undo.
 */
#include <stdlib.h>
#include <string.h>

#include "commands/status/status.h"
#include "lib/kx.h"

static int check_state(const struct status_check *st)
{
  if (!st || !st->last_at)
    return STATUS_OPERATIONAL;
  if (st->firing)
    return STATUS_MAJOR;
  if (!st->up || st->warn)
    return STATUS_DEGRADED;
  return STATUS_OPERATIONAL;
}

static const struct status_check *find(const struct status_check *v, size_t n, const char *name)
{
  for (size_t i = 0; name && i < n; i++)
    if (strcmp(v[i].name, name) == 0)
      return &v[i];
  return NULL;
}

static int max_i(int a, int b)
{
  return a > b ? a : b;
}

int status_model_build(struct cmd_ctx *ctx, struct status_model *m)
{
  const struct config *c = ctx->config;
  memset(m, 0, sizeof(*m));
  m->n = c->status_page.n_components;
  m->state = calloc(m->n ? m->n : 1, sizeof(int));
  if (!m->state)
    return KX_ENOMEM;
  struct status_comp *rows = NULL;
  size_t nrows = 0;
  struct status_check *checks = NULL;
  size_t nchecks = 0;
  int rc = status_components_list(ctx->db, 0, &rows, &nrows);
  if (rc == 0)
    rc = status_checks_all(ctx->db, &checks, &nchecks);
  for (size_t i = 0; rc == 0 && i < m->n; i++) {
    const char *name = c->status_page.components[i];
    int by_incident = STATUS_OPERATIONAL, by_checks = STATUS_OPERATIONAL;
    for (size_t j = 0; j < nrows; j++)
      if (strcmp(rows[j].component, name) == 0)
        by_incident = max_i(by_incident, rows[j].state);
    for (size_t j = 0; j < c->n_checks; j++)
      if (c->checks[j].component && strcmp(c->checks[j].component, name) == 0)
        by_checks = max_i(by_checks, check_state(find(checks, nchecks, c->checks[j].name)));
    for (size_t j = 0; j < c->n_heartbeats; j++)
      if (c->heartbeats[j].component && strcmp(c->heartbeats[j].component, name) == 0)
        by_checks = max_i(by_checks, check_state(find(checks, nchecks, c->heartbeats[j].name)));
    int maint = status_in_maintenance(ctx, name);
    if (maint < 0) {
      rc = maint;
      break;
    }
    /* Maintenance explains failing checks; only an incident's own word goes above it. */
    int s = maint ? max_i(STATUS_MAINTENANCE, by_incident) : max_i(by_incident, by_checks);
    m->state[i] = s;
    m->overall = max_i(m->overall, s);
  }
  status_comps_free(rows, nrows);
  status_checks_free(checks, nchecks);
  if (rc)
    status_model_free(m);
  return rc;
}

void status_model_free(struct status_model *m)
{
  free(m->state);
  m->state = NULL;
  m->n = 0;
}
