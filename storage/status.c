#include "storage/status.h"

#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char status_schema_v2[] =
    "CREATE TABLE status_components ("
    "  incident_id INTEGER NOT NULL,"
    "  component TEXT NOT NULL,"
    "  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 4),"
    "  set_at INTEGER NOT NULL,"
    "  PRIMARY KEY (incident_id, component)"
    ") WITHOUT ROWID;"
    "CREATE TABLE status_updates ("
    "  id INTEGER PRIMARY KEY,"
    "  incident_id INTEGER NOT NULL,"
    "  at_ms INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  body TEXT NOT NULL"
    ");"
    "CREATE INDEX status_updates_by_incident ON status_updates (incident_id, at_ms);"
    "CREATE TABLE status_checks ("
    "  name TEXT PRIMARY KEY,"
    "  up INTEGER NOT NULL,"
    "  firing INTEGER NOT NULL,"
    "  down_since INTEGER NOT NULL DEFAULT 0,"
    "  last_at INTEGER NOT NULL DEFAULT 0,"
    "  last_ms REAL NOT NULL DEFAULT 0,"
    "  detail TEXT,"
    "  warn TEXT"
    ");"
    "CREATE TABLE status_days ("
    "  component TEXT NOT NULL,"
    "  day INTEGER NOT NULL,"
    "  ok INTEGER NOT NULL DEFAULT 0,"
    "  total INTEGER NOT NULL DEFAULT 0,"
    "  worst INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (component, day)"
    ") WITHOUT ROWID;"
    "CREATE TABLE status_windows ("
    "  id INTEGER PRIMARY KEY,"
    "  component TEXT NOT NULL,"
    "  from_ms INTEGER NOT NULL,"
    "  to_ms INTEGER NOT NULL CHECK (to_ms > from_ms),"
    "  text TEXT NOT NULL,"
    "  created_by TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  UNIQUE (component, from_ms, to_ms)"
    ");";

static const char *const STATE_NAMES[STATUS_N_STATES] = {
    "operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage"};

const char *status_state_name(enum status_state s)
{
  return (unsigned)s < STATUS_N_STATES ? STATE_NAMES[s] : "operational";
}

int status_state_parse(const char *word)
{
  for (int i = 0; word && i < STATUS_N_STATES; i++)
    if (strcmp(word, STATE_NAMES[i]) == 0)
      return i;
  return -1;
}

int status_component_set(
    struct db *db, int64_t incident_id, const char *component, int state, int64_t now_ms)
{
  static const char sql[] =
      "INSERT INTO status_components (incident_id, component, state, set_at) VALUES (?,?,?,?)"
      " ON CONFLICT (incident_id, component) DO UPDATE SET state = excluded.state,"
      " set_at = excluded.set_at";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_text(st, 2, component);
  db_bind_int64(st, 3, state);
  db_bind_int64(st, 4, now_ms);
  return db_step_done(db, st, "status_component_set");
}

void status_comps_free(struct status_comp *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    free(v[i].component);
  free(v);
}

int status_components_list(struct db *db, int64_t incident_id, struct status_comp **out, size_t *n)
{
  /* Open: not resolved. A resolved incident restores its components by leaving this list. */
  static const char sql[] =
      "SELECT c.incident_id, c.component, c.state, c.set_at FROM status_components c"
      " JOIN incidents i ON i.id = c.incident_id"
      " WHERE (?1 > 0 AND c.incident_id = ?1) OR (?1 = 0 AND i.resolved_at = 0)"
      " ORDER BY c.incident_id, c.component";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  size_t cap = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)out, &cap, *n, sizeof(**out))) {
      db_reset(st);
      status_comps_free(*out, *n);
      *out = NULL;
      *n = 0;
      return KX_ENOMEM;
    }
    struct status_comp *x = &(*out)[(*n)++];
    x->incident_id = db_col_int64(st, 0);
    x->component = db_col_text(st, 1);
    x->state = db_col_int(st, 2);
    x->set_at = db_col_int64(st, 3);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    status_comps_free(*out, *n);
    *out = NULL;
    *n = 0;
    return db_fail(db, rc, "status_components_list");
  }
  return 0;
}

int status_update_add(struct db *db,
                      int64_t incident_id,
                      const char *status,
                      const char *body,
                      int64_t now_ms,
                      int64_t *id_out)
{
  static const char sql[] =
      "INSERT INTO status_updates (incident_id, at_ms, status, body) VALUES (?,?,?,?)"
      " RETURNING id";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_int64(st, 2, now_ms);
  db_bind_text(st, 3, status);
  db_bind_text(st, 4, body);
  int rc = db_step(st);
  int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  if (rc != DB_ROW)
    return db_fail(db, rc, "status_update_add");
  if (id_out)
    *id_out = id;
  return 0;
}

