/* storage/db_internal.h: the engine-neutral statement API itself — binding, stepping, reading
 * columns (NULL included), errors converted to KX_E*, changes, ids from RETURNING, the statement
 * cache (one statement per SQL text address, reset and unbound when handed out again) and the
 * uncached db_prepare(). On SQLite (":memory:" and a temporary file for the lock test). */
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
#include "lib/log.h"
#include "storage/db.h"
#include "storage/db_internal.h"

static const char create[] =
    "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, n INTEGER, d REAL, s TEXT)";
static const char ins[] = "INSERT INTO t (k, n, d, s) VALUES (?, ?, ?, ?) RETURNING id";
static const char by_k[] = "SELECT id, k, n, d, s FROM t WHERE k = ?";

static int setup(void **state)
{
  int err = 0;
  struct db *db = db_open(":memory:", 0, &err);
  assert_non_null(db);
  assert_int_equal(db_exec(db, create), 0);
  *state = db;
  return 0;
}

static int teardown(void **state)
{
  db_close(*state);
  return 0;
}

static int64_t insert(struct db *db, const char *k, int64_t n, double d, const char *s)
{
  struct db_stmt *st = db_stmt(db, ins);
  assert_non_null(st);
  assert_int_equal(db_bind_text(st, 1, k), 0);
  assert_int_equal(db_bind_int64(st, 2, n), 0);
  assert_int_equal(db_bind_double(st, 3, d), 0);
  assert_int_equal(db_bind_text(st, 4, s), 0);
  /* The storage files' pattern: one row, its id, reset without stepping to the end. */
  assert_int_equal(db_step(st), DB_ROW);
  int64_t id = db_col_int64(st, 0);
  db_reset(st);
  assert_int_equal(db_changes(db), 1);
  return id;
}

static void test_bind_step_columns(void **state)
{
  struct db *db = *state;
  const int64_t big = (int64_t)5 << 40; /* needs all 64 bits */
  int64_t id1 = insert(db, "a", big + 7, 2.5, "héllo");
  int64_t id2 = insert(db, "b", -3, 0.0, NULL);
  assert_true(id1 > 0);
  assert_int_equal(id2, id1 + 1);

  struct db_stmt *st = db_stmt(db, by_k);
  assert_non_null(st);
  assert_int_equal(db_bind_text(st, 1, "a"), 0);
  assert_int_equal(db_step(st), DB_ROW);
  assert_int_equal(db_col_int64(st, 0), id1);
  assert_string_equal(db_col_text_ref(st, 1), "a");
  assert_int_equal(db_col_int64(st, 2), big + 7);
  assert_int_equal(db_col_int(st, 2), 7); /* the low 32 bits */
  assert_true(db_col_double(st, 3) == 2.5);
  char *s = db_col_text(st, 4);
  assert_string_equal(s, "héllo");
  free(s);
  assert_false(db_col_is_null(st, 4));
  assert_int_equal(db_step(st), DB_DONE);
  db_reset(st);

  /* SQL NULL: is_null, 0, and NULL text (copied or borrowed). */
  st = db_stmt(db, by_k);
  assert_int_equal(db_bind_text(st, 1, "b"), 0);
  assert_int_equal(db_step(st), DB_ROW);
  assert_int_equal(db_col_int64(st, 2), -3);
  assert_true(db_col_is_null(st, 4));
  assert_null(db_col_text(st, 4));
  assert_null(db_col_text_ref(st, 4));
  assert_int_equal(db_col_int64(st, 4), 0);
  db_reset(st);

  /* db_bind_null and a NULL text bind are the same SQL NULL. */
  static const char upd[] = "UPDATE t SET s = ?, n = ? WHERE k = 'a'";
  st = db_stmt(db, upd);
  assert_int_equal(db_bind_text(st, 1, NULL), 0);
  assert_int_equal(db_bind_null(st, 2), 0);
  assert_int_equal(db_step_done(db, st, "test_update"), 0);
  st = db_stmt(db, by_k);
  assert_int_equal(db_bind_text(st, 1, "a"), 0);
  assert_int_equal(db_step(st), DB_ROW);
  assert_true(db_col_is_null(st, 2));
  assert_true(db_col_is_null(st, 4));
  db_reset(st);

  /* No row at all is DB_DONE at once. */
  st = db_stmt(db, by_k);
  assert_int_equal(db_bind_text(st, 1, "nobody"), 0);
  assert_int_equal(db_step(st), DB_DONE);
  db_reset(st);
}

