/* storage/retention: what is pruned and what never is (pending outbox rows, pending jobs, open
 * pages' copies, firing alerts), the batch limit, the cutoffs on both clocks, and a backup taken
 * while another connection prunes stays whole. */
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
#include "storage/db_internal.h"
#include "storage/retention.h"

#define DAY ((int64_t)24 * 3600 * 1000)
#define NOW ((int64_t)1800000000000) /* 2027-01-15 */

static int64_t count(struct db *db, const char *sql)
{
  struct db_stmt *st = db_prepare(db, sql);
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  int64_t n = db_col_int64(st, 0);
  db_finalize(st);
  return n;
}

__attribute__((format(printf, 2, 3))) static void exec(struct db *db, const char *fmt, ...)
{
  char sql[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sql, sizeof(sql), fmt, ap);
  va_end(ap);
  assert_int_equal(db_exec(db, sql), 0);
}

/* One of everything at age `age` days, `n` of each prunable kind plus the ones never pruned. */
static void fill(struct db *db, int64_t age_days, int n)
{
  int64_t at = NOW - age_days * DAY;
  static int seq;
  for (int i = 0; i < n; i++, seq++) {
    exec(db, "INSERT INTO seen (key, at) VALUES ('env-%d', %lld)", seq, (long long)at);
    exec(db,
         "INSERT INTO outbox (created_at, method, queue, body, state, done_at) VALUES"
         " (%lld, 'chat.postMessage', 'q', '{}', 'done', %lld),"
         " (%lld, 'chat.postMessage', 'q', '{}', 'failed', %lld)",
         (long long)at, (long long)at, (long long)at, (long long)at);
    exec(db,
         "INSERT INTO jobs (kind, key, due_at, state, created_at, done_at) VALUES"
         " ('k', 'done-%d', %lld, 'done', %lld, %lld),"
         " ('k', 'cancelled-%d', %lld, 'cancelled', %lld, %lld)",
         seq, (long long)at, (long long)at, (long long)at, seq, (long long)at, (long long)at,
         (long long)at);
    exec(db,
         "INSERT INTO alerts (fingerprint, source, status, first_seen, last_seen) VALUES"
         " ('res-%d', 'am', 'resolved', %lld, %lld), ('fire-%d', 'am', 'firing', %lld, %lld)",
         seq, (long long)at, (long long)at, seq, (long long)at, (long long)at);
    /* a resolved page and an open one, each with a copy */
    exec(db,
         "INSERT INTO pages (kind, title, source, state, created_at, anchor_at, resolved_at)"
         " VALUES ('page', 't', 'am', 'resolved', %lld, %lld, %lld)",
         (long long)at, (long long)at, (long long)at);
    exec(db,
         "INSERT INTO page_copies (page_id, kind, dest, created_at)"
         " SELECT max(id), 'dm', 'U1', 0 FROM pages");
    /* and an attempt to reach someone (issue 11) */
    exec(db,
         "INSERT INTO page_attempts (page_id, person, step, rule, via, state, created_at,"
         " updated_at) SELECT max(id), 'alice', -1, 0, 'sms', 'delivered', 0, 0 FROM pages");
    exec(db,
         "INSERT INTO pages (kind, title, source, state, created_at, anchor_at)"
         " VALUES ('page', 't', 'am', 'open', %lld, %lld)",
         (long long)at, (long long)at);
    exec(db,
         "INSERT INTO page_copies (page_id, kind, dest, created_at)"
         " SELECT max(id), 'dm', 'U1', 0 FROM pages");
    exec(db,
         "INSERT INTO page_attempts (page_id, person, step, rule, via, state, created_at,"
         " updated_at) SELECT max(id), 'alice', -1, 0, 'sms', 'delivered', 0, 0 FROM pages");
  }
  /* never pruned at any age */
  exec(db,
       "INSERT INTO outbox (created_at, method, queue, body) VALUES"
       " (%lld, 'chat.postMessage', 'q', '{\"pending\":true}')",
       (long long)at);
  exec(db,
       "INSERT INTO jobs (kind, key, due_at, created_at) VALUES ('k', 'pending-%d', %lld, %lld)",
       seq++, (long long)at, (long long)at);
}

