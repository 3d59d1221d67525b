/* storage/page_targets.c and storage/alert_mail.c (issue 11): the rows the severities' ack
 * targets are measured on, an incident's own pages, and the alerts waiting for a digest —
 * on real SQLite (":memory:", migrated to the latest schema). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/alert_mail.h"
#include "storage/db.h"
#include "storage/page_targets.h"
#include "storage/pages.h"

static int setup(void **state)
{
  int err = 0;
  struct db *db = db_open(":memory:", 0, &err);
  assert_non_null(db);
  *state = db;
  return 0;
}

static int teardown(void **state)
{
  db_close(*state);
  return 0;
}

static int64_t page(struct db *db, const char *kind, const char *sev, int64_t at, const char *src)
{
  struct page_row r = {.kind = (char *)kind,
                       .severity = (char *)sev,
                       .title = (char *)"t",
                       .source = (char *)src,
                       .channel = (char *)(strcmp(kind, "post") == 0 ? "C0X" : NULL),
                       .rota = (char *)"r",
                       .created_at = at,
                       .anchor_at = at + 5};
  int64_t id = 0;
  assert_int_equal(pages_add(db, &r, &id), 0);
  return id;
}

static void test_target_rows(void **state)
{
  struct db *db = *state;
  int64_t a = page(db, "page", "P1", 1000, "webhook");
  int64_t b = page(db, "post", "P2", 2000, "webhook");
  page(db, "test", "P1", 3000, "test");    /* test pages are not measured */
  page(db, "page", NULL, 4000, "manual");  /* nor pages without a severity */
  page(db, "page", "P1", 99000, "manual"); /* outside the window */
  assert_int_equal(pages_ack(db, a, "alice", 1500), 0);
  assert_int_equal(pages_resolve(db, b, "carol", NULL, 2600), 0);
  struct page_target_row *rows = NULL;
  size_t n = 0;
  assert_int_equal(pages_target_rows(db, 0, 10000, &rows, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(rows[0].id, a);
  assert_string_equal(rows[0].kind, "page");
  assert_string_equal(rows[0].severity, "P1");
  assert_int_equal(rows[0].anchor_at, 1005);
  assert_int_equal(rows[0].acked_at, 1500);
  assert_int_equal(rows[0].resolved_at, 0);
  assert_string_equal(rows[1].kind, "post");
  assert_int_equal(rows[1].acked_at, 0);
  assert_int_equal(rows[1].resolved_at, 2600);
  page_target_rows_free(rows, n);
  page_target_rows_free(NULL, 0);
}

static void test_pages_of_incident(void **state)
{
  struct db *db = *state;
  int64_t a = page(db, "page", "P0", 1000, "incident");
  int64_t b = page(db, "page", "P0", 1000, "webhook"); /* linked by Declare incident: not its own */
  int64_t c = page(db, "page", "P0", 1000, "incident");
  assert_int_equal(pages_set_incident(db, a, 7), 0);
  assert_int_equal(pages_set_incident(db, b, 7), 0);
  assert_int_equal(pages_set_incident(db, c, 7), 0);
  assert_int_equal(pages_resolve(db, c, "alice", NULL, 1200), 0);
  int64_t *ids = NULL;
  size_t n = 0;
  assert_int_equal(pages_of_incident(db, 7, &ids, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(ids[0], a);
  free(ids);
  assert_int_equal(pages_of_incident(db, 8, &ids, &n), 0);
  assert_int_equal(n, 0);
  free(ids);
}

static void test_alert_mail(void **state)
{
  struct db *db = *state;
  struct alert_mail m = {.digest_key = (char *)"route2@100",
                         .recipients = (char *)"a@example.com,b@example.com",
                         .title = (char *)"CertExpires",
                         .severity = (char *)"info",
                         .created_at = 10};
  assert_int_equal(alert_mail_add(db, &m, NULL), 0);
  m.title = (char *)"DiskSoon";
  m.summary = (char *)"4 days";
  m.labels = (char *)"{\"host\":\"db-1\"}";
  assert_int_equal(alert_mail_add(db, &m, NULL), 0);
  m.digest_key = (char *)"route2@200";
  assert_int_equal(alert_mail_add(db, &m, NULL), 0);
  struct alert_mail bad = {.digest_key = (char *)"x", .title = (char *)"t"};
  assert_int_equal(alert_mail_add(db, &bad, NULL), KX_EINVAL); /* no recipients */
  struct alert_mail *rows = NULL;
  size_t n = 0;
  assert_int_equal(alert_mail_pending(db, "route2@100", 10, &rows, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(rows[0].title, "CertExpires");
  assert_null(rows[0].summary);
  assert_string_equal(rows[0].labels, "{}");
  assert_string_equal(rows[1].summary, "4 days");
  assert_string_equal(rows[1].recipients, "a@example.com,b@example.com");
  alert_mail_free(rows, n);
  assert_int_equal(alert_mail_pending(db, "route2@100", 1, &rows, &n), 0);
  assert_int_equal(n, 1);
  alert_mail_free(rows, n);
  assert_int_equal(alert_mail_sent(db, "route2@100", 300), 0);
  assert_int_equal(alert_mail_pending(db, "route2@100", 10, &rows, &n), 0);
  assert_int_equal(n, 0);
  alert_mail_free(rows, n);
  assert_int_equal(alert_mail_pending(db, "route2@200", 10, &rows, &n), 0);
  assert_int_equal(n, 1); /* another digest is untouched */
  alert_mail_free(rows, n);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_target_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pages_of_incident, setup, teardown),
      cmocka_unit_test_setup_teardown(test_alert_mail, setup, teardown),
  };
  return cmocka_run_group_tests_name("page_targets", tests, NULL, NULL);
}
