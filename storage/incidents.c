#include "storage/incidents.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char incidents_schema_v1[] =
    "CREATE TABLE incidents ("
    "  id INTEGER PRIMARY KEY,"
    "  title TEXT NOT NULL,"
    "  description TEXT,"
    "  severity TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  platform TEXT NOT NULL DEFAULT 'slack',"
    "  channel TEXT,"
    "  channel_name TEXT,"
    "  origin_channel TEXT,"
    "  summary_ts TEXT,"
    "  declared_by TEXT,"
    "  declared_by_user TEXT,"
    "  rota TEXT,"
    "  drill INTEGER NOT NULL DEFAULT 0,"
    "  alert_id INTEGER NOT NULL DEFAULT 0,"
    "  declared_at INTEGER NOT NULL,"
    "  impact_start_at INTEGER NOT NULL,"
    "  acknowledged_at INTEGER NOT NULL DEFAULT 0,"
    "  acknowledged_by TEXT,"
    "  resolved_at INTEGER NOT NULL DEFAULT 0,"
    "  resolved_by TEXT,"
    "  resolution TEXT,"
    "  closed_at INTEGER NOT NULL DEFAULT 0,"
    "  last_update_at INTEGER NOT NULL,"
    "  manager_called_at INTEGER NOT NULL DEFAULT 0,"
    "  postmortem_done_at INTEGER NOT NULL DEFAULT 0,"
    "  postmortem_url TEXT,"
    "  announced_at INTEGER NOT NULL DEFAULT 0,"
    "  channel_failures INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX incidents_by_channel ON incidents (channel);"
    "CREATE INDEX incidents_by_declared ON incidents (declared_at);";

/* Every read selects the same columns in this order (see read_row). */
#define INCIDENT_COLUMNS                                                                       \
  "i.id, i.title, i.description, i.severity, i.status, i.platform, i.channel, i.channel_name," \
  " i.origin_channel, i.summary_ts, i.declared_by, i.declared_by_user, i.rota, i.drill,"       \
  " i.alert_id, i.declared_at, i.impact_start_at, i.acknowledged_at, i.acknowledged_by,"       \
  " i.resolved_at, i.resolved_by, i.resolution, i.closed_at, i.last_update_at,"                \
  " i.manager_called_at, i.postmortem_done_at, i.postmortem_url, i.announced_at,"              \
  " i.channel_failures,"                                                                       \
  " (SELECT who FROM incident_roles r WHERE r.incident_id = i.id AND r.role = 'commander'),"   \
  " (SELECT who FROM incident_roles r WHERE r.incident_id = i.id AND r.role = 'scribe'),"      \
  " (SELECT who FROM incident_roles r WHERE r.incident_id = i.id AND r.role = 'comms'),"       \
  " (SELECT who FROM incident_roles r WHERE r.incident_id = i.id AND r.role = 'ops')"

static const char *const ROLE_NAMES[INCIDENT_N_ROLES] = {"commander", "scribe", "comms", "ops"};

const char *incident_role_name(enum incident_role r)
{
  return (r >= 0 && r < INCIDENT_N_ROLES) ? ROLE_NAMES[r] : "?";
}

int incident_role_parse(const char *w)
{
  static const struct {
    const char *word;
    enum incident_role role;
  } words[] = {
      {"commander", INCIDENT_ROLE_COMMANDER},  {"ic", INCIDENT_ROLE_COMMANDER},
      {"lead", INCIDENT_ROLE_COMMANDER},       {"incident-commander", INCIDENT_ROLE_COMMANDER},
      {"scribe", INCIDENT_ROLE_SCRIBE},        {"comms", INCIDENT_ROLE_COMMS},
      {"communications", INCIDENT_ROLE_COMMS}, {"ops", INCIDENT_ROLE_OPS},
      {"operations", INCIDENT_ROLE_OPS},
  };
  if (!w)
    return -1;
  for (size_t i = 0; i < KX_ARRAY_SIZE(words); i++)
    if (strcasecmp(words[i].word, w) == 0)
      return (int)words[i].role;
  return -1;
}

bool incident_is_open(const struct incident *inc)
{
  return inc && inc->resolved_at == 0 && inc->closed_at == 0;
}

