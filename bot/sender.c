#include "bot/sender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/dbtask.h"
#include "bot/operator.h"
#include "bot/sender_email.h"
#include "bot/sender_internal.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/timeutil.h"

struct call {
  struct sender *s;
  int64_t id;
};

static void pump(struct sender *s);
static void on_timer(uv_timer_t *t);

uint64_t sender_retry_delay_ms(int failures, unsigned random)
{
  uint64_t base = RETRY_BASE_MS;
  for (int i = 1; i < failures && base < RETRY_MAX_MS; i++)
    base *= 2;
  if (base > RETRY_MAX_MS)
    base = RETRY_MAX_MS;
  return base / 2 + (uint64_t)random % (base / 2 + 1);
}

static struct backoff *backoff_find(struct sender *s, int64_t id)
{
  for (size_t i = 0; i < s->n_backoff; i++)
    if (s->backoffs[i].id == id)
      return &s->backoffs[i];
  return NULL;
}

static void backoff_clear(struct sender *s, int64_t id)
{
  for (size_t i = 0; i < s->n_backoff; i++) {
    if (s->backoffs[i].id == id) {
      s->backoffs[i] = s->backoffs[--s->n_backoff];
      if (s->n_backoff < MAX_BACKOFF / 2)
        s->overflow_failures = 0;
      return;
    }
  }
}

/* How long a row retried before must wait while backoffs[] is full and it has no entry. */
static uint64_t overflow_gate(struct sender *s, const struct outbox_row *row, uint64_t now)
{
  if (row->attempts == 0 || now >= s->overflow_until_ms || backoff_find(s, row->id))
    return 0;
  return s->overflow_until_ms - now;
}

static void backoff_set(struct sender *s, int64_t id, const char *queue, uint64_t delay_ms)
{
  struct backoff *b = backoff_find(s, id);
  if (!b) {
    if (s->n_backoff == MAX_BACKOFF) {
      /* the pause is shared by every row without an entry (overflow_gate) */
      uint64_t d = delay_ms ? delay_ms
                            : sender_retry_delay_ms(++s->overflow_failures, (unsigned)rand()) /
                                  s->retry_scale;
      if (clock_mono_ms() + d > s->overflow_until_ms)
        s->overflow_until_ms = clock_mono_ms() + d;
      return;
    }
    b = &s->backoffs[s->n_backoff++];
    memset(b, 0, sizeof(*b));
    b->id = id;
    snprintf(b->queue, sizeof(b->queue), "%s", queue);
  }
  b->failures++;
  if (!delay_ms)
    delay_ms = sender_retry_delay_ms(b->failures, (unsigned)rand()) / s->retry_scale;
  b->until_ms = clock_mono_ms() + delay_ms;
}

static void inflight_remove(struct sender *s, int64_t id, struct inflight *out)
{
  for (size_t i = 0; i < s->n_inflight; i++) {
    if (s->inflight[i].id == id) {
      if (out)
        *out = s->inflight[i];
      s->inflight[i] = s->inflight[--s->n_inflight];
      return;
    }
  }
  if (out)
    memset(out, 0, sizeof(*out));
}

static bool drain_take(struct sender *s, int64_t id)
{
  for (size_t i = 0; i < s->n_drain; i++) {
    if (s->drain[i] == id) {
      s->drain[i] = s->drain[--s->n_drain];
      return true;
    }
  }
  return false;
}

static bool drain_has(const struct sender *s, int64_t id)
{
  for (size_t i = 0; i < s->n_drain; i++)
    if (s->drain[i] == id)
      return true;
  return false;
}

/* The lease handed back, then the stop told: a task (dbtask.h) when the stop came from the
 * loop (sender_stop on a signal). */
static void stopped_task(void *arg)
{
  struct sender *s = arg;
  void (*done)(void *) = s->stop_done;
  s->stop_done = NULL;
  sender_lease_release(s);
  done(s->stop_arg);
}

static void finish_stop_if_idle(struct sender *s)
{
  if (s->stopping && s->n_inflight == 0 && s->n_drain == 0 && s->stop_done && !s->stop_queued) {
    uv_timer_stop(&s->timer);
    uv_timer_stop(&s->lease.timer); /* no renewal after this */
    if (dbtask_here()) {
      stopped_task(s);
    } else {
      s->stop_queued = true;
      dbtask_run(stopped_task, s);
    }
  }
}

