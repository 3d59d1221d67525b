/*
 * home_forms.c — the forms that stand in for typed syntax: override, away, swap and page
 * someone, opened with views.open (the trigger_id of a slash command or a Home button) and
 * answered on view_submission. A submission is checked field by field (a refusal is
 * `response_action: errors` in the Socket Mode ack, naming the field), then run as the typed
 * command it stands for, so the rules live in one place (commands/oncall/, commands/paging/).
 * A refusal from that command is shown on the form too; a success closes the form, tells the
 * person in a DM from the app, and redraws their Home.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands/core/msg.h"
#include "commands/core/names.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/home/home.h"
#include "commands/home/home_state.h"
#include "commands/oncall/oncall_cmd.h"
#include "commands/paging/paging.h"
#include "lib/kx.h"
#include "lib/log.h"

struct form {
  const char *callback; /* CMD_VIEW_* */
  const char *title;    /* at most 24 characters (Block Kit) */
  const char *submit;
  const char *command; /* the typed subcommand of /oncall it runs */
};

static const struct form forms[] = {
    {CMD_VIEW_ONCALL_OVERRIDE, "Override a shift", "Override", "override"},
    {CMD_VIEW_ONCALL_AWAY, "I'm away", "Save", "away"},
    {CMD_VIEW_ONCALL_SWAP, "Swap shifts", "Swap", "swap"},
    {CMD_VIEW_ONCALL_PAGE, "Page someone", "Page", "page"},
    {NULL, NULL, NULL, NULL},
};

static const struct form *form_find(const char *callback)
{
  for (const struct form *f = forms; callback && f->callback; f++)
    if (strcmp(f->callback, callback) == 0)
      return f;
  return NULL;
}

static cJSON *text_obj(const char *type, const char *text)
{
  cJSON *t = cJSON_CreateObject();
  cJSON_AddStringToObject(t, "type", type);
  cJSON_AddStringToObject(t, "text", text);
  return t;
}

static cJSON *option(const char *label, const char *value)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "text", text_obj("plain_text", label));
  cJSON_AddStringToObject(o, "value", value);
  return o;
}

/* An input block whose block_id and action_id are both `id`. */
static cJSON *input(
    cJSON *blocks, const char *id, const char *label, const char *type, bool optional)
{
  cJSON *el = cJSON_CreateObject();
  cJSON_AddStringToObject(el, "type", type);
  cJSON_AddStringToObject(el, "action_id", id);
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "type", "input");
  cJSON_AddStringToObject(b, "block_id", id);
  cJSON_AddItemToObject(b, "label", text_obj("plain_text", label));
  cJSON_AddItemToObject(b, "element", el);
  if (optional)
    cJSON_AddBoolToObject(b, "optional", 1);
  cJSON_AddItemToArray(blocks, b);
  return el;
}

static void user_input(
    cJSON *blocks, const char *id, const char *label, const char *initial, bool optional)
{
  cJSON *el = input(blocks, id, label, "users_select", optional);
  if (initial && home_state_user_ok(initial))
    cJSON_AddStringToObject(el, "initial_user", initial);
}

/* The rota as a static select (Block Kit allows 100 options), the person's own rota first. */
static void rota_input(struct cmd_ctx *ctx, cJSON *blocks, const char *user, bool optional)
{
  const struct config *c = ctx->config;
  cJSON *el = input(blocks, "rota", "Rota", "static_select", optional);
  cJSON *opts = cJSON_AddArrayToObject(el, "options");
  const struct person *me = cmd_person_for_user(ctx, CMD_PLATFORM_SLACK, user);
  const struct rota *initial = NULL;
  for (size_t i = 0; i < c->n_rotas && i < 100; i++) {
    cJSON_AddItemToArray(opts, option(c->rotas[i].name, c->rotas[i].name));
    for (size_t k = 0; me && !initial && k < c->rotas[i].n_primary; k++)
      if (strcmp(c->rotas[i].primary[k], me->id) == 0)
        initial = &c->rotas[i];
  }
  if (!initial && c->n_rotas == 1)
    initial = &c->rotas[0];
  if (initial)
    cJSON_AddItemToObject(el, "initial_option", option(initial->name, initial->name));
}

