#include "bot/app.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "bot/clock.h"
#include "bot/web/routes.h"
#include "commands/core/links.h"
#include "commands/core/people.h"
#include "commands/core/render_slack.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "storage/outbox.h"
#include "storage/seen.h"

#define DEFAULT_SLACK_API_URL "https://slack.com/api/"
#define STOP_DEADLINE_MS 5000
#define AUTH_RETRY_MS 5000

static void app_final_stop(struct app *a);

/* ---- dispatch ------------------------------------------------------------------------------- */

int app_dispatch(struct app *a, const struct cmd_request *req, struct cmd_reply *reply)
{
  a->ctx.slack_bot_user = a->bot_user[0] ? a->bot_user : NULL;
  a->ctx.slack_bot_id = a->bot_id[0] ? a->bot_id : NULL;
  int rc = cmd_dispatch(&a->ctx, req, reply);
  if (a->sender)
    sender_kick(a->sender);
  if (a->scheduler)
    scheduler_kick(a->scheduler);
  return rc;
}

char *app_reply_mrkdwn(struct app *a, const struct cmd_reply *reply)
{
  struct cmd_people pp;
  cmd_people_open(&pp, &a->ctx);
  char *text = render_slack_mrkdwn(reply->text.data ? reply->text.data : "", &pp.rp, 3000);
  cmd_people_close(&pp);
  return text;
}

static void on_response_url_sent(void *arg, const struct slack_result *r)
{
  (void)arg;
  if (r->err)
    LOG_WARN("slack", "response_url_failed", "error=%s", r->error ? r->error : "-");
}

/* The ack frame: {"envelope_id": …} plus the reply as payload where Slack accepts one. */
static char *ack_frame(struct app *a,
                       const struct slack_frame *f,
                       const struct cmd_request *req,
                       const struct cmd_reply *reply)
{
  cJSON *ack = cJSON_CreateObject();
  if (!ack)
    return NULL;
  cJSON_AddStringToObject(ack, "envelope_id", f->envelope_id);
  bool has_text = reply->text.len > 0;
  if (f->accepts_response_payload && req->kind == CMD_KIND_VIEW_SUBMISSION &&
      reply->view_response) {
    cJSON_AddItemToObject(ack, "payload", cJSON_Duplicate(reply->view_response, 1));
  } else if (f->accepts_response_payload && req->kind == CMD_KIND_COMMAND &&
             (has_text || reply->blocks)) {
    cJSON *payload = cJSON_AddObjectToObject(ack, "payload");
    char *text = app_reply_mrkdwn(a, reply);
    cJSON_AddStringToObject(payload, "text", text ? text : "");
    free(text);
    cJSON_AddStringToObject(payload, "response_type",
                            reply->in_channel ? "in_channel" : "ephemeral");
    if (reply->blocks)
      cJSON_AddItemToObject(payload, "blocks", cJSON_Duplicate(reply->blocks, 1));
  } else if (has_text && req->kind == CMD_KIND_COMMAND && !req->response_url && a->slack &&
             req->channel && req->user) {
    /* "@klaxon incident …" arrives as an event, which has no response_url: answer the asker
     * with an ephemeral message, at once. */
    cJSON *body = cJSON_CreateObject();
    char *text = app_reply_mrkdwn(a, reply);
    cJSON_AddStringToObject(body, "channel", req->channel);
    cJSON_AddStringToObject(body, "user", req->user);
    cJSON_AddStringToObject(body, "text", text ? text : "");
    free(text);
    char *json = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (json)
      slack_api_call(a->slack, "chat.postEphemeral", SLACK_TOKEN_BOT, json, on_response_url_sent,
                     NULL);
    free(json);
  } else if (has_text && req->response_url && a->slack) {
    /* Buttons: the answer goes to the response_url, at once (it is an answer, not state). */
    cJSON *body = cJSON_CreateObject();
    char *text = app_reply_mrkdwn(a, reply);
    cJSON_AddStringToObject(body, "text", text ? text : "");
    free(text);
    cJSON_AddStringToObject(body, "response_type", reply->in_channel ? "in_channel" : "ephemeral");
    cJSON_AddBoolToObject(body, "replace_original", 0);
    char *json = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (json)
      slack_api_response_url(a->slack, req->response_url, json, on_response_url_sent, NULL);
    free(json);
  }
  char *text = cJSON_PrintUnformatted(ack);
  cJSON_Delete(ack);
  return text;
}

