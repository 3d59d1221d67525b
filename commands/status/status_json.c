/*
 * status_json.c — the page's data loaded once, and the JSON in the shape of Atlassian
 * Statuspage's public API v2 (summary, status, components, incidents, scheduled-maintenances),
 * so widgets and aggregators that read Statuspage read klaxon. Built with cJSON: everything a
 * user typed is escaped by the encoder.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/status/status_internal.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

#define WINDOW_KEEP_MS (7 * MS_PER_DAY)

const char *status_indicator(int s)
{
  static const char *const w[] = {"none", "maintenance", "minor", "major", "critical"};
  return s >= 0 && s < STATUS_N_STATES ? w[s] : "none";
}

const char *status_impact(int s)
{
  return status_indicator(s);
}

const char *status_description(int s)
{
  static const char *const w[] = {"All Systems Operational", "Service Under Maintenance",
                                  "Minor Service Outage", "Partial System Outage",
                                  "Major System Outage"};
  return s >= 0 && s < STATUS_N_STATES ? w[s] : w[0];
}

const char *status_state_label(int s)
{
  static const char *const w[] = {"Operational", "Under maintenance", "Degraded performance",
                                  "Partial outage", "Major outage"};
  return s >= 0 && s < STATUS_N_STATES ? w[s] : w[0];
}

const char *status_inc_status(const struct incident *inc)
{
  if (!incident_is_open(inc))
    return "resolved";
  return inc->status ? inc->status : "investigating";
}

const char *status_window_status(const struct status_window *w, int64_t now_ms)
{
  return now_ms < w->from_ms ? "scheduled" : now_ms < w->to_ms ? "in_progress" : "completed";
}

void status_data_free(struct status_data *d)
{
  status_model_free(&d->m);
  for (size_t i = 0; d->inc && i < d->ninc; i++) {
    incident_clear(&d->inc[i].inc);
    status_updates_free(d->inc[i].up, d->inc[i].nup);
    status_comps_free(d->inc[i].comps, d->inc[i].ncomps);
  }
  free(d->inc);
  status_windows_free(d->win, d->nwin);
  memset(d, 0, sizeof(*d));
}

static int severity_impact(const struct config *c, const char *sev)
{
  for (size_t i = 0; sev && i < c->n_severities; i++)
    if (strcasecmp(c->severities[i].name, sev) == 0)
      return i == 0 ? STATUS_MAJOR : i == 1 ? STATUS_PARTIAL : STATUS_DEGRADED;
  return STATUS_DEGRADED;
}

static bool sev_auto(const struct config *c, const char *sev)
{
  for (size_t i = 0; sev && i < c->n_severities; i++)
    if (strcasecmp(c->severities[i].name, sev) == 0)
      return c->severities[i].status_page && strcmp(c->severities[i].status_page, "auto") == 0;
  return false;
}

static int cmp_desc(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* Incidents of severities with status_page: auto are on the page from their declaration. */
static int add_auto(struct cmd_ctx *ctx, int64_t **ids, size_t *n)
{
  bool any = false;
  for (size_t i = 0; i < ctx->config->n_severities; i++)
    any |= sev_auto(ctx->config, ctx->config->severities[i].name);
  if (!any)
    return 0;
  struct incident *list = NULL;
  size_t nl = 0;
  int rc =
      incidents_list(ctx->db, INCIDENTS_NO_DRILLS, ctx->now_ms - STATUS_HISTORY_DAYS * MS_PER_DAY,
                     ctx->now_ms + 1, &list, &nl);
  for (size_t i = 0; rc == 0 && i < nl; i++) {
    if (!sev_auto(ctx->config, list[i].severity))
      continue;
    bool have = false;
    for (size_t j = 0; j < *n && !have; j++)
      have = (*ids)[j] == list[i].id;
    if (have)
      continue;
    int64_t *g = realloc(*ids, (*n + 1) * sizeof(int64_t));
    if (!g) {
      rc = KX_ENOMEM;
      break;
    }
    *ids = g;
    (*ids)[(*n)++] = list[i].id;
  }
  incidents_free(list, nl);
  if (rc == 0 && *n) {
    qsort(*ids, *n, sizeof(int64_t), cmp_desc);
    if (*n > STATUS_PAGE_INCIDENTS)
      *n = STATUS_PAGE_INCIDENTS;
  }
  return rc;
}

