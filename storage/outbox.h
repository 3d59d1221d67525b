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
int64_t outbox_depth(struct db *db);          /* pending rows */
int64_t outbox_oldest_pending(struct db *db); /* created_at of the oldest pending row, or -1 */
/* Drop delivered or failed rows older than `before_ms`. */
int outbox_prune(struct db *db, int64_t before_ms);

#endif
