/*
 * leases.h — named leases in the shared database: one instance at a time holds a lease (the
 * outbox's sender holds "outbox"), for a time measured on the database's clock (db_clock_ms,
 * never the bot's simulated KLAXON_NOW clock), and renews it before it expires. Every takeover
 * adds one to the lease's epoch; a renewal keeps it. A write that must come from the current
 * holder only (the outbox's completions) checks the epoch in the same statement and is
 * refused with KX_EFENCED otherwise: an instance that froze past its lease cannot undo the
 * work of the one that took over.
 *
 * Holders are strings the caller makes unique (host, pid and a random part); they are copied.
 */
#ifndef KX_LEASES_H
#define KX_LEASES_H

#include <stdint.h>

#include "storage/db.h"

#define LEASES_OUTBOX "outbox" /* the outbox sender's lease (the outbox SQL names it too) */

struct leases_state {
  char holder[128];   /* "" when the lease was never taken */
  int64_t epoch;      /* 0 when never taken */
  int64_t expires_at; /* database clock, ms */
};

/* Take or renew `name` for `holder` until the database clock's now + ttl_ms. `*epoch` is the
 * epoch the caller holds (0: none). The caller renews when `holder` and `*epoch` are the
 * lease's, expired or not (nobody took it in between, or the epoch would have moved); it takes
 * the lease over only when the lease is expired (or new), and then the epoch goes up by one.
 * Returns 0 with `*epoch` the epoch now held; KX_EEXISTS when another holder's lease has not
 * expired (`*epoch` is set to 0); or a database error (logged). Not inside a transaction: the
 * write commits at once. */
int leases_acquire(
    struct db *db, const char *name, const char *holder, int64_t ttl_ms, int64_t *epoch);
/* Take the lease from a holder the caller knows to be dead (a process of this host that no
 * longer runs), before it expires: only while it is still `dead_holder`'s at `dead_epoch`.
 * The epoch goes up by one. 0 with `*epoch` the epoch now held; KX_EEXISTS when the lease
 * moved meanwhile; or a database error (logged). */
int leases_take_from(struct db *db,
                     const char *name,
                     const char *holder,
                     const char *dead_holder,
                     int64_t dead_epoch,
                     int64_t ttl_ms,
                     int64_t *epoch);
/* Give the lease up at once (it expires now; the next taker still bumps the epoch). Nothing
 * happens unless holder and epoch are the lease's. 0 or a database error. */
int leases_release(struct db *db, const char *name, const char *holder, int64_t epoch);
/* The lease as the database has it now; a lease never taken reads as zeroes and "" (0). */
int leases_get(struct db *db, const char *name, struct leases_state *out);
/* The clock leases are measured on (the database's: db_clock_ms), in ms; negative on error. */
int64_t leases_clock_ms(struct db *db);
/* The lease's current epoch, 0 when never taken (or on a database error, logged). */
int64_t leases_epoch(struct db *db, const char *name);

#endif
