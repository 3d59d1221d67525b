/*
 * sender_rate.c — the sender's rate limits (see sender.h): token buckets on real time, per
 * method (Slack's tiers) and per channel for chat.postMessage, and a method's pause after a 429.
 */
#include <stdio.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/sender_internal.h"
#include "lib/kx.h"

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
  b->tokens = clock_mono_ms() < s->buckets_spent_until_ms ? 0.0 : burst;
  b->per_ms = per_min / 60000.0;
  b->last_ms = clock_mono_ms();
  b->blocked_until_ms = 0;
  return b;
}

static void bucket_refill(struct bucket *b, uint64_t now)
{
  if (now <= b->last_ms)
    return; /* `now` was read before the bucket was made: nothing to add (and no wrap) */
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
uint64_t sender_rate_gate(struct sender *s, const struct outbox_row *row, uint64_t now)
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

void sender_rate_start_spent(struct sender *s)
{
  /* A minute refills every bucket (the slowest per-channel rate is one a second, the tiers per
   * minute): after that nothing the previous sender did can matter. */
  s->n_buckets = 0;
  s->buckets_spent_until_ms = clock_mono_ms() + 60000;
}

void sender_rate_block(struct sender *s, const char *method, uint64_t until_ms)
{
  char key[96];
  snprintf(key, sizeof(key), "m:%.80s", method);
  double per_min, burst;
  method_rate(method, &per_min, &burst);
  struct bucket *b = bucket_get(s, key, per_min, burst);
  b->blocked_until_ms = until_ms;
  b->tokens = 0;
}
