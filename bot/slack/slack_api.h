/*
 * slack_api.h — Slack Web API calls over http_client: JSON bodies with the bot token in the
 * Authorization header (form bodies where Slack asks for them), `ok:false` surfaced by error
 * name, HTTP 429 with its Retry-After, 5xx and transport failures marked retryable.
 * Every call is counted in klaxon_slack_api_calls_total{method,result}.
 *
 * Tokens are held here and only here; they never appear in a log line. The result passed to
 * the callback, and its JSON, are valid only during the callback.
 */
#ifndef KX_SLACK_API_H
#define KX_SLACK_API_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "bot/net/http_client.h"

enum slack_token {
  SLACK_TOKEN_BOT = 0, /* xoxb- */
  SLACK_TOKEN_APP,     /* xapp-: apps.connections.open only */
  SLACK_TOKEN_NONE     /* response_url */
};

struct slack_result {
  int err;            /* 0; KX_EPLATFORM (ok:false), KX_ERATELIMITED (429), KX_ERETRY (5xx,
                         timeouts, network), KX_EPROTO (an answer that is not Slack's JSON) */
  long status;        /* HTTP status, 0 when the request never got an answer */
  const char *error;  /* Slack's error name (or a transport reason); NULL on success */
  const cJSON *json;  /* the parsed answer, NULL when there is none */
  long retry_after_s; /* from a 429 (default 30 when Slack gave none), else -1 */
  double total_ms;
};

typedef void (*slack_cb)(void *arg, const struct slack_result *r);

struct slack_api;

/* base_url ends with '/' ("https://slack.com/api/"); tokens copied. */
struct slack_api *slack_api_new(struct http_client *http,
                                const char *base_url,
                                const char *bot_token,
                                const char *app_token);
void slack_api_free(struct slack_api *api);

int slack_api_call(struct slack_api *api,
                   const char *method,
                   enum slack_token token,
                   const char *json_body,
                   slack_cb cb,
                   void *arg);
/* application/x-www-form-urlencoded (apps.connections.open, as Slack documents it). */
int slack_api_form(struct slack_api *api,
                   const char *method,
                   enum slack_token token,
                   const char *form_body,
                   slack_cb cb,
                   void *arg);
/* A JSON object's members as an application/x-www-form-urlencoded body (strings as they are,
 * other values as JSON text), for the read methods that take no JSON body (users.lookupByEmail,
 * users.info). Caller frees; NULL when out of memory. */
char *slack_form_encode(const cJSON *args);
/* POST JSON to a response_url (no token). */
int slack_api_response_url(
    struct slack_api *api, const char *url, const char *json_body, slack_cb cb, void *arg);

/* Errors that mean our token is bad: the operator must act. */
bool slack_error_fatal_auth(const char *error);

#endif
