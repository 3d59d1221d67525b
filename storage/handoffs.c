#include "storage/handoffs.h"

#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char handoffs_schema_v1[] =
    "CREATE TABLE handoffs ("
    "  id INTEGER PRIMARY KEY,"
    "  rota TEXT NOT NULL,"
    "  shift_index INTEGER NOT NULL,"
    "  due_at INTEGER NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('posted','missed')),"
    "  late INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  out_primary TEXT, out_secondary TEXT,"
    "  in_primary TEXT, in_secondary TEXT, in_shadow TEXT, manager TEXT,"
    "  checklist TEXT,"
    "  channel TEXT, ts TEXT,"
    "  acked_at INTEGER NOT NULL DEFAULT 0,"
    "  acked_by TEXT,"
    "  manager_told_at INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (rota, shift_index)"
    ");"
    "CREATE INDEX handoffs_message ON handoffs(channel, ts);";

#define COLUMNS                                                                         \
  "id, rota, shift_index, due_at, state, late, created_at, out_primary, out_secondary," \
  " in_primary, in_secondary, in_shadow, manager, channel, ts, acked_at, acked_by,"     \
  " manager_told_at, checklist"

int handoffs_add(struct db *db, const struct handoff_new *h, int64_t *id_out)
{
  static const char sql[] =
      "INSERT INTO handoffs (rota, shift_index, due_at, state, late, created_at, out_primary,"
      " out_secondary, in_primary, in_secondary, in_shadow, manager, checklist)"
      " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (rota, shift_index) DO NOTHING"
      " RETURNING id";
  if (!h->rota || h->shift_index < 0)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, h->rota);
  db_bind_int64(st, 2, h->shift_index);
  db_bind_int64(st, 3, h->due_at);
  db_bind_text(st, 4, h->state == HANDOFF_MISSED ? "missed" : "posted");
  db_bind_int64(st, 5, h->late ? 1 : 0);
  db_bind_int64(st, 6, h->now_ms);
  db_bind_text(st, 7, h->out_primary);
  db_bind_text(st, 8, h->out_secondary);
  db_bind_text(st, 9, h->in_primary);
  db_bind_text(st, 10, h->in_secondary);
  db_bind_text(st, 11, h->in_shadow);
  db_bind_text(st, 12, h->manager);
  db_bind_text(st, 13, h->checklist);
  int rc = db_step(st);
  int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  /* With RETURNING, a conflict that did nothing returns no row. */
  if (rc == DB_DONE)
    return KX_EEXISTS;
  if (rc != DB_ROW)
    return db_fail(db, rc, "handoffs_add");
  if (id_out)
    *id_out = id;
  return 0;
}

static void read_row(struct db_stmt *st, struct handoff_row *h)
{
  memset(h, 0, sizeof(*h));
  h->id = db_col_int64(st, 0);
  h->rota = db_col_text(st, 1);
  h->shift_index = db_col_int64(st, 2);
  h->due_at = db_col_int64(st, 3);
  const char *state = db_col_text_ref(st, 4);
  h->state = state && strcmp(state, "missed") == 0 ? HANDOFF_MISSED : HANDOFF_POSTED;
  h->late = db_col_int(st, 5) != 0;
  h->created_at = db_col_int64(st, 6);
  h->out_primary = db_col_text(st, 7);
  h->out_secondary = db_col_text(st, 8);
  h->in_primary = db_col_text(st, 9);
  h->in_secondary = db_col_text(st, 10);
  h->in_shadow = db_col_text(st, 11);
  h->manager = db_col_text(st, 12);
  h->channel = db_col_text(st, 13);
  h->ts = db_col_text(st, 14);
  h->acked_at = db_col_int64(st, 15);
  h->acked_by = db_col_text(st, 16);
  h->manager_told_at = db_col_int64(st, 17);
  h->checklist = db_col_text(st, 18);
}

/* Step a bound SELECT of at most one row into out. */
static int one_row(struct db *db, struct db_stmt *st, struct handoff_row *out, const char *what)
{
  memset(out, 0, sizeof(*out));
  int rc = db_step(st);
  if (rc == DB_ROW) {
    read_row(st, out);
    db_reset(st);
    return out->rota ? 0 : KX_ENOMEM;
  }
  db_reset(st);
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, what);
}

int handoffs_get(struct db *db, int64_t id, struct handoff_row *out)
{
  memset(out, 0, sizeof(*out));
  static const char sql[] = "SELECT " COLUMNS " FROM handoffs WHERE id = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, id);
  return one_row(db, st, out, "handoffs_get");
}

