/*
 * schema.c — the list of migrations. Each aggregate's file defines its tables as
 * `<aggregate>_schema_v<N>`; a migration is the list of those texts that take the schema from
 * version N-1 to N. Released versions are never edited: a change is a new migration.
 */
#include <stddef.h>

#include "storage/db_internal.h"

extern const char outbox_schema_v1[];
extern const char jobs_schema_v1[];
extern const char seen_schema_v1[];
extern const char notes_schema_v1[];
extern const char people_schema_v1[];
extern const char rota_changes_schema_v1[];
/* incidents (issue 3) */
extern const char incidents_schema_v1[];
extern const char incident_roles_schema_v1[];
extern const char incident_timeline_schema_v1[];
extern const char incident_actions_schema_v1[];
extern const char channel_names_schema_v1[];
/* alerts, paging and escalation (issue 5) */
extern const char alerts_schema_v1[];
extern const char pages_schema_v1[];
/* Teams (issue 6) */
extern const char teams_store_schema_v1[];
/* rotas, /oncall and the handoff (issue 4) */
extern const char handoffs_schema_v1[];
/* pages that wake people: every attempt (issue 11) */
extern const char page_attempts_schema_v2[];
/* issue 16: the App Home */
extern const char home_views_schema_v2[];
/* issue 14: a swap's two halves; where postmortems were exported */
extern const char rota_swaps_schema_v2[];
extern const char postmortem_exports_schema_v2[];

/* the status page, checks and maintenance (issue 13) */
extern const char status_schema_v2[];
extern const char status_subs_schema_v2[];
/* retention's indexes (issue 15) */
extern const char retention_schema_v2[];

static const char *const migration_1[] = {
    outbox_schema_v1,
    jobs_schema_v1,
    seen_schema_v1,
    notes_schema_v1,
    people_schema_v1,
    rota_changes_schema_v1,
    /* incidents (issue 3) */
    incidents_schema_v1,
    incident_roles_schema_v1,
    incident_timeline_schema_v1,
    incident_actions_schema_v1,
    channel_names_schema_v1,
    /* alerts, paging and escalation (issue 5) */
    alerts_schema_v1,
    pages_schema_v1,
    /* Teams (issue 6) */
    teams_store_schema_v1,
    /* rotas, /oncall and the handoff (issue 4) */
    handoffs_schema_v1,
    NULL,
};

/* alerts mailed as a next-business-day digest (issue 11) */
extern const char alert_mail_schema_v2[];
/* issue 14: action items' due dates */
extern const char incident_actions_due_schema_v2[];

static const char *const migration_2[] = {
    /* pages that wake people (issue 11) */
    page_attempts_schema_v2,
    alert_mail_schema_v2,
    /* issue 16: the App Home */
    home_views_schema_v2,
    /* the status page, checks and maintenance (issue 13) */
    status_schema_v2,
    status_subs_schema_v2,
    /* retention's indexes (issue 15) */
    retention_schema_v2,
    /* issue 14: a swap's two halves; where postmortems were exported */
    rota_swaps_schema_v2,
    postmortem_exports_schema_v2,
    /* issue 14: action items' due dates */
    incident_actions_due_schema_v2,
    NULL,
};

/* issue 12: the outbox sender's lease, and the attempt it has in flight */
extern const char leases_schema_v3[];
extern const char outbox_schema_v3[];

static const char *const migration_3[] = {
    leases_schema_v3,
    outbox_schema_v3,
    NULL,
};

const struct db_migration db_migrations[] = {
    {1, migration_1},
    {2, migration_2},
    {3, migration_3},
};
const int db_n_migrations = (int)(sizeof(db_migrations) / sizeof(db_migrations[0]));
