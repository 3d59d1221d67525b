/*
 * db.c — the storage logic that is the same on every engine: the migration driver (the engine
 * supplies the version it is at, the transaction a migration runs in and how the new version is
 * written down), db_step_done() over the statement API, and db_grow() for result lists. The
 * SQLite engine itself is db_sqlite.c.
 */
#include <stdlib.h>

#include "lib/kx.h"
#include "lib/log.h"
#include "storage/db_internal.h"

int db_step_done(struct db *db, struct db_stmt *st, const char *what)
{
  int rc = db_step(st);
  db_reset(st);
  if (rc == DB_DONE || rc == DB_ROW)
    return 0;
  return db_fail(db, rc, what);
}

int db_grow(void **arr, size_t *cap, size_t count, size_t size)
{
  if (count < *cap)
    return 0;
  size_t ncap = *cap ? *cap * 2 : 8;
  void *n = realloc(*arr, ncap * size);
  if (!n)
    return KX_ENOMEM;
  *arr = n;
  *cap = ncap;
  return 0;
}

int db_schema_latest(void)
{
  return db_n_migrations ? db_migrations[db_n_migrations - 1].version : 0;
}

int db_migrate(struct db *db)
{
  int current = db_schema_version(db);
  if (current < 0)
    return current;
  if (current > db_schema_latest()) {
    LOG_ERROR("db", "schema_too_new", "path=%s version=%d known=%d", db_path(db), current,
              db_schema_latest());
    return KX_EDB;
  }
  for (int i = 0; i < db_n_migrations; i++) {
    const struct db_migration *m = &db_migrations[i];
    if (m->version <= current)
      continue;
    int rc = db_migration_begin(db);
    for (const char *const *sql = m->sql; rc == 0 && *sql; sql++)
      rc = db_exec(db, *sql);
    if (rc == 0)
      rc = db_migration_version(db, m->version);
    if (rc == 0)
      rc = db_exec(db, "COMMIT");
    if (rc) {
      db_exec(db, "ROLLBACK");
      LOG_ERROR("db", "migration_failed", "version=%d", m->version);
      return rc;
    }
    LOG_INFO("db", "migrated", "version=%d", m->version);
  }
  return 0;
}
