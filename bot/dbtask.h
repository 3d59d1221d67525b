/*
 * dbtask.h — the loop never waits for the database (issue 12).
 *
 * On PostgreSQL, what the loop's callbacks do with the database (a turn's Socket Mode envelopes,
 * an HTTP request, a pass of due jobs, a round of the outbox) runs as a *task* on one database
 * thread. A task holds the loop's turn while it computes, exactly as the callback did, and
 * gives the turn back for as long as it waits for the server (every round trip longer than
 * what is left of 1 ms of holding it, a reconnection): the loop goes on answering sockets,
 * pings and probes meanwhile, and the task takes the turn back (a uv_async_t) when its answer
 * is in. So the bot's code still runs one
 * piece at a time, never two at once, and needs no locks of its own; what changes is that a
 * task's waits are not the loop's.
 *
 * Tasks run one after the other, in the order they were given: the session, its transaction
 * and its prepared statements are the task's until it ends.
 *
 * On SQLite (or with no runner: the CLI, unit tests) dbtask_run() calls the function at once on
 * the calling thread, as before: a local file answers in microseconds.
 *
 * A call on a hooked connection from the loop's thread while a task is between its waits
 * (code not yet made a task) waits for that task to end first, so the two never share the
 * session; every such call, and every round trip the loop's thread makes itself, is counted in
 * klaxon_db_loop_waits_total and the first of each statement logged (dbtask loop_wait).
 */
#ifndef KX_DBTASK_H
#define KX_DBTASK_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct db;
struct dbtasks;

/* Make the process's runner for `db`, a PostgreSQL connection used from `loop` (the app calls
 * it only on PostgreSQL; on SQLite there is none, and tasks run inline). NULL when the thread
 * cannot be made: then calls stay on the loop, bounded as before. */
struct dbtasks *dbtasks_start(uv_loop_t *loop, struct db *db);
/* Another connection used from the loop (the scheduler's listener): its waits give the turn
 * back too, and the loop's calls on it wait for the running task. */
void dbtask_hook(struct db *db);
/* Before closing such a connection. */
void dbtask_unhook(struct db *db);
/* Run fn(arg) as a task. With no runner (SQLite, the CLI, tests), at once on the calling
 * thread. From the loop's thread it begins at once when no task is running (until its first
 * wait for the server the loop waits, as for any callback); otherwise, or from inside a task,
 * it is queued behind the others. fn owns arg. */
void dbtask_run(void (*fn)(void *arg), void *arg);
/* True on the database thread (inside a task). */
bool dbtask_inside(void);
/* True where a database call cannot make the loop wait: inside a task, or with no runner.
 * Code reached both from tasks and from the loop's own callbacks asks this, and from the loop
 * makes itself a task: `if (!dbtask_here()) { dbtask_run(again, arg); return; }`. */
bool dbtask_here(void);
/* At stop, on the loop's thread: run what is queued to its end, the loop's thread waiting for
 * the server itself. Then the thread ends and the hooks are removed. */
void dbtasks_stop(struct dbtasks *t);
/* Round trips the loop's thread waited for since start (klaxon_db_loop_waits_total). */
uint64_t dbtasks_loop_waits(void);

#endif
