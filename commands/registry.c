/*
 * registry.c — every table the dispatcher reads: slash subcommands, buttons, modal
 * submissions, channel events, timed jobs, outbox hooks and start-up tasks. One row per thing;
 * cmd_tables_check() refuses duplicates at boot. Keep rows grouped by feature.
 */
#include <stddef.h>

#include "commands/core/basic.h"
#include "commands/core/command.h"
#include "commands/core/names.h" /* the job kinds, hooks and action_ids it uses */
#include "commands/handoff/handoff.h"
#include "commands/home/home.h"
#include "commands/incident/incident_rows.h"
#include "commands/incident/incident_teams.h"
#include "commands/oncall/absences.h"
#include "commands/oncall/oncall_cmd.h"
#include "commands/paging/alerts.h"
#include "commands/paging/paging.h"
#include "commands/paging/stats.h"
#include "commands/report/report.h"
#include "commands/status/status.h"

/* A row of the command table: group, name, handler, words after the name (min, max; options
 * not counted), flags, options (NULL: none), usage (the words; the options are rendered from
 * the array), help. */
#define CMD(group, name, fn, min, max, flags, opts, usage, help) \
  {                                                              \
    group, name, fn, min, max, flags, opts, usage, help          \
  }

/* The options rows declare (name, value or NULL for a flag, help or NULL to leave it out of the
 * synopsis). */
static const struct cmd_opt_def opts_rota[] = {
    {"rota", "R", "which rota"},
    {NULL, NULL, NULL},
};
/* issue 14: action items' due dates */
static const struct cmd_opt_def opts_action[] = {
    {"due", "DATE", "due date: 2026-12-10, or 7d from now"},
    {NULL, NULL, NULL},
};
/* `/oncall who ROTA` says the rota as a word; --rota works too. */
static const struct cmd_opt_def opts_rota_quiet[] = {
    {"rota", "R", NULL},
    {NULL, NULL, NULL},
};
static const struct cmd_opt_def opts_override[] = {
    {"rota", "R", "which rota"},
    {"secondary", NULL, "the secondary slot instead of the primary"},
    {"primary", NULL, NULL}, /* the default, said out loud */
    {NULL, NULL, NULL},
};
/* issue 13: `/incident update --public TEXT` also goes on the status page */
static const struct cmd_opt_def opts_update[] = {
    {"public", NULL, "also on the public status page"},
    {NULL, NULL, NULL},
};
static const struct cmd_opt_def opts_declare[] = {
    {"drill", NULL, "a practice incident"},
    {"rota", "R", "the rota to page"},
    {"sev", "SEV", NULL}, /* the bare first word says it too */
    {"severity", "SEV", NULL},
    {NULL, NULL, NULL},
};

