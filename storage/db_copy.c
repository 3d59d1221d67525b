/*
 * db_copy.c — see db_copy.h. The SQL here is of two kinds on purpose: SQLite's catalogue
 * (sqlite_master, pragma_table_info, pragma_foreign_key_list) on the source and PostgreSQL's
 * (information_schema, LOCK TABLE, setval) on the destination; the rows themselves go through
 * the engine-neutral statement API, each value bound by the kind the source stored.
 */
#include "storage/db_copy.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/kx.h"
#include "lib/log.h"
#include "storage/db_internal.h"

/* A statement of ours takes at most this many parameters on PostgreSQL (db_pg.c), so a table
 * may have at most this many columns; klaxon's widest has about twenty. */
#define MAX_COLUMNS 64
/* How many non-empty tables a refusal names before it says "…". */
#define NAMED_TABLES 6

static const char sql_tables[] =
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
    "ESCAPE '\\' ORDER BY name";
static const char sql_parents[] = "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)";
static const char sql_columns[] = "SELECT name FROM pragma_table_info(?1) ORDER BY cid";
static const char sql_pg_tables[] =
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
    "AND table_type = 'BASE TABLE' AND table_name <> 'klaxon_schema' ORDER BY 1";
static const char sql_pg_columns[] =
    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
    "AND table_name = ?1";
static const char sql_pg_identities[] =
    "SELECT table_name, column_name FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY 1, 2";

struct names {
  char **v;
  size_t n, cap;
};

static int names_add(struct names *l, const char *s)
{
  int rc = db_grow((void **)&l->v, &l->cap, l->n, sizeof(*l->v));
  if (rc)
    return rc;
  if (!(l->v[l->n] = strdup(s)))
    return KX_ENOMEM;
  l->n++;
  return 0;
}

static void names_free(struct names *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof(*l));
}

/* The index of s in l (SQLite's names are case-insensitive), or -1. */
static long names_find(const struct names *l, const char *s)
{
  for (size_t i = 0; i < l->n; i++)
    if (strcasecmp(l->v[i], s) == 0)
      return (long)i;
  return -1;
}

static int fail(struct db_copy *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct db_copy *c, int err, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->why, sizeof(c->why), fmt, ap);
  va_end(ap);
  return err;
}

/* "name" as an identifier both engines read back as name, whatever it holds. */
static char *quoted(const char *name)
{
  size_t n = strlen(name);
  char *q = malloc(2 * n + 3);
  if (!q)
    return NULL;
  char *p = q;
  *p++ = '"';
  for (const char *s = name; *s; s++) {
    if (*s == '"')
      *p++ = '"';
    *p++ = *s;
  }
  *p++ = '"';
  *p = '\0';
  return q;
}

/* Column `col` of every row of sql (with ?1 bound to arg when arg is given), appended to out. */
static int query_names(struct db *db, const char *sql, const char *arg, int col, struct names *out)
{
  struct db_stmt *st = db_prepare(db, sql);
  if (!st)
    return KX_EDB;
  int rc = arg ? db_bind_text(st, 1, arg) : 0;
  while (rc == 0 && (rc = db_step(st)) == DB_ROW) {
    const char *s = db_col_text_ref(st, col);
    rc = s ? names_add(out, s) : 0;
  }
  db_finalize(st);
  return rc == DB_DONE ? 0 : db_fail(db, rc, "migrate_catalogue");
}

/* One integer from a query with no parameters; *v set, or the error logged. */
static int query_int(struct db *db, const char *sql, int64_t *v)
{
  struct db_stmt *st = db_prepare(db, sql);
  if (!st)
    return KX_EDB;
  int rc = db_step(st);
  if (rc == DB_ROW) {
    *v = db_col_int64(st, 0);
    rc = 0;
  }
  db_finalize(st);
  return rc == 0 ? 0 : db_fail(db, rc, "migrate_query");
}

