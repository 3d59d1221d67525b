/*
 * retention.h — pruning what a year of use leaves behind, in small batches: dedup marks
 * (seen), delivered outbox rows, failed outbox rows (the delivery attempts that gave up), jobs
 * that ran or were cancelled, the copies of resolved pages and the attempts to reach people for
 * them (issue 11), and resolved alerts. Never a pending
 * outbox row, a pending job, an open or acked page's copies, or a firing alert.
 *
 * Each statement deletes at most `limit` rows in its own autocommit transaction, so the write
 * lock is held for one short batch at a time. bot/checkpoint.c calls this from its pool thread
 * on its own connection (storage.retention in the config), never from the loop.
 */
#ifndef KX_RETENTION_H
#define KX_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/db.h"

#define RETENTION_BATCH 500
#define RETENTION_DEFAULT_MS ((int64_t)400 * 24 * 3600 * 1000)
/* Dedup marks only need to outlive Slack's and Teams' redelivery window. */
#define RETENTION_SEEN_MS ((int64_t)72 * 3600 * 1000)
/* Delivered outbox rows are kept a month for `klaxon outbox` and debugging. */
#define RETENTION_DELIVERED_MS ((int64_t)30 * 24 * 3600 * 1000)

/* Rows older than these (epoch ms) may go. */
struct retention_cutoffs {
  int64_t seen_before;      /* seen.at */
  int64_t delivered_before; /* outbox state 'done', done_at */
  int64_t history_before;   /* failed outbox rows, finished jobs, resolved pages' copies, alerts */
};

struct retention_result {
  int64_t deleted; /* rows deleted by this batch */
  bool more;       /* some statement hit `limit`: call again */
};

/* The cutoffs for business time `now_ms` and retention `retention_ms` (<= 0: the default).
 * Dedup marks carry business time but guard a real window (RETENTION_SEEN_MS of real time):
 * the caller passes that window in business time (times the clock's scale). Nothing is kept
 * longer than retention. */
void retention_cutoffs(int64_t now_ms,
                       int64_t retention_ms,
                       int64_t seen_window_ms,
                       struct retention_cutoffs *out);

/* One batch of at most `limit` rows per kind. 0 or KX_E* (KX_EBUSY when a writer held the
 * lock for the whole busy timeout; the next call simply tries again). */
int retention_prune_batch(struct db *db,
                          const struct retention_cutoffs *c,
                          int limit,
                          struct retention_result *out);

#endif