static char *on_envelope(void *arg, const struct slack_frame *f)
{
  struct app *a = arg;
  struct cmd_request req;
  struct slack_req_strings strs;
  struct slack_self self = {a->bot_user[0] ? a->bot_user : NULL, a->bot_id[0] ? a->bot_id : NULL};
  int64_t now = clock_now_ms();
  int rc = slack_envelope_request(f, &self, now, &req, &strs);
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  bool send_ack = true;
  if (rc == 0) {
    uint64_t t0 = clock_mono_us();
    rc = app_dispatch(a, &req, &reply);
    metrics_observe("klaxon_dispatch_seconds", "", (double)(clock_mono_us() - t0) / 1e6);
    if (rc == KX_EEXISTS) {
      LOG_INFO("slack", "redelivery_ignored", "envelope=%s retry_attempt=%d", f->envelope_id,
               f->retry_attempt);
    } else if (rc < 0 && strcmp(f->type_name, "events_api") == 0) {
      /* Not committed: no ack, so Slack delivers it again. */
      send_ack = false;
    }
  } else if (rc == KX_EPROTO) {
    LOG_WARN("slack", "envelope_malformed", "type=%s envelope=%s", f->type_name,
             f->envelope_id ? f->envelope_id : "-");
  } else {
    LOG_DEBUG("slack", "envelope_ignored", "type=%s", f->type_name);
  }
  char *ack = (send_ack && f->envelope_id) ? ack_frame(a, f, &req, &reply) : NULL;
  cmd_reply_free(&reply);
  return ack;
}

static void on_socket_state(void *arg, bool connected)
{
  struct app *a = arg;
#ifdef HAVE_SYSTEMD
  sd_notifyf(0, "STATUS=Slack %s", connected ? "connected" : "disconnected");
#endif
  (void)a;
  (void)connected;
}

static void on_socket_fatal(void *arg, const char *sentence)
{
  struct app *a = arg;
  char q[600];
  LOG_ERROR("slack", "fatal", "reason=%s", log_quote(q, sizeof(q), sentence));
  fprintf(stderr, "klaxon: %s\n", sentence);
  app_stop(a, strstr(sentence, "link_disabled") ? APP_EXIT_SLACK_DISABLED : APP_EXIT_SLACK_AUTH);
}

/* ---- Slack start-up ------------------------------------------------------------------------- */

static void auth_test(struct app *a);

static void on_auth_retry(uv_timer_t *t)
{
  struct app *a = t->data;
  uv_close((uv_handle_t *)t, (uv_close_cb)free);
  if (!a->stopping)
    auth_test(a);
}

static void on_auth_test(void *arg, const struct slack_result *r)
{
  struct app *a = arg;
  if (a->stopping)
    return;
  if (r->err == 0) {
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(r->json, "user_id");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(r->json, "bot_id");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r->json, "team_id");
    if (cJSON_IsString(u))
      snprintf(a->bot_user, sizeof(a->bot_user), "%s", u->valuestring);
    if (cJSON_IsString(b))
      snprintf(a->bot_id, sizeof(a->bot_id), "%s", b->valuestring);
    if (cJSON_IsString(t))
      snprintf(a->team_id, sizeof(a->team_id), "%s", t->valuestring);
    LOG_INFO("slack", "authenticated", "bot_user=%s bot_id=%s team=%s", a->bot_user, a->bot_id,
             a->team_id);
    return;
  }
  if (r->error && slack_error_fatal_auth(r->error)) {
    char sentence[256];
    snprintf(sentence, sizeof(sentence),
             "Slack refused the bot token (auth.test: %s); check SLACK_BOT_TOKEN (xoxb-…)",
             r->error);
    on_socket_fatal(a, sentence);
    return;
  }
  LOG_WARN("slack", "auth_test_failed", "error=%s", r->error ? r->error : "-");
  uv_timer_t *t = calloc(1, sizeof(*t));
  if (!t)
    return;
  uv_timer_init(&a->loop, t);
  t->data = a;
  uv_timer_start(t, on_auth_retry, AUTH_RETRY_MS, 0);
}

static void auth_test(struct app *a)
{
  if (slack_api_call(a->slack, "auth.test", SLACK_TOKEN_BOT, "{}", on_auth_test, a) != 0)
    LOG_ERROR("slack", "auth_test_not_sent", "method=auth.test");
}

