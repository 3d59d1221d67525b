#include "storage/pages.h"

#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char pages_schema_v1[] =
    "CREATE TABLE pages ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('page','post','test')),"
    "  group_key TEXT,"
    "  rota TEXT, policy TEXT, severity TEXT,"
    "  title TEXT NOT NULL, summary TEXT, labels TEXT NOT NULL DEFAULT '{}', runbook TEXT,"
    "  source TEXT NOT NULL, channel TEXT, target TEXT, created_by TEXT,"
    "  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','acked','resolved')),"
    "  version INTEGER NOT NULL DEFAULT 1,"
    "  created_at INTEGER NOT NULL,"
    "  started_at INTEGER NOT NULL DEFAULT 0,"
    "  anchor_at INTEGER NOT NULL,"
    "  held_until INTEGER NOT NULL DEFAULT 0,"
    "  was_held INTEGER NOT NULL DEFAULT 0,"
    "  acked_at INTEGER, acked_by TEXT,"
    "  resolved_at INTEGER, resolved_by TEXT, reason TEXT,"
    "  next_step INTEGER NOT NULL DEFAULT 0,"
    "  escalations INTEGER NOT NULL DEFAULT 0,"
    "  incident_id INTEGER"
    ");"
    "CREATE UNIQUE INDEX pages_open_group ON pages(group_key)"
    "  WHERE state != 'resolved' AND group_key IS NOT NULL;"
    "CREATE INDEX pages_created ON pages(created_at);"
    "CREATE TABLE page_copies ("
    "  id INTEGER PRIMARY KEY,"
    "  page_id INTEGER NOT NULL REFERENCES pages(id),"
    "  kind TEXT NOT NULL CHECK (kind IN ('dm','channel','email')),"
    "  person TEXT, dest TEXT NOT NULL,"
    "  step INTEGER NOT NULL DEFAULT -1,"
    "  channel TEXT, ts TEXT,"
    "  version INTEGER NOT NULL DEFAULT 0,"
    "  updating INTEGER NOT NULL DEFAULT 0,"
    "  after_hours INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX page_copies_page ON page_copies(page_id);"
    "CREATE INDEX page_copies_msg ON page_copies(channel, ts);";

static const char *const STATES[] = {"open", "acked", "resolved"};

static enum page_state state_of(const char *s)
{
  for (int i = 0; i < 3; i++)
    if (s && strcmp(s, STATES[i]) == 0)
      return (enum page_state)i;
  return PAGE_OPEN;
}

int pages_add(struct db *db, const struct page_row *p, int64_t *id_out)
{
  static const char sql[] =
      "INSERT INTO pages (kind, group_key, rota, policy, severity, title, summary, labels, runbook,"
      " source, channel, target, created_by, created_at, started_at, anchor_at, held_until,"
      " was_held, next_step) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
      " ON CONFLICT (group_key) WHERE state != 'resolved' AND group_key IS NOT NULL DO NOTHING"
      " RETURNING id";
  if (!p->kind || !p->title || !p->source)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, p->kind);
  db_bind_text(st, 2, p->group_key);
  db_bind_text(st, 3, p->rota);
  db_bind_text(st, 4, p->policy);
  db_bind_text(st, 5, p->severity);
  db_bind_text(st, 6, p->title);
  db_bind_text(st, 7, p->summary);
  db_bind_text(st, 8, p->labels ? p->labels : "{}");
  db_bind_text(st, 9, p->runbook);
  db_bind_text(st, 10, p->source);
  db_bind_text(st, 11, p->channel);
  db_bind_text(st, 12, p->target);
  db_bind_text(st, 13, p->created_by);
  db_bind_int64(st, 14, p->created_at);
  db_bind_int64(st, 15, p->started_at);
  db_bind_int64(st, 16, p->anchor_at);
  db_bind_int64(st, 17, p->held_until);
  db_bind_int64(st, 18, p->held_until ? 1 : 0);
  db_bind_int64(st, 19, p->next_step);
  int rc = db_step(st);
  int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  if (rc == DB_DONE) {
    /* The group has an open page already: another instance opened it after this one looked
     * (PostgreSQL waits for that insert's commit, then reports the conflict). */
    int64_t open_id = 0;
    rc = pages_find_open(db, p->group_key, &open_id);
    if (rc == 0 && id_out)
      *id_out = open_id;
    /* Not found: that page was resolved in between too; the caller's sender retries. */
    return rc == 0 ? KX_EEXISTS : rc == KX_ENOTFOUND ? KX_ERETRY : rc;
  }
  if (rc != DB_ROW)
    return db_fail(db, rc, "pages_add");
  if (id_out)
    *id_out = id;
  return 0;
}

