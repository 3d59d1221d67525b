#include "bot/slack/slack_socket.h"

#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/slack/slack_socket_internal.h"
#include "lib/buf.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"

#define CONNECT_TIMEOUT_MS 10000
#define HELLO_TIMEOUT_MS 10000
#define WATCHDOG_PERIOD_MS 250
#define BACKOFF_BASE_MS 500
#define BACKOFF_MAX_MS 30000
#define STOP_GRACE_MS 2000

static void need_connection(struct slack_socket *s);
static void open_connection(struct slack_socket *s);
static void on_retry_timer(uv_timer_t *t);

/* Inside a too_many_websockets refusal streak that was already warned about, the routine
 * lines of each retry (connecting, closed, rescheduled) go to debug. */
static enum log_level routine_level(const struct slack_socket *s)
{
  return s->too_many_warned && s->too_many > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;
}

static void set_connected(struct slack_socket *s)
{
  bool now = false;
  for (int i = 0; i < SLACK_MAX_CONNS; i++)
    if (s->conns[i] && s->conns[i]->hello && !s->conns[i]->closing)
      now = true;
  if (now != s->connected) {
    s->connected = now;
    metrics_set("klaxon_slack_connected", "", now ? 1 : 0);
    if (s->cbs.on_state)
      s->cbs.on_state(s->cbs.arg, now);
  }
}

static void conn_free(struct conn *c)
{
  struct frame_out *f = c->head;
  while (f) {
    struct frame_out *n = f->next;
    free(f);
    f = n;
  }
  buf_free(&c->rx);
  free(c);
}

static void conn_gone(struct conn *c, const char *why)
{
  struct slack_socket *s = c->owner;
  bool was_live = c->hello && !c->retiring;
  bool c_had_hello = c->hello;
  for (int i = 0; i < SLACK_MAX_CONNS; i++)
    if (s->conns[i] == c)
      s->conns[i] = NULL;
  if (c->wsi)
    lws_set_opaque_user_data(c->wsi, NULL);
  LOG_AT(c_had_hello ? LOG_LEVEL_INFO : routine_level(s), "slack", "socket_closed",
         "conn=%u reason=%s", c->id, why);
  conn_free(c);
  set_connected(s);
  if (!s->stopping && !s->fatal) {
    /* A socket that never said hello is a failed attempt (refused handshake, no hello): back
     * off. A long-lived socket dropping is not a failure streak: reconnect at once. */
    if (was_live)
      s->attempt = 0;
    else if (!c_had_hello)
      s->attempt++;
    need_connection(s);
  }
}

