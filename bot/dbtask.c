/*
 * dbtask.c — tasks on the database thread, the loop's turn handed back and forth (dbtask.h).
 *
 * One mutex and two condition variables make a baton: `owner` says whose turn it is, the loop's
 * thread or the task thread's, and only the holder runs the bot's code. The loop gives the turn
 * to a task (grant) and waits until it comes back: when the task ends, or when it waits for the
 * server (release). After its wait the task asks for the turn again (acquire: `wants` and a
 * uv_async_send), and the loop grants it from the async callback, between two of its own
 * callbacks. What the task thread does without the turn is the wait itself, on its own
 * connection, which nothing else touches meanwhile: the loop's thread, wanting a hooked
 * connection, first waits for the running task to end (enter → finish_current).
 */
#include "bot/dbtask.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "storage/db.h"

enum { LOOP, TASK };

struct item {
  void (*fn)(void *arg);
  void *arg;
  struct item *next;
};

struct dbtasks {
  uv_loop_t *loop;
  uv_async_t wake; /* a task's wait is over: it wants the turn back */
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t to_task, to_loop;
  int owner;            /* whose turn it is */
  bool wants;           /* the task waits for the turn (after its wait for the server) */
  bool quit;            /* the thread ends at its next grant */
  struct item *current; /* the task begun and not ended, or NULL */
  int64_t granted_us;   /* when the task got the turn (HOLD_US) */
  struct item *head, *tail;
  struct db *hooked[4]; /* the connections with our hooks, unhooked at stop */
  size_t n_hooked;
  /* The loop's own waits, for the log: the first of each statement is named. */
  const char *seen[64];
  size_t n_seen;
};

static struct dbtasks *runner; /* the process's (one loop) */

/* A task keeps the loop's turn through a wait for the server for as long as it has held the
 * turn for less than this: a local server answers in about 100 µs, and handing the turn over
 * and back costs four thread wake-ups, which halved the throughput on PostgreSQL (make bench).
 * So the loop is never held by the database for longer than this at a time. */
#define HOLD_US 1000

static _Thread_local bool on_task_thread;
static uint64_t loop_waits;

bool dbtask_inside(void)
{
  return on_task_thread;
}

bool dbtask_here(void)
{
  return on_task_thread || !runner;
}

uint64_t dbtasks_loop_waits(void)
{
  return __atomic_load_n(&loop_waits, __ATOMIC_RELAXED);
}

/* Loop's thread, mu held: the turn to the task until it comes back. */
static void grant(struct dbtasks *t)
{
  t->owner = TASK;
  pthread_cond_signal(&t->to_task);
  while (t->owner != LOOP)
    pthread_cond_wait(&t->to_loop, &t->mu);
}

/* Loop's thread, mu held: begin queued tasks while none is running. A task that waits for the
 * server leaves `current` set and the loop goes on. */
static void start_queued(struct dbtasks *t)
{
  while (!t->current && t->head && !t->quit) {
    t->current = t->head;
    t->head = t->head->next;
    if (!t->head)
      t->tail = NULL;
    grant(t);
  }
}

/* Loop's thread, mu held: the running task to its end, the loop's thread waiting while the
 * task waits for the server. */
static void finish_current(struct dbtasks *t)
{
  while (t->current) {
    while (t->current && !t->wants)
      pthread_cond_wait(&t->to_loop, &t->mu);
    if (t->current && t->wants) {
      t->wants = false;
      grant(t);
    }
  }
}

/* Loop's thread, mu held: the running task to its end, for a call of the loop's own; the queue
 * goes on from the loop's next look, not from inside that call. */
static void finish_then_resume(struct dbtasks *t)
{
  finish_current(t);
  if (t->head)
    uv_async_send(&t->wake);
}

static void on_wake(uv_async_t *a)
{
  struct dbtasks *t = a->data;
  pthread_mutex_lock(&t->mu);
  if (t->wants) {
    t->wants = false;
    grant(t);
  }
  start_queued(t);
  pthread_mutex_unlock(&t->mu);
}

