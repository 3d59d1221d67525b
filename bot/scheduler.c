#include "bot/scheduler.h"

#include <stdint.h>
#include <stdlib.h>

#include "bot/clock.h"
#include "bot/dbtask.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/jobs.h"

#define JOBS_PER_PASS 200
#define MAX_SLEEP_MS 60000
/* With other instances (a listener: PostgreSQL), a job one of them adds wakes this one through
 * LISTEN/NOTIFY; this short poll covers a notification missed while the listening connection
 * was being made again. */
#define SHARED_SLEEP_MS 5000
#define RELISTEN_MS 1000
#define DB_DOWN_RECHECK_MS 500
/* Following the wall clock, a step (NTP, a resumed host) is looked for every second: the bot's
 * time moved more than STEP_MS away from what the monotonic clock says has passed. */
#define WATCH_MS 1000
#define STEP_MS 2000

struct scheduler {
  uv_loop_t *loop;
  uv_timer_t timer;
  uv_timer_t relisten; /* listening again after the connection was lost */
  uv_poll_t *poll;     /* the listener's socket, while it listens */
  struct db *listener; /* NULL: one instance (SQLite), nothing to hear */
  const bool *db_down; /* app_health.db_down: no database call while it is true */
  uv_timer_t watch;    /* the wall-clock step watch */
  struct cmd_ctx *ctx;
  void (*after_run)(void *arg);
  void *arg;
  int stopped;
  int open_handles;
  int tasks;           /* queued or running on the database thread (dbtask.h): s lives until 0 */
  bool arm_queued;     /* an arm() task is queued: kicks meanwhile add nothing */
  bool drain_queued;   /* a notification's task is queued: the poll waits for it */
  int64_t watch_now;   /* the bot's clock at the last look … */
  uint64_t watch_mono; /* … and the monotonic clock then */
};

static void on_timer(uv_timer_t *t);
static void arm(struct scheduler *s);

static void maybe_free(struct scheduler *s)
{
  if (s->open_handles == 0 && s->tasks == 0) {
    dbtask_unhook(s->listener);
    db_close(s->listener);
    free(s);
  }
}

/* fn(s) as a task (dbtask.h); s is kept until it has run. */
static void as_task(struct scheduler *s, void (*fn)(void *arg))
{
  s->tasks++;
  dbtask_run(fn, s);
}

static void task_done(struct scheduler *s)
{
  s->tasks--;
  maybe_free(s);
}

static void arm_task(void *arg)
{
  struct scheduler *s = arg;
  s->arm_queued = false;
  arm(s);
  task_done(s);
}

/* Look for the next due job and set the timer for it. From the loop's own callbacks this is a
 * task, so the loop does not wait for the answer. */
static void arm(struct scheduler *s)
{
  if (s->stopped)
    return;
  if (!dbtask_here()) {
    if (!s->arm_queued) {
      s->arm_queued = true;
      as_task(s, arm_task);
    }
    return;
  }
  if (s->db_down && *s->db_down) {
    uv_timer_start(&s->timer, on_timer, DB_DOWN_RECHECK_MS, 0);
    return;
  }
  int64_t next = jobs_next_due(s->ctx->db);
  int64_t now = clock_now_ms();
  uint64_t delay = s->listener ? SHARED_SLEEP_MS : MAX_SLEEP_MS;
  if (next != INT64_MAX) {
    uint64_t d = clock_real_delay_ms(next - now);
    if (d < delay)
      delay = d;
  }
  uv_timer_start(&s->timer, on_timer, delay, 0);
}

static void run_due(struct scheduler *s)
{
  if (s->db_down && *s->db_down) {
    arm(s); /* look again soon; nothing is due that a database we cannot reach would run */
    return;
  }
  int ran = cmd_run_jobs(s->ctx, clock_now_ms(), JOBS_PER_PASS);
  if (ran > 0 && s->after_run)
    s->after_run(s->arg);
  if (ran == JOBS_PER_PASS)
    uv_timer_start(&s->timer, on_timer, 0, 0); /* more may be due */
  else
    arm(s);
}

static void run_due_task(void *arg)
{
  struct scheduler *s = arg;
  if (!s->stopped)
    run_due(s);
  task_done(s);
}

