/*
 * db_sqlite.c — the SQLite engine: the connection (WAL, busy_timeout, foreign keys), its
 * statement cache, the statement API of db_internal.h, transactions (nested as savepoints),
 * PRAGMA user_version for db.c's migration driver, integrity checks, online backups and WAL
 * checkpoints.
 *
 * A `struct db_stmt *` is the engine's `sqlite3_stmt *` itself, never a wrapper: the neutral
 * API costs SQLite no allocation and no indirection. No other storage file includes <sqlite3.h>
 * (db_faults.c, the test VFS, excepted); tests/layout.sh checks it.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/kx.h"
#include "lib/log.h"
#include "storage/db_engine.h"
#include "storage/db_faults.h"
#include "storage/db_internal.h"

/* A connection prepares a few dozen distinct statements; a small open-addressing table
 * keyed by the SQL text's address keeps lookups O(1) without allocation per call. */
#define STMT_CACHE_SIZE 512
#define BUSY_TIMEOUT_MS 5000

#define ST(p) ((sqlite3_stmt *)(p))
#define SQ(d) ((struct sq_db *)(d))

struct stmt_slot {
  const char *sql;
  sqlite3_stmt *st;
};

struct sq_db {
  struct db base; /* first: db.c dispatches through base.ops */
  sqlite3 *h;
  char *path;
  int readonly;
  int depth; /* open db_begin()s: 1 is the transaction, each one deeper a savepoint */
  struct stmt_slot cache[STMT_CACHE_SIZE];
};

/* The one place a SQLite result code becomes a KX_E* code. */
static int kx_of(int rc)
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

static void sq_finalize(struct db_stmt *st)
{
  sqlite3_finalize(ST(st)); /* NULL is a no-op */
}