static int add_table(struct db_copy *out, const char *name)
{
  int rc = db_grow((void **)&out->tables, &out->cap, out->n, sizeof(*out->tables));
  if (rc)
    return rc;
  struct db_copy_table *t = &out->tables[out->n];
  memset(t, 0, sizeof(*t));
  if (!(t->name = strdup(name)))
    return KX_ENOMEM;
  out->n++;
  return 0;
}

/* Place every table after its parents: repeatedly take, in name order, each table whose
 * parents are placed (a reference to itself, or to a table that is not there, does not wait). */
static int order_tables(const struct names *all, const struct names *parents, struct db_copy *out)
{
  bool *placed = calloc(all->n ? all->n : 1, sizeof(bool));
  if (!placed)
    return KX_ENOMEM;
  int rc = 0;
  bool progress = true;
  while (rc == 0 && out->n < all->n && progress) {
    progress = false;
    for (size_t i = 0; rc == 0 && i < all->n; i++) {
      bool ready = !placed[i];
      for (size_t k = 0; ready && k < parents[i].n; k++) {
        long p = names_find(all, parents[i].v[k]);
        ready = p < 0 || (size_t)p == i || placed[p];
      }
      if (ready) {
        placed[i] = progress = true;
        rc = add_table(out, all->v[i]);
      }
    }
  }
  if (rc == 0 && out->n < all->n) {
    char list[200] = "";
    for (size_t i = 0; i < all->n; i++)
      if (!placed[i] && strlen(list) + strlen(all->v[i]) + 3 < sizeof(list))
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", *list ? ", " : "",
                 all->v[i]);
    rc = fail(out, KX_EDB,
              "the foreign keys of these tables form a cycle, so no order of "
              "copying satisfies them: %s",
              list);
  }
  free(placed);
  return rc;
}

int db_copy_tables(struct db *src, struct db_copy *out)
{
  memset(out, 0, sizeof(*out));
  if (db_is_postgres(src))
    return fail(out, KX_EUNSUPPORTED, "the source is not a SQLite database");
  struct names all = {0};
  struct names *parents = NULL;
  int rc = query_names(src, sql_tables, NULL, 0, &all);
  if (rc == 0 && !(parents = calloc(all.n ? all.n : 1, sizeof(*parents))))
    rc = KX_ENOMEM;
  for (size_t i = 0; rc == 0 && i < all.n; i++)
    rc = query_names(src, sql_parents, all.v[i], 0, &parents[i]);
  if (rc == 0)
    rc = order_tables(&all, parents, out);
  else if (!out->why[0])
    fail(out, rc, "could not read the SQLite file's tables (%s)", kx_strerror(rc));
  for (size_t i = 0; parents && i < all.n; i++)
    names_free(&parents[i]);
  free(parents);
  names_free(&all);
  return rc;
}

void db_copy_free(struct db_copy *c)
{
  if (!c)
    return;
  for (size_t i = 0; i < c->n; i++)
    free(c->tables[i].name);
  free(c->tables);
  memset(c, 0, sizeof(*c));
}

/* Inside the destination's transaction: lock every klaxon table against writers (a klaxon
 * running on it, a second copy) and refuse unless all of them are empty. */