static void kill_conn(struct conn *c, const char *why)
{
  LOG_WARN("slack", "socket_killed", "conn=%u reason=%s", c->id, why);
  c->closing = true;
  c->retiring = true;
  if (c->wsi)
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void close_conn(struct conn *c)
{
  if (c->closing)
    return;
  c->closing = true;
  if (c->wsi)
    lws_callback_on_writable(c->wsi);
}

int slack_queue_frame(struct conn *c, const char *text, size_t len, uint64_t received_us)
{
  struct frame_out *f = malloc(sizeof(*f) + LWS_PRE + len);
  if (!f)
    return KX_ENOMEM;
  f->next = NULL;
  f->len = len;
  f->received_us = received_us;
  memcpy(f->data + LWS_PRE, text, len);
  if (c->tail)
    c->tail->next = f;
  else
    c->head = f;
  c->tail = f;
  if (c->wsi)
    lws_callback_on_writable(c->wsi);
  return 0;
}

static unsigned live_conns(const struct slack_socket *s, bool include_retiring)
{
  unsigned n = 0;
  for (int i = 0; i < SLACK_MAX_CONNS; i++)
    if (s->conns[i] && !s->conns[i]->closing && (include_retiring || !s->conns[i]->retiring))
      n++;
  return n;
}

/* ---- frames in ---------------------------------------------------------------------------- */

static void on_hello(struct conn *c, const struct slack_frame *f)
{
  struct slack_socket *s = c->owner;
  c->hello = true;
  s->attempt = 0;
  LOG_INFO("slack", "connected", "conn=%u num_connections=%d approximate_connection_time=%d", c->id,
           f->num_connections, f->approximate_connection_time);
  s->too_many_warned = false; /* the next refusal streak is worth a warning again */
  /* The replacement is live: retire the ones it replaces. */
  for (int i = 0; i < SLACK_MAX_CONNS; i++) {
    struct conn *o = s->conns[i];
    if (o && o != c && o->retiring)
      close_conn(o);
  }
  set_connected(s);
}

static void on_disconnect(struct conn *c, const struct slack_frame *f)
{
  struct slack_socket *s = c->owner;
  const char *reason = f->reason ? f->reason : "unknown";
  bool too_many = strcmp(reason, "too_many_websockets") == 0;
  if (too_many && !c->hello) {
    /* Refused over Slack's cap (10 sockets per app, every instance counted; no hello). While
     * all slots are taken this repeats with every retry: one warning for the streak, then
     * debug lines, so a full house does not fill the log. */
    if (!s->too_many_warned)
      LOG_WARN("slack", "too_many_websockets",
               "conn=%u note=\"Slack refused the connection: this app already has the 10 "
               "Socket Mode connections Slack allows (all instances count); retrying with "
               "backoff until one is free\"",
               c->id);
    else
      LOG_DEBUG("slack", "disconnect_requested", "conn=%u reason=%s refusals=%d", c->id, reason,
                s->too_many + 1);
    s->too_many_warned = true;
  } else {
    LOG_INFO("slack", "disconnect_requested", "conn=%u reason=%s", c->id, reason);
  }
  if (strcmp(reason, "link_disabled") == 0) {
    s->fatal = true;
    if (s->cbs.on_fatal)
      s->cbs.on_fatal(s->cbs.arg,
                      "Slack disabled Socket Mode for this app (disconnect: link_disabled); "
                      "turn Socket Mode back on in the app settings, then restart klaxon");
    return;
  }
  if (too_many) {
    if (live_conns(s, false) > 1) {
      close_conn(c);
      return;
    }
    /* Slack counts this app's sockets across every instance: reconnecting at once would only
     * be refused again. Back off further with each refusal in a row. */
    s->too_many++;
    s->attempt = s->too_many;
  } else {
    s->too_many = 0;
  }
  /* refresh_requested, warning and anything else: open the new one, then drop this one. */
  if (!c->retiring) {
    c->retiring = true;
    need_connection(s);
  }
}

static void handle_frame(struct conn *c, const char *data, size_t len, uint64_t received_us)
{
  struct slack_socket *s = c->owner;
  struct slack_frame f;
  int rc = slack_frame_parse(data, len, &f);
  metrics_inc("klaxon_slack_frames_total", rc ? "type=\"invalid\"" : "type=\"valid\"", 1);
  if (rc) {
    LOG_WARN("slack", "bad_frame", "conn=%u len=%zu err=%s", c->id, len, kx_err_name(rc));
    return;
  }
  switch (f.type) {
    case SLACK_FRAME_HELLO:
      on_hello(c, &f);
      break;
    case SLACK_FRAME_DISCONNECT:
      on_disconnect(c, &f);
      break;
    case SLACK_FRAME_ENVELOPE: {
      metrics_inc("klaxon_envelopes_received_total", "", 1);
      if (slack_batch_add(s, c->id, &f, received_us) == 0)
        memset(&f, 0, sizeof(f)); /* the batch owns it now */
      break;
    }
    case SLACK_FRAME_UNKNOWN:
      LOG_WARN("slack", "unknown_frame", "conn=%u type=%.40s", c->id, f.type_name);
      if (f.envelope_id) {
        /* Ack what we do not understand so Slack does not redeliver it forever. */
        cJSON *a = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "envelope_id", f.envelope_id);
        char *text = cJSON_PrintUnformatted(a);
        cJSON_Delete(a);
        if (text)
          slack_queue_frame(c, text, strlen(text), 0);
        free(text);
      }
      break;
  }
  slack_frame_free(&f);
}

/* ---- lws callback --------------------------------------------------------------------------- */

/* Acks waiting when the socket turns writable go out in one go, while the kernel takes them:
 * one write per WRITEABLE callback costs a loop iteration per ack, and under a burst that
 * queue, not the handlers, was the ack latency. lws_send_pipe_choked() says when to stop (the
 * socket is full, or lws holds a partial frame); then we wait for the next WRITEABLE. */
#define ACKS_PER_WRITEABLE 64

