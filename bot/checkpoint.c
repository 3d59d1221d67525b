#include "bot/checkpoint.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bot/app.h"
#include "bot/clock.h"
#include "lib/kx.h"
#include "lib/log.h"

struct checkpoint {
  uv_timer_t timer;
  uv_work_t work;
  struct db *db; /* its own connection, used only from the pool thread */
  struct app_health *health;
  bool running;
  bool stopped;
  bool integrity_due;
  int integrity_result; /* written by the pool thread, read in done() on the loop */
  int64_t integrity_next_mono_ms;
};

struct checkpoint *checkpoint_new(struct db *db, const char *path, struct app_health *health)
{
  if (!path || strcmp(path, ":memory:") == 0)
    return NULL;
  struct checkpoint *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  int err = 0;
  c->db = db_open_checkpointer(path, &err);
  if (!c->db) {
    LOG_WARN("db", "checkpointer_unavailable", "err=%s", kx_err_name(err));
    free(c);
    return NULL;
  }
  c->health = health;
  db_set_autocheckpoint(db, 0);
  return c;
}

static void work(uv_work_t *w)
{
  struct checkpoint *c = w->data;
  (void)db_checkpoint(c->db, false);
  if (c->integrity_due)
    c->integrity_result = db_check(c->db) == 0 ? 1 : -1;
}

static void done(uv_work_t *w, int status)
{
  struct checkpoint *c = w->data;
  (void)status;
  c->running = false;
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
  if (c->running || c->stopped)
    return;
  c->running = true;
  int64_t mono = (int64_t)clock_mono_ms();
  c->integrity_due = mono >= c->integrity_next_mono_ms;
  if (c->integrity_due)
    c->integrity_next_mono_ms = mono + APP_INTEGRITY_EVERY_MS;
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
