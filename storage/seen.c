#include "storage/seen.h"

#include "lib/kx.h"
#include "storage/db_internal.h"

const char seen_schema_v1[] =
    "CREATE TABLE seen (key TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX seen_at ON seen(at);"
    "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT, updated_at INTEGER NOT NULL)"
    " WITHOUT ROWID;";

int seen_mark(struct db *db, const char *key, int64_t now_ms)
{
  /* ON CONFLICT names the one collision that means "seen before"; OR IGNORE would also swallow
   * a NOT NULL violation (a NULL key) and call it a redelivery. */
  static const char sql[] = "INSERT INTO seen (key, at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, key);
  db_bind_int64(st, 2, now_ms);
  int rc = db_step_done(db, st, "seen_mark");
  if (rc == 0 && db_changes(db) == 0)
    return KX_EEXISTS;
  return rc;
}

int seen_prune(struct db *db, int64_t before_ms)
{
  static const char sql[] = "DELETE FROM seen WHERE at < ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, before_ms);
  return db_step_done(db, st, "seen_prune");
}

int kv_set(struct db *db, const char *key, const char *value, int64_t now_ms)
{
  static const char sql[] =
      "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)"
      " ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, key);
  db_bind_text(st, 2, value);
  db_bind_int64(st, 3, now_ms);
  return db_step_done(db, st, "kv_set");
}

char *kv_get(struct db *db, const char *key)
{
  static const char sql[] = "SELECT value FROM kv WHERE key = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return NULL;
  db_bind_text(st, 1, key);
  char *v = NULL;
  if (db_step(st) == DB_ROW)
    v = db_col_text(st, 0);
  db_reset(st);
  return v;
}
