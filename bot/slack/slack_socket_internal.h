/*
 * slack_socket_internal.h — shared by the Socket Mode client's files in bot/slack/ only: the
 * socket and connection state (slack_socket.c) and group commit (slack_batch.c).
 */
#ifndef KX_SLACK_SOCKET_INTERNAL_H
#define KX_SLACK_SOCKET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "bot/slack/slack_socket.h"
#include "lib/buf.h"

struct frame_out {
  struct frame_out *next;
  size_t len;
  uint64_t received_us; /* for the ack latency histogram; 0 for non-acks */
  unsigned char data[]; /* LWS_PRE bytes of headroom, then the text */
};

/* An envelope read this turn, waiting for the batch (group commit). */
struct pending {
  struct pending *next;
  unsigned conn_id;
  uint64_t received_us;
  struct slack_frame frame; /* owns its parsed JSON */
};

struct conn {
  struct slack_socket *owner;
  struct lws *wsi;
  unsigned id;
  bool established;
  bool hello;
  bool retiring;    /* replaced: close once the replacement has said hello */
  bool closing;     /* close at the next writeable, once `unacked` is 0 */
  unsigned unacked; /* envelopes read here whose ack is not queued yet (a database task has
                       them): a retiring socket stays open for their acks */
  bool ping_pending;
  uint64_t opened_ms, established_ms, last_rx_ms, last_ping_ms;
  struct buf rx;
  int rx_binary;
  struct frame_out *head, *tail;
};

struct slack_socket {
  uv_loop_t *loop;
  struct lws_context *lws;
  struct lws_vhost *vhost;
  struct slack_api *api;
  struct slack_socket_opts opts;
  struct slack_socket_cbs cbs;
  struct conn *conns[SLACK_MAX_CONNS];
  unsigned next_id;
  bool opening;   /* apps.connections.open in flight */
  bool connected; /* some conn has said hello */
  bool stopping;
  bool fatal;
  bool held;            /* cbs.hold said so: no connection while it lasts */
  int attempt;          /* consecutive failures, for backoff */
  int too_many;         /* consecutive too_many_websockets refusals: each reconnect waits longer */
  bool too_many_warned; /* this refusal streak was logged as a warning (reset by a hello) */
  uv_timer_t retry_timer;
  uv_timer_t watchdog;
  uv_check_t batch; /* handles the envelopes read in this turn of the loop */
  struct pending *pend_head, *pend_tail;
  bool batch_queued; /* a database task will take the envelopes waiting (slack_batch.c) */
  int open_timers;
  uint64_t stop_started_ms;
  void (*stop_done)(void *arg);
  void *stop_arg;
};

/* Queue a text frame on a connection (an ack carries its envelope's arrival time). */
int slack_queue_frame(struct conn *c, const char *text, size_t len, uint64_t received_us);

/* Group commit (slack_batch.c): take an envelope read this turn (the batch owns *frame on
 * success), handle what is waiting now, and free what is left at the end. */
void slack_batch_init(struct slack_socket *s);
int slack_batch_add(struct slack_socket *s,
                    unsigned conn_id,
                    struct slack_frame *frame,
                    uint64_t received_us);
void slack_batch_run(struct slack_socket *s);
void slack_batch_free(struct slack_socket *s);

#endif
