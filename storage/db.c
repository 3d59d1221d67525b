/*
 * db.c — the storage logic that is the same on every engine: each call of db.h and
 * db_internal.h passed to the engine its connection (or statement) belongs to (db_engine.h),
 * the migration driver (the engine supplies the version it is at, the transaction a migration
 * runs in and how the new version is written down), db_step_done() over the statement API, and
 * db_grow() for result lists. The engines are db_sqlite.c and db_pg.c.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "lib/log.h"
#include "storage/db_engine.h"
#include "storage/db_internal.h"

static const struct db_ops *st_ops(const struct db_stmt *st)
{
  return ((uintptr_t)st & DB_STMT_PG_TAG) ? &db_pg_ops : &db_sqlite_ops;
}

/* A runner's hooks (db_set_hooks): before a connection is used from a thread, the thread may
 * have to wait for a task that holds it (bot/dbtask.c). */
static inline void enter(struct db *db)
{
  if (db->hooks.enter)
    db->hooks.enter(db->hooks.arg);
}

void db_set_hooks(struct db *db, const struct db_hooks *hooks)
{
  if (!db || db->ops->engine != DB_ENGINE_POSTGRES)
    return; /* a local file answers at once: nothing to hand over */
  if (hooks)
    db->hooks = *hooks;
  else
    memset(&db->hooks, 0, sizeof(db->hooks));
}

/* statements */
struct db_stmt *db_stmt(struct db *db, const char *sql)
{
  enter(db);
  return db->ops->stmt(db, sql);
}
struct db_stmt *db_prepare(struct db *db, const char *sql)
{
  enter(db);
  return db->ops->prepare(db, sql);
}
void db_finalize(struct db_stmt *st)
{
  if (st)
    st_ops(st)->finalize(st);
}
int db_bind_text(struct db_stmt *st, int i, const char *s)
{
  return st_ops(st)->bind_text(st, i, s);
}
int db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
  return st_ops(st)->bind_int64(st, i, v);
}
int db_bind_double(struct db_stmt *st, int i, double v)
{
  return st_ops(st)->bind_double(st, i, v);
}
int db_bind_null(struct db_stmt *st, int i)
{
  return st_ops(st)->bind_null(st, i);
}
int db_step(struct db_stmt *st)
{
  return st_ops(st)->step(st);
}
void db_reset(struct db_stmt *st)
{
  st_ops(st)->reset(st);
}
int64_t db_col_int64(struct db_stmt *st, int i)
{
  return st_ops(st)->col_int64(st, i);
}
int db_col_int(struct db_stmt *st, int i)
{
  return (int)st_ops(st)->col_int64(st, i);
}
double db_col_double(struct db_stmt *st, int i)
{
  return st_ops(st)->col_double(st, i);
}
bool db_col_is_null(struct db_stmt *st, int i)
{
  return st_ops(st)->col_is_null(st, i);
}
const char *db_col_text_ref(struct db_stmt *st, int i)
{
  return st_ops(st)->col_text_ref(st, i);
}
enum db_col_type db_col_type(struct db_stmt *st, int i)
{
  return st_ops(st)->col_type(st, i);
}
int db_col_count(struct db_stmt *st)
{
  return st_ops(st)->col_count(st);
}
const char *db_col_name(struct db_stmt *st, int i)
{
  return st_ops(st)->col_name(st, i);
}
char *db_col_text(struct db_stmt *st, int i)
{
  const char *t = db_col_text_ref(st, i);
  return t ? strdup(t) : NULL;
}

