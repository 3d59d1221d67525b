/*
 * teams_connector.h — everything klaxon sends to Microsoft Teams: the outbox sender for rows of
 * platform "teams" (commands/out.h describes their bodies), on top of a client-credentials
 * access token that is fetched once and cached until shortly before it expires.
 *
 *   teams.post    POST {serviceUrl}v3/conversations  (a new thread in a channel: isGroup,
 *                 channelData.channel.id, activity). The hook's result is {"id", "activityId"}.
 *   teams.reply   POST {serviceUrl}v3/conversations/{id}/activities[/{replyToId}]
 *   teams.update  PUT  {serviceUrl}v3/conversations/{id}/activities/{activityId}
 *   teams.webhook POST the Workflows webhook URL (one-way: cards without callback buttons)
 * Ids are percent-encoded in the path (they contain ": ; @ ="). Where a row goes: the
 * serviceUrl stored for the conversation's tenant (learnt from a verified activity, see
 * storage/teams_store.h), else the config's teams.service_url. Our token is sent nowhere else.
 *
 * The answer given to the row's hook is the connector's ({"id"[, "activityId"]}) plus
 * "channel" and "ts" named as Slack's chat.postMessage names them: for teams.post the new
 * thread's conversation id and its activityId, for a reply or an update the conversation and
 * the activity id. So a hook that stores (channel, ts) and later calls out_update() works on
 * both platforms.
 *
 * Results (the sender's done callback): 2xx → 0 with the parsed answer; 429 → KX_ERATELIMITED
 * with Retry-After; 5xx, timeouts, network errors, and a 401 (the cached token is dropped, a
 * new one is fetched) → KX_ERETRY; other 4xx → KX_EPLATFORM with the connector's error code
 * ("MessageWritesBlocked" when the bot was blocked or removed, "ConversationNotFound" …).
 * A token endpoint that refuses our credentials (400/401: invalid_client, unauthorized_client
 * …) logs an error and the rows wait (KX_EAUTH: retried like KX_ERETRY, and the sender tells
 * the operator once, bot/operator.h): the operator can fix the secret without losing a page.
 *
 * Ownership: teams_connector_new copies the strings it is given (the secret included, which is
 * never logged); teams_connector_free (NULL-safe) releases it. Calls in flight must have ended
 * (the HTTP client closed) before it is freed.
 */
#ifndef KX_TEAMS_CONNECTOR_H
#define KX_TEAMS_CONNECTOR_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/net/http_client.h"
#include "bot/sender.h"
#include "commands/core/config.h"
#include "storage/db.h"

#define TEAMS_TOKEN_SCOPE "https://api.botframework.com/.default"
#define TEAMS_TOKEN_MARGIN_MS (5LL * 60 * 1000) /* refresh this long before the token expires */
#define TEAMS_TOKEN_MAX ((size_t)16 * 1024)     /* an access token we accept */
#define TEAMS_CONNECTOR_RESPONSE_MAX ((size_t)256 * 1024)
#define TEAMS_TOKEN_WAITERS_MAX 64 /* rows waiting for one token fetch */
#define TEAMS_CONNECTOR_TIMEOUT_MS 15000

struct teams_connector;

/* `now_ms` is the bot's clock, for the times stored with users and conversations. The access
 * token's lifetime is Microsoft's and is judged on the real clock (teams_auth_now_ms()), so a
 * fast or rewound simulated clock neither refreshes it early nor keeps it past its expiry.
 * `workflow_url` may be NULL. */
struct teams_connector *teams_connector_new(struct http_client *http,
                                            struct db *db,
                                            const struct teams_config *cfg,
                                            const char *app_password,
                                            const char *workflow_url,
                                            int64_t (*now_ms)(void));
void teams_connector_free(struct teams_connector *c);
/* The sender_platform_fn for platform "teams" (arg: the connector). */
int teams_connector_send(void *arg,
                         struct sender *s,
                         const struct outbox_row *row,
                         sender_done_fn done);
/* Who a `29:` user is: GET {service}v3/conversations/{conversation}/members/{user} (the
 * roster entry carries aadObjectId). `service_url` must come from a verified activity. The
 * callback runs exactly once, from the loop, with 0 and the ids (valid during the call) or an
 * error (KX_ENOTFOUND when Teams does not know the member); a function that returns an error
 * never calls it. */
typedef void (*teams_member_cb)(void *arg, int err, const char *aad_object_id, const char *name);
int teams_connector_member(struct teams_connector *c,
                           const char *service_url,
                           const char *conversation,
                           const char *user_id,
                           teams_member_cb cb,
                           void *arg);
#define TEAMS_MEMBER_TIMEOUT_MS 3000

/* ---- pure helpers (exposed for the unit tests) ---------------------------------------------- */

/* Percent-encode everything but RFC 3986's unreserved characters; caller frees. */
char *teams_path_escape(const char *s);
/* {service}v3/conversations[/{conversation}/activities[/{activity}]] with the ids escaped and
 * one '/' between the service URL and "v3"; NULL when service_url is not http(s). */
char *teams_connector_url(const char *service_url, const char *conversation, const char *activity);
/* {service}v3/conversations/{conversation}/members/{user}, ids escaped; NULL as above. */
char *teams_member_url(const char *service_url, const char *conversation, const char *user);
/* 1 when the URL may receive our token: an http:// or https:// URL with a host. */
int teams_service_url_ok(const char *url);
/* Whether a serviceUrl an activity names may be remembered and called with our token: https on
 * a Microsoft Bot Connector host, or the same origin as `configured` (teams.service_url). */
bool teams_service_url_trusted(const char *url, const char *configured);
/* Map a connector answer to the sender's result code; `error` gets a short name
 * ("http_404", the connector's error.code or error.subCode). */
int teams_classify(long status, const char *body, char *error, size_t size);
/* The access token and its lifetime from a token endpoint answer; KX_EPROTO when malformed,
 * KX_ETOOBIG beyond TEAMS_TOKEN_MAX. *token is the caller's to free. */
int teams_token_parse(const char *body, char **token, int64_t *expires_in_ms);
/* application/x-www-form-urlencoded client-credentials body; caller frees. */
char *teams_token_form(const char *app_id, const char *secret);
/* The Workflows webhook body for an activity: {"type":"message","attachments":[…]} with every
 * card action that would call back into us removed (Workflows cannot deliver them). */
cJSON *teams_webhook_message(const cJSON *activity);

#endif