#define PAGE_COLUMNS                                                                             \
  "id, kind, group_key, rota, policy, severity, title, summary, labels, runbook, source,"        \
  " channel, target, created_by, state, version, created_at, started_at, anchor_at,"             \
  " held_until, coalesce(acked_at, 0), acked_by, coalesce(resolved_at, 0), resolved_by, reason," \
  " next_step, escalations, coalesce(incident_id, 0)"

static void read_page(struct db_stmt *st, struct page_row *p)
{
  p->id = db_col_int64(st, 0);
  p->kind = db_col_text(st, 1);
  p->group_key = db_col_text(st, 2);
  p->rota = db_col_text(st, 3);
  p->policy = db_col_text(st, 4);
  p->severity = db_col_text(st, 5);
  p->title = db_col_text(st, 6);
  p->summary = db_col_text(st, 7);
  p->labels = db_col_text(st, 8);
  p->runbook = db_col_text(st, 9);
  p->source = db_col_text(st, 10);
  p->channel = db_col_text(st, 11);
  p->target = db_col_text(st, 12);
  p->created_by = db_col_text(st, 13);
  p->state = state_of(db_col_text_ref(st, 14));
  p->version = db_col_int64(st, 15);
  p->created_at = db_col_int64(st, 16);
  p->started_at = db_col_int64(st, 17);
  p->anchor_at = db_col_int64(st, 18);
  p->held_until = db_col_int64(st, 19);
  p->acked_at = db_col_int64(st, 20);
  p->acked_by = db_col_text(st, 21);
  p->resolved_at = db_col_int64(st, 22);
  p->resolved_by = db_col_text(st, 23);
  p->reason = db_col_text(st, 24);
  p->next_step = db_col_int64(st, 25);
  p->escalations = db_col_int64(st, 26);
  p->incident_id = db_col_int64(st, 27);
}

void page_row_clear(struct page_row *p)
{
  if (!p)
    return;
  char **strs[] = {&p->kind,       &p->group_key, &p->rota,        &p->policy,
                   &p->severity,   &p->title,     &p->summary,     &p->labels,
                   &p->runbook,    &p->source,    &p->channel,     &p->target,
                   &p->created_by, &p->acked_by,  &p->resolved_by, &p->reason};
  for (size_t i = 0; i < KX_ARRAY_SIZE(strs); i++)
    free(*strs[i]);
  memset(p, 0, sizeof(*p));
}

int pages_get(struct db *db, int64_t id, struct page_row *out)
{
  static const char sql[] = "SELECT " PAGE_COLUMNS " FROM pages WHERE id = ?";
  memset(out, 0, sizeof(*out));
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, id);
  int rc = db_step(st);
  if (rc == DB_ROW)
    read_page(st, out);
  db_reset(st);
  if (rc == DB_ROW)
    return 0;
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, "pages_get");
}

int pages_find_open(struct db *db, const char *group_key, int64_t *id_out)
{
  static const char sql[] =
      "SELECT id FROM pages WHERE group_key = ? AND state != 'resolved' AND group_key IS NOT NULL";
  if (!group_key)
    return KX_ENOTFOUND;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, group_key);
  int rc = db_step(st);
  if (rc == DB_ROW)
    *id_out = db_col_int64(st, 0);
  db_reset(st);
  if (rc == DB_ROW)
    return 0;
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, "pages_find_open");
}

int pages_list_open(struct db *db, size_t limit, struct page_row **out, size_t *n)
{
  static const char sql[] = "SELECT " PAGE_COLUMNS
                            " FROM pages WHERE state != 'resolved' AND kind != 'post'"
                            " ORDER BY id DESC LIMIT ?";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, (int64_t)limit);
  struct page_row *rows = NULL;
  size_t cap = 0, count = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&rows, &cap, count, sizeof(*rows))) {
      db_reset(st);
      pages_free(rows, count);
      return KX_ENOMEM;
    }
    read_page(st, &rows[count++]);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    pages_free(rows, count);
    return db_fail(db, rc, "pages_list_open");
  }
  *out = rows;
  *n = count;
  return 0;
}

