/* storage/leases.c and the outbox's fence (issue 12): a lease taken on the database clock, its
 * epoch bumped on every takeover and kept on renewal, and outbox completions refused with
 * KX_EFENCED once another holder took over — with two connections to one SQLite file, as two
 * instances would have. */
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
#include <time.h>
#include <unistd.h>

#include "lib/kx.h"
#include "storage/db.h"
#include "storage/db_internal.h"
#include "storage/leases.h"
#include "storage/outbox.h"

struct two {
  char path[64];
  struct db *a;
  struct db *b;
};

static int setup(void **state)
{
  struct two *t = calloc(1, sizeof(*t));
  snprintf(t->path, sizeof(t->path), "/tmp/klaxon-lease-XXXXXX");
  int fd = mkstemp(t->path);
  assert_true(fd >= 0);
  close(fd);
  unlink(t->path);
  int err = 0;
  t->a = db_open(t->path, 0, &err);
  assert_non_null(t->a);
  t->b = db_open(t->path, 0, &err);
  assert_non_null(t->b);
  *state = t;
  return 0;
}

static int teardown(void **state)
{
  struct two *t = *state;
  db_close(t->a);
  db_close(t->b);
  char side[80];
  unlink(t->path);
  snprintf(side, sizeof(side), "%s-wal", t->path);
  unlink(side);
  snprintf(side, sizeof(side), "%s-shm", t->path);
  unlink(side);
  free(t);
  return 0;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int64_t add_row(struct db *db)
{
  struct outbox_new n = {.method = "chat.postMessage",
                         .queue = "C1",
                         .body = "{\"channel\":\"C1\",\"text\":\"page\"}",
                         .now_ms = 1};
  int64_t id = 0;
  assert_int_equal(outbox_add(db, &n, &id), 0);
  return id;
}

static void test_clock_is_wall_clock(void **state)
{
  struct two *t = *state;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t wall = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  int64_t db = db_clock_ms(t->a);
  assert_true(db >= wall && db - wall < 1000);
}

static void test_acquire_renew_takeover(void **state)
{
  struct two *t = *state;
  int64_t ea = 0, eb = 0;
  struct leases_state l;
  assert_int_equal(leases_get(t->a, LEASES_OUTBOX, &l), 0);
  assert_int_equal(l.epoch, 0);
  assert_string_equal(l.holder, "");
  assert_int_equal(leases_epoch(t->b, LEASES_OUTBOX), 0);

  /* A takes a new lease: epoch 1. */
  assert_int_equal(leases_acquire(t->a, LEASES_OUTBOX, "A", 200, &ea), 0);
  assert_int_equal(ea, 1);
  /* B cannot take an unexpired lease. */
  assert_int_equal(leases_acquire(t->b, LEASES_OUTBOX, "B", 200, &eb), KX_EEXISTS);
  assert_int_equal(eb, 0);
  /* A renews: the epoch stays, the expiry moves on. */
  assert_int_equal(leases_get(t->b, LEASES_OUTBOX, &l), 0);
  int64_t first_expiry = l.expires_at;
  sleep_ms(20);
  assert_int_equal(leases_acquire(t->a, LEASES_OUTBOX, "A", 200, &ea), 0);
  assert_int_equal(ea, 1);
  assert_int_equal(leases_get(t->b, LEASES_OUTBOX, &l), 0);
  assert_string_equal(l.holder, "A");
  assert_true(l.expires_at > first_expiry);
  /* The renewal must name the epoch held: a stale epoch is no renewal (and, unexpired, no
   * takeover either). */
  int64_t stale = 7;
  assert_int_equal(leases_acquire(t->a, LEASES_OUTBOX, "A", 200, &stale), KX_EEXISTS);

  /* A stops renewing: once expired on the database clock, B takes it over with epoch + 1. */
  sleep_ms(250);
  assert_int_equal(leases_acquire(t->b, LEASES_OUTBOX, "B", 200, &eb), 0);
  assert_int_equal(eb, 2);
  assert_int_equal(leases_epoch(t->a, LEASES_OUTBOX), 2);
  /* A, back, cannot renew its old epoch: B holds it, unexpired. */
  int64_t old = ea;
  assert_int_equal(leases_acquire(t->a, LEASES_OUTBOX, "A", 200, &old), KX_EEXISTS);
  assert_int_equal(old, 0);
  /* B releases: it expires at once and A takes it over, epoch 3. */
  assert_int_equal(leases_release(t->a, LEASES_OUTBOX, "A", 1), 0); /* not A's: nothing */
  assert_int_equal(leases_acquire(t->a, LEASES_OUTBOX, "A", 200, &old), KX_EEXISTS);
  assert_int_equal(leases_release(t->b, LEASES_OUTBOX, "B", eb), 0);
  old = 0;
  assert_int_equal(leases_acquire(t->a, LEASES_OUTBOX, "A", 200, &old), 0);
  assert_int_equal(old, 3);
  /* A holder known to be dead is taken over before its lease expires, once: only while it is
   * still that holder at that epoch. */
  int64_t ec = 0;
  assert_int_equal(leases_take_from(t->b, LEASES_OUTBOX, "C", "A", 2, 200, &ec), KX_EEXISTS);
  assert_int_equal(leases_take_from(t->b, LEASES_OUTBOX, "C", "B", 3, 200, &ec), KX_EEXISTS);
  assert_int_equal(leases_take_from(t->b, LEASES_OUTBOX, "C", "A", 3, 200, &ec), 0);
  assert_int_equal(ec, 4);
  assert_int_equal(leases_take_from(t->a, LEASES_OUTBOX, "D", "A", 3, 200, &ec), KX_EEXISTS);
  assert_int_equal(leases_get(t->a, LEASES_OUTBOX, &l), 0);
  assert_string_equal(l.holder, "C");
  assert_int_equal(l.epoch, 4);
  /* Bad arguments. */
  assert_int_equal(leases_acquire(t->a, LEASES_OUTBOX, "A", 0, &old), KX_EINVAL);
  assert_int_equal(leases_acquire(t->a, NULL, "A", 10, &old), KX_EINVAL);
}

/* The fence: A marks a row in flight and freezes; B takes over; A's completion is refused and
 * B's is recorded. */
static void test_fenced_completion(void **state)
{
  struct two *t = *state;
  int64_t ea = 0, eb = 0;
  int64_t id = add_row(t->a);
  int64_t id2 = add_row(t->a);
  assert_int_equal(leases_acquire(t->a, LEASES_OUTBOX, "A", 150, &ea), 0);
  assert_int_equal(ea, 1);
  /* Only the holder at a current epoch may start a row. */
  assert_int_equal(outbox_sending(t->b, id, 5), KX_EFENCED);
  assert_int_equal(outbox_sending(t->a, id, ea), 0);
  struct outbox_row r;
  assert_int_equal(outbox_get(t->b, id, &r), 0);
  assert_int_equal(r.sending_epoch, 1);
  assert_true(r.sending_at > 0);
  outbox_row_clear(&r);

  sleep_ms(200);
  /* Expired: A may not start another row, even at its (still current) epoch. */
  assert_int_equal(outbox_sending(t->a, id2, ea), KX_EFENCED);
  assert_int_equal(leases_acquire(t->b, LEASES_OUTBOX, "B", 10000, &eb), 0);
  assert_int_equal(eb, 2);
  /* The row is in doubt for B: started under an older epoch, still pending. */
  struct outbox_row *rows;
  size_t n;
  assert_int_equal(outbox_ready(t->b, 10, NULL, 0, &rows, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(rows[0].id, id);
  assert_true(rows[0].sending_epoch > 0 && rows[0].sending_epoch < eb);
  outbox_rows_free(rows, n);

  /* A wakes up: its completion is refused, in a transaction as the sender makes it. */
  assert_int_equal(db_begin(t->a), 0);
  assert_int_equal(outbox_done_fenced(t->a, id, ea, "{\"ok\":true,\"ts\":\"1.1\"}", 10),
                   KX_EFENCED);
  assert_int_equal(db_rollback(t->a), 0);
  assert_int_equal(outbox_failed_fenced(t->a, id, ea, "channel_not_found", 10), KX_EFENCED);
  assert_int_equal(outbox_get(t->b, id, &r), 0);
  assert_int_equal(r.attempts, 0);
  outbox_row_clear(&r);
  assert_int_equal(outbox_depth(t->b), 2);

  /* B sends it again and records it. */
  assert_int_equal(outbox_sending(t->b, id, eb), 0);
  assert_int_equal(outbox_done_fenced(t->b, id, eb, "{\"ok\":true,\"ts\":\"2.2\"}", 11), 0);
  /* Already done: not pending, which is not the fence. */
  assert_int_equal(outbox_done_fenced(t->b, id, eb, "{}", 12), KX_ENOTFOUND);
  assert_int_equal(outbox_sending(t->b, id, eb), KX_ENOTFOUND);
  assert_int_equal(outbox_done_fenced(t->a, id, ea, "{}", 12), KX_EFENCED);
  assert_int_equal(outbox_failed_fenced(t->b, id2, eb, "channel_not_found", 12), 0);
  assert_int_equal(outbox_depth(t->a), 0);
  /* Epoch 0 is the unfenced form. */
  int64_t id3 = add_row(t->a);
  assert_int_equal(outbox_done_fenced(t->a, id3, 0, "{}", 13), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_clock_is_wall_clock, setup, teardown),
      cmocka_unit_test_setup_teardown(test_acquire_renew_takeover, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fenced_completion, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