static int check_token(const char *env, const char *value, const char *prefix)
{
  if (strncmp(value, prefix, strlen(prefix)) != 0) {
    fprintf(stderr, "klaxon: %s does not look like a Slack %s… token\n", env, prefix);
    LOG_ERROR("slack", "bad_token_format", "env=%s expected_prefix=%s", env, prefix);
    return KX_ECONFIG;
  }
  return 0;
}

static int slack_setup(struct app *a)
{
  const char *app_env =
      a->config->slack.app_token_env ? a->config->slack.app_token_env : "SLACK_APP_TOKEN";
  const char *bot_env =
      a->config->slack.bot_token_env ? a->config->slack.bot_token_env : "SLACK_BOT_TOKEN";
  const char *app_token = getenv(app_env);
  const char *bot_token = getenv(bot_env);
  if ((!app_token || !*app_token) && (!bot_token || !*bot_token)) {
    LOG_WARN("slack", "disabled", "reason=\"%s and %s are not set\"", app_env, bot_env);
    return 0;
  }
  if (!app_token || !*app_token || !bot_token || !*bot_token) {
    fprintf(stderr, "klaxon: Slack needs both %s (xapp-…) and %s (xoxb-…)\n", app_env, bot_env);
    return KX_ECONFIG;
  }
  if (check_token(app_env, app_token, "xapp-") || check_token(bot_env, bot_token, "xoxb-"))
    return KX_ECONFIG;
  const char *base = getenv("KLAXON_SLACK_API_URL");
  if (!base || !*base)
    base = DEFAULT_SLACK_API_URL;
  a->slack = slack_api_new(a->http, base, bot_token, app_token);
  if (!a->slack)
    return KX_ENOMEM;
  struct slack_socket_opts opts = {
      .ping_interval_ms = (uint64_t)a->config->slack.ping_interval_ms,
      .pong_timeout_ms = (uint64_t)a->config->slack.pong_timeout_ms,
  };
  struct slack_socket_cbs cbs = {on_envelope, on_socket_state, on_socket_fatal, a};
  a->socket = slack_socket_new(&a->loop, a->lws, a->client_vhost, a->slack, &opts, &cbs);
  if (!a->socket)
    return KX_ENOMEM;
  a->slack_enabled = true;
  return 0;
}

static int http_setup(struct app *a)
{
  if (!a->config->http_listen)
    return 0;
  a->httpd = httpd_new(a->lws, a->config->http_listen);
  if (!a->httpd) {
    fprintf(stderr, "klaxon: cannot listen on %s (in use, or not an address of this host)\n",
            a->config->http_listen);
    return KX_EIO;
  }
  int limit_rc =
      httpd_set_per_client_max(a->httpd, (size_t)a->config->http_max_connections_per_client);
  if (limit_rc)
    return limit_rc;
  for (const struct app_route_module *m = app_route_modules; m->name; m++) {
    int rc = m->init(a);
    if (rc) {
      LOG_ERROR("app", "module_failed", "module=%s err=%s", m->name, kx_err_name(rc));
      return rc;
    }
  }
  return 0;
}

/* ---- lws --------------------------------------------------------------------------------------
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
  static const struct lws_protocols client_protocols[] = {
      {"klaxon-slack", NULL, 0, 0, 0, NULL, 0},
      {NULL, NULL, 0, 0, 0, NULL, 0},
  };
  static struct lws_protocols client_list[2];
  client_list[0] = slack_socket_protocol;
  client_list[1] = client_protocols[1];
  void *foreign[1] = {&a->loop};
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                 LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.foreign_loops = foreign;
  info.pcontext = &a->lws;
  info.max_http_header_data = HTTPD_HEADER_MAX;
  /* Header slots are taken by every connection until its headers are in: 64 were held by 64
   * slow clients, starving /healthz and the Slack reconnect. HTTPD_HEADER_POOL of them, each
   * released by the vhost's header deadline (HTTPD_HEADER_DEADLINE_S), and a file-descriptor
   * ceiling below the process's, so lws stops accepting before accept() fails with EMFILE. */
  info.max_http_header_pool = HTTPD_HEADER_POOL;
  info.fd_limit_per_thread = HTTPD_FD_LIMIT;
  httpd_raise_fd_limit();
  a->lws = lws_create_context(&info);
  if (!a->lws) {
    fprintf(stderr,
            "klaxon: libwebsockets could not start on libuv; is the package libwebsockets-evlib-uv "
            "installed? (\"unable to load evlib plugin\")\n");
    return KX_EIO;
  }
  struct lws_context_creation_info v;
  memset(&v, 0, sizeof(v));
  v.vhost_name = "klaxon-client";
  v.port = CONTEXT_PORT_NO_LISTEN;
  v.protocols = client_list;
  v.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  v.client_ssl_ca_filepath = getenv("KLAXON_CA_FILE");
  a->client_vhost = lws_create_vhost(a->lws, &v);
  if (!a->client_vhost) {
    fprintf(stderr, "klaxon: libwebsockets could not create its client\n");
    return KX_EIO;
  }
  return 0;
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

