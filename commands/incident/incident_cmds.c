/*
 * incident_cmds.c — the `/incident` subcommands used while an incident runs: declare (words or
 * the modal), list, role and lead, note, timeline, impact-start, sev, status, ack and update,
 * and the summary's role buttons.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/incident/incident_internal.h"
#include "commands/incident/incident_parse.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "storage/incident_roles.h"
#include "storage/incident_timeline.h"

/* ---- declare -------------------------------------------------------------------------------- */

static cJSON *text_obj(const char *type, const char *text)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", type);
  cJSON_AddStringToObject(o, "text", text);
  return o;
}

static cJSON *input_block(const char *id, const char *label, cJSON *element, bool optional)
{
  cJSON *b = cJSON_CreateObject();
  cJSON_AddStringToObject(b, "type", "input");
  cJSON_AddStringToObject(b, "block_id", id);
  cJSON_AddItemToObject(b, "label", text_obj("plain_text", label));
  cJSON_AddStringToObject(element, "action_id", id);
  cJSON_AddItemToObject(b, "element", element);
  if (optional)
    cJSON_AddBoolToObject(b, "optional", 1);
  return b;
}

static cJSON *option(const char *name)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "text", text_obj("plain_text", name));
  cJSON_AddStringToObject(o, "value", name);
  return o;
}

static int open_modal(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct incident_declare_args *a)
{
  const struct config *c = ctx->config;
  cJSON *view = cJSON_CreateObject();
  cJSON_AddStringToObject(view, "type", "modal");
  cJSON_AddStringToObject(view, "callback_id", CMD_VIEW_INCIDENT_DECLARE);
  cJSON_AddItemToObject(
      view, "title", text_obj("plain_text", a->drill ? "Declare a drill" : "Declare an incident"));
  cJSON_AddItemToObject(view, "submit", text_obj("plain_text", "Declare"));
  cJSON_AddItemToObject(view, "close", text_obj("plain_text", "Cancel"));
  cJSON *meta = cJSON_CreateObject();
  if (req->channel)
    cJSON_AddStringToObject(meta, "channel", req->channel);
  cJSON_AddBoolToObject(meta, "drill", a->drill);
  if (a->rota)
    cJSON_AddStringToObject(meta, "rota", a->rota);
  char *pm = cJSON_PrintUnformatted(meta);
  cJSON_Delete(meta);
  cJSON_AddStringToObject(view, "private_metadata", pm ? pm : "{}");
  free(pm);
  cJSON *blocks = cJSON_AddArrayToObject(view, "blocks");
  cJSON *title = cJSON_CreateObject();
  cJSON_AddStringToObject(title, "type", "plain_text_input");
  cJSON_AddNumberToObject(title, "max_length", INCIDENT_TITLE_MAX);
  cJSON_AddItemToObject(title, "placeholder", text_obj("plain_text", "What is broken, for whom?"));
  cJSON_AddItemToArray(blocks, input_block("title", "Title", title, false));
  cJSON *sel = cJSON_CreateObject();
  cJSON_AddStringToObject(sel, "type", "static_select");
  cJSON *opts = cJSON_AddArrayToObject(sel, "options");
  const struct severity *initial = a->severity;
  if (!initial && c->default_severity)
    initial = config_severity(c, c->default_severity);
  if (!initial && c->n_severities)
    initial = &c->severities[c->n_severities - 1];
  for (size_t i = 0; i < c->n_severities && i < 100; i++)
    cJSON_AddItemToArray(opts, option(c->severities[i].name));
  if (initial)
    cJSON_AddItemToObject(sel, "initial_option", option(initial->name));
  cJSON_AddItemToArray(blocks, input_block("severity", "Severity", sel, false));
  cJSON *desc = cJSON_CreateObject();
  cJSON_AddStringToObject(desc, "type", "plain_text_input");
  cJSON_AddBoolToObject(desc, "multiline", 1);
  cJSON_AddNumberToObject(desc, "max_length", INCIDENT_TEXT_MAX);
  cJSON_AddItemToArray(blocks, input_block("description", "Description", desc, true));
  cJSON *body = cJSON_CreateObject();
  cJSON_AddStringToObject(body, "trigger_id", req->trigger_id);
  cJSON_AddItemToObject(body, "view", view);
  /* The trigger expires in 3 s: the most urgent row there is. */
  return out_slack_call(ctx, "views.open", "views.open", body, OUTBOX_URGENT, NULL, NULL, NULL);
}

