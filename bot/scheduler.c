#include "bot/scheduler.h"

#include <stdint.h>
#include <stdlib.h>

#include "bot/clock.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/outbox.h"
#include "storage/seen.h"

#define JOBS_PER_PASS 200
#define MAX_SLEEP_MS 60000
#define HOUSEKEEPING_EVERY_MS (10ULL * 60 * 1000)
#define SEEN_KEEP_MS (72LL * 3600 * 1000)
#define OUTBOX_KEEP_MS (30LL * 24 * 3600 * 1000)

struct scheduler {
  uv_timer_t timer;
  struct cmd_ctx *ctx;
  void (*after_run)(void *arg);
  void *arg;
  uint64_t last_housekeeping_ms;
  int stopped;
};

static void on_timer(uv_timer_t *t);

static void housekeeping(struct scheduler *s)
{
  uint64_t mono = clock_mono_ms();
  if (s->last_housekeeping_ms && mono - s->last_housekeeping_ms < HOUSEKEEPING_EVERY_MS)
    return;
  s->last_housekeeping_ms = mono;
  /* Real time, not the scaled clock: Slack's redelivery window is real. */
  int64_t wall = clock_wall_ms();
  int64_t now = clock_now_ms();
  if (db_begin(s->ctx->db) == 0) {
    int rc = seen_prune(s->ctx->db, (now < wall ? now : wall) - SEEN_KEEP_MS);
    if (rc == 0)
      rc = outbox_prune(s->ctx->db, now - OUTBOX_KEEP_MS);
    if (rc == 0)
      db_commit(s->ctx->db);
    else
      db_rollback(s->ctx->db);
  }
}

static void arm(struct scheduler *s)
{
  if (s->stopped)
    return;
  int64_t next = jobs_next_due(s->ctx->db);
  int64_t now = clock_now_ms();
  uint64_t delay = MAX_SLEEP_MS;
  if (next != INT64_MAX) {
    uint64_t d = clock_real_delay_ms(next - now);
    if (d < delay)
      delay = d;
  }
  uv_timer_start(&s->timer, on_timer, delay, 0);
}

static void on_timer(uv_timer_t *t)
{
  struct scheduler *s = t->data;
  int ran = cmd_run_jobs(s->ctx, clock_now_ms(), JOBS_PER_PASS);
  if (ran > 0 && s->after_run)
    s->after_run(s->arg);
  housekeeping(s);
  if (ran == JOBS_PER_PASS)
    uv_timer_start(&s->timer, on_timer, 0, 0); /* more may be due */
  else
    arm(s);
}

struct scheduler *scheduler_new(uv_loop_t *loop,
                                struct cmd_ctx *ctx,
                                void (*after_run)(void *arg),
                                void *arg)
{
  struct scheduler *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  uv_timer_init(loop, &s->timer);
  s->timer.data = s;
  s->ctx = ctx;
  s->after_run = after_run;
  s->arg = arg;
  return s;
}

void scheduler_start(struct scheduler *s)
{
  uv_timer_start(&s->timer, on_timer, 0, 0);
}

void scheduler_kick(struct scheduler *s)
{
  if (!s->stopped)
    arm(s);
}

static void on_closed(uv_handle_t *h)
{
  free(h->data);
}

void scheduler_stop(struct scheduler *s)
{
  if (!s || s->stopped)
    return;
  s->stopped = 1;
  uv_timer_stop(&s->timer);
  uv_close((uv_handle_t *)&s->timer, on_closed);
}
