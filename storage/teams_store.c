#include "storage/teams_store.h"

#include "lib/kx.h"
#include "storage/db_internal.h"

const char teams_store_schema_v1[] =
    "CREATE TABLE teams_tenants ("
    "  tenant_id TEXT PRIMARY KEY,"
    "  service_url TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE TABLE teams_conversations ("
    "  id TEXT PRIMARY KEY,"
    "  tenant_id TEXT,"
    "  team_id TEXT,"
    "  team_name TEXT,"
    "  name TEXT,"
    "  type TEXT,"
    "  installed INTEGER NOT NULL DEFAULT 1,"
    "  updated_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX teams_conversations_team ON teams_conversations(team_id);"
    "CREATE TABLE teams_users ("
    "  user_id TEXT PRIMARY KEY,"
    "  aad_object_id TEXT,"
    "  name TEXT,"
    "  tenant_id TEXT,"
    "  personal_conversation TEXT,"
    "  updated_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX teams_users_aad ON teams_users(aad_object_id);"
    "CREATE TABLE teams_threads ("
    "  incident_id INTEGER PRIMARY KEY,"
    "  state TEXT NOT NULL CHECK (state IN ('requested','started','failed')),"
    "  channel TEXT,"
    "  error TEXT,"
    "  updated_at INTEGER NOT NULL"
    ");";

int teams_store_set_service_url(struct db *db,
                                const char *tenant_id,
                                const char *service_url,
                                int64_t now_ms)
{
  static const char sql[] =
      "INSERT INTO teams_tenants (tenant_id, service_url, updated_at) VALUES (?, ?, ?)"
      " ON CONFLICT(tenant_id) DO UPDATE SET service_url = excluded.service_url,"
      " updated_at = excluded.updated_at";
  if (!tenant_id || !service_url)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, tenant_id);
  db_bind_text(st, 2, service_url);
  db_bind_int64(st, 3, now_ms);
  return db_step_done(db, st, "teams_store_set_service_url");
}

static char *one(struct db *db, const char *sql, const char *arg)
{
  if (!arg)
    return NULL;
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

char *teams_store_service_url(struct db *db, const char *tenant_id)
{
  static const char sql[] = "SELECT service_url FROM teams_tenants WHERE tenant_id = ?";
  return one(db, sql, tenant_id);
}

int teams_store_set_conversation(struct db *db,
                                 const struct teams_store_conversation *c,
                                 int64_t now_ms)
{
  /* COALESCE keeps what we knew when this activity does not say (a message names no team
   * name; a conversationUpdate names no channel type). */
  static const char sql[] =
      "INSERT INTO teams_conversations"
      " (id, tenant_id, team_id, team_name, name, type, installed, updated_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN ?7 < 0 THEN 1 ELSE ?7 END, ?8)"
      " ON CONFLICT(id) DO UPDATE SET"
      "  tenant_id = COALESCE(excluded.tenant_id, teams_conversations.tenant_id),"
      "  team_id = COALESCE(excluded.team_id, teams_conversations.team_id),"
      "  team_name = COALESCE(excluded.team_name, teams_conversations.team_name),"
      "  name = COALESCE(excluded.name, teams_conversations.name),"
      "  type = COALESCE(excluded.type, teams_conversations.type),"
      "  installed = CASE WHEN ?7 < 0 THEN teams_conversations.installed ELSE ?7 END,"
      "  updated_at = excluded.updated_at";
  if (!c || !c->id)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, c->id);
  db_bind_text(st, 2, c->tenant_id);
  db_bind_text(st, 3, c->team_id);
  db_bind_text(st, 4, c->team_name);
  db_bind_text(st, 5, c->name);
  db_bind_text(st, 6, c->type);
  db_bind_int64(st, 7, c->installed);
  db_bind_int64(st, 8, now_ms);
  return db_step_done(db, st, "teams_store_set_conversation");
}

char *teams_store_conversation_tenant(struct db *db, const char *conversation_id)
{
  static const char sql[] = "SELECT tenant_id FROM teams_conversations WHERE id = ?";
  return one(db, sql, conversation_id);
}

int teams_store_installed(struct db *db, const char *conversation_id)
{
  static const char sql[] = "SELECT installed FROM teams_conversations WHERE id = ?";
  if (!conversation_id)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, conversation_id);
  int rc = db_step(st);
  int v = rc == DB_ROW ? (db_col_int(st, 0) != 0) : rc == DB_DONE ? KX_ENOTFOUND : KX_EDB;
  db_reset(st);
  if (v == KX_EDB)
    db_fail(db, rc, "teams_store_installed");
  return v;
}

int teams_store_team_removed(struct db *db, const char *team_id, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE teams_conversations SET installed = 0, updated_at = ?2"
      " WHERE team_id = ?1 OR id = ?1";
  if (!team_id)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, team_id);
  db_bind_int64(st, 2, now_ms);
  return db_step_done(db, st, "teams_store_team_removed");
}

