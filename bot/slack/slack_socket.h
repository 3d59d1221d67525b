/*
 * slack_socket.h — the Socket Mode client: apps.connections.open, the WebSocket (libwebsockets
 * on the bot's libuv loop), hello, envelopes and their acks, disconnect/refresh, ping/pong
 * liveness and reconnection with backoff and jitter.
 *
 * Each Socket Mode URL is single-use: every (re)connection asks apps.connections.open again.
 * On `disconnect` (refresh_requested, warning) a new connection is opened first and the old one
 * closed only when the new one has said hello, so nothing is missed in between. A socket that
 * neither answers our pings nor sends anything within pong_timeout is declared dead and
 * replaced: half-open sockets must not silence the pager.
 *
 * on_envelope is called for every envelope, from the loop; it returns the ack frame to send
 * (malloc'd JSON text, taken by the socket) or NULL to send none (then Slack redelivers).
 *
 * Group commit: envelopes are not handled as they are read but gathered, and handled together
 * once the loop has read everything that was ready (a uv_check_t, after the poll phase). When
 * more than one is waiting, on_batch_begin opens one transaction around them all (each handler's
 * own transaction becomes a savepoint inside it), on_batch_commit commits it, and only then are the
 * acks queued: one fsync for the whole turn, and nothing acked that is not committed. If that
 * commit fails, every envelope of the turn is handled again alone, as it would have been without
 * the batch; the first answers are thrown away unsent.
 * on_fatal is called once when Slack refuses us for good (a bad app token, link_disabled); the
 * owner should stop. The socket never exits the process itself.
 */
#ifndef KX_SLACK_SOCKET_H
#define KX_SLACK_SOCKET_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "bot/slack/slack_api.h"
#include "bot/slack/slack_envelope.h"

/* At most this many sockets at once: the live one and its replacement. */
#define SLACK_MAX_CONNS 3

struct slack_socket_cbs {
  char *(*on_envelope)(void *arg, const struct slack_frame *frame);
  int (*on_batch_begin)(void *arg);  /* 0: a transaction is open around the batch */
  int (*on_batch_commit)(void *arg); /* commit it (rolled back on failure): 0 when committed */
  void (*on_state)(void *arg, bool connected);
  void (*on_fatal)(void *arg, const char *sentence);
  /* Asked every watchdog tick; true while this instance must not take work (its database does
   * not answer): the sockets are closed, so Slack sends the envelopes to another instance's
   * connection (and redelivers the unacked ones), and none is opened until it turns false.
   * NULL: never. */
  bool (*hold)(void *arg);
  void *arg;
};

struct slack_socket_opts {
  uint64_t ping_interval_ms;
  uint64_t pong_timeout_ms;
  const char *ca_file; /* for wss://, may be NULL (system default) */
};

struct slack_socket;

/* The lws protocol the client vhost must list (name "klaxon-slack"). */
extern const struct lws_protocols slack_socket_protocol;

struct slack_socket *slack_socket_new(uv_loop_t *loop,
                                      struct lws_context *lws,
                                      struct lws_vhost *vhost,
                                      struct slack_api *api,
                                      const struct slack_socket_opts *opts,
                                      const struct slack_socket_cbs *cbs);
int slack_socket_start(struct slack_socket *s);
bool slack_socket_connected(const struct slack_socket *s);
/* Close the sockets and timers; `done` runs from the loop when all are closed (bounded: a
 * socket that does not close within two seconds is killed). */
void slack_socket_stop(struct slack_socket *s, void (*done)(void *arg), void *arg);
void slack_socket_free(struct slack_socket *s); /* after stop's done */

#endif
