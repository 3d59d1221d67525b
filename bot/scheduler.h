/*
 * scheduler.h — runs due jobs (storage/jobs.h) on the bot's clock. One uv timer is armed for
 * the earliest pending due time (converted to real time through the clock's scale, and never
 * more than a minute away, so a clock that jumps is caught up; when the bot's time is the wall
 * clock, a second timer looks every second for a step of more than 2 s, logs
 * `scheduler clock_stepped by_ms=…` and looks for due jobs at once); scheduler_kick re-arms it
 * after anything that may have added a job. Each job runs in its own transaction (cmd_run_jobs).
 * Pruning old rows is not done here but on bot/checkpoint.c's pool thread (storage/retention.h).
 */
#ifndef KX_SCHEDULER_H
#define KX_SCHEDULER_H

#include <stdbool.h>
#include <uv.h>

#include "commands/core/command.h"

struct scheduler;

/* `after_run` is called after a pass that ran jobs (e.g. to kick the sender). */
struct scheduler *scheduler_new(uv_loop_t *loop,
                                struct cmd_ctx *ctx,
                                void (*after_run)(void *arg),
                                void *arg);
void scheduler_start(struct scheduler *s);
/* Several instances (PostgreSQL): `listener`, a connection of its own that the scheduler takes
 * (and closes), hears the jobs other instances add (LISTEN klaxon_jobs) and wakes this one at
 * once; without a notification it still looks every SHARED_SLEEP_MS (scheduler.c). */
void scheduler_listen(struct scheduler *s, struct db *listener);
/* The app's look at the database (app_health.db_down): no job is looked for while it is true. */
void scheduler_watch_db(struct scheduler *s, const bool *db_down);
void scheduler_kick(struct scheduler *s);
void scheduler_stop(struct scheduler *s); /* closes the timer; frees itself when closed */

#endif
