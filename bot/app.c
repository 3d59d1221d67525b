#include "bot/app.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "bot/checkpoint.h"
#include "bot/clock.h"
#include "bot/database.h"
#include "bot/dbtask.h"
#include "bot/modules.h"
#include "bot/scheduler.h"
#include "commands/core/links.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"

#define STOP_DEADLINE_MS 5000
#define APP_MODULES_MAX 16

struct app {
  uv_loop_t loop;
  uv_signal_t sigterm, sigint, sighup;
  uv_timer_t heartbeat;          /* systemd watchdog */
  uv_timer_t stop_deadline;      /* bounds the shutdown */
  struct checkpoint *checkpoint; /* WAL checkpoints and quick_check off the loop */
  struct app_health health;
  struct config *config;
  struct db *db;
  struct dbtasks *tasks; /* PostgreSQL: the database thread (dbtask.h); NULL on SQLite */
  struct cmd_ctx ctx;    /* set once, before any module starts */
  struct lws_context *lws;
  struct httpd *httpd;
  struct http_client *http;
  struct sender *sender;
  struct scheduler *scheduler;
  char *feed_secret; /* commands/core/links.h; owned */
  struct module_env env;
  void *state[APP_MODULES_MAX]; /* app_modules[i]'s */
  size_t n_modules;
  bool stopping;
  int exit_code;
  int pending_stops;
};

static void app_final_stop(struct app *a);

/* ---- what modules may ask ------------------------------------------------------------------- */

int app_dispatch(struct app *a, const struct cmd_request *req, struct cmd_reply *reply)
{
  if (a->health.db_down) {
    /* Known down (the worker's look, each second): answer at once rather than hold the loop
     * for the connect timeout. Slack redelivers what is not acked, to another instance. */
    cmd_reply_printf(reply, "Sorry, I could not reach my database just now; please try again.");
    return KX_EBUSY;
  }
  int rc = cmd_dispatch(&a->ctx, req, reply);
  if (a->sender)
    sender_kick(a->sender);
  if (a->scheduler)
    scheduler_kick(a->scheduler);
  return rc;
}

int app_batch_begin(struct app *a)
{
  if (db_depth(a->ctx.db) != 0)
    return KX_ESTATE;
  return db_begin(a->ctx.db);
}

int app_batch_commit(struct app *a)
{
  int rc = db_commit(a->ctx.db);
  if (rc)
    db_rollback(a->ctx.db);
  return rc;
}

bool app_stopping(const struct app *a)
{
  return a->stopping;
}

const char *app_module_status(const struct app *a, const char *name)
{
  for (size_t i = 0; i < a->n_modules; i++)
    if (strcmp(app_modules[i].name, name) == 0)
      return a->state[i] && app_modules[i].status ? app_modules[i].status(a->state[i]) : NULL;
  return NULL;
}

/* ---- lws: the HTTP server's context -----------------------------------------------------------
 */

/* libwebsockets' own log lines go through ours (warnings and errors only). */
static void lws_log(int level, const char *line)
{
  char q[600];
  size_t n = strlen(line);
  char copy[560];
  snprintf(copy, sizeof(copy), "%.*s", (int)(n && line[n - 1] == '\n' ? n - 1 : n), line);
  if (level & LLL_ERR)
    LOG_ERROR("lws", "log", "line=%s", log_quote(q, sizeof(q), copy));
  else
    LOG_WARN("lws", "log", "line=%s", log_quote(q, sizeof(q), copy));
}

