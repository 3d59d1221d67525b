/*
 * db_pg_internal.h — shared by the PostgreSQL engine's files only: db_pg.c (the connection,
 * statements, transactions) and db_pg_admin.c (the schema version, the migrations' lock, the
 * clock, LISTEN/NOTIFY, what PostgreSQL leaves to the server).
 */
#ifndef KX_DB_PG_INTERNAL_H
#define KX_DB_PG_INTERNAL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "storage/db_engine.h"

/* Every call waits at most this long for the server: one that stops answering (frozen, or a
 * network that drops packets without a reset) fails the call with KX_EIO and the connection is
 * dropped, to be made again by the next transaction. The loop is never held longer than this
 * (or connect_timeout) by one statement. */
#define CALL_TIMEOUT_MS 3000
/* Other sessions (migrations, the housekeeping worker, the listener, the CLI) may run longer
 * statements: they wait this long. */
#define CALL_TIMEOUT_OTHER_MS 60000
/* After a failed (re)connection or a timeout, calls fail at once for this long instead of
 * trying again: a database that is away costs the loop one connect_timeout (2 s) a second at
 * most, until the housekeeping worker's look stops the callers altogether. */
#define RECONNECT_PAUSE_MS 1000

#define STMT_CACHE_SIZE 512
#define MAX_PARAMS 64
#define INT8OID 20
#define TEXTOID 25
#define FLOAT8OID 701
/* Any 64-bit number, the same on every instance: serialises migrations. */
#define MIGRATION_LOCK 0x6b6c61786f6e31LL

struct pg_db;

struct pg_stmt {
  struct pg_db *db;
  const char *sql; /* the caller's text: the cache key */
  char *text;      /* with $n placeholders */
  int nparams;
  bool cached;
  char name[24];     /* the server-side prepared statement, "" when not prepared */
  uint64_t prep_gen; /* the connection it was prepared on */
  Oid ptypes[MAX_PARAMS];
  Oid btypes[MAX_PARAMS];
  char *vals[MAX_PARAMS];
  PGresult *res;
  bool ran;
  int row, nrows;
};

struct stmt_slot {
  const char *sql;
  struct pg_stmt *st;
};

struct pg_db {
  struct db base; /* first: db.c dispatches through base.ops */
  PGconn *conn;
  char *conninfo;
  char label[160]; /* "postgres:dbname@host" for logs: never the password */
  bool readonly;
  int depth;
  uint64_t gen; /* bumped on each (re)connection: prepared statements are per connection */
  unsigned names;
  int changes;
  int lock_timeout_ms;
  int64_t pause_until_ms; /* no reconnection before this (monotonic): see ensure_conn; atomic
                             (db_retry_now comes from the loop while a task waits) */
  int call_timeout_ms;    /* how long one call waits for the server (db_pg.c) */
  char state[6];          /* SQLSTATE of the last failure */
  char msg[300];          /* its message */
  struct stmt_slot cache[STMT_CACHE_SIZE];
};

#define PG(d) ((struct pg_db *)(d))
#define PST(p) ((struct pg_stmt *)((uintptr_t)(p) & ~DB_STMT_PG_TAG))
#define TAG(p) ((struct db_stmt *)((uintptr_t)(p) | DB_STMT_PG_TAG))
/* A failure's SQLSTATE and message remembered (for db_fail), converted to KX_E*. */
int note_failure(struct pg_db *db, const PGresult *res);
/* Reconnect when the connection is gone and no transaction is open. */
int ensure_conn(struct pg_db *db);
/* PQexec with the engine's time limit (CALL_TIMEOUT_MS above): NULL when the server did not
 * answer in time or the connection broke (noted; on a timeout the connection is closed). */
PGresult *pg_call(struct pg_db *db, const char *sql);
/* db_pg_wait.c: the monotonic clock in ms; after a PQsend*() (sent: its result), the call's
 * last result (the first error, if any), or NULL when the server did not answer within the
 * call's limit or the connection broke (then it is closed). `what` names the wait for the
 * runner's hooks. pg_hand_over/pg_take_back wrap any other wait (a connection attempt). */
int64_t pg_mono_ms(void);
PGresult *pg_wait_result(struct pg_db *db, int sent, const char *what);
int pg_hand_over(struct pg_db *db, const char *what);
void pg_take_back(struct pg_db *db, int handed);
/* A statement of our own with no result, quietly (the caller logs). */
int tx(struct pg_db *db, const char *sql);
int pg_fail(struct db *d, int err, const char *what);
int pg_exec(struct db *d, const char *sql);

/* db_pg_admin.c */
int pg_schema_version(struct db *d);
int pg_migration_begin(struct db *d);
int pg_migration_version(struct db *d, int version);
int pg_backup(struct db *d, const char *path);
int pg_set_autocheckpoint(struct db *d, int pages);
int pg_checkpoint(struct db *d, bool truncate);
int64_t pg_clock_ms(struct db *d);
int pg_notify(struct db *d, const char *channel);
int pg_listen(struct db *d, const char *channel);
int pg_listen_fd(struct db *d);
int pg_listen_drain(struct db *d);

#endif