/* clang-format off */
const struct cmd_def cmd_table[] = {
    /*  group       name     handler          min max flags                        options    usage          help */
    CMD("incident", "help",  cmd_group_help,  0, -1,  CMD_DEFAULT | CMD_MENU,      NULL,      "help",        "this list"),
    CMD("oncall",   "help",  oncall_cmd_help, 0, -1,  CMD_MENU,                    NULL,      "help",        "this list"),
    CMD("oncall",   "note",  cmd_oncall_note, 1, -1,  CMD_WRITE | CMD_OPTS_FIRST | CMD_MENU, opts_rota, "note TEXT",   "a note for the next handoff (ongoing issue, maintenance)"),
    /* incidents (issue 3) */
    CMD("incident", "declare",      incident_cmd_declare,      0, -1, CMD_WRITE | CMD_OPTS_FIRST | CMD_MENU, opts_declare, "declare [SEV] TITLE", "declare an incident (without a title: a form); --drill for practice"),
    CMD("incident", "list",         incident_cmd_list,         0, 0,  0,         NULL, "list",                         "the open incidents"),
    CMD("incident", "lead",         incident_cmd_lead,         0, 0,  CMD_WRITE, NULL, "lead",                         "make me the incident commander"),
    CMD("incident", "role",         incident_cmd_role,         2, 2,  CMD_WRITE, NULL, "role commander|scribe|comms|ops @someone", "give an incident role (or `none`)"),
    CMD("incident", "ack",          incident_cmd_ack,          0, 0,  CMD_WRITE, NULL, "ack",                          "acknowledge the incident (we are on it)"),
    CMD("incident", "update",       incident_cmd_update_public, 1, -1, CMD_WRITE | CMD_OPTS_FIRST, opts_update, "update TEXT", "a status update for the channel, the announce channel and stakeholders"),
    CMD("incident", "status",       incident_cmd_status,       1, 1,  CMD_WRITE, NULL, "status investigating|identified|monitoring", "where the work stands"),
    CMD("incident", "sev",          incident_cmd_sev,          1, 1,  CMD_WRITE, NULL, "sev SEV",                      "raise or lower the severity"),
    CMD("incident", "note",         incident_cmd_note,         1, -1, CMD_WRITE, NULL, "note TEXT",                    "add a note to the timeline"),
    CMD("incident", "timeline",     incident_cmd_timeline,     0, 0,  0,         NULL, "timeline",                     "the latest timeline entries"),
    CMD("incident", "impact-start", incident_cmd_impact_start, 1, -1, CMD_WRITE, NULL, "impact-start TIME",            "when the impact began (09:40, 45m ago, 2026-11-24 09:40)"),
    CMD("incident", "resolve",      incident_cmd_resolve,      0, -1, CMD_WRITE, NULL, "resolve [SUMMARY]",            "resolve the incident; the postmortem draft follows"),
    CMD("incident", "reopen",       incident_cmd_reopen,       0, 0,  CMD_WRITE, NULL, "reopen",                       "reopen a resolved incident"),
    CMD("incident", "postmortem",   incident_cmd_postmortem,   0, 2,  CMD_WRITE, NULL, "postmortem [done [URL]|export]", "where the postmortem draft is; mark it done; export it"),
    CMD("incident", "close",        incident_cmd_close,        0, 0,  CMD_WRITE, NULL, "close",                        "close the incident once the postmortem is done"),
    CMD("incident", "action",       home_cmd_action,           0, -1, CMD_WRITE, opts_action, "action add @owner TEXT | done N | list", "action items"),
    /* paging, alerts and stats (issue 5) */
    CMD("oncall",   "page",      home_cmd_page,        0, -1, CMD_WRITE, NULL, "page @user|ROTA [SEVERITY] TEXT", "page someone, or a rota's on-call, by hand"),
    CMD("oncall",   "test-page", paging_cmd_test_page, 0, 0,  CMD_WRITE, NULL, "test-page",           "send yourself a test page to check delivery"),
    CMD("oncall",   "pages",     paging_cmd_pages,     0, 0,  0,         NULL, "pages",               "open pages, who acknowledged them, and how far each SMS, call or push got"),
    CMD("oncall",   "notify",    paging_cmd_notify,    0, 2,  0,         NULL, "notify [test METHOD]", "how klaxon reaches you (your methods and rules); test one: chat, email, push, sms, voice"),
    CMD("oncall",   "escalate",  paging_cmd_escalate,  1, 1,  CMD_WRITE, NULL, "escalate PAGE",       "escalate a page to its next step now (also releases a held page)"),
    CMD("incident", "stats",     stats_cmd,            0, 1,  0,         NULL, "stats [7d|30d|90d]",  "MTTA, MTTR, MTTD, pages, escalations, false positives against targets"),
    /* rotas, /oncall and the handoff (issue 4); FROM and TO may be two words (a date and a time)
     * with "to" between them, hence no maximum */
    CMD("oncall", "who",      home_cmd_who,        0, 1,  CMD_DEFAULT | CMD_MENU, opts_rota_quiet, "[who] [ROTA]",          "who is on call now in every rota (primary, secondary, manager, until when)"),
    CMD("oncall", "schedule", oncall_cmd_schedule, 0, 2,  0,           opts_rota,       "schedule [N]",          "the next N shifts (default 4) with overrides, covers and holidays"),
    CMD("oncall", "override", home_cmd_override,   0, -1, CMD_WRITE,   opts_override,   "override @user FROM TO", "@user holds primary (or secondary) from FROM to TO"),
    CMD("oncall", "away",     home_cmd_away,       0, -1, CMD_WRITE,   opts_rota,       "away [@user] FROM TO",  "you (or @user) are away: the previous shift's person covers"),
    CMD("oncall", "swap",     home_cmd_swap,       0, -1, CMD_WRITE,   opts_rota,       "swap @user WEEK",       "swap shifts: one of you takes the other's shift WEEK, who takes the first one's next shift"),
    CMD("oncall", "changes",  oncall_cmd_changes,  0, 1,  0,           opts_rota,       "changes",               "overrides and absences from now on, with their numbers"),
    CMD("oncall", "cancel",   oncall_cmd_cancel,   1, 1,  CMD_WRITE,   opts_rota,       "cancel ID",             "cancel an override or an absence (a swap is two overrides)"),
    CMD("oncall", "whoami",   oncall_cmd_whoami,   0, 0,  0,           NULL,            "whoami",                "who klaxon takes you for, how it reaches you, the rotas you may change"),
    /* the status page, checks and maintenance (issue 13) */
    CMD("incident", "component",   incident_cmd_component, 2, 2,  CMD_WRITE, NULL, "component NAME STATE", "set a status-page component's state for this incident (operational, degraded_performance, partial_outage, major_outage, under_maintenance)"),
    CMD("incident", "maintenance", status_cmd_maintenance, 4, -1, CMD_WRITE, NULL, "maintenance COMPONENT FROM TO TEXT", "announce a maintenance window on the status page; its alerts are recorded, not paged"),
    CMD("oncall",   "checks",      status_cmd_checks,      0, 0,  0,         NULL, "checks", "synthetic checks and heartbeats with their states"),
    CMD(NULL, NULL, NULL, 0, 0, 0, NULL, NULL, NULL),
};
/* clang-format on */

