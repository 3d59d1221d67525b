/*
 * teams_internal.h — shared by the Teams transport's files only (bot/teams.c: keys, routes and
 * the module; bot/teams_serve.c: what a verified activity does; bot/teams_webhook.c: Outgoing
 * Webhooks). Nothing outside bot/teams*.c includes it. Names with `teams__` are internal.
 */
#ifndef KX_TEAMS_INTERNAL_H
#define KX_TEAMS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "bot/net/httpd.h"
#include "bot/teams/teams_activity.h"
#include "commands/core/request.h"

struct module_env;
struct held;
struct teams_config;
struct teams_connector;
struct teams_jwks;

struct teams {
  const struct module_env *env;
  const struct teams_config *cfg;
  struct teams_jwks *jwks;
  bool keys_fetching;
  struct held *held;
  size_t n_held;
  struct teams_connector *conn;
  bool routes_done;
  bool sender_done;
};

/* klaxon_teams_activities_total{type,result} */
void teams__count(const char *type, const char *result);
/* NULL when the activity may be served; else why not ("channel_refused": not msteams;
 * "tenant_refused": conversation.tenantId missing or not teams.tenant_id). */
const char *teams__refusal(const struct teams *t, const struct teams_activity *act);
/* The Entra object id of a 29: user id from what we have seen (a teams_aad_fn). */
char *teams__aad_lookup(void *arg, const char *user_id);
/* A reply's markup as Teams markdown / plain text (people resolved); caller frees. */
char *teams__reply_markdown(struct teams *t, const char *markup);
void teams__help_reply(struct cmd_reply *reply);
/* A verified activity: check the tenant, remember it, answer it. HTTPD_LATER when the answer
 * comes later (mentioned users are being looked up): act then belongs to the lookup. */
int teams__serve(struct teams *t,
                 struct teams_activity *act,
                 const char *body,
                 size_t len,
                 struct httpd_response *resp,
                 struct httpd_pending *later);
/* POST /teams/webhook (arg: struct teams). */
int teams__on_webhook(void *arg,
                      const struct httpd_request *req,
                      struct httpd_response *resp,
                      struct httpd_pending *later);

#endif