static void tell_operator(struct sender *s,
                          const char *platform,
                          enum operator_news news,
                          const char *detail)
{
  int n = operator_tell(s->ctx, clock_now_ms(), platform, news, detail, NULL, 0);
  if (n > 0 && !s->stopping)
    sender_kick(s);
}

/* A platform other than Slack refused our credentials (KX_EAUTH) or took a row: the first of
 * each in an episode is logged and told to the operator. The rows are retried with backoff. */
static void platform_auth(struct sender *s, const char *name, bool refused, const char *error)
{
  struct platform *p = NULL;
  for (size_t i = 0; i < s->n_platforms && !p; i++)
    if (strcmp(s->platforms[i].name, name) == 0)
      p = &s->platforms[i];
  if (!p || p->refused == refused)
    return;
  p->refused = refused;
  char metric[64];
  snprintf(metric, sizeof(metric), "platform=\"%s\"", p->name);
  metrics_set("klaxon_platform_credentials_refused", metric, refused ? 1 : 0);
  if (refused)
    LOG_ERROR("sender", "credentials_refused",
              "platform=%s error=%s note=\"rows are kept and retried; the operator is told\"",
              p->name, error ? error : "-");
  else
    LOG_INFO("sender", "credentials_accepted", "platform=%s", p->name);
  tell_operator(s, p->name, refused ? OPERATOR_REFUSED : OPERATOR_ACCEPTED, error);
}

void sender_complete(struct sender *s,
                     int64_t id,
                     int err,
                     const char *error,
                     long retry_after_s,
                     const cJSON *response)
{
  struct inflight fl;
  inflight_remove(s, id, &fl);
  uint64_t took = clock_mono_ms() - fl.started_ms;
  drain_take(s, id); /* a row sent while stopping gets one try */
  if (err == KX_EFENCED) {
    finish_stop_if_idle(s); /* another instance holds the outbox: nothing is recorded here */
    return;
  }
  if (err == KX_EAUTH || (err == 0 && fl.platform[0]))
    platform_auth(s, fl.platform, err == KX_EAUTH, error);
  if (err == 0 || err == KX_EPLATFORM || err == KX_EPROTO) {
    struct outbox_row row;
    memset(&row, 0, sizeof(row));
    if (outbox_get(s->ctx->db, id, &row) == 0) {
      struct cmd_result r = {
          .ok = err == 0, .error = error, .response = response, .epoch = fl.epoch};
      if (err) {
        LOG_WARN("sender", "refused", "id=%lld method=%s error=%s", (long long)id, row.method,
                 error ? error : "-");
      } else {
        LOG_DEBUG("sender", "delivered", "id=%lld method=%s ms=%llu", (long long)id, row.method,
                  (unsigned long long)took);
      }
      int rc = cmd_outbox_result(s->ctx, clock_now_ms(), &row, &r);
      if (rc == KX_EFENCED)
        sender_lease_lost(s, fl.epoch, "completion_fenced"); /* the new holder decides */
      else if (rc != 0)
        backoff_set(s, id, row.queue, 0);
      else if (row.hook && s->on_hook)
        s->on_hook(s->on_hook_arg);
      outbox_row_clear(&row);
    }
    backoff_clear(s, id);
  } else {
    /* Retry later: Retry-After for the method on a 429, backoff otherwise. */
    uint64_t delay = 0;
    if (err == KX_ERATELIMITED) {
      uint64_t until = clock_mono_ms() + (uint64_t)(retry_after_s > 0 ? retry_after_s : 1) * 1000;
      sender_rate_block(s, fl.method, until);
      delay = (uint64_t)(retry_after_s > 0 ? retry_after_s : 1) * 1000;
      metrics_inc("klaxon_slack_ratelimited_total", "", 1);
    }
    LOG_WARN("sender", "retry", "id=%lld method=%s error=%s retry_after=%ld", (long long)id,
             fl.method, error ? error : "-", retry_after_s);
    if (db_begin(s->ctx->db) == 0) {
      if (outbox_attempted(s->ctx->db, id, error) == 0)
        db_commit(s->ctx->db);
      else
        db_rollback(s->ctx->db);
    }
    backoff_set(s, id, fl.queue, delay);
  }
  finish_stop_if_idle(s);
  if (!s->stopping)
    sender_kick(s);
  else if (s->n_drain)
    uv_timer_start(&s->timer, on_timer, 0, 0);
}

static void platform_done(struct sender *s,
                          int64_t row_id,
                          int err,
                          const char *error,
                          long retry_after_s,
                          const cJSON *response)
{
  sender_complete(s, row_id, err, error, retry_after_s, response);
}