int handoffs_by_shift(struct db *db, const char *rota, int64_t shift_index, struct handoff_row *out)
{
  memset(out, 0, sizeof(*out));
  static const char sql[] = "SELECT " COLUMNS " FROM handoffs WHERE rota = ? AND shift_index = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, rota);
  db_bind_int64(st, 2, shift_index);
  return one_row(db, st, out, "handoffs_by_shift");
}

int handoffs_by_message(struct db *db, const char *channel, const char *ts, struct handoff_row *out)
{
  static const char sql[] = "SELECT " COLUMNS " FROM handoffs WHERE channel = ? AND ts = ?";
  if (!channel || !ts) {
    memset(out, 0, sizeof(*out));
    return KX_ENOTFOUND;
  }
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, channel);
  db_bind_text(st, 2, ts);
  return one_row(db, st, out, "handoffs_by_message");
}

int handoffs_last(struct db *db, const char *rota, struct handoff_row *out)
{
  memset(out, 0, sizeof(*out));
  static const char sql[] = "SELECT " COLUMNS
                            " FROM handoffs WHERE rota = ? AND state = 'posted'"
                            " ORDER BY shift_index DESC LIMIT 1";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, rota);
  return one_row(db, st, out, "handoffs_last");
}

int handoffs_set_message(struct db *db, int64_t id, const char *channel, const char *ts)
{
  static const char sql[] = "UPDATE handoffs SET channel = ?, ts = ? WHERE id = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, channel);
  db_bind_text(st, 2, ts);
  db_bind_int64(st, 3, id);
  int rc = db_step_done(db, st, "handoffs_set_message");
  return rc ? rc : (db_changes(db) ? 0 : KX_ENOTFOUND);
}

int handoffs_ack(struct db *db, int64_t id, const char *who, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE handoffs SET acked_at = ?, acked_by = ? WHERE id = ? AND acked_at = 0";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms > 0 ? now_ms : 1);
  db_bind_text(st, 2, who);
  db_bind_int64(st, 3, id);
  int rc = db_step_done(db, st, "handoffs_ack");
  if (rc)
    return rc;
  if (db_changes(db))
    return 0;
  struct handoff_row h;
  rc = handoffs_get(db, id, &h);
  handoff_row_clear(&h);
  return rc ? rc : KX_ESTATE;
}

int handoffs_manager_told(struct db *db, int64_t id, int64_t now_ms)
{
  static const char sql[] = "UPDATE handoffs SET manager_told_at = ? WHERE id = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms > 0 ? now_ms : 1);
  db_bind_int64(st, 2, id);
  int rc = db_step_done(db, st, "handoffs_manager_told");
  return rc ? rc : (db_changes(db) ? 0 : KX_ENOTFOUND);
}

void handoff_row_clear(struct handoff_row *h)
{
  if (!h)
    return;
  free(h->rota);
  free(h->out_primary);
  free(h->out_secondary);
  free(h->in_primary);
  free(h->in_secondary);
  free(h->in_shadow);
  free(h->manager);
  free(h->channel);
  free(h->ts);
  free(h->acked_by);
  free(h->checklist);
  memset(h, 0, sizeof(*h));
}

int handoffs_totals(struct db *db, struct handoff_totals **out, size_t *n)
{
  static const char sql[] =
      "SELECT rota, count(*) FILTER (WHERE state = 'posted' AND late = 0),"
      " count(*) FILTER (WHERE state = 'posted' AND late = 1),"
      " count(*) FILTER (WHERE state = 'missed'), count(*) FILTER (WHERE acked_at > 0),"
      " count(*) FILTER (WHERE manager_told_at > 0)"
      " FROM handoffs GROUP BY rota ORDER BY rota";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  struct handoff_totals *t = NULL;
  size_t count = 0, cap = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&t, &cap, count, sizeof(*t))) {
      db_reset(st);
      handoff_totals_free(t, count);
      return KX_ENOMEM;
    }
    struct handoff_totals *x = &t[count++];
    x->rota = db_col_text(st, 0);
    x->on_time = db_col_int64(st, 1);
    x->late = db_col_int64(st, 2);
    x->missed = db_col_int64(st, 3);
    x->taken = db_col_int64(st, 4);
    x->told = db_col_int64(st, 5);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    handoff_totals_free(t, count);
    return db_fail(db, rc, "handoffs_totals");
  }
  *out = t;
  *n = count;
  return 0;
}

void handoff_totals_free(struct handoff_totals *t, size_t n)
{
  for (size_t i = 0; t && i < n; i++)
    free(t[i].rota);
  free(t);
}