static void read_row(struct db_stmt *st, struct incident *x)
{
  memset(x, 0, sizeof(*x));
  int c = 0;
  x->id = db_col_int64(st, c++);
  x->title = db_col_text(st, c++);
  x->description = db_col_text(st, c++);
  x->severity = db_col_text(st, c++);
  x->status = db_col_text(st, c++);
  x->platform = db_col_text(st, c++);
  x->channel = db_col_text(st, c++);
  x->channel_name = db_col_text(st, c++);
  x->origin_channel = db_col_text(st, c++);
  x->summary_ts = db_col_text(st, c++);
  x->declared_by = db_col_text(st, c++);
  x->declared_by_user = db_col_text(st, c++);
  x->rota = db_col_text(st, c++);
  x->drill = db_col_int(st, c++) != 0;
  x->alert_id = db_col_int64(st, c++);
  x->declared_at = db_col_int64(st, c++);
  x->impact_start_at = db_col_int64(st, c++);
  x->acknowledged_at = db_col_int64(st, c++);
  x->acknowledged_by = db_col_text(st, c++);
  x->resolved_at = db_col_int64(st, c++);
  x->resolved_by = db_col_text(st, c++);
  x->resolution = db_col_text(st, c++);
  x->closed_at = db_col_int64(st, c++);
  x->last_update_at = db_col_int64(st, c++);
  x->manager_called_at = db_col_int64(st, c++);
  x->postmortem_done_at = db_col_int64(st, c++);
  x->postmortem_url = db_col_text(st, c++);
  x->announced_at = db_col_int64(st, c++);
  x->channel_failures = db_col_int64(st, c++);
  for (int r = 0; r < INCIDENT_N_ROLES; r++)
    x->roles[r] = db_col_text(st, c++);
}

/* A NULL from a text column we always fill means the allocation failed. */
static bool row_complete(const struct incident *x)
{
  return x->title && x->severity && x->status && x->platform;
}

void incident_clear(struct incident *x)
{
  if (!x)
    return;
  free(x->title);
  free(x->description);
  free(x->severity);
  free(x->status);
  free(x->platform);
  free(x->channel);
  free(x->channel_name);
  free(x->origin_channel);
  free(x->summary_ts);
  free(x->declared_by);
  free(x->declared_by_user);
  free(x->rota);
  for (int r = 0; r < INCIDENT_N_ROLES; r++)
    free(x->roles[r]);
  free(x->acknowledged_by);
  free(x->resolved_by);
  free(x->resolution);
  free(x->postmortem_url);
  memset(x, 0, sizeof(*x));
}

void incidents_free(struct incident *list, size_t n)
{
  for (size_t i = 0; list && i < n; i++)
    incident_clear(&list[i]);
  free(list);
}

int incidents_create(struct db *db, const struct incident_create *n, int64_t *id_out)
{
  static const char sql[] =
      "INSERT INTO incidents (title, description, severity, status, platform, origin_channel,"
      " declared_by, declared_by_user, rota, drill, alert_id, declared_at, impact_start_at,"
      " last_update_at) VALUES (?,?,?,'" INCIDENT_INVESTIGATING
      "',?,?,?,?,?,?,?,?,?,?)"
      " RETURNING id";
  if (!n->title || !n->severity)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, n->title);
  db_bind_text(st, 2, n->description);
  db_bind_text(st, 3, n->severity);
  db_bind_text(st, 4, n->platform ? n->platform : "slack");
  db_bind_text(st, 5, n->origin_channel);
  db_bind_text(st, 6, n->declared_by);
  db_bind_text(st, 7, n->declared_by_user);
  db_bind_text(st, 8, n->rota);
  db_bind_int64(st, 9, n->drill ? 1 : 0);
  db_bind_int64(st, 10, n->alert_id);
  db_bind_int64(st, 11, n->declared_at);
  db_bind_int64(st, 12, n->impact_start_at ? n->impact_start_at : n->declared_at);
  db_bind_int64(st, 13, n->declared_at);
  int rc = db_step(st);
  int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  if (rc != DB_ROW)
    return db_fail(db, rc, "incidents_create");
  if (id_out)
    *id_out = id;
  return 0;
}

/* Step a bound single-row query into *out. */
static int one(struct db *db, struct db_stmt *st, struct incident *out, const char *what)
{
  memset(out, 0, sizeof(*out));
  int rc = db_step(st);
  if (rc == DB_ROW) {
    read_row(st, out);
    db_reset(st);
    if (!row_complete(out)) {
      incident_clear(out);
      return KX_ENOMEM;
    }
    return 0;
  }
  db_reset(st);
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, what);
}

int incidents_get(struct db *db, int64_t id, struct incident *out)
{
  static const char sql[] = "SELECT " INCIDENT_COLUMNS " FROM incidents i WHERE i.id = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, id);
  return one(db, st, out, "incidents_get");
}

int incidents_by_channel(struct db *db, const char *channel, struct incident *out)
{
  static const char sql[] =
      "SELECT " INCIDENT_COLUMNS " FROM incidents i WHERE i.channel = ? ORDER BY i.id DESC LIMIT 1";
  if (!channel || !*channel) {
    memset(out, 0, sizeof(*out));
    return KX_ENOTFOUND;
  }
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, channel);
  return one(db, st, out, "incidents_by_channel");
}

