/* storage/db_pg_text.c: SQLite's placeholders rewritten as PostgreSQL's, with SQLite's
 * numbering, and nothing inside quotes or comments touched. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdlib.h>
#include <string.h>

#include "storage/db_engine.h"

static void expect(const char *sql, const char *want, int want_n)
{
  int n = -1;
  char *got = db_pg_placeholders(sql, &n);
  assert_non_null(got);
  assert_string_equal(got, want);
  assert_int_equal(n, want_n);
  free(got);
}

static void test_bare_and_numbered(void **state)
{
  (void)state;
  expect("SELECT 1", "SELECT 1", 0);
  expect("SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2", 2);
  expect("UPDATE t SET a = ?2 WHERE id = ?1", "UPDATE t SET a = $2 WHERE id = $1", 2);
  expect("SELECT ?1 + ?1", "SELECT $1 + $1", 1);
  /* A bare ? is one more than the largest so far (jobs_cancel_prefix, status_window_active). */
  expect("UPDATE j SET done_at = ? WHERE substr(k, 1, length(?2)) = ?2",
         "UPDATE j SET done_at = $1 WHERE substr(k, 1, length($2)) = $2", 2);
  expect("SELECT ?3, ?", "SELECT $3, $4", 4);
  expect("SELECT ?12", "SELECT $12", 12);
}

static void test_quotes_and_comments_untouched(void **state)
{
  (void)state;
  expect("SELECT '?' , ?", "SELECT '?' , $1", 1);
  expect("SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1", 1);
  expect("SELECT \"we?ird\" FROM t WHERE x = ?", "SELECT \"we?ird\" FROM t WHERE x = $1", 1);
  expect("SELECT 1 -- why?\n, ?", "SELECT 1 -- why?\n, $1", 1);
  expect("SELECT /* ? */ ?", "SELECT /* ? */ $1", 1);
  /* Unterminated: copied to the end, never read past it. */
  expect("SELECT 'open ?", "SELECT 'open ?", 0);
  expect("SELECT /* open ?", "SELECT /* open ?", 0);
  expect("SELECT ?-", "SELECT $1-", 1);
}

/* Every bare ? grows to $ and its number: 2,000 of them (5 characters each at the end) fit. */
static void test_many_placeholders_fit(void **state)
{
  (void)state;
  char *sql = malloc(2001);
  assert_non_null(sql);
  memset(sql, '?', 2000);
  sql[2000] = '\0';
  int n = 0;
  char *got = db_pg_placeholders(sql, &n);
  assert_non_null(got);
  assert_int_equal(n, 2000);
  assert_int_equal(strncmp(got, "$1$2$3", 6), 0);
  assert_non_null(strstr(got, "$1999$2000"));
  free(got);
  free(sql);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bare_and_numbered),
      cmocka_unit_test(test_quotes_and_comments_untouched),
      cmocka_unit_test(test_many_placeholders_fit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
