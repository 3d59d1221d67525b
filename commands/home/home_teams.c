/*
 * home_teams.c — the team's view on Microsoft Teams (issue 16): `/oncall` (the bare `oncall`
 * to the bot) in a 1:1 chat answers the Home as an Adaptive Card; its buttons (Action.Execute)
 * answer in place with the forms as cards (Input.ChoiceSet for people and rotas, Input.Date,
 * Input.Text), whose submit is an Action.Execute carrying the inputs in its data. A refused
 * submission comes back as the same form, filled as it was, with the problems above the
 * fields; an accepted one as the Home again, with the command's answer on top.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands/core/msg.h"
#include "commands/core/names.h"
#include "commands/core/people.h"
#include "commands/core/render_teams.h"
#include "commands/home/home.h"
#include "commands/home/home_state.h"
#include "commands/incident/incident.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/kx.h"
#include "storage/incidents.h"

static cJSON *text_block(const char *text, const char *size, const char *color)
{
  cJSON *t = cJSON_CreateObject();
  cJSON_AddStringToObject(t, "type", "TextBlock");
  cJSON_AddStringToObject(t, "text", text);
  cJSON_AddBoolToObject(t, "wrap", 1);
  if (size)
    cJSON_AddStringToObject(t, "size", size);
  if (color)
    cJSON_AddStringToObject(t, "color", color);
  return t;
}

static cJSON *new_card(void)
{
  cJSON *card = cJSON_CreateObject();
  cJSON_AddStringToObject(card, "type", "AdaptiveCard");
  cJSON_AddStringToObject(card, "$schema", "http://adaptivecards.io/schemas/adaptive-card.json");
  cJSON_AddStringToObject(card, "version", TEAMS_CARD_VERSION);
  cJSON_AddArrayToObject(card, "body");
  return card;
}

/* The card of a struct msg (the renderer's, out of its activity). */
static cJSON *msg_card(struct cmd_ctx *ctx, const struct msg *m)
{
  struct cmd_people pp;
  cmd_people_open(&pp, ctx);
  cJSON *act = render_teams_activity(m, &pp.rp);
  cmd_people_close(&pp);
  cJSON *atts = cJSON_GetObjectItemCaseSensitive(act, "attachments");
  cJSON *card = cJSON_DetachItemFromObjectCaseSensitive(cJSON_GetArrayItem(atts, 0), "content");
  cJSON_Delete(act);
  return card;
}

cJSON *home_teams_card(struct cmd_ctx *ctx, const char *user)
{
  struct msg *m = home_msg(ctx, CMD_PLATFORM_TEAMS, user);
  if (!m)
    return NULL;
  cJSON *card = msg_card(ctx, m);
  msg_free(m);
  return card;
}

int home_cmd_who(struct cmd_ctx *ctx,
                 const struct cmd_request *req,
                 const struct cmd_args *args,
                 struct cmd_reply *reply)
{
  if (req->platform != CMD_PLATFORM_TEAMS || !req->personal || args->argc > 0 || args->opts.n)
    return oncall_cmd_who(ctx, req, args, reply);
  cJSON *card = home_teams_card(ctx, req->user);
  if (!card)
    return KX_ENOMEM;
  cJSON_Delete(reply->card);
  reply->card = card;
  return 0;
}

/* ---- the forms as cards ------------------------------------------------------------------ */

static cJSON *choice_input(cJSON *body, const char *id, const char *label, const char *value)
{
  cJSON *in = cJSON_CreateObject();
  cJSON_AddStringToObject(in, "type", "Input.ChoiceSet");
  cJSON_AddStringToObject(in, "id", id);
  cJSON_AddStringToObject(in, "label", label);
  cJSON_AddStringToObject(in, "style", "compact");
  if (value)
    cJSON_AddStringToObject(in, "value", value);
  cJSON_AddArrayToObject(in, "choices");
  cJSON_AddItemToArray(body, in);
  return in;
}

static void choice(cJSON *in, const char *title, const char *value)
{
  cJSON *c = cJSON_CreateObject();
  cJSON_AddStringToObject(c, "title", title);
  cJSON_AddStringToObject(c, "value", value);
  cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(in, "choices"), c);
}

static void people_input(struct cmd_ctx *ctx, cJSON *body, const char *label, const char *value)
{
  cJSON *in = choice_input(body, "who", label, value);
  for (size_t i = 0; i < ctx->config->n_people && i < 100; i++) {
    const struct person *p = &ctx->config->people[i];
    choice(in, cmd_person_name(p), p->id);
  }
}

static void rota_input(struct cmd_ctx *ctx, cJSON *body, const char *value)
{
  const struct config *c = ctx->config;
  cJSON *in = choice_input(body, "rota", "Rota",
                           value        ? value
                           : c->n_rotas ? c->rotas[0].name
                                        : NULL);
  for (size_t i = 0; i < c->n_rotas && i < 100; i++)
    choice(in, c->rotas[i].name, c->rotas[i].name);
}