int incidents_find_repeat(
    struct db *db, const char *who, const char *title, int64_t since_ms, int64_t *id_out)
{
  static const char sql[] =
      "SELECT id FROM incidents WHERE declared_by IS NOT DISTINCT FROM ? AND title = ? AND "
      "declared_at >= ?"
      " AND resolved_at = 0 AND closed_at = 0 ORDER BY id DESC LIMIT 1";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, who);
  db_bind_text(st, 2, title);
  db_bind_int64(st, 3, since_ms);
  int rc = db_step(st);
  if (rc == DB_ROW)
    *id_out = db_col_int64(st, 0);
  db_reset(st);
  if (rc == DB_ROW)
    return 0;
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, "incidents_find_repeat");
}

int incidents_list(
    struct db *db, unsigned flags, int64_t from_ms, int64_t to_ms, struct incident **out, size_t *n)
{
  static const char sql[] =
      "SELECT " INCIDENT_COLUMNS
      " FROM incidents i WHERE (?1 = 0 OR (i.resolved_at = 0 AND i.closed_at = 0))"
      " AND (?2 = 0 OR i.drill = 0) AND (?3 = 0 AND ?4 = 0 OR (i.declared_at >= ?3 AND"
      " i.declared_at < ?4)) ORDER BY i.id";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, (flags & INCIDENTS_OPEN) ? 1 : 0);
  db_bind_int64(st, 2, (flags & INCIDENTS_NO_DRILLS) ? 1 : 0);
  db_bind_int64(st, 3, from_ms);
  db_bind_int64(st, 4, to_ms);
  struct incident *list = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&list, &cap, count, sizeof(*list))) {
      db_reset(st);
      incidents_free(list, count);
      return KX_ENOMEM;
    }
    read_row(st, &list[count++]);
    if (!row_complete(&list[count - 1])) {
      db_reset(st);
      incidents_free(list, count);
      return KX_ENOMEM;
    }
  }
  db_reset(st);
  if (rc != DB_DONE) {
    incidents_free(list, count);
    return db_fail(db, rc, "incidents_list");
  }
  *out = list;
  *n = count;
  return 0;
}

int incidents_set_text(struct db *db, int64_t id, enum incident_text_field f, const char *value)
{
  static const char *const sql[INCIDENT_N_TEXT_FIELDS] = {
      "UPDATE incidents SET title = ? WHERE id = ?",
      "UPDATE incidents SET severity = ? WHERE id = ?",
      "UPDATE incidents SET status = ? WHERE id = ?",
      "UPDATE incidents SET channel = ? WHERE id = ?",
      "UPDATE incidents SET channel_name = ? WHERE id = ?",
      "UPDATE incidents SET summary_ts = ? WHERE id = ?",
      "UPDATE incidents SET acknowledged_by = ? WHERE id = ?",
      "UPDATE incidents SET resolved_by = ? WHERE id = ?",
      "UPDATE incidents SET resolution = ? WHERE id = ?",
      "UPDATE incidents SET postmortem_url = ? WHERE id = ?",
  };
  if ((int)f < 0 || f >= INCIDENT_N_TEXT_FIELDS)
    return KX_EINVAL;
  if ((f == INCIDENT_F_TITLE || f == INCIDENT_F_SEVERITY || f == INCIDENT_F_STATUS) && !value)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql[f]);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, value);
  db_bind_int64(st, 2, id);
  int rc = db_step_done(db, st, "incidents_set_text");
  if (rc == 0 && db_changes(db) == 0)
    return KX_ENOTFOUND;
  return rc;
}

int incidents_set_time(struct db *db, int64_t id, enum incident_time_field f, int64_t value)
{
  static const char *const sql[INCIDENT_N_TIME_FIELDS] = {
      "UPDATE incidents SET impact_start_at = ? WHERE id = ?",
      "UPDATE incidents SET acknowledged_at = ? WHERE id = ?",
      "UPDATE incidents SET resolved_at = ? WHERE id = ?",
      "UPDATE incidents SET closed_at = ? WHERE id = ?",
      "UPDATE incidents SET last_update_at = ? WHERE id = ?",
      "UPDATE incidents SET manager_called_at = ? WHERE id = ?",
      "UPDATE incidents SET postmortem_done_at = ? WHERE id = ?",
      "UPDATE incidents SET announced_at = ? WHERE id = ?",
      "UPDATE incidents SET channel_failures = ? WHERE id = ?",
  };
  if ((int)f < 0 || f >= INCIDENT_N_TIME_FIELDS)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql[f]);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, value);
  db_bind_int64(st, 2, id);
  int rc = db_step_done(db, st, "incidents_set_time");
  if (rc == 0 && db_changes(db) == 0)
    return KX_ENOTFOUND;
  return rc;
}
