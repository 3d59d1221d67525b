/* The sender's retry pause after a 5xx, a timeout or a transport error (bot/sender.c): base 1 s
 * doubling per failure, bounded at 60 s, jittered over [base/2, base] (issue 15). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "bot/sender.h"
#include "commands/core/out.h"
#include "lib/kx.h"
#include "tests/unit/fixture.h"

/* A platform that is down: every row answers "retry" (a 5xx) on the next loop turn. */
struct fake {
  int calls;
  int per_row[1024]; /* calls by row id */
};

struct fake_call {
  uv_timer_t t;
  struct sender *s;
  int64_t id;
  sender_done_fn done;
};

static void fake_answer(uv_timer_t *t)
{
  struct fake_call *c = t->data;
  c->done(c->s, c->id, KX_ERETRY, "http_503", -1, NULL);
  uv_close((uv_handle_t *)t, (uv_close_cb)free);
}

static int fake_send(void *arg, struct sender *s, const struct outbox_row *row, sender_done_fn done)
{
  struct fake *f = arg;
  struct fake_call *c = calloc(1, sizeof(*c));
  if (!c)
    return KX_ENOMEM;
  f->calls++;
  if (row->id > 0 && row->id < 1024)
    f->per_row[row->id]++;
  c->s = s;
  c->id = row->id;
  c->done = done;
  uv_timer_init(uv_default_loop(), &c->t);
  c->t.data = c;
  uv_timer_start(&c->t, fake_answer, 1, 0);
  return 0;
}

static void on_enough(uv_timer_t *t)
{
  uv_stop(t->loop);
}

static void on_stopped(void *arg)
{
  (void)arg;
}

#define CONFIG                                                                          \
  "timezone: UTC\npeople: [{id: alice, slack: U0ALICE001}]\nseverities: [{name: P1}]\n" \
  "rotas: [{name: r, start: 2026-11-23, primary: [alice]}]\n"

/* A platform down while more queues fail than the sender keeps pauses for: every row still
 * waits before its retry (no row is retried at once, over and over). */
static void test_many_failing_queues_no_hot_loop(void **state)
{
  (void)state;
  struct fx *fx = fx_new(CONFIG, "2026-12-07T09:00:00Z");
  enum { ROWS = 400 };
  assert_int_equal(db_begin(fx->db), 0);
  for (int i = 0; i < ROWS; i++) {
    char queue[32];
    snprintf(queue, sizeof(queue), "q%d", i);
    assert_int_equal(out_row(&fx->ctx, "fake", "fake.send", queue, cJSON_CreateObject(),
                             OUTBOX_NORMAL, NULL, NULL, NULL),
                     0);
  }
  assert_int_equal(db_commit(fx->db), 0);
  uv_loop_t *loop = uv_default_loop();
  struct fake f = {0};
  struct sender *s = sender_new(loop, &fx->ctx, NULL);
  assert_non_null(s);
  assert_int_equal(sender_register(s, "fake", fake_send, &f), 0);
  sender_kick(s);
  uv_timer_t enough;
  uv_timer_init(loop, &enough);
  uv_timer_start(&enough, on_enough, 400, 0); /* the first retry pause is at least 500 ms */
  uv_run(loop, UV_RUN_DEFAULT);
  print_message("calls in 400 ms: %d for %d rows\n", f.calls, ROWS);
  /* none again before its pause (the bug: rows beyond the pause table retried at once,
   * thousands of calls), and the rows behind the waiting ones are reached */
  int most = 0;
  for (int i = 0; i < 1024; i++)
    most = f.per_row[i] > most ? f.per_row[i] : most;
  assert_int_equal(most, 1);
  assert_true(f.calls >= ROWS / 2);
  sender_stop(s, on_stopped, NULL);
  uv_close((uv_handle_t *)&enough, NULL);
  uv_run(loop, UV_RUN_DEFAULT); /* the calls in flight end */
  sender_free(s);
  uv_run(loop, UV_RUN_DEFAULT);
  fx_free(fx);
}

static void test_retry_delay_doubles_and_is_bounded(void **state)
{
  (void)state;
  uint64_t base = 1000;
  for (int failures = 1; failures <= 40; failures++) {
    uint64_t lo = sender_retry_delay_ms(failures, 0);
    uint64_t hi = sender_retry_delay_ms(failures, UINT_MAX);
    uint64_t mid = sender_retry_delay_ms(failures, 12345);
    assert_true(lo == base / 2);
    assert_true(hi >= base / 2 && hi <= base);
    assert_true(mid >= base / 2 && mid <= base);
    /* every jitter value stays within [base/2, base] */
    for (unsigned r = 0; r < 5000; r += 7)
      assert_true(sender_retry_delay_ms(failures, r) <= base);
    base = base * 2 > 60000 ? 60000 : base * 2;
  }
  /* the bound: never more than a minute, however many failures */
  assert_true(sender_retry_delay_ms(1000000, UINT_MAX) <= 60000);
  assert_true(sender_retry_delay_ms(1000000, 0) == 30000);
}

static void test_retry_delay_has_jitter(void **state)
{
  (void)state;
  /* two rows failing together do not retry in lockstep */
  uint64_t seen[8];
  int distinct = 0;
  for (unsigned r = 0; r < 8; r++) {
    uint64_t d = sender_retry_delay_ms(5, r * 2654435761u);
    int dup = 0;
    for (int i = 0; i < distinct; i++)
      dup |= seen[i] == d;
    if (!dup)
      seen[distinct++] = d;
  }
  assert_true(distinct >= 6);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_retry_delay_doubles_and_is_bounded),
      cmocka_unit_test(test_retry_delay_has_jitter),
      cmocka_unit_test(test_many_failing_queues_no_hot_loop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
