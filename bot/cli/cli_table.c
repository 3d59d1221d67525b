/*
 * cli_table.c — every subcommand of build/klaxon. The first four rows' positions are used by
 * their handlers (cli_commands[0] is run …); add new rows after them.
 */
#include <stddef.h>

#include "bot/cli/cli.h"
#include "bot/cli/cli_basic.h"

int cli_stats(int argc, char **argv);      /* cli_stats.c (issue 5) */
#include "bot/cli/cli_oncall.h"            /* issue 4 */
int cli_incidents(int argc, char **argv);  /* cli_incidents.c (issue 3) */
int cli_postmortem(int argc, char **argv); /* cli_incidents.c (issue 3) */
int cli_report(int argc, char **argv);     /* cli_report.c (issue 16) */
int cli_schema(int argc, char **argv);     /* cli_schema.c (issue 12) */

const struct cli_cmd cli_commands[] = {
    {"run", cli_run, "run [--config FILE]", "run the bot (Slack Socket Mode, HTTP, timers)"},
    {"check-config", cli_check_config, "check-config [--config FILE | FILE] [--online]",
     "check the config and report every problem with its line; --online: find people in Slack"},
    {"backup", cli_backup, "backup [--config FILE] DEST",
     "copy the database consistently while the bot runs (SQLite online backup)"},
    {"restore", cli_restore, "restore [--config FILE] BACKUP",
     "replace the database with a backup (stop the bot first)"},
    {"demo", cli_demo, "demo", "play a whole incident against a local Slack simulator"},
    {"version", cli_version, "version", "print the version"},
    /* stats (issue 5) */
    {"stats", cli_stats, "stats [--config FILE] [--since DAYS] [--json]",
     "MTTA, MTTR, MTTD, pages per rota and person, escalations, false positives vs targets"},
    /* rotas (issue 4) */
    {"oncall", cli_oncall, "oncall [--config FILE] [--rota R] [--at TIME] [--json]",
     "who is on call (primary, secondary, manager, shift) now or at TIME"},
    {"schedule", cli_schedule, "schedule [--config FILE] [--rota R] [--weeks N] [--json]",
     "the shifts of the next N weeks (default 4), overrides, covers and holidays applied"},
    {"export-ical", cli_export_ical, "export-ical [--config FILE] [--rota R] [--weeks N]",
     "a rota's iCalendar feed (RFC 5545) on stdout, as GET /calendar/R.ics serves it"},
    /* incidents (issue 3) */
    {"incidents", cli_incidents, "incidents [--config FILE] [--open] [--json]",
     "the incidents (--open: not resolved yet); --json for scripts"},
    {"postmortem", cli_postmortem, "postmortem [--config FILE] ID",
     "print the postmortem draft of incident ID (Markdown)"},
    /* the monthly report (issue 16) */
    {"report", cli_report, "report [--config FILE] [--month YYYY-MM] [--json | --csv | --html]",
     "the monthly report (default: the last full month): incidents, MTTA/MTTR/MTTD vs targets, "
     "MTBF, pages, hours on call, noisy alerts, action items, postmortems"},
    /* the read-only feeds and their tokens */
    {"links", cli_links, "links [--config FILE]",
     "the calendar and /metrics URLs with the tokens that open them"},
    /* Teams (issue 6): the app manifest's command menu, from the command table (issue 10) */
    {"teams-manifest", cli_teams_manifest, "teams-manifest [TEMPLATE]",
     "the Teams app manifest (default deploy/teams/manifest.json) with its command menu from the "
     "command table, on stdout"},
    /* the command table itself (issue 10) */
    {"commands", cli_commands_list, "commands [--all]",
     "every slash command's synopsis and help line, from the command table (--all: hidden too)"},
    /* migration (issue 14) */
    {"import", cli_import, "import pagerduty|opsgenie --from FILE_OR_DIR [--out FILE]",
     "turn a PagerDuty or Opsgenie export into klaxon's YAML; says on stderr what could not be "
     "carried over and where the on-call differs"},
    /* the schema's SQL per engine (issue 12) */
    {"schema", cli_schema, "schema [sqlite|postgres]",
     "the SQL of every schema migration for SQLite (what klaxon runs) or PostgreSQL, on stdout"},
    /* SQLite to PostgreSQL (issue 12): cli_migrate.c */
    {"migrate", cli_migrate, "migrate --to postgres [--config FILE] [--from FILE] [--url-env VAR]",
     "copy the SQLite database (--from, else the config's storage.path) into an empty PostgreSQL "
     "database (the libpq string in $VAR: --url-env, else storage.url_env, else "
     "KLAXON_DATABASE_URL); stop klaxon first"},
    {NULL, NULL, NULL, NULL},
};
