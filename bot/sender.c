#include "bot/sender.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/operator.h"
#include "bot/sender_email.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/timeutil.h"

#define MAX_INFLIGHT 16
#define READY_BATCH 64
#define PUMP_ROUNDS 4 /* batches looked at in one pass when every head waits */
#define MAX_BACKOFF 256
#define MAX_BUCKETS 256
#define MAX_PLATFORMS 16
#define RETRY_BASE_MS 1000
#define RETRY_MAX_MS 60000
/* A refused bot token (invalid_auth, token_revoked …): every Slack call stops, the outbox keeps
 * its rows, and one row probes the token after a pause that doubles up to the maximum. */
#define SLACK_PAUSE_FIRST_MS 5000
#define SLACK_PAUSE_MAX_MS ((uint64_t)5 * 60 * 1000)
#define MAX_DRAIN 8 /* the operator's rows sent while stopping (sender_tell_operator) */

struct inflight {
  int64_t id;
  char platform[16];
  char queue[256];
  char method[64];
  char channel[64];
  uint64_t started_ms;
};

struct backoff {
  int64_t id;
  char queue[256];
  uint64_t until_ms;
  int failures;
};

/* A token bucket on real time. */
struct bucket {
  char key[96]; /* "m:chat.update" or "c:C0123" */
  double tokens;
  double capacity;
  double per_ms;
  uint64_t last_ms;
  uint64_t blocked_until_ms; /* from a 429 */
};

struct platform {
  char name[16];
  sender_platform_fn fn;
  void *arg;
  bool refused; /* it said KX_EAUTH (our credentials refused) and has not accepted since */
};

struct sender {
  uv_loop_t *loop;
  struct cmd_ctx *ctx;
  struct slack_api *slack;
  struct http_client *http;
  uv_timer_t timer; /* next pass: kicked (0) or the earliest backoff/bucket time */
  struct inflight inflight[MAX_INFLIGHT];
  size_t n_inflight;
  struct backoff backoffs[MAX_BACKOFF];
  size_t n_backoff;
  /* More rows failing than backoffs[] holds: a row retried before (attempts > 0) with no entry
   * waits for this instant, so none is retried at once, over and over. */
  uint64_t overflow_until_ms;
  int overflow_failures;
  struct bucket buckets[MAX_BUCKETS];
  size_t n_buckets;
  struct platform platforms[MAX_PLATFORMS];
  size_t n_platforms;
  bool stopping;
  void (*stop_done)(void *arg);
  void *stop_arg;
  void (*on_hook)(void *arg);
  void *on_hook_arg;
  /* the bot token refused: Slack rows wait for slack_probe_at_ms, then one probes */
  bool slack_refused;
  int64_t slack_probe_id; /* the row in flight as the probe, 0 when none */
  uint64_t slack_probe_at_ms;
  uint64_t slack_pause_ms;
  unsigned retry_scale; /* tests only: KLAXON_TEST_RETRY_SCALE divides the backoff pauses */
  /* stopping: these rows (the operator told) still go, then the sender stops */
  int64_t drain[MAX_DRAIN];
  size_t n_drain;
};

struct call {
  struct sender *s;
  int64_t id;
};

static void pump(struct sender *s);
static void on_timer(uv_timer_t *t);

/* Slack's tiers (per minute) as buckets: capacity allows a short burst. */
static void method_rate(const char *method, double *per_min, double *burst)
{
  static const struct {
    const char *method;
    double per_min, burst;
  } table[] = {
      {"chat.postMessage", 300, 20}, /* workspace-wide: "several hundred per minute" */
      {"chat.update", 50, 10},
      {"chat.postEphemeral", 100, 20},
      {"chat.delete", 50, 10},
      {"conversations.create", 20, 5},
      {"conversations.invite", 50, 10},
      {"conversations.setTopic", 20, 5},
      {"conversations.setPurpose", 20, 5},
      {"conversations.archive", 20, 5},
      {"conversations.open", 50, 10},
      {"pins.add", 20, 5},
      {"reactions.add", 50, 10},
      {"bookmarks.add", 20, 5},
      {"users.lookupByEmail", 50, 10},
      {"users.info", 100, 20},
      {"dnd.info", 50, 10},
      {"usergroups.users.update", 20, 5},
      {"views.open", 100, 20},
      {"views.update", 100, 20},
      {"views.publish", 100, 20},
      {"response_url", 600, 60},
  };
  for (size_t i = 0; i < KX_ARRAY_SIZE(table); i++) {
    if (strcmp(table[i].method, method) == 0) {
      *per_min = table[i].per_min;
      *burst = table[i].burst;
      return;
    }
  }
  *per_min = 50;
  *burst = 10;
}

