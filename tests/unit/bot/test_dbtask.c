/* The database thread (bot/dbtask.c, issue 12): on PostgreSQL a task's waits for the server are
 * not the loop's (a timer keeps firing through a 300 ms query), tasks run one at a time in the
 * order given, a call the loop's thread makes itself waits for the running task and is counted,
 * and stopping runs what is queued. Without a runner (SQLite, the CLI) a task runs at once.
 * The PostgreSQL cases run under `make test-pg` (KLAXON_TEST_DATABASE_URL); on SQLite they skip,
 * there being no thread to test. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "bot/dbtask.h"
#include "lib/kx.h"
#include "storage/db.h"
#include "storage/db_internal.h"

struct t {
  uv_loop_t loop;
  struct db *db;
  struct dbtasks *tasks;
  uv_timer_t tick, later;
  int ticks;
  int order[8], n_order;
  bool running;  /* a task is between its start and its end */
  bool overlap;  /* two were at once */
  int done;      /* tasks ended */
  int want_done; /* uv_stop when this many have ended */
  int64_t seen;  /* what the loop's own call read */
  int errors;    /* failed calls inside tasks (checked on the main thread: cmocka's asserts
                    jump, and must not from the database thread) */
};

static struct t *T;

static int setup(void **state)
{
  struct t *t = calloc(1, sizeof(*t));
  assert_non_null(t);
  assert_int_equal(uv_loop_init(&t->loop), 0);
  int err = 0;
  t->db = db_open(":memory:", 0, &err);
  assert_non_null(t->db);
  assert_int_equal(db_exec(t->db, "CREATE TABLE dbtask_t (n bigint)"), 0);
  uv_timer_init(&t->loop, &t->tick);
  uv_timer_init(&t->loop, &t->later);
  T = t;
  *state = t;
  return 0;
}

static int teardown(void **state)
{
  struct t *t = *state;
  dbtasks_stop(t->tasks);
  uv_close((uv_handle_t *)&t->tick, NULL);
  uv_close((uv_handle_t *)&t->later, NULL);
  uv_run(&t->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&t->loop), 0);
  db_close(t->db);
  free(t);
  T = NULL;
  return 0;
}

static bool start_runner(struct t *t)
{
  if (!db_is_postgres(t->db))
    return false;
  t->tasks = dbtasks_start(&t->loop, t->db);
  assert_non_null(t->tasks);
  return true;
}

static void on_tick(uv_timer_t *h)
{
  (void)h;
  T->ticks++;
}

static void ended(struct t *t)
{
  t->running = false;
  if (++t->done == t->want_done)
    uv_stop(&t->loop);
}

/* A task that inserts its number and waits `ms` for the server, inside one transaction. */
struct job {
  int n;
  int ms;
};

static void job_task(void *arg)
{
  struct job *j = arg;
  struct t *t = T;
  if (!dbtask_here() || !dbtask_inside())
    t->errors++;
  if (t->running)
    t->overlap = true;
  t->running = true;
  t->order[t->n_order++] = j->n;
  if (db_begin(t->db) != 0)
    t->errors++;
  struct db_stmt *st = db_stmt(t->db, "INSERT INTO dbtask_t (n) VALUES (?)");
  if (!st || db_bind_int64(st, 1, j->n) != 0 || db_step(st) != DB_DONE)
    t->errors++;
  if (st)
    db_reset(st);
  char sql[64];
  snprintf(sql, sizeof(sql), "SELECT pg_sleep(%g)", j->ms / 1000.0);
  if (j->ms && db_exec(t->db, sql) != 0)
    t->errors++;
  if (db_commit(t->db) != 0)
    t->errors++;
  free(j);
  ended(t);
}

static void run_job(int n, int ms)
{
  struct job *j = malloc(sizeof(*j));
  assert_non_null(j);
  *j = (struct job){.n = n, .ms = ms};
  dbtask_run(job_task, j);
}

static void ran_inline(void *arg)
{
  *(int *)arg += 1;
}