static void date_input(cJSON *blocks, const char *id, const char *label, struct cmd_ctx *ctx)
{
  cJSON *el = input(blocks, id, label, "datepicker", false);
  char today[16];
  time_t secs = (time_t)(ctx->now_ms / 1000);
  struct tm tm;
  if (gmtime_r(&secs, &tm)) {
    (void)strftime(today, sizeof(today), "%Y-%m-%d", &tm);
    cJSON_AddStringToObject(el, "initial_date", today);
  }
}

static void form_blocks(struct cmd_ctx *ctx, const struct form *f, const char *user, cJSON *blocks)
{
  if (strcmp(f->command, "override") == 0) {
    user_input(blocks, "who", "Who takes the shift", NULL, false);
    rota_input(ctx, blocks, user, false);
    date_input(blocks, "from", "From (the whole day)", ctx);
    date_input(blocks, "to", "To (the whole day)", ctx);
    cJSON *slot = input(blocks, "slot", "Slot", "static_select", false);
    cJSON *opts = cJSON_AddArrayToObject(slot, "options");
    cJSON_AddItemToArray(opts, option("Primary", "primary"));
    cJSON_AddItemToArray(opts, option("Secondary", "secondary"));
    cJSON_AddItemToObject(slot, "initial_option", option("Primary", "primary"));
  } else if (strcmp(f->command, "away") == 0) {
    user_input(blocks, "who", "Who is away", user, false);
    rota_input(ctx, blocks, user, false);
    date_input(blocks, "from", "From (the whole day)", ctx);
    date_input(blocks, "to", "To (the whole day)", ctx);
  } else if (strcmp(f->command, "swap") == 0) {
    user_input(blocks, "who", "Swap with", NULL, false);
    rota_input(ctx, blocks, user, false);
    date_input(blocks, "week", "A day of their shift you take", ctx);
  } else {
    user_input(blocks, "who", "A person", NULL, true);
    rota_input(ctx, blocks, user, true);
    cJSON *sev = input(blocks, "severity", "Severity (for a rota)", "static_select", true);
    cJSON *opts = cJSON_AddArrayToObject(sev, "options");
    for (size_t i = 0; i < ctx->config->n_severities && i < 100; i++)
      cJSON_AddItemToArray(
          opts, option(ctx->config->severities[i].name, ctx->config->severities[i].name));
    cJSON *text = input(blocks, "text", "What is wrong", "plain_text_input", false);
    cJSON_AddBoolToObject(text, "multiline", 1);
    cJSON_AddNumberToObject(text, "max_length", 1000);
  }
}

int home_form_open(struct cmd_ctx *ctx, const struct cmd_request *req, const char *callback)
{
  const struct form *f = form_find(callback);
  if (!f || !req->trigger_id)
    return KX_EINVAL;
  cJSON *view = cJSON_CreateObject();
  cJSON_AddStringToObject(view, "type", "modal");
  cJSON_AddStringToObject(view, "callback_id", f->callback);
  cJSON_AddItemToObject(view, "title", text_obj("plain_text", f->title));
  cJSON_AddItemToObject(view, "submit", text_obj("plain_text", f->submit));
  cJSON_AddItemToObject(view, "close", text_obj("plain_text", "Cancel"));
  form_blocks(ctx, f, req->user, cJSON_AddArrayToObject(view, "blocks"));
  cJSON *body = cJSON_CreateObject();
  if (!body) {
    cJSON_Delete(view);
    return KX_ENOMEM;
  }
  cJSON_AddStringToObject(body, "trigger_id", req->trigger_id);
  cJSON_AddItemToObject(body, "view", view);
  /* The trigger expires in 3 s: the most urgent row there is. */
  return out_slack_call(ctx, "views.open", "views.open", body, OUTBOX_URGENT, NULL, NULL, NULL);
}

/* ---- submissions ------------------------------------------------------------------------ */

