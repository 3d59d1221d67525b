/*
 * db_internal.h — for the storage/ modules only: the sqlite3 handle, the statement cache and
 * helpers to bind and read columns. Nothing outside storage/ includes this file.
 *
 * db_stmt() returns a cached statement, already reset and with bindings cleared; the caller
 * steps it and need not finalize it. A statement is keyed by the address of its SQL text, so
 * pass string literals (or static arrays), never a buffer that changes.
 */
#ifndef KX_DB_INTERNAL_H
#define KX_DB_INTERNAL_H

#include <sqlite3.h>

#include "storage/db.h"

sqlite3 *db_handle(struct db *db);
sqlite3_stmt *db_stmt(struct db *db, const char *sql);
/* Run one or more statements with no result rows (DDL, PRAGMA). */
int db_exec(struct db *db, const char *sql);
/* Convert a SQLite result code at the boundary, logging `what` and sqlite's message once. */
int db_fail(struct db *db, int rc, const char *what);

/* Bind helpers: NULL text binds SQL NULL. */
int db_bind_text(sqlite3_stmt *st, int i, const char *s);
int db_bind_int64(sqlite3_stmt *st, int i, int64_t v);
/* A copy of a text column (NULL for SQL NULL) that the caller frees. */
char *db_col_text(sqlite3_stmt *st, int i);
/* Step a statement that returns no rows: 0 or the converted error. */
int db_step_done(struct db *db, sqlite3_stmt *st, const char *what);
int64_t db_last_id(struct db *db);
/* Make room for element `count` in an array of `size`-byte elements (capacity doubles, from 8);
 * 0 or KX_ENOMEM, leaving the array as it was. For the result lists the storage files build. */
int db_grow(void **arr, size_t *cap, size_t count, size_t size);
int db_changes(struct db *db);

/* One migration: a version and the SQL texts that take the schema there. */
struct db_migration {
  int version;
  const char *const *sql; /* NULL-terminated */
};
extern const struct db_migration db_migrations[];
extern const int db_n_migrations;

#endif
