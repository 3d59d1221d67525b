#include "bot/slack/slack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "bot/app.h"
#include "bot/clock.h"
#include "bot/slack/slack_api.h"
#include "bot/slack/slack_socket.h"
#include "commands/core/out.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "storage/seen.h"

#define DEFAULT_SLACK_API_URL "https://slack.com/api/"
#define AUTH_RETRY_MS 5000

struct slack {
  const struct module_env *env;
  struct slack_api *api;
  struct slack_socket *socket;
  struct lws_context *lws; /* the client's own: the HTTP server's load cannot starve it */
  struct lws_vhost *vhost;
  uv_timer_t *auth_retry;
  char bot_user[32];
  char bot_id[32];
  char team_id[32];
  bool stopping;
};

/* ---- answers ----------------------------------------------------------------------------------
 */

static char *reply_mrkdwn(struct slack *sl, const struct cmd_reply *reply)
{
  struct cmd_ctx run = cmd_ctx_at(sl->env->ctx, clock_now_ms());
  return out_slack_text(&run, reply->text.data);
}

/* The ack frame: {"envelope_id": …} plus the reply as payload where Slack accepts one (other
 * answers were written to the outbox by the dispatcher: slack_answer_for). */
static char *ack_frame(struct slack *sl,
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
    char *text = reply_mrkdwn(sl, reply);
    cJSON_AddStringToObject(payload, "text", text ? text : "");
    free(text);
    cJSON_AddStringToObject(payload, "response_type",
                            reply->in_channel ? "in_channel" : "ephemeral");
    if (reply->blocks)
      cJSON_AddItemToObject(payload, "blocks", cJSON_Duplicate(reply->blocks, 1));
  }
  char *text = cJSON_PrintUnformatted(ack);
  cJSON_Delete(ack);
  return text;
}

