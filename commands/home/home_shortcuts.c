/*
 * home_shortcuts.c — the message shortcuts (issue 16). "Add to incident timeline" on any
 * message: in an incident's channel the message becomes a key entry of that incident's
 * timeline at once; elsewhere a form asks which open incident (the message travels in the
 * form's private_metadata). "Declare incident from this message" opens the declare form filled
 * with the message, whose submission is /incident declare's own (CMD_VIEW_INCIDENT_DECLARE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/names.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/home/home.h"
#include "commands/home/home_state.h"
#include "commands/incident/incident.h"
#include "lib/kx.h"
#include "storage/incident_timeline.h"
#include "storage/incidents.h"

#define META_TEXT_MAX 1500 /* of the message carried in private_metadata (3000 at most) */

static cJSON *text_obj(const char *type, const char *text)
{
  cJSON *t = cJSON_CreateObject();
  cJSON_AddStringToObject(t, "type", type);
  cJSON_AddStringToObject(t, "text", text);
  return t;
}

/* A copy of s cut to at most max bytes, never inside a UTF-8 sequence. */
static char *cut(const char *s, size_t max)
{
  size_t n = strlen(s);
  if (n > max) {
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
      n--;
  }
  return kx_strndup(s, n);
}

static int add_entry(struct cmd_ctx *ctx,
                     int64_t id,
                     const struct home_shortcut *sc,
                     const char *by)
{
  const struct person *p =
      sc->author ? cmd_person_for_user(ctx, CMD_PLATFORM_SLACK, sc->author) : NULL;
  char *text = cut(sc->text, HOME_SHORTCUT_TEXT_MAX);
  if (!text)
    return KX_ENOMEM;
  struct timeline_new e = {
      .incident_id = id,
      .kind = "message",
      .who = p ? p->id : sc->author,
      .text = text[0] ? text : "(a message without text)",
      .at_ms = 0,
      .key = true,
      .source_ts = sc->ts,
      .now_ms = ctx->now_ms,
  };
  char *end;
  double secs = strtod(sc->ts, &end);
  e.at_ms = secs > 0 ? (int64_t)(secs * 1000.0) : ctx->now_ms;
  int rc = timeline_add(ctx->db, &e, NULL);
  free(text);
  if (rc == KX_EEXISTS) /* said in the channel, so already there: make it a key entry */
    rc = timeline_mark(ctx->db, id, sc->ts, TIMELINE_PINNED);
  (void)by;
  return rc;
}

static int incident_options(struct cmd_ctx *ctx, cJSON *opts)
{
  struct incident *list = NULL;
  size_t n = 0;
  int rc = incidents_list(ctx->db, INCIDENTS_OPEN, 0, 0, &list, &n);
  if (rc)
    return rc;
  for (size_t k = 0; k < n && k < 100; k++) {
    const struct incident *inc = &list[n - 1 - k];
    char label[256], value[32];
    snprintf(label, sizeof(label), "#%lld %s", (long long)inc->id, inc->title);
    char *l = cut(label, 75);
    snprintf(value, sizeof(value), "%lld", (long long)inc->id);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "text", text_obj("plain_text", l ? l : value));
    cJSON_AddStringToObject(o, "value", value);
    cJSON_AddItemToArray(opts, o);
    free(l);
  }
  incidents_free(list, n);
  return (int)(n > 100 ? 100 : n);
}

static int open_view(struct cmd_ctx *ctx, const struct cmd_request *req, cJSON *view)
{
  cJSON *body = cJSON_CreateObject();
  if (!body || !view) {
    cJSON_Delete(body);
    cJSON_Delete(view);
    return KX_ENOMEM;
  }
  cJSON_AddStringToObject(body, "trigger_id", req->trigger_id);
  cJSON_AddItemToObject(body, "view", view);
  return out_slack_call(ctx, "views.open", "views.open", body, OUTBOX_URGENT, NULL, NULL, NULL);
}

