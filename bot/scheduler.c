#include "bot/scheduler.h"

#include <stdint.h>
#include <stdlib.h>

#include "bot/clock.h"
#include "lib/kx.h"
#include "lib/log.h"

#define JOBS_PER_PASS 200
#define MAX_SLEEP_MS 60000
/* Following the wall clock, a step (NTP, a resumed host) is looked for every second: the bot's
 * time moved more than STEP_MS away from what the monotonic clock says has passed. */
#define WATCH_MS 1000
#define STEP_MS 2000

struct scheduler {
  uv_timer_t timer;
  uv_timer_t watch; /* the wall-clock step watch */
  struct cmd_ctx *ctx;
  void (*after_run)(void *arg);
  void *arg;
  int stopped;
  int open_handles;
  int64_t watch_now;   /* the bot's clock at the last look … */
  uint64_t watch_mono; /* … and the monotonic clock then */
};

static void on_timer(uv_timer_t *t);

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
  if (ran == JOBS_PER_PASS)
    uv_timer_start(&s->timer, on_timer, 0, 0); /* more may be due */
  else
    arm(s);
}

/* Did the clock step since the last look? Then look for due jobs now: forward, what became due
 * runs (each job once: a job that ran is done); back, nothing runs twice and the timer is armed
 * again from the new time (uv timers are monotonic: nothing waits for the wall clock). */
static void on_watch(uv_timer_t *t)
{
  struct scheduler *s = t->data;
  int64_t now = clock_now_ms();
  uint64_t mono = clock_mono_ms();
  int64_t drift = now - (s->watch_now + (int64_t)(mono - s->watch_mono));
  s->watch_now = now;
  s->watch_mono = mono;
  if (drift > STEP_MS || drift < -STEP_MS) {
    LOG_WARN("scheduler", "clock_stepped", "by_ms=%lld note=\"due jobs are looked for now\"",
             (long long)drift);
    if (!s->stopped)
      uv_timer_start(&s->timer, on_timer, 0, 0);
  }
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
  uv_timer_init(loop, &s->watch);
  s->watch.data = s;
  s->open_handles = 2;
  s->ctx = ctx;
  s->after_run = after_run;
  s->arg = arg;
  return s;
}

void scheduler_start(struct scheduler *s)
{
  uv_timer_start(&s->timer, on_timer, 0, 0);
  if (clock_follows_wall()) {
    s->watch_now = clock_now_ms();
    s->watch_mono = clock_mono_ms();
    uv_timer_start(&s->watch, on_watch, WATCH_MS, WATCH_MS);
  }
}

void scheduler_kick(struct scheduler *s)
{
  if (!s->stopped)
    arm(s);
}

static void on_closed(uv_handle_t *h)
{
  struct scheduler *s = h->data;
  if (--s->open_handles == 0)
    free(s);
}

void scheduler_stop(struct scheduler *s)
{
  if (!s || s->stopped)
    return;
  s->stopped = 1;
  uv_timer_stop(&s->timer);
  uv_timer_stop(&s->watch);
  uv_close((uv_handle_t *)&s->timer, on_closed);
  uv_close((uv_handle_t *)&s->watch, on_closed);
}
