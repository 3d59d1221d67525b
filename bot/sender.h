/*
 * sender.h — delivers the outbox: reads ready rows (oldest first per queue, urgent first
 * across queues), sends them through the Slack Web API (or the platform's sender), and records
 * each result in the same transaction as the row's hook (commands/ decides what follows).
 *
 * Rate limits are tracked here, on real time: per method (Slack's tiers), per channel for
 * chat.postMessage (about one a second, with a small burst), and a method answered with 429 is
 * not called again before its Retry-After. Urgent rows (pages) spend the budget first; bulk
 * rows leave headroom. Transport failures and 5xx are retried with exponential backoff and
 * jitter, forever: a page is never dropped because Slack had a bad minute. A permanent error
 * (channel_not_found, invalid_blocks …) marks the row failed and its hook is told.
 */
#ifndef KX_SENDER_H
#define KX_SENDER_H

#include <stdbool.h>
#include <uv.h>

#include "bot/net/http_client.h"
#include "bot/slack/slack_api.h"
#include "commands/core/command.h"

struct sender;

/* A sender for another platform's rows ("teams", "email" …): send `row`, then call `done`
 * exactly once (from the loop) with the result. Return < 0 to refuse synchronously. */
typedef void (*sender_done_fn)(struct sender *s,
                               int64_t row_id,
                               int err, /* 0, KX_ERETRY, KX_ERATELIMITED, KX_EPLATFORM, or
                                           KX_EAUTH: our credentials refused (retried; the
                                           operator is told once per episode) */
                               const char *error,
                               long retry_after_s,
                               const cJSON *response);
typedef int (*sender_platform_fn)(void *arg,
                                  struct sender *s,
                                  const struct outbox_row *row,
                                  sender_done_fn done);

struct sender *sender_new(uv_loop_t *loop, struct cmd_ctx *ctx, struct http_client *http);
/* Slack rows go through this client (the Slack module's, borrowed); until then they wait. */
void sender_use_slack(struct sender *s, struct slack_api *slack);
/* Route rows of `platform` to fn (the Slack and email senders are built in). */
int sender_register(struct sender *s, const char *platform, sender_platform_fn fn, void *arg);
/* Called after an outbox row's hook ran (a hook may have scheduled a job: the app kicks the
 * scheduler). NULL to clear. */
void sender_on_hook(struct sender *s, void (*fn)(void *arg), void *arg);
/* Something may be ready: look soon (coalesced to one pass per loop turn). */
void sender_kick(struct sender *s);
/* The app's look at the database (app_health.db_down, updated each second off the loop): while
 * it is true the sender makes no database call at all. NULL: never down. */
void sender_watch_db(struct sender *s, const bool *db_down);
/* Stop taking rows; `done` runs when nothing is in flight (bounded by the HTTP timeouts). */
void sender_stop(struct sender *s, void (*done)(void *arg), void *arg);
void sender_free(struct sender *s);
/* Before sender_stop when klaxon exits because Slack turned the app's Socket Mode off: the
 * operator is told (bot/operator.h) and those rows, email or Teams, are tried once while the
 * sender stops (within the app's stop deadline). */
void sender_tell_operator(struct sender *s, const char *platform, const char *detail);
/* The pause before retry `failures` (1, 2, …) of a row after a 5xx, a timeout or a transport
 * error: base 1 s doubling up to 60 s, jittered over [base/2, base] by `random`. */
uint64_t sender_retry_delay_ms(int failures, unsigned random);

#endif
