/* page_copies.c — every copy of a page that was sent (a DM, a channel post, an email) and its
 * state; the aggregate is described in pages.h. */
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"
#include "storage/pages.h"

/* ---- copies -------------------------------------------------------------------------------- */

int page_copies_add(struct db *db, const struct page_copy_new *c, int64_t *id_out)
{
  static const char sql[] =
      "INSERT INTO page_copies (page_id, kind, person, dest, step, version, after_hours,"
      " created_at) VALUES (?,?,?,?,?,?,?,?) RETURNING id";
  if (!c->kind || !c->dest)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, c->page_id);
  db_bind_text(st, 2, c->kind);
  db_bind_text(st, 3, c->person);
  db_bind_text(st, 4, c->dest);
  db_bind_int64(st, 5, c->step);
  db_bind_int64(st, 6, c->version);
  db_bind_int64(st, 7, c->after_hours ? 1 : 0);
  db_bind_int64(st, 8, c->now_ms);
  int rc = db_step(st);
  int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  if (rc != DB_ROW)
    return db_fail(db, rc, "page_copies_add");
  if (id_out)
    *id_out = id;
  return 0;
}

#define COPY_COLUMNS                                                                           \
  "id, page_id, kind, person, dest, step, channel, ts, version, updating, after_hours, error," \
  " created_at"

static void read_copy(struct db_stmt *st, struct page_copy *c)
{
  c->id = db_col_int64(st, 0);
  c->page_id = db_col_int64(st, 1);
  c->kind = db_col_text(st, 2);
  c->person = db_col_text(st, 3);
  c->dest = db_col_text(st, 4);
  c->step = db_col_int64(st, 5);
  c->channel = db_col_text(st, 6);
  c->ts = db_col_text(st, 7);
  c->version = db_col_int64(st, 8);
  c->updating = db_col_int(st, 9) != 0;
  c->after_hours = db_col_int(st, 10) != 0;
  c->error = db_col_text(st, 11);
  c->created_at = db_col_int64(st, 12);
}

void page_copy_clear(struct page_copy *c)
{
  if (!c)
    return;
  free(c->kind);
  free(c->person);
  free(c->dest);
  free(c->channel);
  free(c->ts);
  free(c->error);
  memset(c, 0, sizeof(*c));
}

void page_copies_free(struct page_copy *c, size_t n)
{
  for (size_t i = 0; c && i < n; i++)
    page_copy_clear(&c[i]);
  free(c);
}

int page_copies_get(struct db *db, int64_t id, struct page_copy *out)
{
  static const char sql[] = "SELECT " COPY_COLUMNS " FROM page_copies WHERE id = ?";
  memset(out, 0, sizeof(*out));
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, id);
  int rc = db_step(st);
  if (rc == DB_ROW)
    read_copy(st, out);
  db_reset(st);
  if (rc == DB_ROW)
    return 0;
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, "page_copies_get");
}

int page_copies_list(struct db *db, int64_t page_id, struct page_copy **out, size_t *n)
{
  static const char sql[] =
      "SELECT " COPY_COLUMNS " FROM page_copies WHERE page_id = ? ORDER BY id";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, page_id);
  struct page_copy *rows = NULL;
  size_t cap = 0, count = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&rows, &cap, count, sizeof(*rows))) {
      db_reset(st);
      page_copies_free(rows, count);
      return KX_ENOMEM;
    }
    read_copy(st, &rows[count++]);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    page_copies_free(rows, count);
    return db_fail(db, rc, "page_copies_list");
  }
  *out = rows;
  *n = count;
  return 0;
}

int page_copies_posted(
    struct db *db, int64_t id, const char *channel, const char *ts, int64_t version)
{
  static const char sql[] =
      "UPDATE page_copies SET channel = ?, ts = ?, version = ?, error = NULL WHERE id = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, channel);
  db_bind_text(st, 2, ts);
  db_bind_int64(st, 3, version);
  db_bind_int64(st, 4, id);
  return db_step_done(db, st, "page_copies_posted");
}

int page_copies_failed(struct db *db, int64_t id, const char *error)
{
  static const char sql[] = "UPDATE page_copies SET error = ?, updating = 0 WHERE id = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, error);
  db_bind_int64(st, 2, id);
  return db_step_done(db, st, "page_copies_failed");
}

int page_copies_updating(struct db *db, int64_t id, bool updating, int64_t version)
{
  static const char sql[] = "UPDATE page_copies SET updating = ?, version = ? WHERE id = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, updating ? 1 : 0);
  db_bind_int64(st, 2, version);
  db_bind_int64(st, 3, id);
  return db_step_done(db, st, "page_copies_updating");
}

int page_copies_has_person(
    struct db *db, int64_t page_id, const char *person, int64_t from, int64_t to)
{
  static const char sql[] =
      "SELECT 1 FROM page_copies WHERE page_id = ?1 AND person = ?2 AND kind != 'channel'"
      " AND step BETWEEN ?3 AND ?4"
      " UNION ALL SELECT 1 FROM page_attempts WHERE page_id = ?1 AND person = ?2"
      " AND step BETWEEN ?3 AND ?4 LIMIT 1";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, page_id);
  db_bind_text(st, 2, person);
  db_bind_int64(st, 3, from);
  db_bind_int64(st, 4, to);
  int rc = db_step(st);
  db_reset(st);
  if (rc == DB_ROW)
    return 1;
  return rc == DB_DONE ? 0 : db_fail(db, rc, "page_copies_has_person");
}