static void slack_refused(struct sender *s, int64_t id, const char *error)
{
  if (!s->slack_refused) {
    s->slack_refused = true;
    s->slack_pause_ms = SLACK_PAUSE_FIRST_MS;
    LOG_ERROR("sender", "slack_token_refused",
              "error=%s note=\"every Slack call paused, the outbox is kept; put a valid bot token "
              "in the environment and restart, or reinstall the app\"",
              error);
    metrics_set("klaxon_slack_token_refused", "", 1);
    tell_operator(s, "slack", OPERATOR_REFUSED, error);
  } else if (id == s->slack_probe_id) {
    s->slack_pause_ms =
        s->slack_pause_ms * 2 > SLACK_PAUSE_MAX_MS ? SLACK_PAUSE_MAX_MS : s->slack_pause_ms * 2;
    LOG_WARN("sender", "slack_token_still_refused", "error=%s next_probe_s=%llu", error,
             (unsigned long long)(s->slack_pause_ms / 1000));
  } else {
    return; /* a row already in flight when the first refusal came: the pause stands */
  }
  s->slack_probe_id = 0;
  s->slack_probe_at_ms = clock_mono_ms() + s->slack_pause_ms;
}

/* While the token is refused: how long a Slack row waits (0: it goes, as the probe). A
 * response_url needs no token and goes on. */
static uint64_t slack_gate(struct sender *s, const struct outbox_row *row, uint64_t now)
{
  if (!s->slack_refused || strcmp(row->platform, "slack") != 0 ||
      strcmp(row->method, "response_url") == 0)
    return 0;
  if (s->slack_probe_id)
    return s->slack_pause_ms ? s->slack_pause_ms : SLACK_PAUSE_FIRST_MS;
  if (now < s->slack_probe_at_ms)
    return s->slack_probe_at_ms - now;
  s->slack_probe_id = row->id;
  return 0;
}

static void on_slack(void *arg, const struct slack_result *r)
{
  struct call *c = arg;
  struct sender *s = c->s;
  int64_t id = c->id;
  free(c);
  int err = r->err;
  /* A bad bot token will not fix itself, but the operator may fix it: stop calling Slack, keep
   * the rows, and probe now and then (slack_gate). */
  if (err == KX_EPLATFORM && slack_error_fatal_auth(r->error)) {
    slack_refused(s, id, r->error);
    err = KX_ERETRY;
  } else if (s->slack_refused && (err == 0 || err == KX_EPLATFORM)) {
    LOG_INFO("sender", "slack_token_accepted", "note=\"Slack calls resume\"");
    metrics_set("klaxon_slack_token_refused", "", 0);
    s->slack_refused = false;
    s->slack_probe_id = 0;
    s->slack_pause_ms = 0;
    tell_operator(s, "slack", OPERATOR_ACCEPTED, NULL);
  } else if (id == s->slack_probe_id) {
    s->slack_probe_id = 0; /* a probe that met something else (5xx, timeout): probe again */
    s->slack_probe_at_ms = clock_mono_ms() + s->slack_pause_ms;
  }
  sender_complete(s, id, err, r->error, r->retry_after_s, r->json);
}

static bool slack_form_method(const char *method)
{
  return strcmp(method, "users.lookupByEmail") == 0 || strcmp(method, "users.info") == 0 ||
         strcmp(method, "dnd.info") == 0 || strcmp(method, "conversations.info") == 0;
}

static int send_slack(struct sender *s, const struct outbox_row *row)
{
  struct call *c = calloc(1, sizeof(*c));
  if (!c)
    return KX_ENOMEM;
  c->s = s;
  c->id = row->id;
  int rc;
  if (strcmp(row->method, "response_url") == 0) {
    cJSON *body = cJSON_Parse(row->body);
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(body, "url");
    if (!cJSON_IsString(url)) {
      cJSON_Delete(body);
      free(c);
      return KX_EINVAL;
    }
    char *u = strdup(url->valuestring);
    cJSON_DeleteItemFromObject(body, "url");
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    rc = (u && text) ? slack_api_response_url(s->slack, u, text, on_slack, c) : KX_ENOMEM;
    free(u);
    free(text);
  } else if (slack_form_method(row->method)) {
    /* Slack takes JSON bodies for write methods only: read methods get a form body. */
    cJSON *body = cJSON_Parse(row->body);
    char *form = body ? slack_form_encode(body) : NULL;
    cJSON_Delete(body);
    rc = form ? slack_api_form(s->slack, row->method, SLACK_TOKEN_BOT, form, on_slack, c)
              : KX_EINVAL;
    free(form);
  } else if (strcmp(row->method, "chat.postMessage") == 0) {
    /* The message names its outbox row (Slack message metadata), so that an instance taking
     * over can tell whether it arrived (sender_lease.c). */
    char *body = sender_tag_body(row);
    rc = slack_api_call(s->slack, row->method, SLACK_TOKEN_BOT, body ? body : row->body, on_slack,
                        c);
    free(body);
  } else {
    rc = slack_api_call(s->slack, row->method, SLACK_TOKEN_BOT, row->body, on_slack, c);
  }
  if (rc)
    free(c);
  return rc;
}