/* ---- WAL checkpoints in the thread pool ------------------------------------------------------ */

#define CHECKPOINT_EVERY_MS 1000

static void checkpoint_work(uv_work_t *w)
{
  struct app *a = w->data;
  /* Runs on a libuv pool thread with its own connection: the loop never waits for fsync, nor
   * for the integrity check, which reads the whole database. */
  (void)db_checkpoint(a->checkpointer, false);
  if (a->integrity_due)
    a->integrity_result = db_check(a->checkpointer) == 0 ? 1 : -1;
}

static void checkpoint_done(uv_work_t *w, int status)
{
  struct app *a = w->data;
  (void)status;
  a->checkpoint_running = false;
  if (a->integrity_due) {
    a->integrity = a->integrity_result;
    a->integrity_at_ms = clock_now_ms();
    a->integrity_due = false;
    if (a->integrity < 0)
      LOG_ERROR("db", "integrity_failed", "check=quick_check");
  }
}

static void on_checkpoint_timer(uv_timer_t *t)
{
  struct app *a = t->data;
  if (a->checkpoint_running || !a->checkpointer || a->stopping)
    return;
  a->checkpoint_running = true;
  a->integrity_due = (int64_t)clock_mono_ms() >= a->integrity_next_mono_ms;
  if (a->integrity_due)
    a->integrity_next_mono_ms = (int64_t)clock_mono_ms() + APP_INTEGRITY_EVERY_MS;
  a->checkpoint_work.data = a;
  if (uv_queue_work(&a->loop, &a->checkpoint_work, checkpoint_work, checkpoint_done) != 0)
    a->checkpoint_running = false;
}

static void on_heartbeat(uv_timer_t *t)
{
  struct app *a = t->data;
  (void)a;
#ifdef HAVE_SYSTEMD
  sd_notify(0, "WATCHDOG=1");
#endif
}

