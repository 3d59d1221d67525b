#include "bot/checkpoint.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bot/app.h"
#include "bot/clock.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/retention.h"

struct checkpoint {
  uv_timer_t timer;
  uv_work_t work;
  struct db *db; /* its own connection, used only from the pool thread */
  struct app_health *health;
  bool running;
  int64_t started_mono_ms; /* when the pass in flight began */
  atomic_bool ping_done;   /* its SELECT 1 has answered (the pool thread sets it) */
  bool stopped;
  bool integrity_due;
  int integrity_result; /* written by the pool thread, read in done() on the loop */
  int64_t integrity_next_mono_ms;
  /* retention: cutoffs computed on the loop (the clock is the loop's), batches on the thread */
  int64_t retention_ms;
  bool retention_due;
  bool retention_more; /* the last pass stopped at its batch cap: go on at the next tick */
  int retention_rc;
  int ping_rc;     /* the worker's SELECT 1 this tick */
  struct db *main; /* the loop's connection: told when the database answers again */
  int64_t retention_deleted;
  int64_t retention_next_mono_ms;
  struct retention_cutoffs cutoffs;
};

struct checkpoint *checkpoint_new(struct db *db, struct db *own, struct app_health *health)
{
  struct checkpoint *c = calloc(1, sizeof(*c));
  if (!c) {
    db_close(own);
    return NULL;
  }
  c->db = own;
  c->main = db;
  c->health = health;
  c->retention_ms = RETENTION_DEFAULT_MS;
  db_set_autocheckpoint(db, 0);
  return c;
}

void checkpoint_set_retention(struct checkpoint *c, int64_t retention_ms)
{
  if (c && retention_ms > 0)
    c->retention_ms = retention_ms;
}

/* On the pool thread: a few batches, each its own short transaction, and a pause between them
 * so the loop's connection gets the write lock; what is left waits for the next tick. */
static void prune(struct checkpoint *c)
{
  c->retention_deleted = 0;
  c->retention_more = false;
  c->retention_rc = 0;
  for (int i = 0; i < RETENTION_BATCHES_PER_TICK; i++) {
    struct retention_result r;
    if (i > 0)
      uv_sleep(RETENTION_YIELD_MS);
    c->retention_rc = retention_prune_batch(c->db, &c->cutoffs, RETENTION_BATCH, &r);
    c->retention_deleted += r.deleted;
    c->retention_more = r.more;
    if (c->retention_rc || !r.more)
      break;
  }
}

static void work(uv_work_t *w)
{
  struct checkpoint *c = w->data;
  c->ping_rc = db_ping(c->db);
  atomic_store(&c->ping_done, true);
  if (c->ping_rc)
    c->ping_rc = db_ping(c->db); /* a session cut under us is made again at once: only a
                                    database that does not answer a new one is down */
  if (c->retention_due)
    prune(c);
  (void)db_checkpoint(c->db, false);
  if (c->integrity_due)
    c->integrity_result = db_check(c->db) == 0 ? 1 : -1;
}

static void done(uv_work_t *w, int status)
{
  struct checkpoint *c = w->data;
  (void)status;
  c->running = false;
  bool down = c->ping_rc != 0;
  if (down != c->health->db_down || !c->health->db_checked) {
    if (down)
      LOG_ERROR("db", "unavailable", "db=%s err=%s", db_path(c->db), kx_err_name(c->ping_rc));
    else if (c->health->db_down) {
      LOG_INFO("db", "available", "db=%s", db_path(c->db));
      db_retry_now(c->main); /* no waiting out a pause from the outage */
    }
  }
  c->health->db_down = down;
  c->health->db_checked = true;
  if (c->retention_due) {
    c->retention_due = false;
    if (c->retention_deleted > 0 || c->retention_rc)
      LOG_INFO("db", "retention_pruned", "rows=%lld more=%s err=%s",
               (long long)c->retention_deleted, c->retention_more ? "yes" : "no",
               c->retention_rc ? kx_err_name(c->retention_rc) : "none");
  }
  if (c->integrity_due) {
    c->health->integrity = c->integrity_result;
    c->health->integrity_at_ms = clock_now_ms();
    c->integrity_due = false;
    if (c->health->integrity < 0)
      LOG_ERROR("db", "integrity_failed", "check=quick_check");
  }
}

static void on_timer(uv_timer_t *t)
{
  struct checkpoint *c = t->data;
  if (c->running && !c->stopped && !atomic_load(&c->ping_done) && !c->health->db_down &&
      (int64_t)clock_mono_ms() - c->started_mono_ms > PING_DEADLINE_MS) {
    /* The pass's SELECT 1 has not answered in PING_DEADLINE_MS: a database that slow (frozen,
     * or a network that drops packets) is down for us until it answers again. */
    LOG_ERROR("db", "unavailable", "db=%s err=TIMEOUT ms=%d", db_path(c->db), PING_DEADLINE_MS);
    c->health->db_down = true;
  }
  if (c->running || c->stopped)
    return;
  c->running = true;
  atomic_store(&c->ping_done, false);
  c->started_mono_ms = (int64_t)clock_mono_ms();
  int64_t mono = (int64_t)clock_mono_ms();
  c->integrity_due = mono >= c->integrity_next_mono_ms;
  if (c->integrity_due)
    c->integrity_next_mono_ms = mono + APP_INTEGRITY_EVERY_MS;
  c->retention_due = c->retention_more || mono >= c->retention_next_mono_ms;
  if (c->retention_due) {
    if (!c->retention_more)
      c->retention_next_mono_ms = mono + RETENTION_EVERY_MS;
    {
      /* the dedup window is real time: in business time it is that times the clock's scale */
      double scale = clock_scale() > 1 ? clock_scale() : 1;
      double window = (double)RETENTION_SEEN_MS * scale;
      retention_cutoffs(clock_now_ms(), c->retention_ms,
                        window > (double)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)window,
                        &c->cutoffs);
    }
  }
  c->work.data = c;
  if (uv_queue_work(t->loop, &c->work, work, done) != 0)
    c->running = false;
}

int checkpoint_start(struct checkpoint *c, uv_loop_t *loop)
{
  int rc = uv_timer_init(loop, &c->timer);
  if (rc)
    return rc;
  c->timer.data = c;
  /* The first pass of retention a little after start-up, not in the middle of it. */
  c->retention_next_mono_ms = (int64_t)clock_mono_ms() + RETENTION_FIRST_MS;
  return uv_timer_start(&c->timer, on_timer, CHECKPOINT_EVERY_MS, CHECKPOINT_EVERY_MS);
}

void checkpoint_stop(struct checkpoint *c)
{
  if (!c || c->stopped)
    return;
  c->stopped = true;
  if (c->timer.loop && !uv_is_closing((uv_handle_t *)&c->timer))
    uv_close((uv_handle_t *)&c->timer, NULL);
}

void checkpoint_free(struct checkpoint *c)
{
  if (!c)
    return;
  db_close(c->db);
  free(c);
}
