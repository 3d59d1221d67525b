/*
 * teams_serve.c — what a verified Teams activity does: remembered (storage/teams_store.h),
 * mentioned users looked up, dispatched, and answered (a reply through the outbox, or the
 * invoke response). See teams.h.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/modules.h"
#include "bot/teams/teams.h"
#include "bot/teams/teams_activity.h"
#include "bot/teams/teams_auth.h"
#include "bot/teams/teams_connector.h"
#include "bot/teams/teams_internal.h"
#include "bot/teams/teams_request.h"
#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "storage/outbox.h"
#include "storage/teams_store.h"

/* The activity's type as a metrics label: only names Bot Framework defines (and ours), so a
 * sender can neither break the exposition format with quotes and newlines nor grow the
 * series without bound with made-up types. */
static const char *type_label(const char *type)
{
  static const char *const known[] = {"message",
                                      "invoke",
                                      "conversationUpdate",
                                      "installationUpdate",
                                      "messageReaction",
                                      "event",
                                      "messageUpdate",
                                      "messageDelete",
                                      "typing",
                                      "webhook",
                                      "-",
                                      NULL};
  for (const char *const *k = known; type && *k; k++)
    if (strcmp(type, *k) == 0)
      return *k;
  return "other";
}

void teams__count(const char *type, const char *result)
{
  char labels[128];
  snprintf(labels, sizeof(labels), "type=\"%s\",result=\"%.30s\"", type_label(type), result);
  metrics_inc("klaxon_teams_activities_total", labels, 1);
}

/* ---- remembering what a verified activity tells ---------------------------------------------- */

static const char *teams__tenant_of(const struct teams_activity *act)
{
  /* Only conversation.tenantId: channelData.tenant is the sender's word too, and one checked
   * field cannot disagree with another that is used. */
  return act->conversation.tenant_id;
}

const char *teams__refusal(const struct teams *t, const struct teams_activity *act)
{
  /* A Bot Framework token is also valid for Web Chat, Direct Line and other channels: only
   * Microsoft Teams activities are served. */
  if (!act->channel_id || strcmp(act->channel_id, "msteams") != 0)
    return "channel_refused";
  const char *tenant = teams__tenant_of(act);
  if (t->cfg->tenant_id && (!tenant || strcmp(tenant, t->cfg->tenant_id) != 0))
    return "tenant_refused";
  return NULL;
}

/* membersAdded carry the aadObjectId of each user: the roster, for mentions. */
static void remember_members(
    struct db *db, const char *body, size_t len, const char *tenant, int64_t now)
{
  cJSON *root = cJSON_ParseWithLength(body, len);
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "membersAdded");
  const cJSON *m;
  int n = 0;
  cJSON_ArrayForEach (m, list) {
    if (n++ == 1000)
      break;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
    const cJSON *aad = cJSON_GetObjectItemCaseSensitive(m, "aadObjectId");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
    if (cJSON_IsString(id) && cJSON_IsString(aad) && strlen(id->valuestring) < TEAMS_FIELD_MAX &&
        strlen(aad->valuestring) < TEAMS_FIELD_MAX)
      teams_store_set_user(db, id->valuestring, aad->valuestring,
                           cJSON_IsString(name) ? name->valuestring : NULL, tenant, now);
  }
  cJSON_Delete(root);
}