static cJSON *modal(const char *callback, const char *title, const char *submit)
{
  cJSON *view = cJSON_CreateObject();
  cJSON_AddStringToObject(view, "type", "modal");
  cJSON_AddStringToObject(view, "callback_id", callback);
  cJSON_AddItemToObject(view, "title", text_obj("plain_text", title));
  cJSON_AddItemToObject(view, "submit", text_obj("plain_text", submit));
  cJSON_AddItemToObject(view, "close", text_obj("plain_text", "Cancel"));
  return view;
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

static int ask_which(struct cmd_ctx *ctx,
                     const struct cmd_request *req,
                     const struct home_shortcut *sc,
                     struct cmd_reply *reply)
{
  cJSON *view = modal(CMD_VIEW_TIMELINE_ADD, "Add to a timeline", "Add");
  cJSON *blocks = cJSON_AddArrayToObject(view, "blocks");
  cJSON *sel = input(blocks, "incident", "Incident", "static_select");
  int n = incident_options(ctx, cJSON_AddArrayToObject(sel, "options"));
  if (n <= 0) {
    cJSON_Delete(view);
    if (n < 0)
      return n;
    cmd_reply_printf(reply, "There is no open incident to add this message to.");
    return KX_ESTATE;
  }
  char *quote = cut(sc->text[0] ? sc->text : "(a message without text)", 2900);
  cJSON *ctxb = cJSON_CreateObject();
  cJSON_AddStringToObject(ctxb, "type", "context");
  cJSON *els = cJSON_AddArrayToObject(ctxb, "elements");
  cJSON_AddItemToArray(els, text_obj("plain_text", quote ? quote : "…"));
  cJSON_AddItemToArray(blocks, ctxb);
  free(quote);
  cJSON *meta = cJSON_CreateObject();
  cJSON_AddStringToObject(meta, "c", sc->channel);
  cJSON_AddStringToObject(meta, "ts", sc->ts);
  if (sc->author)
    cJSON_AddStringToObject(meta, "u", sc->author);
  char *t = cut(sc->text, META_TEXT_MAX);
  cJSON_AddStringToObject(meta, "t", t ? t : "");
  free(t);
  char *pm = cJSON_PrintUnformatted(meta);
  cJSON_Delete(meta);
  /* Quotes and control characters grow when escaped: a text that no longer fits is cut more. */
  if (pm && strlen(pm) > 3000) {
    free(pm);
    pm = NULL;
  }
  cJSON_AddStringToObject(view, "private_metadata", pm ? pm : "{}");
  free(pm);
  return open_view(ctx, req, view);
}

int home_sc_timeline(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  struct home_shortcut sc;
  if (home_shortcut_parse(req->payload, &sc) != 0) {
    cmd_reply_printf(reply, "I could not read that message.");
    return KX_EINVAL;
  }
  int64_t id = incident_in_channel(ctx, sc.channel);
  if (!id)
    return ask_which(ctx, req, &sc, reply);
  int rc = add_entry(ctx, id, &sc, req->user);
  if (rc == 0)
    cmd_reply_printf(reply, "Added to the timeline of incident #%lld as a key entry.",
                     (long long)id);
  return rc;
}

int home_view_timeline(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  const char *which = home_state_get(req->payload, "incident");
  const char *pm = home_state_metadata(req->payload);
  cJSON *meta = pm ? cJSON_Parse(pm) : NULL;
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(meta, "c");
  const cJSON *ts = cJSON_GetObjectItemCaseSensitive(meta, "ts");
  const cJSON *u = cJSON_GetObjectItemCaseSensitive(meta, "u");
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(meta, "t");
  char *end = NULL;
  long long id = which ? strtoll(which, &end, 10) : 0;
  struct incident inc;
  int rc = 0;
  if (!which || *end || id <= 0 || incidents_get(ctx->db, id, &inc) != 0) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "response_action", "errors");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "errors"), "incident",
                            "Pick one of the open incidents.");
    reply->view_response = r;
    cJSON_Delete(meta);
    return KX_EINVAL;
  }
  bool open = incident_is_open(&inc);
  incident_clear(&inc);
  struct home_shortcut sc = {
      .channel = cJSON_IsString(c) ? c->valuestring : NULL,
      .ts = cJSON_IsString(ts) ? ts->valuestring : NULL,
      .author = cJSON_IsString(u) && md_id_ok(u->valuestring) ? u->valuestring : NULL,
      .text = cJSON_IsString(t) ? t->valuestring : "",
  };
  if (!open || !sc.channel || !sc.ts) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "response_action", "errors");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(r, "errors"), "incident",
                            open ? "I lost the message; try the shortcut again."
                                 : "That incident is resolved now; pick another.");
    reply->view_response = r;
    rc = KX_EINVAL;
  }
  if (rc == 0)
    rc = add_entry(ctx, id, &sc, req->user);
  cJSON_Delete(meta);
  return rc;
}

int home_sc_declare(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  struct home_shortcut sc;
  if (home_shortcut_parse(req->payload, &sc) != 0) {
    cmd_reply_printf(reply, "I could not read that message.");
    return KX_EINVAL;
  }
  cJSON *view = modal(CMD_VIEW_INCIDENT_DECLARE, "Declare an incident", "Declare");
  cJSON *blocks = cJSON_AddArrayToObject(view, "blocks");
  /* The title: the message's first line; the description: all of it. */
  size_t line = strcspn(sc.text, "\n");
  char *first = kx_strndup(sc.text, line);
  char *title = first ? cut(first, INCIDENT_TITLE_MAX) : NULL;
  free(first);
  cJSON *el = input(blocks, "title", "Title", "plain_text_input");
  cJSON_AddNumberToObject(el, "max_length", INCIDENT_TITLE_MAX);
  if (title && title[0])
    cJSON_AddStringToObject(el, "initial_value", title);
  free(title);
  cJSON *sel = input(blocks, "severity", "Severity", "static_select");
  cJSON *opts = cJSON_AddArrayToObject(sel, "options");
  const struct config *cf = ctx->config;
  for (size_t i = 0; i < cf->n_severities && i < 100; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "text", text_obj("plain_text", cf->severities[i].name));
    cJSON_AddStringToObject(o, "value", cf->severities[i].name);
    cJSON_AddItemToArray(opts, o);
  }
  const char *dflt = cf->default_severity ? cf->default_severity
                     : cf->n_severities   ? cf->severities[cf->n_severities - 1].name
                                          : NULL;
  if (dflt) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "text", text_obj("plain_text", dflt));
    cJSON_AddStringToObject(o, "value", dflt);
    cJSON_AddItemToObject(sel, "initial_option", o);
  }
  el = input(blocks, "description", "Description", "plain_text_input");
  cJSON_AddBoolToObject(el, "multiline", 1);
  cJSON_AddNumberToObject(el, "max_length", INCIDENT_TEXT_MAX);
  char *desc = cut(sc.text, INCIDENT_TEXT_MAX);
  if (desc && desc[0])
    cJSON_AddStringToObject(el, "initial_value", desc);
  free(desc);
  cJSON_AddBoolToObject(cJSON_GetArrayItem(blocks, 2), "optional", 1);
  cJSON *meta = cJSON_CreateObject();
  cJSON_AddStringToObject(meta, "channel", sc.channel);
  cJSON_AddBoolToObject(meta, "drill", 0);
  char *pm = cJSON_PrintUnformatted(meta);
  cJSON_Delete(meta);
  cJSON_AddStringToObject(view, "private_metadata", pm ? pm : "{}");
  free(pm);
  return open_view(ctx, req, view);
}
