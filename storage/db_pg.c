/*
 * db_pg.c — the PostgreSQL engine (libpq): the same statement API and transactions as
 * db_sqlite.c, so every storage file runs unchanged on both (docs/ha.md).
 *
 * - Placeholders: the shared SQL is written with SQLite's `?` and `?NNN`; a statement is
 *   rewritten once to `$n` with SQLite's numbering (a bare `?` is one more than the largest
 *   number so far), outside quoted strings, identifiers and comments.
 * - Types: a parameter's type comes from its bind (int64 → int8, text → text, double →
 *   float8), so `?1 = 0` compares a bigint, not a 32-bit integer. A statement is prepared
 *   lazily at its first step, once per connection, and again only if a later run binds another
 *   type where one was known (a NULL fits any type).
 * - Results are fetched whole (our queries return a page of rows at most) and read as text.
 * - Transactions nest as in SQLite (SAVEPOINT kx). After a failed statement PostgreSQL refuses
 *   everything until a rollback: the commit of such a transaction rolls back and fails, which
 *   is what SQLite does when it ends a transaction itself.
 * - A lost connection (failover, restart, a terminated session) fails the statement, and its
 *   transaction, with KX_EIO; the next transaction reconnects (libpq tries every host of the
 *   connection string, target_session_attrs picks the primary) and prepares again.
 * - Waiting for the server is db_pg_wait.c's: every call is bounded, and a runner's hooks
 *   (db_set_hooks, bot/dbtask.c) let the caller's thread give its turn up while it waits, so
 *   the bot's loop never waits for the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "lib/log.h"
#include "storage/db_engine.h"
#include "storage/db_internal.h"
#include "storage/db_pg_internal.h"

/* The one place a PostgreSQL failure becomes a KX_E* code (SQLSTATE classes, Appendix A). */
static int kx_of_state(const char *state)
{
  if (!state || !*state)
    return KX_EIO; /* no SQLSTATE: libpq lost the server */
  if (strncmp(state, "23", 2) == 0)
    return KX_ECONSTRAINT;
  if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 || strcmp(state, "55P03") == 0 ||
      strcmp(state, "57014") == 0)
    return KX_EBUSY; /* serialization, deadlock, lock_timeout, statement_timeout */
  if (strcmp(state, "53200") == 0)
    return KX_ENOMEM;
  if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
      strncmp(state, "57P", 3) == 0 || strcmp(state, "25006") == 0 || strcmp(state, "25P03") == 0)
    return KX_EIO; /* connection, resources (disk full), shutdown, read-only standby, a session
                      ended by idle_in_transaction_session_timeout */
  return KX_EDB;
}

/* Remember why a call failed (for db_fail) and convert it. res may be NULL. */
int note_failure(struct pg_db *db, const PGresult *res)
{
  const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  const char *msg = res ? PQresultErrorMessage(res) : NULL;
  if (!msg || !*msg)
    msg = db->conn ? PQerrorMessage(db->conn) : "no connection";
  snprintf(db->state, sizeof(db->state), "%s", state ? state : "");
  snprintf(db->msg, sizeof(db->msg), "%s", msg);
  size_t n = strlen(db->msg);
  while (n && (db->msg[n - 1] == '\n' || db->msg[n - 1] == ' '))
    db->msg[--n] = '\0';
  return kx_of_state(state);
}

static void quiet_notices(void *arg, const char *message)
{
  (void)arg;
  (void)message; /* "relation already exists, skipping" and the like: not worth a log line */
}

/* Settings every session of ours has, after each (re)connection. A transaction left open by an
 * instance that froze (SIGSTOP, a hung host) is ended by the server after 10 s, so the rows it
 * locked (the lease's, a job's) do not stop the other instances for longer; ours last
 * milliseconds. */
static int session_setup(struct pg_db *db)
{
  char sql[240];
  snprintf(sql, sizeof(sql),
           "SET lock_timeout = %d; SET TIME ZONE 'UTC'; SET default_transaction_read_only = %s;"
           " SET idle_in_transaction_session_timeout = '10s'",
           db->lock_timeout_ms, db->readonly ? "on" : "off");
  PGresult *r = pg_call(db, sql);
  int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : note_failure(db, r);
  PQclear(r);
  return rc;
}