/* ---- the pump ------------------------------------------------------------------------------- */

static struct platform *platform_for(struct sender *s, const char *name)
{
  for (size_t i = 0; i < s->n_platforms; i++)
    if (strcmp(s->platforms[i].name, name) == 0)
      return &s->platforms[i];
  return NULL;
}

static int start_row(struct sender *s, const struct outbox_row *row)
{
  if (strcmp(row->platform, "slack") == 0) {
    /* Slack is off (no tokens): keep the row for when it is configured. */
    if (!s->slack)
      return KX_ESTATE;
    return send_slack(s, row);
  }
  if (strcmp(row->platform, "email") == 0)
    return sender_email(s->http, &s->ctx->config->smtp, s, row, platform_done);
  struct platform *p = platform_for(s, row->platform);
  if (!p)
    return KX_EUNSUPPORTED;
  return p->fn(p->arg, s, row, platform_done);
}

int sender_begin_row(struct sender *s, const struct outbox_row *row)
{
  /* Committed before the call goes out: an instance that takes the lease over finds the row
   * in doubt (sender_lease.c). */
  int rc = outbox_sending(s->ctx->db, row->id, s->lease.epoch);
  if (rc == KX_EFENCED)
    sender_lease_lost(s, s->lease.epoch, "sending_fenced");
  if (rc)
    return rc;
  return start_row(s, row);
}

static void refuse_row(struct sender *s, const struct outbox_row *row, int rc)
{
  /* A row that can never be sent (malformed, no such platform): fail it so its queue moves. */
  struct cmd_result r = {
      .ok = false, .error = kx_err_name(rc), .response = NULL, .epoch = s->lease.epoch};
  LOG_ERROR("sender", "unsendable", "id=%lld platform=%s method=%s err=%s", (long long)row->id,
            row->platform, row->method, kx_err_name(rc));
  cmd_outbox_result(s->ctx, clock_now_ms(), row, &r);
}

/* Start a row that passed its gates: 0 when it is in flight. Otherwise it is not, and `*more`
 * is set when another pass should follow at once; KX_EFENCED when the lease is lost. */
static int launch(struct sender *s, const struct outbox_row *row, uint64_t now, bool *more)
{
  struct inflight *fl = &s->inflight[s->n_inflight++];
  fl->id = row->id;
  snprintf(fl->platform, sizeof(fl->platform), "%s", row->platform);
  snprintf(fl->queue, sizeof(fl->queue), "%s", row->queue);
  snprintf(fl->method, sizeof(fl->method), "%s", row->method);
  fl->started_ms = now;
  fl->epoch = s->lease.epoch;
  int rc = sender_row_in_doubt(s, row) ? sender_doubt_start(s, row) : sender_begin_row(s, row);
  if (!rc)
    return 0;
  s->n_inflight--;
  if (s->stopping)
    drain_take(s, row->id);
  if (s->slack_probe_id == row->id)
    s->slack_probe_id = 0;
  if (rc == KX_EFENCED)
    return rc;
  if (rc == KX_ENOTFOUND) {
    *more = true; /* done meanwhile (by a former holder's late completion): the next one */
  } else if (rc == KX_EINVAL || rc == KX_EUNSUPPORTED || rc == KX_ECONFIG) {
    refuse_row(s, row, rc);
    *more = true;
  } else if (rc == KX_ESTATE) {
    backoff_set(s, row->id, row->queue, RETRY_MAX_MS);
  } else {
    backoff_set(s, row->id, row->queue, 0);
    *more = true;
  }
  return rc;
}