int pages_list_created(
    struct db *db, int64_t from_ms, int64_t to_ms, size_t limit, struct page_row **out, size_t *n)
{
  static const char sql[] = "SELECT " PAGE_COLUMNS
                            " FROM pages WHERE kind = 'page' AND created_at >= ? AND created_at < ?"
                            " ORDER BY id LIMIT ?";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, from_ms);
  db_bind_int64(st, 2, to_ms);
  db_bind_int64(st, 3, (int64_t)limit);
  struct page_row *rows = NULL;
  size_t cap = 0, count = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&rows, &cap, count, sizeof(*rows))) {
      db_reset(st);
      pages_free(rows, count);
      return KX_ENOMEM;
    }
    read_page(st, &rows[count++]);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    pages_free(rows, count);
    return db_fail(db, rc, "pages_list_created");
  }
  *out = rows;
  *n = count;
  return 0;
}

void pages_free(struct page_row *rows, size_t n)
{
  for (size_t i = 0; rows && i < n; i++)
    page_row_clear(&rows[i]);
  free(rows);
}

/* Run an UPDATE bound by `bind`; KX_ENOTFOUND/KX_ESTATE when it changed nothing. */
static int changed(struct db *db, struct db_stmt *st, const char *what, int64_t id)
{
  int rc = db_step_done(db, st, what);
  if (rc)
    return rc;
  if (db_changes(db) > 0)
    return 0;
  struct page_row p;
  rc = pages_get(db, id, &p);
  page_row_clear(&p);
  return rc == 0 ? KX_ESTATE : rc;
}

int pages_ack(struct db *db, int64_t id, const char *who, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE pages SET state = 'acked', acked_at = ?, acked_by = ?, version = version + 1"
      " WHERE id = ? AND state = 'open'";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms);
  db_bind_text(st, 2, who);
  db_bind_int64(st, 3, id);
  return changed(db, st, "pages_ack", id);
}

int pages_resolve(struct db *db, int64_t id, const char *who, const char *reason, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE pages SET state = 'resolved', resolved_at = ?, resolved_by = ?, reason = ?,"
      " held_until = 0, version = version + 1 WHERE id = ? AND state != 'resolved'";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms);
  db_bind_text(st, 2, who);
  db_bind_text(st, 3, reason);
  db_bind_int64(st, 4, id);
  return changed(db, st, "pages_resolve", id);
}

int pages_set_reason(struct db *db, int64_t id, const char *reason)
{
  static const char sql[] =
      "UPDATE pages SET reason = ?, version = version + 1 WHERE id = ? AND state = 'resolved'";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, reason);
  db_bind_int64(st, 2, id);
  return changed(db, st, "pages_set_reason", id);
}

int pages_bump(struct db *db, int64_t id)
{
  static const char sql[] = "UPDATE pages SET version = version + 1 WHERE id = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, id);
  return db_step_done(db, st, "pages_bump");
}

int pages_set_step(struct db *db, int64_t id, int64_t next_step, bool escalated)
{
  static const char sql[] =
      "UPDATE pages SET next_step = ?, escalations = escalations + ?, version = version + 1"
      " WHERE id = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, next_step);
  db_bind_int64(st, 2, escalated ? 1 : 0);
  db_bind_int64(st, 3, id);
  return db_step_done(db, st, "pages_set_step");
}

int pages_release(struct db *db, int64_t id, int64_t anchor_ms)
{
  static const char sql[] =
      "UPDATE pages SET held_until = 0, anchor_at = ?, version = version + 1"
      " WHERE id = ? AND held_until != 0 AND state != 'resolved'";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, anchor_ms);
  db_bind_int64(st, 2, id);
  return changed(db, st, "pages_release", id);
}

int pages_set_incident(struct db *db, int64_t id, int64_t incident_id)
{
  static const char sql[] =
      "UPDATE pages SET incident_id = ?, version = version + 1 WHERE id = ? AND incident_id IS "
      "NULL";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_int64(st, 2, id);
  return changed(db, st, "pages_set_incident", id);
}
