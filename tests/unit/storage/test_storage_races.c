/* storage/ for several instances (docs/ha.md): ids from INSERT … RETURNING id in every file
 * that adds rows (a conflict that adds nothing is KX_EEXISTS and leaves the id alone), the
 * alert upsert's lock-then-insert with its second round, the open-page conflict, the action
 * item numbering's lock, and a job claimed by two connections to one SQLite file. Another
 * instance's write between two statements is played by a TEMP trigger on the connection under
 * test (a trigger is per connection, so the statement itself is unchanged). */
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
#include "storage/alert_mail.h"
#include "storage/alerts.h"
#include "storage/db.h"
#include "storage/db_internal.h"
#include "storage/handoffs.h"
#include "storage/incident_actions.h"
#include "storage/incident_timeline.h"
#include "storage/incidents.h"
#include "storage/jobs.h"
#include "storage/notes.h"
#include "storage/outbox.h"
#include "storage/pages.h"
#include "storage/rota_changes.h"
#include "storage/status.h"

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

static int64_t scalar(struct db *db, const char *sql)
{
  struct db_stmt *st = db_prepare(db, sql);
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  int64_t v = db_col_int64(st, 0);
  db_finalize(st);
  return v;
}

static int64_t incident(struct db *db)
{
  struct incident_create n = {.title = "db down", .severity = "P1", .declared_at = 1000};
  int64_t id = 0;
  assert_int_equal(incidents_create(db, &n, &id), 0);
  assert_true(id > 0);
  assert_int_equal(id, scalar(db, "SELECT max(id) FROM incidents"));
  return id;
}

/* Each add returns the id of the row it added: the newest row's, one more than the last. */
static void test_ids_from_returning(void **state)
{
  struct db *db = *state;
  int64_t inc = incident(db), inc2 = incident(db);
  assert_int_equal(inc2, inc + 1);

  int64_t a = 0, b = 0;
  struct alert_mail m = {.digest_key = "d", .recipients = "x@y", .title = "t", .created_at = 1};
  assert_int_equal(alert_mail_add(db, &m, &a), 0);
  assert_int_equal(alert_mail_add(db, &m, &b), 0);
  assert_true(a > 0);
  assert_int_equal(b, a + 1);
  assert_int_equal(b, scalar(db, "SELECT max(id) FROM alert_mail"));
  assert_int_equal(alert_mail_add(db, &m, NULL), 0); /* the id is optional */

  assert_int_equal(notes_add(db, "ops", "alice", "n1", 1, &a), 0);
  assert_int_equal(notes_add(db, NULL, "alice", "n2", 2, &b), 0);
  assert_int_equal(b, a + 1);
  assert_int_equal(b, scalar(db, "SELECT max(id) FROM notes"));

  struct rota_change_new rc = {
      .rota = "ops", .kind = ROTA_CHANGE_OVERRIDE, .person = "bob", .from_ms = 1, .to_ms = 2};
  assert_int_equal(rota_changes_add(db, &rc, &a), 0);
  assert_int_equal(rota_changes_add(db, &rc, &b), 0);
  assert_int_equal(b, a + 1);
  assert_int_equal(b, scalar(db, "SELECT max(id) FROM rota_changes"));

  struct outbox_new o = {.method = "chat.postMessage", .body = "{}", .now_ms = 1};
  assert_int_equal(outbox_add(db, &o, &a), 0);
  assert_int_equal(outbox_add(db, &o, &b), 0);
  assert_int_equal(b, a + 1);
  assert_int_equal(b, scalar(db, "SELECT max(id) FROM outbox"));

  struct page_row p = {.kind = "page", .title = "t", .source = "manual"};
  int64_t page = 0, page2 = 0;
  assert_int_equal(pages_add(db, &p, &page), 0);
  assert_int_equal(pages_add(db, &p, &page2), 0); /* no group: any number of them */
  assert_int_equal(page2, page + 1);
  assert_int_equal(page2, scalar(db, "SELECT max(id) FROM pages"));

  struct page_copy_new c = {.page_id = page, .kind = "dm", .dest = "D1", .now_ms = 1};
  assert_int_equal(page_copies_add(db, &c, &a), 0);
  assert_int_equal(page_copies_add(db, &c, &b), 0);
  assert_int_equal(b, a + 1);
  assert_int_equal(b, scalar(db, "SELECT max(id) FROM page_copies"));

  assert_int_equal(status_update_add(db, inc, "investigating", "looking", 5, &a), 0);
  assert_int_equal(status_update_add(db, inc, "identified", "found", 6, &b), 0);
  assert_int_equal(b, a + 1);
  assert_int_equal(b, scalar(db, "SELECT max(id) FROM status_updates"));
}

