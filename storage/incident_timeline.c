#include "storage/incident_timeline.h"

#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char incident_timeline_schema_v1[] =
    "CREATE TABLE incident_timeline ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
    "  kind TEXT NOT NULL,"
    "  who TEXT,"
    "  text TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  key_system INTEGER NOT NULL DEFAULT 0,"
    "  pinned INTEGER NOT NULL DEFAULT 0,"
    "  reactions INTEGER NOT NULL DEFAULT 0,"
    "  source_ts TEXT,"
    "  edited_at INTEGER NOT NULL DEFAULT 0,"
    "  deleted_at INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE UNIQUE INDEX incident_timeline_source ON incident_timeline (incident_id, source_ts)"
    " WHERE source_ts IS NOT NULL;"
    "CREATE INDEX incident_timeline_at ON incident_timeline (incident_id, at);";

int timeline_add(struct db *db, const struct timeline_new *e, int64_t *id_out)
{
  static const char sql[] =
      "INSERT INTO incident_timeline (incident_id, kind, who, text, at, key_system, source_ts,"
      " created_at) VALUES (?,?,?,?,?,?,?,?)"
      " ON CONFLICT (incident_id, source_ts) WHERE source_ts IS NOT NULL DO NOTHING"
      " RETURNING id";
  if (!e->kind || !e->text)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, e->incident_id);
  db_bind_text(st, 2, e->kind);
  db_bind_text(st, 3, e->who);
  db_bind_text(st, 4, e->text);
  db_bind_int64(st, 5, e->at_ms);
  db_bind_int64(st, 6, e->key ? 1 : 0);
  db_bind_text(st, 7, e->source_ts);
  db_bind_int64(st, 8, e->now_ms);
  int rc = db_step(st);
  int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  /* With RETURNING, a conflict that did nothing returns no row. */
  if (rc == DB_DONE)
    return KX_EEXISTS;
  if (rc != DB_ROW)
    return db_fail(db, rc, "timeline_add");
  if (id_out)
    *id_out = id;
  return 0;
}

int timeline_edit(
    struct db *db, int64_t incident_id, const char *source_ts, const char *text, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE incident_timeline SET text = ?, edited_at = ? WHERE incident_id = ? AND"
      " source_ts = ? AND deleted_at = 0";
  if (!source_ts || !text)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, text);
  db_bind_int64(st, 2, now_ms);
  db_bind_int64(st, 3, incident_id);
  db_bind_text(st, 4, source_ts);
  int rc = db_step_done(db, st, "timeline_edit");
  if (rc == 0 && db_changes(db) == 0)
    return KX_ENOTFOUND;
  return rc;
}

int timeline_delete(struct db *db, int64_t incident_id, const char *source_ts, int64_t now_ms)
{
  /* The text goes too: a deleted message must not survive in a postmortem. */
  static const char sql[] =
      "UPDATE incident_timeline SET deleted_at = ?, text = '' WHERE incident_id = ? AND"
      " source_ts = ? AND deleted_at = 0";
  if (!source_ts)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms ? now_ms : 1);
  db_bind_int64(st, 2, incident_id);
  db_bind_text(st, 3, source_ts);
  int rc = db_step_done(db, st, "timeline_delete");
  if (rc == 0 && db_changes(db) == 0)
    return KX_ENOTFOUND;
  return rc;
}

int timeline_hide_kind(struct db *db, int64_t incident_id, const char *kind, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE incident_timeline SET deleted_at = ? WHERE incident_id = ? AND kind = ? AND"
      " source_ts IS NULL AND deleted_at = 0";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms ? now_ms : 1);
  db_bind_int64(st, 2, incident_id);
  db_bind_text(st, 3, kind);
  int rc = db_step_done(db, st, "timeline_hide_kind");
  return rc ? rc : db_changes(db);
}

int timeline_mark(struct db *db, int64_t incident_id, const char *source_ts, enum timeline_mark m)
{
  static const char *const sql[] = {
      "UPDATE incident_timeline SET reactions = reactions + 1 WHERE incident_id = ? AND"
      " source_ts = ? AND deleted_at = 0",
      "UPDATE incident_timeline SET reactions = CASE WHEN reactions > 0 THEN reactions - 1 ELSE 0 "
      "END WHERE incident_id = ? AND"
      " source_ts = ? AND deleted_at = 0",
      "UPDATE incident_timeline SET pinned = 1 WHERE incident_id = ? AND source_ts = ? AND"
      " deleted_at = 0",
      "UPDATE incident_timeline SET pinned = 0 WHERE incident_id = ? AND source_ts = ? AND"
      " deleted_at = 0",
  };
  if ((int)m < 0 || (size_t)m >= KX_ARRAY_SIZE(sql) || !source_ts)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql[m]);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_text(st, 2, source_ts);
  int rc = db_step_done(db, st, "timeline_mark");
  if (rc == 0 && db_changes(db) == 0)
    return KX_ENOTFOUND;
  return rc;
}

