/*
 * status.h — the status page and synthetic monitoring (issue 13): what the check runner and
 * heartbeat URL report (actions from the HTTP transport, never buttons), the heartbeat and
 * maintenance jobs, `/oncall checks`, `/incident maintenance`, and the page itself rendered as
 * HTML, Statuspage-v2-shaped JSON and Atom from the database at a given `now`.
 *
 * A check that has failed for down_after raises an alert through the generic-webhook path of
 * commands/paging/alerts.c (alerts_parse + alerts_ingest, in the same transaction), with
 * dedup_key "check:NAME", so it is grouped, routed and paged exactly like a webhook alert, and
 * resolved by the same path when the check recovers.
 */
#ifndef KX_STATUS_H
#define KX_STATUS_H

#include <cjson/cJSON.h>

#include "commands/core/command.h"
#include "lib/buf.h"
#include "storage/status.h"

#define STATUS_HISTORY_DAYS 90
#define STATUS_DETAIL_MAX 300                     /* bytes of a check's failure reason kept */
#define STATUS_PAGE_MAX ((size_t)4 * 1024 * 1024) /* bytes of one rendered page or document */

/* Actions (CMD_PLATFORM_HTTP only). Check result payload: {"name","ok","ms","detail","warn"};
 * heartbeat payload: {"name"}. */
int status_action_check(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *r);
int status_action_heartbeat(struct cmd_ctx *ctx,
                            const struct cmd_request *req,
                            struct cmd_reply *r);
/* Subscribers (status_subs.c). Subscribe payload {"email","token"} (token: STATUS_SUB_TOKEN_LEN
 * lowercase hex from the transport); confirm/unsubscribe payload {"token"}. The reply is one
 * word: mailed, already, limited, ok, unknown (never the address). */
#define STATUS_SUB_TOKEN_LEN 32
#define STATUS_SUB_RESEND_MS (15LL * 60 * 1000) /* one confirmation mail per address per 15 min */
int status_action_subscribe(struct cmd_ctx *ctx,
                            const struct cmd_request *req,
                            struct cmd_reply *r);
int status_action_confirm(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *r);
int status_action_unsubscribe(struct cmd_ctx *ctx,
                              const struct cmd_request *req,
                              struct cmd_reply *r);
/* Mail a public update to every confirmed subscriber (outbox rows, in the caller's
 * transaction); nothing when smtp is not configured. */
int status_notify_subscribers(struct cmd_ctx *ctx,
                              const char *incident_title,
                              const char *status,
                              const char *text);
int status_job_heartbeat(struct cmd_ctx *ctx, const struct job *job);
int status_job_window(struct cmd_ctx *ctx, const struct job *job);
int status_startup(struct cmd_ctx *ctx);
int status_metrics(struct cmd_ctx *ctx, struct buf *out);

int status_cmd_checks(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply);
int status_cmd_maintenance(struct cmd_ctx *ctx,
                           const struct cmd_request *req,
                           const struct cmd_args *args,
                           struct cmd_reply *reply);

/* Is component under a maintenance window at now? (alerts recorded, not paged). 1/0/<0 */
int status_in_maintenance(struct cmd_ctx *ctx, const char *component);
/* Does an alert with these labels belong to a component under maintenance now? Its component
 * is the `component` label, else the first component whose match labels all equal the alert's.
 * 1/0/<0. */
int status_alert_in_maintenance(struct cmd_ctx *ctx, const cJSON *labels);

/* Each component's state now (config order), and the page's overall state. */
struct status_model {
  size_t n;
  int *state;  /* enum status_state per component */
  int overall; /* the worst */
};
int status_model_build(struct cmd_ctx *ctx, struct status_model *m);
void status_model_free(struct status_model *m);

/* The page. which: "summary", "status", "components", "incidents", "scheduled-maintenances". */
int status_render_html(struct cmd_ctx *ctx, struct buf *out);
int status_render_json(struct cmd_ctx *ctx, const char *which, struct buf *out); /* ENOTFOUND */
int status_render_atom(struct cmd_ctx *ctx, struct buf *out);

#endif