static char *on_envelope(void *arg, const struct slack_frame *f)
{
  struct slack *sl = arg;
  struct cmd_request req;
  struct slack_req_strings strs;
  struct slack_self self = {sl->bot_user[0] ? sl->bot_user : NULL,
                            sl->bot_id[0] ? sl->bot_id : NULL};
  int64_t now = clock_now_ms();
  int rc = slack_envelope_request(f, &self, now, &req, &strs);
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  bool send_ack = true;
  if (rc == 0) {
    uint64_t t0 = clock_mono_us();
    rc = app_dispatch(sl->env->app, &req, &reply);
    metrics_observe("klaxon_dispatch_seconds", "", (double)(clock_mono_us() - t0) / 1e6);
    if (rc == KX_EDUPLICATE) {
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
  char *ack = (send_ack && f->envelope_id) ? ack_frame(sl, f, &req, &reply) : NULL;
  cmd_reply_free(&reply);
  return ack;
}

static int on_batch_begin(void *arg)
{
  struct slack *sl = arg;
  return app_batch_begin(sl->env->app);
}

static int on_batch_commit(void *arg)
{
  struct slack *sl = arg;
  return app_batch_commit(sl->env->app);
}

static void on_socket_state(void *arg, bool connected)
{
  (void)arg;
#ifdef HAVE_SYSTEMD
  sd_notifyf(0, "STATUS=Slack %s", connected ? "connected" : "disconnected");
#endif
  (void)connected;
}

static bool on_socket_hold(void *arg)
{
  struct slack *sl = arg;
  return sl->env->health && sl->env->health->db_down;
}

static void on_socket_fatal(void *arg, const char *sentence)
{
  struct slack *sl = arg;
  char q[600];
  LOG_ERROR("slack", "fatal", "reason=%s", log_quote(q, sizeof(q), sentence));
  fprintf(stderr, "klaxon: %s\n", sentence);
  app_stop(sl->env->app,
           strstr(sentence, "link_disabled") ? APP_EXIT_SLACK_DISABLED : APP_EXIT_SLACK_AUTH);
}

/* ---- auth.test --------------------------------------------------------------------------------
 */

static void auth_test(struct slack *sl);

static void on_auth_retry(uv_timer_t *t)
{
  struct slack *sl = t->data;
  uv_close((uv_handle_t *)t, (uv_close_cb)free);
  sl->auth_retry = NULL;
  if (!sl->stopping)
    auth_test(sl);
}

/* The bot's own user id, for handlers that must leave it out (inviting people to a channel):
 * kept in storage, so the command context stays constant. */
static void remember_self(struct slack *sl)
{
  struct db *db = sl->env->db;
  if (db_begin(db) != 0)
    return;
  if (kv_set(db, KV_SLACK_BOT_USER, sl->bot_user, clock_now_ms()) == 0 && db_commit(db) == 0)
    return;
  db_rollback(db);
  LOG_WARN("slack", "bot_user_not_stored", "bot_user=%s", sl->bot_user);
}

static void on_auth_test(void *arg, const struct slack_result *r)
{
  struct slack *sl = arg;
  if (sl->stopping)
    return;
  if (r->err == 0) {
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(r->json, "user_id");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(r->json, "bot_id");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(r->json, "team_id");
    if (cJSON_IsString(u))
      snprintf(sl->bot_user, sizeof(sl->bot_user), "%s", u->valuestring);
    if (cJSON_IsString(b))
      snprintf(sl->bot_id, sizeof(sl->bot_id), "%s", b->valuestring);
    if (cJSON_IsString(t))
      snprintf(sl->team_id, sizeof(sl->team_id), "%s", t->valuestring);
    LOG_INFO("slack", "authenticated", "bot_user=%s bot_id=%s team=%s", sl->bot_user, sl->bot_id,
             sl->team_id);
    if (sl->bot_user[0])
      remember_self(sl);
    return;
  }
  if (r->error && slack_error_fatal_auth(r->error)) {
    char sentence[256];
    snprintf(sentence, sizeof(sentence),
             "Slack refused the bot token (auth.test: %s); check SLACK_BOT_TOKEN (xoxb-…)",
             r->error);
    on_socket_fatal(sl, sentence);
    return;
  }
  LOG_WARN("slack", "auth_test_failed", "error=%s", r->error ? r->error : "-");
  uv_timer_t *t = calloc(1, sizeof(*t));
  if (!t)
    return;
  if (uv_timer_init(sl->env->loop, t) != 0) {
    free(t);
    return;
  }
  t->data = sl;
  sl->auth_retry = t;
  uv_timer_start(t, on_auth_retry, AUTH_RETRY_MS, 0);
}

static void auth_test(struct slack *sl)
{
  if (slack_api_call(sl->api, "auth.test", SLACK_TOKEN_BOT, "{}", on_auth_test, sl) != 0)
    LOG_ERROR("slack", "auth_test_not_sent", "method=auth.test");
}

/* ---- the module -------------------------------------------------------------------------------
 */

static int check_token(const char *env, const char *value, const char *prefix)
{
  if (strncmp(value, prefix, strlen(prefix)) != 0) {
    fprintf(stderr, "klaxon: %s does not look like a Slack %s… token\n", env, prefix);
    LOG_ERROR("slack", "bad_token_format", "env=%s expected_prefix=%s", env, prefix);
    return KX_ECONFIG;
  }
  return 0;
}

/* The client's own lws context on the app's loop, with one vhost listing the Socket Mode
 * protocol. */
static int client_context(struct slack *sl)
{
  static struct lws_protocols protocols[2];
  protocols[0] = slack_socket_protocol;
  void *foreign[1] = {sl->env->loop};
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                 LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.foreign_loops = foreign;
  info.max_http_header_data = HTTPD_HEADER_MAX;
  info.fd_limit_per_thread = SLACK_MAX_CONNS * 4 + 16;
  sl->lws = lws_create_context(&info);
  if (!sl->lws) {
    fprintf(stderr, "klaxon: libwebsockets could not start the Slack client\n");
    return KX_EIO;
  }
  struct lws_context_creation_info v;
  memset(&v, 0, sizeof(v));
  v.vhost_name = "klaxon-slack";
  v.port = CONTEXT_PORT_NO_LISTEN;
  v.protocols = protocols;
  v.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  v.client_ssl_ca_filepath = getenv("KLAXON_CA_FILE");
  sl->vhost = lws_create_vhost(sl->lws, &v);
  if (!sl->vhost) {
    fprintf(stderr, "klaxon: libwebsockets could not create the Slack client\n");
    return KX_EIO;
  }
  return 0;
}

int slack_init(const struct module_env *env, void **state)
{
  const struct config *c = env->config;
  const char *app_env = c->slack.app_token_env ? c->slack.app_token_env : "SLACK_APP_TOKEN";
  const char *bot_env = c->slack.bot_token_env ? c->slack.bot_token_env : "SLACK_BOT_TOKEN";
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
  struct slack *sl = calloc(1, sizeof(*sl));
  if (!sl)
    return KX_ENOMEM;
  sl->env = env;
  *state = sl;
  int rc = client_context(sl);
  if (rc)
    return rc;
  sl->api = slack_api_new(env->http, base, bot_token, app_token);
  if (!sl->api)
    return KX_ENOMEM;
  struct slack_socket_opts opts = {
      .ping_interval_ms = (uint64_t)c->slack.ping_interval_ms,
      .pong_timeout_ms = (uint64_t)c->slack.pong_timeout_ms,
  };
  struct slack_socket_cbs cbs = {.on_envelope = on_envelope,
                                 .on_batch_begin = on_batch_begin,
                                 .on_batch_commit = on_batch_commit,
                                 .on_state = on_socket_state,
                                 .on_fatal = on_socket_fatal,
                                 .hold = on_socket_hold,
                                 .arg = sl};
  sl->socket = slack_socket_new(env->loop, sl->lws, sl->vhost, sl->api, &opts, &cbs);
  return sl->socket ? 0 : KX_ENOMEM;
}

int slack_start(void *state)
{
  struct slack *sl = state;
  if (!sl)
    return 0;
  sender_use_slack(sl->env->sender, sl->api);
  auth_test(sl);
  return slack_socket_start(sl->socket);
}

void slack_stop(void *state, void (*done)(void *arg), void *arg)
{
  struct slack *sl = state;
  if (!sl || !sl->socket) {
    done(arg);
    return;
  }
  sl->stopping = true;
  if (sl->auth_retry) {
    uv_close((uv_handle_t *)sl->auth_retry, (uv_close_cb)free);
    sl->auth_retry = NULL;
  }
  slack_socket_stop(sl->socket, done, arg);
}

void slack_halt(void *state)
{
  struct slack *sl = state;
  if (!sl)
    return;
  if (sl->socket) {
    slack_socket_free(sl->socket);
    sl->socket = NULL;
  }
  /* The first of lws's two destroys: starts closing its handles inside the running loop. */
  if (sl->lws)
    lws_context_destroy(sl->lws);
}

void slack_close(void *state)
{
  struct slack *sl = state;
  if (!sl)
    return;
  if (sl->socket)
    slack_socket_free(sl->socket);
  /* The second destroy, after the loop has closed its handles: frees the context. */
  if (sl->lws)
    lws_context_destroy(sl->lws);
  slack_api_free(sl->api);
  free(sl);
}

const char *slack_status(const void *state)
{
  const struct slack *sl = state;
  if (!sl)
    return NULL;
  return slack_socket_connected(sl->socket) ? "connected" : "disconnected";
}