static int lock_and_check_empty(struct db *dst, struct db_copy *out)
{
  struct names tables = {0};
  int rc = query_names(dst, sql_pg_tables, NULL, 0, &tables);
  char *lock = NULL;
  size_t len = 64;
  for (size_t i = 0; rc == 0 && i < tables.n; i++)
    len += 2 * strlen(tables.v[i]) + 4;
  if (rc == 0 && tables.n && !(lock = malloc(len)))
    rc = KX_ENOMEM;
  if (rc == 0 && lock) {
    size_t at = (size_t)snprintf(lock, len, "LOCK TABLE ");
    for (size_t i = 0; rc == 0 && i < tables.n; i++) {
      char *q = quoted(tables.v[i]);
      if (!q)
        rc = KX_ENOMEM;
      else
        at += (size_t)snprintf(lock + at, len - at, "%s%s", i ? ", " : "", q);
      free(q);
    }
    if (rc == 0)
      snprintf(lock + at, len - at, " IN EXCLUSIVE MODE");
    if (rc == 0 && (rc = db_exec(dst, lock)) == KX_EBUSY)
      fail(out, rc,
           "another session is writing to the PostgreSQL database (a klaxon running on it, or "
           "another klaxon migrate): stop it and run the migration again");
  }
  free(lock);
  char named[300] = "";
  int nonempty = 0;
  for (size_t i = 0; rc == 0 && i < tables.n; i++) {
    char *q = quoted(tables.v[i]);
    char *sql = q ? kx_asprintf("SELECT EXISTS (SELECT 1 FROM %s)", q) : NULL;
    int64_t any = 0;
    rc = sql ? query_int(dst, sql, &any) : KX_ENOMEM;
    if (rc == 0 && any && ++nonempty <= NAMED_TABLES)
      snprintf(named + strlen(named), sizeof(named) - strlen(named), "%s%s", *named ? ", " : "",
               tables.v[i]);
    free(sql);
    free(q);
  }
  if (rc == 0 && nonempty)
    rc = fail(out, KX_EEXISTS,
              "the PostgreSQL database already holds klaxon data (rows in %s%s): klaxon migrate "
              "copies into an empty database only, so that a second run cannot duplicate "
              "anything; nothing was changed",
              named, nonempty > NAMED_TABLES ? ", …" : "");
  if (rc && !out->why[0])
    fail(out, rc, "could not check that the PostgreSQL database is empty (%s)", kx_strerror(rc));
  names_free(&tables);
  return rc;
}

/* SELECT "a", "b" FROM "t" on the source and INSERT INTO "t" ("a", "b") VALUES (?, ?) on the
 * destination, after checking that the destination has each column. */
static int build_sql(struct db *dst,
                     const char *table,
                     const struct names *cols,
                     char **sel,
                     char **ins,
                     struct db_copy *out)
{
  struct names have = {0};
  int rc = query_names(dst, sql_pg_columns, table, 0, &have);
  if (rc == 0 && have.n == 0)
    rc = fail(out, KX_EDB,
              "table %s of the SQLite file is not in the PostgreSQL database: the schemas "
              "differ (a table added to the file by hand?)",
              table);
  for (size_t i = 0; rc == 0 && i < cols->n; i++)
    if (names_find(&have, cols->v[i]) < 0)
      rc = fail(out, KX_EDB, "column %s.%s is not in the PostgreSQL database: the schemas differ",
                table, cols->v[i]);
  names_free(&have);
  size_t len = 2 * strlen(table) + 64;
  for (size_t i = 0; i < cols->n; i++)
    len += 2 * strlen(cols->v[i]) + 8;
  char *s = rc == 0 ? malloc(len) : NULL;
  char *n = rc == 0 ? malloc(len) : NULL;
  char *v = rc == 0 ? malloc(len) : NULL;
  char *qt = rc == 0 ? quoted(table) : NULL;
  if (rc == 0 && (!s || !n || !v || !qt))
    rc = KX_ENOMEM;
  if (rc == 0) {
    size_t sa = 0, va = 0;
    for (size_t i = 0; rc == 0 && i < cols->n; i++) {
      char *q = quoted(cols->v[i]);
      if (!q) {
        rc = KX_ENOMEM;
        break;
      }
      sa += (size_t)snprintf(s + sa, len - sa, "%s%s", i ? ", " : "", q);
      va += (size_t)snprintf(v + va, len - va, "%s?", i ? ", " : "");
      free(q);
    }
    if (rc == 0) {
      snprintf(n, len, "INSERT INTO %s (%s) VALUES (%s)", qt, s, v);
      *ins = n;
      n = NULL;
      *sel = kx_asprintf("SELECT %s FROM %s", s, qt);
      rc = *sel ? 0 : KX_ENOMEM;
    }
  }
  free(s);
  free(n);
  free(v);
  free(qt);
  return rc;
}