static int write_ack(struct conn *c)
{
  struct frame_out *f = c->head;
  int n = lws_write(c->wsi, f->data + LWS_PRE, f->len, LWS_WRITE_TEXT);
  if (n < (int)f->len)
    return -1;
  if (f->received_us) {
    double secs = (double)(clock_mono_us() - f->received_us) / 1e6;
    metrics_observe("klaxon_envelope_ack_seconds", "", secs);
    metrics_inc("klaxon_envelopes_acked_total", "", 1);
  }
  c->head = f->next;
  if (!c->head)
    c->tail = NULL;
  free(f);
  return 0;
}

static int write_one(struct conn *c)
{
  struct lws *wsi = c->wsi;
  if (c->head) {
    int sent = 0;
    do {
      if (write_ack(c))
        return -1;
    } while (c->head && ++sent < ACKS_PER_WRITEABLE && !lws_send_pipe_choked(wsi));
  } else if (c->ping_pending) {
    unsigned char buf[LWS_PRE + 32];
    int len =
        snprintf((char *)buf + LWS_PRE, 32, "klaxon %llu", (unsigned long long)clock_mono_ms());
    c->ping_pending = false;
    if (lws_write(wsi, buf + LWS_PRE, (size_t)len, LWS_WRITE_PING) < len)
      return -1;
  } else if (c->closing && !c->unacked) {
    lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
    return -1;
  }
  if (c->head || c->ping_pending || (c->closing && !c->unacked))
    lws_callback_on_writable(wsi);
  return 0;
}

static void on_receive(struct conn *c, struct lws *wsi, const void *in, size_t len)
{
  c->last_rx_ms = clock_mono_ms();
  if (lws_is_first_fragment(wsi)) {
    buf_reset(&c->rx);
    c->rx_binary = lws_frame_is_binary(wsi);
  }
  if (c->rx.cap && buf_append(&c->rx, in, len) != 0) {
    /* Over the cap: the buffer freed itself; drop the rest of this message. */
    LOG_WARN("slack", "frame_too_large", "conn=%u max=%zu", c->id, SLACK_FRAME_MAX);
    c->rx.cap = 0;
  }
  if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
    return;
  uint64_t received_us = clock_mono_us();
  if (!c->rx.cap) {
    c->rx.cap = SLACK_FRAME_MAX;
  } else if (c->rx_binary) {
    LOG_WARN("slack", "binary_frame_ignored", "conn=%u len=%zu", c->id, c->rx.len);
  } else {
    handle_frame(c, c->rx.data ? c->rx.data : "", c->rx.len, received_us);
  }
  buf_reset(&c->rx);
}

static int callback(
    struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
  (void)user;
  struct conn *c = lws_get_opaque_user_data(wsi);
  switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
      char q[200];
      if (c) {
        LOG_WARN("slack", "connect_failed", "conn=%u err=%s", c->id,
                 log_quote(q, sizeof(q), in ? (const char *)in : "unknown"));
        lws_set_opaque_user_data(wsi, NULL);
        c->wsi = NULL;
        conn_gone(c, "connect_failed");
      }
      return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      if (c) {
        c->established = true;
        c->established_ms = c->last_rx_ms = c->last_ping_ms = clock_mono_ms();
        LOG_DEBUG("slack", "socket_established", "conn=%u", c->id);
      }
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
      if (c && !c->closing)
        on_receive(c, wsi, in, len);
      return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
      if (c)
        c->last_rx_ms = clock_mono_ms();
      return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
      return c ? write_one(c) : -1;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
      if (c)
        LOG_INFO("slack", "peer_closed", "conn=%u", c->id);
      return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
      if (c) {
        lws_set_opaque_user_data(wsi, NULL);
        c->wsi = NULL;
        conn_gone(c, reason == LWS_CALLBACK_CLIENT_CLOSED ? "closed" : "destroyed");
      }
      return 0;
    default:
      return 0;
  }
}

const struct lws_protocols slack_socket_protocol = {
    "klaxon-slack", callback, 0, (size_t)64 * 1024, 0, NULL, 0,
};

/* ---- connecting ----------------------------------------------------------------------------- */