static int lws_setup(struct app *a)
{
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
  void *foreign[1] = {&a->loop};
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                 LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.foreign_loops = foreign;
  info.pcontext = &a->lws;
  info.max_http_header_data = HTTPD_HEADER_MAX;
  /* Header slots are taken by every connection until its headers are in: 64 were held by 64
   * slow clients, starving /healthz and (then sharing this context) the Slack reconnect.
   * HTTPD_HEADER_POOL of them, each released by the vhost's header deadline
   * (HTTPD_HEADER_DEADLINE_S), and a file-descriptor ceiling below the process's, so lws stops
   * accepting before accept() fails with EMFILE. The Slack client has a context of its own. */
  info.max_http_header_pool = HTTPD_HEADER_POOL;
  info.fd_limit_per_thread = HTTPD_FD_LIMIT;
  httpd_raise_fd_limit(); /* before any lws context: each sizes its tables from the limit */
  a->lws = lws_create_context(&info);
  if (!a->lws) {
    fprintf(stderr,
            "klaxon: libwebsockets could not start on libuv; is the package libwebsockets-evlib-uv "
            "installed? (\"unable to load evlib plugin\")\n");
    return KX_EIO;
  }
  if (!a->config->http_listen)
    return 0;
  a->httpd = httpd_new(a->lws, a->config->http_listen);
  if (!a->httpd) {
    fprintf(stderr, "klaxon: cannot listen on %s (in use, or not an address of this host)\n",
            a->config->http_listen);
    return KX_EIO;
  }
  return httpd_set_per_client_max(a->httpd, (size_t)a->config->http_max_connections_per_client);
}

/* ---- signals, heartbeat, shutdown ------------------------------------------------------------ */

static void on_signal(uv_signal_t *s, int signum)
{
  struct app *a = s->data;
  if (signum == SIGHUP) {
    LOG_INFO("app", "sighup", "note=\"config reload needs a restart; ignoring\"");
    return;
  }
  LOG_INFO("app", "stopping", "signal=%d", signum);
  app_stop(a, a->exit_code);
}

static void on_heartbeat(uv_timer_t *t)
{
  (void)t;
#ifdef HAVE_SYSTEMD
  sd_notify(0, "WATCHDOG=1");
#endif
}

static void on_final_stop(uv_timer_t *t)
{
  app_final_stop(t->data);
}

static void part_stopped(void *arg)
{
  struct app *a = arg;
  if (--a->pending_stops != 0)
    return;
  if (dbtask_inside()) /* the last part stopped inside a task: end from the loop's thread */
    uv_timer_start(&a->stop_deadline, on_final_stop, 0, 0);
  else
    app_final_stop(a);
}

static void on_stop_deadline(uv_timer_t *t)
{
  struct app *a = t->data;
  if (a->pending_stops > 0) {
    LOG_WARN("app", "stop_deadline", "waiting_for=%d", a->pending_stops);
    a->pending_stops = 1;
    part_stopped(a);
  }
}

static void on_http_closed(void *arg)
{
  (void)arg;
}

static void close_if_open(uv_handle_t *h)
{
  if (h->loop && !uv_is_closing(h))
    uv_close(h, NULL);
}

static void close_on_walk(uv_handle_t *h, void *arg)
{
  (void)arg;
  close_if_open(h);
}

/* Every part has stopped (or the deadline passed): close every handle so uv_run returns. */
static void app_final_stop(struct app *a)
{
  /* What is queued for the database runs to its end first (the loop's thread waiting for the
   * server itself now), while everything it may touch still stands; from here on calls run
   * where they are made. */
  dbtasks_stop(a->tasks);
  a->tasks = NULL;
  /* First end every HTTP call still in flight (a stop deadline may have passed): their
   * callbacks run now, into a sender and modules that are stopping but not yet freed. */
  if (a->http) {
    http_client_close(a->http, on_http_closed, a);
    a->http = NULL;
  }
  if (a->sender) {
    sender_free(a->sender);
    a->sender = NULL;
    a->env.sender = NULL;
  }
  for (size_t i = 0; i < a->n_modules; i++)
    if (a->state[i] && app_modules[i].halt)
      app_modules[i].halt(a->state[i]);
  close_if_open((uv_handle_t *)&a->sigterm);
  close_if_open((uv_handle_t *)&a->sigint);
  close_if_open((uv_handle_t *)&a->sighup);
  close_if_open((uv_handle_t *)&a->heartbeat);
  checkpoint_stop(a->checkpoint);
  if (a->stop_deadline.loop)
    uv_timer_stop(&a->stop_deadline);
  close_if_open((uv_handle_t *)&a->stop_deadline);
  /* First of lws's two destroys: starts closing its handles inside the running loop. */
  if (a->lws)
    lws_context_destroy(a->lws);
}