static void test_changes(void **state)
{
  struct db *db = *state;
  for (int i = 0; i < 3; i++) {
    char k[8];
    snprintf(k, sizeof(k), "k%d", i);
    insert(db, k, i, 0, "x");
  }
  static const char upd[] = "UPDATE t SET s = 'y' WHERE n >= ?";
  struct db_stmt *st = db_stmt(db, upd);
  assert_int_equal(db_bind_int64(st, 1, 1), 0);
  assert_int_equal(db_step_done(db, st, "test_update"), 0);
  assert_int_equal(db_changes(db), 2);
  st = db_stmt(db, upd);
  assert_int_equal(db_bind_int64(st, 1, 100), 0);
  assert_int_equal(db_step_done(db, st, "test_update"), 0);
  assert_int_equal(db_changes(db), 0);
  /* A step that returns a row is not an error for db_step_done (the rest are not read). */
  static const char all[] = "SELECT k FROM t";
  assert_int_equal(db_step_done(db, db_stmt(db, all), "test_select"), 0);
}

/* RETURNING, the portable way to learn an inserted row's id (docs/ha.md item 3): the row is
 * written by the first step even when the statement is reset right after its row; a conflict
 * that ON CONFLICT DO NOTHING skips returns no row at all; UPDATE … RETURNING gives the row as
 * updated, and nothing when no row matched. */
static void test_returning(void **state)
{
  struct db *db = *state;
  int64_t id1 = insert(db, "r1", 1, 0, "x");
  int64_t id2 = insert(db, "r2", 2, 0, "x");
  assert_true(id1 > 0);
  assert_int_equal(id2, id1 + 1);
  struct db_stmt *st = db_stmt(db, by_k);
  assert_int_equal(db_bind_text(st, 1, "r2"), 0);
  assert_int_equal(db_step(st), DB_ROW);
  assert_int_equal(db_col_int64(st, 0), id2);
  db_reset(st);

  static const char once[] =
      "INSERT INTO t (k, n) VALUES (?, 0) ON CONFLICT (k) DO NOTHING RETURNING id";
  st = db_stmt(db, once);
  assert_int_equal(db_bind_text(st, 1, "r3"), 0);
  assert_int_equal(db_step(st), DB_ROW);
  assert_int_equal(db_col_int64(st, 0), id2 + 1);
  assert_int_equal(db_step(st), DB_DONE);
  db_reset(st);
  st = db_stmt(db, once);
  assert_int_equal(db_bind_text(st, 1, "r1"), 0);
  assert_int_equal(db_step(st), DB_DONE);
  db_reset(st);
  assert_int_equal(db_changes(db), 0);

  static const char upd[] = "UPDATE t SET n = n + 10 WHERE k = ? RETURNING id, n";
  st = db_stmt(db, upd);
  assert_int_equal(db_bind_text(st, 1, "r2"), 0);
  assert_int_equal(db_step(st), DB_ROW);
  assert_int_equal(db_col_int64(st, 0), id2);
  assert_int_equal(db_col_int64(st, 1), 12);
  db_reset(st);
  st = db_stmt(db, upd);
  assert_int_equal(db_bind_text(st, 1, "nobody"), 0);
  assert_int_equal(db_step(st), DB_DONE);
  db_reset(st);
  /* A UNIQUE violation is still an error with RETURNING (not a missing row). */
  st = db_stmt(db, ins);
  assert_int_equal(db_bind_text(st, 1, "r1"), 0);
  assert_int_equal(db_step(st), KX_ECONSTRAINT);
  db_reset(st);
}

static void test_cache(void **state)
{
  struct db *db = *state;
  insert(db, "a", 1, 0, "x");
  struct db_stmt *st = db_stmt(db, by_k);
  assert_non_null(st);
  assert_int_equal(db_bind_text(st, 1, "a"), 0);
  assert_int_equal(db_step(st), DB_ROW);
  /* Handed out again (without a reset by the caller): the same statement, reset, its
   * bindings cleared — the unbound parameter is NULL, which matches nothing. */
  struct db_stmt *again = db_stmt(db, by_k);
  assert_ptr_equal(again, st);
  assert_int_equal(db_step(again), DB_DONE);
  db_reset(again);
  /* Keyed by address: the same text at another address is another statement. */
  static const char copy[] = "SELECT id, k, n, d, s FROM t WHERE k = ?";
  struct db_stmt *other = db_stmt(db, copy);
  assert_non_null(other);
  assert_ptr_not_equal(other, st);
  /* Uncached statements are the caller's, one per call. */
  struct db_stmt *p1 = db_prepare(db, "SELECT count(*) FROM t");
  struct db_stmt *p2 = db_prepare(db, "SELECT count(*) FROM t");
  assert_non_null(p1);
  assert_non_null(p2);
  assert_ptr_not_equal(p1, p2);
  assert_int_equal(db_step(p1), DB_ROW);
  assert_int_equal(db_col_int64(p1, 0), 1);
  db_finalize(p1);
  db_finalize(p2);
  db_finalize(NULL);
}

