/*
 * db.h — the SQLite database: opening (WAL, busy_timeout, foreign keys), versioned migrations
 * (PRAGMA user_version), transactions, and a per-connection cache of prepared statements.
 *
 * One struct db per connection; the bot has one, each CLI subcommand opens its own (WAL lets
 * them read while the bot writes). Every aggregate has its own file in storage/ with its own
 * functions; SQL never leaves storage/. All functions return 0 or a negative KX_E* code, with
 * the SQLite message logged once where it happened. KX_EEXISTS comes only from functions whose
 * comment promises it (they check for "already there" themselves); a write that breaks a
 * constraint nobody expected is KX_ECONSTRAINT, a bug in the caller or the schema.
 */
#ifndef KX_DB_H
#define KX_DB_H

#include <stdbool.h>
#include <stdint.h>

struct db;

enum db_open_flags {
  DB_OPEN_READONLY = 1 << 0,  /* CLI reports: never write, never migrate */
  DB_OPEN_NO_CREATE = 1 << 1, /* refuse a path that does not exist yet */
  /* With DB_OPEN_READONLY, SQLite only: open a file at any schema version instead of failing
   * (db_schema_version says which), so a caller can say what to do about it (klaxon migrate). */
  DB_OPEN_ANY_VERSION = 1 << 2
};

/* Opens (creating when allowed) and migrates to the newest schema. NULL on failure, with the
 * reason logged and *err set. path ":memory:" gives a private in-memory database (tests). */
struct db *db_open(const char *path, int flags, int *err);
void db_close(struct db *db); /* NULL-safe; finalizes cached statements */
/* The same on PostgreSQL (storage/db_pg.c): conninfo is a libpq connection string, a URI or
 * key=value pairs, several hosts with target_session_attrs=read-write allowed. Migrations run
 * under an advisory lock, so instances starting together migrate once. DB_OPEN_NO_CREATE means
 * nothing there (the database must exist); DB_OPEN_READONLY opens a read-only session. */
struct db *db_open_pg(const char *conninfo, int flags, int *err);

/* Transactions nest: the outermost begin is BEGIN IMMEDIATE (the write lock is taken up front);
 * a begin inside it is a savepoint, whose commit keeps its work for the outer commit and whose
 * rollback undoes that level alone (group commit: many handlers, one transaction, one fsync).
 * If SQLite ends the transaction itself (disk full, I/O error), every inner begin and commit
 * fails from then on and each rollback only unwinds one level. */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db); /* safe to call when no transaction is open */
bool db_in_transaction(struct db *db);
int db_depth(struct db *db); /* open levels: 0 outside a transaction */

/* A connection that waits for notifications (db_notify in db_internal.h) on `channel`, for a
 * loop to poll: db_listen() subscribes (KX_EUNSUPPORTED on SQLite), db_listen_fd() is the
 * socket to watch for reading (-1 when there is none, e.g. after the connection was lost: call
 * db_listen() again), and db_listen_drain() reads what arrived and says how many came
 * (a negative KX_E* when the connection is lost). Use a connection of its own for this. */
int db_listen(struct db *db, const char *channel);
/* The database answers again (another connection's look): the next call may reconnect at once
 * instead of waiting out the pause after a failed attempt (PostgreSQL; nothing on SQLite). */
void db_retry_now(struct db *db);
int db_listen_fd(struct db *db);
int db_listen_drain(struct db *db);

/* What a runner (bot/dbtask.c) puts on a PostgreSQL connection so the loop never waits for the
 * server. enter(): before each use of the connection (the runner makes the loop's thread wait
 * for a task that holds it). release(what): before each wait for the server (a round trip, a
 * connection attempt); nonzero when the caller gave its turn up, and then acquire() takes it
 * back when the answer is in. `what` names the wait (the statement) for the runner's count of
 * the loop's own waits. On SQLite db_set_hooks does nothing; NULL removes them. */
struct db_hooks {
  void (*enter)(void *arg);
  int (*release)(void *arg, const char *what);
  void (*acquire)(void *arg);
  /* Optional: microseconds the caller may still wait holding its turn before release() (a
   * short answer costs no hand-over); 0 or less: release at once. */
  int (*hold_us)(void *arg);
  void *arg;
};
void db_set_hooks(struct db *db, const struct db_hooks *hooks);

int db_schema_version(struct db *db);
/* The newest schema version this build knows. */
int db_schema_latest(void);
/* "ok" from PRAGMA quick_check, for /healthz. */
int db_check(struct db *db);
/* How long a statement waits for another connection's lock before failing with KX_EBUSY
 * (default 5 s, for the CLI; the bot's loop connection waits far less: bot/app.c). */
void db_busy_timeout(struct db *db, int ms);
/* SELECT 1: the connection answers (readiness; cheap, unlike db_check's quick_check). */
int db_ping(struct db *db);
/* Online backup (sqlite3_backup) of the whole database into a new file at path; KX_EEXISTS when
 * something is already there (it is never overwritten). */
int db_backup(struct db *db, const char *path);
/* Copy a backup file over this database (the bot must not be running). */
int db_restore(const char *backup_path, const char *db_path);
const char *db_path(struct db *db);

/* WAL checkpoints off the hot path. The bot turns automatic checkpoints off on its own
 * connection (a checkpoint fsyncs, and would stall an ack) and runs db_checkpoint() from a
 * worker thread on a second connection opened for that alone (db_open_checkpointer). A
 * passive checkpoint never blocks writers. `truncate` (at shutdown) resets the WAL file. */
int db_set_autocheckpoint(struct db *db, int pages);
struct db *db_open_checkpointer(const char *path, int *err);
int db_checkpoint(struct db *db, bool truncate);

#endif