static int remember(struct teams *t, const struct teams_activity *act, const char *body, size_t len)
{
  struct db *db = t->env->db;
  int64_t now = clock_now_ms();
  const char *tenant = teams__tenant_of(act);
  int rc = db_begin(db);
  if (rc)
    return rc;
  if (tenant && act->service_url &&
      teams_service_url_trusted(act->service_url, t->cfg->service_url))
    rc = teams_store_set_service_url(db, tenant, act->service_url, now);
  const struct teams_channel_data *cd = &act->channel_data;
  int installed = -1;
  if (act->type == TEAMS_ACTIVITY_INSTALLATION_UPDATE && act->action)
    installed = strncmp(act->action, "remove", 6) == 0 ? 0 : 1;
  if (act->bot_added)
    installed = 1;
  if (rc == 0 && act->conversation.base_id) {
    struct teams_store_conversation c = {
        .id = act->conversation.base_id,
        .tenant_id = tenant,
        .team_id = cd->team_id,
        .team_name = cd->team_name,
        .name = cd->channel_id && strcmp(cd->channel_id, act->conversation.base_id) == 0
                    ? cd->channel_name
                    : NULL,
        .type = act->conversation.conversation_type,
        .installed = installed,
    };
    rc = teams_store_set_conversation(db, &c, now);
  }
  /* A channel created (or renamed) in a team the bot is in: its id and name. */
  if (rc == 0 && cd->channel_id && cd->team_id &&
      (!act->conversation.base_id || strcmp(cd->channel_id, act->conversation.base_id) != 0)) {
    struct teams_store_conversation c = {
        .id = cd->channel_id,
        .tenant_id = tenant,
        .team_id = cd->team_id,
        .team_name = cd->team_name,
        .name = cd->channel_name,
        .type = "channel",
        .installed = -1,
    };
    rc = teams_store_set_conversation(db, &c, now);
  }
  if (rc == 0 && (act->bot_removed || installed == 0) && cd->team_id)
    rc = teams_store_team_removed(db, cd->team_id, now);
  if (rc == 0 && act->from.id && act->from.aad_object_id)
    rc = teams_store_set_user(db, act->from.id, act->from.aad_object_id, act->from.name, tenant,
                              now);
  /* A 1:1 chat with the bot: where pages to this user go from now on. */
  if (rc == 0 && act->from.id && act->conversation.id && act->conversation.conversation_type &&
      strcmp(act->conversation.conversation_type, "personal") == 0)
    rc = teams_store_set_personal(db, act->from.id, act->conversation.id, tenant, now);
  if (rc == 0 && act->n_members_added)
    remember_members(db, body, len, tenant, now);
  if (rc == 0)
    rc = db_commit(db);
  if (rc)
    db_rollback(db);
  return rc;
}

char *teams__aad_lookup(void *arg, const char *user_id)
{
  struct teams *t = arg;
  return teams_store_user_aad(t->env->db, user_id);
}

/* ---- replies --------------------------------------------------------------------------------- */

char *teams__reply_markdown(struct teams *t, const char *markup)
{
  struct cmd_ctx run = cmd_ctx_at(t->env->ctx, clock_now_ms());
  return out_teams_text(&run, markup);
}

static char *reply_plain(struct teams *t, const char *markup)
{
  struct cmd_people pp;
  struct cmd_ctx run = cmd_ctx_at(t->env->ctx, clock_now_ms());
  cmd_people_open(&pp, &run);
  char *s = md_to_plain(markup ? markup : "", pp.rp.name, pp.rp.arg);
  cmd_people_close(&pp);
  return s;
}

/* The help text (no handler ran, so no dispatch wrote it): through the outbox, like every
 * other answer. */
static int help_reply(struct teams *t, const struct cmd_request *req, const struct cmd_reply *reply)
{
  struct db *db = t->env->db;
  struct cmd_ctx run = cmd_ctx_at(t->env->ctx, clock_now_ms());
  int rc = db_begin(db);
  if (rc == 0)
    rc = out_answer(&run, req, reply);
  if (rc == 0)
    rc = db_commit(db);
  if (rc)
    db_rollback(db);
  if (rc == 0 && t->env->sender)
    sender_kick(t->env->sender);
  return rc;
}

/* The groups come from the command table: a row with a new group shows up here by itself. */
void teams__help_reply(struct cmd_reply *reply)
{
  const char *groups[16];
  size_t n = cmd_groups(groups, KX_ARRAY_SIZE(groups));
  if (n > KX_ARRAY_SIZE(groups))
    n = KX_ARRAY_SIZE(groups);
  cmd_reply_printf(reply, "Write ");
  for (size_t i = 0; i < n; i++)
    cmd_reply_printf(reply, "%s`@klaxon %s …`",
                     i == 0       ? ""
                     : i + 1 == n ? " or "
                                  : ", ",
                     groups[i]);
  cmd_reply_printf(reply, " (in a personal chat without the mention).\n");
  for (size_t i = 0; i < n; i++)
    cmd_help(groups[i], reply);
}

