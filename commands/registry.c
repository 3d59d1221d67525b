/*
 * registry.c — every table the dispatcher reads: slash subcommands, buttons, modal
 * submissions, channel events, timed jobs, outbox hooks and start-up tasks. One row per thing;
 * cmd_tables_check() refuses duplicates at boot. Keep rows grouped by feature.
 */
#include <stddef.h>

#include "alerts.h"
#include "basic.h"
#include "command.h"
#include "paging.h"
#include "stats.h"

/* A row of the command table; the statistics start at zero. */
#define CMD(group, name, fn, min, max, flags, usage, help) \
  {group, name, fn, min, max, flags, usage, help, 0, 0}

/* clang-format off */
struct cmd_def cmd_table[] = {
    /*  group       name     handler          min max flags        usage                    help */
    CMD("incident", "help",  cmd_group_help,  0, -1,  CMD_DEFAULT, "help",                  "this list"),
    CMD("oncall",   "help",  cmd_group_help,  0, -1,  0,           "help",                  "this list"),
    CMD("oncall",   "note",  cmd_oncall_note, 1, -1,  CMD_WRITE,   "note [--rota R] TEXT",  "a note for the next handoff (ongoing issue, maintenance)"),
    /* paging, alerts and stats (issue 5) */
    CMD("oncall",   "page",      paging_cmd_page,      2, -1, CMD_WRITE, "page @user|ROTA [SEVERITY] TEXT", "page someone, or a rota's on-call, by hand"),
    CMD("oncall",   "test-page", paging_cmd_test_page, 0, 0,  CMD_WRITE, "test-page",           "send yourself a test page to check delivery"),
    CMD("oncall",   "pages",     paging_cmd_pages,     0, 0,  0,         "pages",               "open pages and who acknowledged them"),
    CMD("oncall",   "escalate",  paging_cmd_escalate,  1, 1,  CMD_WRITE, "escalate PAGE",       "escalate a page to its next step now (also releases a held page)"),
    CMD("incident", "stats",     stats_cmd,            0, 1,  0,         "stats [7d|30d|90d]",  "MTTA, MTTR, MTTD, pages, escalations, false positives against targets"),
    CMD(NULL, NULL, NULL, 0, 0, 0, NULL, NULL),
};

const struct cmd_action_def cmd_actions[] = {
    /* paging and alerts (issue 5); the alert actions come only from the HTTP transport */
    {"page.ack", paging_action_ack},
    {"page.escalate", paging_action_escalate},
    {"page.resolve", paging_action_resolve},
    {"page.reason", paging_action_reason},
    {ALERTS_ACTION_AM, alerts_action_ingest},
    {ALERTS_ACTION_WEBHOOK, alerts_action_ingest},
    {NULL, NULL},
};

const struct cmd_view_def cmd_views[] = {
    {NULL, NULL},
};

const struct cmd_event_def cmd_events[] = {
    {CMD_KIND_OTHER, NULL},
};

const struct cmd_job_def cmd_jobs[] = {
    /* paging (issue 5) */
    {PAGING_JOB_STEP, paging_job_step},
    {PAGING_JOB_RELEASE, paging_job_release},
    {NULL, NULL},
};

const struct cmd_hook_def cmd_hooks[] = {
    /* paging (issue 5) */
    {PAGING_HOOK_POSTED, paging_hook_posted},
    {PAGING_HOOK_UPDATED, paging_hook_updated},
    {NULL, NULL},
};

const struct cmd_startup_def cmd_startups[] = {
    {NULL, NULL},
};

const struct cmd_metrics_def cmd_metrics[] = {
    /* alerts and paging (issue 5) */
    {"paging", paging_metrics},
    {NULL, NULL},
};
/* clang-format on */
