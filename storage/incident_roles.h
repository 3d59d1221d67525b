/*
 * incident_roles.h — who holds which role in an incident (commander, scribe, comms, ops): one
 * row per (incident, role). The history of changes is kept in the timeline; this is the present.
 * struct incident (incidents.h) carries the holders when read.
 */
#ifndef KX_STORAGE_INCIDENT_ROLES_H
#define KX_STORAGE_INCIDENT_ROLES_H

#include <stdint.h>

#include "storage/db.h"
#include "storage/incidents.h"

/* Give the role to `who` (a person id or platform user id; NULL: nobody). */
int incident_roles_set(
    struct db *db, int64_t incident_id, enum incident_role role, const char *who, int64_t now_ms);
/* The holder (a copy the caller frees), or NULL when nobody holds it. */
char *incident_roles_get(struct db *db, int64_t incident_id, enum incident_role role);

#endif
