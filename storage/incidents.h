/*
 * incidents.h — the incidents themselves: what happened (title, severity, status), where it
 * talks (`channel`: a Slack channel id, or a Teams conversation id), who declared it and when
 * it was declared, acknowledged, resolved and closed, the impact start, and the bookkeeping the
 * lifecycle needs (the summary message to update, the last status update, the postmortem).
 *
 * Other features read this: the Monday handoff lists open incidents (incidents_list with
 * INCIDENTS_OPEN), the statistics read declared/acknowledged/resolved times and severities
 * (drills are marked and left out unless asked for).
 *
 * People ("who") are stored as the config person id when klaxon knows the person, else the
 * platform user id (Slack U…, Teams aad id). Times are ms since the epoch; 0 means "not yet".
 * A struct incident owns its strings (incident_clear / incidents_free). Errors: KX_ENOTFOUND
 * for an unknown id or channel, KX_EDB and friends from db.h.
 */
#ifndef KX_STORAGE_INCIDENTS_H
#define KX_STORAGE_INCIDENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

/* The status words, in lifecycle order. "Open" means not resolved and not closed. */
#define INCIDENT_INVESTIGATING "investigating"
#define INCIDENT_IDENTIFIED "identified"
#define INCIDENT_MONITORING "monitoring"
#define INCIDENT_RESOLVED "resolved"
#define INCIDENT_CLOSED "closed"

/* The four incident roles, in display order. */
enum incident_role {
  INCIDENT_ROLE_COMMANDER = 0,
  INCIDENT_ROLE_SCRIBE,
  INCIDENT_ROLE_COMMS,
  INCIDENT_ROLE_OPS,
  INCIDENT_N_ROLES
};

struct incident {
  int64_t id;
  char *title;
  char *description;      /* may be NULL */
  char *severity;         /* a configured severity name */
  char *status;           /* one of the words above */
  char *platform;         /* "slack" or "teams": where it was declared */
  char *channel;          /* where it talks; NULL until the channel exists */
  char *channel_name;     /* "incident-20261124-2"; reserved before the channel exists */
  char *origin_channel;   /* where it was declared, may be NULL */
  char *summary_ts;       /* the summary message in the channel (updated in place), may be NULL */
  char *declared_by;      /* who */
  char *declared_by_user; /* the declarer's platform user id, may be NULL */
  char *rota;             /* whose on-call is involved, may be NULL */
  char *roles[INCIDENT_N_ROLES]; /* who holds each role, NULL when nobody */
  bool drill;
  int64_t alert_id; /* 0: not from an alert */
  int64_t declared_at;
  int64_t impact_start_at; /* the alert's startsAt, else the declaration, or as set */
  int64_t acknowledged_at;
  char *acknowledged_by;
  int64_t resolved_at;
  char *resolved_by;
  char *resolution; /* the summary given with resolve, may be NULL */
  int64_t closed_at;
  int64_t last_update_at; /* the last status update (the declaration to begin with) */
  int64_t manager_called_at;
  int64_t postmortem_done_at;
  char *postmortem_url;
  int64_t announced_at;     /* the announcement was written */
  int64_t channel_failures; /* conversations.create refusals so far */
};

struct incident_create {
  const char *title;
  const char *description;
  const char *severity;
  const char *platform;
  const char *origin_channel;
  const char *declared_by;
  const char *declared_by_user;
  const char *rota;
  bool drill;
  int64_t alert_id;
  int64_t declared_at;
  int64_t impact_start_at; /* 0: the declaration */
};

int incidents_create(struct db *db, const struct incident_create *n, int64_t *id_out);
int incidents_get(struct db *db, int64_t id, struct incident *out);
/* The newest incident talking in this channel (any status). */
int incidents_by_channel(struct db *db, const char *channel, struct incident *out);
/* An open incident declared by `who` with exactly this title at or after since_ms, for
 * repeated commands: *id_out = its id, or KX_ENOTFOUND. */
int incidents_find_repeat(
    struct db *db, const char *who, const char *title, int64_t since_ms, int64_t *id_out);

enum incidents_list_flags {
  INCIDENTS_OPEN = 1 << 0,     /* neither resolved nor closed */
  INCIDENTS_NO_DRILLS = 1 << 1 /* leave drills out (statistics) */
};
/* Incidents by id, filtered by flags and by declaration time in [from_ms, to_ms) (0, 0: any
 * time). The array is the caller's (incidents_free). */
int incidents_list(struct db *db,
                   unsigned flags,
                   int64_t from_ms,
                   int64_t to_ms,
                   struct incident **out,
                   size_t *n);
void incident_clear(struct incident *inc);
void incidents_free(struct incident *list, size_t n);
bool incident_is_open(const struct incident *inc);

/* Single-column updates; the column is named by the enum, never by a string. */
enum incident_text_field {
  INCIDENT_F_TITLE = 0,
  INCIDENT_F_SEVERITY,
  INCIDENT_F_STATUS,
  INCIDENT_F_CHANNEL,
  INCIDENT_F_CHANNEL_NAME,
  INCIDENT_F_SUMMARY_TS,
  INCIDENT_F_ACKNOWLEDGED_BY,
  INCIDENT_F_RESOLVED_BY,
  INCIDENT_F_RESOLUTION,
  INCIDENT_F_POSTMORTEM_URL,
  INCIDENT_N_TEXT_FIELDS
};
enum incident_time_field {
  INCIDENT_F_IMPACT_START_AT = 0,
  INCIDENT_F_ACKNOWLEDGED_AT,
  INCIDENT_F_RESOLVED_AT,
  INCIDENT_F_CLOSED_AT,
  INCIDENT_F_LAST_UPDATE_AT,
  INCIDENT_F_MANAGER_CALLED_AT,
  INCIDENT_F_POSTMORTEM_DONE_AT,
  INCIDENT_F_ANNOUNCED_AT,
  INCIDENT_F_CHANNEL_FAILURES,
  INCIDENT_N_TIME_FIELDS
};
int incidents_set_text(struct db *db, int64_t id, enum incident_text_field f, const char *value);
int incidents_set_time(struct db *db, int64_t id, enum incident_time_field f, int64_t value);

/* The role names: "commander", "scribe", "comms", "ops". */
const char *incident_role_name(enum incident_role r);
/* "commander", "ic", "lead", "scribe", "comms", "communications", "ops", "operations" (any
 * case); -1 when unknown. */
int incident_role_parse(const char *word);

#endif
