/*
 * registry.c — every table the dispatcher reads: slash subcommands, buttons, modal
 * submissions, channel events, timed jobs, outbox hooks and start-up tasks. One row per thing;
 * cmd_tables_check() refuses duplicates at boot. Keep rows grouped by feature.
 */
#include <stddef.h>

#include "basic.h"
#include "command.h"

/* A row of the command table; the statistics start at zero. */
#define CMD(group, name, fn, min, max, flags, usage, help) \
  {group, name, fn, min, max, flags, usage, help, 0, 0}

/* clang-format off */
struct cmd_def cmd_table[] = {
    /*  group       name     handler          min max flags        usage                    help */
    CMD("incident", "help",  cmd_group_help,  0, -1,  CMD_DEFAULT, "help",                  "this list"),
    CMD("oncall",   "help",  cmd_group_help,  0, -1,  0,           "help",                  "this list"),
    CMD("oncall",   "note",  cmd_oncall_note, 1, -1,  CMD_WRITE,   "note [--rota R] TEXT",  "a note for the next handoff (ongoing issue, maintenance)"),
    CMD(NULL, NULL, NULL, 0, 0, 0, NULL, NULL),
};

const struct cmd_action_def cmd_actions[] = {
    {NULL, NULL},
};

const struct cmd_view_def cmd_views[] = {
    {NULL, NULL},
};

const struct cmd_event_def cmd_events[] = {
    {CMD_KIND_OTHER, NULL},
};

const struct cmd_job_def cmd_jobs[] = {
    {NULL, NULL},
};

const struct cmd_hook_def cmd_hooks[] = {
    {NULL, NULL},
};

const struct cmd_startup_def cmd_startups[] = {
    {NULL, NULL},
};

const struct cmd_metrics_def cmd_metrics[] = {
    {NULL, NULL},
};
/* clang-format on */
