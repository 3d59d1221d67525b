#include "storage/rota_changes.h"

#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char rota_changes_schema_v1[] =
    "CREATE TABLE rota_changes ("
    "  id INTEGER PRIMARY KEY,"
    "  rota TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('override','absence')),"
    "  person TEXT NOT NULL,"
    "  from_ms INTEGER NOT NULL,"
    "  to_ms INTEGER NOT NULL,"
    "  secondary INTEGER NOT NULL DEFAULT 0,"
    "  created_by TEXT,"
    "  reason TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  cancelled_at INTEGER,"
    "  CHECK (to_ms > from_ms)"
    ");"
    "CREATE INDEX rota_changes_rota ON rota_changes(rota, to_ms) WHERE cancelled_at IS NULL;";

int rota_changes_add(struct db *db, const struct rota_change_new *c, int64_t *id_out)
{
  static const char sql[] =
      "INSERT INTO rota_changes (rota, kind, person, from_ms, to_ms, secondary, created_by, reason,"
      " created_at) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id";
  if (!c->rota || !c->person || c->to_ms <= c->from_ms)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, c->rota);
  db_bind_text(st, 2, c->kind == ROTA_CHANGE_ABSENCE ? "absence" : "override");
  db_bind_text(st, 3, c->person);
  db_bind_int64(st, 4, c->from_ms);
  db_bind_int64(st, 5, c->to_ms);
  db_bind_int64(st, 6, c->secondary ? 1 : 0);
  db_bind_text(st, 7, c->created_by);
  db_bind_text(st, 8, c->reason);
  db_bind_int64(st, 9, c->now_ms);
  int rc = db_step(st);
  int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  if (rc != DB_ROW)
    return db_fail(db, rc, "rota_changes_add");
  if (id_out)
    *id_out = id;
  return 0;
}

int rota_changes_cancel(struct db *db, const char *rota, int64_t id, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE rota_changes SET cancelled_at = ? WHERE id = ? AND rota = ? AND cancelled_at IS NULL";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms);
  db_bind_int64(st, 2, id);
  db_bind_text(st, 3, rota);
  int rc = db_step_done(db, st, "rota_changes_cancel");
  if (rc == 0 && db_changes(db) == 0)
    return KX_ENOTFOUND;
  return rc;
}

int rota_changes_load(struct db *db,
                      const char *rota,
                      int64_t after_ms,
                      size_t limit,
                      struct rota_change_row **out,
                      size_t *n)
{
  static const char sql[] =
      "SELECT id, kind, person, from_ms, to_ms, secondary, created_by, reason, created_at"
      " FROM rota_changes WHERE rota = ? AND cancelled_at IS NULL AND to_ms > ?"
      " ORDER BY id LIMIT ?";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, rota);
  db_bind_int64(st, 2, after_ms);
  db_bind_int64(st, 3, (int64_t)limit);
  int rc, err = 0;
  size_t cap = 0, count = 0;
  struct rota_change_row *rows = NULL;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&rows, &cap, count, sizeof(*rows))) {
      err = KX_ENOMEM;
      break;
    }
    struct rota_change_row *c = &rows[count++];
    c->id = db_col_int64(st, 0);
    c->kind =
        strcmp(db_col_text_ref(st, 1), "absence") == 0 ? ROTA_CHANGE_ABSENCE : ROTA_CHANGE_OVERRIDE;
    c->person = db_col_text(st, 2);
    c->from_ms = db_col_int64(st, 3);
    c->to_ms = db_col_int64(st, 4);
    c->secondary = db_col_int(st, 5) != 0;
    c->created_by = db_col_text(st, 6);
    c->reason = db_col_text(st, 7);
    c->created_at = db_col_int64(st, 8);
    if (!c->person)
      err = KX_ENOMEM;
    if (err)
      break;
  }
  db_reset(st);
  if (!err && rc != DB_DONE && rc != DB_ROW)
    err = db_fail(db, rc, "rota_changes_load");
  if (err) {
    rota_change_rows_free(rows, count);
    return err;
  }
  *out = rows;
  *n = count;
  return 0;
}

void rota_change_rows_free(struct rota_change_row *rows, size_t n)
{
  for (size_t i = 0; rows && i < n; i++) {
    free(rows[i].person);
    free(rows[i].created_by);
    free(rows[i].reason);
  }
  free(rows);
}