static void *task_main(void *arg)
{
  struct dbtasks *t = arg;
  on_task_thread = true;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the loop's */
  pthread_mutex_lock(&t->mu);
  for (;;) {
    while (t->owner != TASK)
      pthread_cond_wait(&t->to_task, &t->mu);
    if (t->quit) {
      t->owner = LOOP;
      pthread_cond_signal(&t->to_loop);
      break;
    }
    struct item *it = t->current;
    t->granted_us = (int64_t)clock_mono_us();
    pthread_mutex_unlock(&t->mu);
    it->fn(it->arg);
    free(it);
    pthread_mutex_lock(&t->mu);
    t->current = NULL;
    t->owner = LOOP;
    pthread_cond_signal(&t->to_loop);
  }
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

/* ---- the connection's hooks ---- */

static void note_loop_wait(struct dbtasks *t, const char *what)
{
  __atomic_add_fetch(&loop_waits, 1, __ATOMIC_RELAXED);
  for (size_t i = 0; i < t->n_seen; i++)
    if (t->seen[i] == what)
      return;
  if (t->n_seen < sizeof(t->seen) / sizeof(t->seen[0]))
    t->seen[t->n_seen++] = what;
  LOG_WARN("dbtask", "loop_wait", "what=\"%.100s\" note=\"the loop waited for the database\"",
           what ? what : "-");
}

static void hook_enter(void *arg)
{
  struct dbtasks *t = arg;
  if (on_task_thread)
    return;
  pthread_mutex_lock(&t->mu);
  if (t->current) {
    /* Code on the loop that is not a task yet, while a task holds the session: it waits for
     * that task to end (the loop waits with it). */
    note_loop_wait(t, "the running task (a call made on the loop, not as a task)");
    finish_then_resume(t);
  }
  pthread_mutex_unlock(&t->mu);
}

static int hook_release(void *arg, const char *what)
{
  struct dbtasks *t = arg;
  if (!on_task_thread) {
    note_loop_wait(t, what);
    return 0;
  }
  pthread_mutex_lock(&t->mu);
  t->owner = LOOP;
  pthread_cond_signal(&t->to_loop);
  pthread_mutex_unlock(&t->mu);
  return 1;
}

static void hook_acquire(void *arg)
{
  struct dbtasks *t = arg;
  pthread_mutex_lock(&t->mu);
  t->wants = true;
  pthread_cond_signal(&t->to_loop); /* a loop's thread in finish_current */
  pthread_mutex_unlock(&t->mu);
  uv_async_send(&t->wake);
  pthread_mutex_lock(&t->mu);
  while (t->owner != TASK)
    pthread_cond_wait(&t->to_task, &t->mu);
  t->granted_us = (int64_t)clock_mono_us();
  pthread_mutex_unlock(&t->mu);
}

static int hook_hold_us(void *arg)
{
  struct dbtasks *t = arg;
  if (!on_task_thread)
    return 0;
  int64_t left = HOLD_US - ((int64_t)clock_mono_us() - t->granted_us);
  return left > 0 ? (int)left : 0;
}

void dbtask_hook(struct db *db)
{
  if (!runner || !db)
    return;
  for (size_t i = 0; i < runner->n_hooked; i++)
    if (runner->hooked[i] == db)
      return;
  if (runner->n_hooked == sizeof(runner->hooked) / sizeof(runner->hooked[0]))
    return;
  runner->hooked[runner->n_hooked++] = db;
  struct db_hooks h = {.enter = hook_enter,
                       .release = hook_release,
                       .acquire = hook_acquire,
                       .hold_us = hook_hold_us,
                       .arg = runner};
  db_set_hooks(db, &h);
}

void dbtask_unhook(struct db *db)
{
  struct dbtasks *t = runner;
  if (!t || !db)
    return;
  for (size_t i = 0; i < t->n_hooked; i++)
    if (t->hooked[i] == db) {
      /* Not while a task is between its release and acquire (closing, not a call: not counted) */
      if (!on_task_thread) {
        pthread_mutex_lock(&t->mu);
        finish_then_resume(t);
        pthread_mutex_unlock(&t->mu);
      }
      db_set_hooks(db, NULL);
      t->hooked[i] = t->hooked[--t->n_hooked];
      return;
    }
}

static void on_wake_closed(uv_handle_t *h);

/* ---- the API ---- */

struct dbtasks *dbtasks_start(uv_loop_t *loop, struct db *db)
{
  if (!db || runner)
    return NULL;
  struct dbtasks *t = calloc(1, sizeof(*t));
  if (!t)
    return NULL;
  t->loop = loop;
  t->owner = LOOP;
  pthread_mutex_init(&t->mu, NULL);
  pthread_cond_init(&t->to_task, NULL);
  pthread_cond_init(&t->to_loop, NULL);
  if (uv_async_init(loop, &t->wake, on_wake) != 0)
    goto fail;
  t->wake.data = t;
  if (pthread_create(&t->thread, NULL, task_main, t) != 0) {
    LOG_WARN("dbtask", "no_thread", "note=\"database calls stay on the loop\"");
    uv_close((uv_handle_t *)&t->wake, on_wake_closed); /* frees t once libuv is done with it */
    return NULL;
  }
  runner = t;
  dbtask_hook(db);
  LOG_INFO("dbtask", "started", "note=\"database waits are off the loop\"");
  return t;
fail:
  pthread_cond_destroy(&t->to_task);
  pthread_cond_destroy(&t->to_loop);
  pthread_mutex_destroy(&t->mu);
  free(t);
  return NULL;
}

void dbtask_run(void (*fn)(void *arg), void *arg)
{
  struct dbtasks *t = runner;
  struct item *it = t ? calloc(1, sizeof(*it)) : NULL;
  if (!it) {
    fn(arg); /* SQLite, the CLI, or out of memory: here and now, as before */
    return;
  }
  it->fn = fn;
  it->arg = arg;
  pthread_mutex_lock(&t->mu);
  if (t->tail)
    t->tail->next = it;
  else
    t->head = it;
  t->tail = it;
  /* From a task, the new one waits for it to end (it begins from the loop's next look). */
  if (!on_task_thread)
    start_queued(t);
  pthread_mutex_unlock(&t->mu);
}

static void on_wake_closed(uv_handle_t *h)
{
  struct dbtasks *t = h->data;
  pthread_cond_destroy(&t->to_task);
  pthread_cond_destroy(&t->to_loop);
  pthread_mutex_destroy(&t->mu);
  free(t);
}

void dbtasks_stop(struct dbtasks *t)
{
  if (!t)
    return;
  pthread_mutex_lock(&t->mu);
  for (;;) {
    finish_current(t);
    if (!t->head)
      break;
    t->current = t->head;
    t->head = t->head->next;
    if (!t->head)
      t->tail = NULL;
    grant(t);
  }
  t->quit = true;
  grant(t); /* the thread sees quit and ends */
  pthread_mutex_unlock(&t->mu);
  pthread_join(t->thread, NULL);
  for (size_t i = 0; i < t->n_hooked; i++)
    db_set_hooks(t->hooked[i], NULL);
  runner = NULL;
  uv_close((uv_handle_t *)&t->wake, on_wake_closed);
}