static int drain(struct db *db, const struct retention_cutoffs *c, int limit, int64_t *deleted)
{
  int calls = 0;
  struct retention_result r = {0};
  *deleted = 0;
  do {
    assert_int_equal(retention_prune_batch(db, c, limit, &r), 0);
    assert_true(r.deleted <= 7 * (int64_t)limit);
    *deleted += r.deleted;
    calls++;
  } while (r.more && calls < 10000);
  return calls;
}

static void test_cutoffs(void **state)
{
  (void)state;
  struct retention_cutoffs c;
  retention_cutoffs(NOW, 0, 0, &c); /* default */
  assert_int_equal(c.history_before, NOW - 400 * DAY);
  assert_int_equal(c.delivered_before, NOW - 30 * DAY);
  assert_int_equal(c.seen_before, NOW - 3 * DAY);
  /* a clock running 100 times fast: the real 72 h window is 300 business days */
  retention_cutoffs(NOW, 400 * DAY, 300 * DAY, &c);
  assert_int_equal(c.seen_before, NOW - 300 * DAY);
  /* never less than 72 h, never more than retention */
  retention_cutoffs(NOW, 400 * DAY, DAY, &c);
  assert_int_equal(c.seen_before, NOW - 3 * DAY);
  retention_cutoffs(NOW, 7 * DAY, 300 * DAY, &c);
  assert_int_equal(c.seen_before, NOW - 7 * DAY);
  assert_int_equal(c.delivered_before, NOW - 7 * DAY);
  assert_int_equal(c.history_before, NOW - 7 * DAY);
}

static void test_prunes_only_what_may_go(void **state)
{
  (void)state;
  int err = 0;
  struct db *db = db_open(":memory:", 0, &err);
  assert_non_null(db);
  fill(db, 500, 3); /* past retention */
  fill(db, 100, 4); /* past the delivered window and the seen window, inside retention */
  fill(db, 1, 5);   /* recent */
  struct retention_cutoffs c;
  retention_cutoffs(NOW, 400 * DAY, 0, &c);
  int64_t deleted = 0;
  drain(db, &c, RETENTION_BATCH, &deleted);
  /* seen: 500- and 100-day marks go (72 h window); outbox done: 500 and 100 go (30 d);
   * failed rows, finished jobs, resolved copies and alerts: only the 500-day ones */
  assert_int_equal(count(db, "SELECT count(*) FROM seen"), 5);
  assert_int_equal(count(db, "SELECT count(*) FROM outbox WHERE state = 'done'"), 5);
  assert_int_equal(count(db, "SELECT count(*) FROM outbox WHERE state = 'failed'"), 9);
  assert_int_equal(count(db, "SELECT count(*) FROM outbox WHERE state = 'pending'"), 3);
  assert_int_equal(count(db, "SELECT count(*) FROM jobs WHERE state != 'pending'"), 18);
  assert_int_equal(count(db, "SELECT count(*) FROM jobs WHERE state = 'pending'"), 3);
  assert_int_equal(count(db, "SELECT count(*) FROM alerts WHERE status = 'resolved'"), 9);
  assert_int_equal(count(db, "SELECT count(*) FROM alerts WHERE status = 'firing'"), 12);
  assert_int_equal(count(db,
                         "SELECT count(*) FROM page_copies c JOIN pages p ON p.id = c.page_id"
                         " WHERE p.state = 'resolved'"),
                   9);
  assert_int_equal(count(db,
                         "SELECT count(*) FROM page_copies c JOIN pages p ON p.id = c.page_id"
                         " WHERE p.state = 'open'"),
                   12);
  assert_int_equal(count(db,
                         "SELECT count(*) FROM page_attempts a JOIN pages p ON p.id = a.page_id"
                         " WHERE p.state = 'resolved'"),
                   9);
  assert_int_equal(count(db,
                         "SELECT count(*) FROM page_attempts a JOIN pages p ON p.id = a.page_id"
                         " WHERE p.state = 'open'"),
                   12);
  /* pages themselves are history the reports read: kept */
  assert_int_equal(count(db, "SELECT count(*) FROM pages"), 24);
  assert_int_equal(deleted, (3 + 4) * 2 + 3 * 6); /* jobs: done and cancelled */
  /* a second pass finds nothing */
  struct retention_result r;
  assert_int_equal(retention_prune_batch(db, &c, RETENTION_BATCH, &r), 0);
  assert_int_equal(r.deleted, 0);
  assert_false(r.more);
  db_close(db);
}

