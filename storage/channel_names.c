#include "storage/channel_names.h"

#include <stdio.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char channel_names_schema_v1[] =
    "CREATE TABLE channel_names ("
    "  name TEXT PRIMARY KEY,"
    "  incident_id INTEGER,"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  reserved_at INTEGER NOT NULL"
    ");";

int channel_names_reserve(
    struct db *db, const char *base, int64_t incident_id, int64_t now_ms, char *out, size_t size)
{
  static const char sql[] =
      "INSERT INTO channel_names (name, incident_id, state, reserved_at) VALUES (?,?,0,?)"
      " ON CONFLICT (name) DO NOTHING";
  if (!base || !*base || size < CHANNEL_NAME_MAX + 1)
    return KX_EINVAL;
  for (int k = 1; k <= CHANNEL_NAMES_MAX_SUFFIX; k++) {
    char name[CHANNEL_NAME_MAX + 16];
    int len = k == 1 ? snprintf(name, sizeof(name), "%s", base)
                     : snprintf(name, sizeof(name), "%s-%d", base, k);
    if (len < 0 || len > CHANNEL_NAME_MAX)
      return KX_ETOOBIG;
    struct db_stmt *st = db_stmt(db, sql);
    if (!st)
      return KX_EDB;
    db_bind_text(st, 1, name);
    db_bind_int64(st, 2, incident_id);
    db_bind_int64(st, 3, now_ms);
    int rc = db_step_done(db, st, "channel_names_reserve");
    if (rc)
      return rc;
    if (db_changes(db) == 1) {
      snprintf(out, size, "%s", name);
      return 0;
    }
  }
  return KX_ETOOBIG;
}

int channel_names_set_state(struct db *db, const char *name, enum channel_name_state state)
{
  static const char sql[] = "UPDATE channel_names SET state = ? WHERE name = ?";
  if (!name)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, (int64_t)state);
  db_bind_text(st, 2, name);
  int rc = db_step_done(db, st, "channel_names_set_state");
  if (rc == 0 && db_changes(db) == 0)
    return KX_ENOTFOUND;
  return rc;
}

int channel_names_state(struct db *db, const char *name)
{
  static const char sql[] = "SELECT state FROM channel_names WHERE name = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, name);
  int rc = db_step(st);
  int state = rc == DB_ROW ? db_col_int(st, 0) : -1;
  db_reset(st);
  if (rc == DB_ROW)
    return state;
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, "channel_names_state");
}
