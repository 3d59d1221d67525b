/*
 * db_pg_admin.c — the PostgreSQL engine's administration: the schema version (a one-row table,
 * klaxon_schema) and the advisory lock migrations run under, the database's clock,
 * LISTEN/NOTIFY between instances, and what the server does itself (checkpoints, backups).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "lib/log.h"
#include "storage/db_internal.h"
#include "storage/db_pg_internal.h"

/* One value from a query of our own; NULL result on failure (noted). */
static PGresult *one(struct pg_db *db, const char *sql)
{
  if (ensure_conn(db) != 0)
    return NULL;
  PGresult *r = pg_call(db, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    note_failure(db, r);
    PQclear(r);
    return NULL;
  }
  return r;
}

/* The version lives in a one-row table, klaxon_schema (created by the first migration's
 * transaction); a database without it is at version 0. */
int pg_schema_version(struct db *d)
{
  struct pg_db *db = PG(d);
  PGresult *r = one(db, "SELECT to_regclass('klaxon_schema') IS NOT NULL");
  if (!r)
    return pg_fail(d, KX_EDB, "schema_version");
  bool there = PQgetvalue(r, 0, 0)[0] == 't';
  PQclear(r);
  if (!there)
    return 0;
  r = one(db, "SELECT coalesce(max(version), 0) FROM klaxon_schema");
  if (!r)
    return pg_fail(d, KX_EDB, "schema_version");
  int v = atoi(PQgetvalue(r, 0, 0));
  PQclear(r);
  return v;
}

int pg_migration_begin(struct db *d)
{
  char sql[200];
  snprintf(sql, sizeof(sql),
           "BEGIN; SELECT pg_advisory_xact_lock(%lld); "
           "CREATE TABLE IF NOT EXISTS klaxon_schema (version bigint NOT NULL)",
           (long long)MIGRATION_LOCK);
  return pg_exec(d, sql);
}

int pg_migration_version(struct db *d, int version)
{
  char sql[120];
  snprintf(sql, sizeof(sql),
           "DELETE FROM klaxon_schema; INSERT INTO klaxon_schema (version) VALUES (%d)", version);
  return pg_exec(d, sql);
}

int pg_backup(struct db *d, const char *path)
{
  (void)path;
  LOG_ERROR("db", "backup_unsupported", "db=%s how=\"pg_dump, or the cluster's own backups\"",
            PG(d)->label);
  return KX_EUNSUPPORTED;
}

int pg_set_autocheckpoint(struct db *d, int pages)
{
  (void)d;
  (void)pages;
  return 0;
}

int pg_checkpoint(struct db *d, bool truncate)
{
  (void)d;
  (void)truncate;
  return 0; /* the server checkpoints */
}

int64_t pg_clock_ms(struct db *d)
{
  PGresult *r = one(PG(d), "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint");
  if (!r)
    return KX_EIO;
  int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return v;
}

/* Channels are our own identifiers (klaxon_jobs, klaxon_outbox): checked, never quoted. */
static bool channel_ok(const char *channel)
{
  if (!channel || !*channel || strlen(channel) > 60)
    return false;
  for (const char *p = channel; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || *p == '_'))
      return false;
  return true;
}

int pg_notify(struct db *d, const char *channel)
{
  if (!channel_ok(channel))
    return KX_EINVAL;
  char sql[80];
  snprintf(sql, sizeof(sql), "NOTIFY %s", channel);
  int rc = tx(PG(d), sql);
  return rc == 0 ? 0 : pg_fail(d, rc, "notify");
}

int pg_listen(struct db *d, const char *channel)
{
  struct pg_db *db = PG(d);
  if (!channel_ok(channel))
    return KX_EINVAL;
  int rc = ensure_conn(db);
  char sql[80];
  snprintf(sql, sizeof(sql), "LISTEN %s", channel);
  if (rc == 0)
    rc = tx(db, sql);
  return rc;
}

int pg_listen_fd(struct db *d)
{
  struct pg_db *db = PG(d);
  if (!db->conn || PQstatus(db->conn) != CONNECTION_OK)
    return -1;
  return PQsocket(db->conn);
}

int pg_listen_drain(struct db *d)
{
  struct pg_db *db = PG(d);
  if (!db->conn || PQconsumeInput(db->conn) != 1 || PQstatus(db->conn) != CONNECTION_OK) {
    note_failure(db, NULL);
    return KX_EIO;
  }
  int n = 0;
  PGnotify *note;
  while ((note = PQnotifies(db->conn)) != NULL) {
    n++;
    PQfreemem(note);
  }
  return n;
}
