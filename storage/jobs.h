/*
 * jobs.h — everything that must happen at a time: escalation steps, status-update reminders,
 * the Monday handoff, postmortem reminders. Each job has a `kind` (which handler runs it, see
 * commands/), a unique `key` (so scheduling the same thing twice is a no-op), a due time on the
 * bot's clock, and a `ref` argument. Due times live here, not in memory, so a job that fell due
 * while the bot was down runs when it comes back, once: the scheduler marks it done in the same
 * transaction as the job's effects.
 * Strings in struct job are owned by it; jobs_free releases an array from jobs_due.
 */
#ifndef KX_JOBS_H
#define KX_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

struct job {
  int64_t id;
  char *kind;
  char *key;
  int64_t due_at;
  char *ref;
  int64_t created_at;
};

/* Insert unless a job with this key exists (in any state): KX_EEXISTS then. */
/* The notification channel a new or moved job is announced on (db_notify): the other
 * instances' schedulers wake and look again (bot/scheduler.c). */
#define JOBS_CHANNEL "klaxon_jobs"

int jobs_schedule(struct db *db,
                  const char *kind,
                  const char *key,
                  int64_t due_at,
                  const char *ref,
                  int64_t now_ms);
/* Move a pending job, or insert it when there is none (a done job with the key is revived). */
int jobs_upsert(struct db *db,
                const char *kind,
                const char *key,
                int64_t due_at,
                const char *ref,
                int64_t now_ms);
/* Cancel pending jobs whose key starts with prefix ("page:42:"); returns how many or < 0. */
int jobs_cancel_prefix(struct db *db, const char *key_prefix, int64_t now_ms);
int jobs_cancel(struct db *db, const char *key, int64_t now_ms);
/* Pending jobs due at or before now, oldest first, at most limit. */
int jobs_due(struct db *db, int64_t now_ms, size_t limit, struct job **out, size_t *n);
/* Claim a due job for this run: mark it done, inside the transaction that runs it and before
 * any of its effects. KX_ENOTFOUND when it is not pending any more: another instance claimed it
 * (or it was cancelled) since jobs_due() listed it, or is running it right now (PostgreSQL's
 * FOR UPDATE SKIP LOCKED: no waiting for the other's commit), and the caller must not run it. */
int jobs_claim(struct db *db, int64_t id, int64_t now_ms);
/* Move a pending job to due_at (a failed run's retry); a job no longer pending stays as it is
 * (0 either way). */
int jobs_retry_later(struct db *db, int64_t id, int64_t due_at);
/* The earliest pending due time, or INT64_MAX when there is none. */
int64_t jobs_next_due(struct db *db);
/* Is a job with this key pending? 1/0, or < 0 on error. */
int jobs_pending(struct db *db, const char *key);
int jobs_get(struct db *db, const char *key, struct job *out, int *state_done);
void jobs_free(struct job *jobs, size_t n);
void job_clear(struct job *job);

#endif