int status_data_load(struct cmd_ctx *ctx, struct status_data *d)
{
  memset(d, 0, sizeof(*d));
  int64_t *ids = NULL;
  size_t nids = 0;
  int rc = status_model_build(ctx, &d->m);
  if (rc == 0)
    rc = status_incident_ids(ctx->db, STATUS_PAGE_INCIDENTS, &ids, &nids);
  if (rc == 0)
    rc = add_auto(ctx, &ids, &nids);
  if (rc == 0 && nids && !(d->inc = calloc(nids, sizeof(*d->inc))))
    rc = KX_ENOMEM;
  for (size_t i = 0; rc == 0 && i < nids; i++) {
    struct status_inc *x = &d->inc[d->ninc];
    rc = incidents_get(ctx->db, ids[i], &x->inc);
    if (rc == KX_ENOTFOUND) {
      rc = 0;
      continue;
    }
    d->ninc++;
    if (rc == 0)
      rc = status_updates_list(ctx->db, ids[i], 200, &x->up, &x->nup);
    if (rc == 0)
      rc = status_components_list(ctx->db, ids[i], &x->comps, &x->ncomps);
    x->impact = STATUS_OPERATIONAL;
    for (size_t j = 0; j < x->ncomps; j++)
      if (x->comps[j].state > x->impact)
        x->impact = x->comps[j].state;
    if (x->ncomps == 0)
      x->impact = severity_impact(ctx->config, x->inc.severity);
  }
  free(ids);
  if (rc == 0)
    rc = status_windows_list(ctx->db, ctx->now_ms - WINDOW_KEEP_MS, &d->win, &d->nwin);
  if (rc)
    status_data_free(d);
  return rc;
}

static bool add_time(cJSON *o, const char *key, int64_t ms)
{
  char t[40];
  if (ms <= 0)
    return cJSON_AddNullToObject(o, key) != NULL;
  return cJSON_AddStringToObject(o, key, time_format_utc(ms, t, sizeof(t))) != NULL;
}

static const char *page_url(const struct cmd_ctx *ctx)
{
  return ctx->config->status_page.public_url ? ctx->config->status_page.public_url
         : ctx->public_url                   ? ctx->public_url
                                             : "";
}

static cJSON *page_obj(struct cmd_ctx *ctx)
{
  cJSON *p = cJSON_CreateObject();
  const char *title = ctx->config->status_page.title ? ctx->config->status_page.title : "Status";
  if (p && cJSON_AddStringToObject(p, "id", "klaxon") &&
      cJSON_AddStringToObject(p, "name", title) &&
      cJSON_AddStringToObject(p, "url", page_url(ctx)) &&
      cJSON_AddStringToObject(p, "time_zone", "Etc/UTC") && add_time(p, "updated_at", ctx->now_ms))
    return p;
  cJSON_Delete(p);
  return NULL;
}

static cJSON *component_obj(struct cmd_ctx *ctx, size_t i, int state)
{
  const struct status_component *k = &ctx->config->status_page.comp[i];
  cJSON *o = cJSON_CreateObject();
  bool ok = o && cJSON_AddStringToObject(o, "id", k->name) &&
            cJSON_AddStringToObject(o, "name", k->name) &&
            cJSON_AddStringToObject(o, "status", status_state_name(state)) &&
            add_time(o, "created_at", ctx->now_ms) && add_time(o, "updated_at", ctx->now_ms) &&
            cJSON_AddNumberToObject(o, "position", (double)(i + 1)) &&
            (k->description ? cJSON_AddStringToObject(o, "description", k->description) != NULL
                            : cJSON_AddNullToObject(o, "description") != NULL) &&
            cJSON_AddBoolToObject(o, "showcase", true) && cJSON_AddNullToObject(o, "start_date") &&
            (k->group ? cJSON_AddStringToObject(o, "group_id", k->group) != NULL
                      : cJSON_AddNullToObject(o, "group_id") != NULL) &&
            cJSON_AddStringToObject(o, "page_id", "klaxon") &&
            cJSON_AddBoolToObject(o, "group", false) &&
            cJSON_AddBoolToObject(o, "only_show_if_degraded", false);
  if (ok)
    return o;
  cJSON_Delete(o);
  return NULL;
}

