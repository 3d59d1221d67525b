/*
 * checkpoint.h — the database's housekeeping off the loop: every second a libuv pool thread,
 * with a connection of its own, folds the WAL back into the database (the loop never waits for
 * fsync), and every APP_INTEGRITY_EVERY_MS it runs PRAGMA quick_check, whose result /healthz
 * reports from struct app_health (bot/modules.h) without touching the database itself.
 * Retention (storage/retention.h) runs there too: RETENTION_FIRST_MS after start, then every
 * RETENTION_EVERY_MS, at most RETENTION_BATCHES_PER_TICK batches of RETENTION_BATCH rows per
 * tick with RETENTION_YIELD_MS between them, so a year's backlog drains over a few seconds
 * without holding the write lock the loop needs.
 *
 * Not for ":memory:" databases (the app makes none, and the main connection keeps SQLite's own
 * auto-checkpoint). On PostgreSQL the same worker has a second session: checkpoints are the
 * server's (no-ops here), the integrity check is SELECT 1, and retention runs as on SQLite.
 */
#ifndef KX_CHECKPOINT_H
#define KX_CHECKPOINT_H

#include <uv.h>

#include "bot/modules.h"
#include "storage/db.h"

#define CHECKPOINT_EVERY_MS 1000
/* A database whose SELECT 1 has not answered within this is down (app_health.db_down). */
#define PING_DEADLINE_MS 2000
#define RETENTION_FIRST_MS ((int64_t)5 * 1000)
#define RETENTION_EVERY_MS ((int64_t)60 * 1000)
#define RETENTION_BATCHES_PER_TICK 8
#define RETENTION_YIELD_MS 5

struct checkpoint;

/* Take `own`, the worker's own connection to the database `db` is on (db_open_checkpointer
 * for SQLite, a second session for PostgreSQL), and turn off `db`'s auto-checkpoint; NULL when
 * out of memory (`own` is closed, and nothing changes). */
struct checkpoint *checkpoint_new(struct db *db, struct db *own, struct app_health *health);
/* storage.retention (ms; <= 0 keeps the default, RETENTION_DEFAULT_MS). NULL is fine. */
void checkpoint_set_retention(struct checkpoint *c, int64_t retention_ms);
/* Start the timer on `loop`; 0 or a libuv error. */
int checkpoint_start(struct checkpoint *c, uv_loop_t *loop);
/* Close the timer (a pass in flight finishes on its own). */
void checkpoint_stop(struct checkpoint *c);
/* After the loop has ended. NULL is fine. */
void checkpoint_free(struct checkpoint *c);

#endif
