/*
 * incident_status.c — an incident on the public status page (issue 13):
 * `/incident component NAME STATE` and `/incident update --public TEXT`. Only what is said with
 * --public is stored for the page (storage/status.h); a plain update stays in the timeline and
 * the channels. Resolving needs nothing here: the page counts only open incidents' components.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/core/msg.h"
#include "commands/incident/incident_internal.h"
#include "commands/incident/incident_rows.h"
#include "commands/status/status.h"
#include "lib/kx.h"
#include "lib/timeutil.h"
#include "storage/incident_timeline.h"
#include "storage/status.h"

#define STATUS_STATES_HELP \
  "operational, degraded_performance, partial_outage, major_outage or under_maintenance"

int incident_cmd_component(struct cmd_ctx *ctx,
                           const struct cmd_request *req,
                           const struct cmd_args *args,
                           struct cmd_reply *reply)
{
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "component", &inc);
  if (rc)
    return rc;
  const char *name = args->argv[0], *word = args->argv[1];
  int state = status_state_parse(word);
  rc = incident_need_open(&inc, reply, "component");
  if (rc == 0 && !config_component(ctx->config, name)) {
    char *e = md_escape(name);
    struct buf names;
    md_init(&names);
    for (size_t i = 0; i < ctx->config->status_page.n_components; i++)
      md_printf(&names, "%s`%s`", i ? ", " : "", ctx->config->status_page.components[i]);
    cmd_reply_printf(reply, "`%s` is not a component of the status page. The components: %s.",
                     e ? e : "", names.len ? names.data : "none (status_page.components)");
    buf_free(&names);
    free(e);
    rc = KX_ENOTFOUND;
  }
  if (rc == 0 && state < 0) {
    char *e = md_escape(word);
    cmd_reply_printf(reply, "`%s` is not a state. Say " STATUS_STATES_HELP ".", e ? e : "");
    free(e);
    rc = KX_EINVAL;
  }
  if (rc == 0)
    rc = status_component_set(ctx->db, inc.id, name, state, ctx->now_ms);
  if (rc == 0)
    rc = status_day_worst(ctx->db, name, ctx->now_ms / MS_PER_DAY, state);
  char me[64];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  char *text = rc == 0 ? kx_asprintf("status page: %s is %s", name, word) : NULL;
  if (rc == 0 && !text)
    rc = KX_ENOMEM;
  if (rc == 0) {
    struct timeline_new e = {inc.id, "note", who, text, ctx->now_ms, false, NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, "On the status page, *");
    md_text(&b, name);
    md_printf(&b, "* is now `%s` (until the incident is resolved).", status_state_name(state));
    rc = buf_append(&reply->text, b.data, b.len);
    buf_free(&b);
  }
  free(text);
  incident_clear(&inc);
  return rc;
}

/* The severity's status_page word ("auto", "ask", "never"); "ask" when unset. */
static const char *sev_policy(const struct config *c, const char *sev)
{
  for (size_t i = 0; sev && i < c->n_severities; i++)
    if (strcasecmp(c->severities[i].name, sev) == 0 && c->severities[i].status_page)
      return c->severities[i].status_page;
  return "ask";
}

int incident_cmd_update_public(struct cmd_ctx *ctx,
                               const struct cmd_request *req,
                               const struct cmd_args *args,
                               struct cmd_reply *reply)
{
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "update", &inc);
  if (rc)
    return rc;
  /* severities[].status_page: auto publishes every update; ask (the default) only --public. */
  const char *policy = sev_policy(ctx->config, inc.severity);
  if (!cmd_flag(args, "public") && strcmp(policy, "auto") != 0) {
    /* ask (the default): say how to publish, when there is a page to publish on. */
    bool ask = strcmp(policy, "ask") == 0 && ctx->config->status_page.n_components > 0 &&
               incident_is_open(&inc);
    incident_clear(&inc);
    rc = incident_cmd_update(ctx, req, args, reply);
    if (rc == 0 && ask)
      rc = cmd_reply_printf(reply,
                            " Internal: not on the status page (`/incident update --public "
                            "TEXT` publishes).");
    return rc;
  }
  rc = incident_need_open(&inc, reply, "update");
  if (rc == 0 && strcmp(sev_policy(ctx->config, inc.severity), "never") == 0) {
    cmd_reply_printf(reply,
                     "Severity %s never goes on the status page (severities[].status_page: "
                     "never), so this update was not posted. Send it without --public.",
                     inc.severity);
    rc = KX_ESTATE;
  }
  char *text = rc == 0 ? incident_typed(ctx, req, args->rest[0], false) : NULL;
  if (rc == 0 && !text)
    rc = KX_ENOMEM;
  if (rc == 0 && strlen(text) > INCIDENT_TEXT_MAX)
    rc = incident_too_long(reply, "update", INCIDENT_TEXT_MAX);
  if (rc == 0)
    rc = status_update_add(ctx->db, inc.id, inc.status ? inc.status : "investigating", text,
                           ctx->now_ms, NULL);
  if (rc == 0)
    rc = incident_cmd_update(ctx, req, args, reply);
  if (rc == 0)
    rc = status_notify_subscribers(ctx, inc.title, inc.status ? inc.status : "investigating", text);
  if (rc == 0)
    rc = cmd_reply_printf(reply, " Published on the status page.");
  free(text);
  incident_clear(&inc);
  return rc;
}
