/*
 * incident_events.c — the timeline from the incident's channel: every human message (thread
 * replies too), edits applied, deletions hidden, and 📌 reactions and pins marking key events
 * (which keep the message's own time). Events about other channels are not ours: nothing is
 * done and 0 is returned, so other features' handlers of the same event still run.
 * A redelivered event is stored once (the dispatcher drops a repeated event id; the message's
 * ts is unique per incident as a second guard).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/incident/incident_internal.h"
#include "commands/incident/incident_parse.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/incident_timeline.h"

/* The longest message kept in a timeline (bytes); longer ones are cut with an ellipsis. */
#define INCIDENT_MESSAGE_MAX 4000

/* The incident of the event's channel, when it takes timeline entries (not closed). */
static int ours(struct cmd_ctx *ctx, const struct cmd_request *req, struct incident *inc)
{
  int rc = incidents_by_channel(ctx->db, req->channel, inc);
  if (rc)
    return rc == KX_ENOTFOUND ? 1 : rc;
  if (inc->closed_at) {
    incident_clear(inc);
    return 1;
  }
  return 0;
}

static char *message_text(struct cmd_ctx *ctx, const struct cmd_request *req)
{
  char *text = incident_typed(ctx, req, req->text ? req->text : "", false);
  if (!text)
    return NULL;
  if (!text[0]) {
    free(text);
    return kx_strdup("(a message without text, e.g. a file)");
  }
  if (incident_cut(text, INCIDENT_MESSAGE_MAX)) {
    char *cut = kx_asprintf("%s…", text);
    free(text);
    text = cut;
  }
  return text;
}

int incident_ev_message(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  (void)reply;
  struct incident inc;
  int rc = ours(ctx, req, &inc);
  if (rc)
    return rc > 0 ? 0 : rc;
  char me[64];
  char *text = message_text(ctx, req);
  if (!text) {
    incident_clear(&inc);
    return KX_ENOMEM;
  }
  struct timeline_new e = {
      .incident_id = inc.id,
      .kind = "message",
      .who = incident_who(ctx, req->platform, req->user, me, sizeof(me)),
      .text = text,
      .at_ms = req->event_time_ms ? req->event_time_ms : req->now_ms,
      .source_ts = req->message_ts,
      .now_ms = req->now_ms,
  };
  rc = timeline_add(ctx->db, &e, NULL);
  if (rc == KX_EEXISTS) {
    LOG_DEBUG("incident", "message_again", "id=%lld ts=%s", (long long)inc.id, req->message_ts);
    rc = 0;
  }
  free(text);
  incident_clear(&inc);
  return rc;
}

int incident_ev_changed(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  (void)reply;
  struct incident inc;
  int rc = ours(ctx, req, &inc);
  if (rc)
    return rc > 0 ? 0 : rc;
  char *text = message_text(ctx, req);
  rc = text ? timeline_edit(ctx->db, inc.id, req->message_ts, text, req->now_ms) : KX_ENOMEM;
  if (rc == KX_ENOTFOUND)
    rc = 0; /* a message from before the incident, or not a person's */
  free(text);
  incident_clear(&inc);
  return rc;
}

int incident_ev_deleted(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  (void)reply;
  struct incident inc;
  int rc = ours(ctx, req, &inc);
  if (rc)
    return rc > 0 ? 0 : rc;
  rc = timeline_delete(ctx->db, inc.id, req->message_ts, req->now_ms);
  if (rc == KX_ENOTFOUND)
    rc = 0;
  incident_clear(&inc);
  return rc;
}

int incident_ev_reaction(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         struct cmd_reply *reply)
{
  (void)reply;
  /* The transport puts the emoji's name in action_id (action_value on some platforms). */
  const char *emoji = req->action_id ? req->action_id : req->action_value;
  if (!kx_streq(emoji, "pushpin"))
    return 0;
  struct incident inc;
  int rc = ours(ctx, req, &inc);
  if (rc)
    return rc > 0 ? 0 : rc;
  rc = timeline_mark(
      ctx->db, inc.id, req->message_ts,
      req->kind == CMD_KIND_REACTION_ADDED ? TIMELINE_REACTION_ADDED : TIMELINE_REACTION_REMOVED);
  if (rc == KX_ENOTFOUND)
    rc = 0;
  incident_clear(&inc);
  return rc;
}

int incident_ev_pin(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  (void)reply;
  struct incident inc;
  int rc = ours(ctx, req, &inc);
  if (rc)
    return rc > 0 ? 0 : rc;
  rc = timeline_mark(ctx->db, inc.id, req->message_ts,
                     req->kind == CMD_KIND_PIN_ADDED ? TIMELINE_PINNED : TIMELINE_UNPINNED);
  if (rc == KX_ENOTFOUND)
    rc = 0;
  incident_clear(&inc);
  return rc;
}
