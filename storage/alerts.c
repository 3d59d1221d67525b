#include "storage/alerts.h"

#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "lib/log.h"
#include "storage/db_internal.h"

const char alerts_schema_v1[] =
    "CREATE TABLE alerts ("
    "  id INTEGER PRIMARY KEY,"
    "  fingerprint TEXT NOT NULL UNIQUE,"
    "  group_key TEXT,"
    "  source TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('firing','resolved')),"
    "  alertname TEXT,"
    "  severity TEXT,"
    "  labels TEXT NOT NULL DEFAULT '{}',"
    "  annotations TEXT NOT NULL DEFAULT '{}',"
    "  starts_at INTEGER,"
    "  ends_at INTEGER,"
    "  route INTEGER NOT NULL DEFAULT -1,"
    "  action TEXT NOT NULL DEFAULT 'record',"
    "  page_id INTEGER,"
    "  receives INTEGER NOT NULL DEFAULT 1,"
    "  fires INTEGER NOT NULL DEFAULT 1,"
    "  first_seen INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL"
    ");"
    "CREATE INDEX alerts_page ON alerts(page_id, status);";

/* A new fingerprint: KX_EEXISTS when the row is there after all (another instance inserted it
 * after lock_row() found nothing; PostgreSQL waits for that insert's commit before it says so). */
static int insert(struct db *db, const struct alert_in *a, int64_t now_ms, int64_t *id_out)
{
  static const char sql[] =
      "INSERT INTO alerts (fingerprint, group_key, source, status, alertname, severity, labels,"
      " annotations, starts_at, ends_at, route, action, first_seen, last_seen, fires)"
      " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
      " ON CONFLICT (fingerprint) DO NOTHING RETURNING id";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, a->fingerprint);
  db_bind_text(st, 2, a->group_key);
  db_bind_text(st, 3, a->source ? a->source : "webhook");
  db_bind_text(st, 4, a->firing ? "firing" : "resolved");
  db_bind_text(st, 5, a->alertname);
  db_bind_text(st, 6, a->severity);
  db_bind_text(st, 7, a->labels_json ? a->labels_json : "{}");
  db_bind_text(st, 8, a->annotations_json ? a->annotations_json : "{}");
  db_bind_int64(st, 9, a->starts_at);
  db_bind_int64(st, 10, a->ends_at);
  db_bind_int64(st, 11, a->route);
  db_bind_text(st, 12, a->action ? a->action : "record");
  db_bind_int64(st, 13, now_ms);
  db_bind_int64(st, 14, now_ms);
  db_bind_int64(st, 15, a->firing ? 1 : 0);
  int rc = db_step(st);
  int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  if (rc == DB_DONE)
    return KX_EEXISTS;
  if (rc != DB_ROW)
    return db_fail(db, rc, "alerts_insert");
  *id_out = id;
  return 0;
}

/* Lock the fingerprint's row and read it as it is now: a no-op UPDATE, because SQLite has no
 * SELECT … FOR UPDATE. Under PostgreSQL's READ COMMITTED it waits for another instance that is
 * writing the row and returns the row as that one committed it; nobody else changes it until
 * this transaction ends. Under SQLite the transaction holds the write lock already.
 * KX_ENOTFOUND when the fingerprint is new. */
static int lock_row(
    struct db *db, const char *fingerprint, int64_t *id, bool *firing, int64_t *page)
{
  static const char sql[] =
      "UPDATE alerts SET receives = receives WHERE fingerprint = ? RETURNING id, status, page_id";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, fingerprint);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    *id = db_col_int64(st, 0);
    *firing = strcmp(db_col_text_ref(st, 1), "firing") == 0;
    *page = db_col_int64(st, 2);
  }
  db_reset(st);
  if (rc == DB_ROW)
    return 0;
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, "alerts_lock");
}

/* Two instances that receive one fingerprint at once both end here correctly: one inserts, the
 * other finds the insert's conflict, locks the committed row and updates it (a repeat). Neither
 * sees the UNIQUE violation a SELECT-then-INSERT would meet. */