/* The operator's rows are written, then the sender drains them and stops: one database task
 * (bot/dbtask.h), so the rows are there before the stop looks for them. */
static void tell_then_stop_sender(void *arg)
{
  struct app *a = arg;
  sender_tell_operator(a->sender, "slack", "link_disabled");
  sender_stop(a->sender, part_stopped, a);
}

void app_stop(struct app *a, int exit_code)
{
  if (a->stopping)
    return;
  a->stopping = true;
  a->exit_code = exit_code;
#ifdef HAVE_SYSTEMD
  sd_notify(0, "STOPPING=1");
#endif
  if (a->scheduler) {
    scheduler_stop(a->scheduler);
    a->scheduler = NULL;
  }
  a->pending_stops = 1; /* this function's own share */
  for (size_t i = 0; i < a->n_modules; i++) {
    if (a->state[i] && app_modules[i].stop) {
      a->pending_stops++;
      app_modules[i].stop(a->state[i], part_stopped, a);
    }
  }
  if (a->sender) {
    a->pending_stops++;
    if (exit_code == APP_EXIT_SLACK_DISABLED) /* tell the operator before going (issue 15) */
      dbtask_run(tell_then_stop_sender, a);
    else
      sender_stop(a->sender, part_stopped, a);
  }
  uv_timer_start(&a->stop_deadline, on_stop_deadline, STOP_DEADLINE_MS, 0);
  part_stopped(a);
}

static void on_walk(uv_handle_t *h, void *arg)
{
  (void)arg;
  LOG_WARN("app", "handle_still_open", "type=%s closing=%d", uv_handle_type_name(h->type),
           uv_is_closing(h));
}

/* ---- start ---------------------------------------------------------------------------------- */

static void on_sender_wake(void *arg)
{
  struct app *a = arg;
  if (a->sender)
    sender_kick(a->sender);
}

/* A hook may have scheduled a job (a retry, a reminder): the scheduler looks again. */
static void on_hook_ran(void *arg)
{
  struct app *a = arg;
  if (a->scheduler)
    scheduler_kick(a->scheduler);
}

static int exit_code_of(int rc)
{
  return rc == KX_ECONFIG ? APP_EXIT_CONFIG : APP_EXIT_RUNTIME;
}

