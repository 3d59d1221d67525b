/* storage/db_copy.c: the copy order read from a SQLite file (every table after the tables it
 * references, SQLite's own tables left out, a cycle refused with its tables named), the engines
 * checked, and — with KLAXON_TEST_DATABASE_URL set, a PostgreSQL database this test may wipe —
 * the copy itself: values by kind (NULL, text, integer, real), the identity set past the copied
 * ids, a second copy refused, and a table PostgreSQL lacks rolling everything back. The e2e test
 * tests/e2e/test_migrate_pg.py copies a database a running klaxon made. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/kx.h"
#include "storage/db.h"
#include "storage/db_copy.h"
#include "storage/db_engine.h"
#include "storage/db_internal.h"

struct tmpdb {
  char path[64];
  struct db *db;
};

/* A SQLite file with klaxon's schema (db_open never gives a file to PostgreSQL). */
static void tmpdb_open(struct tmpdb *t)
{
  snprintf(t->path, sizeof(t->path), "/tmp/klaxon-test-copy-XXXXXX");
  int fd = mkstemp(t->path);
  assert_true(fd >= 0);
  close(fd);
  unlink(t->path);
  int err = 0;
  t->db = db_open(t->path, 0, &err);
  assert_non_null(t->db);
  assert_false(db_is_postgres(t->db));
}

static void tmpdb_close(struct tmpdb *t)
{
  db_close(t->db);
  const char *suffixes[] = {"", "-wal", "-shm"};
  for (size_t i = 0; i < 3; i++) {
    char p[80];
    snprintf(p, sizeof(p), "%s%s", t->path, suffixes[i]);
    unlink(p);
  }
}

static long position(const struct db_copy *c, const char *name)
{
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->tables[i].name, name) == 0)
      return (long)i;
  return -1;
}

static int64_t count_sql(struct db *db, const char *sql)
{
  struct db_stmt *st = db_prepare(db, sql);
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  int64_t n = db_col_int64(st, 0);
  db_finalize(st);
  return n;
}

