/*
 * rota_swaps.h — a swap is one change made of two overrides (issue 14): the pair is kept so that
 * cancelling either half cancels both.
 */
#ifndef KX_ROTA_SWAPS_H
#define KX_ROTA_SWAPS_H

#include <stdint.h>

#include "storage/db.h"
#include "storage/rota_changes.h"

/* Record that overrides a and b are the two halves of one swap. */
int rota_swaps_pair(struct db *db, int64_t a, int64_t b);
/* The other half of change `id` when it is a swap's half and still active in `rota`: 0 and *out
 * filled (free its strings with rota_change_rows_free-like care: person, created_by, reason), or
 * KX_ENOTFOUND. */
int rota_swaps_other(struct db *db, const char *rota, int64_t id, struct rota_change_row *out);

#endif
