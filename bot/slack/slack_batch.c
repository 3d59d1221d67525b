/*
 * slack_batch.c — group commit for Socket Mode (see slack_socket.h): the envelopes read in one
 * turn of the loop wait here, and a uv_check_t (after the poll phase) handles them in one
 * transaction, each handler in its own savepoint, then queues their acks.
 */
#include <stdlib.h>
#include <string.h>

#include "bot/dbtask.h"
#include "bot/slack/slack_socket_internal.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"

static struct conn *conn_by_id(struct slack_socket *s, unsigned id)
{
  for (int i = 0; i < SLACK_MAX_CONNS; i++)
    if (s->conns[i] && s->conns[i]->id == id)
      return s->conns[i];
  return NULL;
}

/* At most this many envelopes share a transaction, so one turn's burst cannot hold every ack
 * behind one long run of handlers. */
#define BATCH_MAX 128

/* One chunk's envelopes: one transaction, then the acks. */
static void handle_chunk(struct slack_socket *s, struct pending *list, size_t n)
{
  char **acks = calloc(n, sizeof(*acks));
  bool outer = n > 1 && acks && s->cbs.on_batch_begin && s->cbs.on_batch_begin(s->cbs.arg) == 0;
  if (acks && s->cbs.on_envelope) {
    size_t i = 0;
    for (struct pending *p = list; p; p = p->next)
      acks[i++] = s->cbs.on_envelope(s->cbs.arg, &p->frame);
    if (outer && s->cbs.on_batch_commit(s->cbs.arg) != 0) {
      /* Nothing of this turn is committed: handle each alone, as without the batch. */
      LOG_WARN("slack", "group_commit_failed", "envelopes=%zu note=\"handled again one by one\"",
               n);
      metrics_inc("klaxon_group_commit_failures_total", "", 1);
      i = 0;
      for (struct pending *p = list; p; p = p->next, i++) {
        free(acks[i]);
        acks[i] = s->cbs.on_envelope(s->cbs.arg, &p->frame);
      }
    }
  }
  if (outer)
    metrics_observe("klaxon_group_commit_envelopes", "", (double)n);
  size_t i = 0;
  while (list) {
    struct pending *p = list;
    list = p->next;
    char *ack = acks ? acks[i++] : NULL;
    struct conn *c = conn_by_id(s, p->conn_id);
    if (c && c->unacked)
      c->unacked--;
    /* A socket that closed meanwhile cannot carry the ack: Slack delivers the envelope again and
     * the dedup mark, committed, answers it. */
    if (c && ack)
      slack_queue_frame(c, ack, strlen(ack), p->received_us);
    else if (c && c->closing && !c->unacked && c->wsi)
      lws_callback_on_writable(c->wsi); /* a retiring socket waited for this one */
    free(ack);
    slack_frame_free(&p->frame);
    free(p);
  }
  free(acks);
}

/* Up to BATCH_MAX of the envelopes waiting, oldest first. */
static void run_chunk(struct slack_socket *s)
{
  struct pending *list = s->pend_head, *last = list;
  size_t n = 1;
  while (last->next && n < BATCH_MAX) {
    last = last->next;
    n++;
  }
  s->pend_head = last->next;
  if (!s->pend_head)
    s->pend_tail = NULL;
  last->next = NULL;
  handle_chunk(s, list, n);
}

/* On PostgreSQL the envelopes are handled by a database task (bot/dbtask.h), one at a time: it
 * takes what has gathered when it starts, and what arrives while its transaction waits for the
 * server gathers for the next one, so the batches grow with the load (group commit) instead of
 * each loop turn queueing a transaction of its own. After a chunk the task queues itself again
 * behind the others (the lease, the sender, the scheduler), if more waits. */
static void batch_task(void *arg)
{
  struct slack_socket *s = arg;
  for (;;) {
    if (s->pend_head)
      run_chunk(s);
    if (!s->pend_head)
      break;
    if (dbtask_inside()) {
      dbtask_run(batch_task, s);
      return;
    }
  }
  s->batch_queued = false;
}

void slack_batch_run(struct slack_socket *s)
{
  if (!s->pend_head || s->batch_queued)
    return;
  s->batch_queued = true;
  dbtask_run(batch_task, s);
}

static void on_batch(uv_check_t *h)
{
  struct slack_socket *s = h->data;
  uv_check_stop(h);
  slack_batch_run(s);
}

int slack_batch_add(struct slack_socket *s,
                    unsigned conn_id,
                    struct slack_frame *frame,
                    uint64_t received_us)
{
  struct pending *p = malloc(sizeof(*p));
  if (!p)
    return KX_ENOMEM; /* not acked: Slack delivers it again */
  p->next = NULL;
  p->conn_id = conn_id;
  p->received_us = received_us;
  p->frame = *frame;
  struct conn *c = conn_by_id(s, conn_id);
  if (c)
    c->unacked++;
  if (s->pend_tail)
    s->pend_tail->next = p;
  else
    s->pend_head = p;
  s->pend_tail = p;
  if (!uv_is_active((uv_handle_t *)&s->batch))
    uv_check_start(&s->batch, on_batch);
  return 0;
}

void slack_batch_init(struct slack_socket *s)
{
  static const double batch_buckets[] = {2, 4, 8, 16, 32, 64, 128};
  metrics_histogram("klaxon_group_commit_envelopes",
                    "Envelopes handled in one transaction (turns with more than one)",
                    batch_buckets, KX_ARRAY_SIZE(batch_buckets));
  metrics_describe("klaxon_group_commit_failures_total", METRIC_COUNTER,
                   "Group commits that failed, their envelopes handled again one by one");
  uv_check_init(s->loop, &s->batch);
  s->batch.data = s;
}

void slack_batch_free(struct slack_socket *s)
{
  while (s->pend_head) {
    struct pending *p = s->pend_head;
    s->pend_head = p->next;
    slack_frame_free(&p->frame);
    free(p);
  }
  s->pend_tail = NULL;
}
