#include "storage/status_subs.h"

#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char status_subs_schema_v2[] =
    "CREATE TABLE status_subscribers ("
    "  id INTEGER PRIMARY KEY,"
    "  email TEXT NOT NULL UNIQUE,"
    "  token TEXT NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL,"
    "  confirmed_at INTEGER NOT NULL DEFAULT 0,"
    "  mailed_at INTEGER NOT NULL DEFAULT 0,"
    "  removed_at INTEGER NOT NULL DEFAULT 0"
    ");";

#define SUB_COLS "id, email, token, confirmed_at, mailed_at"

static void read_sub(struct db_stmt *st, struct status_sub *s)
{
  s->id = db_col_int64(st, 0);
  s->email = db_col_text(st, 1);
  s->token = db_col_text(st, 2);
  s->confirmed_at = db_col_int64(st, 3);
  s->mailed_at = db_col_int64(st, 4);
}

int status_sub_add(
    struct db *db, const char *email, const char *token, int64_t now_ms, struct status_sub *out)
{
  static const char ins[] =
      "INSERT INTO status_subscribers (email, token, created_at) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (email) DO UPDATE SET token = ?2, confirmed_at = 0, removed_at = 0,"
      " created_at = ?3 WHERE status_subscribers.removed_at > 0";
  static const char sel[] = "SELECT " SUB_COLS " FROM status_subscribers WHERE email = ?";
  memset(out, 0, sizeof(*out));
  struct db_stmt *st = db_stmt(db, ins);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, email);
  db_bind_text(st, 2, token);
  db_bind_int64(st, 3, now_ms);
  int rc = db_step_done(db, st, "status_sub_add");
  if (rc)
    return rc;
  if (!(st = db_stmt(db, sel)))
    return KX_EDB;
  db_bind_text(st, 1, email);
  int s = db_step(st);
  if (s == DB_ROW)
    read_sub(st, out);
  db_reset(st);
  return s == DB_ROW ? 0 : db_fail(db, s, "status_sub_add");
}

int status_sub_mailed(struct db *db, int64_t id, int64_t now_ms)
{
  struct db_stmt *st = db_stmt(db, "UPDATE status_subscribers SET mailed_at = ? WHERE id = ?");
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms);
  db_bind_int64(st, 2, id);
  return db_step_done(db, st, "status_sub_mailed");
}

static int by_token(struct db *db, const char *sql, const char *token, int64_t now_ms)
{
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, now_ms);
  db_bind_text(st, 2, token);
  int rc = db_step_done(db, st, "status_sub_token");
  if (rc == 0 && db_changes(db) == 0)
    return KX_ENOTFOUND;
  return rc;
}

int status_sub_confirm(struct db *db, const char *token, int64_t now_ms)
{
  return by_token(db,
                  "UPDATE status_subscribers SET confirmed_at = CASE WHEN confirmed_at > 0 THEN"
                  " confirmed_at ELSE ?1 END WHERE token = ?2 AND removed_at = 0",
                  token, now_ms);
}

int status_sub_remove(struct db *db, const char *token, int64_t now_ms)
{
  return by_token(
      db, "UPDATE status_subscribers SET removed_at = ?1 WHERE token = ?2 AND removed_at = 0",
      token, now_ms);
}

void status_sub_clear(struct status_sub *s)
{
  if (!s)
    return;
  free(s->email);
  free(s->token);
  memset(s, 0, sizeof(*s));
}

void status_subs_free(struct status_sub *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    status_sub_clear(&v[i]);
  free(v);
}

int status_subs_confirmed(struct db *db, struct status_sub **out, size_t *n)
{
  static const char sql[] = "SELECT " SUB_COLS
                            " FROM status_subscribers"
                            " WHERE confirmed_at > 0 AND removed_at = 0 ORDER BY id";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  size_t cap = 0;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)out, &cap, *n, sizeof(**out))) {
      rc = KX_ENOMEM;
      break;
    }
    read_sub(st, &(*out)[(*n)++]);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    status_subs_free(*out, *n);
    *out = NULL;
    *n = 0;
    return rc == KX_ENOMEM ? KX_ENOMEM : db_fail(db, rc, "status_subs_confirmed");
  }
  return 0;
}

int64_t status_subs_count(struct db *db)
{
  struct db_stmt *st = db_stmt(db,
                               "SELECT count(*) FROM status_subscribers"
                               " WHERE confirmed_at > 0 AND removed_at = 0");
  if (!st)
    return KX_EDB;
  int rc = db_step(st);
  int64_t v = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  return rc == DB_ROW ? v : db_fail(db, rc, "status_subs_count");
}