static int pg_connect(struct pg_db *db)
{
  /* Ours first, then the operator's string (expand_dbname): what the operator wrote wins. */
  const char *keys[] = {"connect_timeout",     "keepalives",       "keepalives_idle",
                        "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                        "application_name",    "dbname",           NULL};
  const char *vals[] = {"2", "1", "5", "2", "3", "10000", "klaxon", db->conninfo, NULL};
  if (db->conn)
    PQfinish(db->conn);
  db->conn = NULL; /* not a freed one while the turn is handed over */
  int handed = pg_hand_over(db, "connect");
  PGconn *conn = PQconnectdbParams(keys, vals, 1);
  pg_take_back(db, handed);
  db->conn = conn;
  if (!db->conn)
    return KX_ENOMEM;
  if (PQstatus(db->conn) != CONNECTION_OK) {
    note_failure(db, NULL);
    char q[400];
    LOG_ERROR("db", "pg_connect_failed", "db=%s msg=%s", db->label,
              log_quote(q, sizeof(q), db->msg));
    return KX_EIO;
  }
  PQsetNoticeProcessor(db->conn, quiet_notices, NULL);
  /* Sending never waits in libpq either: pg_wait_result's poll bounds the whole call. */
  PQsetnonblocking(db->conn, 1);
  db->gen++;
  snprintf(db->label, sizeof(db->label), "postgres:%s@%s", PQdb(db->conn),
           PQhost(db->conn) && *PQhost(db->conn) ? PQhost(db->conn) : "local");
  return session_setup(db);
}

/* Outside a transaction, a broken connection is made again (and the statements are prepared
 * again as they are used). Inside one, the transaction is gone: the caller's rollback ends it. */
int ensure_conn(struct pg_db *db)
{
  if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
    return 0;
  if (db->depth > 0)
    return KX_EIO;
  if (pg_mono_ms() < __atomic_load_n(&db->pause_until_ms, __ATOMIC_RELAXED)) {
    snprintf(db->msg, sizeof(db->msg), "reconnecting paused after a failure");
    db->state[0] = '\0';
    return KX_EIO;
  }
  int rc = pg_connect(db);
  if (rc == 0)
    LOG_WARN("db", "pg_reconnected", "db=%s", db->label);
  else
    __atomic_store_n(&db->pause_until_ms, pg_mono_ms() + RECONNECT_PAUSE_MS, __ATOMIC_RELAXED);
  return rc;
}

static struct pg_stmt *stmt_new(struct pg_db *db, const char *sql, bool cached)
{
  struct pg_stmt *st = calloc(1, sizeof(*st));
  if (!st)
    return NULL;
  st->db = db;
  st->sql = sql;
  st->cached = cached;
  st->text = db_pg_placeholders(sql, &st->nparams);
  if (!st->text || st->nparams > MAX_PARAMS) {
    LOG_ERROR("db", "bad_sql", "engine=postgres params=%d sql=%.80s", st->nparams, sql);
    free(st->text);
    free(st);
    return NULL;
  }
  return st;
}

static void clear_result(struct pg_stmt *st)
{
  PQclear(st->res);
  st->res = NULL;
  st->ran = false;
  st->row = -1;
  st->nrows = 0;
}

static void clear_binds(struct pg_stmt *st)
{
  for (int i = 0; i < st->nparams; i++) {
    free(st->vals[i]);
    st->vals[i] = NULL;
    st->btypes[i] = 0;
  }
}

static void deallocate(struct pg_stmt *st)
{
  struct pg_db *db = st->db;
  if (!st->name[0] || st->prep_gen != db->gen || !db->conn ||
      PQtransactionStatus(db->conn) == PQTRANS_INERROR)
    return;
  char sql[48];
  snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
  PQclear(pg_call(db, sql));
  st->name[0] = '\0';
}

static void stmt_free(struct pg_stmt *st)
{
  if (!st)
    return;
  clear_result(st);
  clear_binds(st);
  deallocate(st);
  free(st->text);
  free(st);
}

static struct db_stmt *pg_stmt(struct db *d, const char *sql)
{
  struct pg_db *db = PG(d);
  size_t h = ((uintptr_t)sql >> 3) % STMT_CACHE_SIZE;
  for (size_t i = 0; i < STMT_CACHE_SIZE; i++) {
    struct stmt_slot *s = &db->cache[(h + i) % STMT_CACHE_SIZE];
    if (s->sql == sql) {
      clear_result(s->st);
      clear_binds(s->st);
      return TAG(s->st);
    }
    if (!s->sql) {
      struct pg_stmt *st = stmt_new(db, sql, true);
      if (!st)
        return NULL;
      s->sql = sql;
      s->st = st;
      return TAG(st);
    }
  }
  LOG_ERROR("db", "stmt_cache_full", "size=%d", STMT_CACHE_SIZE);
  return NULL;
}

static struct db_stmt *pg_prepare(struct db *d, const char *sql)
{
  struct pg_stmt *st = stmt_new(PG(d), sql, false);
  return st ? TAG(st) : NULL;
}

static void pg_finalize(struct db_stmt *t)
{
  struct pg_stmt *st = PST(t);
  if (st && !st->cached) {
    if (st->db->base.hooks.enter) /* DEALLOCATE talks to the server: not beside a task */
      st->db->base.hooks.enter(st->db->base.hooks.arg);
    stmt_free(st);
  }
}

static int bind(struct db_stmt *t, int i, char *val, Oid type)
{
  struct pg_stmt *st = PST(t);
  if (i < 1 || i > st->nparams) {
    free(val);
    return KX_EDB;
  }
  free(st->vals[i - 1]);
  st->vals[i - 1] = val;
  /* A NULL fits whatever type the statement was prepared with. */
  st->btypes[i - 1] = type ? type : st->ptypes[i - 1];
  return 0;
}

static int pg_bind_text(struct db_stmt *t, int i, const char *s)
{
  /* A NULL text is still text: `?2 IS NULL` alone gives PostgreSQL no other way to know. */
  if (!s) {
    const struct pg_stmt *st = PST(t);
    bool typed = i >= 1 && i <= st->nparams && st->ptypes[i - 1];
    return bind(t, i, NULL, typed ? 0 : TEXTOID);
  }
  char *v = strdup(s);
  return v ? bind(t, i, v, TEXTOID) : KX_ENOMEM;
}

static int pg_bind_int64(struct db_stmt *t, int i, int64_t v)
{
  char *s = malloc(24);
  if (!s)
    return KX_ENOMEM;
  snprintf(s, 24, "%lld", (long long)v);
  return bind(t, i, s, INT8OID);
}

static int pg_bind_double(struct db_stmt *t, int i, double v)
{
  char *s = malloc(32);
  if (!s)
    return KX_ENOMEM;
  snprintf(s, 32, "%.17g", v);
  return bind(t, i, s, FLOAT8OID);
}

static int pg_bind_null(struct db_stmt *t, int i)
{
  return bind(t, i, NULL, 0);
}

/* Prepare on this connection with the bound types, unless that is already so. */
static int ensure_prepared(struct pg_stmt *st)
{
  struct pg_db *db = st->db;
  bool same = st->name[0] && st->prep_gen == db->gen;
  for (int i = 0; same && i < st->nparams; i++)
    if (st->btypes[i] && st->btypes[i] != st->ptypes[i])
      same = false;
  if (same)
    return 0;
  deallocate(st);
  for (int i = 0; i < st->nparams; i++)
    st->ptypes[i] = st->btypes[i];
  char name[24];
  snprintf(name, sizeof(name), "kx%u", ++db->names);
  PGresult *r =
      pg_wait_result(db, PQsendPrepare(db->conn, name, st->text, st->nparams, st->ptypes), st->sql);
  int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : note_failure(db, r);
  PQclear(r);
  if (rc) {
    pg_fail(&db->base, rc, "prepare");
    if (rc != KX_EIO) /* a lost connection says nothing about the SQL */
      LOG_ERROR("db", "bad_sql", "sql=%.80s", st->sql);
    return rc;
  }
  snprintf(st->name, sizeof(st->name), "%s", name);
  st->prep_gen = db->gen;
  return 0;
}

static int pg_step(struct db_stmt *t)
{
  struct pg_stmt *st = PST(t);
  struct pg_db *db = st->db;
  if (db->base.hooks.enter)
    db->base.hooks.enter(db->base.hooks.arg);
  if (!st->ran) {
    int rc = ensure_conn(db);
    if (rc == 0)
      rc = ensure_prepared(st);
    if (rc)
      return rc;
    PGresult *r = pg_wait_result(db,
                                 PQsendQueryPrepared(db->conn, st->name, st->nparams,
                                                     (const char *const *)st->vals, NULL, NULL, 0),
                                 st->sql);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
      rc = note_failure(db, r);
      PQclear(r);
      return rc;
    }
    /* db_changes(): rows changed by the last INSERT, UPDATE or DELETE (RETURNING included). */
    const char *status = PQcmdStatus(r);
    if (strncmp(status, "INSERT", 6) == 0 || strncmp(status, "UPDATE", 6) == 0 ||
        strncmp(status, "DELETE", 6) == 0)
      db->changes = atoi(PQcmdTuples(r));
    st->res = r;
    st->ran = true;
    st->row = -1;
    st->nrows = s == PGRES_TUPLES_OK ? PQntuples(r) : 0;
  }
  if (st->row + 1 < st->nrows) {
    st->row++;
    return DB_ROW;
  }
  st->row = st->nrows;
  return DB_DONE;
}