void status_updates_free(struct status_update *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++) {
    free(v[i].status);
    free(v[i].body);
  }
  free(v);
}

int status_updates_list(
    struct db *db, int64_t incident_id, size_t limit, struct status_update **out, size_t *n)
{
  static const char sql[] =
      "SELECT id, incident_id, at_ms, status, body FROM status_updates"
      " WHERE ?1 = 0 OR incident_id = ?1 ORDER BY at_ms DESC, id DESC LIMIT ?2";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_int64(st, 2, (int64_t)limit);
  size_t cap = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)out, &cap, *n, sizeof(**out))) {
      rc = KX_ENOMEM;
      break;
    }
    struct status_update *x = &(*out)[(*n)++];
    x->id = db_col_int64(st, 0);
    x->incident_id = db_col_int64(st, 1);
    x->at_ms = db_col_int64(st, 2);
    x->status = db_col_text(st, 3);
    x->body = db_col_text(st, 4);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    status_updates_free(*out, *n);
    *out = NULL;
    *n = 0;
    return rc == KX_ENOMEM ? KX_ENOMEM : db_fail(db, rc, "status_updates_list");
  }
  return 0;
}

int status_incident_ids(struct db *db, size_t limit, int64_t **out, size_t *n)
{
  static const char sql[] =
      "SELECT incident_id FROM (SELECT incident_id FROM status_updates UNION"
      " SELECT incident_id FROM status_components) AS u ORDER BY incident_id DESC LIMIT ?";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, (int64_t)limit);
  size_t cap = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)out, &cap, *n, sizeof(**out))) {
      rc = KX_ENOMEM;
      break;
    }
    (*out)[(*n)++] = db_col_int64(st, 0);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    free(*out);
    *out = NULL;
    *n = 0;
    return rc == KX_ENOMEM ? KX_ENOMEM : db_fail(db, rc, "status_incident_ids");
  }
  return 0;
}

static void read_check(struct db_stmt *st, struct status_check *c)
{
  c->name = db_col_text(st, 0);
  c->up = db_col_int(st, 1);
  c->firing = db_col_int(st, 2);
  c->down_since = db_col_int64(st, 3);
  c->last_at = db_col_int64(st, 4);
  c->last_ms = db_col_double(st, 5);
  c->detail = db_col_text(st, 6);
  c->warn = db_col_text(st, 7);
}

#define CHECK_COLS "name, up, firing, down_since, last_at, last_ms, detail, warn"

int status_check_get(struct db *db, const char *name, struct status_check *out)
{
  static const char sql[] = "SELECT " CHECK_COLS " FROM status_checks WHERE name = ?";
  memset(out, 0, sizeof(*out));
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, name);
  int rc = db_step(st);
  if (rc == DB_ROW)
    read_check(st, out);
  db_reset(st);
  if (rc == DB_ROW)
    return 0;
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, "status_check_get");
}

int status_check_put(struct db *db, const struct status_check *c)
{
  static const char sql[] =
      "INSERT INTO status_checks (" CHECK_COLS
      ") VALUES (?,?,?,?,?,?,?,?)"
      " ON CONFLICT (name) DO UPDATE SET up = excluded.up, firing = excluded.firing,"
      " down_since = excluded.down_since, last_at = excluded.last_at,"
      " last_ms = excluded.last_ms, detail = excluded.detail, warn = excluded.warn";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, c->name);
  db_bind_int64(st, 2, c->up);
  db_bind_int64(st, 3, c->firing);
  db_bind_int64(st, 4, c->down_since);
  db_bind_int64(st, 5, c->last_at);
  db_bind_double(st, 6, c->last_ms);
  db_bind_text(st, 7, c->detail);
  db_bind_text(st, 8, c->warn);
  return db_step_done(db, st, "status_check_put");
}

void status_check_clear(struct status_check *c)
{
  if (!c)
    return;
  free(c->name);
  free(c->detail);
  free(c->warn);
  memset(c, 0, sizeof(*c));
}

void status_checks_free(struct status_check *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    status_check_clear(&v[i]);
  free(v);
}

int status_checks_all(struct db *db, struct status_check **out, size_t *n)
{
  static const char sql[] = "SELECT " CHECK_COLS " FROM status_checks ORDER BY name";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  size_t cap = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)out, &cap, *n, sizeof(**out))) {
      rc = KX_ENOMEM;
      break;
    }
    read_check(st, &(*out)[(*n)++]);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    status_checks_free(*out, *n);
    *out = NULL;
    *n = 0;
    return rc == KX_ENOMEM ? KX_ENOMEM : db_fail(db, rc, "status_checks_all");
  }
  return 0;
}