/* The dispatcher's statistics, one per row, so the table itself stays const. */
struct cmd_counter cmd_counters[sizeof(cmd_table) / sizeof(cmd_table[0])];

/* clang-format off */
const struct cmd_action_def cmd_actions[] = {
    /* incidents (issue 3) */
    {CMD_ACTION_INCIDENT_TAKE_COMMANDER, incident_btn_take_commander},
    {CMD_ACTION_INCIDENT_TAKE_SCRIBE, incident_btn_take_scribe},
    {CMD_ACTION_INCIDENT_RESOLVE, incident_btn_resolve},
    /* paging and alerts (issue 5); the alert actions come only from the HTTP transport */
    {CMD_ACTION_PAGE_ACK, paging_action_ack},
    {CMD_ACTION_PAGE_ESCALATE, paging_action_escalate},
    {CMD_ACTION_PAGE_RESOLVE, paging_action_resolve},
    {CMD_ACTION_PAGE_REASON, paging_action_reason},
    {CMD_ACTION_PAGE_DECLARE, paging_action_declare}, /* issue 3 */
    {CMD_ACTION_ALERTS_AM, alerts_action_ingest},
    {CMD_ACTION_ALERTS_WEBHOOK, alerts_action_ingest},
    {CMD_ACTION_ALERTS_PD, alerts_action_ingest}, /* issue 14 */
    /* pages that wake people (issue 11); from the HTTP transport only */
    {CMD_ACTION_TWILIO_SMS, paging_action_twilio_sms},
    {CMD_ACTION_TWILIO_VOICE, paging_action_twilio_voice},
    {CMD_ACTION_TWILIO_STATUS, paging_action_twilio_status},
    {CMD_ACTION_PAGE_LINK, paging_action_link},
    {CMD_ACTION_ABSENCES_SYNC, absences_action_sync}, /* issue 14 */
    /* checks and heartbeats (issue 13), from the HTTP transport only */
    {CMD_ACTION_STATUS_CHECK, status_action_check},
    {CMD_ACTION_STATUS_HEARTBEAT, status_action_heartbeat},
    {CMD_ACTION_STATUS_SUBSCRIBE, status_action_subscribe},
    {CMD_ACTION_STATUS_CONFIRM, status_action_confirm},
    {CMD_ACTION_STATUS_UNSUBSCRIBE, status_action_unsubscribe},
    {CMD_ACTION_INCIDENT_ACTION_DONE, incident_btn_action_done}, /* issue 14 */
    {CMD_ACTION_TRACKER_CLOSED, incident_action_tracker_closed}, /* issue 14, HTTP only */
    /* the handoff (issue 4) */
    {CMD_ACTION_HANDOFF_ACK, handoff_action_ack},
    /* the App Home (issue 16) */
    {CMD_ACTION_HOME_PAGE_ACK, home_btn_page_ack},
    {CMD_ACTION_HOME_DECLARE, home_btn_declare},
    {CMD_ACTION_HOME_OVERRIDE, home_btn_form},
    {CMD_ACTION_HOME_AWAY, home_btn_form},
    {CMD_ACTION_HOME_SWAP, home_btn_form},
    {CMD_ACTION_HOME_PAGE, home_btn_form},
    /* message shortcuts (issue 16) */
    {CMD_SHORTCUT_TIMELINE, home_sc_timeline},
    {CMD_SHORTCUT_DECLARE, home_sc_declare},
    /* the forms as Teams cards: Action.Execute named by the form (issue 16) */
    {CMD_VIEW_ONCALL_OVERRIDE, home_card_submit},
    {CMD_VIEW_ONCALL_AWAY, home_card_submit},
    {CMD_VIEW_ONCALL_SWAP, home_card_submit},
    {CMD_VIEW_ONCALL_PAGE, home_card_submit},
    {CMD_VIEW_INCIDENT_DECLARE, home_card_submit},
    {CMD_VIEW_ACTION_ITEM, home_card_submit},
    {NULL, NULL},
};

