/* report_queries.c — see report_queries.h. */
#include "storage/report_queries.h"

#include <stdlib.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

int report_pages_by(struct db *db,
                    enum report_page_by by,
                    int64_t from_ms,
                    int64_t to_ms,
                    size_t limit,
                    struct report_page_row **out,
                    size_t *n)
{
#define REPORT_PAGE_COLUMNS                                                                     \
  " count(*), count(*) FILTER (WHERE acked_at IS NOT NULL),"                                    \
  " coalesce(sum(CASE WHEN acked_at IS NOT NULL THEN acked_at - created_at END), 0),"           \
  " count(*) FILTER (WHERE reason IN ('fixed','false_positive','duplicate','not_actionable'))," \
  " count(*) FILTER (WHERE reason = 'false_positive')"                                          \
  " FROM pages WHERE kind = 'page' AND created_at >= ?1 AND created_at < ?2 GROUP BY 1"
  static const char by_severity[] =
      "SELECT coalesce(severity, '-')," REPORT_PAGE_COLUMNS " ORDER BY 1 LIMIT ?3";
  static const char by_alert[] =
      "SELECT coalesce(title, '-')," REPORT_PAGE_COLUMNS " ORDER BY 2 DESC, 1 LIMIT ?3";
#undef REPORT_PAGE_COLUMNS
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, by == REPORT_PAGES_SEVERITY ? by_severity : by_alert);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, from_ms);
  db_bind_int64(st, 2, to_ms);
  db_bind_int64(st, 3, limit ? (int64_t)limit : INT64_MAX);
  struct report_page_row *rows = NULL;
  size_t cap = 0, count = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&rows, &cap, count, sizeof(*rows))) {
      db_reset(st);
      report_rows_free(rows, count);
      return KX_ENOMEM;
    }
    struct report_page_row *r = &rows[count++];
    r->name = db_col_text(st, 0);
    r->pages = db_col_int64(st, 1);
    r->acked = db_col_int64(st, 2);
    r->ack_ms_sum = db_col_int64(st, 3);
    r->with_reason = db_col_int64(st, 4);
    r->false_positive = db_col_int64(st, 5);
    if (!r->name) {
      db_reset(st);
      report_rows_free(rows, count);
      return KX_ENOMEM;
    }
  }
  db_reset(st);
  if (rc != DB_DONE) {
    report_rows_free(rows, count);
    return db_fail(db, rc, "report_pages_by");
  }
  *out = rows;
  *n = count;
  return 0;
}

void report_rows_free(struct report_page_row *rows, size_t n)
{
  for (size_t i = 0; rows && i < n; i++)
    free(rows[i].name);
  free(rows);
}

int report_actions(struct db *db,
                   int64_t from_ms,
                   int64_t to_ms,
                   int64_t due_ms,
                   int64_t *opened,
                   int64_t *done,
                   int64_t *overdue)
{
  static const char sql[] =
      "SELECT count(*) FILTER (WHERE a.created_at >= ?1 AND a.created_at < ?2),"
      " count(*) FILTER (WHERE a.done_at >= ?1 AND a.done_at < ?2 AND a.done_at > 0),"
      " count(*) FILTER (WHERE a.created_at + ?3 < ?2 AND (a.done_at = 0 OR a.done_at >= ?2))"
      " FROM incident_actions a JOIN incidents i ON i.id = a.incident_id"
      " WHERE i.drill = 0 AND a.created_at < ?2";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, from_ms);
  db_bind_int64(st, 2, to_ms);
  db_bind_int64(st, 3, due_ms);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    *opened = db_col_int64(st, 0);
    *done = db_col_int64(st, 1);
    *overdue = db_col_int64(st, 2);
  }
  db_reset(st);
  return rc == DB_ROW ? 0 : db_fail(db, rc, "report_actions");
}
