/* alert_mail.c — alerts waiting for their digest mail (see alert_mail.h). */
#include "storage/alert_mail.h"

#include <stdlib.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char alert_mail_schema_v2[] =
    "CREATE TABLE alert_mail ("
    "  id INTEGER PRIMARY KEY,"
    "  digest_key TEXT NOT NULL,"
    "  recipients TEXT NOT NULL,"
    "  title TEXT NOT NULL, summary TEXT, severity TEXT, labels TEXT NOT NULL DEFAULT '{}',"
    "  starts_at INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  sent_at INTEGER"
    ");"
    "CREATE INDEX alert_mail_pending ON alert_mail(digest_key) WHERE sent_at IS NULL;";

int alert_mail_add(struct db *db, const struct alert_mail *m, int64_t *id_out)
{
  static const char sql[] =
      "INSERT INTO alert_mail (digest_key, recipients, title, summary, severity, labels,"
      " starts_at, created_at) VALUES (?, ?, ?, ?, ?, coalesce(?, '{}'), ?, ?)"
      " RETURNING id";
  if (!m->digest_key || !m->recipients || !m->title)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, m->digest_key);
  db_bind_text(st, 2, m->recipients);
  db_bind_text(st, 3, m->title);
  db_bind_text(st, 4, m->summary);
  db_bind_text(st, 5, m->severity);
  db_bind_text(st, 6, m->labels);
  db_bind_int64(st, 7, m->starts_at);
  db_bind_int64(st, 8, m->created_at);
  int rc = db_step(st);
  int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  if (rc != DB_ROW)
    return db_fail(db, rc, "alert_mail_add");
  if (id_out)
    *id_out = id;
  return 0;
}

int alert_mail_pending(
    struct db *db, const char *digest_key, size_t limit, struct alert_mail **out, size_t *n)
{
  static const char sql[] =
      "SELECT id, digest_key, recipients, title, summary, severity, labels, starts_at, created_at"
      " FROM alert_mail WHERE digest_key = ? AND sent_at IS NULL ORDER BY id LIMIT ?";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, digest_key);
  db_bind_int64(st, 2, (int64_t)limit);
  struct alert_mail *rows = NULL;
  size_t cap = 0, count = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&rows, &cap, count, sizeof(*rows))) {
      db_reset(st);
      alert_mail_free(rows, count);
      return KX_ENOMEM;
    }
    struct alert_mail *m = &rows[count++];
    m->id = db_col_int64(st, 0);
    m->digest_key = db_col_text(st, 1);
    m->recipients = db_col_text(st, 2);
    m->title = db_col_text(st, 3);
    m->summary = db_col_text(st, 4);
    m->severity = db_col_text(st, 5);
    m->labels = db_col_text(st, 6);
    m->starts_at = db_col_int64(st, 7);
    m->created_at = db_col_int64(st, 8);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    alert_mail_free(rows, count);
    return db_fail(db, rc, "alert_mail_pending");
  }
  *out = rows;
  *n = count;
  return 0;
}

int alert_mail_sent(struct db *db, const char *digest_key, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE alert_mail SET sent_at = ? WHERE digest_key = ? AND sent_at IS NULL";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms);
  db_bind_text(st, 2, digest_key);
  return db_step_done(db, st, "alert_mail_sent");
}

void alert_mail_free(struct alert_mail *rows, size_t n)
{
  for (size_t i = 0; rows && i < n; i++) {
    free(rows[i].digest_key);
    free(rows[i].recipients);
    free(rows[i].title);
    free(rows[i].summary);
    free(rows[i].severity);
    free(rows[i].labels);
  }
  free(rows);
}