static int start(struct app *a)
{
  if (lws_setup(a))
    return APP_EXIT_RUNTIME;
  a->http = http_client_new(&a->loop);
  if (!a->http)
    return APP_EXIT_RUNTIME;
  a->env = (struct module_env){.app = a,
                               .loop = &a->loop,
                               .lws = a->lws,
                               .httpd = a->httpd,
                               .http = a->http,
                               .config = a->config,
                               .db = a->db,
                               .ctx = &a->ctx,
                               .health = &a->health};
  for (; app_modules[a->n_modules].name; a->n_modules++) {
    const struct module *m = &app_modules[a->n_modules];
    if (a->n_modules == APP_MODULES_MAX)
      return APP_EXIT_RUNTIME;
    int rc = m->init(&a->env, &a->state[a->n_modules]);
    if (rc) {
      LOG_ERROR("app", "module_failed", "module=%s step=init err=%s", m->name, kx_err_name(rc));
      a->n_modules++; /* its state, if any, is closed with the others */
      return exit_code_of(rc);
    }
  }
  a->sender = sender_new(&a->loop, &a->ctx, a->http);
  a->scheduler = scheduler_new(&a->loop, &a->ctx, on_sender_wake, a);
  if (!a->sender || !a->scheduler)
    return APP_EXIT_RUNTIME;
  a->env.sender = a->sender;
  sender_watch_db(a->sender, &a->health.db_down);
  scheduler_watch_db(a->scheduler, &a->health.db_down);
  sender_on_hook(a->sender, on_hook_ran, a);
  /* Start-up tasks run before any module can deliver a request (the sockets connect later). */
  if (cmd_startup(&a->ctx, clock_now_ms()) != 0)
    return APP_EXIT_STORAGE;
  for (size_t i = 0; i < a->n_modules; i++) {
    int rc = app_modules[i].start && a->state[i] ? app_modules[i].start(a->state[i]) : 0;
    if (rc) {
      LOG_ERROR("app", "module_failed", "module=%s step=start err=%s", app_modules[i].name,
                kx_err_name(rc));
      return exit_code_of(rc);
    }
  }
  scheduler_start(a->scheduler);
  if (a->config->storage_postgres) {
    /* Other instances add jobs too: a connection of the scheduler's own hears them. */
    char where[200];
    int err = 0;
    struct db *listener = database_open(a->config, 0, &err, where, sizeof(where));
    if (!listener)
      LOG_WARN("scheduler", "no_listener", "err=%s note=\"polling for other instances' jobs\"",
               kx_err_name(err));
    scheduler_listen(a->scheduler, listener);
    /* From here the loop's database work runs as tasks on a thread of its own (dbtask.h). */
    a->tasks = dbtasks_start(&a->loop, a->db);
    dbtask_hook(listener);
  }
  sender_kick(a->sender);
  return 0;
}

/* The loop and its own handles; a libuv error here is fatal (said on stderr and in the log). */
static int loop_setup(struct app *a)
{
  int rc = uv_loop_init(&a->loop);
  const char *step = "uv_loop_init";
  if (rc == 0) {
    uv_handle_t *timers[] = {(uv_handle_t *)&a->heartbeat, (uv_handle_t *)&a->stop_deadline};
    for (size_t i = 0; i < KX_ARRAY_SIZE(timers) && rc == 0; i++) {
      rc = uv_timer_init(&a->loop, (uv_timer_t *)timers[i]);
      timers[i]->data = a;
    }
    step = "uv_timer_init";
  }
  struct {
    uv_signal_t *h;
    int signum;
  } sigs[] = {{&a->sigterm, SIGTERM}, {&a->sigint, SIGINT}, {&a->sighup, SIGHUP}};
  for (size_t i = 0; i < KX_ARRAY_SIZE(sigs) && rc == 0; i++) {
    step = "uv_signal_init";
    rc = uv_signal_init(&a->loop, sigs[i].h);
    sigs[i].h->data = a;
    if (rc == 0) {
      step = "uv_signal_start";
      rc = uv_signal_start(sigs[i].h, on_signal, sigs[i].signum);
    }
  }
  if (rc) {
    fprintf(stderr, "klaxon: libuv could not start (%s: %s)\n", step, uv_strerror(rc));
    LOG_ERROR("app", "loop_failed", "step=%s err=%s", step, uv_err_name(rc));
  }
  return rc;
}