int incident_cmd_declare(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         const struct cmd_args *args,
                         struct cmd_reply *reply)
{
  struct incident_declare_args a;
  struct buf err;
  md_init(&err);
  int rc = incident_parse_declare(ctx->config, args, &a, &err);
  if (rc) {
    if (rc == KX_EINVAL)
      incident_reply_markup(reply, &err);
    buf_free(&err);
    return rc;
  }
  buf_free(&err);
  if (!a.title) {
    if (!req->trigger_id || req->platform != CMD_PLATFORM_SLACK) {
      cmd_usage(reply, args->def);
      return KX_EINVAL;
    }
    return open_modal(ctx, req, &a);
  }
  char *title = incident_typed(ctx, req, a.title, true);
  incident_declare_args_free(&a);
  if (!title)
    return KX_ENOMEM;
  if (strlen(title) > INCIDENT_TITLE_MAX) {
    free(title);
    return incident_too_long(reply, "title", INCIDENT_TITLE_MAX);
  }
  const struct person *p = cmd_person_for_user(ctx, req->platform, req->user);
  struct incident_new n = {
      .title = title,
      .severity = a.severity ? a.severity->name : NULL,
      .declared_by_person = p ? p->id : NULL,
      .declared_by_user = req->user,
      .platform = req->platform,
      .origin_channel = req->channel,
      .drill = a.drill,
      .rota = a.rota,
  };
  rc = incident_declare(ctx, &n, NULL, reply);
  free(title);
  return rc;
}

static const char *state_value(const cJSON *values, const char *id, bool select)
{
  const cJSON *entry =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(values, id), id);
  const cJSON *v = select ? cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(entry, "selected_option"), "value")
                          : cJSON_GetObjectItemCaseSensitive(entry, "value");
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void view_error(struct cmd_reply *reply, const char *block, const char *sentence)
{
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "response_action", "errors");
  cJSON *errors = cJSON_AddObjectToObject(r, "errors");
  cJSON_AddStringToObject(errors, block, sentence);
  cJSON_Delete(reply->view_response);
  reply->view_response = r;
}

int incident_view_declare(struct cmd_ctx *ctx,
                          const struct cmd_request *req,
                          struct cmd_reply *reply)
{
  const cJSON *view = cJSON_GetObjectItemCaseSensitive(req->payload, "view");
  const cJSON *values =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(view, "state"), "values");
  const cJSON *pm = cJSON_GetObjectItemCaseSensitive(view, "private_metadata");
  cJSON *meta = cJSON_IsString(pm) ? cJSON_Parse(pm->valuestring) : NULL;
  const cJSON *mc = cJSON_GetObjectItemCaseSensitive(meta, "channel");
  const cJSON *mr = cJSON_GetObjectItemCaseSensitive(meta, "rota");
  bool drill = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "drill"));
  char *title = incident_clean(state_value(values, "title", false), true);
  char *desc = incident_clean(state_value(values, "description", false), false);
  const char *sev = state_value(values, "severity", true);
  int rc = (title && desc) ? 0 : KX_ENOMEM;
  if (rc == 0 && !title[0]) {
    view_error(reply, "title", "Give the incident a title.");
    rc = KX_EINVAL;
  } else if (rc == 0 && strlen(title) > INCIDENT_TITLE_MAX) {
    view_error(reply, "title", "That title is too long.");
    rc = KX_EINVAL;
  } else if (rc == 0 && sev && !config_severity(ctx->config, sev)) {
    view_error(reply, "severity", "Pick one of the severities.");
    rc = KX_EINVAL;
  }
  if (rc == 0) {
    const struct person *p = cmd_person_for_user(ctx, req->platform, req->user);
    struct incident_new n = {
        .title = title,
        .severity = sev,
        .description = desc[0] ? desc : NULL,
        .declared_by_person = p ? p->id : NULL,
        .declared_by_user = req->user,
        .platform = req->platform,
        .origin_channel = cJSON_IsString(mc) ? mc->valuestring : NULL,
        .drill = drill,
        .rota = cJSON_IsString(mr) && config_rota(ctx->config, mr->valuestring) ? mr->valuestring
                                                                                : NULL,
    };
    rc = incident_declare(ctx, &n, NULL, reply);
    /* A modal has no place for the answer: it goes to where the command was typed. */
    if (rc == 0 && n.origin_channel && req->user && reply->text.len) {
      struct msg *m = msg_new();
      rc = m ? msg_section(m, reply->text.data) : KX_ENOMEM;
      if (rc == 0)
        rc = msg_set_fallback(m, "Incident declared");
      if (rc == 0)
        rc = out_ephemeral(ctx, n.origin_channel, req->user, m);
      msg_free(m);
    }
  }
  cJSON_Delete(meta);
  free(title);
  free(desc);
  return rc;
}

