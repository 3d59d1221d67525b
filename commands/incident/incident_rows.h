/*
 * incident_rows.h — the incident feature's handlers, buttons, view, channel events, jobs, outbox
 * hooks and metrics: the functions commands/registry.c lists as rows. Nothing else calls them;
 * the feature's own helpers stay in incident_internal.h, which never leaves this folder.
 * Each runs inside the dispatcher's transaction; returns as cmd_fn does (commands/core/command.h).
 */
#ifndef KX_INCIDENT_ROWS_H
#define KX_INCIDENT_ROWS_H

#include "commands/core/command.h"
#include "commands/core/names.h" /* the job kinds, hooks and action_ids it uses */
#include "lib/buf.h"
#include "storage/jobs.h"
#include "storage/outbox.h"

#define INCIDENT_CMD(name)                                                                  \
  int name(struct cmd_ctx *ctx, const struct cmd_request *req, const struct cmd_args *args, \
           struct cmd_reply *reply)
INCIDENT_CMD(incident_cmd_declare);
INCIDENT_CMD(incident_cmd_list);
INCIDENT_CMD(incident_cmd_role);
INCIDENT_CMD(incident_cmd_lead);
INCIDENT_CMD(incident_cmd_note);
INCIDENT_CMD(incident_cmd_timeline);
INCIDENT_CMD(incident_cmd_impact_start);
INCIDENT_CMD(incident_cmd_sev);
INCIDENT_CMD(incident_cmd_status);
INCIDENT_CMD(incident_cmd_ack);
INCIDENT_CMD(incident_cmd_update);
INCIDENT_CMD(incident_cmd_resolve);
INCIDENT_CMD(incident_cmd_reopen);
INCIDENT_CMD(incident_cmd_close);
INCIDENT_CMD(incident_cmd_postmortem);
INCIDENT_CMD(incident_cmd_action);
/* the status page (issue 13): incident_status.c */
INCIDENT_CMD(incident_cmd_component);
INCIDENT_CMD(incident_cmd_update_public);
#undef INCIDENT_CMD

int incident_btn_take_commander(struct cmd_ctx *ctx,
                                const struct cmd_request *req,
                                struct cmd_reply *reply);
int incident_btn_take_scribe(struct cmd_ctx *ctx,
                             const struct cmd_request *req,
                             struct cmd_reply *reply);
int incident_btn_resolve(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         struct cmd_reply *reply);
int incident_view_declare(struct cmd_ctx *ctx,
                          const struct cmd_request *req,
                          struct cmd_reply *reply);

int incident_ev_message(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        struct cmd_reply *reply);
int incident_ev_changed(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        struct cmd_reply *reply);
int incident_ev_deleted(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        struct cmd_reply *reply);
int incident_ev_reaction(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         struct cmd_reply *reply);
int incident_ev_pin(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);

int incident_job_update_due(struct cmd_ctx *ctx, const struct job *job);
int incident_job_resolve_target(struct cmd_ctx *ctx, const struct job *job);
int incident_job_postmortem_due(struct cmd_ctx *ctx, const struct job *job);
int incident_job_channel_retry(struct cmd_ctx *ctx, const struct job *job);
int incident_job_archive(struct cmd_ctx *ctx, const struct job *job); /* incident_archive.c */
/* issue 14: action items' due dates (incident_due.c) */
int incident_job_action_due(struct cmd_ctx *ctx, const struct job *job);
int incident_btn_action_done(struct cmd_ctx *ctx,
                             const struct cmd_request *req,
                             struct cmd_reply *reply);
/* issue 14: trackers (incident_tracker.c); the action comes only from bot/web/tracker_http.c */
int incident_hook_tracker_issue(struct cmd_ctx *ctx,
                                const struct outbox_row *row,
                                const struct cmd_result *result);
int incident_action_tracker_closed(struct cmd_ctx *ctx,
                                   const struct cmd_request *req,
                                   struct cmd_reply *reply);

int incident_hook_channel_created(struct cmd_ctx *ctx,
                                  const struct outbox_row *row,
                                  const struct cmd_result *result);
int incident_hook_postmortem_confluence(struct cmd_ctx *ctx, /* postmortem_export.c */
                                        const struct outbox_row *row,
                                        const struct cmd_result *result);
int incident_hook_summary_posted(struct cmd_ctx *ctx,
                                 const struct outbox_row *row,
                                 const struct cmd_result *result);

/* /metrics: the incident series (commands/incident_stats.c). */
int incident_metrics(struct cmd_ctx *ctx, struct buf *out);

#endif
