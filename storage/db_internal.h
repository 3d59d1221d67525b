/*
 * db_internal.h — for the storage/ modules only: the engine-neutral statement API that every
 * storage file writes its queries against. Nothing outside storage/ includes this file (the unit
 * tests excepted). No engine type appears here: the SQLite engine (storage/db_sqlite.c) is the
 * only file that includes <sqlite3.h>; the PostgreSQL engine (db_pg.c) implements the same
 * functions. docs/ha.md "Writing SQL for both engines" says what the shared SQL must avoid.
 *
 * A statement is `struct db_stmt`, opaque. db_stmt() returns the connection's cached statement
 * for a SQL text, already reset and with its bindings cleared; the caller binds (parameters are
 * numbered from 1), steps, reads columns (numbered from 0) and resets it, and never frees it. It
 * is keyed by the address of its SQL text, so pass string literals (or static arrays), never a
 * buffer that changes. db_prepare() is the uncached form, for SQL built at run time (tests,
 * tools): the caller finalizes it.
 *
 * Errors: db_step() converts the engine's code once, into a negative KX_E* (KX_EBUSY for a lock
 * it could not get, KX_ECONSTRAINT for a broken constraint, KX_EIO for I/O, a full disk or a
 * read-only file, KX_ENOMEM, KX_EDB for everything else) and logs nothing; db_fail() logs it
 * with the engine's message where the caller decides it is an error.
 */
#ifndef KX_DB_INTERNAL_H
#define KX_DB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

struct db_stmt;

/* What db_step() returns when it did not fail (failures are negative KX_E* codes). */
enum db_step_result {
  DB_DONE = 0, /* the statement has run to its end: no (more) rows */
  DB_ROW = 1   /* a row is ready for the column readers */
};

/* The cached statement for sql (see above); NULL when it does not prepare (logged). PostgreSQL
 * prepares at the first db_step() (the parameters' types come from the binds), so there a
 * text that does not prepare fails that step with KX_EDB instead (logged as bad_sql). */
struct db_stmt *db_stmt(struct db *db, const char *sql);
/* An uncached statement for SQL built at run time; NULL when it does not prepare (logged).
 * The caller frees it with db_finalize() (NULL-safe). */
struct db_stmt *db_prepare(struct db *db, const char *sql);
void db_finalize(struct db_stmt *st);

/* Bind parameter i (from 1). 0, or KX_EDB when i is out of range. NULL text binds SQL NULL;
 * text is copied. */
int db_bind_text(struct db_stmt *st, int i, const char *s);
int db_bind_int64(struct db_stmt *st, int i, int64_t v);
int db_bind_double(struct db_stmt *st, int i, double v);
int db_bind_null(struct db_stmt *st, int i);

/* DB_ROW, DB_DONE or a negative KX_E* code (converted, not logged: see db_fail). */
int db_step(struct db_stmt *st);
/* Ready the statement to run again (bindings are kept). Call it when done with the rows: an
 * unreset statement keeps its read snapshot open. */
void db_reset(struct db_stmt *st);
/* Step a statement that returns no rows, then reset it: 0 or the error, logged as `what`. A row
 * is not an error (the rest are not read). */
int db_step_done(struct db *db, struct db_stmt *st, const char *what);

/* Column readers (columns from 0), valid after db_step() returned DB_ROW. SQL NULL reads as 0,
 * 0.0, and NULL text. */
int64_t db_col_int64(struct db_stmt *st, int i);
int db_col_int(struct db_stmt *st, int i); /* the low 32 bits, as sqlite3_column_int */
double db_col_double(struct db_stmt *st, int i);
bool db_col_is_null(struct db_stmt *st, int i);
/* What a column of the current row holds, for code that copies rows it does not know
 * (`klaxon migrate`): SQLite's storage class of the value; PostgreSQL's column type
 * (bigint/integer/smallint/boolean as DB_INTEGER, real/double/numeric as DB_FLOAT). */
enum db_col_type { DB_NULL = 0, DB_INTEGER, DB_FLOAT, DB_TEXT, DB_BLOB };
enum db_col_type db_col_type(struct db_stmt *st, int i);
/* How many columns the rows have, and the name of one (borrowed); after db_step() gave a row. */
int db_col_count(struct db_stmt *st);
const char *db_col_name(struct db_stmt *st, int i);
/* A copy of a text column (NULL for SQL NULL, or when out of memory) that the caller frees. */
char *db_col_text(struct db_stmt *st, int i);
/* The text itself, borrowed: valid until the next db_step(), db_reset() or column read of the
 * same column as another type. NULL for SQL NULL. */
const char *db_col_text_ref(struct db_stmt *st, int i);

/* Rows changed by the last INSERT, UPDATE or DELETE on this connection. */
int db_changes(struct db *db);

/* Which engine the connection runs on, for the few queries that must differ (a PostgreSQL
 * variant with FOR UPDATE SKIP LOCKED, say) and for logs: "sqlite" or "postgres". */
bool db_is_postgres(struct db *db);
const char *db_engine_name(struct db *db);
/* The database's own clock in Unix milliseconds, real time (never KLAXON_NOW): PostgreSQL's
 * clock_timestamp(), one clock for every instance (leases); SQLite's is the host's. */
int64_t db_clock_ms(struct db *db);

/* Wake-ups between instances (PostgreSQL's LISTEN/NOTIFY; SQLite has one instance, so these
 * do nothing there). db_notify() queues a notification on `channel` that is delivered when the
 * current transaction commits (at once outside one), and not at all if it rolls back. */
int db_notify(struct db *db, const char *channel);

/* Run one or more statements with no result rows (DDL, PRAGMA). */
int db_exec(struct db *db, const char *sql);
/* Log a statement's failure once, as `what` with the engine's code and message, and return the
 * KX_E* code: err is what db_step() returned (a negative code, or DB_ROW/DB_DONE where the
 * caller expected the other, which becomes KX_EDB). */
int db_fail(struct db *db, int err, const char *what);

/* Make room for element `count` in an array of `size`-byte elements (capacity doubles, from 8);
 * 0 or KX_ENOMEM, leaving the array as it was. For the result lists the storage files build. */
int db_grow(void **arr, size_t *cap, size_t count, size_t size);

/* One migration: a version and the SQL texts that take the schema there. */
struct db_migration {
  int version;
  const char *const *sql; /* NULL-terminated */
};
extern const struct db_migration db_migrations[];
extern const int db_n_migrations;

/* db.c's migration driver: run every migration newer than the database, each in its own
 * transaction; 0 or the error (logged). */
int db_migrate(struct db *db);
/* What the driver needs from the engine: open a migration's transaction (SQLite: BEGIN
 * IMMEDIATE), and record the version the schema is at, inside it (SQLite: PRAGMA user_version);
 * db_schema_version() (db.h) reads it back. COMMIT and ROLLBACK are plain SQL via db_exec(). */
int db_migration_begin(struct db *db);
int db_migration_version(struct db *db, int version);

#endif