static void test_batches(void **state)
{
  (void)state;
  int err = 0;
  struct db *db = db_open(":memory:", 0, &err);
  assert_non_null(db);
  assert_int_equal(db_begin(db), 0);
  fill(db, 500, 120);
  assert_int_equal(db_commit(db), 0);
  struct retention_cutoffs c;
  retention_cutoffs(NOW, 400 * DAY, 0, &c);
  struct retention_result r;
  assert_int_equal(retention_prune_batch(db, &c, 50, &r), 0);
  assert_true(r.more);
  assert_int_equal(r.deleted, 7 * 50); /* 50 of each kind, no more */
  assert_int_equal(count(db, "SELECT count(*) FROM seen"), 70);
  int64_t deleted = 0;
  int calls = drain(db, &c, 50, &deleted);
  /* 70 left of each kind but jobs (190: a done and a cancelled one per fill): 50 x 3 + 40 */
  assert_int_equal(calls, 4);
  assert_int_equal(deleted, 6 * 70 + 190);
  assert_int_equal(count(db, "SELECT count(*) FROM seen"), 0);
  db_close(db);
}

/* The bot prunes on a second connection while `klaxon backup` copies: the backup is whole
 * (quick_check ok) and holds every pending row. */
static void test_backup_while_pruning(void **state)
{
  (void)state;
  char dir[] = "/tmp/kx-retention-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256], bpath[256];
  snprintf(path, sizeof(path), "%s/k.db", dir);
  snprintf(bpath, sizeof(bpath), "%s/b.db", dir);
  int err = 0;
  struct db *db = db_open(path, 0, &err);
  assert_non_null(db);
  assert_int_equal(db_begin(db), 0);
  fill(db, 500, 400);
  assert_int_equal(db_commit(db), 0);
  struct db *pruner = db_open_checkpointer(path, &err);
  assert_non_null(pruner);
  struct retention_cutoffs c;
  retention_cutoffs(NOW, 400 * DAY, 0, &c);
  struct retention_result r;
  /* half pruned before, the rest interleaved with the backup's steps is what the bot does;
   * here: prune some, back up, prune the rest, then check both */
  assert_int_equal(retention_prune_batch(pruner, &c, 100, &r), 0);
  assert_int_equal(db_backup(db, bpath), 0);
  int64_t deleted = 0;
  drain(pruner, &c, 100, &deleted);
  assert_true(deleted > 0);
  struct db *b = db_open(bpath, DB_OPEN_READONLY, &err);
  assert_non_null(b);
  assert_int_equal(db_check(b), 0);
  assert_int_equal(count(b, "SELECT count(*) FROM outbox WHERE state = 'pending'"), 1);
  assert_int_equal(count(b, "SELECT count(*) FROM seen"), 300);
  assert_int_equal(count(db, "SELECT count(*) FROM seen"), 0);
  assert_int_equal(count(db, "SELECT count(*) FROM outbox WHERE state = 'pending'"), 1);
  db_close(b);
  db_close(pruner);
  db_close(db);
  unlink(bpath);
  char w[300];
  snprintf(w, sizeof(w), "%s-wal", path);
  unlink(w);
  snprintf(w, sizeof(w), "%s-shm", path);
  unlink(w);
  unlink(path);
  rmdir(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cutoffs),
      cmocka_unit_test(test_prunes_only_what_may_go),
      cmocka_unit_test(test_batches),
      cmocka_unit_test(test_backup_while_pruning),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
