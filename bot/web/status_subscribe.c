/*
 * status_subscribe.c — the subscriber routes of the status page: POST /status/subscribe (a form
 * with `email`), GET /status/confirm?token=, GET or POST /status/unsubscribe?token= (one click;
 * POST for mail clients that follow RFC 8058). Each answers a small HTML page. Requests are
 * limited per client here (STATUS_SUB_PER_CLIENT per hour, real time) and per address by the
 * handler (one confirmation mail per 15 minutes).
 */
#include <cjson/cJSON.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/web/status_http_internal.h"
#include "commands/core/names.h"
#include "commands/status/status.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/webform.h"

#define STATUS_SUB_PER_CLIENT 10 /* subscribe requests per client address per hour */
#define STATUS_SUB_WINDOW_MS (60LL * 60 * 1000)
#define STATUS_SUB_CLIENTS 512 /* clients remembered; the oldest window is reused */

struct sub_client {
  char peer[64];
  uint64_t since_ms;
  int count;
};

static struct sub_client clients[STATUS_SUB_CLIENTS];

/* true while this client may make another subscribe request (counts it). */
static bool client_allowed(const char *peer)
{
  uint64_t now = clock_mono_ms();
  struct sub_client *slot = NULL, *oldest = &clients[0];
  for (size_t i = 0; i < STATUS_SUB_CLIENTS; i++) {
    if (strcmp(clients[i].peer, peer) == 0) {
      slot = &clients[i];
      break;
    }
    if (clients[i].since_ms < oldest->since_ms)
      oldest = &clients[i];
  }
  if (!slot || now - slot->since_ms >= STATUS_SUB_WINDOW_MS) {
    slot = slot ? slot : oldest;
    snprintf(slot->peer, sizeof(slot->peer), "%s", peer);
    slot->since_ms = now;
    slot->count = 0;
  }
  return ++slot->count <= STATUS_SUB_PER_CLIENT;
}

static void page(struct httpd_response *resp, int status, const char *heading, const char *text)
{
  char body[2048];
  snprintf(body, sizeof(body),
           "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>%s</title><style>body{font-family:system-ui,sans-serif;max-width:40rem;"
           "margin:2rem auto;padding:0 1rem;line-height:1.45}</style></head><body><main>"
           "<h1>%s</h1><p>%s</p><p><a href=\"/status\">Back to the status page</a></p>"
           "</main></body></html>\n",
           heading, heading, text);
  httpd_text(resp, status, "text/html; charset=utf-8", body);
}

/* Dispatch a subscriber action; the reply's one word, or NULL on failure. */
static int dispatch(
    const struct module_env *env, const char *action, cJSON *payload, char *word, size_t size)
{
  struct cmd_request creq = {.platform = CMD_PLATFORM_HTTP,
                             .kind = CMD_KIND_ACTION,
                             .now_ms = clock_now_ms(),
                             .action_id = action,
                             .user = "status-page",
                             .payload = payload};
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  int rc = app_dispatch(env->app, &creq, &reply);
  snprintf(word, size, "%s", reply.text.len ? reply.text.data : "");
  cmd_reply_free(&reply);
  return rc;
}

int status_on_subscribe(void *arg,
                        const struct httpd_request *req,
                        struct httpd_response *resp,
                        struct httpd_pending *later)
{
  (void)later;
  const struct module_env *env = arg;
  char email[256];
  int rc = webform_get(req->body, req->body_len, "email", email, sizeof(email));
  if (rc || !webform_email_ok(email)) {
    page(resp, 400, "Not subscribed", "That does not look like an email address.");
    return HTTPD_DONE;
  }
  if (!client_allowed(req->peer)) {
    LOG_WARN("status", "subscribe_limited", "peer=%s", req->peer);
    page(resp, 429, "Too many requests", "Too many subscription requests; try again later.");
    httpd_add_header(resp, "Retry-After", "3600");
    return HTTPD_DONE;
  }
  unsigned char raw[STATUS_SUB_TOKEN_LEN / 2];
  char token[STATUS_SUB_TOKEN_LEN + 1];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    page(resp, 500, "Not subscribed", "Something went wrong on our side; try again.");
    return HTTPD_DONE;
  }
  for (size_t i = 0; i < sizeof(raw); i++)
    snprintf(token + 2 * i, 3, "%02x", raw[i]);
  cJSON *p = cJSON_CreateObject();
  char word[32];
  if (!p || !cJSON_AddStringToObject(p, "email", email) ||
      !cJSON_AddStringToObject(p, "token", token))
    rc = KX_ENOMEM;
  else
    rc = dispatch(env, CMD_ACTION_STATUS_SUBSCRIBE, p, word, sizeof(word));
  cJSON_Delete(p);
  if (rc)
    page(resp, 500, "Not subscribed", "Something went wrong on our side; try again.");
  else if (strcmp(word, "no smtp") == 0)
    page(resp, 503, "Not available", "Email updates are not offered here.");
  else /* mailed, already, limited: the same answer, so nobody learns who is subscribed */
    page(resp, 202, "Check your inbox",
         "If the address can receive our mail, a message with a confirmation link is on its "
         "way. Nothing is sent until you confirm.");
  return HTTPD_DONE;
}

int status_on_token(const struct module_env *env,
                    const struct httpd_request *req,
                    struct httpd_response *resp,
                    bool unsubscribe)
{
  char token[STATUS_SUB_TOKEN_LEN + 2];
  const char *src = req->query;
  size_t len = src ? strlen(src) : 0;
  /* One-click POST (RFC 8058) may carry the token in the body instead. */
  if (webform_get(src, len, "token", token, sizeof(token)) != 0 &&
      webform_get(req->body, req->body_len, "token", token, sizeof(token)) != 0)
    token[0] = '\0';
  cJSON *p = cJSON_CreateObject();
  char word[32] = "";
  int rc =
      p && cJSON_AddStringToObject(p, "token", token)
          ? dispatch(env, unsubscribe ? CMD_ACTION_STATUS_UNSUBSCRIBE : CMD_ACTION_STATUS_CONFIRM,
                     p, word, sizeof(word))
          : KX_ENOMEM;
  cJSON_Delete(p);
  if (rc)
    page(resp, 500, "Something went wrong", "Something went wrong on our side; try again.");
  else if (strcmp(word, "ok") != 0)
    page(resp, 404, "Link not valid", "This link is not valid any more.");
  else if (unsubscribe)
    page(resp, 200, "Unsubscribed", "You will not receive any more updates by email.");
  else
    page(resp, 200, "Subscribed", "You will receive each update of the status page by email.");
  return HTTPD_DONE;
}