/* ---- list ------------------------------------------------------------------------------------ */

int incident_cmd_list(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply)
{
  (void)req;
  (void)args;
  struct incident *list = NULL;
  size_t n = 0;
  int rc = incidents_list(ctx->db, INCIDENTS_OPEN, 0, 0, &list, &n);
  if (rc)
    return rc;
  if (n == 0) {
    incidents_free(list, n);
    return cmd_reply_printf(reply, "No open incidents. :tada:");
  }
  struct buf b;
  md_init(&b);
  md_printf(&b, "*Open incidents (%zu):*", n);
  for (size_t i = 0; i < n; i++) {
    const struct incident *x = &list[i];
    char age[32];
    md_raw(&b, "\n• ");
    incident_md_ref(&b, x);
    md_printf(&b, " *%s* ", x->severity);
    md_text(&b, x->title);
    md_raw(&b, " — ");
    incident_md_channel(&b, x);
    md_printf(&b, " — %s%s — IC ", x->status, x->acknowledged_at ? ", acknowledged" : "");
    incident_md_who(&b, ctx, x->roles[INCIDENT_ROLE_COMMANDER]);
    md_printf(&b, " — open %s",
              time_format_duration(ctx->now_ms - x->declared_at, age, sizeof(age)));
  }
  incidents_free(list, n);
  return incident_reply_markup(reply, &b);
}

/* ---- roles ------------------------------------------------------------------------------------
 */

static int incident_set_role(struct cmd_ctx *ctx,
                             const struct incident *inc,
                             enum incident_role role,
                             const char *who,
                             const char *by,
                             struct cmd_reply *reply)
{
  const char *name = incident_role_name(role);
  const char *old = inc->roles[role];
  if (kx_streq(old, who)) {
    struct buf b;
    md_init(&b);
    if (who) {
      incident_md_who(&b, ctx, who);
      md_printf(&b, " is already the %s of ", name);
    } else {
      md_printf(&b, "Nobody is the %s of ", name);
    }
    incident_md_ref(&b, inc);
    md_raw(&b, ".");
    return incident_reply_markup(reply, &b);
  }
  int rc = incident_roles_set(ctx->db, inc->id, role, who, ctx->now_ms);
  if (rc)
    return rc;
  char *text =
      who ? kx_asprintf("%s is now %s%s%s%s", incident_who_name(ctx, who), name,
                        old ? " (was " : "", old ? incident_who_name(ctx, old) : "", old ? ")" : "")
          : kx_asprintf("Nobody is %s any more (was %s)", name, incident_who_name(ctx, old));
  if (!text)
    return KX_ENOMEM;
  struct timeline_new e = {inc->id, "role", by, text, ctx->now_ms, false, NULL, ctx->now_ms};
  rc = timeline_add(ctx->db, &e, NULL);
  free(text);
  if (rc)
    return rc;
  struct buf b;
  md_init(&b);
  md_raw(&b, ":bust_in_silhouette: ");
  if (who) {
    incident_md_who(&b, ctx, who);
    md_printf(&b, " is now the *%s*", name);
  } else {
    md_printf(&b, "Nobody is the *%s* now", name);
  }
  if (old) {
    md_raw(&b, " (was ");
    incident_md_who(&b, ctx, old);
    md_raw(&b, ")");
  }
  if (!kx_streq(by, who)) {
    md_raw(&b, " — set by ");
    incident_md_who(&b, ctx, by);
  }
  md_raw(&b, ".");
  rc = incident_say(ctx, inc, &b, "Role change", OUTBOX_NORMAL);
  if (rc == 0 && who) {
    const char *whos[1] = {who};
    rc = incident_invite(ctx, inc, whos, 1);
  }
  if (rc == 0)
    rc = incident_refresh(ctx, inc->id, role == INCIDENT_ROLE_COMMANDER);
  if (rc)
    return rc;
  md_init(&b);
  md_raw(&b, "Done: ");
  if (who)
    incident_md_who(&b, ctx, who);
  else
    md_raw(&b, "nobody");
  md_printf(&b, " is the %s of ", name);
  incident_md_ref(&b, inc);
  md_raw(&b, ".");
  return incident_reply_markup(reply, &b);
}