static void test_errors(void **state)
{
  struct db *db = *state;
  FILE *tmp = tmpfile();
  assert_non_null(tmp);
  log_set_output(tmp);
  /* SQL that does not prepare: NULL, cached or not. */
  static const char bad[] = "SELEKT 1";
  assert_null(db_stmt(db, bad));
  assert_null(db_prepare(db, "SELECT nope FROM t"));
  /* A parameter out of range. */
  struct db_stmt *st = db_stmt(db, by_k);
  assert_int_equal(db_bind_text(st, 2, "x"), KX_EDB);
  assert_int_equal(db_bind_int64(st, 0, 1), KX_EDB);
  db_reset(st);
  /* A broken constraint: db_step converts, db_step_done logs once as `what`. */
  insert(db, "a", 1, 0, "x");
  st = db_stmt(db, ins);
  assert_int_equal(db_bind_text(st, 1, "a"), 0);
  assert_int_equal(db_step(st), KX_ECONSTRAINT);
  db_reset(st);
  st = db_stmt(db, ins);
  assert_int_equal(db_bind_text(st, 1, "a"), 0);
  assert_int_equal(db_step_done(db, st, "test_dup"), KX_ECONSTRAINT);
  /* db_fail keeps a code, and makes an unexpected row or end KX_EDB. */
  assert_int_equal(db_fail(db, KX_EBUSY, "test_fail"), KX_EBUSY);
  assert_int_equal(db_fail(db, DB_ROW, "test_fail"), KX_EDB);
  assert_int_equal(db_fail(db, DB_DONE, "test_fail"), KX_EDB);
  /* DDL through db_exec: an error is converted too. */
  assert_int_equal(db_exec(db, "CREATE TABLE t (x)"), KX_EDB);
  log_set_output(NULL);
  assert_int_equal(fflush(tmp), 0);
  long n = ftell(tmp);
  assert_true(n > 0);
  char *text = calloc(1, (size_t)n + 1);
  rewind(tmp);
  assert_int_equal(fread(text, 1, (size_t)n, tmp), (size_t)n);
  fclose(tmp);
  assert_non_null(strstr(text, "bad_sql sql=SELEKT 1"));
  assert_non_null(strstr(text, "what=test_dup"));
  assert_non_null(strstr(text, "UNIQUE constraint failed: t.k"));
  assert_null(strstr(text, "what=test_insert")); /* successes log nothing */
  free(text);
}

/* Another connection holds the write lock: KX_EBUSY once the busy timeout has run out. */
static void test_busy(void **state)
{
  (void)state;
  char path[] = "/tmp/klaxon-dbapi-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  unlink(path);
  int err = 0;
  struct db *a = db_open(path, 0, &err);
  assert_non_null(a);
  struct db *b = db_open(path, 0, &err);
  assert_non_null(b);
  db_busy_timeout(b, 0);
  assert_int_equal(db_exec(a, create), 0);
  assert_int_equal(db_begin(a), 0);
  FILE *devnull = fopen("/dev/null", "w");
  assert_non_null(devnull);
  log_set_output(devnull);
  assert_int_equal(db_begin(b), KX_EBUSY);
  static const char w[] = "INSERT INTO t (k) VALUES ('z')";
  assert_int_equal(db_step(db_stmt(b, w)), KX_EBUSY);
  db_reset(db_stmt(b, w));
  log_set_output(NULL);
  fclose(devnull);
  assert_int_equal(db_commit(a), 0);
  assert_int_equal(db_step_done(b, db_stmt(b, w), "test_write"), 0);
  db_close(a);
  db_close(b);
  char side[sizeof(path) + 8];
  unlink(path);
  snprintf(side, sizeof(side), "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof(side), "%s-shm", path);
  unlink(side);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_bind_step_columns, setup, teardown),
      cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_returning, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
      cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
      cmocka_unit_test(test_busy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
