#include "storage/people.h"

#include "lib/kx.h"
#include "storage/db_internal.h"

const char people_schema_v1[] =
    "CREATE TABLE people_ids ("
    "  person TEXT PRIMARY KEY,"
    "  slack TEXT,"
    "  lookup_error TEXT,"
    "  updated_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX people_ids_slack ON people_ids(slack);";

int people_set_slack(struct db *db, const char *person, const char *slack_id, int64_t now_ms)
{
  static const char sql[] =
      "INSERT INTO people_ids (person, slack, lookup_error, updated_at) VALUES (?, ?, NULL, ?)"
      " ON CONFLICT(person) DO UPDATE SET slack = excluded.slack, lookup_error = NULL,"
      " updated_at = excluded.updated_at";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, person);
  db_bind_text(st, 2, slack_id);
  db_bind_int64(st, 3, now_ms);
  return db_step_done(db, st, "people_set_slack");
}

int people_set_lookup_error(struct db *db, const char *person, const char *error, int64_t now_ms)
{
  static const char sql[] =
      "INSERT INTO people_ids (person, slack, lookup_error, updated_at) VALUES (?, NULL, ?, ?)"
      " ON CONFLICT(person) DO UPDATE SET lookup_error = excluded.lookup_error,"
      " updated_at = excluded.updated_at";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, person);
  db_bind_text(st, 2, error);
  db_bind_int64(st, 3, now_ms);
  return db_step_done(db, st, "people_set_lookup_error");
}

static char *one(struct db *db, const char *sql, const char *arg)
{
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return NULL;
  db_bind_text(st, 1, arg);
  char *v = NULL;
  if (db_step(st) == DB_ROW)
    v = db_col_text(st, 0);
  db_reset(st);
  return v;
}

char *people_slack(struct db *db, const char *person)
{
  static const char sql[] = "SELECT slack FROM people_ids WHERE person = ?";
  return one(db, sql, person);
}

char *people_by_slack(struct db *db, const char *slack_id)
{
  static const char sql[] = "SELECT person FROM people_ids WHERE slack = ?";
  return one(db, sql, slack_id);
}