/* The adds with ON CONFLICT DO NOTHING: a repeat adds nothing, is KX_EEXISTS (not an error, so
 * nothing is logged) and leaves *id_out as it was. */
static void test_conflicts_return_no_row(void **state)
{
  struct db *db = *state;
  FILE *tmp = tmpfile();
  assert_non_null(tmp);
  log_set_output(tmp);
  int64_t inc = incident(db);
  int64_t a = 0, b = -1;

  struct handoff_new h = {.rota = "ops", .shift_index = 3, .due_at = 10, .now_ms = 10};
  assert_int_equal(handoffs_add(db, &h, &a), 0);
  assert_int_equal(a, scalar(db, "SELECT max(id) FROM handoffs"));
  assert_int_equal(handoffs_add(db, &h, &b), KX_EEXISTS);
  assert_int_equal(b, -1);
  h.shift_index = 4;
  assert_int_equal(handoffs_add(db, &h, &b), 0);
  assert_int_equal(b, a + 1);

  struct timeline_new t = {
      .incident_id = inc, .kind = "message", .text = "hi", .source_ts = "1.1", .now_ms = 1};
  assert_int_equal(timeline_add(db, &t, &a), 0);
  assert_int_equal(a, scalar(db, "SELECT max(id) FROM incident_timeline"));
  b = -1;
  assert_int_equal(timeline_add(db, &t, &b), KX_EEXISTS);
  assert_int_equal(b, -1);
  t.source_ts = NULL; /* klaxon's own entries never conflict */
  assert_int_equal(timeline_add(db, &t, &b), 0);
  assert_int_equal(timeline_add(db, &t, &b), 0);
  assert_int_equal(b, a + 2);

  struct page_row p = {.kind = "page", .title = "t", .source = "manual"};
  int64_t page = 0;
  assert_int_equal(pages_add(db, &p, &page), 0);
  struct page_attempt_new at = {
      .page_id = page, .person = "bob", .step = 0, .rule = 0, .via = "chat", .state = "sent"};
  assert_int_equal(page_attempts_add(db, &at, &a), 0);
  assert_int_equal(a, scalar(db, "SELECT max(id) FROM page_attempts"));
  b = -1;
  assert_int_equal(page_attempts_add(db, &at, &b), KX_EEXISTS);
  assert_int_equal(b, -1);
  at.step = 1;
  assert_int_equal(page_attempts_add(db, &at, &b), 0);
  assert_int_equal(b, a + 1);

  struct status_window w = {.component = "api", .from_ms = 10, .to_ms = 20, .text = "upgrade"};
  assert_int_equal(status_window_add(db, &w, 1, &a), 0);
  assert_int_equal(a, scalar(db, "SELECT max(id) FROM status_windows"));
  b = -1;
  assert_int_equal(status_window_add(db, &w, 2, &b), KX_EEXISTS);
  assert_int_equal(b, -1);
  assert_int_equal(scalar(db, "SELECT count(*) FROM status_windows"), 1);

  log_set_output(NULL);
  assert_int_equal(fflush(tmp), 0);
  assert_int_equal(ftell(tmp), 0);
  fclose(tmp);
}

static void upsert(
    struct db *db, const char *fp, bool firing, enum alert_change want, int64_t *id, int64_t *page)
{
  struct alert_in in = {.fingerprint = fp, .group_key = "g", .firing = firing, .route = 0};
  enum alert_change change = (enum alert_change) - 1;
  assert_int_equal(alerts_upsert(db, &in, 100, id, &change, page), 0);
  assert_int_equal(change, want);
}

/* Every transition, one row per fingerprint, its counters and its page. */
static void test_alerts_upsert(void **state)
{
  struct db *db = *state;
  int64_t id = 0, id2 = 0, page = -1;
  upsert(db, "f1", true, ALERT_NEW, &id, &page);
  assert_true(id > 0);
  assert_int_equal(page, 0);
  assert_int_equal(alerts_set_page(db, id, 77), 0);
  upsert(db, "f1", true, ALERT_REPEAT, &id2, &page);
  assert_int_equal(id2, id);
  assert_int_equal(page, 77);
  upsert(db, "f1", false, ALERT_RESOLVED, &id2, &page);
  upsert(db, "f1", false, ALERT_REPEAT_RESOLVED, &id2, &page);
  upsert(db, "f1", true, ALERT_REFIRED, &id2, &page);
  assert_int_equal(id2, id);
  upsert(db, "f2", false, ALERT_NEW_RESOLVED, &id2, &page);
  assert_int_equal(id2, id + 1);
  assert_int_equal(scalar(db, "SELECT count(*) FROM alerts"), 2);
  assert_int_equal(scalar(db, "SELECT receives FROM alerts WHERE fingerprint = 'f1'"), 5);
  assert_int_equal(scalar(db, "SELECT fires FROM alerts WHERE fingerprint = 'f1'"), 2);
  assert_int_equal(scalar(db, "SELECT fires FROM alerts WHERE fingerprint = 'f2'"), 0);
  assert_int_equal(alerts_received_total(db), 6);
  struct alert_in none = {.fingerprint = ""};
  enum alert_change change;
  assert_int_equal(alerts_upsert(db, &none, 1, &id, &change, &page), KX_EINVAL);
}