static void date_input(
    struct cmd_ctx *ctx, cJSON *body, const char *id, const char *label, const char *value)
{
  cJSON *in = cJSON_CreateObject();
  cJSON_AddStringToObject(in, "type", "Input.Date");
  cJSON_AddStringToObject(in, "id", id);
  cJSON_AddStringToObject(in, "label", label);
  char today[16];
  time_t secs = (time_t)(ctx->now_ms / 1000);
  struct tm tm;
  if (!value && gmtime_r(&secs, &tm) && strftime(today, sizeof(today), "%Y-%m-%d", &tm))
    value = today;
  if (value && home_state_date_ok(value))
    cJSON_AddStringToObject(in, "value", value);
  cJSON_AddItemToArray(body, in);
}

static void text_input(
    cJSON *body, const char *id, const char *label, const char *value, int max, bool multiline)
{
  cJSON *t = cJSON_CreateObject();
  cJSON_AddStringToObject(t, "type", "Input.Text");
  cJSON_AddStringToObject(t, "id", id);
  cJSON_AddStringToObject(t, "label", label);
  cJSON_AddBoolToObject(t, "isMultiline", multiline);
  cJSON_AddNumberToObject(t, "maxLength", max);
  if (value)
    cJSON_AddStringToObject(t, "value", value);
  cJSON_AddItemToArray(body, t);
}

/* The open incidents as choices, newest first. */
static void incident_input(struct cmd_ctx *ctx, cJSON *body, const char *value)
{
  struct incident *list = NULL;
  size_t n = 0;
  cJSON *in = choice_input(body, "incident", "Incident", value);
  if (incidents_list(ctx->db, INCIDENTS_OPEN, 0, 0, &list, &n) != 0)
    return;
  for (size_t k = 0; k < n && k < 100; k++) {
    const struct incident *inc = &list[n - 1 - k];
    char title[300], id[24];
    snprintf(title, sizeof(title), "#%lld %s", (long long)inc->id, inc->title);
    snprintf(id, sizeof(id), "%lld", (long long)inc->id);
    choice(in, title, id);
  }
  incidents_free(list, n);
}

struct form_card {
  const char *callback, *title, *submit;
};

static const struct form_card cards[] = {
    {CMD_VIEW_ONCALL_OVERRIDE, "Override a shift", "Override"},
    {CMD_VIEW_ONCALL_AWAY, "I'm away", "Save"},
    {CMD_VIEW_ONCALL_SWAP, "Swap shifts", "Swap"},
    {CMD_VIEW_ONCALL_PAGE, "Page someone", "Page"},
    {CMD_VIEW_INCIDENT_DECLARE, "Declare an incident", "Declare"},
    {CMD_VIEW_ACTION_ITEM, "Add an action item", "Add"},
    {NULL, NULL, NULL},
};

