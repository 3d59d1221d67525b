/*
 * sender_internal.h — for bot/sender*.c only: the sender's state, shared by the pump
 * (sender.c), its rate limits (sender_rate.c) and its lease and in-doubt checks
 * (sender_lease.c). Nothing else includes it.
 */
#ifndef KX_SENDER_INTERNAL_H
#define KX_SENDER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "bot/sender.h"
#include "storage/outbox.h"

/* The outbox lease (issue 12, docs/ha.md "The outbox lease"): taken for LEASE_TTL_MS on the
 * database clock, renewed every LEASE_RENEW_MS; a standby instance tries every
 * LEASE_STANDBY_MS. Sending stops LEASE_MARGIN_MS before the lease could have expired since
 * the last renewal began (on this host's monotonic clock), and at once when a renewal fails. */
#define LEASE_TTL_MS 4000
#define LEASE_RENEW_MS 1000
#define LEASE_STANDBY_MS 500
#define LEASE_RETRY_MS 500
#define LEASE_MARGIN_MS 1500
/* While it holds the lease, the sender looks at the outbox at least this often: a row that
 * another instance committed kicks only that instance's sender (PostgreSQL's LISTEN/NOTIFY
 * would make this immediate; docs/ha.md). */
#define OUTBOX_POLL_MS 250

struct sender_lease {
  uv_timer_t timer;
  char holder[128];     /* host@pidns:pid:random */
  int64_t epoch;        /* the epoch held (or last held, while a renewal is retried); 0: none */
  uint64_t valid_until; /* clock_mono_ms: no sending from then on without a renewal */
  bool queued;          /* a renewal is queued as a database task (dbtask.h) */
  bool released;        /* handed back at stop: a renewal queued before must not take it again */
};

#define MAX_INFLIGHT 16
#define READY_BATCH 64
#define PUMP_ROUNDS 4 /* batches looked at in one pass when every head waits */
#define MAX_BACKOFF 256
#define MAX_BUCKETS 256
#define MAX_PLATFORMS 16
#define RETRY_BASE_MS 1000
#define RETRY_MAX_MS 60000
/* A refused bot token (invalid_auth, token_revoked …): every Slack call stops, the outbox keeps
 * its rows, and one row probes the token after a pause that doubles up to the maximum. */
#define SLACK_PAUSE_FIRST_MS 5000
#define SLACK_PAUSE_MAX_MS ((uint64_t)5 * 60 * 1000)
#define MAX_DRAIN 8 /* the operator's rows sent while stopping (sender_tell_operator) */

struct inflight {
  int64_t id;
  int64_t epoch; /* the outbox lease epoch it was started under: its completion is fenced by it */
  char platform[16];
  char queue[256];
  char method[64];
  char channel[64];
  uint64_t started_ms;
};

struct backoff {
  int64_t id;
  char queue[256];
  uint64_t until_ms;
  int failures;
};

/* A token bucket on real time. */
struct bucket {
  char key[96]; /* "m:chat.update" or "c:C0123" */
  double tokens;
  double capacity;
  double per_ms;
  uint64_t last_ms;
  uint64_t blocked_until_ms; /* from a 429 */
};

struct platform {
  char name[16];
  sender_platform_fn fn;
  void *arg;
  bool refused; /* it said KX_EAUTH (our credentials refused) and has not accepted since */
};

struct sender {
  uv_loop_t *loop;
  struct cmd_ctx *ctx;
  struct slack_api *slack;
  struct http_client *http;
  uv_timer_t timer;     /* next pass: kicked (0) or the earliest backoff/bucket time */
  bool pump_queued;     /* a pass is queued as a database task (dbtask.h) */
  bool stop_queued;     /* the lease's release and the stop's report are queued likewise */
  const bool *db_down;  /* the app's look at the database (app_health.db_down); NULL: never */
  unsigned retry_scale; /* tests only: KLAXON_TEST_RETRY_SCALE divides the backoff pauses */
  struct inflight inflight[MAX_INFLIGHT];
  size_t n_inflight;
  struct backoff backoffs[MAX_BACKOFF];
  size_t n_backoff;
  /* More rows failing than backoffs[] holds: a row retried before (attempts > 0) with no entry
   * waits for this instant, so none is retried at once, over and over. */
  uint64_t overflow_until_ms;
  int overflow_failures;
  struct bucket buckets[MAX_BUCKETS];
  size_t n_buckets;
  uint64_t buckets_spent_until_ms; /* after a takeover, new buckets start empty until then */
  struct platform platforms[MAX_PLATFORMS];
  size_t n_platforms;
  bool stopping;
  void (*stop_done)(void *arg);
  void *stop_arg;
  void (*on_hook)(void *arg);
  void *on_hook_arg;
  /* the bot token refused: Slack rows wait for slack_probe_at_ms, then one probes */
  bool slack_refused;
  int64_t slack_probe_id; /* the row in flight as the probe, 0 when none */
  uint64_t slack_probe_at_ms;
  uint64_t slack_pause_ms;
  /* stopping: these rows (the operator told) still go, then the sender stops */
  int64_t drain[MAX_DRAIN];
  size_t n_drain;
  /* issue 12: the outbox lease (sender_lease.c); the pump runs only while it is held */
  struct sender_lease lease;
  int open_handles; /* timer and lease timer: freed when both are closed */
};

/* sender_rate.c: how long this row must wait for rate limits; 0 when it may go now (its
 * tokens are taken). */
uint64_t sender_rate_gate(struct sender *s, const struct outbox_row *row, uint64_t now);
/* A 429 for `method`: nothing of it goes before `until_ms` (monotonic). */
void sender_rate_block(struct sender *s, const char *method, uint64_t until_ms);
/* After taking the outbox over from another sender: forget the buckets, and start the ones made
 * in the next minute empty (that sender may have spent the workspace's bursts just before). */
void sender_rate_start_spent(struct sender *s);

/* While the database is down, the pump looks again this often (no call is made meanwhile). */
#define DB_DOWN_RECHECK_MS 500

/* sender.c: a row in flight has ended (see sender_done_fn for err). */
void sender_complete(struct sender *s,
                     int64_t id,
                     int err,
                     const char *error,
                     long retry_after_s,
                     const cJSON *response);
/* sender.c: mark the row in flight under the lease (outbox_sending), then send it. */
int sender_begin_row(struct sender *s, const struct outbox_row *row);

/* sender_lease.c: start keeping the lease (the timer runs at once). */
void sender_lease_start(struct sender *s);
/* Held, and not past the local deadline: the pump may send. */
bool sender_lease_held(const struct sender *s);
/* A write fenced at `epoch` said another instance took over: counted, and when `epoch` is the
 * one held (not a late answer from an older term of this process), sending stops at once. */
void sender_lease_lost(struct sender *s, int64_t epoch, const char *why);
/* Stopping: give the lease up (the other instance takes over at once) and stop the timer. */
void sender_lease_release(struct sender *s);
/* Started under an older epoch and still pending: the call may or may not have arrived. */
bool sender_row_in_doubt(const struct sender *s, const struct outbox_row *row);
/* Start a row in doubt: a chat.postMessage is looked for first (conversations.history with
 * its metadata), anything else is sent again. The row is in flight already; 0 or an error. */
int sender_doubt_start(struct sender *s, const struct outbox_row *row);
/* A chat.postMessage body with `metadata` naming its outbox row (caller frees); NULL when the
 * body is not a JSON object. */
char *sender_tag_body(const struct outbox_row *row);

#endif