/* Another instance inserts the fingerprint after this one found no row and before its insert
 * (PostgreSQL would have this insert wait for that commit, then report the conflict). The
 * insert adds nothing; the second round locks the other's row and updates it: a repeat of a
 * firing alert, not a second row and not a constraint error. */
static void test_alerts_upsert_loses_the_insert(void **state)
{
  struct db *db = *state;
  assert_int_equal(db_exec(db,
                           "CREATE TEMP TRIGGER rival BEFORE INSERT ON alerts"
                           " WHEN NEW.fingerprint = 'fx' AND NOT EXISTS (SELECT 1 FROM alerts"
                           " WHERE fingerprint = 'fx') BEGIN"
                           " INSERT INTO alerts (fingerprint, source, status, first_seen,"
                           " last_seen, page_id) VALUES ('fx', 'webhook', 'firing', 1, 1, 42);"
                           " END"),
                   0);
  int64_t id = 0, page = 0;
  upsert(db, "fx", true, ALERT_REPEAT, &id, &page);
  assert_int_equal(scalar(db, "SELECT count(*) FROM alerts WHERE fingerprint = 'fx'"), 1);
  assert_int_equal(id, scalar(db, "SELECT id FROM alerts WHERE fingerprint = 'fx'"));
  assert_int_equal(page, 42);
  assert_int_equal(scalar(db, "SELECT receives FROM alerts WHERE fingerprint = 'fx'"), 2);
  assert_int_equal(scalar(db, "SELECT last_seen FROM alerts WHERE fingerprint = 'fx'"), 100);
  /* The same when the other instance stored it resolved: this firing one fired it again. */
  assert_int_equal(db_exec(db,
                           "DROP TRIGGER rival;"
                           "CREATE TEMP TRIGGER rival BEFORE INSERT ON alerts"
                           " WHEN NEW.fingerprint = 'fy' AND NOT EXISTS (SELECT 1 FROM alerts"
                           " WHERE fingerprint = 'fy') BEGIN"
                           " INSERT INTO alerts (fingerprint, source, status, first_seen,"
                           " last_seen) VALUES ('fy', 'webhook', 'resolved', 1, 1);"
                           " END"),
                   0);
  upsert(db, "fy", true, ALERT_REFIRED, &id, &page);
  assert_int_equal(page, 0);
  assert_int_equal(scalar(db, "SELECT count(*) FROM alerts WHERE fingerprint = 'fy'"), 1);
}

/* The same race for a group's open page: the add finds the other instance's page. */
static void test_pages_add_loses_the_group(void **state)
{
  struct db *db = *state;
  assert_int_equal(db_exec(db,
                           "CREATE TEMP TRIGGER rival BEFORE INSERT ON pages"
                           " WHEN NEW.group_key = 'g' AND NOT EXISTS (SELECT 1 FROM pages"
                           " WHERE group_key = 'g' AND state != 'resolved') BEGIN"
                           " INSERT INTO pages (kind, group_key, title, source, created_at,"
                           " anchor_at) VALUES ('page', 'g', 'theirs', 'alertmanager', 1, 1);"
                           " END"),
                   0);
  struct page_row p = {.kind = "page", .group_key = "g", .title = "ours", .source = "alertmanager"};
  int64_t id = 0;
  assert_int_equal(pages_add(db, &p, &id), KX_EEXISTS);
  assert_int_equal(id, scalar(db, "SELECT id FROM pages WHERE title = 'theirs'"));
  assert_int_equal(scalar(db, "SELECT count(*) FROM pages"), 1);
  /* Once that page is resolved, the group can open a new one. */
  assert_int_equal(db_exec(db, "UPDATE pages SET state = 'resolved'"), 0);
  assert_int_equal(db_exec(db, "DROP TRIGGER rival"), 0);
  int64_t id2 = 0;
  assert_int_equal(pages_add(db, &p, &id2), 0);
  assert_int_equal(id2, id + 1);
}

