#include "storage/incident_actions.h"

#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char incident_actions_schema_v1[] =
    "CREATE TABLE incident_actions ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
    "  number INTEGER NOT NULL,"
    "  owner TEXT,"
    "  text TEXT NOT NULL,"
    "  created_by TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  done_at INTEGER NOT NULL DEFAULT 0,"
    "  done_by TEXT,"
    "  UNIQUE (incident_id, number)"
    ");";

/* issue 14: a due date (the instant the item becomes overdue: local midnight after the due day;
 * 0 = none) and the date as typed, for messages. */
const char incident_actions_due_schema_v2[] =
    "ALTER TABLE incident_actions ADD COLUMN due_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE incident_actions ADD COLUMN due_date TEXT;"
    /* the tracker's issue: "acme/platform#12" or "OPS-12", and its web address */
    "ALTER TABLE incident_actions ADD COLUMN tracker_key TEXT;"
    "ALTER TABLE incident_actions ADD COLUMN tracker_url TEXT;"
    "CREATE INDEX incident_actions_tracker ON incident_actions(tracker_key);";

int incident_actions_set_tracker(
    struct db *db, int64_t incident_id, int64_t number, const char *key, const char *url)
{
  static const char sql[] =
      "UPDATE incident_actions SET tracker_key = ?, tracker_url = ? WHERE"
      " incident_id = ? AND number = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, key);
  db_bind_text(st, 2, url);
  db_bind_int64(st, 3, incident_id);
  db_bind_int64(st, 4, number);
  int rc = db_step_done(db, st, "incident_actions_set_tracker");
  if (rc == 0 && db_changes(db) == 0)
    rc = KX_ENOTFOUND;
  return rc;
}

int incident_actions_by_tracker(struct db *db,
                                const char *key,
                                int64_t *incident_id,
                                int64_t *number)
{
  static const char sql[] =
      "SELECT incident_id, number FROM incident_actions WHERE tracker_key = ? LIMIT 1";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, key);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    *incident_id = db_col_int64(st, 0);
    *number = db_col_int64(st, 1);
  }
  db_reset(st);
  if (rc == DB_ROW)
    return 0;
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, "incident_actions_by_tracker");
}

int incident_actions_set_due(
    struct db *db, int64_t incident_id, int64_t number, int64_t due_at, const char *due_date)
{
  static const char sql[] =
      "UPDATE incident_actions SET due_at = ?, due_date = ? WHERE incident_id = ? AND number = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, due_at);
  db_bind_text(st, 2, due_date);
  db_bind_int64(st, 3, incident_id);
  db_bind_int64(st, 4, number);
  int rc = db_step_done(db, st, "incident_actions_set_due");
  if (rc == 0 && db_changes(db) == 0)
    rc = KX_ENOTFOUND;
  return rc;
}

int incident_actions_add(struct db *db,
                         int64_t incident_id,
                         const char *owner,
                         const char *text,
                         const char *created_by,
                         int64_t now_ms,
                         int64_t *number_out)
{
  static const char sql[] =
      "INSERT INTO incident_actions (incident_id, number, owner, text, created_by, created_at)"
      " VALUES (?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM incident_actions WHERE"
      " incident_id = ?1), ?2, ?3, ?4, ?5) RETURNING number";
  /* Two instances adding to one incident at once would both compute the same MAX + 1 under
   * PostgreSQL's READ COMMITTED. Locking the incident's row first (a no-op UPDATE: SQLite has no
   * SELECT … FOR UPDATE) makes the second wait for the first's commit; its INSERT, a new
   * statement, then sees the first's number. Under SQLite the write lock is held already. */
  static const char lock[] = "UPDATE incidents SET drill = drill WHERE id = ?";
  if (!text || !*text)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, lock);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  int rc = db_step_done(db, st, "incident_actions_lock");
  if (rc)
    return rc;
  if (db_changes(db) == 0)
    return KX_ENOTFOUND;
  st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_text(st, 2, owner);
  db_bind_text(st, 3, text);
  db_bind_text(st, 4, created_by);
  db_bind_int64(st, 5, now_ms);
  rc = db_step(st);
  int64_t number = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  if (rc == DB_ROW)
    rc = db_step(st);
  db_reset(st);
  if (rc != DB_DONE)
    return db_fail(db, rc, "incident_actions_add");
  if (number_out)
    *number_out = number;
  return 0;
}