/* Bind column i of the source's row as parameter i + 1, by the kind of value SQLite holds. */
static int bind_value(struct db_stmt *row, struct db_stmt *ins, int i)
{
  switch (db_col_type(row, i)) {
    case DB_INTEGER:
      return db_bind_int64(ins, i + 1, db_col_int64(row, i));
    case DB_FLOAT:
      return db_bind_double(ins, i + 1, db_col_double(row, i));
    case DB_TEXT:
      return db_bind_text(ins, i + 1, db_col_text_ref(row, i));
    case DB_NULL:
      return db_bind_null(ins, i + 1);
    default:
      return KX_EUNSUPPORTED; /* a BLOB: klaxon never binds one */
  }
}

/* Every row of one table, one INSERT each (a statement prepared once, run per row). */
static int copy_rows(struct db *src,
                     struct db *dst,
                     struct db_stmt *sel,
                     struct db_stmt *ins,
                     struct db_copy_table *t,
                     struct db_copy *out)
{
  int rc;
  while ((rc = db_step(sel)) == DB_ROW) {
    int ncols = db_col_count(sel);
    for (int i = 0; i < ncols; i++) {
      int b = bind_value(sel, ins, i);
      if (b == KX_EUNSUPPORTED)
        return fail(out, b,
                    "table %s, row %lld: column %s holds a BLOB, which klaxon never writes "
                    "(was the file changed by another program?)",
                    t->name, (long long)t->rows + 1, db_col_name(sel, i));
      if (b)
        return fail(out, b, "table %s, row %lld: %s", t->name, (long long)t->rows + 1,
                    kx_strerror(b));
    }
    int s = db_step(ins);
    db_reset(ins);
    if (s != DB_DONE) {
      s = db_fail(dst, s, "migrate_insert");
      return fail(out, s,
                  "copying row %lld of table %s into PostgreSQL failed: %s (the log line above "
                  "has PostgreSQL's message); nothing was committed",
                  (long long)t->rows + 1, t->name, kx_strerror(s));
    }
    t->rows++;
  }
  if (rc != DB_DONE) {
    rc = db_fail(src, rc, "migrate_read");
    return fail(out, rc, "reading table %s from the SQLite file failed: %s", t->name,
                kx_strerror(rc));
  }
  return 0;
}

static int copy_table(struct db *src, struct db *dst, struct db_copy_table *t, struct db_copy *out)
{
  struct names cols = {0};
  char *sel_sql = NULL, *ins_sql = NULL;
  int rc = query_names(src, sql_columns, t->name, 0, &cols);
  if (rc == 0 && (cols.n == 0 || cols.n > MAX_COLUMNS))
    rc = fail(out, KX_EUNSUPPORTED, "table %s has %zu columns; a copy takes 1 to %d", t->name,
              cols.n, MAX_COLUMNS);
  if (rc == 0)
    rc = build_sql(dst, t->name, &cols, &sel_sql, &ins_sql, out);
  struct db_stmt *sel = rc == 0 ? db_prepare(src, sel_sql) : NULL;
  struct db_stmt *ins = sel ? db_prepare(dst, ins_sql) : NULL;
  if (rc == 0 && (!sel || !ins))
    rc = fail(out, KX_EDB, "could not prepare the copy of table %s (see the log)", t->name);
  if (rc == 0)
    rc = copy_rows(src, dst, sel, ins, t, out);
  if (rc == 0) {
    out->rows += t->rows;
    LOG_DEBUG("db", "migrate_table", "table=%s rows=%lld", t->name, (long long)t->rows);
  }
  db_finalize(sel);
  db_finalize(ins);
  free(sel_sql);
  free(ins_sql);
  names_free(&cols);
  if (rc && !out->why[0])
    fail(out, rc, "copying table %s failed: %s", t->name, kx_strerror(rc));
  return rc;
}

/* Each identity column's sequence past the largest copied value, so the next row klaxon adds
 * on PostgreSQL gets the next number (an empty table's starts at 1). */