static void pg_reset(struct db_stmt *t)
{
  clear_result(PST(t));
}

static const char *value(struct pg_stmt *st, int i)
{
  if (!st->res || st->row < 0 || st->row >= st->nrows || i < 0 || i >= PQnfields(st->res) ||
      PQgetisnull(st->res, st->row, i))
    return NULL;
  return PQgetvalue(st->res, st->row, i);
}

static int64_t pg_col_int64(struct db_stmt *t, int i)
{
  const char *v = value(PST(t), i);
  if (!v)
    return 0;
  if (v[0] == 't' && !v[1])
    return 1; /* a boolean: SQLite's comparisons are 0 and 1 */
  if (v[0] == 'f' && !v[1])
    return 0;
  char *end = NULL;
  long long x = strtoll(v, &end, 10);
  if (end && (*end == '.' || *end == 'e' || *end == 'E'))
    x = (long long)strtod(v, NULL); /* numeric from sum() or avg(): as SQLite's int64 of a real */
  return x;
}

static double pg_col_double(struct db_stmt *t, int i)
{
  const char *v = value(PST(t), i);
  if (!v)
    return 0.0;
  if (v[0] == 't' && !v[1])
    return 1.0;
  return strtod(v, NULL);
}

static bool pg_col_is_null(struct db_stmt *t, int i)
{
  return value(PST(t), i) == NULL;
}

