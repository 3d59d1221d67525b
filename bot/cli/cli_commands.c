/*
 * cli_commands.c — `klaxon commands`: every row of the command table (commands/registry.c) as
 * its users see it, one per line: "/group synopsis<TAB>help". The table is the one source of
 * truth; the README's command tables are checked against this output (tests/e2e/test_deploy.py),
 * and an operator can paste it into a runbook. Rows hidden from help are left out unless
 * --all is given.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "bot/app.h"
#include "bot/cli/cli.h"
#include "bot/cli/cli_basic.h"
#include "commands/core/command.h"
#include "lib/buf.h"

int cli_commands_list(int argc, char **argv)
{
  const struct cli_cmd *cmd = NULL;
  for (const struct cli_cmd *c = cli_commands; c->name; c++)
    if (strcmp(c->name, "commands") == 0)
      cmd = c;
  struct cli_opts o;
  int rc = cli_parse(cmd, argc, argv, &o);
  if (rc || o.help)
    return rc;
  bool all = cli_flag(&o, "--all");
  if (o.argc) {
    fprintf(stderr, "klaxon commands: unexpected argument \"%s\"\n", o.argv[0]);
    cli_usage(stderr, cmd);
    cli_opts_free(&o);
    return APP_EXIT_USAGE;
  }
  cli_opts_free(&o);
  struct buf b;
  buf_init(&b, 256);
  for (const struct cmd_def *d = cmd_table; d->group; d++) {
    if ((d->flags & CMD_HIDDEN) && !all)
      continue;
    buf_reset(&b);
    if (cmd_synopsis(&b, d) != 0) {
      buf_free(&b);
      return APP_EXIT_RUNTIME;
    }
    printf("/%s %s\t%s\n", d->group, b.data ? b.data : "", d->help ? d->help : "");
  }
  buf_free(&b);
  return fflush(stdout) == 0 ? 0 : APP_EXIT_RUNTIME;
}