/* The form `callback` as a card, filled from `data` (a refused submission) or defaults. */
static cJSON *form_card(struct cmd_ctx *ctx,
                        const struct form_card *f,
                        const char *user,
                        const cJSON *data,
                        const cJSON *errors)
{
  cJSON *card = new_card();
  cJSON *body = cJSON_GetObjectItemCaseSensitive(card, "body");
  cJSON_AddItemToArray(body, text_block(f->title, "Large", NULL));
  const cJSON *e;
  cJSON_ArrayForEach (e, errors) {
    if (cJSON_IsString(e))
      cJSON_AddItemToArray(body, text_block(e->valuestring, NULL, "Attention"));
  }
#define V(field) home_state_data(data, field)
  if (strcmp(f->callback, CMD_VIEW_ONCALL_OVERRIDE) == 0) {
    people_input(ctx, body, "Who takes the shift", V("who"));
    rota_input(ctx, body, V("rota"));
    date_input(ctx, body, "from", "From (the whole day)", V("from"));
    date_input(ctx, body, "to", "To (the whole day)", V("to"));
    cJSON *slot = choice_input(body, "slot", "Slot", V("slot") ? V("slot") : "primary");
    choice(slot, "Primary", "primary");
    choice(slot, "Secondary", "secondary");
  } else if (strcmp(f->callback, CMD_VIEW_ONCALL_AWAY) == 0) {
    const struct person *me = cmd_person_for_user(ctx, CMD_PLATFORM_TEAMS, user);
    people_input(ctx, body, "Who is away", V("who") ? V("who") : me ? me->id : NULL);
    rota_input(ctx, body, V("rota"));
    date_input(ctx, body, "from", "From (the whole day)", V("from"));
    date_input(ctx, body, "to", "To (the whole day)", V("to"));
  } else if (strcmp(f->callback, CMD_VIEW_ONCALL_SWAP) == 0) {
    people_input(ctx, body, "Swap with", V("who"));
    rota_input(ctx, body, V("rota"));
    date_input(ctx, body, "week", "A day of their shift you take", V("week"));
  } else if (strcmp(f->callback, CMD_VIEW_INCIDENT_DECLARE) == 0) {
    text_input(body, "title", "Title", V("title"), INCIDENT_TITLE_MAX, false);
    const char *dflt = ctx->config->default_severity;
    cJSON *sev = choice_input(body, "severity", "Severity", V("severity") ? V("severity") : dflt);
    for (size_t i = 0; i < ctx->config->n_severities && i < 100; i++)
      choice(sev, ctx->config->severities[i].name, ctx->config->severities[i].name);
    text_input(body, "description", "Description", V("description"), INCIDENT_TEXT_MAX, true);
  } else if (strcmp(f->callback, CMD_VIEW_ACTION_ITEM) == 0) {
    incident_input(ctx, body, V("incident"));
    const struct person *me = cmd_person_for_user(ctx, CMD_PLATFORM_TEAMS, user);
    people_input(ctx, body, "Owner", V("who") ? V("who") : me ? me->id : NULL);
    text_input(body, "text", "What is to be done", V("text"), 1000, false);
  } else {
    people_input(ctx, body, "A person (or pick a rota)", V("who"));
    cJSON *r = choice_input(body, "rota", "A rota's on-call", V("rota"));
    for (size_t i = 0; i < ctx->config->n_rotas && i < 100; i++)
      choice(r, ctx->config->rotas[i].name, ctx->config->rotas[i].name);
    cJSON *sev = choice_input(body, "severity", "Severity (for a rota)", V("severity"));
    for (size_t i = 0; i < ctx->config->n_severities && i < 100; i++)
      choice(sev, ctx->config->severities[i].name, ctx->config->severities[i].name);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "type", "Input.Text");
    cJSON_AddStringToObject(t, "id", "text");
    cJSON_AddStringToObject(t, "label", "What is wrong");
    cJSON_AddBoolToObject(t, "isMultiline", 1);
    cJSON_AddNumberToObject(t, "maxLength", 1000);
    if (V("text"))
      cJSON_AddStringToObject(t, "value", V("text"));
    cJSON_AddItemToArray(body, t);
  }
#undef V
  /* A refused value that is none of the choices (someone klaxon does not know) is dropped:
   * Teams would show a choice set with nothing it can select. */
  cJSON *in;
  cJSON_ArrayForEach (in, body) {
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(in, "type");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(in, "value");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "Input.ChoiceSet") != 0 ||
        !cJSON_IsString(value))
      continue;
    bool found = false;
    const cJSON *c;
    cJSON_ArrayForEach (c, cJSON_GetObjectItemCaseSensitive(in, "choices")) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "value");
      found = found || (cJSON_IsString(v) && strcmp(v->valuestring, value->valuestring) == 0);
    }
    if (!found)
      cJSON_DeleteItemFromObjectCaseSensitive(in, "value");
  }
  cJSON *actions = cJSON_AddArrayToObject(card, "actions");
  cJSON *go = cJSON_CreateObject();
  cJSON_AddStringToObject(go, "type", "Action.Execute");
  cJSON_AddStringToObject(go, "title", f->submit);
  cJSON_AddStringToObject(go, "verb", f->callback);
  cJSON_AddStringToObject(go, "style", "positive");
  cJSON *d = cJSON_AddObjectToObject(go, "data");
  cJSON_AddStringToObject(d, "action", f->callback);
  cJSON_AddItemToArray(actions, go);
  return card;
}

static const struct form_card *card_find(const char *callback)
{
  for (const struct form_card *f = cards; callback && f->callback; f++)
    if (strcmp(f->callback, callback) == 0)
      return f;
  return NULL;
}

int home_teams_form(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const char *callback,
                    struct cmd_reply *reply)
{
  const struct form_card *f = card_find(callback);
  cJSON *card = f ? form_card(ctx, f, req->user, NULL, NULL) : NULL;
  if (!card)
    return KX_ENOMEM;
  cJSON_Delete(reply->card);
  reply->card = card;
  return 0;
}

/* Trimmed copy of a card's text input; "" when absent. */
static char *trimmed(const cJSON *data, const char *field)
{
  const char *v = home_state_data(data, field);
  if (!v)
    return kx_strdup("");
  while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
    v++;
  size_t n = strlen(v);
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\n' || v[n - 1] == '\r'))
    n--;
  return kx_strndup(v, n);
}

