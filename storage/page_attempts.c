/*
 * page_attempts.c — every attempt to reach a person about a page (issue 11): which of their
 * rules and methods, where to, the provider's id (a Twilio SID), and the delivery state with
 * its times. One row per (page, person, step, rule, method): a rule's method fires once per
 * escalation step, however often a job, a retry or a status callback asks for it.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"
#include "storage/pages.h"

const char page_attempts_schema_v2[] =
    "CREATE TABLE page_attempts ("
    "  id INTEGER PRIMARY KEY,"
    "  page_id INTEGER NOT NULL REFERENCES pages(id),"
    "  person TEXT NOT NULL,"
    "  step INTEGER NOT NULL,"
    "  rule INTEGER NOT NULL,"
    "  via TEXT NOT NULL CHECK (via IN ('chat','email','push','sms','voice','pagerduty')),"
    "  dest TEXT,"
    "  copy_id INTEGER,"
    "  provider_id TEXT,"
    "  state TEXT NOT NULL,"
    "  error TEXT,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  delivered_at INTEGER,"
    "  acked_at INTEGER,"
    "  link_used_at INTEGER,"
    "  UNIQUE (page_id, person, step, rule, via)"
    ");"
    "CREATE INDEX page_attempts_page ON page_attempts(page_id);"
    "CREATE INDEX page_attempts_provider ON page_attempts(provider_id);"
    "CREATE INDEX page_attempts_copy ON page_attempts(copy_id);";

int page_attempts_add(struct db *db, const struct page_attempt_new *a, int64_t *id_out)
{
  static const char sql[] =
      "INSERT INTO page_attempts (page_id, person, step, rule, via, dest, copy_id, state, error,"
      " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
      " ON CONFLICT (page_id, person, step, rule, via) DO NOTHING RETURNING id";
  if (!a->person || !a->via || !a->state)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, a->page_id);
  db_bind_text(st, 2, a->person);
  db_bind_int64(st, 3, a->step);
  db_bind_int64(st, 4, a->rule);
  db_bind_text(st, 5, a->via);
  db_bind_text(st, 6, a->dest);
  if (a->copy_id)
    db_bind_int64(st, 7, a->copy_id);
  else
    db_bind_null(st, 7);
  db_bind_text(st, 8, a->state);
  db_bind_text(st, 9, a->error);
  db_bind_int64(st, 10, a->now_ms);
  db_bind_int64(st, 11, a->now_ms);
  int rc = db_step(st);
  int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  /* With RETURNING, a conflict that did nothing returns no row. */
  if (rc == DB_DONE)
    return KX_EEXISTS;
  if (rc != DB_ROW)
    return db_fail(db, rc, "page_attempts_add");
  if (id_out)
    *id_out = id;
  return 0;
}

#define ATTEMPT_COLUMNS                                                                         \
  "id, page_id, person, step, rule, via, dest, copy_id, provider_id, state, error, created_at," \
  " updated_at, delivered_at, acked_at, link_used_at"

static void read_attempt(struct db_stmt *st, struct page_attempt *a)
{
  a->id = db_col_int64(st, 0);
  a->page_id = db_col_int64(st, 1);
  a->person = db_col_text(st, 2);
  a->step = db_col_int64(st, 3);
  a->rule = (int)db_col_int64(st, 4);
  a->via = db_col_text(st, 5);
  a->dest = db_col_text(st, 6);
  a->copy_id = db_col_int64(st, 7);
  a->provider_id = db_col_text(st, 8);
  a->state = db_col_text(st, 9);
  a->error = db_col_text(st, 10);
  a->created_at = db_col_int64(st, 11);
  a->updated_at = db_col_int64(st, 12);
  a->delivered_at = db_col_int64(st, 13);
  a->acked_at = db_col_int64(st, 14);
  a->link_used_at = db_col_int64(st, 15);
}

void page_attempt_clear(struct page_attempt *a)
{
  if (!a)
    return;
  free(a->person);
  free(a->via);
  free(a->dest);
  free(a->provider_id);
  free(a->state);
  free(a->error);
  memset(a, 0, sizeof(*a));
}

void page_attempts_free(struct page_attempt *a, size_t n)
{
  for (size_t i = 0; a && i < n; i++)
    page_attempt_clear(&a[i]);
  free(a);
}

static int get_one(
    struct db *db, const char *sql, int64_t key, const char *text, struct page_attempt *out)
{
  memset(out, 0, sizeof(*out));
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  if (text)
    db_bind_text(st, 1, text);
  else
    db_bind_int64(st, 1, key);
  int rc = db_step(st);
  if (rc == DB_ROW)
    read_attempt(st, out);
  db_reset(st);
  if (rc == DB_ROW)
    return 0;
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, "page_attempts_get");
}