static void connect_to(struct slack_socket *s, const char *url)
{
  int slot = -1;
  for (int i = 0; i < SLACK_MAX_CONNS; i++)
    if (!s->conns[i])
      slot = i;
  if (slot < 0) {
    LOG_WARN("slack", "too_many_sockets", "max=%d", SLACK_MAX_CONNS);
    return;
  }
  /* lws_parse_uri writes into its input: parse a copy. */
  char *copy = strdup(url);
  const char *prot, *ads, *path;
  int port;
  if (!copy || lws_parse_uri(copy, &prot, &ads, &port, &path)) {
    LOG_ERROR("slack", "bad_socket_url", "reason=unparsable");
    free(copy);
    s->attempt++;
    need_connection(s);
    return;
  }
  bool tls = strcmp(prot, "wss") == 0;
  if (!tls && strcmp(prot, "ws") != 0) {
    LOG_ERROR("slack", "bad_socket_url", "scheme=%.10s", prot);
    free(copy);
    s->attempt++;
    need_connection(s);
    return;
  }
  char fullpath[2048];
  snprintf(fullpath, sizeof(fullpath), "/%s", path);
  struct conn *c = calloc(1, sizeof(*c));
  if (!c) {
    free(copy);
    return;
  }
  c->owner = s;
  c->id = ++s->next_id;
  c->opened_ms = clock_mono_ms();
  buf_init(&c->rx, SLACK_FRAME_MAX);
  s->conns[slot] = c;
  struct lws_client_connect_info ci;
  memset(&ci, 0, sizeof(ci));
  ci.context = s->lws;
  ci.vhost = s->vhost;
  ci.address = ads;
  ci.port = port;
  ci.path = fullpath;
  ci.host = ads;
  ci.origin = ads;
  ci.ssl_connection = tls ? LCCSCF_USE_SSL : 0;
  ci.protocol = NULL;
  ci.local_protocol_name = slack_socket_protocol.name;
  ci.opaque_user_data = c;
  ci.pwsi = &c->wsi;
  LOG_AT(routine_level(s), "slack", "socket_connecting", "conn=%u host=%s port=%d tls=%d", c->id,
         ads, port, tls);
  struct lws *wsi = lws_client_connect_via_info(&ci);
  free(copy);
  if (!wsi) {
    /* The failure callback may already have released the conn. */
    for (int i = 0; i < SLACK_MAX_CONNS; i++) {
      if (s->conns[i] == c) {
        s->conns[i] = NULL;
        conn_free(c);
        s->attempt++;
        need_connection(s);
      }
    }
  }
}

static void on_connections_open(void *arg, const struct slack_result *r)
{
  struct slack_socket *s = arg;
  s->opening = false;
  if (s->stopping || s->held)
    return; /* held while the URL was asked for: no socket until the database answers */
  if (r->err == 0) {
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(r->json, "url");
    if (cJSON_IsString(url)) {
      connect_to(s, url->valuestring);
      return;
    }
    LOG_ERROR("slack", "connections_open_no_url", "status=%ld", r->status);
  } else if (r->error && slack_error_fatal_auth(r->error)) {
    char sentence[256];
    snprintf(sentence, sizeof(sentence),
             "Slack refused the app-level token (apps.connections.open: %s); check that "
             "SLACK_APP_TOKEN is an xapp- token with the connections:write scope",
             r->error);
    s->fatal = true;
    if (s->cbs.on_fatal)
      s->cbs.on_fatal(s->cbs.arg, sentence);
    return;
  } else {
    LOG_WARN("slack", "connections_open_failed", "error=%s retry_after=%ld",
             r->error ? r->error : "-", r->retry_after_s);
  }
  s->attempt++;
  if (r->err == KX_ERATELIMITED && r->retry_after_s > 0 &&
      !uv_is_active((uv_handle_t *)&s->retry_timer)) {
    LOG_INFO("slack", "reconnect_scheduled", "in_ms=%ld reason=ratelimited",
             r->retry_after_s * 1000);
    uv_timer_start(&s->retry_timer, on_retry_timer, (uint64_t)r->retry_after_s * 1000, 0);
    return;
  }
  need_connection(s);
}