static struct bucket *bucket_get(struct sender *s, const char *key, double per_min, double burst)
{
  for (size_t i = 0; i < s->n_buckets; i++)
    if (strcmp(s->buckets[i].key, key) == 0)
      return &s->buckets[i];
  if (s->n_buckets == MAX_BUCKETS) {
    /* Forget the fullest bucket: it is the one whose state matters least. */
    size_t best = 0;
    for (size_t i = 1; i < s->n_buckets; i++)
      if (s->buckets[i].tokens >= s->buckets[best].tokens &&
          s->buckets[i].blocked_until_ms <= clock_mono_ms())
        best = i;
    s->buckets[best] = s->buckets[--s->n_buckets];
  }
  struct bucket *b = &s->buckets[s->n_buckets++];
  snprintf(b->key, sizeof(b->key), "%s", key);
  b->capacity = burst;
  b->tokens = burst;
  b->per_ms = per_min / 60000.0;
  b->last_ms = clock_mono_ms();
  b->blocked_until_ms = 0;
  return b;
}

static void bucket_refill(struct bucket *b, uint64_t now)
{
  b->tokens += (double)(now - b->last_ms) * b->per_ms;
  if (b->tokens > b->capacity)
    b->tokens = b->capacity;
  b->last_ms = now;
}

/* ms until this bucket can give `need` tokens (0 = now). */
static uint64_t bucket_wait(struct bucket *b, uint64_t now, double need)
{
  bucket_refill(b, now);
  if (b->blocked_until_ms > now)
    return b->blocked_until_ms - now;
  if (b->tokens >= need)
    return 0;
  return (uint64_t)((need - b->tokens) / b->per_ms) + 1;
}

static void row_channel(const struct outbox_row *row, char *out, size_t size)
{
  out[0] = '\0';
  if (strcmp(row->method, "chat.postMessage") != 0)
    return;
  snprintf(out, size, "%.60s", row->queue);
}

/* How long this row must wait for rate limits; 0 when it may go now (tokens are taken). */
static uint64_t rate_gate(struct sender *s, const struct outbox_row *row, uint64_t now)
{
  if (strcmp(row->platform, "slack") != 0)
    return 0;
  double per_min, burst;
  method_rate(row->method, &per_min, &burst);
  char key[96];
  snprintf(key, sizeof(key), "m:%.80s", row->method);
  struct bucket *m = bucket_get(s, key, per_min, burst);
  /* Bulk rows leave two tokens for pages that may come. */
  double need = row->priority >= OUTBOX_BULK ? 3.0 : 1.0;
  uint64_t wait = bucket_wait(m, now, need);
  struct bucket *c = NULL;
  char channel[64];
  row_channel(row, channel, sizeof(channel));
  if (channel[0]) {
    snprintf(key, sizeof(key), "c:%s", channel);
    c = bucket_get(s, key, 60, 3);
    uint64_t cw = bucket_wait(c, now, 1.0);
    if (cw > wait)
      wait = cw;
  }
  if (wait)
    return wait;
  m->tokens -= 1.0;
  if (c)
    c->tokens -= 1.0;
  return 0;
}

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

