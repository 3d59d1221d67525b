/* The queries rewritten into SQL both engines accept (docs/ha.md "SQL changed in this step")
 * still answer as before on SQLite: counts with FILTER instead of sum(boolean), CASE instead of
 * two-argument max(), IS NOT DISTINCT FROM with a NULL, lower() instead of COLLATE NOCASE, the
 * quoted "user" column, ON CONFLICT DO NOTHING instead of INSERT OR IGNORE. */
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
#include "storage/alerts.h"
#include "storage/db.h"
#include "storage/handoffs.h"
#include "storage/home_views.h"
#include "storage/postmortem_exports.h"
#include "storage/status.h"
#include "storage/teams_store.h"

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

static void alert(struct db *db, const char *fp, bool firing, int64_t page)
{
  struct alert_in a = {.fingerprint = fp, .firing = firing, .route = -1};
  int64_t id = 0, old_page = 0;
  enum alert_change ch;
  assert_int_equal(alerts_upsert(db, &a, 1000, &id, &ch, &old_page), 0);
  if (page)
    assert_int_equal(alerts_set_page(db, id, page), 0);
}

static void test_filter_counts(void **state)
{
  struct db *db = *state;
  int64_t total = -1, firing = -1;
  /* No rows: both 0 (coalesce(sum(…), 0) answered 0 too). */
  assert_int_equal(alerts_page_counts(db, 7, &total, &firing), 0);
  assert_int_equal(total, 0);
  assert_int_equal(firing, 0);
  alert(db, "a", true, 7);
  alert(db, "b", false, 7);
  alert(db, "c", true, 7);
  alert(db, "d", true, 8);
  assert_int_equal(alerts_page_counts(db, 7, &total, &firing), 0);
  assert_int_equal(total, 3);
  assert_int_equal(firing, 2);

  struct handoff_new h = {.rota = "ops", .state = HANDOFF_POSTED, .now_ms = 1};
  int64_t id = 0;
  for (int i = 0; i < 4; i++) {
    h.shift_index = i;
    h.late = i == 1;
    h.state = i == 3 ? HANDOFF_MISSED : HANDOFF_POSTED;
    assert_int_equal(handoffs_add(db, &h, &id), 0);
  }
  h.rota = "db";
  h.shift_index = 0;
  h.late = false;
  h.state = HANDOFF_POSTED;
  assert_int_equal(handoffs_add(db, &h, &id), 0);
  struct handoff_totals *t = NULL;
  size_t n = 0;
  assert_int_equal(handoffs_totals(db, &t, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(t[0].rota, "db"); /* ORDER BY rota */
  assert_int_equal(t[0].on_time, 1);
  assert_int_equal(t[0].late + t[0].missed + t[0].taken + t[0].told, 0);
  assert_string_equal(t[1].rota, "ops");
  assert_int_equal(t[1].on_time, 2);
  assert_int_equal(t[1].late, 1);
  assert_int_equal(t[1].missed, 1);
  assert_int_equal(t[1].taken, 0);
  handoff_totals_free(t, n);
}

static void test_case_instead_of_max(void **state)
{
  struct db *db = *state;
  /* The worst state of a day only grows. */
  assert_int_equal(status_day_worst(db, "api", 3, 1), 0);
  assert_int_equal(status_day_worst(db, "api", 3, 2), 0);
  assert_int_equal(status_day_worst(db, "api", 3, 1), 0);
  assert_int_equal(status_day_worst(db, "api", 4, 0), 0);
  struct status_day *d = NULL;
  size_t n = 0;
  assert_int_equal(status_days_list(db, "api", 0, 10, &d, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(d[0].day, 3);
  assert_int_equal(d[0].worst, 2);
  assert_int_equal(d[1].day, 4);
  assert_int_equal(d[1].worst, 0);
  free(d);
}

static void test_nocase_user_and_or_ignore(void **state)
{
  struct db *db = *state;
  const char *aad = "6f2b1a3c-AAAA-4bbb-9ccc-0123456789ab";
  assert_int_equal(teams_store_set_user(db, "29:x", aad, "X", "t1", 1), 0);
  char *u = teams_store_user_by_aad(db, "6F2B1A3C-aaaa-4BBB-9CCC-0123456789AB");
  assert_non_null(u);
  assert_string_equal(u, "29:x");
  free(u);
  assert_null(teams_store_user_by_aad(db, "6f2b1a3c-aaaa-4bbb-9ccc-000000000000"));

  /* The quoted "user" column. */
  assert_int_equal(home_views_opened(db, "U1", 10), 0);
  assert_int_equal(home_views_opened(db, "U2", 5), 0);
  assert_int_equal(home_views_published(db, "U1", "h1", 11), 0);
  char *hash = home_views_hash(db, "U1");
  assert_non_null(hash);
  assert_string_equal(hash, "h1");
  free(hash);
  assert_null(home_views_hash(db, "U3"));
  struct home_view_row *rows = NULL;
  size_t n = 0;
  assert_int_equal(home_views_list(db, 10, &rows, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(rows[0].user, "U2"); /* ORDER BY opened_at */
  assert_string_equal(rows[1].user, "U1");
  home_views_free(rows, n);

  /* ON CONFLICT (incident_id) DO NOTHING: the second claim is "already there". */
  assert_int_equal(postmortem_exports_begin(db, 42, 1), 0);
  assert_int_equal(postmortem_exports_begin(db, 42, 2), KX_EEXISTS);
  assert_int_equal(postmortem_exports_begin(db, 43, 2), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_filter_counts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_case_instead_of_max, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nocase_user_and_or_ignore, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
