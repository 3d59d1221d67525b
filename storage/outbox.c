#include "storage/outbox.h"

#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char outbox_schema_v1[] =
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY,"
    "  created_at INTEGER NOT NULL,"
    "  platform TEXT NOT NULL DEFAULT 'slack',"
    "  method TEXT NOT NULL,"
    "  queue TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  priority INTEGER NOT NULL DEFAULT 1,"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','done','failed')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  hook TEXT,"
    "  ref TEXT,"
    "  result TEXT,"
    "  error TEXT,"
    "  done_at INTEGER"
    ");"
    "CREATE INDEX outbox_pending_queue ON outbox(queue, id) WHERE state = 'pending';"
    "CREATE INDEX outbox_pending_prio ON outbox(priority, id) WHERE state = 'pending';";

int outbox_add(struct db *db, const struct outbox_new *n, int64_t *id_out)
{
  static const char sql[] =
      "INSERT INTO outbox (created_at, platform, method, queue, body, priority, hook, ref) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
  if (!n->method || !n->body)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, n->now_ms);
  db_bind_text(st, 2, n->platform ? n->platform : "slack");
  db_bind_text(st, 3, n->method);
  db_bind_text(st, 4, n->queue ? n->queue : n->method);
  db_bind_text(st, 5, n->body);
  db_bind_int64(st, 6, n->priority);
  db_bind_text(st, 7, n->hook);
  db_bind_text(st, 8, n->ref);
  int rc = db_step(st);
  int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  if (rc != DB_ROW)
    return db_fail(db, rc, "outbox_add");
  if (id_out)
    *id_out = id;
  return 0;
}

static void read_row(struct db_stmt *st, struct outbox_row *r)
{
  r->id = db_col_int64(st, 0);
  r->created_at = db_col_int64(st, 1);
  r->platform = db_col_text(st, 2);
  r->method = db_col_text(st, 3);
  r->queue = db_col_text(st, 4);
  r->body = db_col_text(st, 5);
  r->priority = db_col_int(st, 6);
  r->attempts = db_col_int(st, 7);
  r->hook = db_col_text(st, 8);
  r->ref = db_col_text(st, 9);
  r->sending_epoch = db_col_int64(st, 10);
  r->sending_at = db_col_int64(st, 11);
}

#define ROW_COLUMNS                                                                              \
  "id, created_at, platform, method, queue, body, priority, attempts, hook, ref, sending_epoch," \
  " sending_at"

static int skipped(const char *queue, const char *const *skip, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(queue, skip[i]) == 0)
      return 1;
  return 0;
}

int outbox_ready(struct db *db,
                 size_t limit,
                 const char *const *skip_queues,
                 size_t n_skip,
                 struct outbox_row **rows,
                 size_t *n)
{
  /* The head of every queue: the pending row with no older pending row in its queue. */
  static const char sql[] = "SELECT " ROW_COLUMNS
                            " FROM outbox WHERE id IN ("
                            "  SELECT min(id) FROM outbox WHERE state = 'pending' GROUP BY queue)"
                            " ORDER BY priority, id LIMIT ?";
  *rows = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, (int64_t)(limit + n_skip));
  struct outbox_row *out = calloc(limit ? limit : 1, sizeof(*out));
  if (!out)
    return KX_ENOMEM;
  size_t count = 0;
  while (count < limit && db_step(st) == DB_ROW) {
    const char *queue = db_col_text_ref(st, 4);
    if (queue && skipped(queue, skip_queues, n_skip))
      continue;
    read_row(st, &out[count++]);
  }
  db_reset(st);
  *rows = out;
  *n = count;
  return 0;
}

void outbox_row_clear(struct outbox_row *r)
{
  free(r->platform);
  free(r->method);
  free(r->queue);
  free(r->body);
  free(r->hook);
  free(r->ref);
  memset(r, 0, sizeof(*r));
}

void outbox_rows_free(struct outbox_row *rows, size_t n)
{
  for (size_t i = 0; rows && i < n; i++)
    outbox_row_clear(&rows[i]);
  free(rows);
}

int outbox_get(struct db *db, int64_t id, struct outbox_row *out)
{
  static const char sql[] = "SELECT " ROW_COLUMNS " FROM outbox WHERE id = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, id);
  int rc = db_step(st);
  if (rc == DB_ROW)
    read_row(st, out);
  db_reset(st);
  if (rc == DB_ROW)
    return 0;
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, "outbox_get");
}

/* Issue 12: the sender's attempt in flight (outbox_sending), and the lease it is fenced by
 * (storage/leases.c). */
const char outbox_schema_v3[] =
    "ALTER TABLE outbox ADD COLUMN sending_epoch INTEGER;"
    "ALTER TABLE outbox ADD COLUMN sending_at INTEGER;";

/* After a fenced write changed nothing: was it the fence, or is the row no longer pending? */
static int fenced_or_gone(struct db *db, int64_t epoch)
{
  static const char sql[] = "SELECT epoch FROM leases WHERE name = 'outbox'";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  int rc = db_step(st);
  int64_t current = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  if (rc < 0)
    return db_fail(db, rc, "outbox_fence");
  return current == epoch ? KX_ENOTFOUND : KX_EFENCED;
}

