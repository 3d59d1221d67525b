/*
 * incident_state.c — changing an open incident's state: `/incident sev`, `status`, `ack` and
 * `update` (with the announcements, stakeholder notices and reminders that follow).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/core/out.h"
#include "commands/incident/incident_internal.h"
#include "lib/kx.h"
#include "lib/timeutil.h"
#include "storage/incident_timeline.h"

/* ---- severity and status -----------------------------------------------------------------------
 */

int incident_cmd_sev(struct cmd_ctx *ctx,
                     const struct cmd_request *req,
                     const struct cmd_args *args,
                     struct cmd_reply *reply)
{
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "sev", &inc);
  if (rc)
    return rc;
  const struct severity *sev = config_severity(ctx->config, args->argv[0]);
  const struct severity *old = config_severity(ctx->config, inc.severity);
  rc = incident_need_open(&inc, reply, "sev");
  if (rc == 0 && !sev) {
    char *esc = md_escape(args->argv[0]);
    cmd_reply_printf(reply, "There is no severity `%s`. The severities are:", esc ? esc : "");
    free(esc);
    for (size_t i = 0; i < ctx->config->n_severities; i++)
      cmd_reply_printf(reply, " `%s`", ctx->config->severities[i].name);
    rc = KX_EINVAL;
  } else if (rc == 0 && kx_streq(sev->name, inc.severity)) {
    cmd_reply_printf(reply, "Incident #%lld is already %s.", (long long)inc.id, sev->name);
    rc = KX_EINVAL;
  }
  if (rc) {
    incident_clear(&inc);
    return rc;
  }
  char me[64];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  bool up = old && sev->rank < old->rank;
  rc = incidents_set_text(ctx->db, inc.id, INCIDENT_F_SEVERITY, sev->name);
  char *text = kx_asprintf("Severity %s → %s", inc.severity, sev->name);
  if (rc == 0) {
    struct timeline_new e = {inc.id,      "severity", who,  text ? text : "Severity changed",
                             ctx->now_ms, true,       NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
  }
  free(text);
  char *old_name = inc.severity;
  inc.severity = kx_strdup(sev->name);
  if (!inc.severity)
    rc = KX_ENOMEM;
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_printf(&b, "%s Severity %s from *%s* to *%s* by ",
              up ? ":arrow_double_up:" : ":arrow_down:", up ? "raised" : "lowered", old_name,
              sev->name);
    incident_md_who(&b, ctx, who);
    md_raw(&b, ".");
    rc = incident_say(ctx, &inc, &b, "Severity changed", OUTBOX_NORMAL);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, up ? ":arrow_double_up: " : ":arrow_down: ");
    incident_md_ref(&b, &inc);
    md_printf(&b, " is now *%s* (was %s): ", sev->name, old_name);
    md_text(&b, inc.title);
    md_raw(&b, " — ");
    incident_md_channel(&b, &inc);
    rc = incident_announce(ctx, &inc, &b, "Incident severity changed");
  }
  if (rc == 0) {
    char paged[4][64];
    size_t n = incident_paged(ctx, &inc, sev, paged, 4);
    const char *whos[4];
    for (size_t i = 0; i < n; i++)
      whos[i] = paged[i];
    rc = incident_invite(ctx, &inc, whos, n);
  }
  if (rc == 0) {
    char *head =
        kx_asprintf("Incident #%lld is now %s: %s", (long long)inc.id, sev->name, inc.title);
    rc = head ? incident_stakeholders(ctx, &inc, head, NULL) : KX_ENOMEM;
    free(head);
  }
  if (rc == 0)
    rc = incident_schedule_update(ctx, &inc, inc.last_update_at);
  if (rc == 0)
    rc = incident_schedule_resolve_target(ctx, &inc);
  if (rc == 0)
    rc = incident_refresh(ctx, inc.id, true);
  if (rc == 0)
    rc = cmd_reply_printf(reply, "Severity of #%lld is now %s (was %s).", (long long)inc.id,
                          sev->name, old_name);
  free(old_name);
  incident_clear(&inc);
  return rc;
}

int incident_cmd_status(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        const struct cmd_args *args,
                        struct cmd_reply *reply)
{
  static const char *const words[] = {INCIDENT_INVESTIGATING, INCIDENT_IDENTIFIED,
                                      INCIDENT_MONITORING};
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "status", &inc);
  if (rc)
    return rc;
  const char *status = NULL;
  for (size_t i = 0; i < KX_ARRAY_SIZE(words); i++)
    if (strcasecmp(args->argv[0], words[i]) == 0)
      status = words[i];
  rc = incident_need_open(&inc, reply, "status");
  if (rc == 0 && !status) {
    bool end =
        strcasecmp(args->argv[0], "resolved") == 0 || strcasecmp(args->argv[0], "closed") == 0;
    if (end)
      cmd_reply_printf(reply, "Use `/incident resolve [SUMMARY]` or `/incident close` for that. ");
    cmd_usage(reply, args->def);
    rc = KX_EINVAL;
  } else if (rc == 0 && strcmp(status, inc.status) == 0) {
    cmd_reply_printf(reply, "Incident #%lld is already %s.", (long long)inc.id, status);
    rc = KX_EINVAL;
  }
  char me[64];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  if (rc == 0)
    rc = incidents_set_text(ctx->db, inc.id, INCIDENT_F_STATUS, status);
  if (rc == 0) {
    char *text = kx_asprintf("Status %s → %s", inc.status, status);
    struct timeline_new e = {inc.id,      "status", who,  text ? text : "Status changed",
                             ctx->now_ms, true,     NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
    free(text);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_printf(&b, ":traffic_light: Status is now *%s* (was %s), set by ", status, inc.status);
    incident_md_who(&b, ctx, who);
    md_raw(&b, ".");
    rc = incident_say(ctx, &inc, &b, "Status changed", OUTBOX_NORMAL);
  }
  if (rc == 0)
    rc = incident_refresh(ctx, inc.id, true);
  if (rc == 0)
    rc = cmd_reply_printf(reply, "Status of #%lld is now %s.", (long long)inc.id, status);
  incident_clear(&inc);
  return rc;
}