const struct cmd_view_def cmd_views[] = {
    /* incidents (issue 3) */
    {CMD_VIEW_INCIDENT_DECLARE, incident_view_declare},
    /* the forms (issue 16) */
    {CMD_VIEW_ONCALL_OVERRIDE, home_view_submit},
    {CMD_VIEW_ONCALL_AWAY, home_view_submit},
    {CMD_VIEW_ONCALL_SWAP, home_view_submit},
    {CMD_VIEW_ONCALL_PAGE, home_view_submit},
    {CMD_VIEW_TIMELINE_ADD, home_view_timeline},
    {CMD_VIEW_ACTION_ITEM, home_view_action},
    {NULL, NULL},
};

const struct cmd_event_def cmd_events[] = {
    /* the handoff's thread for notes (issue 4) */
    {CMD_KIND_MESSAGE, handoff_event_message},
    /* incidents (issue 3): the timeline */
    {CMD_KIND_MESSAGE, incident_ev_message},
    {CMD_KIND_MESSAGE_CHANGED, incident_ev_changed},
    {CMD_KIND_MESSAGE_DELETED, incident_ev_deleted},
    {CMD_KIND_REACTION_ADDED, incident_ev_reaction},
    {CMD_KIND_REACTION_REMOVED, incident_ev_reaction},
    {CMD_KIND_PIN_ADDED, incident_ev_pin},
    {CMD_KIND_PIN_REMOVED, incident_ev_pin},
    /* the App Home (issue 16) */
    {CMD_KIND_HOME_OPENED, home_ev_opened},
    {CMD_KIND_LINK_SHARED, home_ev_link_shared},
    {CMD_KIND_OTHER, NULL},
};