int outbox_sending(struct db *db, int64_t id, int64_t epoch)
{
  static const char sql[] =
      "UPDATE outbox SET sending_epoch = ?1, sending_at = ?2"
      " WHERE id = ?3 AND state = 'pending' AND EXISTS (SELECT 1 FROM leases"
      "  WHERE name = 'outbox' AND epoch = ?1 AND expires_at > ?2)";
  /* PostgreSQL (READ COMMITTED): the lease row is share-locked, so a takeover waits for this
   * mark's commit (and then sees the row in flight, in doubt) or, committed first, fences it.
   * Without the lock both could send a row neither saw the other mark. SQLite has one writer. */
  static const char sql_pg[] =
      "UPDATE outbox SET sending_epoch = ?1, sending_at = ?2"
      " WHERE id = ?3 AND state = 'pending' AND EXISTS (SELECT 1 FROM leases"
      "  WHERE name = 'outbox' AND epoch = ?1 AND expires_at > ?2 FOR SHARE)";
  struct db_stmt *st = db_stmt(db, db_is_postgres(db) ? sql_pg : sql);
  if (!st)
    return KX_EDB;
  int64_t now = db_clock_ms(db);
  if (now < 0)
    return (int)now;
  db_bind_int64(st, 1, epoch);
  db_bind_int64(st, 2, now);
  db_bind_int64(st, 3, id);
  int rc = db_step_done(db, st, "outbox_sending");
  if (rc == 0 && db_changes(db) == 0) {
    rc = fenced_or_gone(db, epoch);
    /* The epoch is current but the lease ran out on the database clock: fenced all the same,
     * if the row is still pending. */
    if (rc == KX_ENOTFOUND) {
      static const char pending[] = "SELECT 1 FROM outbox WHERE id = ?1 AND state = 'pending'";
      struct db_stmt *q = db_stmt(db, pending);
      if (!q)
        return KX_EDB;
      db_bind_int64(q, 1, id);
      if (db_step(q) == DB_ROW)
        rc = KX_EFENCED;
      db_reset(q);
    }
  }
  return rc;
}

/* Record a row's end under the lease's epoch: one statement, so a sender fenced out (the lease
 * taken over since it started the row) changes nothing (KX_EFENCED). */
static int finish_fenced(struct db *db,
                         const char *sql,
                         const char *what,
                         int64_t id,
                         int64_t epoch,
                         const char *text,
                         int64_t now_ms)
{
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, text);
  db_bind_int64(st, 2, now_ms);
  db_bind_int64(st, 3, id);
  db_bind_int64(st, 4, epoch);
  int rc = db_step_done(db, st, what);
  if (rc == 0 && db_changes(db) == 0)
    return fenced_or_gone(db, epoch);
  return rc;
}

int outbox_done_fenced(struct db *db, int64_t id, int64_t epoch, const char *result, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE outbox SET state = 'done', result = ?1, done_at = ?2, attempts = attempts + 1"
      " WHERE id = ?3 AND state = 'pending'"
      " AND EXISTS (SELECT 1 FROM leases WHERE name = 'outbox' AND epoch = ?4)";
  if (!epoch)
    return outbox_done(db, id, result, now_ms);
  return finish_fenced(db, sql, "outbox_done", id, epoch, result, now_ms);
}

int outbox_failed_fenced(
    struct db *db, int64_t id, int64_t epoch, const char *error, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE outbox SET state = 'failed', error = ?1, done_at = ?2, attempts = attempts + 1"
      " WHERE id = ?3 AND state = 'pending'"
      " AND EXISTS (SELECT 1 FROM leases WHERE name = 'outbox' AND epoch = ?4)";
  if (!epoch)
    return outbox_failed(db, id, error, now_ms);
  return finish_fenced(db, sql, "outbox_failed", id, epoch, error, now_ms);
}

int outbox_done(struct db *db, int64_t id, const char *result, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE outbox SET state = 'done', result = ?, done_at = ?, attempts = attempts + 1"
      " WHERE id = ? AND state = 'pending'";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, result);
  db_bind_int64(st, 2, now_ms);
  db_bind_int64(st, 3, id);
  int rc = db_step_done(db, st, "outbox_done");
  if (rc == 0 && db_changes(db) == 0)
    return KX_ENOTFOUND;
  return rc;
}

int outbox_failed(struct db *db, int64_t id, const char *error, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE outbox SET state = 'failed', error = ?, done_at = ?, attempts = attempts + 1"
      " WHERE id = ? AND state = 'pending'";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, error);
  db_bind_int64(st, 2, now_ms);
  db_bind_int64(st, 3, id);
  int rc = db_step_done(db, st, "outbox_failed");
  if (rc == 0 && db_changes(db) == 0)
    return KX_ENOTFOUND;
  return rc;
}

int outbox_attempted(struct db *db, int64_t id, const char *error)
{
  static const char sql[] =
      "UPDATE outbox SET attempts = attempts + 1, error = ? WHERE id = ? AND state = 'pending'";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, error);
  db_bind_int64(st, 2, id);
  return db_step_done(db, st, "outbox_attempted");
}

static int64_t scalar(struct db *db, const char *sql, int64_t dflt)
{
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return dflt;
  int64_t v = dflt;
  if (db_step(st) == DB_ROW && !db_col_is_null(st, 0))
    v = db_col_int64(st, 0);
  db_reset(st);
  return v;
}

int64_t outbox_depth(struct db *db)
{
  static const char sql[] = "SELECT count(*) FROM outbox WHERE state = 'pending'";
  return scalar(db, sql, -1);
}

int64_t outbox_oldest_pending(struct db *db)
{
  static const char sql[] = "SELECT min(created_at) FROM outbox WHERE state = 'pending'";
  return scalar(db, sql, -1);
}

int outbox_prune(struct db *db, int64_t before_ms)
{
  static const char sql[] = "DELETE FROM outbox WHERE state != 'pending' AND done_at < ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, before_ms);
  return db_step_done(db, st, "outbox_prune");
}