void home_field_error(struct cmd_reply *reply, const char *block, const char *sentence)
{
  if (!reply->view_response) {
    reply->view_response = cJSON_CreateObject();
    cJSON_AddStringToObject(reply->view_response, "response_action", "errors");
    cJSON_AddObjectToObject(reply->view_response, "errors");
  }
  cJSON *errors = cJSON_GetObjectItemCaseSensitive(reply->view_response, "errors");
  if (errors && !cJSON_GetObjectItemCaseSensitive(errors, block))
    cJSON_AddStringToObject(errors, block, sentence);
}

/* Check the fields; on a problem, errors go into the reply and the typed text stays empty. */
void home_form_text(struct cmd_ctx *ctx,
                    const char *callback,
                    const cJSON *p,
                    bool teams,
                    struct cmd_reply *reply,
                    struct buf *text)
{
  const struct form *f = form_find(callback);
  /* Slack sends the form's state, Teams the card's inputs beside the action's data. */
  const char *(*get)(const cJSON *, const char *) = teams ? home_state_data : home_state_get;
  if (!f) {
    home_field_error(reply, "who", "This form is not known here.");
    return;
  }
  const char *who = get(p, "who");
  const char *rota = get(p, "rota");
  bool page = strcmp(f->command, "page") == 0;
  /* A Slack user id (a users_select), or on Teams a person id of the config (a choice). */
  const char *at = teams ? "@" : "<@", *close = teams ? "" : ">";
  if (who && !(teams ? config_person(ctx->config, who) != NULL : home_state_user_ok(who)))
    home_field_error(reply, "who", "Pick a person from the list.");
  else if (!who && !page)
    home_field_error(reply, "who", "Pick a person.");
  if (rota && !config_rota(ctx->config, rota))
    home_field_error(reply, "rota", "Pick one of the rotas.");
  else if (!rota && !page)
    home_field_error(reply, "rota", "Pick a rota.");
  if (page) {
    const char *sev = get(p, "severity");
    const char *what = get(p, "text");
    if (!who == !rota)
      home_field_error(reply, who ? "rota" : "who",
                       "Page either a person or a rota's on-call, not both.");
    if (sev && !config_severity(ctx->config, sev))
      home_field_error(reply, "severity", "Pick one of the severities.");
    if (!what || strlen(what) > 1000)
      home_field_error(reply, "text", "Say what is wrong (at most 1000 characters).");
    if (reply->view_response)
      return;
    buf_printf(text, "page %s%s%s ", who ? at : "", who ? who : rota, who ? close : "");
    if (rota && sev)
      buf_printf(text, "%s ", sev);
    buf_puts(text, what);
    return;
  }
  if (strcmp(f->command, "swap") == 0) {
    const char *week = get(p, "week");
    if (!home_state_date_ok(week))
      home_field_error(reply, "week", "Pick a date.");
    if (!reply->view_response)
      buf_printf(text, "swap %s%s%s %s --rota %s", at, who, close, week, rota);
    return;
  }
  const char *from = get(p, "from"), *to = get(p, "to");
  if (!home_state_date_ok(from))
    home_field_error(reply, "from", "Pick a date.");
  if (!home_state_date_ok(to))
    home_field_error(reply, "to", "Pick a date.");
  else if (home_state_date_ok(from) && strcmp(to, from) < 0)
    home_field_error(reply, "to", "The last day cannot be before the first.");
  if (reply->view_response)
    return;
  const char *slot = get(p, "slot");
  buf_printf(text, "%s %s%s%s %s %s --rota %s%s", f->command, at, who, close, from, to, rota,
             slot && strcmp(slot, "secondary") == 0 ? " --secondary" : "");
}

/* Run the typed command `text` of /oncall for the submitter; its answer lands in `reply`. */
int home_run_typed(struct cmd_ctx *ctx,
                   const struct cmd_request *req,
                   const char *group,
                   const char *text,
                   struct cmd_reply *reply)
{
  struct cmd_args words, args;
  int rc = cmd_args_parse(text, &words);
  if (rc)
    return rc == KX_ETOOBIG ? KX_EINVAL : rc;
  const struct cmd_def *d = words.argc ? cmd_lookup(group, words.argv[0]) : NULL;
  rc = d ? cmd_opts_split(d, &words, 1, &args, &reply->text) : KX_ENOTFOUND;
  if (rc == 0) {
    struct cmd_request typed = *req;
    typed.kind = CMD_KIND_COMMAND;
    typed.command = group;
    typed.text = text;
    typed.trigger_id = NULL; /* a form must not open another form */
    rc = d->fn(ctx, &typed, &args, reply);
  }
  cmd_args_free(&words);
  return rc;
}

