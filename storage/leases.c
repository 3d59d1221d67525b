#include "storage/leases.h"

#include <stdio.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char leases_schema_v3[] =
    "CREATE TABLE leases ("
    "  name TEXT PRIMARY KEY,"
    "  holder TEXT NOT NULL,"
    "  epoch INTEGER NOT NULL DEFAULT 0,"
    "  expires_at INTEGER NOT NULL DEFAULT 0"
    ");";

int leases_acquire(
    struct db *db, const char *name, const char *holder, int64_t ttl_ms, int64_t *epoch)
{
  /* One statement decides, so two instances racing for an expired lease cannot both win: the
   * upsert's WHERE is evaluated against the row as the winner left it. A renewal (same holder,
   * same epoch) keeps the epoch; any other update is a takeover of an expired lease. */
  static const char sql[] =
      "INSERT INTO leases (name, holder, epoch, expires_at) VALUES (?1, ?2, 1, ?4)"
      " ON CONFLICT (name) DO UPDATE SET"
      "  epoch = CASE WHEN leases.holder = ?2 AND leases.epoch = ?5"
      "               THEN leases.epoch ELSE leases.epoch + 1 END,"
      "  holder = ?2, expires_at = ?4"
      " WHERE (leases.holder = ?2 AND leases.epoch = ?5) OR leases.expires_at <= ?3"
      " RETURNING epoch";
  if (!name || !holder || !epoch || ttl_ms <= 0)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  int64_t now = db_clock_ms(db);
  if (now < 0)
    return (int)now; /* the database's clock did not answer: no lease on a guessed time */
  db_bind_text(st, 1, name);
  db_bind_text(st, 2, holder);
  db_bind_int64(st, 3, now);
  db_bind_int64(st, 4, now + ttl_ms);
  db_bind_int64(st, 5, *epoch);
  int rc = db_step(st);
  int64_t got = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  if (rc == DB_ROW) {
    *epoch = got;
    return 0;
  }
  *epoch = 0;
  if (rc == DB_DONE)
    return KX_EEXISTS; /* another holder's, unexpired */
  return db_fail(db, rc, "leases_acquire");
}

int leases_take_from(struct db *db,
                     const char *name,
                     const char *holder,
                     const char *dead_holder,
                     int64_t dead_epoch,
                     int64_t ttl_ms,
                     int64_t *epoch)
{
  static const char sql[] =
      "UPDATE leases SET holder = ?2, epoch = epoch + 1, expires_at = ?3"
      " WHERE name = ?1 AND holder = ?4 AND epoch = ?5 RETURNING epoch";
  if (!name || !holder || !dead_holder || !epoch || ttl_ms <= 0)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, name);
  db_bind_text(st, 2, holder);
  int64_t now = db_clock_ms(db);
  if (now < 0)
    return (int)now;
  db_bind_int64(st, 3, now + ttl_ms);
  db_bind_text(st, 4, dead_holder);
  db_bind_int64(st, 5, dead_epoch);
  int rc = db_step(st);
  int64_t got = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  *epoch = got;
  if (rc == DB_ROW)
    return 0;
  if (rc == DB_DONE)
    return KX_EEXISTS;
  return db_fail(db, rc, "leases_take_from");
}

int leases_release(struct db *db, const char *name, const char *holder, int64_t epoch)
{
  static const char sql[] =
      "UPDATE leases SET expires_at = 0 WHERE name = ?1 AND holder = ?2 AND epoch = ?3";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, name);
  db_bind_text(st, 2, holder);
  db_bind_int64(st, 3, epoch);
  return db_step_done(db, st, "leases_release");
}

int leases_get(struct db *db, const char *name, struct leases_state *out)
{
  static const char sql[] = "SELECT holder, epoch, expires_at FROM leases WHERE name = ?1";
  memset(out, 0, sizeof(*out));
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, name);
  int rc = db_step(st);
  if (rc == DB_ROW) {
    const char *h = db_col_text_ref(st, 0);
    snprintf(out->holder, sizeof(out->holder), "%s", h ? h : "");
    out->epoch = db_col_int64(st, 1);
    out->expires_at = db_col_int64(st, 2);
  }
  db_reset(st);
  if (rc == DB_ROW || rc == DB_DONE)
    return 0;
  return db_fail(db, rc, "leases_get");
}

int64_t leases_epoch(struct db *db, const char *name)
{
  struct leases_state l;
  if (leases_get(db, name, &l) != 0)
    return 0;
  return l.epoch;
}

int64_t leases_clock_ms(struct db *db)
{
  return db_clock_ms(db);
}