static int sq_bind_text(struct db_stmt *st, int i, const char *s)
{
  int rc = s ? sqlite3_bind_text(ST(st), i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(ST(st), i);
  return rc == SQLITE_OK ? 0 : KX_EDB;
}

static int sq_bind_int64(struct db_stmt *st, int i, int64_t v)
{
  return sqlite3_bind_int64(ST(st), i, v) == SQLITE_OK ? 0 : KX_EDB;
}

static int sq_bind_double(struct db_stmt *st, int i, double v)
{
  return sqlite3_bind_double(ST(st), i, v) == SQLITE_OK ? 0 : KX_EDB;
}

static int sq_bind_null(struct db_stmt *st, int i)
{
  return sqlite3_bind_null(ST(st), i) == SQLITE_OK ? 0 : KX_EDB;
}

static int sq_step(struct db_stmt *st)
{
  int rc = sqlite3_step(ST(st));
  if (rc == SQLITE_ROW)
    return DB_ROW;
  if (rc == SQLITE_DONE)
    return DB_DONE;
  return kx_of(rc);
}

static void sq_reset(struct db_stmt *st)
{
  /* Its return value repeats the last step's error, which db_step() already reported. */
  (void)sqlite3_reset(ST(st));
}

static int64_t sq_col_int64(struct db_stmt *st, int i)
{
  return sqlite3_column_int64(ST(st), i);
}

static double sq_col_double(struct db_stmt *st, int i)
{
  return sqlite3_column_double(ST(st), i);
}

static bool sq_col_is_null(struct db_stmt *st, int i)
{
  return sqlite3_column_type(ST(st), i) == SQLITE_NULL;
}

static const char *sq_col_text_ref(struct db_stmt *st, int i)
{
  return (const char *)sqlite3_column_text(ST(st), i);
}

static enum db_col_type sq_col_type(struct db_stmt *st, int i)
{
  switch (sqlite3_column_type(ST(st), i)) {
    case SQLITE_INTEGER:
      return DB_INTEGER;
    case SQLITE_FLOAT:
      return DB_FLOAT;
    case SQLITE_TEXT:
      return DB_TEXT;
    case SQLITE_BLOB:
      return DB_BLOB;
    default:
      return DB_NULL;
  }
}

static int sq_col_count(struct db_stmt *st)
{
  return sqlite3_column_count(ST(st));
}

static const char *sq_col_name(struct db_stmt *st, int i)
{
  return sqlite3_column_name(ST(st), i);
}

static const char *sq_path(struct db *db)
{
  return SQ(db)->path;
}

/* A SQLite code from the engine's own calls (open, exec, backup): converted and logged once. */
static int sq_rc_fail(struct db *db, int rc, const char *what)
{
  char q[512];
  LOG_ERROR(
      "db", "sqlite_error", "what=%s rc=%d msg=%s", what, rc,
      log_quote(q, sizeof(q), db && SQ(db)->h ? sqlite3_errmsg(SQ(db)->h) : sqlite3_errstr(rc)));
  return kx_of(rc);
}

static int sq_fail(struct db *db, int err, const char *what)
{
  int rc = db && SQ(db)->h ? sqlite3_extended_errcode(SQ(db)->h) : SQLITE_ERROR;
  char q[512];
  LOG_ERROR(
      "db", "sqlite_error", "what=%s rc=%d msg=%s", what, rc,
      log_quote(q, sizeof(q), db && SQ(db)->h ? sqlite3_errmsg(SQ(db)->h) : sqlite3_errstr(rc)));
  /* A row where none was expected, or none where one was (DB_ROW, DB_DONE), is KX_EDB. */
  return err < 0 ? err : KX_EDB;
}

static struct db_stmt *sq_stmt(struct db *db, const char *sql)
{
  size_t h = ((uintptr_t)sql >> 3) % STMT_CACHE_SIZE;
  for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
    struct stmt_slot *s = &SQ(db)->cache[(h + i) % STMT_CACHE_SIZE];
    if (s->sql == sql) {
      sqlite3_reset(s->st);
      sqlite3_clear_bindings(s->st);
      return (struct db_stmt *)s->st;
    }
    if (!s->sql) {
      sqlite3_stmt *st = NULL;
      int rc = sqlite3_prepare_v3(SQ(db)->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
      if (rc != SQLITE_OK) {
        sq_rc_fail(db, rc, "prepare");
        LOG_ERROR("db", "bad_sql", "sql=%.80s", sql);
        return NULL;
      }
      s->sql = sql;
      s->st = st;
      return (struct db_stmt *)st;
    }
  }
  /* The cache is sized well above the number of statements in the program. */
  LOG_ERROR("db", "stmt_cache_full", "size=%d", STMT_CACHE_SIZE);
  return NULL;
}

static struct db_stmt *sq_prepare(struct db *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(SQ(db)->h, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) {
    sq_rc_fail(db, rc, "prepare");
    LOG_ERROR("db", "bad_sql", "sql=%.80s", sql);
    return NULL;
  }
  return (struct db_stmt *)st;
}

static int sq_exec(struct db *db, const char *sql)
{
  char *msg = NULL;
  int rc = sqlite3_exec(SQ(db)->h, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) {
    char q[512];
    LOG_ERROR("db", "exec_failed", "rc=%d msg=%s", rc, log_quote(q, sizeof(q), msg ? msg : ""));
    sqlite3_free(msg);
    return sq_rc_fail(NULL, rc, "exec");
  }
  return 0;
}

static int sq_changes(struct db *db)
{
  return sqlite3_changes(SQ(db)->h);
}

/* Nesting: the outermost db_begin() is BEGIN IMMEDIATE; one inside it is a SAVEPOINT, so a
 * caller that runs many handlers in one transaction (group commit: bot/slack) lets each handler
 * begin, commit and roll back as it always did, and a rollback undoes that handler alone.
 * SQLite ends the whole transaction by itself on some errors (disk full, I/O); from then on
 * every inner begin and commit fails and the rollbacks only unwind the count, so nothing runs
 * outside the transaction its caller thinks it is in. */
static bool lost_outer(struct db *db)
{
  return SQ(db)->depth > 0 && sqlite3_get_autocommit(SQ(db)->h);
}

static int sq_begin(struct db *db)
{
  if (lost_outer(db))
    return KX_EDB;
  struct db_stmt *st = db_stmt(db, SQ(db)->depth ? "SAVEPOINT kx" : "BEGIN IMMEDIATE");
  int rc = st ? db_step_done(db, st, SQ(db)->depth ? "savepoint" : "begin") : KX_EDB;
  if (rc == 0)
    SQ(db)->depth++;
  return rc;
}

static int sq_commit(struct db *db)
{
  if (lost_outer(db))
    return KX_EDB;
  bool inner = SQ(db)->depth > 1;
  struct db_stmt *st = db_stmt(db, inner ? "RELEASE kx" : "COMMIT");
  int rc = st ? db_step_done(db, st, inner ? "release" : "commit") : KX_EDB;
  if (rc == 0 && SQ(db)->depth > 0)
    SQ(db)->depth--;
  return rc;
}

static int sq_rollback(struct db *db)
{
  if (sqlite3_get_autocommit(SQ(db)->h)) {
    if (SQ(db)->depth > 0)
      SQ(db)->depth--;
    return 0;
  }
  int rc;
  if (SQ(db)->depth > 1) {
    struct db_stmt *st = db_stmt(db, "ROLLBACK TO kx");
    rc = st ? db_step_done(db, st, "rollback_to") : KX_EDB;
    st = rc == 0 ? db_stmt(db, "RELEASE kx") : NULL;
    if (st)
      rc = db_step_done(db, st, "release");
    if (rc == 0) {
      SQ(db)->depth--;
      return 0;
    }
  }
  /* The outermost level, or a savepoint that would not unwind: the whole transaction goes. */
  struct db_stmt *st = db_stmt(db, "ROLLBACK");
  rc = st ? db_step_done(db, st, "rollback") : KX_EDB;
  if (rc == 0 || sqlite3_get_autocommit(SQ(db)->h))
    SQ(db)->depth = SQ(db)->depth > 1 ? SQ(db)->depth - 1 : 0;
  return rc;
}

static bool sq_in_transaction(struct db *db)
{
  return !sqlite3_get_autocommit(SQ(db)->h);
}

static int sq_depth(struct db *db)
{
  return SQ(db)->depth;
}

static int sq_schema_version(struct db *db)
{
  struct db_stmt *st = db_stmt(db, "PRAGMA user_version");
  if (!st || db_step(st) != DB_ROW)
    return KX_EDB;
  int v = db_col_int(st, 0);
  db_reset(st);
  return v;
}

static int sq_migration_begin(struct db *db)
{
  return db_exec(db, "BEGIN IMMEDIATE");
}

static int sq_migration_version(struct db *db, int version)
{
  char pragma[64];
  snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
  return db_exec(db, pragma);
}

static struct db *sq_alloc(void)
{
  struct sq_db *d = calloc(1, sizeof(*d));
  if (d)
    d->base.ops = &db_sqlite_ops;
  return d ? &d->base : NULL;
}

struct db *db_open(const char *path, int flags, int *err)
{
  const char *test_pg = getenv("KLAXON_TEST_DATABASE_URL");
  if (test_pg && *test_pg && strcmp(path, ":memory:") == 0)
    return db_open_pg_test(test_pg, err);
  struct db *db = sq_alloc();
  int rc = 0;
  if (!db || !(SQ(db)->path = strdup(path))) {
    free(db);
    *err = KX_ENOMEM;
    return NULL;
  }
  SQ(db)->readonly = (flags & DB_OPEN_READONLY) != 0;
  int oflags = SQ(db)->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (!SQ(db)->readonly && !(flags & DB_OPEN_NO_CREATE))
    oflags |= SQLITE_OPEN_CREATE;
  db_faults_install(); /* tests only: nothing unless KLAXON_TEST_FAULTS is set */
  int src = sqlite3_open_v2(path, &SQ(db)->h, oflags | SQLITE_OPEN_NOMUTEX, NULL);
  if (src != SQLITE_OK) {
    char q[512];
    LOG_ERROR("db", "open_failed", "path=%s msg=%s", path,
              log_quote(q, sizeof(q), SQ(db)->h ? sqlite3_errmsg(SQ(db)->h) : sqlite3_errstr(src)));
    rc = KX_EIO;
    goto fail;
  }
  sqlite3_busy_timeout(SQ(db)->h, BUSY_TIMEOUT_MS);
  sqlite3_extended_result_codes(SQ(db)->h, 1);
  if (!SQ(db)->readonly) {
    /* FULL: a commit is on disk before it returns, so an envelope acked after its commit
     * survives a power loss (NORMAL in WAL mode can lose the last commits). */
    rc = db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    if (rc)
      goto fail;
  }
  /* 1 MiB of page cache: klaxon's working set is small (open incidents, due jobs, the head
   * of the outbox), and every MiB shows in the resident size on a 16 MB budget. */
  rc = db_exec(db, "PRAGMA foreign_keys=ON; PRAGMA cache_size=-1024;");
  if (rc)
    goto fail;
  if (SQ(db)->readonly && (flags & DB_OPEN_ANY_VERSION)) {
    rc = db_schema_version(db) < 0 ? KX_EDB : 0; /* the caller compares the version */
    if (rc)
      goto fail;
  } else if (SQ(db)->readonly) {
    int v = db_schema_version(db);
    if (v != db_schema_latest()) {
      LOG_ERROR("db", "schema_mismatch", "path=%s version=%d expected=%d", path, v,
                db_schema_latest());
      rc = KX_EDB;
      goto fail;
    }
  } else {
    rc = db_migrate(db);
    if (rc)
      goto fail;
  }
  *err = 0;
  return db;
fail:
  db_close(db);
  *err = rc ? rc : KX_EDB;
  return NULL;
}

static void sq_close(struct db *db)
{
  if (!db)
    return;
  for (size_t i = 0; i < STMT_CACHE_SIZE; i++)
    if (SQ(db)->cache[i].st)
      sqlite3_finalize(SQ(db)->cache[i].st);
  if (SQ(db)->h)
    sqlite3_close(SQ(db)->h);
  free(SQ(db)->path);
  free(SQ(db));
}

static int sq_check(struct db *db)
{
  struct db_stmt *st = db_stmt(db, "PRAGMA quick_check");
  if (!st)
    return KX_EDB;
  int rc = db_step(st);
  int ok = rc == DB_ROW && strcmp(db_col_text_ref(st, 0), "ok") == 0;
  db_reset(st);
  return ok ? 0 : KX_EDB;
}

static void sq_busy_timeout(struct db *db, int ms)
{
  sqlite3_busy_timeout(SQ(db)->h, ms);
}

static int sq_backup(struct db *db, const char *path)
{
  if (access(path, F_OK) == 0) {
    LOG_ERROR("db", "backup_exists", "path=%s", path);
    return KX_EEXISTS;
  }
  sqlite3 *dst = NULL;
  int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK) {
    sqlite3_close(dst);
    return sq_rc_fail(db, rc, "backup_open");
  }
  sqlite3_backup *b = sqlite3_backup_init(dst, "main", SQ(db)->h, "main");
  if (!b) {
    rc = sqlite3_errcode(dst);
    sqlite3_close(dst);
    return sq_rc_fail(db, rc, "backup_init");
  }
  /* Copy in steps so a running bot's writers get the lock between steps. */
  do {
    rc = sqlite3_backup_step(b, 256);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
      sqlite3_sleep(20);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(b);
  int final = sqlite3_errcode(dst);
  sqlite3_close(dst);
  if (rc != SQLITE_DONE || final != SQLITE_OK)
    return sq_rc_fail(db, rc, "backup_step");
  return 0;
}

int db_restore(const char *backup_path, const char *db_path_out)
{
  int err = 0;
  struct db *src = db_open(backup_path, DB_OPEN_READONLY, &err);
  if (!src)
    return err;
  sqlite3 *dst = NULL;
  int rc = sqlite3_open_v2(db_path_out, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(dst, BUSY_TIMEOUT_MS);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", SQ(src)->h, "main");
    if (b) {
      rc = sqlite3_backup_step(b, -1);
      sqlite3_backup_finish(b);
      rc = (rc == SQLITE_DONE) ? SQLITE_OK : rc;
    } else {
      rc = sqlite3_errcode(dst);
    }
  }
  sqlite3_close(dst);
  db_close(src);
  return rc == SQLITE_OK ? 0 : sq_rc_fail(NULL, rc, "restore");
}

static int sq_set_autocheckpoint(struct db *db, int pages)
{
  return sqlite3_wal_autocheckpoint(SQ(db)->h, pages) == SQLITE_OK ? 0 : KX_EDB;
}

struct db *db_open_checkpointer(const char *path, int *err)
{
  struct db *db = sq_alloc();
  if (!db || !(SQ(db)->path = strdup(path))) {
    free(db);
    *err = KX_ENOMEM;
    return NULL;
  }
  db_faults_install();
  int rc = sqlite3_open_v2(path, &SQ(db)->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    db_close(db);
    *err = KX_EIO;
    return NULL;
  }
  sqlite3_busy_timeout(SQ(db)->h, BUSY_TIMEOUT_MS);
  (void)sqlite3_exec(SQ(db)->h, "PRAGMA cache_size=-128;", NULL, NULL, NULL);
  *err = 0;
  return db;
}

static int sq_checkpoint(struct db *db, bool truncate)
{
  int log = 0, done = 0;
  int rc = sqlite3_wal_checkpoint_v2(
      SQ(db)->h, NULL, truncate ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE, &log,
      &done);
  if (rc == SQLITE_BUSY)
    return KX_EBUSY;
  return rc == SQLITE_OK ? 0 : KX_EDB;
}

/* SQLite's clock is the host's: one process, one clock. */
static int64_t sq_clock_ms(struct db *db)
{
  (void)db;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One instance on SQLite: nobody else to wake. */
static int sq_notify(struct db *db, const char *channel)
{
  (void)db;
  (void)channel;
  return 0;
}

static int sq_listen(struct db *db, const char *channel)
{
  (void)db;
  (void)channel;
  return KX_EUNSUPPORTED;
}

static int sq_listen_fd(struct db *db)
{
  (void)db;
  return -1;
}

static int sq_listen_drain(struct db *db)
{
  (void)db;
  return 0;
}

const struct db_ops db_sqlite_ops = {
    .engine = DB_ENGINE_SQLITE,
    .name = "sqlite",
    .stmt = sq_stmt,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .bind_text = sq_bind_text,
    .bind_int64 = sq_bind_int64,
    .bind_double = sq_bind_double,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .reset = sq_reset,
    .col_int64 = sq_col_int64,
    .col_double = sq_col_double,
    .col_is_null = sq_col_is_null,
    .col_text_ref = sq_col_text_ref,
    .col_type = sq_col_type,
    .col_count = sq_col_count,
    .col_name = sq_col_name,
    .changes = sq_changes,
    .exec = sq_exec,
    .fail = sq_fail,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .in_transaction = sq_in_transaction,
    .depth = sq_depth,
    .schema_version = sq_schema_version,
    .migration_begin = sq_migration_begin,
    .migration_version = sq_migration_version,
    .check = sq_check,
    .busy_timeout = sq_busy_timeout,
    .backup = sq_backup,
    .set_autocheckpoint = sq_set_autocheckpoint,
    .checkpoint = sq_checkpoint,
    .clock_ms = sq_clock_ms,
    .notify = sq_notify,
    .listen = sq_listen,
    .listen_fd = sq_listen_fd,
    .listen_drain = sq_listen_drain,
    .path = sq_path,
    .close = sq_close,
};
