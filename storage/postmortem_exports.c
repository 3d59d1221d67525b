#include "storage/postmortem_exports.h"

#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char postmortem_exports_schema_v2[] =
    "CREATE TABLE postmortem_exports ("
    "  incident_id INTEGER PRIMARY KEY,"
    "  page_id TEXT,"
    "  version INTEGER NOT NULL DEFAULT 0,"
    "  url TEXT,"
    "  exported_at INTEGER NOT NULL"
    ");";

int postmortem_exports_begin(struct db *db, int64_t incident_id, int64_t now_ms)
{
  static const char sql[] =
      "INSERT INTO postmortem_exports (incident_id, exported_at) VALUES (?, ?)"
      " ON CONFLICT (incident_id) DO NOTHING";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_int64(st, 2, now_ms);
  int rc = db_step_done(db, st, "postmortem_exports_begin");
  if (rc == 0 && db_changes(db) == 0)
    return KX_EEXISTS;
  return rc;
}

int postmortem_exports_set(struct db *db,
                           int64_t incident_id,
                           const char *page_id,
                           int64_t version,
                           const char *url,
                           int64_t now_ms)
{
  static const char sql[] =
      "INSERT INTO postmortem_exports (incident_id, page_id, version, url, exported_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (incident_id) DO UPDATE SET page_id = ?2,"
      " version = ?3, url = COALESCE(?4, postmortem_exports.url), exported_at = ?5";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_text(st, 2, page_id);
  db_bind_int64(st, 3, version);
  db_bind_text(st, 4, url);
  db_bind_int64(st, 5, now_ms);
  return db_step_done(db, st, "postmortem_exports_set");
}

int postmortem_exports_abandon(struct db *db, int64_t incident_id)
{
  static const char sql[] =
      "DELETE FROM postmortem_exports WHERE incident_id = ? AND page_id IS NULL";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  return db_step_done(db, st, "postmortem_exports_abandon");
}

int postmortem_exports_get(struct db *db, int64_t incident_id, struct postmortem_export *out)
{
  static const char sql[] =
      "SELECT page_id, version, url, exported_at FROM postmortem_exports"
      " WHERE incident_id = ?";
  memset(out, 0, sizeof(*out));
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  int rc = db_step(st), err = 0;
  if (rc == DB_ROW) {
    out->incident_id = incident_id;
    out->page_id = db_col_text(st, 0);
    out->version = db_col_int64(st, 1);
    out->url = db_col_text(st, 2);
    out->exported_at = db_col_int64(st, 3);
  } else if (rc == DB_DONE) {
    err = KX_ENOTFOUND;
  } else {
    err = db_fail(db, rc, "postmortem_exports_get");
  }
  db_reset(st);
  return err;
}

void postmortem_export_clear(struct postmortem_export *e)
{
  free(e->page_id);
  free(e->url);
  memset(e, 0, sizeof(*e));
}
