#include "bot/scheduler.h"

#include <stdint.h>
#include <stdlib.h>

#include "bot/clock.h"
#include "lib/kx.h"
#include "lib/log.h"

#define JOBS_PER_PASS 200
#define MAX_SLEEP_MS 60000

struct scheduler {
  uv_timer_t timer;
  struct cmd_ctx *ctx;
  void (*after_run)(void *arg);
  void *arg;
  int stopped;
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