/* ---- one verified activity ------------------------------------------------------------------- */

/* Dispatch a remembered activity and fill resp with the answer. */
static void answer(struct teams *t, struct teams_activity *act, struct httpd_response *resp)
{
  const char *type = act->type_name ? act->type_name : "-";
  struct cmd_request req;
  struct teams_req_strings strs;
  enum teams_route route =
      teams_request_build(act, clock_now_ms(), teams__aad_lookup, t, &req, &strs);
  bool invoke = act->type == TEAMS_ACTIVITY_INVOKE;
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  const char *result = "ignored";
  int rc = 0;
  if (route == TEAMS_ROUTE_EVENT) {
    result = "event";
    if (act->bot_added || (act->action && strcmp(act->action, "add") == 0))
      LOG_INFO("teams", "installed", "team=%s conversation=%s",
               act->channel_data.team_id ? act->channel_data.team_id : "-",
               act->conversation.base_id ? act->conversation.base_id : "-");
  } else if (route == TEAMS_ROUTE_HELP) {
    result = "help";
    teams__help_reply(&reply);
  } else if (route == TEAMS_ROUTE_DISPATCH) {
    /* Action.Execute is answered in the HTTP response; anything else in the conversation,
     * through the outbox row the dispatcher writes with the handler's work. */
    if (!(invoke && act->kind == TEAMS_KIND_CARD_ACTION)) {
      req.answer = CMD_ANSWER_THREAD;
      if (!req.reply_to_id)
        req.reply_to_id = act->id;
    }
    rc = app_dispatch(t->env->app, &req, &reply);
    result = rc == KX_EDUPLICATE ? "redelivery" : rc ? "failed" : "ok";
    if (rc == KX_EDUPLICATE)
      buf_reset(&reply.text);
  }
  teams__count(type, result);
  LOG_DEBUG("teams", "activity", "type=%s kind=%s result=%s", type,
            teams_activity_kind_name(act->kind), result);
  if (invoke && act->kind == TEAMS_KIND_CARD_ACTION) {
    /* Action.Execute: the answer is the HTTP response itself. */
    char *plain = reply_plain(
        t, reply.text.len ? reply.text.data : (rc == KX_EDUPLICATE ? "Already done." : "Done."));
    /* A card in the reply replaces the clicked card in place (issue 16: forms, the Home). */
    char *json = reply.card && rc != KX_EDUPLICATE ? teams_invoke_card_response(reply.card)
                                                   : teams_invoke_response(plain);
    httpd_json(resp, 200, json ? json : "{\"statusCode\":200}");
    free(json);
    free(plain);
  } else {
    if (route == TEAMS_ROUTE_HELP && act->conversation.id) {
      req.answer = CMD_ANSWER_THREAD;
      if (!req.reply_to_id)
        req.reply_to_id = act->id;
      if (help_reply(t, &req, &reply) != 0)
        LOG_ERROR("teams", "reply_not_queued", "conversation=%s", act->conversation.base_id);
    }
    httpd_json(resp, 200, invoke ? "{\"statusCode\":200}" : "{}");
  }
  cmd_reply_free(&reply);
  teams_req_strings_free(&strs);
}

/* ---- who a mentioned user is ----------------------------------------------------------------- */

/* A request whose mentions name users we have not seen: answered once Teams told us who they
 * are (or could not), so `<@AADID>` reaches the handler instead of an id no config names. */
struct lookup {
  struct teams *t;
  struct teams_activity *act;
  struct httpd_pending *later;
  int pending;
};

struct member_call {
  struct lookup *l;
  char *user_id;
};

static bool needs_lookup(struct teams *t, const struct teams_mention *m)
{
  if (m->aad_object_id || !m->id || strncmp(m->id, "29:", 3) != 0)
    return false;
  char *aad = teams_store_user_aad(t->env->db, m->id);
  bool unknown = aad == NULL;
  free(aad);
  return unknown;
}

