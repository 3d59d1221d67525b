/*
 * page_targets.h — what the severities' targets are measured on: for each page (and each
 * alert post in a channel) of a window, its severity and the instants it was due from
 * (anchor_at: creation, or the release of a held page), acknowledged and resolved. The
 * targets themselves are config (commands/paging/stats_targets.c compares).
 *
 * Rows read out own their strings (page_target_rows_free). Errors: 0 or KX_E*.
 */
#ifndef KX_PAGE_TARGETS_H
#define KX_PAGE_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

struct page_target_row {
  int64_t id;
  char *kind;     /* "page" | "post" */
  char *severity; /* NULL: none */
  int64_t anchor_at;
  int64_t acked_at;    /* 0: not acknowledged */
  int64_t resolved_at; /* 0: not resolved */
};

/* Pages of kind page and post with a severity, created in [from_ms, to_ms), oldest first. */
int pages_target_rows(
    struct db *db, int64_t from_ms, int64_t to_ms, struct page_target_row **out, size_t *n);
void page_target_rows_free(struct page_target_row *rows, size_t n); /* NULL-safe */

/* The pages a declaration made for an incident (source "incident") not yet resolved; the
 * caller frees *ids. */
int pages_of_incident(struct db *db, int64_t incident_id, int64_t **ids, size_t *n);

#endif