int incident_cmd_role(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply)
{
  int role = incident_role_parse(args->argv[0]);
  if (role < 0) {
    char *esc = md_escape(args->argv[0]);
    cmd_reply_printf(reply, "`%s` is not a role. ", esc ? esc : "");
    cmd_usage(reply, args->def);
    free(esc);
    return KX_EINVAL;
  }
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "role", &inc);
  if (rc)
    return rc;
  rc = incident_need_open(&inc, reply, "role");
  char buf[64], me[64];
  const char *who = NULL;
  if (rc == 0 && strcasecmp(args->argv[1], "none") != 0 &&
      strcasecmp(args->argv[1], "nobody") != 0) {
    who = incident_arg_who(ctx, req, args->argv[1], buf, sizeof(buf));
    if (!who)
      rc = incident_unknown_person(reply, args->argv[1], args->def);
  }
  if (rc == 0)
    rc = incident_set_role(ctx, &inc, (enum incident_role)role, who,
                           incident_who(ctx, req->platform, req->user, me, sizeof(me)), reply);
  incident_clear(&inc);
  return rc;
}

int incident_cmd_lead(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply)
{
  (void)args;
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "lead", &inc);
  if (rc)
    return rc;
  char me[64];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  rc = incident_need_open(&inc, reply, "lead");
  if (rc == 0)
    rc = incident_set_role(ctx, &inc, INCIDENT_ROLE_COMMANDER, who, who, reply);
  incident_clear(&inc);
  return rc;
}

static int button_role(struct cmd_ctx *ctx,
                       const struct cmd_request *req,
                       struct cmd_reply *reply,
                       enum incident_role role)
{
  struct incident inc;
  char *end = NULL;
  long long id = req->action_value ? strtoll(req->action_value, &end, 10) : 0;
  int rc = (end && *end == '\0' && id > 0) ? incidents_get(ctx->db, id, &inc) : KX_ENOTFOUND;
  if (rc == KX_ENOTFOUND) {
    cmd_reply_printf(reply, "I cannot find that incident any more.");
    return KX_ENOTFOUND;
  }
  if (rc)
    return rc;
  char me[64];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  rc = incident_need_open(&inc, reply, role == INCIDENT_ROLE_COMMANDER ? "lead" : "role");
  if (rc == 0)
    rc = incident_set_role(ctx, &inc, role, who, who, reply);
  incident_clear(&inc);
  return rc;
}

int incident_btn_take_commander(struct cmd_ctx *ctx,
                                const struct cmd_request *req,
                                struct cmd_reply *reply)
{
  return button_role(ctx, req, reply, INCIDENT_ROLE_COMMANDER);
}

int incident_btn_take_scribe(struct cmd_ctx *ctx,
                             const struct cmd_request *req,
                             struct cmd_reply *reply)
{
  return button_role(ctx, req, reply, INCIDENT_ROLE_SCRIBE);
}

/* ---- note, timeline ----------------------------------------------------------------------------
 */

int incident_cmd_note(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply)
{
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "note", &inc);
  if (rc)
    return rc;
  char me[64];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  char *text = incident_typed(ctx, req, args->rest[0], false);
  if (!text)
    rc = KX_ENOMEM;
  else if (strlen(text) > INCIDENT_TEXT_MAX)
    rc = incident_too_long(reply, "note", INCIDENT_TEXT_MAX);
  else if (inc.closed_at)
    rc = incident_need_open(&inc, reply, "note");
  if (rc == 0) {
    struct timeline_new e = {inc.id, "note", who, text, ctx->now_ms, false, NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, ":memo: Note from ");
    incident_md_who(&b, ctx, who);
    md_raw(&b, ": ");
    md_text(&b, text);
    rc = incident_say(ctx, &inc, &b, text, OUTBOX_NORMAL);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, "Noted in the timeline of ");
    incident_md_ref(&b, &inc);
    md_raw(&b, ".");
    rc = incident_reply_markup(reply, &b);
  }
  free(text);
  incident_clear(&inc);
  return rc;
}

