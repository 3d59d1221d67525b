#include "storage/home_views.h"

#include <stdlib.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

/* Migration 2 (issue 16): who has a Home tab, and what it showed last. */
const char home_views_schema_v2[] =
    "CREATE TABLE home_views (user TEXT PRIMARY KEY, hash TEXT NOT NULL DEFAULT '',"
    " opened_at INTEGER NOT NULL, published_at INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;";

int home_views_opened(struct db *db, const char *user, int64_t now_ms)
{
  static const char sql[] =
      "INSERT INTO home_views (\"user\", opened_at) VALUES (?, ?)"
      " ON CONFLICT (\"user\") DO UPDATE SET opened_at = excluded.opened_at";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, user);
  db_bind_int64(st, 2, now_ms);
  return db_step_done(db, st, "home_views_opened");
}

int home_views_list(struct db *db, size_t limit, struct home_view_row **out, size_t *n)
{
  static const char sql[] =
      "SELECT \"user\", hash, opened_at FROM home_views ORDER BY opened_at, \"user\" LIMIT ?";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, (int64_t)limit);
  struct home_view_row *rows = calloc(limit ? limit : 1, sizeof(*rows));
  if (!rows) {
    db_reset(st);
    return KX_ENOMEM;
  }
  size_t k = 0;
  int rc;
  while (k < limit && (rc = db_step(st)) == DB_ROW) {
    rows[k].user = db_col_text(st, 0);
    rows[k].hash = db_col_text(st, 1);
    rows[k].opened_at = db_col_int64(st, 2);
    k++;
  }
  rc = (k == limit || rc == DB_DONE) ? 0 : db_fail(db, rc, "home_views_list");
  db_reset(st);
  if (rc) {
    home_views_free(rows, k);
    return rc;
  }
  *out = rows;
  *n = k;
  return 0;
}

void home_views_free(struct home_view_row *rows, size_t n)
{
  for (size_t i = 0; rows && i < n; i++) {
    free(rows[i].user);
    free(rows[i].hash);
  }
  free(rows);
}

int home_views_published(struct db *db, const char *user, const char *hash, int64_t now_ms)
{
  static const char sql[] =
      "INSERT INTO home_views (\"user\", hash, opened_at, published_at) VALUES (?, ?, ?, ?)"
      " ON CONFLICT (\"user\") DO UPDATE SET hash = excluded.hash,"
      " published_at = excluded.published_at";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, user);
  db_bind_text(st, 2, hash);
  db_bind_int64(st, 3, now_ms);
  db_bind_int64(st, 4, now_ms);
  return db_step_done(db, st, "home_views_published");
}

char *home_views_hash(struct db *db, const char *user)
{
  static const char sql[] = "SELECT hash FROM home_views WHERE \"user\" = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return NULL;
  db_bind_text(st, 1, user);
  char *v = NULL;
  if (db_step(st) == DB_ROW)
    v = db_col_text(st, 0);
  db_reset(st);
  return v;
}
