/*
 * names.h — the names that tie a thing to the row that handles it: button action_ids, modal
 * callback_ids, job kinds and outbox hooks. Each is written once here and used by both sides:
 * the code that makes the button, schedules the job or writes the outbox row, and the row of
 * commands/registry.c that runs when it comes back. They are stored (jobs, outbox rows) and
 * sent to Slack and Teams (action_ids), so a value never changes once released.
 */
#ifndef KX_NAMES_H
#define KX_NAMES_H

/* Buttons: cmd_actions. */
#define CMD_ACTION_INCIDENT_TAKE_COMMANDER "incident.take_commander"
#define CMD_ACTION_INCIDENT_TAKE_SCRIBE "incident.take_scribe"
#define CMD_ACTION_INCIDENT_RESOLVE "incident.resolve"
#define CMD_ACTION_PAGE_ACK "page.ack"
#define CMD_ACTION_PAGE_ESCALATE "page.escalate"
#define CMD_ACTION_PAGE_RESOLVE "page.resolve"
#define CMD_ACTION_PAGE_REASON "page.reason"
#define CMD_ACTION_PAGE_DECLARE "page.declare"
#define CMD_ACTION_HANDOFF_ACK "handoff.ack"
/* Alerts arrive as actions from the HTTP transport (bot/web/alerts_http.c), never as buttons. */
#define CMD_ACTION_ALERTS_AM "alerts.alertmanager"
#define CMD_ACTION_ALERTS_WEBHOOK "alerts.webhook"
/* Check results and heartbeats arrive as actions from bot/web/status_http.c (issue 13). */
#define CMD_ACTION_STATUS_CHECK "status.check"
#define CMD_ACTION_STATUS_HEARTBEAT "status.heartbeat"
#define CMD_ACTION_STATUS_SUBSCRIBE "status.subscribe"
#define CMD_ACTION_STATUS_CONFIRM "status.confirm"
#define CMD_ACTION_STATUS_UNSUBSCRIBE "status.unsubscribe"

/* Modal submissions: cmd_views. */
#define CMD_VIEW_INCIDENT_DECLARE "incident.declare"

/* Timed jobs: cmd_jobs (the kind; each job also has its own unique key). */
#define CMD_JOB_INCIDENT_UPDATE "incident.update_due"
#define CMD_JOB_INCIDENT_RESOLVE_TARGET "incident.resolve_target"
#define CMD_JOB_INCIDENT_POSTMORTEM "incident.postmortem_due"
#define CMD_JOB_INCIDENT_CHANNEL_RETRY "incident.channel_retry"
#define CMD_JOB_PAGE_STEP "page.step"
#define CMD_JOB_PAGE_RELEASE "page.release"
#define CMD_JOB_HANDOFF "handoff"
#define CMD_JOB_HANDOFF_ACK "handoff.ack"
#define CMD_JOB_HANDOFF_REMIND "handoff.remind"
#define CMD_JOB_HANDOFF_DIGEST "handoff.digest"
#define CMD_JOB_ONCALL_SYNC "oncall.sync"
#define CMD_JOB_STATUS_HEARTBEAT "status.heartbeat_due" /* issue 13 */
#define CMD_JOB_STATUS_WINDOW "status.window"           /* a maintenance window starts/ends */

/* Outbox result hooks: cmd_hooks. */
#define CMD_HOOK_INCIDENT_CHANNEL_CREATED "incident.channel_created"
#define CMD_HOOK_INCIDENT_SUMMARY_POSTED "incident.summary_posted"
#define CMD_HOOK_INCIDENT_TEAMS_THREAD "incident.teams_thread"
#define CMD_HOOK_PAGE_POSTED "page.posted"
#define CMD_HOOK_PAGE_UPDATED "page.updated"
#define CMD_HOOK_HANDOFF_POSTED "handoff.posted"
#define CMD_HOOK_PEOPLE_LOOKUP "people.lookup"
#define CMD_HOOK_ONCALL_USERGROUP "oncall.usergroup"

#endif