static int set_sequences(struct db *dst, struct db_copy *out)
{
  struct names tables = {0}, cols = {0};
  int rc = query_names(dst, sql_pg_identities, NULL, 0, &tables);
  if (rc == 0)
    rc = query_names(dst, sql_pg_identities, NULL, 1, &cols);
  for (size_t i = 0; rc == 0 && i < tables.n && i < cols.n; i++) {
    char *qt = quoted(tables.v[i]), *qc = quoted(cols.v[i]);
    char *sql = qt && qc ? kx_asprintf(
                               "SELECT setval(pg_get_serial_sequence(?1, ?2), "
                               "(SELECT coalesce(max(%s), 0) + 1 FROM %s), false)",
                               qc, qt)
                         : NULL;
    struct db_stmt *st = sql ? db_prepare(dst, sql) : NULL;
    rc = st ? db_bind_text(st, 1, qt) : KX_ENOMEM;
    if (rc == 0)
      rc = db_bind_text(st, 2, cols.v[i]);
    if (rc == 0) {
      int s = db_step(st);
      rc = s == DB_ROW ? 0 : db_fail(dst, s, "migrate_setval");
    }
    if (rc == 0)
      out->sequences++;
    else
      fail(out, rc, "setting the identity of %s.%s past the copied ids failed: %s", tables.v[i],
           cols.v[i], kx_strerror(rc));
    db_finalize(st);
    free(sql);
    free(qt);
    free(qc);
  }
  if (rc && !out->why[0])
    fail(out, rc, "could not read the PostgreSQL identity columns (%s)", kx_strerror(rc));
  names_free(&tables);
  names_free(&cols);
  return rc;
}

/* Count every table again on both sides, inside both snapshots: the numbers must agree. */
static int compare_counts(struct db *src, struct db *dst, struct db_copy *out)
{
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < out->n; i++) {
    struct db_copy_table *t = &out->tables[i];
    char *q = quoted(t->name);
    char *sql = q ? kx_asprintf("SELECT count(*) FROM %s", q) : NULL;
    int64_t a = -1, b = -1;
    rc = sql ? query_int(src, sql, &a) : KX_ENOMEM;
    if (rc == 0)
      rc = query_int(dst, sql, &b);
    if (rc == 0 && (a != t->rows || b != t->rows))
      rc = fail(out, KX_EDB,
                "table %s: %lld rows in SQLite, %lld copied, %lld in PostgreSQL; nothing was "
                "committed",
                t->name, (long long)a, (long long)t->rows, (long long)b);
    else if (rc)
      fail(out, rc, "counting the rows of table %s failed: %s", t->name, kx_strerror(rc));
    free(sql);
    free(q);
  }
  return rc;
}

int db_copy_run(struct db *src, struct db *dst, struct db_copy *out)
{
  int rc = db_copy_tables(src, out);
  if (rc)
    return rc;
  if (!db_is_postgres(dst))
    return fail(out, KX_EUNSUPPORTED, "the destination is not a PostgreSQL database");
  /* One read snapshot of the file for the whole copy and the counts. */
  rc = db_exec(src, "BEGIN");
  if (rc)
    return fail(out, rc, "could not start reading the SQLite file (%s)", kx_strerror(rc));
  rc = db_begin(dst);
  if (rc)
    fail(out, rc, "could not start a transaction on PostgreSQL (%s)", kx_strerror(rc));
  else
    rc = lock_and_check_empty(dst, out);
  for (size_t i = 0; rc == 0 && i < out->n; i++)
    rc = copy_table(src, dst, &out->tables[i], out);
  if (rc == 0)
    rc = set_sequences(dst, out);
  if (rc == 0)
    rc = compare_counts(src, dst, out);
  if (rc == 0 && (rc = db_commit(dst)) != 0)
    fail(out, rc, "the commit on PostgreSQL failed (%s): nothing was copied", kx_strerror(rc));
  if (rc && db_in_transaction(dst))
    db_rollback(dst);
  db_exec(src, "COMMIT");
  if (rc == 0)
    LOG_INFO("db", "migrated_to_postgres", "tables=%zu rows=%lld sequences=%d", out->n,
             (long long)out->rows, out->sequences);
  return rc;
}
