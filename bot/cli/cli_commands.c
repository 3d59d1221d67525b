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
  bool all = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--all") == 0) {
      all = true;
    } else {
      fprintf(stderr, "klaxon commands: unknown argument %s (usage: commands [--all])\n", argv[i]);
      return APP_EXIT_USAGE;
    }
  }
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