static cJSON *components_arr(struct cmd_ctx *ctx, const struct status_data *d)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < d->m.n; i++) {
    cJSON *o = component_obj(ctx, i, d->m.state[i]);
    if (!o || !cJSON_AddItemToArray(a, o)) {
      cJSON_Delete(o);
      cJSON_Delete(a);
      return NULL;
    }
  }
  return a;
}

static int comp_index(const struct config *c, const char *name)
{
  for (size_t i = 0; i < c->status_page.n_components; i++)
    if (strcmp(c->status_page.components[i], name) == 0)
      return (int)i;
  return -1;
}

static cJSON *incident_obj(struct cmd_ctx *ctx, const struct status_inc *x)
{
  cJSON *o = cJSON_CreateObject(), *ups = NULL, *comps = NULL;
  char id[32];
  snprintf(id, sizeof(id), "%lld", (long long)x->inc.id);
  const char *st = status_inc_status(&x->inc);
  int64_t updated = x->nup ? x->up[0].at_ms : x->inc.declared_at;
  if (x->inc.resolved_at > updated)
    updated = x->inc.resolved_at;
  bool ok = o && cJSON_AddStringToObject(o, "id", id) &&
            cJSON_AddStringToObject(o, "name", x->inc.title ? x->inc.title : "") &&
            cJSON_AddStringToObject(o, "status", st) &&
            add_time(o, "created_at", x->inc.declared_at) && add_time(o, "updated_at", updated) &&
            add_time(o, "monitoring_at", 0) && add_time(o, "resolved_at", x->inc.resolved_at) &&
            cJSON_AddStringToObject(o, "impact", status_impact(x->impact)) &&
            cJSON_AddStringToObject(o, "shortlink", page_url(ctx)) &&
            add_time(o, "started_at",
                     x->inc.impact_start_at ? x->inc.impact_start_at : x->inc.declared_at) &&
            cJSON_AddStringToObject(o, "page_id", "klaxon") &&
            (ups = cJSON_AddArrayToObject(o, "incident_updates")) &&
            (comps = cJSON_AddArrayToObject(o, "components"));
  for (size_t i = 0; ok && i < x->nup; i++) {
    const struct status_update *u = &x->up[i];
    cJSON *uo = cJSON_CreateObject();
    char uid[32];
    snprintf(uid, sizeof(uid), "%lld", (long long)u->id);
    ok = uo && cJSON_AddItemToArray(ups, uo) && cJSON_AddStringToObject(uo, "id", uid) &&
         cJSON_AddStringToObject(uo, "status", u->status) &&
         cJSON_AddStringToObject(uo, "body", u->body) &&
         cJSON_AddStringToObject(uo, "incident_id", id) && add_time(uo, "created_at", u->at_ms) &&
         add_time(uo, "updated_at", u->at_ms) && add_time(uo, "display_at", u->at_ms) &&
         cJSON_AddNullToObject(uo, "affected_components");
  }
  for (size_t i = 0; ok && i < x->ncomps; i++) {
    int k = comp_index(ctx->config, x->comps[i].component);
    if (k < 0)
      continue;
    cJSON *co = component_obj(ctx, (size_t)k, x->comps[i].state);
    ok = co && cJSON_AddItemToArray(comps, co);
  }
  if (ok)
    return o;
  cJSON_Delete(o);
  return NULL;
}

static cJSON *incidents_arr(struct cmd_ctx *ctx, const struct status_data *d, bool open_only)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < d->ninc; i++) {
    if (open_only && !incident_is_open(&d->inc[i].inc))
      continue;
    cJSON *o = incident_obj(ctx, &d->inc[i]);
    if (!o || !cJSON_AddItemToArray(a, o)) {
      cJSON_Delete(o);
      cJSON_Delete(a);
      return NULL;
    }
  }
  return a;
}