static void short_time(struct cmd_ctx *ctx, int64_t ms, char *buf, size_t size)
{
  struct kx_local l;
  if (tz_to_local(ctx->config->timezone, ms, &l) == 0)
    snprintf(buf, size, "%02d-%02d %02d:%02d", l.m, l.d, l.hh, l.mm);
  else
    snprintf(buf, size, "?");
}

int incident_cmd_timeline(struct cmd_ctx *ctx,
                          const struct cmd_request *req,
                          const struct cmd_args *args,
                          struct cmd_reply *reply)
{
  (void)args;
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "timeline", &inc);
  if (rc)
    return rc;
  struct timeline_entry *list = NULL;
  size_t n = 0;
  rc = timeline_list(ctx->db, inc.id, TIMELINE_LATEST, INCIDENT_TIMELINE_SHOWN, &list, &n);
  int64_t total = rc ? 0 : timeline_count(ctx->db, inc.id);
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, "*Timeline of* ");
    incident_md_ref(&b, &inc);
    if (total > (int64_t)n)
      md_printf(&b, " (the latest %zu of %lld; the postmortem has them all)", n, (long long)total);
    for (size_t i = 0; i < n; i++) {
      char t[32];
      short_time(ctx, list[i].at_ms, t, sizeof(t));
      md_printf(&b, "\n%s `%s` ", list[i].key ? ":pushpin:" : "•", t);
      if (list[i].who) {
        md_bold(&b, incident_who_name(ctx, list[i].who));
        md_raw(&b, ": ");
      }
      if (incident_cut(list[i].text, 300)) {
        md_text(&b, list[i].text);
        md_raw(&b, "…");
      } else {
        md_text(&b, list[i].text);
      }
    }
    rc = incident_reply_markup(reply, &b);
  }
  timeline_free(list, n);
  incident_clear(&inc);
  return rc;
}

/* ---- impact start ---------------------------------------------------------------------------- */

int incident_cmd_impact_start(struct cmd_ctx *ctx,
                              const struct cmd_request *req,
                              const struct cmd_args *args,
                              struct cmd_reply *reply)
{
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "impact-start", &inc);
  if (rc)
    return rc;
  int64_t at = 0;
  char t[48], d[32];
  if (inc.closed_at) {
    rc = incident_need_open(&inc, reply, "impact-start");
  } else if (incident_parse_time(ctx->config->timezone, args->rest[0], ctx->now_ms, &at) != 0) {
    cmd_reply_printf(reply,
                     "I cannot read that time. Try `/incident impact-start 09:40`, "
                     "`2026-11-24 09:40`, `45m ago` or an RFC 3339 time; times are in %s.",
                     ctx->config->timezone);
    rc = KX_EINVAL;
  } else if (at > inc.declared_at) {
    cmd_reply_printf(reply,
                     "The impact must have started before the incident was declared "
                     "(%s).",
                     incident_local_time(ctx, inc.declared_at, t, sizeof(t)));
    rc = KX_EINVAL;
  }
  char me[64];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  if (rc == 0)
    rc = incidents_set_time(ctx->db, inc.id, INCIDENT_F_IMPACT_START_AT, at);
  if (rc == 0) {
    int hidden = timeline_hide_kind(ctx->db, inc.id, "impact", ctx->now_ms);
    rc = hidden < 0 ? hidden : 0;
  }
  if (rc == 0) {
    char *text = kx_asprintf("Impact started (set by %s)", incident_who_name(ctx, who));
    struct timeline_new e = {inc.id, "impact", who,  text ? text : "Impact started",
                             at,     true,     NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
    free(text);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_printf(&b, ":hourglass: Impact started at *%s* (set by ",
              incident_local_time(ctx, at, t, sizeof(t)));
    incident_md_who(&b, ctx, who);
    md_printf(&b, "). Time to detect: *%s*.",
              time_format_duration(inc.declared_at - at, d, sizeof(d)));
    rc = incident_say(ctx, &inc, &b, "Impact start set", OUTBOX_NORMAL);
  }
  if (rc == 0)
    rc = incident_refresh(ctx, inc.id, false);
  if (rc == 0)
    rc = cmd_reply_printf(reply, "Impact start set to %s; time to detect %s.", t,
                          time_format_duration(inc.declared_at - at, d, sizeof(d)));
  incident_clear(&inc);
  return rc;
}
