#include "storage/incident_roles.h"

#include <stdlib.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char incident_roles_schema_v1[] =
    "CREATE TABLE incident_roles ("
    "  incident_id INTEGER NOT NULL REFERENCES incidents(id),"
    "  role TEXT NOT NULL,"
    "  who TEXT NOT NULL,"
    "  since INTEGER NOT NULL,"
    "  PRIMARY KEY (incident_id, role)"
    ");";

int incident_roles_set(
    struct db *db, int64_t incident_id, enum incident_role role, const char *who, int64_t now_ms)
{
  static const char set_sql[] =
      "INSERT INTO incident_roles (incident_id, role, who, since) VALUES (?,?,?,?)"
      " ON CONFLICT (incident_id, role) DO UPDATE SET who = excluded.who, since = excluded.since";
  static const char clear_sql[] = "DELETE FROM incident_roles WHERE incident_id = ? AND role = ?";
  if ((int)role < 0 || role >= INCIDENT_N_ROLES)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, who ? set_sql : clear_sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_text(st, 2, incident_role_name(role));
  if (who) {
    db_bind_text(st, 3, who);
    db_bind_int64(st, 4, now_ms);
  }
  return db_step_done(db, st, "incident_roles_set");
}

char *incident_roles_get(struct db *db, int64_t incident_id, enum incident_role role)
{
  static const char sql[] = "SELECT who FROM incident_roles WHERE incident_id = ? AND role = ?";
  if ((int)role < 0 || role >= INCIDENT_N_ROLES)
    return NULL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return NULL;
  db_bind_int64(st, 1, incident_id);
  db_bind_text(st, 2, incident_role_name(role));
  char *who = db_step(st) == DB_ROW ? db_col_text(st, 0) : NULL;
  db_reset(st);
  return who;
}