static cJSON *windows_arr(struct cmd_ctx *ctx, const struct status_data *d, bool active_only)
{
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < d->nwin; i++) {
    const struct status_window *w = &d->win[i];
    const char *st = status_window_status(w, ctx->now_ms);
    if (active_only && strcmp(st, "completed") == 0)
      continue;
    int k = comp_index(ctx->config, w->component);
    char id[32];
    snprintf(id, sizeof(id), "m%lld", (long long)w->id);
    cJSON *o = cJSON_CreateObject(), *ups = NULL, *comps = NULL, *u = NULL;
    bool ok =
        o && cJSON_AddItemToArray(a, o) && cJSON_AddStringToObject(o, "id", id) &&
        cJSON_AddStringToObject(o, "name", w->text) && cJSON_AddStringToObject(o, "status", st) &&
        add_time(o, "created_at", w->from_ms) && add_time(o, "updated_at", ctx->now_ms) &&
        add_time(o, "monitoring_at", 0) &&
        add_time(o, "resolved_at", strcmp(st, "completed") == 0 ? w->to_ms : 0) &&
        cJSON_AddStringToObject(o, "impact", "maintenance") &&
        cJSON_AddStringToObject(o, "shortlink", page_url(ctx)) &&
        add_time(o, "scheduled_for", w->from_ms) && add_time(o, "scheduled_until", w->to_ms) &&
        cJSON_AddStringToObject(o, "page_id", "klaxon") &&
        (ups = cJSON_AddArrayToObject(o, "incident_updates")) && (u = cJSON_CreateObject()) &&
        cJSON_AddItemToArray(ups, u) && cJSON_AddStringToObject(u, "id", id) &&
        cJSON_AddStringToObject(u, "status", st) && cJSON_AddStringToObject(u, "body", w->text) &&
        cJSON_AddStringToObject(u, "incident_id", id) && add_time(u, "created_at", w->from_ms) &&
        add_time(u, "updated_at", w->from_ms) && add_time(u, "display_at", w->from_ms) &&
        (comps = cJSON_AddArrayToObject(o, "components"));
    cJSON *co = ok && k >= 0 ? component_obj(ctx, (size_t)k, d->m.state[k]) : NULL;
    if (co && !cJSON_AddItemToArray(comps, co)) {
      cJSON_Delete(co);
      ok = false;
    }
    if (!ok) {
      cJSON_Delete(a);
      return NULL;
    }
  }
  return a;
}

int status_render_json(struct cmd_ctx *ctx, const char *which, struct buf *out)
{
  bool summary = strcmp(which, "summary") == 0, status = strcmp(which, "status") == 0,
       comps = strcmp(which, "components") == 0, incs = strcmp(which, "incidents") == 0,
       maint = strcmp(which, "scheduled-maintenances") == 0;
  if (!summary && !status && !comps && !incs && !maint)
    return KX_ENOTFOUND;
  struct status_data d;
  int rc = status_data_load(ctx, &d);
  if (rc)
    return rc;
  cJSON *root = cJSON_CreateObject(), *st = NULL;
  bool ok = root && cJSON_AddItemToObject(root, "page", page_obj(ctx));
  if (ok && (summary || comps))
    ok = cJSON_AddItemToObject(root, "components", components_arr(ctx, &d));
  if (ok && (summary || incs))
    ok = cJSON_AddItemToObject(root, "incidents", incidents_arr(ctx, &d, summary));
  if (ok && (summary || maint))
    ok = cJSON_AddItemToObject(root, "scheduled_maintenances", windows_arr(ctx, &d, summary));
  if (ok && (summary || status))
    ok = (st = cJSON_AddObjectToObject(root, "status")) &&
         cJSON_AddStringToObject(st, "indicator", status_indicator(d.m.overall)) &&
         cJSON_AddStringToObject(st, "description", status_description(d.m.overall));
  char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
  rc = text ? buf_puts(out, text) : KX_ENOMEM;
  free(text);
  cJSON_Delete(root);
  status_data_free(&d);
  return rc;
}