int home_tell(struct cmd_ctx *ctx, const char *user, const struct buf *markup)
{
  struct msg *m = msg_new();
  if (!m)
    return KX_ENOMEM;
  char *plain = md_to_plain(markup->data ? markup->data : "", NULL, NULL);
  int rc = msg_set_fallback(m, plain ? plain : "Done.");
  free(plain);
  if (rc == 0)
    rc = msg_section(m, markup->len ? markup->data : "Done.");
  if (rc == 0)
    rc = out_post(ctx, user, m, OUTBOX_NORMAL, NULL, NULL, NULL);
  msg_free(m);
  return rc;
}

int home_view_submit(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  const struct form *f = form_find(req->view_callback);
  if (!f)
    return KX_EINVAL;
  struct buf text;
  md_init(&text);
  home_form_text(ctx, f->callback, req->payload, false, reply, &text);
  if (reply->view_response) {
    buf_free(&text);
    return KX_EINVAL;
  }
  int rc = text.data ? home_run_typed(ctx, req, "oncall", text.data, reply) : KX_ENOMEM;
  buf_free(&text);
  if (rc == KX_EINVAL || rc == KX_ENOTFOUND || rc == KX_ESTATE || rc == KX_EAUTH) {
    /* The command's own refusal, on the form: plain text, at most what Slack shows. */
    char *plain = md_to_plain(reply->text.data ? reply->text.data : "", NULL, NULL);
    if (plain && strlen(plain) > 1900)
      plain[1900] = '\0';
    const char *block = strcmp(f->command, "page") == 0 ? "text" : "who";
    home_field_error(reply, block, plain && plain[0] ? plain : "That was refused.");
    free(plain);
    buf_reset(&reply->text);
    return rc;
  }
  if (rc)
    return rc;
  rc = home_tell(ctx, req->user, &reply->text);
  buf_reset(&reply->text);
  if (rc == 0)
    rc = home_publish(ctx, req->user, false);
  return rc;
}

/* ---- the typed commands that open a form when given no words ------------------------------ */

static int typed_or_form(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         const struct cmd_args *args,
                         struct cmd_reply *reply,
                         const char *callback,
                         int min_words,
                         cmd_fn typed)
{
  if (args->argc == 0 && req->platform == CMD_PLATFORM_SLACK && req->trigger_id)
    return home_form_open(ctx, req, callback);
  if (args->argc < min_words) {
    cmd_usage(reply, args->def);
    return KX_EINVAL;
  }
  return typed(ctx, req, args, reply);
}

int home_cmd_override(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply)
{
  return typed_or_form(ctx, req, args, reply, CMD_VIEW_ONCALL_OVERRIDE, 3, oncall_cmd_override);
}

int home_cmd_away(struct cmd_ctx *ctx,
                  const struct cmd_request *req,
                  const struct cmd_args *args,
                  struct cmd_reply *reply)
{
  return typed_or_form(ctx, req, args, reply, CMD_VIEW_ONCALL_AWAY, 2, oncall_cmd_away);
}

int home_cmd_swap(struct cmd_ctx *ctx,
                  const struct cmd_request *req,
                  const struct cmd_args *args,
                  struct cmd_reply *reply)
{
  return typed_or_form(ctx, req, args, reply, CMD_VIEW_ONCALL_SWAP, 2, oncall_cmd_swap);
}

int home_cmd_page(struct cmd_ctx *ctx,
                  const struct cmd_request *req,
                  const struct cmd_args *args,
                  struct cmd_reply *reply)
{
  return typed_or_form(ctx, req, args, reply, CMD_VIEW_ONCALL_PAGE, 2, paging_cmd_page);
}