static const char *pg_col_text_ref(struct db_stmt *t, int i)
{
  return value(PST(t), i);
}

static enum db_col_type pg_col_type(struct db_stmt *t, int i)
{
  struct pg_stmt *st = PST(t);
  if (!value(st, i))
    return DB_NULL;
  switch (PQftype(st->res, i)) {
    case 20: /* int8 */
    case 21: /* int2 */
    case 23: /* int4 */
    case 16: /* bool */
      return DB_INTEGER;
    case 700:  /* float4 */
    case 701:  /* float8 */
    case 1700: /* numeric */
      return DB_FLOAT;
    case 17: /* bytea */
      return DB_BLOB;
    default:
      return DB_TEXT;
  }
}

static int pg_col_count(struct db_stmt *t)
{
  struct pg_stmt *st = PST(t);
  return st->res ? PQnfields(st->res) : 0;
}

static const char *pg_col_name(struct db_stmt *t, int i)
{
  struct pg_stmt *st = PST(t);
  return st->res && i >= 0 && i < PQnfields(st->res) ? PQfname(st->res, i) : NULL;
}

static int pg_changes(struct db *d)
{
  return PG(d)->changes;
}

int pg_exec(struct db *d, const char *sql)
{
  struct pg_db *db = PG(d);
  int rc = ensure_conn(db);
  if (rc)
    return rc;
  PGresult *r = pg_call(db, sql);
  ExecStatusType s = PQresultStatus(r);
  rc = (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) ? 0 : note_failure(db, r);
  PQclear(r);
  if (rc) {
    char q[400];
    LOG_ERROR("db", "exec_failed", "engine=postgres state=%s msg=%s", db->state,
              log_quote(q, sizeof(q), db->msg));
  }
  return rc;
}