static void lookup_step(struct lookup *l)
{
  if (--l->pending > 0)
    return;
  struct httpd_response *resp = httpd_pending_response(l->later);
  if (app_stopping(l->t->env->app)) {
    httpd_error(resp, 503, "shutting down, try again");
  } else {
    answer(l->t, l->act, resp);
  }
  httpd_finish(l->later, resp);
  teams_activity_free(l->act);
  free(l);
}

static void on_member(void *arg, int err, const char *aad, const char *name)
{
  struct member_call *mc = arg;
  struct lookup *l = mc->l;
  struct db *db = l->t->env->db;
  if (err == 0 && db_begin(db) == 0) {
    if (teams_store_set_user(db, mc->user_id, aad, name, teams__tenant_of(l->act),
                             clock_now_ms()) == 0)
      db_commit(db);
    else
      db_rollback(db);
  } else if (err) {
    LOG_WARN("teams", "member_unknown", "err=%s", kx_err_name(err));
  }
  free(mc->user_id);
  free(mc);
  lookup_step(l);
}

/* HTTPD_LATER when lookups were started (the lookup owns act then), else HTTPD_DONE. */
static int lookup_start(struct teams *t, struct teams_activity *act, struct httpd_pending *later)
{
  if (!later || !t->conn || act->kind != TEAMS_KIND_TEXT || !act->service_url)
    return HTTPD_DONE;
  struct lookup *l = NULL;
  const char *where =
      act->channel_data.team_id ? act->channel_data.team_id : act->conversation.base_id;
  for (size_t i = 0; i < act->n_mentions && i < TEAMS_LOOKUPS_MAX; i++) {
    if (!needs_lookup(t, &act->mentions[i]))
      continue;
    if (!l && !(l = calloc(1, sizeof(*l))))
      break;
    l->t = t;
    l->act = act;
    l->later = later;
    /* One extra teams__count while starting, so a callback cannot finish the lookup under us. */
    if (l->pending == 0)
      l->pending = 1;
    struct member_call *mc = calloc(1, sizeof(*mc));
    if (mc) {
      mc->l = l;
      mc->user_id = kx_strdup(act->mentions[i].id);
    }
    l->pending++;
    if (!mc || !mc->user_id ||
        teams_connector_member(t->conn, act->service_url, where, mc->user_id, on_member, mc) != 0) {
      if (mc)
        free(mc->user_id);
      free(mc);
      l->pending--;
    }
  }
  if (!l)
    return HTTPD_DONE;
  if (l->pending == 1) {
    free(l); /* nothing was started */
    return HTTPD_DONE;
  }
  lookup_step(l); /* drop the starting teams__count; the callbacks finish it */
  return HTTPD_LATER;
}

/* A verified activity: check its tenant, remember what it tells, then answer it — now, or
 * once mentioned users are looked up (HTTPD_LATER: act now belongs to the lookup). */
int teams__serve(struct teams *t,
                 struct teams_activity *act,
                 const char *body,
                 size_t len,
                 struct httpd_response *resp,
                 struct httpd_pending *later)
{
  const char *type = act->type_name ? act->type_name : "-";
  const char *refused = teams__refusal(t, act);
  if (refused) {
    char q[160], c[48];
    LOG_WARN("teams", refused, "channel=%s tenant=%s",
             log_quote(c, sizeof(c), act->channel_id ? act->channel_id : "-"),
             log_quote(q, sizeof(q), teams__tenant_of(act) ? teams__tenant_of(act) : "-"));
    teams__count(type, refused);
    httpd_error(resp, 403, "this bot serves Microsoft Teams in its own tenant only");
    return HTTPD_DONE;
  }
  if (remember(t, act, body, len) != 0) {
    teams__count(type, "storage_error");
    httpd_error(resp, 503, "storage unavailable, try again");
    return HTTPD_DONE;
  }
  if (lookup_start(t, act, later) == HTTPD_LATER)
    return HTTPD_LATER;
  answer(t, act, resp);
  return HTTPD_DONE;
}