static void open_connection(struct slack_socket *s)
{
  if (s->opening || s->stopping || s->fatal || s->held)
    return;
  s->opening = true;
  int rc =
      slack_api_form(s->api, "apps.connections.open", SLACK_TOKEN_APP, "", on_connections_open, s);
  if (rc) {
    s->opening = false;
    LOG_ERROR("slack", "connections_open_not_sent", "err=%s", kx_err_name(rc));
    if (rc == KX_EAUTH && s->cbs.on_fatal) {
      s->fatal = true;
      s->cbs.on_fatal(s->cbs.arg, "no Slack app-level token: set SLACK_APP_TOKEN (xapp-…)");
    }
  }
}

static void on_retry_timer(uv_timer_t *t)
{
  struct slack_socket *s = t->data;
  open_connection(s);
}

static uint64_t backoff_ms(int attempt)
{
  if (attempt <= 0)
    return 0;
  uint64_t base = BACKOFF_BASE_MS;
  for (int i = 1; i < attempt && base < BACKOFF_MAX_MS; i++)
    base *= 2;
  if (base > BACKOFF_MAX_MS)
    base = BACKOFF_MAX_MS;
  /* Full jitter in [base/2, base): many bots restarting together do not stampede. */
  return base / 2 + (uint64_t)rand() % (base / 2 + 1);
}

/* Open a connection when none is live or connecting (retiring ones do not count). */
static void need_connection(struct slack_socket *s)
{
  if (s->stopping || s->fatal || s->opening || s->held)
    return;
  if (live_conns(s, false) > 0)
    return;
  if (uv_is_active((uv_handle_t *)&s->retry_timer))
    return;
  uint64_t delay = backoff_ms(s->attempt);
  if (delay == 0) {
    open_connection(s);
    return;
  }
  LOG_AT(routine_level(s), "slack", "reconnect_scheduled", "in_ms=%llu attempt=%d",
         (unsigned long long)delay, s->attempt);
  uv_timer_start(&s->retry_timer, on_retry_timer, delay, 0);
}

static void on_timer_closed(uv_handle_t *h)
{
  struct slack_socket *s = h->data;
  if (--s->open_timers == 0 && s->stop_done) {
    void (*done)(void *) = s->stop_done;
    s->stop_done = NULL;
    done(s->stop_arg);
  }
}

/* Closes every socket while cbs.hold() says so (see slack_socket.h), and lets need_connection
 * open one again when it stops. */
static void check_hold(struct slack_socket *s)
{
  bool hold = s->cbs.hold && !s->stopping && s->cbs.hold(s->cbs.arg);
  if (hold == s->held)
    return;
  s->held = hold;
  if (hold) {
    LOG_WARN("slack", "socket_held", "reason=database_unavailable");
    uv_timer_stop(&s->retry_timer);
    for (int i = 0; i < SLACK_MAX_CONNS; i++)
      if (s->conns[i])
        close_conn(s->conns[i]);
  } else {
    LOG_INFO("slack", "socket_released", "reason=database_available");
    s->attempt = 0;
  }
}

static void on_watchdog(uv_timer_t *t)
{
  struct slack_socket *s = t->data;
  uint64_t now = clock_mono_ms();
  check_hold(s);
  for (int i = 0; i < SLACK_MAX_CONNS; i++) {
    struct conn *c = s->conns[i];
    if (!c || !c->wsi)
      continue;
    if (s->stopping) {
      if (now - s->stop_started_ms > STOP_GRACE_MS && !c->retiring)
        kill_conn(c, "shutdown");
      continue;
    }
    if (!c->established) {
      if (now - c->opened_ms > CONNECT_TIMEOUT_MS)
        kill_conn(c, "connect_timeout");
      continue;
    }
    if (!c->hello && now - c->established_ms > HELLO_TIMEOUT_MS) {
      kill_conn(c, "no_hello");
      continue;
    }
    if (now - c->last_rx_ms > s->opts.pong_timeout_ms) {
      /* Half-open: nothing, not even a pong. Replace it now. */
      kill_conn(c, "no_pong");
      metrics_inc("klaxon_slack_dead_sockets_total", "", 1);
      continue;
    }
    if (!c->closing && now - c->last_ping_ms >= s->opts.ping_interval_ms) {
      c->last_ping_ms = now;
      c->ping_pending = true;
      lws_callback_on_writable(c->wsi);
    }
  }
  if (!s->stopping)
    need_connection(s);
  if (s->stopping) {
    bool any = false;
    for (int i = 0; i < SLACK_MAX_CONNS; i++)
      any |= s->conns[i] != NULL;
    if (!any && uv_is_active((uv_handle_t *)&s->watchdog)) {
      uv_timer_stop(&s->watchdog);
      slack_batch_run(s); /* what was read before the sockets closed is handled, not dropped */
      uv_check_stop(&s->batch);
      uv_close((uv_handle_t *)&s->retry_timer, on_timer_closed);
      uv_close((uv_handle_t *)&s->watchdog, on_timer_closed);
      uv_close((uv_handle_t *)&s->batch, on_timer_closed);
    }
  }
}

