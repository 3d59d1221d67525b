#include "storage/jobs.h"

#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char jobs_schema_v1[] =
    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL,"
    "  key TEXT NOT NULL UNIQUE,"
    "  due_at INTEGER NOT NULL,"
    "  ref TEXT,"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','done','cancelled')),"
    "  created_at INTEGER NOT NULL,"
    "  done_at INTEGER"
    ");"
    "CREATE INDEX jobs_pending_due ON jobs(due_at) WHERE state = 'pending';";

int jobs_schedule(struct db *db,
                  const char *kind,
                  const char *key,
                  int64_t due_at,
                  const char *ref,
                  int64_t now_ms)
{
  /* Only a job with this key is "already there" (KX_EEXISTS); any other constraint (a NULL kind
   * or key) is a bug and reaches db_fail() as KX_ECONSTRAINT, which OR IGNORE would hide. */
  static const char sql[] =
      "INSERT INTO jobs (kind, key, due_at, ref, created_at) VALUES (?, ?, ?, ?, ?)"
      " ON CONFLICT (key) DO NOTHING";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, kind);
  db_bind_text(st, 2, key);
  db_bind_int64(st, 3, due_at);
  db_bind_text(st, 4, ref);
  db_bind_int64(st, 5, now_ms);
  int rc = db_step_done(db, st, "jobs_schedule");
  if (rc == 0 && db_changes(db) == 0)
    return KX_EEXISTS;
  return rc ? rc : db_notify(db, JOBS_CHANNEL);
}

int jobs_upsert(struct db *db,
                const char *kind,
                const char *key,
                int64_t due_at,
                const char *ref,
                int64_t now_ms)
{
  static const char sql[] =
      "INSERT INTO jobs (kind, key, due_at, ref, created_at) VALUES (?, ?, ?, ?, ?)"
      " ON CONFLICT(key) DO UPDATE SET kind = excluded.kind, due_at = excluded.due_at,"
      " ref = excluded.ref, state = 'pending', done_at = NULL";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, kind);
  db_bind_text(st, 2, key);
  db_bind_int64(st, 3, due_at);
  db_bind_text(st, 4, ref);
  db_bind_int64(st, 5, now_ms);
  int rc = db_step_done(db, st, "jobs_upsert");
  return rc ? rc : db_notify(db, JOBS_CHANNEL);
}

int jobs_cancel_prefix(struct db *db, const char *key_prefix, int64_t now_ms)
{
  /* substr comparison rather than LIKE: keys may contain % and _. */
  static const char sql[] =
      "UPDATE jobs SET state = 'cancelled', done_at = ?"
      " WHERE state = 'pending' AND substr(key, 1, length(?2)) = ?2";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms);
  db_bind_text(st, 2, key_prefix);
  int rc = db_step_done(db, st, "jobs_cancel_prefix");
  return rc ? rc : db_changes(db);
}

int jobs_cancel(struct db *db, const char *key, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE jobs SET state = 'cancelled', done_at = ? WHERE state = 'pending' AND key = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms);
  db_bind_text(st, 2, key);
  int rc = db_step_done(db, st, "jobs_cancel");
  return rc ? rc : db_changes(db);
}

static void read_job(struct db_stmt *st, struct job *j)
{
  j->id = db_col_int64(st, 0);
  j->kind = db_col_text(st, 1);
  j->key = db_col_text(st, 2);
  j->due_at = db_col_int64(st, 3);
  j->ref = db_col_text(st, 4);
  j->created_at = db_col_int64(st, 5);
}

int jobs_due(struct db *db, int64_t now_ms, size_t limit, struct job **out, size_t *n)
{
  static const char sql[] =
      "SELECT id, kind, key, due_at, ref, created_at FROM jobs"
      " WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT ?";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms);
  db_bind_int64(st, 2, (int64_t)limit);
  struct job *jobs = calloc(limit ? limit : 1, sizeof(*jobs));
  if (!jobs)
    return KX_ENOMEM;
  size_t count = 0;
  while (count < limit && db_step(st) == DB_ROW)
    read_job(st, &jobs[count++]);
  db_reset(st);
  *out = jobs;
  *n = count;
  return 0;
}

int jobs_claim(struct db *db, int64_t id, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE jobs SET state = 'done', done_at = ? WHERE id = ? AND state = 'pending'";
  /* PostgreSQL: a job another instance is running right now (its row locked by that claim) is
   * skipped at once instead of waited for; if that instance rolls back, the job is still
   * pending and the next pass takes it. SQLite has one writer: nothing to skip. */
  static const char sql_pg[] =
      "UPDATE jobs SET state = 'done', done_at = ? WHERE id = (SELECT id FROM jobs"
      " WHERE id = ? AND state = 'pending' FOR UPDATE SKIP LOCKED)";
  struct db_stmt *st = db_stmt(db, db_is_postgres(db) ? sql_pg : sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms);
  db_bind_int64(st, 2, id);
  int rc = db_step_done(db, st, "jobs_claim");
  if (rc == 0 && db_changes(db) == 0)
    return KX_ENOTFOUND;
  return rc;
}

int64_t jobs_next_due(struct db *db)
{
  static const char sql[] = "SELECT min(due_at) FROM jobs WHERE state = 'pending'";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return INT64_MAX;
  int64_t v = INT64_MAX;
  if (db_step(st) == DB_ROW && !db_col_is_null(st, 0))
    v = db_col_int64(st, 0);
  db_reset(st);
  return v;
}

int jobs_pending(struct db *db, const char *key)
{
  static const char sql[] = "SELECT 1 FROM jobs WHERE key = ? AND state = 'pending'";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, key);
  int rc = db_step(st);
  db_reset(st);
  if (rc == DB_ROW)
    return 1;
  return rc == DB_DONE ? 0 : db_fail(db, rc, "jobs_pending");
}

int jobs_get(struct db *db, const char *key, struct job *out, int *state_done)
{
  static const char sql[] =
      "SELECT id, kind, key, due_at, ref, created_at, state FROM jobs WHERE key = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, key);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    read_job(st, out);
    if (state_done)
      *state_done = strcmp(db_col_text_ref(st, 6), "pending") != 0;
  }
  db_reset(st);
  if (rc == DB_ROW)
    return 0;
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, "jobs_get");
}

void job_clear(struct job *j)
{
  free(j->kind);
  free(j->key);
  free(j->ref);
  memset(j, 0, sizeof(*j));
}

void jobs_free(struct job *jobs, size_t n)
{
  for (size_t i = 0; jobs && i < n; i++)
    job_clear(&jobs[i]);
  free(jobs);
}

int jobs_retry_later(struct db *db, int64_t id, int64_t due_at)
{
  static const char sql[] = "UPDATE jobs SET due_at = ? WHERE id = ? AND state = 'pending'";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, due_at);
  db_bind_int64(st, 2, id);
  int rc = db_step_done(db, st, "jobs_retry_later");
  return rc ? rc : db_notify(db, JOBS_CHANNEL);
}