static void pump(struct sender *s)
{
  if (s->stopping && !s->n_drain)
    return;
  if (s->db_down && *s->db_down) {
    /* The database does not answer: a call now would hold the loop for the connect timeout.
     * Nothing is sent without the lease's renewal anyway; look again shortly. */
    uv_timer_start(&s->timer, on_timer, DB_DOWN_RECHECK_MS, 0);
    return;
  }
  if (!sender_lease_held(s)) {
    /* Another instance sends (or nobody, until the lease is taken): the lease's timer kicks the
     * pump when this one holds it. A stopping standby has nothing to drain. */
    if (s->stopping) {
      s->n_drain = 0;
      finish_stop_if_idle(s);
    }
    return;
  }
  uint64_t now = clock_mono_ms();
  /* In flight, backing off, and (round after round) the heads looked at in this pass. */
  const char *skip[MAX_INFLIGHT + MAX_BACKOFF + PUMP_ROUNDS * READY_BATCH];
  size_t n_skip = 0;
  uint64_t next_wake = UINT64_MAX;
  for (size_t i = 0; i < s->n_inflight; i++)
    skip[n_skip++] = s->inflight[i].queue;
  for (size_t i = 0; i < s->n_backoff; i++) {
    if (s->backoffs[i].until_ms > now) {
      skip[n_skip++] = s->backoffs[i].queue;
      if (s->backoffs[i].until_ms < next_wake)
        next_wake = s->backoffs[i].until_ms;
    }
  }
  if (s->n_inflight >= MAX_INFLIGHT)
    return;
  struct outbox_row *batch[PUMP_ROUNDS];
  size_t counts[PUMP_ROUNDS], rounds = 0, n = 0;
  bool more = false, progress = false;
  /* A batch whose heads all wait (rate limits, pauses) must not hide the ready rows behind it:
   * look further, a few batches at most, with those queues left out. */
  while (rounds < PUMP_ROUNDS && s->n_inflight < MAX_INFLIGHT) {
    struct outbox_row *rows = NULL;
    if (outbox_ready(s->ctx->db, READY_BATCH, skip, n_skip, &rows, &n) != 0) {
      next_wake = now + 1000;
      n = 0;
      break;
    }
    batch[rounds] = rows;
    counts[rounds++] = n;
    for (size_t i = 0; i < n; i++) {
      if (s->n_inflight >= MAX_INFLIGHT) {
        more = true;
        break;
      }
      skip[n_skip++] = rows[i].queue;
      if (s->stopping && !drain_has(s, rows[i].id))
        continue;
      uint64_t wait = slack_gate(s, &rows[i], now);
      if (!wait)
        wait = overflow_gate(s, &rows[i], now);
      if (!wait)
        wait = sender_rate_gate(s, &rows[i], now);
      if (wait) {
        if (s->slack_probe_id == rows[i].id)
          s->slack_probe_id = 0; /* the probe waits for its rate limit: pick again then */
        if (now + wait < next_wake)
          next_wake = now + wait;
        continue;
      }
      if (!sender_lease_held(s))
        break; /* the lease ran short while rows were started: nothing more goes out */
      progress = true;
      if (launch(s, &rows[i], now, &more) == KX_EFENCED)
        break; /* the lease is lost: send nothing more */
    }
    if (!sender_lease_held(s))
      break; /* lost while starting rows: nothing more goes out */
    if (n < READY_BATCH)
      break; /* every ready queue was looked at */
  }
  for (size_t r = 0; r < rounds; r++)
    outbox_rows_free(batch[r], counts[r]);
  /* A full last batch may hide more ready rows: look again next turn, if this one got anywhere
   * (otherwise the earliest wait wakes the pump: no spinning on rows that all wait). */
  if (n == READY_BATCH && progress)
    more = true;
  /* Rows another instance wrote kick only that instance's sender: the holder looks anyway. */
  if (now + OUTBOX_POLL_MS < next_wake)
    next_wake = now + OUTBOX_POLL_MS;
  if (s->stopping) {
    /* Only the operator's rows, one try each: a row that could not start now is left for the
     * next run, and the sender stops when those in flight have ended. */
    size_t k = 0;
    for (size_t i = 0; i < s->n_drain; i++)
      for (size_t j = 0; j < s->n_inflight; j++)
        if (s->inflight[j].id == s->drain[i]) {
          s->drain[k++] = s->drain[i];
          break;
        }
    s->n_drain = k;
    finish_stop_if_idle(s);
  } else if (more && s->n_inflight < MAX_INFLIGHT) {
    uv_timer_start(&s->timer, on_timer, 0, 0);
  } else if (next_wake != UINT64_MAX) {
    uv_timer_start(&s->timer, on_timer, next_wake > now ? next_wake - now : 0, 0);
  }
}

