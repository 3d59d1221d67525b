/*
 * outbox.h — the durable outbox: everything klaxon must say to Slack, Teams or by email is a
 * row here, written in the same transaction as the state change that caused it.
 *
 * Rows in one `queue` (normally the destination channel) are delivered in id order: only the
 * oldest pending row of a queue is ready. Across queues, lower `priority` goes first
 * (OUTBOX_URGENT for pages and acks). A row that needs an earlier step's result is not written
 * until that result exists: the earlier row names a `hook` that the sender runs, in the same
 * transaction that marks the row done, and the hook writes the follow-up rows.
 * Rows own their strings; outbox_rows_free releases an array from outbox_ready.
 */
#ifndef KX_OUTBOX_H
#define KX_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

enum outbox_priority {
  OUTBOX_URGENT = 0, /* pages, escalations, acknowledgements */
  OUTBOX_NORMAL = 1,
  OUTBOX_BULK = 2 /* digests, reminders that can wait */
};

struct outbox_new {
  const char *platform; /* "slack" (default when NULL), "teams", "email" */
  const char *method;   /* "chat.postMessage", "teams.reply", "email.send" … */
  const char *queue;    /* ordering key; NULL = the method name */
  const char *body;     /* JSON text, copied */
  int priority;
  const char *hook; /* optional: run with the result */
  const char *ref;  /* optional: the hook's argument */
  int64_t now_ms;
};

struct outbox_row {
  int64_t id;
  int64_t created_at;
  char *platform;
  char *method;
  char *queue;
  char *body;
  int priority;
  int attempts;
  char *hook;
  char *ref;
  /* The lease epoch (storage/leases.h) of the sender that last started to send this row, and
   * when (database clock, ms); 0 when never started. A row left pending by an older epoch is
   * "in doubt": the call may or may not have reached the platform. */
  int64_t sending_epoch;
  int64_t sending_at;
};

int outbox_add(struct db *db, const struct outbox_new *row, int64_t *id_out);
/* The oldest pending row of each queue, most urgent first, at most `limit`; queues listed in
 * `skip_queues` (n_skip entries, e.g. those with a row in flight) are left out. */
int outbox_ready(struct db *db,
                 size_t limit,
                 const char *const *skip_queues,
                 size_t n_skip,
                 struct outbox_row **rows,
                 size_t *n);
void outbox_rows_free(struct outbox_row *rows, size_t n);
int outbox_get(struct db *db, int64_t id, struct outbox_row *out); /* KX_ENOTFOUND */
void outbox_row_clear(struct outbox_row *row);
/* Delivered: keep the platform's answer for the record. */
int outbox_done(struct db *db, int64_t id, const char *result, int64_t now_ms);
/* Refused for good (a permanent error such as channel_not_found). */
int outbox_failed(struct db *db, int64_t id, const char *error, int64_t now_ms);
/* One more attempt that will be retried; `error` is the reason. */
int outbox_attempted(struct db *db, int64_t id, const char *error);
/* The sender holding the outbox lease at `epoch` is about to send row `id`: record it, committed
 * before the call goes out, so that whoever takes over knows the row is in doubt. Only while
 * that lease is current and unexpired on the database clock. 0; KX_EFENCED when the lease
 * moved on or expired (send nothing); KX_ENOTFOUND when the row is no longer pending. */
int outbox_sending(struct db *db, int64_t id, int64_t epoch);
/* outbox_done and outbox_failed for the lease holder at `epoch`: the row changes only while
 * "outbox"'s epoch is still `epoch`, in the same statement. KX_EFENCED when another instance
 * took the lease over (the result is not recorded: the new holder decides about the row);
 * KX_ENOTFOUND when the row is no longer pending. epoch 0 is unfenced (the plain forms). */
int outbox_done_fenced(
    struct db *db, int64_t id, int64_t epoch, const char *result, int64_t now_ms);
int outbox_failed_fenced(
    struct db *db, int64_t id, int64_t epoch, const char *error, int64_t now_ms);
int64_t outbox_depth(struct db *db);          /* pending rows */
int64_t outbox_oldest_pending(struct db *db); /* created_at of the oldest pending row, or -1 */
/* Drop delivered or failed rows older than `before_ms`. */
int outbox_prune(struct db *db, int64_t before_ms);

#endif
