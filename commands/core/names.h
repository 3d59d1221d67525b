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
#define CMD_ACTION_ALERTS_PD "alerts.pagerduty" /* issue 14: PagerDuty Events API v2 */
/* issue 11: from the HTTP transport only (bot/web/twilio_http.c, page_link_http.c) */
#define CMD_ACTION_TWILIO_SMS "twilio.sms"
#define CMD_ACTION_TWILIO_VOICE "twilio.voice"
#define CMD_ACTION_TWILIO_STATUS "twilio.status"
#define CMD_ACTION_PAGE_LINK "page.link"
#define CMD_ACTION_ABSENCES_SYNC "absences.sync" /* issue 14: the HR calendar */

/* issue 14: the due-date reminder's Done button; a tracker's issue is done (HTTP only) */
#define CMD_ACTION_INCIDENT_ACTION_DONE "incident.action_done"
#define CMD_ACTION_TRACKER_CLOSED "tracker.closed"
/* The App Home's buttons (issue 16). */
#define CMD_ACTION_HOME_PAGE_ACK "home.page_ack"
#define CMD_ACTION_HOME_DECLARE "home.declare"
#define CMD_ACTION_HOME_OVERRIDE "home.override"
#define CMD_ACTION_HOME_AWAY "home.away"
#define CMD_ACTION_HOME_SWAP "home.swap"
#define CMD_ACTION_HOME_PAGE "home.page"
/* Message shortcuts arrive as actions named by their callback_id (deploy/slack-app-manifest.yaml).
 */
#define CMD_SHORTCUT_TIMELINE "incident.timeline_add"
#define CMD_SHORTCUT_DECLARE "incident.declare_from_message"
/* Check results and heartbeats arrive as actions from bot/web/status_http.c (issue 13). */
#define CMD_ACTION_STATUS_CHECK "status.check"
#define CMD_ACTION_STATUS_HEARTBEAT "status.heartbeat"
#define CMD_ACTION_STATUS_SUBSCRIBE "status.subscribe"
#define CMD_ACTION_STATUS_CONFIRM "status.confirm"
#define CMD_ACTION_STATUS_UNSUBSCRIBE "status.unsubscribe"

/* Modal submissions: cmd_views. */
#define CMD_VIEW_INCIDENT_DECLARE "incident.declare"
/* The forms of issue 16 (commands/home/home_forms.c). */
#define CMD_VIEW_ONCALL_OVERRIDE "oncall.override"
#define CMD_VIEW_ONCALL_AWAY "oncall.away"
#define CMD_VIEW_ONCALL_SWAP "oncall.swap"
#define CMD_VIEW_ONCALL_PAGE "oncall.page"
#define CMD_VIEW_TIMELINE_ADD "incident.timeline_add"
#define CMD_VIEW_ACTION_ITEM "incident.action_item"

/* Timed jobs: cmd_jobs (the kind; each job also has its own unique key). */
#define CMD_JOB_INCIDENT_UPDATE "incident.update_due"
#define CMD_JOB_INCIDENT_RESOLVE_TARGET "incident.resolve_target"
#define CMD_JOB_INCIDENT_POSTMORTEM "incident.postmortem_due"
#define CMD_JOB_INCIDENT_CHANNEL_RETRY "incident.channel_retry"
#define CMD_JOB_PAGE_STEP "page.step"
#define CMD_JOB_PAGE_RELEASE "page.release"
#define CMD_JOB_PAGE_NOTIFY "page.notify" /* issue 11: a person's next rule */
#define CMD_JOB_PAGE_ACK_TARGET "page.ack-target"
#define CMD_JOB_PAGE_RESOLVE_TARGET "page.resolve-target"
#define CMD_JOB_ALERTS_DIGEST "alerts.digest"
#define CMD_JOB_HANDOFF "handoff"
#define CMD_JOB_HANDOFF_ACK "handoff.ack"
#define CMD_JOB_HANDOFF_REMIND "handoff.remind"
#define CMD_JOB_HANDOFF_DIGEST "handoff.digest"
#define CMD_JOB_ONCALL_SYNC "oncall.sync"
#define CMD_JOB_REPORT_MONTHLY "report.monthly"         /* the monthly report (issue 16) */
#define CMD_JOB_HOME_REFRESH "home.refresh"             /* issue 16 */
#define CMD_JOB_STATUS_HEARTBEAT "status.heartbeat_due" /* issue 13 */
#define CMD_JOB_STATUS_WINDOW "status.window"           /* a maintenance window starts/ends */
#define CMD_JOB_INCIDENT_ARCHIVE "incident.archive"     /* issue 14: incident.archive_after */

/* issue 14: an action item's due-day and overdue DMs */
#define CMD_JOB_INCIDENT_ACTION_DUE "incident.action_due"

/* Outbox result hooks: cmd_hooks. */
#define CMD_HOOK_INCIDENT_CHANNEL_CREATED "incident.channel_created"
#define CMD_HOOK_INCIDENT_SUMMARY_POSTED "incident.summary_posted"
#define CMD_HOOK_INCIDENT_TEAMS_THREAD "incident.teams_thread"
#define CMD_HOOK_PAGE_POSTED "page.posted"
#define CMD_HOOK_POSTMORTEM_CONFLUENCE "incident.postmortem_confluence" /* issue 14 */
#define CMD_HOOK_PAGE_UPDATED "page.updated"
#define CMD_HOOK_PAGE_ATTEMPT "page.attempt" /* issue 11: an SMS, call, push or email sent */
#define CMD_HOOK_PAGE_DND "page.dnd"         /* issue 11: dnd.info of a paged person */
#define CMD_HOOK_HANDOFF_POSTED "handoff.posted"
#define CMD_HOOK_PEOPLE_LOOKUP "people.lookup"
#define CMD_HOOK_ONCALL_USERGROUP "oncall.usergroup"

/* issue 14: an action item's tracker issue was filed */
#define CMD_HOOK_TRACKER_ISSUE "tracker.issue"

#endif
