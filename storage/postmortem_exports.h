/*
 * postmortem_exports.h — where an incident's postmortem was exported (issue 14): the Confluence
 * page created for it (its id and last version, from Confluence's answers), so a re-export
 * updates that page in place. A row with no page id is a creation under way.
 */
#ifndef KX_POSTMORTEM_EXPORTS_H
#define KX_POSTMORTEM_EXPORTS_H

#include <stdint.h>

#include "storage/db.h"

struct postmortem_export {
  int64_t incident_id;
  char *page_id; /* NULL while the creation is under way */
  int64_t version;
  char *url; /* the page's web address, may be NULL */
  int64_t exported_at;
};

/* Claim the creation: KX_EEXISTS when the incident has a row already. */
int postmortem_exports_begin(struct db *db, int64_t incident_id, int64_t now_ms);
/* Confluence answered: the page, its version and address (url may be NULL). */
int postmortem_exports_set(struct db *db,
                           int64_t incident_id,
                           const char *page_id,
                           int64_t version,
                           const char *url,
                           int64_t now_ms);
/* The creation failed for good: forget the claim (only a row without a page). */
int postmortem_exports_abandon(struct db *db, int64_t incident_id);
/* KX_ENOTFOUND when never exported. */
int postmortem_exports_get(struct db *db, int64_t incident_id, struct postmortem_export *out);
void postmortem_export_clear(struct postmortem_export *e);

#endif
