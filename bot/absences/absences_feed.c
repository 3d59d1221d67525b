#include "bot/absences/absences_feed.h"

#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/modules.h"
#include "bot/net/http_client.h"
#include "commands/core/names.h"
#include "commands/oncall/absences.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"

#define FIRST_FETCH_MS 1000
#define FETCH_TIMEOUT_MS 30000

struct feed {
  const struct module_env *env;
  uv_timer_t timer;
  bool timer_ready, in_flight, stopping;
  void (*done)(void *arg);
  void *done_arg;
};

static const char *feed_url(const struct config *c)
{
  if (c->absences.ical_url)
    return c->absences.ical_url;
  const char *v = c->absences.ical_url_env ? getenv(c->absences.ical_url_env) : NULL;
  return v && *v ? v : NULL;
}

static void on_timer(uv_timer_t *t);

static void schedule(struct feed *f, uint64_t delay_ms)
{
  if (!f->stopping && f->timer_ready)
    uv_timer_start(&f->timer, on_timer, delay_ms, 0);
}

static void count(const char *result)
{
  char labels[48];
  snprintf(labels, sizeof(labels), "result=\"%s\"", result);
  metrics_inc("klaxon_absences_fetches_total", labels, 1);
}

static void on_feed(void *arg, const struct http_response *r)
{
  struct feed *f = arg;
  f->in_flight = false;
  if (f->stopping) {
    if (f->done)
      f->done(f->done_arg);
    f->done = NULL;
    return;
  }
  if (r->err || r->status != 200) {
    LOG_WARN("absences", "fetch_failed", "status=%ld err=%s", r->status,
             r->err ? kx_err_name(r->err) : "-");
    count(r->err == KX_ETOOBIG ? "too_big" : "failed");
  } else {
    cJSON *payload = cJSON_CreateObject();
    if (payload)
      cJSON_AddStringToObject(payload, "ics", r->body);
    struct cmd_request creq = {.platform = CMD_PLATFORM_HTTP,
                               .kind = CMD_KIND_ACTION,
                               .now_ms = clock_now_ms(),
                               .action_id = CMD_ACTION_ABSENCES_SYNC,
                               .user = ABSENCES_ACTOR,
                               .payload = payload};
    struct cmd_reply reply;
    cmd_reply_init(&reply);
    int rc = payload ? app_dispatch(f->env->app, &creq, &reply) : KX_ENOMEM;
    count(rc == 0 && !strstr(reply.text.data ? reply.text.data : "", "error") ? "synced"
                                                                              : "refused");
    cmd_reply_free(&reply);
    cJSON_Delete(payload);
  }
  schedule(f, clock_real_delay_ms(f->env->config->absences.every_ms));
}

static void on_timer(uv_timer_t *t)
{
  struct feed *f = t->data;
  const char *url = feed_url(f->env->config);
  if (f->stopping || f->in_flight || app_stopping(f->env->app))
    return;
  if (!url) {
    LOG_WARN("absences", "no_url", "env=%s note=\"the HR calendar is not read until it is set\"",
             f->env->config->absences.ical_url_env ? f->env->config->absences.ical_url_env : "-");
    schedule(f, clock_real_delay_ms(f->env->config->absences.every_ms));
    return;
  }
  static const char *const HEADERS[] = {"Accept: text/calendar", NULL};
  struct http_request req = {.method = "GET",
                             .url = url,
                             .headers = HEADERS,
                             .timeout_ms = FETCH_TIMEOUT_MS,
                             .max_response = ABSENCES_MAX_BYTES};
  f->in_flight = http_client_send(f->env->http, &req, on_feed, f) == 0;
  if (!f->in_flight)
    schedule(f, clock_real_delay_ms(f->env->config->absences.every_ms));
}

int absences_feed_init(const struct module_env *env, void **state)
{
  metrics_describe("klaxon_absences_fetches_total", METRIC_COUNTER,
                   "HR calendar fetches, by result (synced, refused, failed, too_big)");
  if (!env->config->absences.ical_url && !env->config->absences.ical_url_env)
    return 0;
  struct feed *f = calloc(1, sizeof(*f));
  if (!f)
    return KX_ENOMEM;
  f->env = env;
  *state = f;
  return 0;
}

int absences_feed_start(void *state)
{
  struct feed *f = state;
  if (!f)
    return 0;
  int rc = uv_timer_init(f->env->loop, &f->timer);
  if (rc)
    return KX_EIO;
  f->timer.data = f;
  f->timer_ready = true;
  return uv_timer_start(&f->timer, on_timer, FIRST_FETCH_MS, 0) ? KX_EIO : 0;
}

void absences_feed_stop(void *state, void (*done)(void *arg), void *arg)
{
  struct feed *f = state;
  if (!f) {
    done(arg);
    return;
  }
  f->stopping = true;
  if (f->timer_ready)
    uv_timer_stop(&f->timer);
  if (f->in_flight) {
    f->done = done;
    f->done_arg = arg;
    return;
  }
  done(arg);
}

void absences_feed_halt(void *state)
{
  struct feed *f = state;
  if (f && f->timer_ready && !uv_is_closing((uv_handle_t *)&f->timer))
    uv_close((uv_handle_t *)&f->timer, NULL);
}

void absences_feed_close(void *state)
{
  free(state);
}