/* ---- ack and update ----------------------------------------------------------------------------
 */

int incident_cmd_ack(struct cmd_ctx *ctx,
                     const struct cmd_request *req,
                     const struct cmd_args *args,
                     struct cmd_reply *reply)
{
  (void)args;
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "ack", &inc);
  if (rc)
    return rc;
  char me[64], t[48], d[32];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  rc = incident_need_open(&inc, reply, "ack");
  if (rc == 0 && inc.acknowledged_at) {
    struct buf b;
    md_init(&b);
    md_raw(&b, "Already acknowledged by ");
    incident_md_who(&b, ctx, inc.acknowledged_by);
    md_printf(&b, " at %s.", incident_local_time(ctx, inc.acknowledged_at, t, sizeof(t)));
    incident_reply_markup(reply, &b);
    rc = KX_EINVAL;
  }
  if (rc == 0)
    rc = incidents_set_time(ctx->db, inc.id, INCIDENT_F_ACKNOWLEDGED_AT, ctx->now_ms);
  if (rc == 0)
    rc = incidents_set_text(ctx->db, inc.id, INCIDENT_F_ACKNOWLEDGED_BY, who);
  time_format_duration(ctx->now_ms - inc.declared_at, d, sizeof(d));
  if (rc == 0) {
    char *text = kx_asprintf("Acknowledged by %s (%s after the declaration)",
                             incident_who_name(ctx, who), d);
    struct timeline_new e = {inc.id,      "ack", who,  text ? text : "Acknowledged",
                             ctx->now_ms, true,  NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
    free(text);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, ":eyes: Acknowledged by ");
    incident_md_who(&b, ctx, who);
    md_printf(&b, " — time to acknowledge *%s*.", d);
    rc = incident_say(ctx, &inc, &b, "Incident acknowledged", OUTBOX_NORMAL);
  }
  if (rc == 0)
    rc = incident_refresh(ctx, inc.id, false);
  if (rc == 0)
    rc = incident_pages_follow(ctx, inc.id, who, false);
  if (rc == 0)
    rc = cmd_reply_printf(reply, "Acknowledged #%lld (TTA %s).", (long long)inc.id, d);
  incident_clear(&inc);
  return rc;
}

int incident_cmd_update(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        const struct cmd_args *args,
                        struct cmd_reply *reply)
{
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "update", &inc);
  if (rc)
    return rc;
  char me[64];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  char *text = incident_typed(ctx, req, args->rest[0], false);
  rc = text ? incident_need_open(&inc, reply, "update") : KX_ENOMEM;
  if (rc == 0 && strlen(text) > INCIDENT_TEXT_MAX)
    rc = incident_too_long(reply, "update", INCIDENT_TEXT_MAX);
  if (rc == 0)
    rc = incidents_set_time(ctx->db, inc.id, INCIDENT_F_LAST_UPDATE_AT, ctx->now_ms);
  if (rc == 0) {
    struct timeline_new e = {inc.id, "update", who, text, ctx->now_ms, false, NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_printf(&b, ":mega: *Status update* (%s, %s) from ", inc.severity, inc.status);
    incident_md_who(&b, ctx, who);
    md_raw(&b, ":\n");
    md_text(&b, text);
    rc = incident_say(ctx, &inc, &b, text, OUTBOX_NORMAL);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, ":mega: Update on ");
    incident_md_ref(&b, &inc);
    md_printf(&b, " (%s) ", inc.severity);
    md_bold(&b, inc.title);
    md_raw(&b, ":\n");
    md_text(&b, text);
    md_raw(&b, "\n— ");
    incident_md_channel(&b, &inc);
    rc = incident_announce(ctx, &inc, &b, text);
  }
  if (rc == 0) {
    char *head = kx_asprintf("Update on incident #%lld (%s): %s", (long long)inc.id, inc.severity,
                             inc.title);
    rc = head ? incident_stakeholders(ctx, &inc, head, text) : KX_ENOMEM;
    free(head);
  }
  if (rc == 0)
    rc = incident_schedule_update(ctx, &inc, ctx->now_ms);
  if (rc == 0)
    rc = cmd_reply_printf(reply, "Update posted in the incident channel and the announce channel.");
  free(text);
  incident_clear(&inc);
  return rc;
}
