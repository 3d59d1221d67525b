/*
 * status.h — the status page's state (issue 13): the component states incidents set, the public
 * updates (an internal update is never stored here, so it cannot leak onto the page), the state
 * of each synthetic check and heartbeat, the per-component daily history behind the uptime
 * bars, and maintenance windows.
 *
 * Strings in the returned structs are the caller's, freed by the matching _free/_clear.
 * Functions return 0 or a negative KX_E* code (KX_ENOTFOUND where said).
 */
#ifndef KX_STORAGE_STATUS_H
#define KX_STORAGE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

/* Statuspage's component states, least to most severe (the rank is the index). */
enum status_state {
  STATUS_OPERATIONAL = 0,
  STATUS_MAINTENANCE,
  STATUS_DEGRADED,
  STATUS_PARTIAL,
  STATUS_MAJOR,
  STATUS_N_STATES
};
const char *status_state_name(enum status_state s); /* "partial_outage" */
int status_state_parse(const char *word);           /* the enum, or -1 */

/* An incident's say on a component (the latest state set wins for that incident). */
int status_component_set(
    struct db *db, int64_t incident_id, const char *component, int state, int64_t now_ms);
struct status_comp {
  int64_t incident_id;
  char *component;
  int state;
  int64_t set_at;
};
/* The rows of one incident (incident_id > 0) or of every open incident (0). */
int status_components_list(struct db *db, int64_t incident_id, struct status_comp **out, size_t *n);
void status_comps_free(struct status_comp *v, size_t n);

struct status_update {
  int64_t id, incident_id, at_ms;
  char *status; /* the incident's status word when it was posted */
  char *body;
};
int status_update_add(struct db *db,
                      int64_t incident_id,
                      const char *status,
                      const char *body,
                      int64_t now_ms,
                      int64_t *id_out);
/* Newest first; incident_id 0: every incident; at most limit. */
int status_updates_list(
    struct db *db, int64_t incident_id, size_t limit, struct status_update **out, size_t *n);
void status_updates_free(struct status_update *v, size_t n);
/* Incidents on the page (a public update or a component set), newest first, at most limit. */
int status_incident_ids(struct db *db, size_t limit, int64_t **out, size_t *n);

/* A check's or heartbeat's state. */
struct status_check {
  char *name;
  int up;             /* 1 up (or not run yet), 0 failing */
  int firing;         /* an alert is raised */
  int64_t down_since; /* first failure of the current run, 0 when up */
  int64_t last_at;    /* last result (or beat) */
  double last_ms;     /* last response time */
  char *detail;       /* why it failed, may be NULL */
  char *warn;         /* slow / certificate near expiry, may be NULL */
};
int status_check_get(struct db *db, const char *name, struct status_check *out); /* ENOTFOUND */
int status_check_put(struct db *db, const struct status_check *c);
int status_checks_all(struct db *db, struct status_check **out, size_t *n);
void status_check_clear(struct status_check *c);
void status_checks_free(struct status_check *v, size_t n);

/* Daily history of a component: day = days since 1970-01-01 UTC. */
int status_day_result(struct db *db, const char *component, int64_t day, bool ok);
int status_day_worst(struct db *db, const char *component, int64_t day, int state);
struct status_day {
  int64_t day;
  int64_t ok, total;
  int worst;
};
/* Days from first to last (inclusive) that have a row, oldest first. */
int status_days_list(struct db *db,
                     const char *component,
                     int64_t first,
                     int64_t last,
                     struct status_day **out,
                     size_t *n);

struct status_window {
  int64_t id;
  char *component;
  int64_t from_ms, to_ms;
  char *text;
  char *created_by; /* "config" for a window from the config file */
};
/* KX_EEXISTS when the same component, from and to are already stored. */
int status_window_add(struct db *db, const struct status_window *w, int64_t now_ms, int64_t *id);
/* Windows that end after since_ms, soonest first. */
int status_windows_list(struct db *db, int64_t since_ms, struct status_window **out, size_t *n);
/* The window covering component at now, if any (1 with *out filled, 0 none, < 0 error). */
int status_window_active(struct db *db,
                         const char *component,
                         int64_t now_ms,
                         struct status_window *out);
void status_window_clear(struct status_window *w);
void status_windows_free(struct status_window *v, size_t n);

#endif
