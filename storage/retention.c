#include "storage/retention.h"

#include <stddef.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

/* Indexes so that each batch finds its rows without scanning the table (schema version 2). */
const char retention_schema_v2[] =
    "CREATE INDEX outbox_done_at ON outbox(done_at) WHERE state != 'pending';"
    "CREATE INDEX jobs_done_at ON jobs(done_at) WHERE state != 'pending';"
    "CREATE INDEX pages_resolved_at ON pages(resolved_at) WHERE state = 'resolved';"
    "CREATE INDEX alerts_resolved_seen ON alerts(last_seen) WHERE status = 'resolved';";

static const char seen_sql[] =
    "DELETE FROM seen WHERE key IN (SELECT key FROM seen WHERE at < ?1 LIMIT ?2)";
static const char delivered_sql[] =
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
    " WHERE state = 'done' AND done_at < ?1 LIMIT ?2)";
static const char failed_sql[] =
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
    " WHERE state = 'failed' AND done_at < ?1 LIMIT ?2)";
static const char jobs_sql[] =
    "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs"
    " WHERE state != 'pending' AND done_at < ?1 LIMIT ?2)";
static const char copies_sql[] =
    "DELETE FROM page_copies WHERE id IN (SELECT c.id FROM pages p"
    " JOIN page_copies c ON c.page_id = p.id"
    " WHERE p.state = 'resolved' AND p.resolved_at < ?1 LIMIT ?2)";
/* The attempts to reach people (issue 11) of resolved pages, like their copies. */
static const char attempts_sql[] =
    "DELETE FROM page_attempts WHERE id IN (SELECT a.id FROM pages p"
    " JOIN page_attempts a ON a.page_id = p.id"
    " WHERE p.state = 'resolved' AND p.resolved_at < ?1 LIMIT ?2)";
static const char alerts_sql[] =
    "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts"
    " WHERE status = 'resolved' AND last_seen < ?1 LIMIT ?2)";

static int64_t min64(int64_t a, int64_t b)
{
  return a < b ? a : b;
}

void retention_cutoffs(int64_t now_ms,
                       int64_t retention_ms,
                       int64_t seen_window_ms,
                       struct retention_cutoffs *out)
{
  if (retention_ms <= 0)
    retention_ms = RETENTION_DEFAULT_MS;
  if (seen_window_ms < RETENTION_SEEN_MS)
    seen_window_ms = RETENTION_SEEN_MS;
  out->history_before = now_ms - retention_ms;
  out->delivered_before = now_ms - min64(RETENTION_DELIVERED_MS, retention_ms);
  out->seen_before = now_ms - min64(seen_window_ms, retention_ms);
}

static int one(
    struct db *db, const char *sql, int64_t before, int limit, struct retention_result *out)
{
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, before);
  db_bind_int64(st, 2, limit);
  int rc = db_step_done(db, st, "retention_prune");
  if (rc)
    return rc;
  int n = db_changes(db);
  out->deleted += n;
  if (n >= limit)
    out->more = true;
  return 0;
}

int retention_prune_batch(struct db *db,
                          const struct retention_cutoffs *c,
                          int limit,
                          struct retention_result *out)
{
  out->deleted = 0;
  out->more = false;
  if (limit <= 0)
    limit = RETENTION_BATCH;
  int rc = one(db, seen_sql, c->seen_before, limit, out);
  if (!rc)
    rc = one(db, delivered_sql, c->delivered_before, limit, out);
  if (!rc)
    rc = one(db, failed_sql, c->history_before, limit, out);
  if (!rc)
    rc = one(db, jobs_sql, c->history_before, limit, out);
  if (!rc)
    rc = one(db, copies_sql, c->history_before, limit, out);
  if (!rc)
    rc = one(db, attempts_sql, c->history_before, limit, out);
  if (!rc)
    rc = one(db, alerts_sql, c->history_before, limit, out);
  return rc;
}
