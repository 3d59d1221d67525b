/*
 * seen.h — delivery ids already handled (Socket Mode envelope ids, Events API event ids,
 * alert dedup keys of requests, Teams activity ids), so a redelivery does nothing twice.
 * seen_mark is called inside the transaction that applies the effect: the mark and the effect
 * commit together or not at all.
 */
#ifndef KX_SEEN_H
#define KX_SEEN_H

#include <stdint.h>

#include "storage/db.h"

/* 0 when the key is new (and is now marked), KX_EEXISTS when it was seen before. */
int seen_mark(struct db *db, const char *key, int64_t now_ms);
int seen_prune(struct db *db, int64_t before_ms);

/* A small key/value store for process facts worth keeping across restarts (the bot's own
 * Slack user id, the Teams serviceUrl per tenant …). kv_get returns a copy the caller frees,
 * or NULL when absent. */
/* The bot's own Slack user id (auth.test), for handlers that must leave it out. */
#define KV_SLACK_BOT_USER "slack.bot_user"

int kv_set(struct db *db, const char *key, const char *value, int64_t now_ms);
char *kv_get(struct db *db, const char *key);

#endif