static void finish_stop_if_idle(struct sender *s)
{
  if (s->stopping && s->n_inflight == 0 && s->n_drain == 0 && s->stop_done) {
    void (*done)(void *) = s->stop_done;
    s->stop_done = NULL;
    uv_timer_stop(&s->timer);
    done(s->stop_arg);
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

static void complete(struct sender *s,
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
  if (err == KX_EAUTH || (err == 0 && fl.platform[0]))
    platform_auth(s, fl.platform, err == KX_EAUTH, error);
  if (err == 0 || err == KX_EPLATFORM || err == KX_EPROTO) {
    struct outbox_row row;
    memset(&row, 0, sizeof(row));
    if (outbox_get(s->ctx->db, id, &row) == 0) {
      struct cmd_result r = {.ok = err == 0, .error = error, .response = response};
      if (err) {
        LOG_WARN("sender", "refused", "id=%lld method=%s error=%s", (long long)id, row.method,
                 error ? error : "-");
      } else {
        LOG_DEBUG("sender", "delivered", "id=%lld method=%s ms=%llu", (long long)id, row.method,
                  (unsigned long long)took);
      }
      if (cmd_outbox_result(s->ctx, clock_now_ms(), &row, &r) != 0)
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
      char key[96];
      snprintf(key, sizeof(key), "m:%.80s", fl.method);
      double per_min, burst;
      method_rate(fl.method, &per_min, &burst);
      struct bucket *b = bucket_get(s, key, per_min, burst);
      b->blocked_until_ms = until;
      b->tokens = 0;
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
  complete(s, row_id, err, error, retry_after_s, response);
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
  complete(s, id, err, r->error, r->retry_after_s, r->json);
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

static void refuse_row(struct sender *s, const struct outbox_row *row, int rc)
{
  /* A row that can never be sent (malformed, no such platform): fail it so its queue moves. */
  struct cmd_result r = {.ok = false, .error = kx_err_name(rc), .response = NULL};
  LOG_ERROR("sender", "unsendable", "id=%lld platform=%s method=%s err=%s", (long long)row->id,
            row->platform, row->method, kx_err_name(rc));
  cmd_outbox_result(s->ctx, clock_now_ms(), row, &r);
}

static void pump(struct sender *s)
{
  if (s->stopping && !s->n_drain)
    return;
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
        wait = rate_gate(s, &rows[i], now);
      if (wait) {
        if (s->slack_probe_id == rows[i].id)
          s->slack_probe_id = 0; /* the probe waits for its rate limit: pick again then */
        if (now + wait < next_wake)
          next_wake = now + wait;
        continue;
      }
      progress = true;
      struct inflight *fl = &s->inflight[s->n_inflight++];
      fl->id = rows[i].id;
      snprintf(fl->platform, sizeof(fl->platform), "%s", rows[i].platform);
      snprintf(fl->queue, sizeof(fl->queue), "%s", rows[i].queue);
      snprintf(fl->method, sizeof(fl->method), "%s", rows[i].method);
      fl->started_ms = now;
      int rc = start_row(s, &rows[i]);
      if (rc) {
        s->n_inflight--;
        if (s->stopping)
          drain_take(s, rows[i].id);
        if (s->slack_probe_id == rows[i].id)
          s->slack_probe_id = 0;
        if (rc == KX_EINVAL || rc == KX_EUNSUPPORTED || rc == KX_ECONFIG) {
          refuse_row(s, &rows[i], rc);
          more = true;
        } else if (rc == KX_ESTATE) {
          backoff_set(s, rows[i].id, rows[i].queue, RETRY_MAX_MS);
        } else {
          backoff_set(s, rows[i].id, rows[i].queue, 0);
          more = true;
        }
      }
    }
    if (n < READY_BATCH)
      break; /* every ready queue was looked at */
  }
  for (size_t r = 0; r < rounds; r++)
    outbox_rows_free(batch[r], counts[r]);
  /* A full last batch may hide more ready rows: look again next turn, if this one got anywhere
   * (otherwise the earliest wait wakes the pump: no spinning on rows that all wait). */
  if (n == READY_BATCH && progress)
    more = true;
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

static void on_timer(uv_timer_t *t)
{
  pump(t->data);
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
  free(h->data);
}

void sender_free(struct sender *s)
{
  if (!s)
    return;
  uv_close((uv_handle_t *)&s->timer, on_closed);
}