int alerts_upsert(struct db *db,
                  const struct alert_in *a,
                  int64_t now_ms,
                  int64_t *id_out,
                  enum alert_change *change,
                  int64_t *page_id_out)
{
  static const char upd[] =
      "UPDATE alerts SET status = ?, group_key = ?, alertname = ?, severity = ?, labels = ?,"
      " annotations = ?, starts_at = ?, ends_at = ?, route = ?, action = ?, last_seen = ?,"
      " receives = receives + 1, fires = fires + ? WHERE id = ?";
  if (!a->fingerprint || !*a->fingerprint)
    return KX_EINVAL;
  int64_t id = 0, page = 0;
  bool was_firing = false;
  int rc = KX_ENOTFOUND;
  /* The second round only follows an insert that lost to another instance's. */
  for (int round = 0; round < 2 && rc == KX_ENOTFOUND; round++) {
    rc = lock_row(db, a->fingerprint, &id, &was_firing, &page);
    if (rc != KX_ENOTFOUND)
      break;
    rc = insert(db, a, now_ms, id_out);
    if (rc == 0) {
      *change = a->firing ? ALERT_NEW : ALERT_NEW_RESOLVED;
      *page_id_out = 0;
      return 0;
    }
    if (rc == KX_EEXISTS)
      rc = KX_ENOTFOUND;
  }
  if (rc == KX_ENOTFOUND) {
    /* Inserted by another and gone again, twice (retention at that very moment): the webhook's
     * sender retries. */
    LOG_WARN("alerts", "upsert_lost_twice", "fingerprint=%.64s", a->fingerprint);
    rc = KX_ERETRY;
  }
  if (rc)
    return rc;
  if (a->firing)
    *change = was_firing ? ALERT_REPEAT : ALERT_REFIRED;
  else
    *change = was_firing ? ALERT_RESOLVED : ALERT_REPEAT_RESOLVED;
  struct db_stmt *st = db_stmt(db, upd);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, a->firing ? "firing" : "resolved");
  db_bind_text(st, 2, a->group_key);
  db_bind_text(st, 3, a->alertname);
  db_bind_text(st, 4, a->severity);
  db_bind_text(st, 5, a->labels_json ? a->labels_json : "{}");
  db_bind_text(st, 6, a->annotations_json ? a->annotations_json : "{}");
  db_bind_int64(st, 7, a->starts_at);
  db_bind_int64(st, 8, a->ends_at);
  db_bind_int64(st, 9, a->route);
  db_bind_text(st, 10, a->action ? a->action : "record");
  db_bind_int64(st, 11, now_ms);
  db_bind_int64(st, 12, *change == ALERT_REFIRED ? 1 : 0);
  db_bind_int64(st, 13, id);
  rc = db_step_done(db, st, "alerts_update");
  if (rc)
    return rc;
  *id_out = id;
  *page_id_out = page;
  return 0;
}

int alerts_set_page(struct db *db, int64_t alert_id, int64_t page_id)
{
  static const char sql[] = "UPDATE alerts SET page_id = ? WHERE id = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  if (page_id > 0)
    db_bind_int64(st, 1, page_id);
  else
    db_bind_null(st, 1);
  db_bind_int64(st, 2, alert_id);
  return db_step_done(db, st, "alerts_set_page");
}

int alerts_page_of(struct db *db, const char *fingerprint, int64_t *page_id)
{
  static const char sql[] =
      "SELECT page_id FROM alerts WHERE fingerprint = ? AND status = 'firing' AND page_id IS NOT "
      "NULL";
  *page_id = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, fingerprint);
  int rc = db_step(st);
  if (rc == DB_ROW)
    *page_id = db_col_int64(st, 0);
  db_reset(st);
  if (rc == DB_ROW)
    return 0;
  return rc == DB_DONE ? KX_ENOTFOUND : db_fail(db, rc, "alerts_page_of");
}

char *alerts_labels_of(struct db *db, const char *fingerprint)
{
  static const char sql[] = "SELECT labels FROM alerts WHERE fingerprint = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return NULL;
  db_bind_text(st, 1, fingerprint);
  char *out = db_step(st) == DB_ROW ? db_col_text(st, 0) : NULL;
  db_reset(st);
  return out;
}

int alerts_page_counts(struct db *db, int64_t page_id, int64_t *total, int64_t *firing)
{
  static const char sql[] =
      "SELECT count(*), count(*) FILTER (WHERE status = 'firing') FROM alerts WHERE page_id = ?";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, page_id);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    *total = db_col_int64(st, 0);
    *firing = db_col_int64(st, 1);
  }
  db_reset(st);
  return rc == DB_ROW ? 0 : db_fail(db, rc, "alerts_page_counts");
}

static int64_t scalar(struct db *db, const char *sql, int64_t arg, bool with_arg)
{
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  if (with_arg)
    db_bind_int64(st, 1, arg);
  int64_t v = 0;
  int rc = db_step(st);
  if (rc == DB_ROW)
    v = db_col_int64(st, 0);
  db_reset(st);
  return rc == DB_ROW ? v : db_fail(db, rc, "alerts_scalar");
}

int64_t alerts_received_total(struct db *db)
{
  static const char sql[] = "SELECT coalesce(sum(receives), 0) FROM alerts";
  return scalar(db, sql, 0, false);
}
