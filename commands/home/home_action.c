/*
 * home_action.c — the action item form (issue 16): `/incident action` with no words opens it
 * on Slack (which incident, pre-selected when typed in its channel; the owner as a user picker;
 * what to do). The submission is checked field by field, then runs as `/incident action add
 * @owner TEXT` in the incident's channel, so the rules and the answers are the typed command's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/names.h"
#include "commands/core/out.h"
#include "commands/home/home.h"
#include "commands/home/home_state.h"
#include "commands/incident/incident.h"
#include "commands/incident/incident_rows.h"
#include "lib/kx.h"
#include "storage/incidents.h"

#define ACTION_TEXT_MAX 1000

static cJSON *text_obj(const char *type, const char *text)
{
  cJSON *t = cJSON_CreateObject();
  cJSON_AddStringToObject(t, "type", type);
  cJSON_AddStringToObject(t, "text", text);
  return t;
}

static cJSON *input(cJSON *blocks, const char *id, const char *label, const char *type)
{
  cJSON *el = cJSON_CreateObject();
  cJSON_AddStringToObject(el, "type", type);
  cJSON_AddStringToObject(el, "action_id", id);
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "type", "input");
  cJSON_AddStringToObject(b, "block_id", id);
  cJSON_AddItemToObject(b, "label", text_obj("plain_text", label));
  cJSON_AddItemToObject(b, "element", el);
  cJSON_AddItemToArray(blocks, b);
  return el;
}

static cJSON *option(const struct incident *inc)
{
  char label[80], value[24];
  /* 75 characters at most (an option's text), never cut inside a UTF-8 sequence */
  int n = snprintf(label, sizeof(label), "#%lld %s", (long long)inc->id, inc->title);
  size_t len = n < 0 ? 0 : (size_t)n < 75 ? (size_t)n : 75;
  while (len > 0 && len < strlen(label) && ((unsigned char)label[len] & 0xC0) == 0x80)
    len--;
  label[len] = '\0';
  snprintf(value, sizeof(value), "%lld", (long long)inc->id);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "text", text_obj("plain_text", label));
  cJSON_AddStringToObject(o, "value", value);
  return o;
}

static int open_form(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  struct incident *list = NULL;
  size_t n = 0;
  int rc = incidents_list(ctx->db, INCIDENTS_OPEN, 0, 0, &list, &n);
  if (rc)
    return rc;
  if (!n) {
    cmd_reply_printf(reply, "There is no open incident to add an action item to.");
    return KX_ESTATE;
  }
  int64_t here = req->channel ? incident_in_channel(ctx, req->channel) : 0;
  cJSON *view = cJSON_CreateObject();
  cJSON_AddStringToObject(view, "type", "modal");
  cJSON_AddStringToObject(view, "callback_id", CMD_VIEW_ACTION_ITEM);
  cJSON_AddItemToObject(view, "title", text_obj("plain_text", "Add an action item"));
  cJSON_AddItemToObject(view, "submit", text_obj("plain_text", "Add"));
  cJSON_AddItemToObject(view, "close", text_obj("plain_text", "Cancel"));
  cJSON *blocks = cJSON_AddArrayToObject(view, "blocks");
  cJSON *sel = input(blocks, "incident", "Incident", "static_select");
  cJSON *opts = cJSON_AddArrayToObject(sel, "options");
  for (size_t k = 0; k < n && k < 100; k++) {
    const struct incident *inc = &list[n - 1 - k];
    cJSON_AddItemToArray(opts, option(inc));
    if (inc->id == here)
      cJSON_AddItemToObject(sel, "initial_option", option(inc));
  }
  incidents_free(list, n);
  cJSON *owner = input(blocks, "who", "Owner", "users_select");
  if (req->user && home_state_user_ok(req->user))
    cJSON_AddStringToObject(owner, "initial_user", req->user);
  cJSON *text = input(blocks, "text", "What is to be done", "plain_text_input");
  cJSON_AddNumberToObject(text, "max_length", ACTION_TEXT_MAX);
  cJSON *body = cJSON_CreateObject();
  cJSON_AddStringToObject(body, "trigger_id", req->trigger_id);
  cJSON_AddItemToObject(body, "view", view);
  return out_slack_call(ctx, "views.open", "views.open", body, OUTBOX_URGENT, NULL, NULL, NULL);
}

int home_cmd_action(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const struct cmd_args *args,
                    struct cmd_reply *reply)
{
  if (args->argc > 0)
    return incident_cmd_action(ctx, req, args, reply);
  if (req->platform == CMD_PLATFORM_SLACK && req->trigger_id)
    return open_form(ctx, req, reply);
  if (req->platform == CMD_PLATFORM_TEAMS) /* the form as a card, in the thread */
    return home_teams_form(ctx, req, CMD_VIEW_ACTION_ITEM, reply);
  cmd_usage(reply, args->def);
  return KX_EINVAL;
}

int home_view_action(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  const char *which = home_state_get(req->payload, "incident");
  const char *who = home_state_get(req->payload, "who");
  const char *what = home_state_get(req->payload, "text");
  char *end = NULL;
  long long id = which ? strtoll(which, &end, 10) : 0;
  struct incident inc;
  memset(&inc, 0, sizeof(inc));
  bool found = which && !*end && id > 0 && incidents_get(ctx->db, id, &inc) == 0;
  if (!found || !incident_is_open(&inc))
    home_field_error(reply, "incident", "Pick one of the open incidents.");
  else if (!inc.channel)
    home_field_error(reply, "incident", "That incident has no channel yet; try again in a moment.");
  if (!home_state_user_ok(who))
    home_field_error(reply, "who", "Pick the person who will do it.");
  if (!what || strlen(what) > ACTION_TEXT_MAX ||
      !strpbrk(what,
               "abcdefghijklmnopqrstuvwxyz"
               "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    home_field_error(reply, "text", "Say what is to be done (at most 1000 characters).");
  if (reply->view_response) {
    incident_clear(&inc);
    return KX_EINVAL;
  }
  /* The text is taken raw from the command's words (args->rest): no quoting is needed. */
  /* `--` ends the options (`--due`): a `--word` in the text stays text. */
  char *typed = kx_asprintf("action add <@%s> -- %s", who, what);
  struct cmd_request here = *req;
  here.channel = inc.channel;
  int rc = typed ? home_run_typed(ctx, &here, "incident", typed, reply) : KX_ENOMEM;
  free(typed);
  incident_clear(&inc);
  if (rc == KX_EINVAL || rc == KX_ENOTFOUND || rc == KX_ESTATE || rc == KX_EAUTH) {
    char *plain = md_to_plain(reply->text.data ? reply->text.data : "", NULL, NULL);
    if (plain && strlen(plain) > 1900)
      plain[1900] = '\0';
    home_field_error(reply, "text", plain && plain[0] ? plain : "That was refused.");
    free(plain);
    buf_reset(&reply->text);
    return rc;
  }
  if (rc == 0)
    rc = home_tell(ctx, req->user, &reply->text);
  buf_reset(&reply->text);
  if (rc == 0)
    rc = home_publish(ctx, req->user, false);
  return rc;
}