static void part_stopped(void *arg)
{
  struct app *a = arg;
  if (--a->pending_stops == 0)
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
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void app_final_stop(struct app *a)
{
  if (a->sender) {
    sender_free(a->sender);
    a->sender = NULL;
  }
  if (a->socket) {
    slack_socket_free(a->socket);
    a->socket = NULL;
  }
  if (a->http) {
    http_client_close(a->http, on_http_closed, a);
    a->http = NULL;
  }
  close_if_open((uv_handle_t *)&a->sigterm);
  close_if_open((uv_handle_t *)&a->sigint);
  close_if_open((uv_handle_t *)&a->sighup);
  close_if_open((uv_handle_t *)&a->heartbeat);
  close_if_open((uv_handle_t *)&a->checkpoint_timer);
  uv_timer_stop(&a->stop_deadline);
  close_if_open((uv_handle_t *)&a->stop_deadline);
  /* First of lws's two destroys: starts closing its handles inside the running loop. */
  if (a->lws)
    lws_context_destroy(a->lws);
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
  if (a->socket) {
    a->pending_stops++;
    slack_socket_stop(a->socket, part_stopped, a);
  }
  if (a->sender) {
    a->pending_stops++;
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

static int start(struct app *a)
{
  int rc = lws_setup(a);
  if (rc)
    return APP_EXIT_RUNTIME;
  a->http = http_client_new(&a->loop);
  if (!a->http)
    return APP_EXIT_RUNTIME;
  rc = slack_setup(a);
  if (rc)
    return APP_EXIT_CONFIG;
  rc = http_setup(a);
  if (rc)
    return rc == KX_ECONFIG ? APP_EXIT_CONFIG : APP_EXIT_RUNTIME;
  a->sender = sender_new(&a->loop, &a->ctx, a->slack, a->http);
  a->scheduler = scheduler_new(&a->loop, &a->ctx, on_sender_wake, a);
  if (!a->sender || !a->scheduler)
    return APP_EXIT_RUNTIME;
  sender_on_hook(a->sender, on_hook_ran, a);
  for (const struct app_route_module *m = app_route_modules; m->name; m++) {
    rc = m->start ? m->start(a) : 0;
    if (rc)
      return rc == KX_ECONFIG ? APP_EXIT_CONFIG : APP_EXIT_RUNTIME;
  }
  if (cmd_startup(&a->ctx, clock_now_ms()) != 0)
    return APP_EXIT_STORAGE;
  if (a->slack_enabled) {
    auth_test(a);
    slack_socket_start(a->socket);
  }
  scheduler_start(a->scheduler);
  sender_kick(a->sender);
  return 0;
}

int app_run(struct config *config)
{
  struct app *a = calloc(1, sizeof(*a));
  if (!a)
    return APP_EXIT_RUNTIME;
  a->config = config;
  static const double dispatch_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005,
                                            0.01,   0.025,   0.05,   0.1,   0.5};
  metrics_histogram("klaxon_dispatch_seconds",
                    "Time to run one request's handler and commit its transaction",
                    dispatch_buckets, KX_ARRAY_SIZE(dispatch_buckets));
  metrics_describe("klaxon_build_info", METRIC_GAUGE, "Always 1; the version is a label");
  metrics_set("klaxon_build_info", "version=\"" KLAXON_VERSION "\"", 1);
  int err = 0;
  a->db = db_open(config->storage_path ? config->storage_path : "klaxon.db", 0, &err);
  if (!a->db) {
    fprintf(stderr, "klaxon: cannot open the database %s (%s)\n",
            config->storage_path ? config->storage_path : "klaxon.db", kx_strerror(err));
    free(a);
    return APP_EXIT_STORAGE;
  }
  /* The loop never waits seconds for a lock another process holds (a backup, an operator's
   * sqlite3): a transaction that cannot start within APP_DB_BUSY_MS fails; Slack delivers an
   * unacked event again, and a command is answered "try again". */
  db_busy_timeout(a->db, APP_DB_BUSY_MS);
  a->ctx.db = a->db;
  a->ctx.config = config;
  a->ctx.public_url = config->public_url;
  a->feed_secret = links_feed_secret(a->db, config, true);
  a->ctx.feed_secret = a->feed_secret;
  uv_loop_init(&a->loop);
  uv_signal_init(&a->loop, &a->sigterm);
  uv_signal_init(&a->loop, &a->sigint);
  uv_signal_init(&a->loop, &a->sighup);
  a->sigterm.data = a->sigint.data = a->sighup.data = a;
  uv_signal_start(&a->sigterm, on_signal, SIGTERM);
  uv_signal_start(&a->sigint, on_signal, SIGINT);
  uv_signal_start(&a->sighup, on_signal, SIGHUP);
  uv_timer_init(&a->loop, &a->heartbeat);
  a->heartbeat.data = a;
  uv_timer_init(&a->loop, &a->stop_deadline);
  a->stop_deadline.data = a;
  uv_timer_init(&a->loop, &a->checkpoint_timer);
  a->checkpoint_timer.data = a;
  const char *path = config->storage_path ? config->storage_path : "klaxon.db";
  if (strcmp(path, ":memory:") != 0) {
    a->checkpointer = db_open_checkpointer(path, &err);
    if (a->checkpointer) {
      db_set_autocheckpoint(a->db, 0);
      uv_timer_start(&a->checkpoint_timer, on_checkpoint_timer, CHECKPOINT_EVERY_MS,
                     CHECKPOINT_EVERY_MS);
    }
  }
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
  for (const struct app_route_module *m = app_route_modules; m->name; m++)
    if (m->close)
      m->close(a);
  slack_api_free(a->slack);
  int closed = uv_loop_close(&a->loop);
  if (closed != 0) {
    uv_walk(&a->loop, on_walk, NULL);
    LOG_WARN("app", "loop_not_closed", "err=%s", uv_err_name(closed));
  }
  /* Flush: fold the WAL back into the database before exiting. */
  if (db_checkpoint(a->db, true) != 0)
    LOG_WARN("db", "final_checkpoint_failed", "path=%s", db_path(a->db));
  db_close(a->checkpointer);
  db_close(a->db);
  free(a->feed_secret);
  code = a->exit_code;
  LOG_INFO("app", "stopped", "exit_code=%d", code);
  free(a);
  return code;
}