static void on_timer(uv_timer_t *t)
{
  struct scheduler *s = t->data;
  if (dbtask_here())
    run_due(s);
  else
    as_task(s, run_due_task);
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

static void on_poll_closed(uv_handle_t *h)
{
  free(h);
}

static void stop_poll(struct scheduler *s)
{
  if (!s->poll)
    return;
  uv_poll_stop(s->poll);
  uv_close((uv_handle_t *)s->poll, on_poll_closed);
  s->poll = NULL;
}

static void listen_again(struct scheduler *s);
static void on_relisten(uv_timer_t *t);

static void on_poll(uv_poll_t *p, int status, int events);

/* What arrived on the listener (a task: the listener is a hooked connection). */
static void drain(struct scheduler *s, int status)
{
  s->drain_queued = false;
  if (s->stopped)
    return;
  int n = status < 0 ? KX_EIO : db_listen_drain(s->listener);
  if (n < 0) {
    LOG_WARN("scheduler", "listen_lost", "err=%s note=\"polling every %d ms until back\"",
             kx_err_name(n), SHARED_SLEEP_MS);
    stop_poll(s);
    if (!s->stopped)
      uv_timer_start(&s->relisten, on_relisten, RELISTEN_MS, 0);
    return;
  }
  if (s->poll)
    uv_poll_start(s->poll, UV_READABLE, on_poll);
  if (n > 0 && !s->stopped)
    arm(s);
}

static void drain_task(void *arg)
{
  drain(arg, 0);
  task_done(arg);
}

/* A notification: another instance added or moved a job; look again for the next due one. The
 * poll rests until the task has read what came. */
static void on_poll(uv_poll_t *p, int status, int events)
{
  struct scheduler *s = p->data;
  (void)events;
  if (status < 0 || dbtask_here()) {
    drain(s, status);
    return;
  }
  uv_poll_stop(p);
  if (!s->drain_queued) {
    s->drain_queued = true;
    as_task(s, drain_task);
  }
}

static void listen_task(void *arg)
{
  struct scheduler *s = arg;
  listen_again(s);
  task_done(s);
}

static void listen_again(struct scheduler *s)
{
  if (s->stopped || s->poll)
    return;
  if (!dbtask_here()) {
    as_task(s, listen_task);
    return;
  }
  if (s->db_down && *s->db_down) {
    /* A connection attempt now would hold the loop for the connect timeout: wait. */
    uv_timer_start(&s->relisten, on_relisten, RELISTEN_MS, 0);
    return;
  }
  int rc = db_listen(s->listener, JOBS_CHANNEL);
  int fd = rc == 0 ? db_listen_fd(s->listener) : -1;
  uv_poll_t *p = fd >= 0 ? calloc(1, sizeof(*p)) : NULL;
  if (p && uv_poll_init(s->loop, p, fd) == 0) {
    p->data = s;
    s->poll = p;
    uv_poll_start(p, UV_READABLE, on_poll);
    arm(s); /* whatever was added while we were not listening */
    return;
  }
  free(p);
  uv_timer_start(&s->relisten, on_relisten, RELISTEN_MS, 0);
}

static void on_relisten(uv_timer_t *t)
{
  listen_again(t->data);
}

void scheduler_watch_db(struct scheduler *s, const bool *db_down)
{
  s->db_down = db_down;
}

void scheduler_listen(struct scheduler *s, struct db *listener)
{
  s->listener = listener;
  if (listener)
    listen_again(s);
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
  uv_timer_init(loop, &s->relisten);
  s->relisten.data = s;
  s->loop = loop;
  s->open_handles = 3;
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
  s->open_handles--;
  maybe_free(s);
}

void scheduler_stop(struct scheduler *s)
{
  if (!s || s->stopped)
    return;
  s->stopped = 1;
  uv_timer_stop(&s->timer);
  uv_timer_stop(&s->watch);
  uv_timer_stop(&s->relisten);
  stop_poll(s);
  uv_close((uv_handle_t *)&s->timer, on_closed);
  uv_close((uv_handle_t *)&s->watch, on_closed);
  uv_close((uv_handle_t *)&s->relisten, on_closed);
}