int pg_fail(struct db *d, int err, const char *what)
{
  struct pg_db *db = PG(d);
  char q[400];
  LOG_ERROR("db", "pg_error", "what=%s state=%s msg=%s", what, db->state[0] ? db->state : "-",
            log_quote(q, sizeof(q), db->msg));
  return err < 0 ? err : KX_EDB;
}

/* Transaction control, quietly: the caller logs what failed. */
int tx(struct pg_db *db, const char *sql)
{
  if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
    note_failure(db, NULL);
    return KX_EIO;
  }
  PGresult *r = pg_call(db, sql);
  int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : note_failure(db, r);
  PQclear(r);
  return rc;
}

/* The outer transaction is gone (the connection dropped, or a reconnection happened) while
 * our count says one is open: nothing may run as if it were inside it. */
static bool lost_outer(struct pg_db *db)
{
  return db->depth > 0 && (!db->conn || PQstatus(db->conn) != CONNECTION_OK ||
                           PQtransactionStatus(db->conn) == PQTRANS_IDLE);
}

/* What a level inside a lost transaction gets: the transaction is gone (KX_EDB, as SQLite), or
 * with it the connection (KX_EIO). */
static int lost_code(const struct pg_db *db)
{
  return db->conn && PQstatus(db->conn) == CONNECTION_OK ? KX_EDB : KX_EIO;
}

static int pg_begin(struct db *d)
{
  struct pg_db *db = PG(d);
  if (lost_outer(db))
    return lost_code(db);
  int rc = db->depth ? tx(db, "SAVEPOINT kx") : ensure_conn(db);
  if (rc == 0 && db->depth == 0)
    rc = tx(db, "BEGIN");
  if (rc == 0)
    db->depth++;
  else
    pg_fail(d, rc, db->depth ? "savepoint" : "begin");
  return rc;
}

static int pg_commit(struct db *d)
{
  struct pg_db *db = PG(d);
  if (lost_outer(db))
    return lost_code(db);
  if (db->depth > 1) {
    int rc = tx(db, "RELEASE kx"); /* refused after a failed statement: the caller rolls back */
    if (rc == 0)
      db->depth--;
    return rc;
  }
  if (PQtransactionStatus(db->conn) == PQTRANS_INERROR) {
    /* A statement failed inside: COMMIT would only roll back. Say so. */
    snprintf(db->msg, sizeof(db->msg), "a statement of this transaction failed");
    return KX_EDB;
  }
  int rc = tx(db, "COMMIT");
  if (rc == 0 && db->depth > 0)
    db->depth--;
  else if (rc)
    pg_fail(d, rc, "commit");
  return rc;
}

static int pg_rollback(struct db *d)
{
  struct pg_db *db = PG(d);
  if (!db->conn || PQstatus(db->conn) != CONNECTION_OK ||
      PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
    if (db->depth > 0)
      db->depth--;
    return 0;
  }
  if (db->depth > 1 && tx(db, "ROLLBACK TO kx") == 0 && tx(db, "RELEASE kx") == 0) {
    db->depth--;
    return 0;
  }
  int rc = tx(db, "ROLLBACK");
  /* Rolled back, or the connection (and with it the transaction) is gone: one level less
   * either way, so the count never outlives the transaction (ensure_conn reconnects only at
   * depth 0). */
  if (rc == 0 || !db->conn || PQstatus(db->conn) != CONNECTION_OK ||
      PQtransactionStatus(db->conn) == PQTRANS_IDLE)
    db->depth = db->depth > 1 ? db->depth - 1 : 0;
  return rc;
}

