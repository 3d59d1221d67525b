/* page_stats.c — the numbers over pages (counts, acknowledgement times, per rota) that stats,
 * /metrics and the reports read; the aggregate is described in pages.h. */
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"
#include "storage/pages.h"

/* ---- numbers ------------------------------------------------------------------------------- */

int pages_stats(struct db *db, int64_t from_ms, int64_t to_ms, struct page_stats *out)
{
  static const char sql[] =
      "SELECT count(*),"
      " count(*) FILTER (WHERE acked_at IS NOT NULL),"
      " coalesce(sum(CASE WHEN acked_at IS NOT NULL THEN acked_at - created_at END), 0),"
      " count(*) FILTER (WHERE resolved_at IS NOT NULL),"
      " coalesce(sum(CASE WHEN resolved_at IS NOT NULL THEN resolved_at - created_at END), 0),"
      " count(*) FILTER (WHERE escalations > 0), coalesce(sum(escalations), 0),"
      " count(*) FILTER (WHERE reason IN ('fixed','false_positive','duplicate','not_actionable')),"
      " count(*) FILTER (WHERE reason = 'false_positive'),"
      " coalesce(sum(was_held), 0),"
      " (SELECT count(*) FROM page_attempts a JOIN pages q ON q.id = a.page_id"
      "  WHERE q.kind = 'page' AND q.created_at >= ?1 AND q.created_at < ?2)"
      " FROM pages WHERE kind = 'page' AND created_at >= ?1 AND created_at < ?2";
  memset(out, 0, sizeof(*out));
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, from_ms);
  db_bind_int64(st, 2, to_ms);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    int64_t *f[] = {&out->pages,          &out->acked,     &out->ack_ms_sum,  &out->resolved,
                    &out->resolve_ms_sum, &out->escalated, &out->escalations, &out->with_reason,
                    &out->false_positive, &out->held,      &out->attempts};
    for (int i = 0; i < (int)KX_ARRAY_SIZE(f); i++)
      *f[i] = db_col_int64(st, i);
  }
  db_reset(st);
  return rc == DB_ROW ? 0 : db_fail(db, rc, "pages_stats");
}

int pages_count_by(struct db *db,
                   enum page_count_by by,
                   int64_t from_ms,
                   int64_t to_ms,
                   struct page_count **out,
                   size_t *n)
{
  static const char by_rota[] =
      /* Per rota a page counts once, however many people it reached (per person each
       * delivery counts: that is what each person lived through). */
      "SELECT coalesce(p.rota, '-'), count(DISTINCT p.id),"
      " count(DISTINCT CASE WHEN c.after_hours <> 0 THEN p.id END)"
      " FROM page_copies c JOIN pages p ON p.id = c.page_id"
      " WHERE p.kind = 'page' AND c.kind != 'channel' AND c.created_at >= ? AND c.created_at < ?"
      " GROUP BY 1 ORDER BY 2 DESC, 1";
  static const char by_person[] =
      "SELECT coalesce(c.person, c.dest), count(*), coalesce(sum(c.after_hours), 0)"
      " FROM page_copies c JOIN pages p ON p.id = c.page_id"
      " WHERE p.kind = 'page' AND c.kind != 'channel' AND c.created_at >= ? AND c.created_at < ?"
      " GROUP BY 1 ORDER BY 2 DESC, 1";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, by == PAGE_COUNT_ROTA ? by_rota : by_person);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, from_ms);
  db_bind_int64(st, 2, to_ms);
  struct page_count *rows = NULL;
  size_t cap = 0, count = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&rows, &cap, count, sizeof(*rows))) {
      db_reset(st);
      page_counts_free(rows, count);
      return KX_ENOMEM;
    }
    struct page_count *c = &rows[count++];
    c->name = db_col_text(st, 0);
    c->total = db_col_int64(st, 1);
    c->after_hours = db_col_int64(st, 2);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    page_counts_free(rows, count);
    return db_fail(db, rc, "pages_count_by");
  }
  *out = rows;
  *n = count;
  return 0;
}

void page_counts_free(struct page_count *c, size_t n)
{
  for (size_t i = 0; c && i < n; i++)
    free(c[i].name);
  free(c);
}

int pages_rota_totals(struct db *db, struct page_rota_totals **out, size_t *n)
{
  static const char sql[] =
      "SELECT coalesce(rota, ''), count(*), count(*) FILTER (WHERE acked_at IS NOT NULL),"
      " count(*) FILTER (WHERE resolved_at IS NOT NULL), count(*) FILTER (WHERE escalations > 0)"
      " FROM pages WHERE kind = 'page' GROUP BY 1 ORDER BY 1";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  struct page_rota_totals *rows = NULL;
  size_t cap = 0, count = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&rows, &cap, count, sizeof(*rows))) {
      db_reset(st);
      page_rota_totals_free(rows, count);
      return KX_ENOMEM;
    }
    struct page_rota_totals *t = &rows[count++];
    t->rota = db_col_text(st, 0);
    t->created = db_col_int64(st, 1);
    t->acked = db_col_int64(st, 2);
    t->resolved = db_col_int64(st, 3);
    t->escalated = db_col_int64(st, 4);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    page_rota_totals_free(rows, count);
    return db_fail(db, rc, "pages_rota_totals");
  }
  *out = rows;
  *n = count;
  return 0;
}

void page_rota_totals_free(struct page_rota_totals *t, size_t n)
{
  for (size_t i = 0; t && i < n; i++)
    free(t[i].rota);
  free(t);
}

int pages_ack_durations(struct db *db, int64_t **out, size_t *n)
{
  static const char sql[] =
      "SELECT acked_at - created_at FROM pages WHERE kind = 'page' AND acked_at IS NOT NULL";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
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
    return db_fail(db, rc, "pages_ack_durations");
  }
  *out = rows;
  *n = count;
  return 0;
}