static void pump_task(void *arg)
{
  struct sender *s = arg;
  s->pump_queued = false;
  pump(s);
}

/* A pass reads and marks rows: a task (dbtask.h), one queued at a time. */
static void on_timer(uv_timer_t *t)
{
  struct sender *s = t->data;
  if (dbtask_here()) {
    pump(s);
  } else if (!s->pump_queued) {
    s->pump_queued = true;
    dbtask_run(pump_task, s);
  }
}

struct sender *sender_new(uv_loop_t *loop, struct cmd_ctx *ctx, struct http_client *http)
{
  metrics_describe("klaxon_slack_ratelimited_total", METRIC_COUNTER,
                   "HTTP 429 answers from Slack (each honoured for its Retry-After)");
  metrics_describe("klaxon_slack_token_refused", METRIC_GAUGE,
                   "1 while Slack refuses the bot token (invalid_auth, token_revoked …): "
                   "Slack calls are paused and the outbox keeps its rows");
  metrics_set("klaxon_slack_token_refused", "", 0);
  metrics_describe("klaxon_platform_credentials_refused", METRIC_GAUGE,
                   "1 while a platform other than Slack (Teams) refuses klaxon's credentials: its "
                   "rows wait in the outbox and the operator has been told");
  struct sender *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  s->loop = loop;
  s->ctx = ctx;
  s->http = http;
  s->retry_scale = 1;
  const char *scale = getenv("KLAXON_TEST_RETRY_SCALE"); /* docs/robustness.md */
  if (scale && atoi(scale) > 1 && atoi(scale) <= 1000) {
    s->retry_scale = (unsigned)atoi(scale);
    LOG_WARN("sender", "test_retry_scale_installed",
             "scale=%u note=\"KLAXON_TEST_RETRY_SCALE is set: retry pauses are shortened; for "
             "tests only\"",
             s->retry_scale);
  }
  uv_timer_init(loop, &s->timer);
  s->timer.data = s;
  s->open_handles = 1;
  sender_lease_start(s);
  return s;
}

void sender_use_slack(struct sender *s, struct slack_api *slack)
{
  s->slack = slack;
}

int sender_register(struct sender *s, const char *platform, sender_platform_fn fn, void *arg)
{
  if (s->n_platforms == MAX_PLATFORMS)
    return KX_ETOOBIG;
  struct platform *p = &s->platforms[s->n_platforms++];
  snprintf(p->name, sizeof(p->name), "%s", platform);
  p->fn = fn;
  p->arg = arg;
  return 0;
}

void sender_on_hook(struct sender *s, void (*fn)(void *arg), void *arg)
{
  s->on_hook = fn;
  s->on_hook_arg = arg;
}

void sender_watch_db(struct sender *s, const bool *db_down)
{
  s->db_down = db_down;
}

void sender_kick(struct sender *s)
{
  if (s->stopping)
    return;
  /* Coalesce: one pass on the next loop turn, unless a pass is already due sooner. */
  if (uv_is_active((uv_handle_t *)&s->timer) && uv_timer_get_due_in(&s->timer) == 0)
    return;
  uv_timer_start(&s->timer, on_timer, 0, 0);
}

void sender_stop(struct sender *s, void (*done)(void *arg), void *arg)
{
  s->stopping = true;
  s->stop_done = done;
  s->stop_arg = arg;
  uv_timer_stop(&s->timer);
  if (s->n_drain)
    uv_timer_start(&s->timer, on_timer, 0, 0);
  finish_stop_if_idle(s);
}

void sender_tell_operator(struct sender *s, const char *platform, const char *detail)
{
  if (!s || s->stopping)
    return;
  int64_t ids[MAX_DRAIN];
  int n =
      operator_tell(s->ctx, clock_now_ms(), platform, OPERATOR_DISABLED, detail, ids, MAX_DRAIN);
  for (int i = 0; i < n && i < MAX_DRAIN; i++)
    s->drain[s->n_drain++] = ids[i];
}

static void on_closed(uv_handle_t *h)
{
  struct sender *s = h->data;
  if (--s->open_handles == 0)
    free(s);
}

void sender_free(struct sender *s)
{
  if (!s)
    return;
  uv_close((uv_handle_t *)&s->timer, on_closed);
  if (s->open_handles > 1)
    uv_close((uv_handle_t *)&s->lease.timer, on_closed);
}
