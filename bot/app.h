/*
 * app.h — the running bot: one libuv loop owning every handle (signals, the libwebsockets
 * context with the HTTP server and the Socket Mode client, curl's multi interface, the sender,
 * the scheduler). app_run is the only caller of uv_run. Shutdown is bounded: SIGTERM/SIGINT
 * close the sockets, let in-flight Web API calls finish (or time out), flush the database,
 * destroy lws in its two steps, and return 0 with uv_loop_close() == 0.
 *
 * Transports call app_dispatch() with a neutral request: it runs the handler (one
 * transaction), then kicks the sender and the scheduler. Transport modules that serve HTTP
 * routes register them in app_routes (app.c) — one line per module.
 */
#ifndef KX_APP_H
#define KX_APP_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <uv.h>

#include "bot/net/http_client.h"
#include "bot/net/httpd.h"
#include "bot/scheduler.h"
#include "bot/sender.h"
#include "bot/slack/slack_api.h"
#include "bot/slack/slack_socket.h"
#include "commands/core/command.h"
#include "commands/core/config.h"

struct app {
  uv_loop_t loop;
  uv_signal_t sigterm, sigint, sighup;
  uv_timer_t heartbeat;     /* systemd watchdog and gauges */
  uv_timer_t stop_deadline; /* bounds the shutdown */
  uv_timer_t checkpoint_timer;
  uv_work_t checkpoint_work;
  struct db *checkpointer; /* a second connection, used only from the worker thread */
  bool checkpoint_running;
  /* PRAGMA quick_check, run with the checkpoint on the pool thread every
   * APP_INTEGRITY_EVERY_MS; /healthz reports the cached result (0 not yet, 1 ok, -1 failed). */
  bool integrity_due;
  int integrity_result; /* written by the pool thread, read in checkpoint_done */
  int integrity;
  int64_t integrity_at_ms;
  int64_t integrity_next_mono_ms;
  struct config *config;
  struct db *db;
  struct cmd_ctx ctx;
  struct lws_context *lws;
  struct lws_vhost *client_vhost;
  struct httpd *httpd;
  struct http_client *http;
  struct slack_api *slack;
  struct slack_socket *socket;
  struct sender *sender;
  struct scheduler *scheduler;
  char *feed_secret; /* commands/core/links.h; owned */
  char bot_user[32];
  char bot_id[32];
  char team_id[32];
  bool slack_enabled;
  bool stopping;
  int exit_code;
  int pending_stops;
  void *teams; /* the Teams transport, when configured (bot/teams.c) */
};

/* Run the bot with a loaded config until a signal or a fatal error. Returns the exit code. */
int app_run(struct config *config);
/* Dispatch one request and wake the sender and scheduler. See cmd_dispatch for the result. */
int app_dispatch(struct app *a, const struct cmd_request *req, struct cmd_reply *reply);
/* Stop with an exit code (a fatal condition says why in the log first). */
void app_stop(struct app *a, int exit_code);
/* Render a reply's markup as Slack mrkdwn (people resolved). Caller frees. */
char *app_reply_mrkdwn(struct app *a, const struct cmd_reply *reply);

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
