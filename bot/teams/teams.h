/*
 * teams.h — the Microsoft Teams transport: a route module (bot/routes.c) that serves
 *   POST /teams/messages  Bot Framework activities, each one's JWT verified (teams_auth.h)
 *                         against the OpenID metadata and JWKS fetched over HTTP and cached
 *                         (refreshed every 24 h and on an unknown kid; a request that needs the
 *                         keys waits for them: HTTPD_LATER). Any failure: 401, nothing done.
 *   POST /teams/webhook   Teams Outgoing Webhooks, verified by HMAC-SHA256, answered in the
 *                         same HTTP response (Teams waits 5 s at most).
 * and registers the sender of outbox rows with platform "teams" (teams_connector.h).
 *
 * A verified activity is remembered (serviceUrl per tenant, the conversation and its team,
 * the users it names: storage/teams_store.h); users mentioned in it that we have never seen
 * are looked up in the roster (GET …/members/{id}) before it is answered, so their mention
 * reaches the handler as <@AADID>; then it is turned into a struct cmd_request
 * (teams_request.h) and run by app_dispatch. The reply goes back into the conversation as a
 * reply activity through the outbox (teams.reply), or, for an Action.Execute invoke, in the
 * HTTP response as {statusCode, type, value}.
 *
 * Everything is configured by the config's teams: block; without it these functions do
 * nothing. The state lives in app->teams and is freed by teams_close after the loop ended.
 */
#ifndef KX_TEAMS_H
#define KX_TEAMS_H

struct module_env;

#define TEAMS_HELD_MAX 64                /* requests waiting for the signing keys */
#define TEAMS_KEYS_FETCH_TIMEOUT_MS 5000 /* each of the two GETs (metadata, JWKS) */
#define TEAMS_LOOKUPS_MAX 8              /* unknown mentioned users looked up per message */

/* The module (bot/modules.h): init registers the HTTP routes (when the server exists), start
 * the outbox sender and the first key fetch. */
int teams_init(const struct module_env *env, void **state);
int teams_start(void *state);
void teams_close(void *state);

#endif