static struct db *open_file(const char *path)
{
  int err = 0;
  struct db *db = db_open(path, 0, &err);
  assert_non_null(db);
  db_busy_timeout(db, 0);
  return db;
}

static void remove_db(const char *path)
{
  char side[64];
  unlink(path);
  snprintf(side, sizeof(side), "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof(side), "%s-shm", path);
  unlink(side);
}

/* Action items: numbered per incident, one past the last; none for an unknown incident. Two
 * connections: while one adds (the incident's row locked), the other cannot, and afterwards it
 * numbers after the first's item. */
static void test_action_numbers(void **state)
{
  (void)state;
  char path[] = "/tmp/klaxon-races-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  unlink(path);
  struct db *a = open_file(path);
  struct db *b = open_file(path);
  int64_t inc = incident(a), other = incident(a);
  int64_t n = 0;
  assert_int_equal(db_begin(a), 0);
  assert_int_equal(incident_actions_add(a, inc, "bob", "one", "alice", 1, &n), 0);
  assert_int_equal(n, 1);
  FILE *devnull = fopen("/dev/null", "w");
  assert_non_null(devnull);
  log_set_output(devnull);
  assert_int_equal(incident_actions_add(b, inc, "bob", "two", "alice", 2, &n), KX_EBUSY);
  log_set_output(NULL);
  fclose(devnull);
  assert_int_equal(db_commit(a), 0);
  assert_int_equal(incident_actions_add(b, inc, "bob", "two", "alice", 2, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(incident_actions_add(a, other, "bob", "elsewhere", "alice", 3, &n), 0);
  assert_int_equal(n, 1);
  n = -1;
  assert_int_equal(incident_actions_add(a, other + 100, "bob", "nowhere", "alice", 4, &n),
                   KX_ENOTFOUND);
  assert_int_equal(n, -1);
  assert_int_equal(scalar(a, "SELECT count(*) FROM incident_actions"), 3);
  db_close(a);
  db_close(b);
  remove_db(path);
}

/* Two instances list the same due job; each claims it in the transaction that would run it.
 * The first claim wins, the second gets KX_ENOTFOUND (its transaction has done nothing), and
 * the job is done once. */
static void test_job_claimed_once(void **state)
{
  (void)state;
  char path[] = "/tmp/klaxon-races-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  unlink(path);
  struct db *a = open_file(path);
  struct db *b = open_file(path);
  assert_int_equal(jobs_schedule(a, "page_step", "page:1:step:1", 50, "1", 0), 0);
  struct job *ja = NULL, *jb = NULL;
  size_t na = 0, nb = 0;
  assert_int_equal(jobs_due(a, 100, 10, &ja, &na), 0);
  assert_int_equal(jobs_due(b, 100, 10, &jb, &nb), 0);
  assert_int_equal(na, 1);
  assert_int_equal(nb, 1);
  assert_int_equal(ja[0].id, jb[0].id);

  assert_int_equal(db_begin(a), 0);
  assert_int_equal(jobs_claim(a, ja[0].id, 100), 0);
  assert_int_equal(db_commit(a), 0);
  assert_int_equal(db_begin(b), 0);
  assert_int_equal(jobs_claim(b, jb[0].id, 101), KX_ENOTFOUND);
  assert_int_equal(db_changes(b), 0);
  assert_int_equal(db_rollback(b), 0);

  assert_int_equal(jobs_pending(b, "page:1:step:1"), 0);
  assert_int_equal(scalar(b, "SELECT done_at FROM jobs"), 100);
  jobs_free(ja, na);
  jobs_free(jb, nb);
  /* A cancelled job cannot be claimed either. */
  assert_int_equal(jobs_schedule(a, "page_step", "page:1:step:2", 50, "1", 0), 0);
  assert_int_equal(jobs_due(b, 100, 10, &jb, &nb), 0);
  assert_int_equal(nb, 1);
  assert_int_equal(jobs_cancel(a, "page:1:step:2", 100), 1);
  assert_int_equal(jobs_claim(b, jb[0].id, 101), KX_ENOTFOUND);
  jobs_free(jb, nb);
  db_close(a);
  db_close(b);
  remove_db(path);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_ids_from_returning, setup, teardown),
      cmocka_unit_test_setup_teardown(test_conflicts_return_no_row, setup, teardown),
      cmocka_unit_test_setup_teardown(test_alerts_upsert, setup, teardown),
      cmocka_unit_test_setup_teardown(test_alerts_upsert_loses_the_insert, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pages_add_loses_the_group, setup, teardown),
      cmocka_unit_test(test_action_numbers),
      cmocka_unit_test(test_job_claimed_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
