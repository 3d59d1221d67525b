/* storage/: migrations, the outbox's ordering rules, jobs, delivery dedup, notes, rota changes,
 * backups, "already there" (KX_EEXISTS) versus a constraint nobody expected (KX_ECONSTRAINT) —
 * on real SQLite (":memory:" and temporary files). */
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
#include "storage/jobs.h"
#include "storage/notes.h"
#include "storage/outbox.h"
#include "storage/pages.h"
#include "storage/people.h"
#include "storage/rota_changes.h"
#include "storage/seen.h"
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

static int64_t add(struct db *db, const char *queue, int priority, const char *body)
{
  struct outbox_new n = {.method = "chat.postMessage",
                         .queue = queue,
                         .body = body,
                         .priority = priority,
                         .now_ms = 1};
  int64_t id = 0;
  assert_int_equal(outbox_add(db, &n, &id), 0);
  return id;
}

static void test_migrated(void **state)
{
  struct db *db = *state;
  assert_int_equal(db_schema_version(db), db_schema_latest());
  assert_true(db_schema_latest() >= 1);
  assert_int_equal(db_check(db), 0);
}

static void test_outbox_order(void **state)
{
  struct db *db = *state;
  int64_t a1 = add(db, "C1", OUTBOX_NORMAL, "{\"n\":1}");
  int64_t a2 = add(db, "C1", OUTBOX_URGENT, "{\"n\":2}");
  int64_t b1 = add(db, "C2", OUTBOX_BULK, "{\"n\":3}");
  int64_t p1 = add(db, "D9", OUTBOX_URGENT, "{\"n\":4}");
  struct outbox_row *rows;
  size_t n;
  assert_int_equal(outbox_ready(db, 10, NULL, 0, &rows, &n), 0);
  /* One head per queue; within C1 the older row goes first even though the newer is urgent. */
  assert_int_equal(n, 3);
  assert_int_equal(rows[0].id, p1); /* urgent head */
  assert_int_equal(rows[1].id, a1); /* normal */
  assert_int_equal(rows[2].id, b1); /* bulk */
  assert_string_equal(rows[0].queue, "D9");
  assert_string_equal(rows[1].body, "{\"n\":1}");
  outbox_rows_free(rows, n);
  /* Skipping a queue (in flight) leaves the others. */
  const char *skip[] = {"D9"};
  assert_int_equal(outbox_ready(db, 10, skip, 1, &rows, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(rows[0].id, a1);
  outbox_rows_free(rows, n);
  /* Done: the next of its queue becomes ready. */
  assert_int_equal(outbox_done(db, a1, "{\"ok\":true}", 5), 0);
  assert_int_equal(outbox_done(db, a1, "{\"ok\":true}", 5), KX_ENOTFOUND);
  assert_int_equal(outbox_ready(db, 10, NULL, 0, &rows, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(rows[0].id, a2 < p1 ? a2 : p1);
  outbox_rows_free(rows, n);
  assert_int_equal(outbox_failed(db, b1, "channel_not_found", 6), 0);
  assert_int_equal(outbox_attempted(db, p1, "timeout"), 0);
  struct outbox_row r;
  assert_int_equal(outbox_get(db, p1, &r), 0);
  assert_int_equal(r.attempts, 1);
  outbox_row_clear(&r);
  assert_int_equal(outbox_depth(db), 2);
  assert_int_equal(outbox_oldest_pending(db), 1);
  assert_int_equal(outbox_prune(db, 100), 0);
  assert_int_equal(outbox_get(db, a1, &r), KX_ENOTFOUND);
  assert_int_equal(outbox_get(db, 9999, &r), KX_ENOTFOUND);
  struct outbox_new bad = {.method = NULL, .body = "{}"};
  assert_int_equal(outbox_add(db, &bad, NULL), KX_EINVAL);
}

static void test_outbox_limit_and_queue_default(void **state)
{
  struct db *db = *state;
  for (int i = 0; i < 20; i++) {
    char q[16];
    snprintf(q, sizeof(q), "Q%d", i);
    add(db, q, OUTBOX_NORMAL, "{}");
  }
  struct outbox_row *rows;
  size_t n;
  assert_int_equal(outbox_ready(db, 5, NULL, 0, &rows, &n), 0);
  assert_int_equal(n, 5);
  outbox_rows_free(rows, n);
  struct outbox_new nq = {.method = "users.lookupByEmail", .body = "{}", .now_ms = 2};
  int64_t id;
  assert_int_equal(outbox_add(db, &nq, &id), 0);
  struct outbox_row r;
  assert_int_equal(outbox_get(db, id, &r), 0);
  assert_string_equal(r.queue, "users.lookupByEmail");
  assert_string_equal(r.platform, "slack");
  outbox_row_clear(&r);
}

static void test_jobs(void **state)
{
  struct db *db = *state;
  assert_int_equal(jobs_next_due(db), INT64_MAX);
  assert_int_equal(jobs_schedule(db, "escalate", "page:1:step:1", 1000, "1", 0), 0);
  assert_int_equal(jobs_schedule(db, "escalate", "page:1:step:1", 5, "1", 0), KX_EEXISTS);
  assert_int_equal(jobs_schedule(db, "escalate", "page:1:step:2", 2000, "1", 0), 0);
  assert_int_equal(jobs_schedule(db, "escalate", "page:12:step:1", 1500, "12", 0), 0);
  assert_int_equal(jobs_schedule(db, "handoff", "handoff:platform:3", 500, NULL, 0), 0);
  assert_int_equal(jobs_next_due(db), 500);
  struct job *jobs;
  size_t n;
  assert_int_equal(jobs_due(db, 1500, 10, &jobs, &n), 0);
  assert_int_equal(n, 3);
  assert_string_equal(jobs[0].key, "handoff:platform:3");
  assert_string_equal(jobs[1].key, "page:1:step:1");
  assert_string_equal(jobs[2].key, "page:12:step:1");
  assert_int_equal(jobs_claim(db, jobs[0].id, 1500), 0);
  assert_int_equal(jobs_claim(db, jobs[0].id, 1500), KX_ENOTFOUND);
  jobs_free(jobs, n);
  /* Cancelling page 1's steps must not touch page 12's. */
  assert_int_equal(jobs_cancel_prefix(db, "page:1:", 1600), 2);
  assert_int_equal(jobs_pending(db, "page:12:step:1"), 1);
  assert_int_equal(jobs_pending(db, "page:1:step:2"), 0);
  assert_int_equal(jobs_next_due(db), 1500);
  /* A done job's key is kept: scheduling it again is a no-op; upsert revives it. */
  assert_int_equal(jobs_schedule(db, "handoff", "handoff:platform:3", 9, NULL, 0), KX_EEXISTS);
  assert_int_equal(jobs_upsert(db, "handoff", "handoff:platform:3", 9, NULL, 0), 0);
  assert_int_equal(jobs_next_due(db), 9);
  struct job j;
  int done = -1;
  assert_int_equal(jobs_get(db, "handoff:platform:3", &j, &done), 0);
  assert_int_equal(done, 0);
  assert_int_equal(j.due_at, 9);
  job_clear(&j);
  assert_int_equal(jobs_get(db, "nope", &j, &done), KX_ENOTFOUND);
  assert_int_equal(jobs_cancel(db, "handoff:platform:3", 10), 1);
  /* Keys with LIKE wildcards are matched literally. */
  assert_int_equal(jobs_schedule(db, "x", "a%b:1", 1, NULL, 0), 0);
  assert_int_equal(jobs_schedule(db, "x", "aXb:1", 1, NULL, 0), 0);
  assert_int_equal(jobs_cancel_prefix(db, "a%b:", 2), 1);
  assert_int_equal(jobs_pending(db, "aXb:1"), 1);
}

static void test_seen_and_kv(void **state)
{
  struct db *db = *state;
  assert_int_equal(seen_mark(db, "slack-env:1", 10), 0);
  assert_int_equal(seen_mark(db, "slack-env:1", 11), KX_EEXISTS);
  assert_int_equal(seen_mark(db, "slack-ev:1", 12), 0);
  assert_int_equal(seen_prune(db, 11), 0);
  assert_int_equal(seen_mark(db, "slack-env:1", 13), 0);
  assert_null(kv_get(db, "bot_user"));
  assert_int_equal(kv_set(db, "bot_user", "U1", 1), 0);
  assert_int_equal(kv_set(db, "bot_user", "U2", 2), 0);
  char *v = kv_get(db, "bot_user");
  assert_string_equal(v, "U2");
  free(v);
}

static void test_notes_people_changes(void **state)
{
  struct db *db = *state;
  int64_t id;
  assert_int_equal(notes_add(db, NULL, "alice", "all rotas", 1, &id), 0);
  assert_int_equal(notes_add(db, "platform", "bob", "db upgrade friday", 2, NULL), 0);
  assert_int_equal(notes_add(db, "web", "bob", "not mine", 3, NULL), 0);
  struct note *notes;
  size_t n;
  assert_int_equal(notes_pending(db, "platform", &notes, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(notes[1].text, "db upgrade friday");
  notes_free(notes, n);
  assert_int_equal(notes_mark_handed(db, "platform", 100), 0);
  assert_int_equal(notes_pending(db, "platform", &notes, &n), 0);
  assert_int_equal(n, 0);
  notes_free(notes, n);
  /* The note for every rota is still due in web's next handoff. */
  assert_int_equal(notes_pending(db, "web", &notes, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(notes[0].text, "all rotas");
  assert_string_equal(notes[1].text, "not mine");
  notes_free(notes, n);
  assert_int_equal(notes_mark_handed(db, "web", 200), 0);
  assert_int_equal(notes_pending(db, "web", &notes, &n), 0);
  assert_int_equal(n, 0);
  notes_free(notes, n);
  assert_int_equal(notes_mark_handed(db, NULL, 200), KX_EINVAL);

  assert_null(people_slack(db, "carol"));
  assert_int_equal(people_set_slack(db, "carol", "U0CAROL", 1), 0);
  char *s = people_slack(db, "carol");
  assert_string_equal(s, "U0CAROL");
  free(s);
  s = people_by_slack(db, "U0CAROL");
  assert_string_equal(s, "carol");
  free(s);
  assert_int_equal(people_set_lookup_error(db, "dave", "users_not_found", 2), 0);
  assert_null(people_slack(db, "dave"));

  struct rota_change_new c = {.rota = "platform",
                              .kind = ROTA_CHANGE_OVERRIDE,
                              .person = "bob",
                              .from_ms = 100,
                              .to_ms = 200,
                              .now_ms = 1};
  assert_int_equal(rota_changes_add(db, &c, &id), 0);
  c.kind = ROTA_CHANGE_ABSENCE;
  c.person = "alice";
  c.from_ms = 150;
  c.to_ms = 400;
  int64_t id2;
  assert_int_equal(rota_changes_add(db, &c, &id2), 0);
  c.to_ms = 100; /* ends before it starts */
  assert_int_equal(rota_changes_add(db, &c, NULL), KX_EINVAL);
  struct rota_change_row *rows;
  assert_int_equal(rota_changes_load(db, "platform", 250, 100, &rows, &n), 0);
  assert_int_equal(n, 1); /* the override ended at 200 */
  assert_int_equal(rows[0].kind, ROTA_CHANGE_ABSENCE);
  assert_string_equal(rows[0].person, "alice");
  rota_change_rows_free(rows, n);
  assert_int_equal(rota_changes_cancel(db, "platform", id2, 5), 0);
  assert_int_equal(rota_changes_cancel(db, "platform", id2, 5), KX_ENOTFOUND);
  assert_int_equal(rota_changes_load(db, "platform", 0, 100, &rows, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(rows[0].id, id);
  rota_change_rows_free(rows, n);
}

/* Issue 17 item 12: an envelope is acked after its commit, so the commit must be on disk:
 * synchronous=FULL (2) on a file database, in WAL mode. */
static void test_file_database_is_durable(void **state)
{
  (void)state;
  char path[] = "/tmp/klaxon-test-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  unlink(path);
  int err = 0;
  struct db *db = db_open(path, 0, &err);
  assert_non_null(db);
  struct db_stmt *st = db_stmt(db, "PRAGMA synchronous");
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  assert_int_equal(db_col_int(st, 0), 2);
  db_reset(st);
  st = db_stmt(db, "PRAGMA journal_mode");
  assert_int_equal(db_step(st), DB_ROW);
  assert_string_equal(db_col_text_ref(st, 0), "wal");
  db_reset(st);
  db_close(db);
  char side[sizeof(path) + 8];
  unlink(path);
  snprintf(side, sizeof(side), "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof(side), "%s-shm", path);
  unlink(side);
}

static void test_transactions(void **state)
{
  struct db *db = *state;
  assert_false(db_in_transaction(db));
  assert_int_equal(db_begin(db), 0);
  assert_true(db_in_transaction(db));
  add(db, "T", OUTBOX_NORMAL, "{}");
  assert_int_equal(db_rollback(db), 0);
  assert_int_equal(outbox_depth(db), 0);
  assert_int_equal(db_rollback(db), 0); /* no transaction: fine */
  assert_int_equal(db_begin(db), 0);
  add(db, "T", OUTBOX_NORMAL, "{}");
  assert_int_equal(db_commit(db), 0);
  assert_int_equal(outbox_depth(db), 1);
}

/* Group commit: a db_begin() inside a transaction is a savepoint. A rollback undoes that level
 * alone; the outer commit keeps the rest; an outer rollback undoes everything. */
static void test_nested_transactions_are_savepoints(void **state)
{
  struct db *db = *state;
  assert_int_equal(db_begin(db), 0);
  assert_int_equal(db_depth(db), 1);
  assert_int_equal(db_begin(db), 0); /* first handler: kept */
  assert_int_equal(db_depth(db), 2);
  add(db, "A", OUTBOX_NORMAL, "{}");
  assert_int_equal(db_commit(db), 0);
  assert_int_equal(db_depth(db), 1);
  assert_true(db_in_transaction(db)); /* released, not committed */
  assert_int_equal(db_begin(db), 0);  /* second handler: fails, undone alone */
  add(db, "B", OUTBOX_NORMAL, "{}");
  assert_int_equal(db_begin(db), 0); /* a handler that nests once more */
  add(db, "C", OUTBOX_NORMAL, "{}");
  assert_int_equal(db_commit(db), 0);
  assert_int_equal(outbox_depth(db), 3);
  assert_int_equal(db_rollback(db), 0);
  assert_int_equal(db_depth(db), 1);
  assert_int_equal(outbox_depth(db), 1);
  assert_int_equal(db_begin(db), 0); /* third handler: kept */
  add(db, "D", OUTBOX_NORMAL, "{}");
  assert_int_equal(db_commit(db), 0);
  assert_int_equal(db_commit(db), 0); /* the one commit */
  assert_int_equal(db_depth(db), 0);
  assert_false(db_in_transaction(db));
  assert_int_equal(outbox_depth(db), 2);

  /* An outer rollback takes the released savepoints with it. */
  assert_int_equal(db_begin(db), 0);
  assert_int_equal(db_begin(db), 0);
  add(db, "E", OUTBOX_NORMAL, "{}");
  assert_int_equal(db_commit(db), 0);
  assert_int_equal(db_rollback(db), 0);
  assert_int_equal(db_depth(db), 0);
  assert_int_equal(outbox_depth(db), 2);

  /* The transaction ended underneath (SQLite does that on some errors; here a raw ROLLBACK):
   * no inner level may then begin or commit on its own, and the rollbacks only unwind. */
  assert_int_equal(db_begin(db), 0);
  assert_int_equal(db_begin(db), 0);
  add(db, "F", OUTBOX_NORMAL, "{}");
  assert_int_equal(db_exec(db, "ROLLBACK"), 0);
  assert_int_equal(db_commit(db), KX_EDB);
  assert_int_equal(db_begin(db), KX_EDB);
  assert_false(db_in_transaction(db)); /* nothing started outside the batch */
  assert_int_equal(db_rollback(db), 0);
  assert_int_equal(db_commit(db), KX_EDB); /* the outer commit fails too */
  assert_int_equal(db_rollback(db), 0);
  assert_int_equal(db_depth(db), 0);
  assert_int_equal(outbox_depth(db), 2);
  assert_int_equal(db_begin(db), 0); /* and the next transaction is an ordinary one */
  add(db, "G", OUTBOX_NORMAL, "{}");
  assert_int_equal(db_commit(db), 0);
  assert_int_equal(outbox_depth(db), 3);
}

static void test_files_backup_restore(void **state)
{
  (void)state;
  char dir[] = "/tmp/klaxon-test-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256], bak[256], lock[256];
  snprintf(path, sizeof(path), "%s/k.db", dir);
  snprintf(bak, sizeof(bak), "%s/k.bak", dir);
  int err;
  struct db *db = db_open(path, 0, &err);
  assert_non_null(db);
  add(db, "C1", OUTBOX_NORMAL, "{\"keep\":1}");
  /* A read-only connection sees the bot's writes (WAL). */
  struct db *ro = db_open(path, DB_OPEN_READONLY, &err);
  assert_non_null(ro);
  assert_int_equal(outbox_depth(ro), 1);
  db_close(ro);
  assert_int_equal(db_backup(db, bak), 0);
  assert_int_equal(db_backup(db, bak), KX_EEXISTS);
  add(db, "C1", OUTBOX_NORMAL, "{\"after\":1}");
  assert_int_equal(outbox_depth(db), 2);
  db_close(db);
  assert_int_equal(db_restore(bak, path), 0);
  db = db_open(path, 0, &err);
  assert_non_null(db);
  assert_int_equal(outbox_depth(db), 1);
  db_close(db);
  /* Opening a missing file without create fails cleanly. */
  snprintf(lock, sizeof(lock), "%s/missing.db", dir);
  assert_null(db_open(lock, DB_OPEN_READONLY | DB_OPEN_NO_CREATE, &err));
  assert_int_not_equal(err, 0);
  char cmd[512];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

/* "Already there" is an answer a function promises (KX_EEXISTS, checked by the function
 * itself, nothing logged); any other constraint violation is a bug (KX_ECONSTRAINT, logged). */
static void test_already_there_or_a_bug(void **state)
{
  struct db *db = *state;
  assert_int_equal(db_fail(db, KX_ECONSTRAINT, "test"), KX_ECONSTRAINT);
  assert_int_equal(db_fail(db, DB_DONE, "test"), KX_EDB);
  FILE *tmp = tmpfile();
  assert_non_null(tmp);
  log_set_output(tmp);
  assert_int_equal(seen_mark(db, "k", 1), 0);
  assert_int_equal(seen_mark(db, "k", 2), KX_EEXISTS);
  assert_int_equal(jobs_schedule(db, "x", "job:1", 1, NULL, 0), 0);
  assert_int_equal(jobs_schedule(db, "x", "job:1", 1, NULL, 0), KX_EEXISTS);
  assert_int_equal(teams_store_thread_claim(db, 7, "19:c", 1), 0);
  assert_int_equal(teams_store_thread_claim(db, 7, "19:c", 2), KX_EEXISTS);
  /* A second open page for one alert group (another instance opened it between the caller's
   * look and its add): nothing added, and the id of the group's open page. */
  struct page_row p = {.kind = "page", .group_key = "g1", .title = "t", .source = "alert"};
  int64_t id = 0, again = 0;
  assert_int_equal(pages_add(db, &p, &id), 0);
  assert_int_equal(pages_add(db, &p, &again), KX_EEXISTS);
  assert_true(id > 0);
  assert_int_equal(again, id);
  assert_int_equal(pages_add(db, &p, NULL), KX_EEXISTS);
  struct db_stmt *count = db_prepare(db, "SELECT count(*) FROM pages");
  assert_int_equal(db_step(count), DB_ROW);
  assert_int_equal(db_col_int64(count, 0), 1);
  db_finalize(count);
  assert_int_equal(fflush(tmp), 0);
  assert_int_equal(ftell(tmp), 0); /* expected answers are not errors */
  /* A job without a kind is not "a job with this key exists". */
  assert_int_equal(jobs_schedule(db, NULL, "job:2", 1, NULL, 0), KX_ECONSTRAINT);
  assert_int_equal(jobs_pending(db, "job:2"), 0);
  log_set_output(NULL);
  assert_int_equal(fflush(tmp), 0);
  long n = ftell(tmp);
  assert_true(n > 0);
  char *text = calloc(1, (size_t)n + 1);
  rewind(tmp);
  assert_int_equal(fread(text, 1, (size_t)n, tmp), (size_t)n);
  fclose(tmp);
  bool pg = db_is_postgres(db); /* each engine logs its own code and message */
  assert_non_null(strstr(text, pg ? "ERROR db pg_error what=jobs_schedule"
                                  : "ERROR db sqlite_error what=jobs_schedule"));
  free(text);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_migrated, setup, teardown),
      cmocka_unit_test(test_file_database_is_durable),
      cmocka_unit_test_setup_teardown(test_outbox_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_outbox_limit_and_queue_default, setup, teardown),
      cmocka_unit_test_setup_teardown(test_jobs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_seen_and_kv, setup, teardown),
      cmocka_unit_test_setup_teardown(test_notes_people_changes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nested_transactions_are_savepoints, setup, teardown),
      cmocka_unit_test(test_files_backup_restore),
      cmocka_unit_test_setup_teardown(test_already_there_or_a_bug, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
