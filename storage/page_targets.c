/* page_targets.c — the rows the severities' acknowledge targets are measured on (see
 * page_targets.h). */
#include "storage/page_targets.h"

#include <stdlib.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

int pages_target_rows(
    struct db *db, int64_t from_ms, int64_t to_ms, struct page_target_row **out, size_t *n)
{
  static const char sql[] =
      "SELECT id, kind, severity, anchor_at, coalesce(acked_at, 0), coalesce(resolved_at, 0)"
      " FROM pages WHERE kind IN ('page', 'post') AND severity IS NOT NULL"
      " AND created_at >= ? AND created_at < ? ORDER BY id";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, from_ms);
  db_bind_int64(st, 2, to_ms);
  struct page_target_row *rows = NULL;
  size_t cap = 0, count = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&rows, &cap, count, sizeof(*rows))) {
      db_reset(st);
      page_target_rows_free(rows, count);
      return KX_ENOMEM;
    }
    struct page_target_row *r = &rows[count++];
    r->id = db_col_int64(st, 0);
    r->kind = db_col_text(st, 1);
    r->severity = db_col_text(st, 2);
    r->anchor_at = db_col_int64(st, 3);
    r->acked_at = db_col_int64(st, 4);
    r->resolved_at = db_col_int64(st, 5);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    page_target_rows_free(rows, count);
    return db_fail(db, rc, "pages_target_rows");
  }
  *out = rows;
  *n = count;
  return 0;
}

void page_target_rows_free(struct page_target_row *rows, size_t n)
{
  for (size_t i = 0; rows && i < n; i++) {
    free(rows[i].kind);
    free(rows[i].severity);
  }
  free(rows);
}

int pages_of_incident(struct db *db, int64_t incident_id, int64_t **ids, size_t *n)
{
  static const char sql[] =
      "SELECT id FROM pages WHERE incident_id = ? AND source = 'incident'"
      " AND state != 'resolved' ORDER BY id";
  *ids = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  int64_t *rows = NULL;
  size_t cap = 0, count = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&rows, &cap, count, sizeof(*rows))) {
      db_reset(st);
      free(rows);
      return KX_ENOMEM;
    }
    rows[count++] = db_col_int64(st, 0);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    free(rows);
    return db_fail(db, rc, "pages_of_incident");
  }
  *ids = rows;
  *n = count;
  return 0;
}