static void test_without_a_runner_a_task_runs_at_once(void **state)
{
  (void)state;
  assert_true(dbtask_here());
  assert_false(dbtask_inside());
  int n = 0;
  dbtask_run(ran_inline, &n);
  assert_int_equal(n, 1);
}

static void test_the_loop_runs_while_a_task_waits(void **state)
{
  struct t *t = *state;
  if (!start_runner(t))
    skip();
  uv_timer_start(&t->tick, on_tick, 10, 10);
  uint64_t waits = dbtasks_loop_waits();
  t->want_done = 1;
  uint64_t began = uv_hrtime();
  run_job(1, 300);
  uv_run(&t->loop, UV_RUN_DEFAULT);
  uv_timer_stop(&t->tick);
  double ms = (double)(uv_hrtime() - began) / 1e6;
  assert_true(ms >= 290);
  /* A 10 ms timer through a 300 ms wait: the loop ran all along (the loop waiting would give
   * at most one tick, after the task). */
  assert_int_equal(t->errors, 0);
  assert_true(t->ticks >= 10);
  assert_int_equal(dbtasks_loop_waits(), waits); /* the loop made no call of its own */
}

static void test_tasks_run_one_at_a_time_in_order(void **state)
{
  struct t *t = *state;
  if (!start_runner(t))
    skip();
  t->want_done = 4;
  run_job(1, 50);
  run_job(2, 0);
  run_job(3, 50);
  run_job(4, 0);
  uv_run(&t->loop, UV_RUN_DEFAULT);
  assert_int_equal(t->errors, 0);
  assert_false(t->overlap);
  assert_int_equal(t->n_order, 4);
  for (int i = 0; i < 4; i++)
    assert_int_equal(t->order[i], i + 1);
}

/* The loop's thread asks the database itself while a task is inside its transaction: it waits
 * for the task to end (and sees its row), and the wait is counted. */
static void on_later(uv_timer_t *h)
{
  struct t *t = h->data;
  /* The task is inside its transaction (a 300 ms wait after 50 ms): its row is not committed. */
  if (dbtask_inside() || !t->running)
    t->errors++;
  struct db_stmt *st = db_stmt(t->db, "SELECT count(*) FROM dbtask_t");
  if (st && db_step(st) == DB_ROW)
    t->seen = db_col_int64(st, 0);
  if (st)
    db_reset(st);
}

static void test_a_call_from_the_loop_waits_for_the_running_task(void **state)
{
  struct t *t = *state;
  if (!start_runner(t))
    skip();
  uint64_t waits = dbtasks_loop_waits();
  t->later.data = t;
  uv_timer_start(&t->later, on_later, 50, 0);
  t->want_done = 1;
  t->seen = -1;
  run_job(1, 300);
  uv_run(&t->loop, UV_RUN_DEFAULT);
  assert_int_equal(t->errors, 0);
  assert_int_equal(t->seen, 1);
  assert_true(dbtasks_loop_waits() > waits);
}

static void test_stop_runs_what_is_queued(void **state)
{
  struct t *t = *state;
  if (!start_runner(t))
    skip();
  t->want_done = 99; /* never stops the loop: the stop itself runs them */
  run_job(1, 20);
  run_job(2, 20);
  run_job(3, 0);
  dbtasks_stop(t->tasks);
  t->tasks = NULL;
  assert_int_equal(t->done, 3);
  assert_int_equal(t->errors, 0);
  assert_false(t->overlap);
  assert_true(dbtask_here()); /* no runner any more: calls run where they are made */
  struct db_stmt *st = db_stmt(t->db, "SELECT count(*) FROM dbtask_t");
  assert_int_equal(db_step(st), DB_ROW);
  assert_int_equal(db_col_int64(st, 0), 3);
  db_reset(st);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_without_a_runner_a_task_runs_at_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_the_loop_runs_while_a_task_waits, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tasks_run_one_at_a_time_in_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_a_call_from_the_loop_waits_for_the_running_task, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stop_runs_what_is_queued, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