static bool pg_in_transaction(struct db *d)
{
  struct pg_db *db = PG(d);
  if (!db->conn || PQstatus(db->conn) != CONNECTION_OK)
    return false;
  PGTransactionStatusType s = PQtransactionStatus(db->conn);
  return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

static int pg_depth(struct db *d)
{
  return PG(d)->depth;
}

/* SQLite's quick_check reads every page of the file; PostgreSQL checks its own pages (data
 * checksums, the server's logs). The health that matters here is the connection, which the
 * housekeeping worker's ping reports each second (app_health.db_down): nothing to add. */
static int pg_check(struct db *d)
{
  (void)d;
  return 0;
}

static void pg_busy_timeout(struct db *d, int ms)
{
  /* The loop's session is the one given a short lock wait (bot/app.c): its calls are bounded
   * by CALL_TIMEOUT_MS too. */
  PG(d)->call_timeout_ms = CALL_TIMEOUT_MS;
  struct pg_db *db = PG(d);
  db->lock_timeout_ms = ms;
  if (db->conn && PQstatus(db->conn) == CONNECTION_OK && !pg_in_transaction(d))
    (void)session_setup(db);
}

static void pg_retry_now(struct db *d)
{
  __atomic_store_n(&PG(d)->pause_until_ms, 0, __ATOMIC_RELAXED);
}

static const char *pg_path(struct db *d)
{
  return PG(d)->label;
}

static void pg_close(struct db *d)
{
  struct pg_db *db = PG(d);
  for (size_t i = 0; i < STMT_CACHE_SIZE; i++)
    if (db->cache[i].st) {
      db->cache[i].st->name[0] = '\0'; /* the session ends: nothing to deallocate */
      stmt_free(db->cache[i].st);
    }
  if (db->conn)
    PQfinish(db->conn);
  free(db->conninfo);
  free(db);
}

const struct db_ops db_pg_ops = {
    .engine = DB_ENGINE_POSTGRES,
    .name = "postgres",
    .stmt = pg_stmt,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .bind_text = pg_bind_text,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .reset = pg_reset,
    .col_int64 = pg_col_int64,
    .col_double = pg_col_double,
    .col_is_null = pg_col_is_null,
    .col_text_ref = pg_col_text_ref,
    .col_type = pg_col_type,
    .col_count = pg_col_count,
    .col_name = pg_col_name,
    .changes = pg_changes,
    .exec = pg_exec,
    .fail = pg_fail,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .in_transaction = pg_in_transaction,
    .depth = pg_depth,
    .schema_version = pg_schema_version,
    .migration_begin = pg_migration_begin,
    .migration_version = pg_migration_version,
    .check = pg_check,
    .busy_timeout = pg_busy_timeout,
    .backup = pg_backup,
    .set_autocheckpoint = pg_set_autocheckpoint,
    .checkpoint = pg_checkpoint,
    .clock_ms = pg_clock_ms,
    .notify = pg_notify,
    .listen = pg_listen,
    .listen_fd = pg_listen_fd,
    .listen_drain = pg_listen_drain,
    .retry_now = pg_retry_now,
    .path = pg_path,
    .close = pg_close,
};

static struct db *open_pg(const char *conninfo, int flags, bool wipe, int *err)
{
  struct pg_db *db = calloc(1, sizeof(*db));
  if (!db || !(db->conninfo = strdup(conninfo))) {
    free(db);
    *err = KX_ENOMEM;
    return NULL;
  }
  db->base.ops = &db_pg_ops;
  db->readonly = (flags & DB_OPEN_READONLY) != 0;
  db->lock_timeout_ms = 5000;
  db->call_timeout_ms = CALL_TIMEOUT_OTHER_MS;
  snprintf(db->label, sizeof(db->label), "postgres");
  int rc = pg_connect(db);
  /* Tests only: a fresh schema for each ":memory:" database (KLAXON_TEST_DATABASE_URL). */
  if (rc == 0 && wipe)
    rc = pg_exec(&db->base, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
  if (rc == 0 && db->readonly) {
    int v = pg_schema_version(&db->base);
    if (v != db_schema_latest()) {
      LOG_ERROR("db", "schema_mismatch", "db=%s version=%d expected=%d", db->label, v,
                db_schema_latest());
      rc = KX_EDB;
    }
  } else if (rc == 0) {
    rc = db_migrate(&db->base);
  }
  if (rc) {
    pg_close(&db->base);
    *err = rc;
    return NULL;
  }
  *err = 0;
  return &db->base;
}

struct db *db_open_pg(const char *conninfo, int flags, int *err)
{
  return open_pg(conninfo, flags, false, err);
}

struct db *db_open_pg_test(const char *conninfo, int *err)
{
  return open_pg(conninfo, 0, true, err);
}