const struct cmd_job_def cmd_jobs[] = {
    /* incidents (issue 3) */
    {CMD_JOB_INCIDENT_UPDATE, incident_job_update_due},
    {CMD_JOB_INCIDENT_RESOLVE_TARGET, incident_job_resolve_target},
    {CMD_JOB_INCIDENT_POSTMORTEM, incident_job_postmortem_due},
    {CMD_JOB_INCIDENT_CHANNEL_RETRY, incident_job_channel_retry},
    {CMD_JOB_INCIDENT_ARCHIVE, incident_job_archive}, /* issue 14 */
    /* paging (issue 5) */
    {CMD_JOB_PAGE_STEP, paging_job_step},
    {CMD_JOB_PAGE_RELEASE, paging_job_release},
    {CMD_JOB_PAGE_NOTIFY, paging_job_notify}, /* issue 11 */
    {CMD_JOB_PAGE_ACK_TARGET, paging_job_ack_target},
    {CMD_JOB_PAGE_RESOLVE_TARGET, paging_job_resolve_target},
    {CMD_JOB_ALERTS_DIGEST, alerts_job_digest},
    /* rotas and the handoff (issue 4) */
    {CMD_JOB_HANDOFF, handoff_job},
    {CMD_JOB_HANDOFF_ACK, handoff_job_ack},
    {CMD_JOB_HANDOFF_REMIND, handoff_job_remind},
    {CMD_JOB_HANDOFF_DIGEST, handoff_job_digest},
    {CMD_JOB_ONCALL_SYNC, oncall_job_sync},
    /* the monthly report (issue 16) */
    {CMD_JOB_REPORT_MONTHLY, report_job_monthly},
    /* the App Home (issue 16) */
    {CMD_JOB_HOME_REFRESH, home_job_refresh},
    /* heartbeats and maintenance windows (issue 13) */
    {CMD_JOB_STATUS_HEARTBEAT, status_job_heartbeat},
    {CMD_JOB_STATUS_WINDOW, status_job_window},
    /* action items' due dates (issue 14) */
    {CMD_JOB_INCIDENT_ACTION_DUE, incident_job_action_due},
    {NULL, NULL},
};

const struct cmd_hook_def cmd_hooks[] = {
    /* incidents (issue 3) */
    {CMD_HOOK_INCIDENT_CHANNEL_CREATED, incident_hook_channel_created},
    {CMD_HOOK_INCIDENT_SUMMARY_POSTED, incident_hook_summary_posted},
    {CMD_HOOK_POSTMORTEM_CONFLUENCE, incident_hook_postmortem_confluence}, /* issue 14 */
    /* paging (issue 5) */
    {CMD_HOOK_PAGE_POSTED, paging_hook_posted},
    {CMD_HOOK_PAGE_UPDATED, paging_hook_updated},
    {CMD_HOOK_PAGE_ATTEMPT, paging_hook_attempt}, /* issue 11 */
    {CMD_HOOK_TRACKER_ISSUE, incident_hook_tracker_issue}, /* issue 14 */
    {CMD_HOOK_PAGE_DND, paging_hook_dnd},
    /* Teams (issue 6) */
    {CMD_HOOK_INCIDENT_TEAMS_THREAD, incident_teams_hook_thread},
    /* rotas and the handoff (issue 4) */
    {CMD_HOOK_HANDOFF_POSTED, handoff_hook_posted},
    {CMD_HOOK_PEOPLE_LOOKUP, oncall_hook_lookup},
    {CMD_HOOK_ONCALL_USERGROUP, oncall_hook_usergroup},
    {NULL, NULL},
};

const struct cmd_startup_def cmd_startups[] = {
    /* Teams (issue 6): an incident declared from Teams whose thread was not started yet */
    {"incident.teams_threads", incident_teams_threads},
    /* rotas and the handoff (issue 4): people by email, user groups, the next handoffs */
    {"oncall", oncall_startup},
    {"handoff", handoff_startup},
    /* the monthly report (issue 16): the next sending */
    {"report", report_startup},
    /* the App Home (issue 16): its refresh job */
    {"home", home_startup},
    /* heartbeats' first deadlines, the config's maintenance windows (issue 13) */
    {"status", status_startup},
    {NULL, NULL},
};

const struct cmd_metrics_def cmd_metrics[] = {
    /* incidents (issue 3) */
    {"incidents", incident_metrics},
    /* alerts and paging (issue 5) */
    {"paging", paging_metrics},
    /* the handoff (issue 4) */
    {"handoff", handoff_metrics},
    {NULL, NULL},
};
/* clang-format on */
