/*
 * modules.h — the parts of the bot that join the loop: the Slack transport, Teams, and the
 * HTTP features (alerts, calendars, postmortems, health). Each is one row of app_modules[]
 * (modules.c) and sees the bot only through a struct module_env: the loop, the database, the
 * constant command context, the HTTP server and client, the sender — never struct app, whose
 * fields are app.c's own.
 *
 * Order (app.c): every init (routes registered, state made; env->sender is still NULL), then the
 * sender and scheduler are made, then every start; on SIGTERM every stop (optional: finish what
 * is in flight, then call done exactly once), then every halt (close the module's handles);
 * after the loop has ended, every close. An init or
 * start returning KX_ECONFIG stops the bot with the configuration exit code, after saying why on
 * stderr; any other error with the runtime code.
 */
#ifndef KX_MODULES_H
#define KX_MODULES_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "bot/net/http_client.h"
#include "bot/net/httpd.h"
#include "bot/sender.h"
#include "commands/core/command.h"
#include "commands/core/config.h"

struct app;

/* What the app knows of itself that /healthz reports. */
struct app_health {
  int integrity; /* PRAGMA quick_check: 0 not run yet, 1 ok, -1 failed */
  int64_t integrity_at_ms;
  /* The housekeeping worker's connection did not answer SELECT 1 at its last tick (each
   * second): the database is unavailable (PostgreSQL failing over, say). /healthz answers 503
   * and the Slack module closes its socket until it answers again (docs/ha.md). */
  bool db_down;
  bool db_checked; /* the worker has looked at least once */
};

struct module_env {
  struct app *app; /* opaque: for app_dispatch(), app_stop() and app_stopping() */
  uv_loop_t *loop;
  struct lws_context *lws; /* the server's context (the Slack client has its own) */
  struct httpd *httpd;     /* NULL when http.listen is not set */
  struct http_client *http;
  struct sender *sender; /* NULL during init */
  const struct config *config;
  struct db *db;
  const struct cmd_ctx *ctx; /* constant; cmd_ctx_at() a copy to run something */
  const struct app_health *health;
};

struct module {
  const char *name;
  /* Register routes, make state (*state; may stay NULL when the module is off). */
  int (*init)(const struct module_env *env, void **state);
  int (*start)(void *state);
  /* Stop taking work; call done(arg) once nothing is in flight. */
  void (*stop)(void *state, void (*done)(void *arg), void *arg);
  /* The loop's last turn (every stop done, or the stop deadline passed): close every handle. */
  void (*halt)(void *state);
  void (*close)(void *state);
  /* One word for /healthz ("connected"), NULL when the module has none. */
  const char *(*status)(const void *state);
};

extern const struct module app_modules[];

/* Run a request's handler (one transaction) and wake the sender and the scheduler. */
int app_dispatch(struct app *a, const struct cmd_request *req, struct cmd_reply *reply);
/* Group commit (bot/slack): one transaction around many app_dispatch() calls, each of which
 * then runs in a savepoint. Begin fails (and the caller dispatches each alone) when the
 * database is busy or a transaction is already open. Commit rolls back when it fails: 0 only
 * when committed. */
int app_batch_begin(struct app *a);
int app_batch_commit(struct app *a);
/* Stop with an exit code (a fatal condition says why in the log first). */
void app_stop(struct app *a, int exit_code);
bool app_stopping(const struct app *a);
/* The status word of a module, or NULL when it is off or has none. */
const char *app_module_status(const struct app *a, const char *name);

#endif
