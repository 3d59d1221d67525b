/*
 * cli.h — the subcommands of build/klaxon: a table (cli_table.c) of name, handler, usage and
 * help, and the helpers they share (option parsing, loading the config, opening the database
 * read-only while the bot runs). Handlers print to stdout, errors to stderr, and return the
 * process exit code (0 ok, 1 failure, 2 usage; see README "Exit codes").
 */
#ifndef KX_CLI_H
#define KX_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "commands/core/config.h"
#include "storage/db.h"

struct cli_cmd {
  const char *name;
  int (*fn)(int argc, char **argv); /* argv[0] is the subcommand's name */
  const char *usage;                /* "oncall [--rota R] [--at TIME] [--json]" */
  const char *help;                 /* what it does, one line */
};

extern const struct cli_cmd cli_commands[];

/* Common options. cli_parse consumes --config FILE, --json and --help/-h wherever they are,
 * leaving the rest in `rest` (argv order kept). Returns 0, or 2 after printing usage. */
struct cli_opts {
  const char *config_path; /* --config, else $KLAXON_CONFIG, else NULL */
  bool json;
  bool help;
  int argc;
  char **argv; /* remaining arguments (points into a copy the caller frees with cli_opts_free) */
};
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_opts *o);
void cli_opts_free(struct cli_opts *o);
/* Value of `--name VALUE` in the remaining args (removed from them; borrowed), or NULL. */
const char *cli_option(struct cli_opts *o, const char *name);
bool cli_flag(struct cli_opts *o, const char *name);
void cli_usage(FILE *f, const struct cli_cmd *cmd);

/* Load and check the config, printing every problem; NULL on failure. */
struct config *cli_load_config(const struct cli_opts *o);
/* Open the config's database; read-only unless `write`. NULL with a sentence on failure. */
struct db *cli_open_db(const struct config *c, bool write);
/* `klaxon links` (cli_links.c). */
int cli_links(int argc, char **argv);
/* `klaxon teams-manifest [TEMPLATE]` (cli_teams.c). */
int cli_teams_manifest(int argc, char **argv);
/* `klaxon import pagerduty|opsgenie --from X [--out F]` (cli_import.c, issue 14). */
int cli_import(int argc, char **argv);
/* One bot per SQLite file: two would page twice. `run`, `restore` and `migrate` take an
 * exclusive flock on `<db_path>.lock` (created when missing) and hold it while they work: 0
 * with *fd_out open (close it to let go), KX_EBUSY when another process holds it, KX_EIO. */
int cli_lock_db(const char *db_path, int *fd_out);
/* `klaxon migrate --to postgres` (cli_migrate.c, issue 12). */
int cli_migrate(int argc, char **argv);
/* The clock's now for CLI reports: KLAXON_NOW if set, else the wall clock. */
long long cli_now_ms(void);

#endif