/* the connection */
int db_changes(struct db *db)
{
  enter(db);
  return db->ops->changes(db);
}
int db_exec(struct db *db, const char *sql)
{
  enter(db);
  return db->ops->exec(db, sql);
}
int db_fail(struct db *db, int err, const char *what)
{
  enter(db);
  return db->ops->fail(db, err, what);
}
int db_begin(struct db *db)
{
  enter(db);
  return db->ops->begin(db);
}
int db_commit(struct db *db)
{
  enter(db);
  return db->ops->commit(db);
}
int db_rollback(struct db *db)
{
  enter(db);
  return db->ops->rollback(db);
}
bool db_in_transaction(struct db *db)
{
  enter(db);
  return db->ops->in_transaction(db);
}
int db_depth(struct db *db)
{
  enter(db);
  return db->ops->depth(db);
}
int db_schema_version(struct db *db)
{
  enter(db);
  return db->ops->schema_version(db);
}
int db_migration_begin(struct db *db)
{
  enter(db);
  return db->ops->migration_begin(db);
}
int db_migration_version(struct db *db, int v)
{
  enter(db);
  return db->ops->migration_version(db, v);
}
int db_check(struct db *db)
{
  enter(db);
  return db->ops->check(db);
}
void db_busy_timeout(struct db *db, int ms)
{
  enter(db);
  db->ops->busy_timeout(db, ms);
}
int db_backup(struct db *db, const char *path)
{
  enter(db);
  return db->ops->backup(db, path);
}
int db_set_autocheckpoint(struct db *db, int pages)
{
  enter(db);
  return db->ops->set_autocheckpoint(db, pages);
}
int db_checkpoint(struct db *db, bool truncate)
{
  enter(db);
  return db->ops->checkpoint(db, truncate);
}
int db_notify(struct db *db, const char *channel)
{
  enter(db);
  return db->ops->notify(db, channel);
}
int db_listen(struct db *db, const char *channel)
{
  enter(db);
  return db->ops->listen(db, channel);
}
int db_listen_fd(struct db *db)
{
  enter(db);
  return db->ops->listen_fd(db);
}
int db_listen_drain(struct db *db)
{
  enter(db);
  return db->ops->listen_drain(db);
}
void db_retry_now(struct db *db)
{
  if (db && db->ops->retry_now) /* no enter(): a flag, safe beside a task's wait */
    db->ops->retry_now(db);
}
int64_t db_clock_ms(struct db *db)
{
  enter(db);
  return db->ops->clock_ms(db);
}
const char *db_path(struct db *db)
{
  return db->ops->path(db);
}
const char *db_engine_name(struct db *db)
{
  return db->ops->name;
}
bool db_is_postgres(struct db *db)
{
  return db->ops->engine == DB_ENGINE_POSTGRES;
}
void db_close(struct db *db)
{
  if (db)
    db->ops->close(db);
}

int db_ping(struct db *db)
{
  struct db_stmt *st = db_stmt(db, "SELECT 1");
  if (!st)
    return KX_EDB;
  int rc = db_step(st);
  db_reset(st);
  return rc == DB_ROW ? 0 : KX_EDB;
}

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
  bool pg = db_is_postgres(db);
  const struct db_migration *ms = pg ? db_pg_migrations : db_migrations;
  int n = pg ? db_pg_n_migrations : db_n_migrations;
  int current = db_schema_version(db);
  if (current < 0)
    return current;
  if (current > db_schema_latest()) {
    LOG_ERROR("db", "schema_too_new", "path=%s version=%d known=%d", db_path(db), current,
              db_schema_latest());
    return KX_EDB;
  }
  for (int i = 0; i < n; i++) {
    const struct db_migration *m = &ms[i];
    if (m->version <= current)
      continue;
    /* The engine's migration transaction excludes other instances (SQLite: the write lock;
     * PostgreSQL: an advisory lock), so the version read again inside it is the truth: an
     * instance that waited for another's migration finds it done. */
    int rc = db_migration_begin(db);
    int now = rc == 0 ? db_schema_version(db) : rc;
    if (now < 0)
      rc = now;
    if (rc == 0 && now >= m->version) {
      rc = db_exec(db, "COMMIT");
      current = now;
      if (rc == 0)
        continue;
    }
    for (const char *const *sql = m->sql; rc == 0 && *sql; sql++)
      rc = db_exec(db, *sql);
    if (rc == 0)
      rc = db_migration_version(db, m->version);
    if (rc == 0)
      rc = db_exec(db, "COMMIT");
    if (rc) {
      db_exec(db, "ROLLBACK");
      LOG_ERROR("db", "migration_failed", "engine=%s version=%d", db_engine_name(db), m->version);
      return rc;
    }
    LOG_INFO("db", "migrated", "engine=%s version=%d", db_engine_name(db), m->version);
  }
  return 0;
}