int page_attempts_get(struct db *db, int64_t id, struct page_attempt *out)
{
  return get_one(db, "SELECT " ATTEMPT_COLUMNS " FROM page_attempts WHERE id = ?", id, NULL, out);
}

int page_attempts_by_copy(struct db *db, int64_t copy_id, struct page_attempt *out)
{
  return get_one(db, "SELECT " ATTEMPT_COLUMNS " FROM page_attempts WHERE copy_id = ?", copy_id,
                 NULL, out);
}

static int list(struct db *db,
                const char *sql,
                int64_t key,
                const char *text,
                struct page_attempt **out,
                size_t *n)
{
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  if (text)
    db_bind_text(st, 1, text);
  else
    db_bind_int64(st, 1, key);
  struct page_attempt *rows = NULL;
  size_t cap = 0, count = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&rows, &cap, count, sizeof(*rows))) {
      db_reset(st);
      page_attempts_free(rows, count);
      return KX_ENOMEM;
    }
    read_attempt(st, &rows[count++]);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    page_attempts_free(rows, count);
    return db_fail(db, rc, "page_attempts_list");
  }
  *out = rows;
  *n = count;
  return 0;
}

int page_attempts_list(struct db *db, int64_t page_id, struct page_attempt **out, size_t *n)
{
  return list(db, "SELECT " ATTEMPT_COLUMNS " FROM page_attempts WHERE page_id = ? ORDER BY id",
              page_id, NULL, out, n);
}

int page_attempts_open_for(struct db *db, const char *person, struct page_attempt **out, size_t *n)
{
  /* The newest attempt per page that is not resolved, newest page first. */
  return list(db,
              "SELECT " ATTEMPT_COLUMNS
              " FROM page_attempts WHERE id IN ("
              " SELECT max(a.id) FROM page_attempts a JOIN pages p ON p.id = a.page_id"
              " WHERE a.person = ? AND p.state <> 'resolved' GROUP BY a.page_id)"
              " ORDER BY page_id DESC",
              0, person, out, n);
}

int page_attempts_set_state(struct db *db,
                            int64_t id,
                            const char *state,
                            const char *provider_id,
                            const char *error,
                            int64_t now_ms)
{
  static const char sql[] =
      "UPDATE page_attempts SET state = ?, provider_id = coalesce(?, provider_id),"
      " error = coalesce(?, error), updated_at = ?,"
      " delivered_at = CASE WHEN delivered_at IS NULL AND ? IN ('delivered','answered')"
      "   THEN ? ELSE delivered_at END"
      " WHERE id = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, state);
  db_bind_text(st, 2, provider_id);
  db_bind_text(st, 3, error);
  db_bind_int64(st, 4, now_ms);
  db_bind_text(st, 5, state);
  db_bind_int64(st, 6, now_ms);
  db_bind_int64(st, 7, id);
  int rc = db_step_done(db, st, "page_attempts_set_state");
  return rc ? rc : db_changes(db) == 1 ? 0 : KX_ENOTFOUND;
}

int page_attempts_acked(struct db *db, int64_t id, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE page_attempts SET acked_at = ? WHERE id = ? AND acked_at IS NULL";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms);
  db_bind_int64(st, 2, id);
  return db_step_done(db, st, "page_attempts_acked");
}

int page_attempts_use_link(struct db *db, int64_t id, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE page_attempts SET link_used_at = ? WHERE id = ? AND link_used_at IS NULL";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms);
  db_bind_int64(st, 2, id);
  int rc = db_step_done(db, st, "page_attempts_use_link");
  return rc ? rc : db_changes(db) == 1 ? 0 : KX_ESTATE;
}

int page_attempts_fired(struct db *db, int64_t page_id, const char *person, int64_t step, int rule)
{
  static const char sql[] =
      "SELECT count(*) FROM page_attempts"
      " WHERE page_id = ? AND person = ? AND step = ? AND rule = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, page_id);
  db_bind_text(st, 2, person);
  db_bind_int64(st, 3, step);
  db_bind_int64(st, 4, rule);
  int rc = db_step(st);
  int64_t c = rc == DB_ROW ? db_col_int64(st, 0) : -1;
  db_reset(st);
  return rc == DB_ROW ? (c > 0) : db_fail(db, rc, "page_attempts_fired");
}