struct slack_socket *slack_socket_new(uv_loop_t *loop,
                                      struct lws_context *lws,
                                      struct lws_vhost *vhost,
                                      struct slack_api *api,
                                      const struct slack_socket_opts *opts,
                                      const struct slack_socket_cbs *cbs)
{
  static const double ack_buckets[] = {0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
                                       0.05,    0.1,    0.25,  0.5,   1,     3};
  metrics_describe("klaxon_envelopes_received_total", METRIC_COUNTER,
                   "Socket Mode envelopes received");
  metrics_describe("klaxon_envelopes_acked_total", METRIC_COUNTER, "Socket Mode envelopes acked");
  metrics_histogram("klaxon_envelope_ack_seconds",
                    "Time from an envelope's arrival to its ack being written", ack_buckets,
                    KX_ARRAY_SIZE(ack_buckets));
  metrics_describe("klaxon_slack_frames_total", METRIC_COUNTER, "Socket Mode frames by validity");
  metrics_describe("klaxon_slack_connected", METRIC_GAUGE, "1 when a Socket Mode socket is live");
  metrics_describe("klaxon_slack_dead_sockets_total", METRIC_COUNTER,
                   "Sockets declared dead for want of a pong");
  metrics_set("klaxon_slack_connected", "", 0);
  struct slack_socket *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  s->loop = loop;
  s->lws = lws;
  s->vhost = vhost;
  s->api = api;
  s->opts = *opts;
  if (!s->opts.ping_interval_ms)
    s->opts.ping_interval_ms = 10000;
  if (!s->opts.pong_timeout_ms)
    s->opts.pong_timeout_ms = 20000;
  s->cbs = *cbs;
  uv_timer_init(loop, &s->retry_timer);
  uv_timer_init(loop, &s->watchdog);
  s->retry_timer.data = s;
  s->watchdog.data = s;
  slack_batch_init(s);
  s->open_timers = 3;
  return s;
}

int slack_socket_start(struct slack_socket *s)
{
  uv_timer_start(&s->watchdog, on_watchdog, WATCHDOG_PERIOD_MS, WATCHDOG_PERIOD_MS);
  open_connection(s);
  return 0;
}

bool slack_socket_connected(const struct slack_socket *s)
{
  return s->connected;
}

void slack_socket_stop(struct slack_socket *s, void (*done)(void *arg), void *arg)
{
  if (s->stopping)
    return;
  s->stopping = true;
  s->stop_started_ms = clock_mono_ms();
  s->stop_done = done;
  s->stop_arg = arg;
  uv_timer_stop(&s->retry_timer);
  for (int i = 0; i < SLACK_MAX_CONNS; i++)
    if (s->conns[i])
      close_conn(s->conns[i]);
  /* The watchdog notices when every socket is gone, closes the timers, and then `done` runs. */
  if (!uv_is_active((uv_handle_t *)&s->watchdog))
    uv_timer_start(&s->watchdog, on_watchdog, WATCHDOG_PERIOD_MS, WATCHDOG_PERIOD_MS);
  on_watchdog(&s->watchdog);
}

void slack_socket_free(struct slack_socket *s)
{
  if (!s)
    return;
  if (s->batch_queued) /* the app ends the database thread's work before this */
    LOG_WARN("slack", "batch_unhandled", "note=\"envelopes left unacked: Slack sends them again\"");
  slack_batch_free(s);
  for (int i = 0; i < SLACK_MAX_CONNS; i++) {
    if (s->conns[i]) {
      if (s->conns[i]->wsi)
        lws_set_opaque_user_data(s->conns[i]->wsi, NULL);
      conn_free(s->conns[i]);
    }
  }
  free(s);
}