static void test_order_puts_parents_first(void **state)
{
  (void)state;
  struct tmpdb t;
  tmpdb_open(&t);
  /* A table whose name sorts first but that waits for incidents, one that references itself,
   * and SQLite's own sqlite_stat1 (made by ANALYZE). */
  assert_int_equal(db_exec(t.db,
                           "CREATE TABLE aa_child (id INTEGER PRIMARY KEY, "
                           "up INTEGER REFERENCES aa_child(id), "
                           "inc INTEGER REFERENCES incidents(id));"
                           "ANALYZE;"),
                   0);
  assert_true(count_sql(t.db, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"));
  struct db_copy c;
  assert_int_equal(db_copy_tables(t.db, &c), 0);
  int64_t want = count_sql(t.db,
                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT "
                           "LIKE 'sqlite%'");
  assert_int_equal((int64_t)c.n, want);
  assert_true(want >= 30);
  assert_int_equal(position(&c, "sqlite_stat1"), -1);
  /* Every foreign key of every table points to a table copied before it. */
  int checked = 0;
  for (size_t i = 0; i < c.n; i++) {
    struct db_stmt *st = db_prepare(t.db, "SELECT \"table\" FROM pragma_foreign_key_list(?1)");
    assert_non_null(st);
    assert_int_equal(db_bind_text(st, 1, c.tables[i].name), 0);
    while (db_step(st) == DB_ROW) {
      const char *parent = db_col_text_ref(st, 0);
      if (strcmp(parent, c.tables[i].name) == 0)
        continue;
      long p = position(&c, parent);
      assert_true(p >= 0);
      if (p >= (long)i)
        fail_msg("%s is copied before its parent %s", c.tables[i].name, parent);
      checked++;
    }
    db_finalize(st);
  }
  assert_true(checked >= 6); /* incident_*, page_*, note_handovers, aa_child */
  assert_true(position(&c, "aa_child") > position(&c, "incidents"));
  db_copy_free(&c);
  assert_null(c.tables);
  db_copy_free(NULL);
  tmpdb_close(&t);
}

static void test_cycle_is_refused_with_its_tables(void **state)
{
  (void)state;
  struct tmpdb t;
  tmpdb_open(&t);
  assert_int_equal(db_exec(t.db,
                           "CREATE TABLE cyc_a (id INTEGER PRIMARY KEY, b INTEGER REFERENCES "
                           "cyc_b(id));"
                           "CREATE TABLE cyc_b (id INTEGER PRIMARY KEY, a INTEGER REFERENCES "
                           "cyc_a(id));"),
                   0);
  struct db_copy c;
  assert_int_equal(db_copy_tables(t.db, &c), KX_EDB);
  assert_non_null(strstr(c.why, "cycle"));
  assert_non_null(strstr(c.why, "cyc_a, cyc_b"));
  db_copy_free(&c);
  tmpdb_close(&t);
}

static void test_engines_are_checked(void **state)
{
  (void)state;
  struct tmpdb a, b;
  tmpdb_open(&a);
  tmpdb_open(&b);
  struct db_copy c;
  assert_int_equal(db_copy_run(a.db, b.db, &c), KX_EUNSUPPORTED);
  assert_non_null(strstr(c.why, "not a PostgreSQL database"));
  db_copy_free(&c);
  /* Nothing was left open on the source. */
  assert_false(db_in_transaction(a.db));
  tmpdb_close(&a);
  tmpdb_close(&b);
}

static void test_copy_into_postgres(void **state)
{
  (void)state;
  const char *url = getenv("KLAXON_TEST_DATABASE_URL");
  if (!url || !*url)
    skip(); /* the e2e test covers it with a real PostgreSQL */
  struct tmpdb t;
  tmpdb_open(&t);
  assert_int_equal(
      db_exec(t.db,
              "INSERT INTO incidents (id, title, description, severity, status, declared_at, "
              "impact_start_at, last_update_at) VALUES (7, 'naïve \"quotes\" it''s', NULL, "
              "'P1', 'investigating', 1796000000000, 1796000000000, 1796000000001);"
              "INSERT INTO incident_roles (incident_id, role, who, since) VALUES "
              "(7, 'commander', 'alice', 1796000000000);"
              "INSERT INTO status_checks (name, up, firing, last_ms) VALUES ('api', 1, 0, 1.5);"),
      0);
  int err = 0;
  struct db *pg = db_open_pg_test(url, &err);
  assert_non_null(pg);
  struct db_copy c;
  int rc = db_copy_run(t.db, pg, &c);
  if (rc)
    fail_msg("db_copy_run: %s", c.why);
  assert_int_equal(c.rows, 3);
  assert_true(c.sequences >= 10);
  assert_int_equal(c.tables[position(&c, "incidents")].rows, 1);
  db_copy_free(&c);
  struct db_stmt *st = db_prepare(
      pg,
      "SELECT i.title, i.description, i.declared_at, s.last_ms FROM incidents i, status_checks s");
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  assert_string_equal(db_col_text_ref(st, 0), "naïve \"quotes\" it's");
  assert_int_equal(db_col_type(st, 1), DB_NULL);
  assert_int_equal(db_col_type(st, 2), DB_INTEGER);
  assert_int_equal(db_col_int64(st, 2), 1796000000000LL);
  assert_int_equal(db_col_type(st, 3), DB_FLOAT);
  assert_true(db_col_double(st, 3) == 1.5);
  db_finalize(st);
  /* The next incident klaxon adds gets number 8. */
  assert_int_equal(
      count_sql(pg,
                "INSERT INTO incidents (title, severity, status, declared_at, impact_start_at, "
                "last_update_at) VALUES ('next', 'P1', 'investigating', 1, 1, 1) RETURNING id"),
      8);
  /* A second copy is refused, and says where the rows are. */
  rc = db_copy_run(t.db, pg, &c);
  assert_int_equal(rc, KX_EEXISTS);
  assert_non_null(strstr(c.why, "incident_roles, incidents, status_checks"));
  db_copy_free(&c);
  assert_int_equal(count_sql(pg, "SELECT count(*) FROM incidents"), 2);
  db_close(pg);
  tmpdb_close(&t);
}

static void test_schema_difference_rolls_back(void **state)
{
  (void)state;
  const char *url = getenv("KLAXON_TEST_DATABASE_URL");
  if (!url || !*url)
    skip();
  struct tmpdb t;
  tmpdb_open(&t);
  /* zz_extra sorts last: incidents is copied before the copy finds it has nowhere to go. */
  assert_int_equal(db_exec(t.db,
                           "INSERT INTO kv (key, value, updated_at) VALUES ('k', 'v', 1);"
                           "CREATE TABLE zz_extra (id INTEGER PRIMARY KEY);"),
                   0);
  int err = 0;
  struct db *pg = db_open_pg_test(url, &err);
  assert_non_null(pg);
  struct db_copy c;
  assert_int_equal(db_copy_run(t.db, pg, &c), KX_EDB);
  assert_non_null(strstr(c.why, "table zz_extra of the SQLite file is not in the PostgreSQL"));
  db_copy_free(&c);
  assert_false(db_in_transaction(pg));
  assert_int_equal(count_sql(pg, "SELECT count(*) FROM kv"), 0);
  db_close(pg);
  tmpdb_close(&t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_order_puts_parents_first),
      cmocka_unit_test(test_cycle_is_refused_with_its_tables),
      cmocka_unit_test(test_engines_are_checked),
      cmocka_unit_test(test_copy_into_postgres),
      cmocka_unit_test(test_schema_difference_rolls_back),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