static int open_database(struct app *a)
{
  char where[200];
  int err = 0;
  a->db = database_open(a->config, 0, &err, where, sizeof(where));
  if (!a->db) {
    fprintf(stderr, "klaxon: cannot open the database %s (%s)\n", where, kx_strerror(err));
    return err ? err : KX_EIO;
  }
  /* The loop never waits seconds for a lock another process holds (a backup, an operator's
   * sqlite3, another instance on PostgreSQL): a transaction that cannot start within
   * APP_DB_BUSY_MS fails; Slack delivers an unacked event again, and a command is answered
   * "try again". */
  db_busy_timeout(a->db, APP_DB_BUSY_MS);
  /* Housekeeping has a connection of its own, off the loop: SQLite's WAL checkpointer, or a
   * second PostgreSQL session (retention and the health check). */
  const char *file = database_file(a->config);
  struct db *own = NULL;
  if (!file)
    own = database_open(a->config, 0, &err, where, sizeof(where));
  else if (strcmp(file, ":memory:") != 0)
    own = db_open_checkpointer(file, &err);
  if (!own && (!file || strcmp(file, ":memory:") != 0))
    LOG_WARN("db", "checkpointer_unavailable", "err=%s", kx_err_name(err));
  a->checkpoint = own ? checkpoint_new(a->db, own, &a->health) : NULL;
  checkpoint_set_retention(a->checkpoint, a->config->storage_retention_ms);
  a->ctx.db = a->db;
  a->ctx.config = a->config;
  a->ctx.public_url = a->config->public_url;
  a->feed_secret = links_feed_secret(a->db, a->config, true);
  a->ctx.feed_secret = a->feed_secret;
  return 0;
}

static void describe_metrics(void)
{
  static const double dispatch_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005,
                                            0.01,   0.025,   0.05,   0.1,   0.5};
  metrics_histogram("klaxon_dispatch_seconds",
                    "Time to run one request's handler and commit its transaction",
                    dispatch_buckets, KX_ARRAY_SIZE(dispatch_buckets));
  metrics_describe("klaxon_build_info", METRIC_GAUGE, "Always 1; the version is a label");
  metrics_set("klaxon_build_info", "version=\"" KLAXON_VERSION "\"", 1);
}

int app_run(struct config *config)
{
  struct app *a = calloc(1, sizeof(*a));
  if (!a)
    return APP_EXIT_RUNTIME;
  a->config = config;
  describe_metrics();
  if (open_database(a) != 0) {
    free(a);
    return APP_EXIT_STORAGE;
  }
  if (loop_setup(a) != 0) {
    /* Nothing runs yet: close what was opened and leave. */
    uv_walk(&a->loop, close_on_walk, NULL);
    (void)uv_run(&a->loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&a->loop);
    checkpoint_free(a->checkpoint);
    db_close(a->db);
    free(a->feed_secret);
    free(a);
    return APP_EXIT_RUNTIME;
  }
  if (a->checkpoint && checkpoint_start(a->checkpoint, &a->loop) != 0)
    LOG_WARN("db", "checkpoint_timer_failed", "note=\"SQLite checkpoints on its own\"");
  uv_timer_start(&a->heartbeat, on_heartbeat, 1000, 1000);
  /* A peer closing mid-write must not kill the pager: errors come back as EPIPE instead. */
  (void)signal(SIGPIPE, SIG_IGN);
  int code = start(a);
  if (code) {
    app_stop(a, code);
  } else {
    LOG_INFO("app", "started", "version=%s clock_scale=%g", KLAXON_VERSION, clock_scale());
#ifdef HAVE_SYSTEMD
    sd_notify(0, "READY=1");
#endif
  }
  uv_run(&a->loop, UV_RUN_DEFAULT);
  /* Second lws destroy, after the loop has closed its handles: frees the context. */
  if (a->lws)
    lws_context_destroy(a->lws);
  if (a->httpd)
    httpd_free(a->httpd);
  for (size_t i = 0; i < a->n_modules; i++)
    if (app_modules[i].close)
      app_modules[i].close(a->state[i]);
  int closed = uv_loop_close(&a->loop);
  if (closed != 0) {
    uv_walk(&a->loop, on_walk, NULL);
    LOG_WARN("app", "loop_not_closed", "err=%s", uv_err_name(closed));
  }
  /* Flush: fold the WAL back into the database before exiting. */
  if (db_checkpoint(a->db, true) != 0)
    LOG_WARN("db", "final_checkpoint_failed", "path=%s", db_path(a->db));
  checkpoint_free(a->checkpoint);
  db_close(a->db);
  free(a->feed_secret);
  code = a->exit_code;
  LOG_INFO("app", "stopped", "exit_code=%d", code);
  free(a);
  return code;
}