static int collect(
    struct db *db, struct db_stmt *st, struct timeline_entry **out, size_t *n, bool reverse)
{
  struct timeline_entry *list = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&list, &cap, count, sizeof(*list))) {
      db_reset(st);
      timeline_free(list, count);
      return KX_ENOMEM;
    }
    struct timeline_entry *x = &list[count++];
    memset(x, 0, sizeof(*x));
    x->id = db_col_int64(st, 0);
    x->incident_id = db_col_int64(st, 1);
    x->kind = db_col_text(st, 2);
    x->who = db_col_text(st, 3);
    x->text = db_col_text(st, 4);
    x->at_ms = db_col_int64(st, 5);
    x->key_system = db_col_int(st, 6) != 0;
    x->pinned = db_col_int(st, 7) != 0;
    x->reactions = db_col_int(st, 8);
    x->source_ts = db_col_text(st, 9);
    x->edited_at = db_col_int64(st, 10);
    x->key = x->key_system || x->pinned || x->reactions > 0;
    if (!x->kind || !x->text) {
      db_reset(st);
      timeline_free(list, count);
      return KX_ENOMEM;
    }
  }
  db_reset(st);
  if (rc != DB_DONE) {
    timeline_free(list, count);
    return db_fail(db, rc, "timeline_list");
  }
  if (reverse)
    for (size_t i = 0; i < count / 2; i++) {
      struct timeline_entry t = list[i];
      list[i] = list[count - 1 - i];
      list[count - 1 - i] = t;
    }
  *out = list;
  *n = count;
  return 0;
}

int timeline_list(struct db *db,
                  int64_t incident_id,
                  unsigned flags,
                  size_t limit,
                  struct timeline_entry **out,
                  size_t *n)
{
#define TL_COLS                                                                                \
  "SELECT id, incident_id, kind, who, text, at, key_system, pinned, reactions, source_ts,"     \
  " edited_at FROM incident_timeline WHERE incident_id = ?1 AND deleted_at = 0 AND (?2 = 0 OR" \
  " key_system = 1 OR pinned = 1 OR reactions > 0)"
  static const char oldest[] = TL_COLS " ORDER BY at, id LIMIT ?3";
  static const char newest[] = TL_COLS " ORDER BY at DESC, id DESC LIMIT ?3";
#undef TL_COLS
  *out = NULL;
  *n = 0;
  bool latest = (flags & TIMELINE_LATEST) != 0;
  struct db_stmt *st = db_stmt(db, latest ? newest : oldest);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_int64(st, 2, (flags & TIMELINE_KEY_ONLY) ? 1 : 0);
  db_bind_int64(st, 3, limit ? (int64_t)limit : INT64_MAX);
  return collect(db, st, out, n, latest);
}

int64_t timeline_count(struct db *db, int64_t incident_id)
{
  static const char sql[] =
      "SELECT COUNT(*) FROM incident_timeline WHERE incident_id = ? AND deleted_at = 0";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  int rc = db_step(st);
  int64_t v = rc == DB_ROW ? db_col_int64(st, 0) : -1;
  db_reset(st);
  return v < 0 ? db_fail(db, rc, "timeline_count") : v;
}

void timeline_free(struct timeline_entry *list, size_t n)
{
  for (size_t i = 0; list && i < n; i++) {
    free(list[i].kind);
    free(list[i].who);
    free(list[i].text);
    free(list[i].source_ts);
  }
  free(list);
}

int timeline_people(struct db *db, int64_t incident_id, char ***out, size_t *n)
{
  static const char sql[] =
      "SELECT who FROM incident_timeline WHERE incident_id = ? AND who IS NOT NULL AND"
      " deleted_at = 0 GROUP BY who ORDER BY MIN(at), MIN(id)";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  char **list = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&list, &cap, count, sizeof(*list))) {
      db_reset(st);
      timeline_people_free(list, count);
      return KX_ENOMEM;
    }
    list[count] = db_col_text(st, 0);
    if (!list[count]) {
      db_reset(st);
      timeline_people_free(list, count);
      return KX_ENOMEM;
    }
    count++;
  }
  db_reset(st);
  if (rc != DB_DONE) {
    timeline_people_free(list, count);
    return db_fail(db, rc, "timeline_people");
  }
  *out = list;
  *n = count;
  return 0;
}

void timeline_people_free(char **people, size_t n)
{
  for (size_t i = 0; people && i < n; i++)
    free(people[i]);
  free(people);
}