static int card_declare(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  char *title = trimmed(req->payload, "title");
  char *desc = trimmed(req->payload, "description");
  const char *sev = home_state_data(req->payload, "severity");
  int rc = title && desc ? 0 : KX_ENOMEM;
  if (rc == 0 && !title[0])
    home_field_error(reply, "title", "Give the incident a title.");
  else if (rc == 0 && strlen(title) > INCIDENT_TITLE_MAX)
    home_field_error(reply, "title", "That title is too long.");
  if (rc == 0 && sev && !config_severity(ctx->config, sev))
    home_field_error(reply, "severity", "Pick one of the severities.");
  if (rc == 0 && !reply->view_response) {
    const struct person *p = cmd_person_for_user(ctx, req->platform, req->user);
    struct incident_new n = {
        .title = title,
        .severity = sev,
        .description = desc[0] ? desc : NULL,
        .declared_by_person = p ? p->id : NULL,
        .declared_by_user = req->user,
        .platform = req->platform,
        .origin_channel = req->channel,
    };
    rc = incident_declare(ctx, &n, NULL, reply);
  }
  free(title);
  free(desc);
  return rc;
}

static int card_action(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  const char *which = home_state_data(req->payload, "incident");
  const char *who = home_state_data(req->payload, "who");
  char *what = trimmed(req->payload, "text");
  if (!what)
    return KX_ENOMEM;
  char *end = NULL;
  long long id = which ? strtoll(which, &end, 10) : 0;
  struct incident inc;
  memset(&inc, 0, sizeof(inc));
  bool found = which && !*end && id > 0 && incidents_get(ctx->db, id, &inc) == 0;
  if (!found || !incident_is_open(&inc) || !inc.channel)
    home_field_error(reply, "incident", "Pick one of the open incidents.");
  if (!who || !config_person(ctx->config, who))
    home_field_error(reply, "who", "Pick the person who will do it.");
  if (!what[0] || strlen(what) > 1000)
    home_field_error(reply, "text", "Say what is to be done (at most 1000 characters).");
  int rc = 0;
  if (!reply->view_response) {
    char *typed = kx_asprintf("action add @%s %s", who, what);
    struct cmd_request here = *req;
    here.channel = inc.channel;
    rc = typed ? home_run_typed(ctx, &here, "incident", typed, reply) : KX_ENOMEM;
    free(typed);
  }
  incident_clear(&inc);
  free(what);
  return rc;
}

int home_card_submit(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  const struct form_card *f = card_find(req->action_id);
  if (!f || req->platform != CMD_PLATFORM_TEAMS) {
    cmd_reply_printf(reply, "That form is answered on Teams only.");
    return KX_EINVAL;
  }
  int rc = 0;
  if (strcmp(f->callback, CMD_VIEW_INCIDENT_DECLARE) == 0) {
    rc = card_declare(ctx, req, reply);
  } else if (strcmp(f->callback, CMD_VIEW_ACTION_ITEM) == 0) {
    rc = card_action(ctx, req, reply);
  } else {
    struct buf text;
    md_init(&text);
    home_form_text(ctx, f->callback, req->payload, true, reply, &text);
    if (!reply->view_response)
      rc = text.data ? home_run_typed(ctx, req, "oncall", text.data, reply) : KX_ENOMEM;
    buf_free(&text);
  }
  bool refused = reply->view_response || rc == KX_EINVAL || rc == KX_ENOTFOUND || rc == KX_ESTATE ||
                 rc == KX_EAUTH;
  if (refused) {
    /* The form again, as it was filled, the problems on top: the field's or the command's. */
    cJSON *errors = cJSON_DetachItemFromObjectCaseSensitive(reply->view_response, "errors");
    cJSON_Delete(reply->view_response);
    reply->view_response = NULL;
    if (!errors) {
      errors = cJSON_CreateObject();
      char *plain = md_to_plain(reply->text.data ? reply->text.data : "", NULL, NULL);
      cJSON_AddStringToObject(errors, "who", plain && plain[0] ? plain : "That was refused.");
      free(plain);
    }
    cJSON *card = form_card(ctx, f, req->user, req->payload, errors);
    cJSON_Delete(errors);
    cJSON_Delete(reply->card);
    reply->card = card;
    return rc ? rc : KX_EINVAL;
  }
  if (rc)
    return rc;
  /* Accepted: the Home again, in place, with the command's answer on top. */
  cJSON *card = home_teams_card(ctx, req->user);
  if (!card)
    return KX_ENOMEM;
  if (reply->text.len) {
    char *plain = md_to_plain(reply->text.data, NULL, NULL);
    cJSON *body = cJSON_GetObjectItemCaseSensitive(card, "body");
    cJSON_InsertItemInArray(body, 0, text_block(plain ? plain : "Done.", NULL, "Good"));
    free(plain);
  }
  cJSON_Delete(reply->card);
  reply->card = card;
  return 0;
}