int teams_store_set_user(struct db *db,
                         const char *user_id,
                         const char *aad_object_id,
                         const char *name,
                         const char *tenant_id,
                         int64_t now_ms)
{
  static const char sql[] =
      "INSERT INTO teams_users (user_id, aad_object_id, name, tenant_id, updated_at)"
      " VALUES (?, ?, ?, ?, ?)"
      " ON CONFLICT(user_id) DO UPDATE SET"
      "  aad_object_id = COALESCE(excluded.aad_object_id, teams_users.aad_object_id),"
      "  name = COALESCE(excluded.name, teams_users.name),"
      "  tenant_id = COALESCE(excluded.tenant_id, teams_users.tenant_id),"
      "  updated_at = excluded.updated_at";
  if (!user_id)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, user_id);
  db_bind_text(st, 2, aad_object_id);
  db_bind_text(st, 3, name);
  db_bind_text(st, 4, tenant_id);
  db_bind_int64(st, 5, now_ms);
  return db_step_done(db, st, "teams_store_set_user");
}

char *teams_store_user_aad(struct db *db, const char *user_id)
{
  static const char sql[] = "SELECT aad_object_id FROM teams_users WHERE user_id = ?";
  return one(db, sql, user_id);
}

char *teams_store_user_by_aad(struct db *db, const char *aad_object_id)
{
  static const char sql[] =
      "SELECT user_id FROM teams_users WHERE lower(aad_object_id) = lower(?)"
      " ORDER BY updated_at DESC LIMIT 1";
  return one(db, sql, aad_object_id);
}

int teams_store_set_personal(struct db *db,
                             const char *user_id,
                             const char *conversation_id,
                             const char *tenant_id,
                             int64_t now_ms)
{
  static const char sql[] =
      "INSERT INTO teams_users (user_id, tenant_id, personal_conversation, updated_at)"
      " VALUES (?, ?, ?, ?)"
      " ON CONFLICT(user_id) DO UPDATE SET"
      "  personal_conversation = excluded.personal_conversation,"
      "  tenant_id = COALESCE(excluded.tenant_id, teams_users.tenant_id),"
      "  updated_at = excluded.updated_at";
  if (!user_id || !conversation_id)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, user_id);
  db_bind_text(st, 2, tenant_id);
  db_bind_text(st, 3, conversation_id);
  db_bind_int64(st, 4, now_ms);
  return db_step_done(db, st, "teams_store_set_personal");
}

char *teams_store_personal(struct db *db, const char *user_id)
{
  static const char sql[] = "SELECT personal_conversation FROM teams_users WHERE user_id = ?";
  return one(db, sql, user_id);
}

char *teams_store_user_tenant(struct db *db, const char *user_id)
{
  static const char sql[] = "SELECT tenant_id FROM teams_users WHERE user_id = ?";
  return one(db, sql, user_id);
}

char *teams_store_any_team(struct db *db, const char *tenant_id)
{
  /* A team the bot is installed in (its General channel's id is the team's): where a user's
   * roster entry can be asked for. The most recently seen first. */
  static const char sql[] =
      "SELECT team_id FROM teams_conversations WHERE installed = 1 AND team_id IS NOT NULL"
      " AND (?1 IS NULL OR tenant_id = ?1) ORDER BY updated_at DESC LIMIT 1";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return NULL;
  db_bind_text(st, 1, tenant_id);
  char *v = NULL;
  if (db_step(st) == DB_ROW)
    v = db_col_text(st, 0);
  db_reset(st);
  return v;
}

int teams_store_thread_claim(struct db *db,
                             int64_t incident_id,
                             const char *channel,
                             int64_t now_ms)
{
  static const char sql[] =
      "INSERT INTO teams_threads (incident_id, state, channel, updated_at)"
      " VALUES (?, 'requested', ?, ?) ON CONFLICT (incident_id) DO NOTHING";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_text(st, 2, channel);
  db_bind_int64(st, 3, now_ms);
  int rc = db_step_done(db, st, "teams_store_thread_claim");
  if (rc == 0 && db_changes(db) == 0)
    return KX_EEXISTS;
  return rc;
}

int teams_store_thread_done(struct db *db, int64_t incident_id, const char *error, int64_t now_ms)
{
  static const char sql[] =
      "UPDATE teams_threads SET state = CASE WHEN ?2 IS NULL THEN 'started' ELSE 'failed' END,"
      " error = ?2, updated_at = ?3 WHERE incident_id = ?1";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, incident_id);
  db_bind_text(st, 2, error);
  db_bind_int64(st, 3, now_ms);
  return db_step_done(db, st, "teams_store_thread_done");
}