int incident_actions_done(
    struct db *db, int64_t incident_id, int64_t number, const char *who, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE incident_actions SET done_at = ?, done_by = ? WHERE incident_id = ? AND number = ?"
      " AND done_at = 0";
  static const char exists[] =
      "SELECT 1 FROM incident_actions WHERE incident_id = ? AND number = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms ? now_ms : 1);
  db_bind_text(st, 2, who);
  db_bind_int64(st, 3, incident_id);
  db_bind_int64(st, 4, number);
  int rc = db_step_done(db, st, "incident_actions_done");
  if (rc || db_changes(db) > 0)
    return rc;
  st = db_stmt(db, exists);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_int64(st, 2, number);
  rc = db_step(st);
  db_reset(st);
  if (rc == DB_ROW)
    return KX_EEXISTS;
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, "incident_actions_done");
}

static int incident_actions_select(struct db *db,
                                   int64_t incident_id,
                                   int64_t number,
                                   bool open_only,
                                   struct incident_action **out,
                                   size_t *n);

int incident_actions_list(
    struct db *db, int64_t incident_id, bool open_only, struct incident_action **out, size_t *n)
{
  return incident_actions_select(db, incident_id, 0, open_only, out, n);
}

int incident_actions_get(struct db *db,
                         int64_t incident_id,
                         int64_t number,
                         struct incident_action **out)
{
  size_t n = 0;
  int rc = incident_actions_select(db, incident_id, number, false, out, &n);
  if (rc == 0 && n == 0)
    rc = KX_ENOTFOUND;
  if (rc && *out) {
    incident_actions_free(*out, n);
    *out = NULL;
  }
  return rc;
}

static int incident_actions_select(struct db *db,
                                   int64_t incident_id,
                                   int64_t number,
                                   bool open_only,
                                   struct incident_action **out,
                                   size_t *n)
{
  static const char sql[] =
      "SELECT a.id, a.incident_id, a.number, a.owner, a.text, a.created_by, a.created_at,"
      " a.done_at, a.done_by, i.title, i.severity, i.drill, a.due_at, a.due_date, a.tracker_key, "
      "a.tracker_url FROM"
      " incident_actions a JOIN incidents i ON i.id = a.incident_id WHERE (?1 = 0 OR"
      " a.incident_id = ?1) AND (?2 = 0 OR a.done_at = 0) AND (?3 = 0 OR a.number = ?3)"
      " ORDER BY a.incident_id, a.number";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_int64(st, 2, open_only ? 1 : 0);
  db_bind_int64(st, 3, number);
  struct incident_action *list = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&list, &cap, count, sizeof(*list))) {
      db_reset(st);
      incident_actions_free(list, count);
      return KX_ENOMEM;
    }
    struct incident_action *x = &list[count++];
    memset(x, 0, sizeof(*x));
    x->id = db_col_int64(st, 0);
    x->incident_id = db_col_int64(st, 1);
    x->number = db_col_int64(st, 2);
    x->owner = db_col_text(st, 3);
    x->text = db_col_text(st, 4);
    x->created_by = db_col_text(st, 5);
    x->created_at = db_col_int64(st, 6);
    x->done_at = db_col_int64(st, 7);
    x->done_by = db_col_text(st, 8);
    x->incident_title = db_col_text(st, 9);
    x->incident_severity = db_col_text(st, 10);
    x->incident_drill = db_col_int(st, 11) != 0;
    x->due_at = db_col_int64(st, 12);
    x->due_date = db_col_text(st, 13);
    x->tracker_key = db_col_text(st, 14);
    x->tracker_url = db_col_text(st, 15);
    if (!x->text || !x->incident_title || !x->incident_severity) {
      db_reset(st);
      incident_actions_free(list, count);
      return KX_ENOMEM;
    }
  }
  db_reset(st);
  if (rc != DB_DONE) {
    incident_actions_free(list, count);
    return db_fail(db, rc, "incident_actions_list");
  }
  *out = list;
  *n = count;
  return 0;
}

void incident_actions_free(struct incident_action *items, size_t n)
{
  for (size_t i = 0; items && i < n; i++) {
    free(items[i].owner);
    free(items[i].text);
    free(items[i].created_by);
    free(items[i].done_by);
    free(items[i].incident_title);
    free(items[i].incident_severity);
    free(items[i].due_date);
    free(items[i].tracker_key);
    free(items[i].tracker_url);
  }
  free(items);
}

int incident_actions_count(
    struct db *db, int64_t from_ms, int64_t to_ms, int64_t *total, int64_t *done)
{
  static const char sql[] =
      "SELECT COUNT(*), count(*) FILTER (WHERE a.done_at > 0) FROM incident_actions a JOIN "
      "incidents"
      " i ON i.id = a.incident_id WHERE i.drill = 0 AND (?1 = 0 AND ?2 = 0 OR (i.declared_at"
      " >= ?1 AND i.declared_at < ?2))";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, from_ms);
  db_bind_int64(st, 2, to_ms);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    *total = db_col_int64(st, 0);
    *done = db_col_int64(st, 1);
  }
  db_reset(st);
  return rc == DB_ROW ? 0 : db_fail(db, rc, "incident_actions_count");
}