int status_day_result(struct db *db, const char *component, int64_t day, bool ok)
{
  static const char sql[] =
      "INSERT INTO status_days (component, day, ok, total) VALUES (?1, ?2, ?3, 1)"
      " ON CONFLICT (component, day) DO UPDATE SET ok = status_days.ok + ?3, total = "
      "status_days.total + 1";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, component);
  db_bind_int64(st, 2, day);
  db_bind_int64(st, 3, ok ? 1 : 0);
  return db_step_done(db, st, "status_day_result");
}

int status_day_worst(struct db *db, const char *component, int64_t day, int state)
{
  static const char sql[] =
      "INSERT INTO status_days (component, day, worst) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (component, day) DO UPDATE SET worst = CASE WHEN status_days.worst > ?3"
      " THEN status_days.worst ELSE ?3 END";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, component);
  db_bind_int64(st, 2, day);
  db_bind_int64(st, 3, state);
  return db_step_done(db, st, "status_day_worst");
}

int status_days_list(struct db *db,
                     const char *component,
                     int64_t first,
                     int64_t last,
                     struct status_day **out,
                     size_t *n)
{
  static const char sql[] =
      "SELECT day, ok, total, worst FROM status_days WHERE component = ? AND day BETWEEN ? AND ?"
      " ORDER BY day";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, component);
  db_bind_int64(st, 2, first);
  db_bind_int64(st, 3, last);
  size_t cap = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)out, &cap, *n, sizeof(**out))) {
      rc = KX_ENOMEM;
      break;
    }
    struct status_day *d = &(*out)[(*n)++];
    d->day = db_col_int64(st, 0);
    d->ok = db_col_int64(st, 1);
    d->total = db_col_int64(st, 2);
    d->worst = db_col_int(st, 3);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    free(*out);
    *out = NULL;
    *n = 0;
    return rc == KX_ENOMEM ? KX_ENOMEM : db_fail(db, rc, "status_days_list");
  }
  return 0;
}

int status_window_add(struct db *db, const struct status_window *w, int64_t now_ms, int64_t *id)
{
  static const char sql[] =
      "INSERT INTO status_windows (component, from_ms, to_ms, text, created_by, created_at)"
      " VALUES (?,?,?,?,?,?) ON CONFLICT (component, from_ms, to_ms) DO NOTHING RETURNING id";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, w->component);
  db_bind_int64(st, 2, w->from_ms);
  db_bind_int64(st, 3, w->to_ms);
  db_bind_text(st, 4, w->text);
  db_bind_text(st, 5, w->created_by);
  db_bind_int64(st, 6, now_ms);
  int rc = db_step(st);
  int64_t new_id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  /* With RETURNING, a conflict that did nothing returns no row. */
  if (rc == DB_DONE)
    return KX_EEXISTS;
  if (rc != DB_ROW)
    return db_fail(db, rc, "status_window_add");
  if (id)
    *id = new_id;
  return 0;
}

static void read_window(struct db_stmt *st, struct status_window *w)
{
  w->id = db_col_int64(st, 0);
  w->component = db_col_text(st, 1);
  w->from_ms = db_col_int64(st, 2);
  w->to_ms = db_col_int64(st, 3);
  w->text = db_col_text(st, 4);
  w->created_by = db_col_text(st, 5);
}

void status_window_clear(struct status_window *w)
{
  if (!w)
    return;
  free(w->component);
  free(w->text);
  free(w->created_by);
  memset(w, 0, sizeof(*w));
}

void status_windows_free(struct status_window *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    status_window_clear(&v[i]);
  free(v);
}

int status_windows_list(struct db *db, int64_t since_ms, struct status_window **out, size_t *n)
{
  static const char sql[] =
      "SELECT id, component, from_ms, to_ms, text, created_by FROM status_windows"
      " WHERE to_ms > ? ORDER BY from_ms, id LIMIT 200";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, since_ms);
  size_t cap = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)out, &cap, *n, sizeof(**out))) {
      rc = KX_ENOMEM;
      break;
    }
    read_window(st, &(*out)[(*n)++]);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    status_windows_free(*out, *n);
    *out = NULL;
    *n = 0;
    return rc == KX_ENOMEM ? KX_ENOMEM : db_fail(db, rc, "status_windows_list");
  }
  return 0;
}

int status_window_active(struct db *db,
                         const char *component,
                         int64_t now_ms,
                         struct status_window *out)
{
  static const char sql[] =
      "SELECT id, component, from_ms, to_ms, text, created_by FROM status_windows"
      " WHERE component = ? AND from_ms <= ?2 AND to_ms > ?2 ORDER BY from_ms LIMIT 1";
  memset(out, 0, sizeof(*out));
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, component);
  db_bind_int64(st, 2, now_ms);
  int rc = db_step(st);
  if (rc == DB_ROW)
    read_window(st, out);
  db_reset(st);
  if (rc == DB_ROW)
    return 1;
  return rc == DB_DONE ? 0 : db_fail(db, rc, "status_window_active");
}
