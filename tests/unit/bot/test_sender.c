/* The sender's retry pause after a 5xx, a timeout or a transport error (bot/sender.c): base 1 s
 * doubling per failure, bounded at 60 s, jittered over [base/2, base] (issue 15). The outbox
 * lease (issue 12, bot/sender_lease.c): a standby sends nothing, takes over a released lease
 * and records its rows under the new epoch; a chat.postMessage names its row in metadata. */
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
#include "bot/sender_internal.h"
#include "commands/core/out.h"
#include "lib/kx.h"
#include "storage/leases.h"
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

static int fake_answer_ok; /* answer success instead of a 503 */

static void fake_answer(uv_timer_t *t)
{
  struct fake_call *c = t->data;
  if (fake_answer_ok)
    c->done(c->s, c->id, 0, NULL, -1, NULL);
  else
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

static void run_for(uv_loop_t *loop, uint64_t ms)
{
  uv_timer_t t;
  uv_timer_init(loop, &t);
  uv_timer_start(&t, on_enough, ms, 0);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
}

/* Another instance holds the lease: this sender sends nothing. When it lets the lease go, this
 * one takes it over (epoch + 1), sends, and its completions are recorded under that epoch. */
static void test_standby_sends_nothing_then_takes_over(void **state)
{
  (void)state;
  struct fx *fx = fx_new(CONFIG, "2026-12-07T09:00:00Z");
  int64_t other = 0;
  assert_int_equal(leases_acquire(fx->db, LEASES_OUTBOX, "other:1:1", 60000, &other), 0);
  assert_int_equal(db_begin(fx->db), 0);
  for (int i = 0; i < 3; i++) {
    char queue[32];
    snprintf(queue, sizeof(queue), "q%d", i);
    assert_int_equal(out_row(&fx->ctx, "fake", "fake.send", queue, cJSON_CreateObject(),
                             OUTBOX_NORMAL, NULL, NULL, NULL),
                     0);
  }
  assert_int_equal(db_commit(fx->db), 0);
  uv_loop_t *loop = uv_default_loop();
  struct fake f = {0};
  fake_answer_ok = 1;
  struct sender *s = sender_new(loop, &fx->ctx, NULL);
  assert_non_null(s);
  assert_int_equal(sender_register(s, "fake", fake_send, &f), 0);
  sender_kick(s);
  run_for(loop, 300);
  assert_int_equal(f.calls, 0);
  assert_false(sender_lease_held(s));
  assert_int_equal(outbox_depth(fx->db), 3);
  /* The holder leaves: the standby takes it over within its poll (1 s). */
  assert_int_equal(leases_release(fx->db, LEASES_OUTBOX, "other:1:1", other), 0);
  run_for(loop, LEASE_STANDBY_MS + 500);
  assert_true(sender_lease_held(s));
  assert_int_equal(s->lease.epoch, other + 1);
  assert_int_equal(f.calls, 3);
  assert_int_equal(outbox_depth(fx->db), 0);
  sender_stop(s, on_stopped, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  /* Stopped: the lease is given up, so another instance takes it at once. */
  struct leases_state l;
  assert_int_equal(leases_get(fx->db, LEASES_OUTBOX, &l), 0);
  assert_int_equal(l.expires_at, 0);
  sender_free(s);
  uv_run(loop, UV_RUN_DEFAULT);
  fake_answer_ok = 0;
  fx_free(fx);
}

static void test_post_names_its_row(void **state)
{
  (void)state;
  struct outbox_row row = {.id = 42, .body = "{\"channel\":\"C1\",\"text\":\"hi\"}"};
  char *body = sender_tag_body(&row);
  assert_non_null(body);
  assert_string_equal(body,
                      "{\"channel\":\"C1\",\"text\":\"hi\",\"metadata\":{\"event_payload\":"
                      "{\"row\":42},\"event_type\":\"klaxon_outbox\"}}");
  free(body);
  /* A body with its own metadata is left alone; so is one that is not an object. */
  row.body = "{\"channel\":\"C1\",\"metadata\":{}}";
  assert_null(sender_tag_body(&row));
  row.body = "[1]";
  assert_null(sender_tag_body(&row));
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
      cmocka_unit_test(test_standby_sends_nothing_then_takes_over),
      cmocka_unit_test(test_post_names_its_row),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
