/*
 * db_sqlite.c — the SQLite engine behind db_internal.h's statement API.
 *
 * A `struct db_stmt *` is the engine's `sqlite3_stmt *` itself, never a wrapper: the neutral
 * API costs SQLite no allocation and no indirection. No other storage file includes <sqlite3.h>
 * (db_faults.c, the test VFS, excepted); tests/layout.sh checks it.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

#define ST(p) ((sqlite3_stmt *)(p))

int db_kx_of(int rc);

/* The one place a SQLite result code becomes a KX_E* code. */
int db_kx_of(int rc)
{
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return KX_EBUSY;
    case SQLITE_NOMEM:
      return KX_ENOMEM;
    case SQLITE_CONSTRAINT:
      /* A function that expects "already there" says so itself (ON CONFLICT (its key) DO
       * NOTHING, then db_changes() == 0 → KX_EEXISTS); reaching this is a bug. */
      return KX_ECONSTRAINT;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return KX_EIO;
    default:
      return KX_EDB;
  }
}

void db_finalize(struct db_stmt *st)
{
  sqlite3_finalize(ST(st)); /* NULL is a no-op */
}

int db_bind_text(struct db_stmt *st, int i, const char *s)
{
  int rc = s ? sqlite3_bind_text(ST(st), i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(ST(st), i);
  return rc == SQLITE_OK ? 0 : KX_EDB;
}

int db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
  return sqlite3_bind_int64(ST(st), i, v) == SQLITE_OK ? 0 : KX_EDB;
}

int db_bind_double(struct db_stmt *st, int i, double v)
{
  return sqlite3_bind_double(ST(st), i, v) == SQLITE_OK ? 0 : KX_EDB;
}

int db_bind_null(struct db_stmt *st, int i)
{
  return sqlite3_bind_null(ST(st), i) == SQLITE_OK ? 0 : KX_EDB;
}

int db_step(struct db_stmt *st)
{
  int rc = sqlite3_step(ST(st));
  if (rc == SQLITE_ROW)
    return DB_ROW;
  if (rc == SQLITE_DONE)
    return DB_DONE;
  return db_kx_of(rc);
}

void db_reset(struct db_stmt *st)
{
  /* Its return value repeats the last step's error, which db_step() already reported. */
  (void)sqlite3_reset(ST(st));
}

int db_step_done(struct db *db, struct db_stmt *st, const char *what)
{
  int rc = db_step(st);
  db_reset(st);
  if (rc == DB_DONE || rc == DB_ROW)
    return 0;
  return db_fail(db, rc, what);
}

int64_t db_col_int64(struct db_stmt *st, int i)
{
  return sqlite3_column_int64(ST(st), i);
}

int db_col_int(struct db_stmt *st, int i)
{
  return sqlite3_column_int(ST(st), i);
}

double db_col_double(struct db_stmt *st, int i)
{
  return sqlite3_column_double(ST(st), i);
}

bool db_col_is_null(struct db_stmt *st, int i)
{
  return sqlite3_column_type(ST(st), i) == SQLITE_NULL;
}

const char *db_col_text_ref(struct db_stmt *st, int i)
{
  return (const char *)sqlite3_column_text(ST(st), i);
}

char *db_col_text(struct db_stmt *st, int i)
{
  const char *t = db_col_text_ref(st, i);
  return t ? strdup(t) : NULL;
}
