/*
 * app.h — the running bot: one libuv loop owning every handle (signals, the libwebsockets
 * context with the HTTP server and the Socket Mode client, curl's multi interface, the sender,
 * the scheduler). app_run is the only caller of uv_run. Shutdown is bounded: SIGTERM/SIGINT
 * close the sockets, let in-flight Web API calls finish (or time out), flush the database,
 * destroy lws in its two steps, and return 0 with uv_loop_close() == 0.
 *
 * Everything else joins as a module (bot/modules.h: Slack, Teams, the HTTP features), which
 * sees the bot through a narrow struct module_env; struct app is app.c's own.
 */
#ifndef KX_APP_H
#define KX_APP_H

struct config;

/* Run the bot with a loaded config until a signal or a fatal error. Returns the exit code. */
int app_run(struct config *config);

#define APP_INTEGRITY_EVERY_MS (5 * 60 * 1000)
/* The longest the loop waits for a database lock held by another process. */
#define APP_DB_BUSY_MS 200

/* Exit codes (documented in the README). */
enum app_exit {
  APP_EXIT_OK = 0,
  APP_EXIT_USAGE = 2,
  APP_EXIT_CONFIG = 3,
  APP_EXIT_STORAGE = 4,
  APP_EXIT_SLACK_AUTH = 5,     /* Slack refused a token */
  APP_EXIT_SLACK_DISABLED = 6, /* link_disabled */
  APP_EXIT_RUNTIME = 7         /* lws/libuv could not start (e.g. cannot listen) */
};

#endif
