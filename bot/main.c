/*
 * main.c — klaxon's entry point: finds the subcommand in cli_commands and runs it.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bot/cli/cli.h"

static void usage(FILE *f)
{
  fprintf(f, "klaxon %s — on-call and incident response for Slack and Microsoft Teams\n\n",
          KLAXON_VERSION);
  fprintf(f, "usage: klaxon COMMAND [OPTIONS]   (klaxon COMMAND --help for each)\n\n");
  for (const struct cli_cmd *c = cli_commands; c->name; c++)
    fprintf(f, "  %-48s %s\n", c->usage, c->help);
  fprintf(f,
          "\nEnvironment: KLAXON_CONFIG, SLACK_APP_TOKEN, SLACK_BOT_TOKEN, KLAXON_SLACK_API_URL,\n"
          "KLAXON_NOW, KLAXON_TIME_SCALE, KLAXON_LOG_LEVEL (see README).\n");
}

int main(int argc, char **argv)
{
  /* The database, its WAL, backups and exports hold pages, names and phone numbers: files
   * klaxon creates are the owner's only, whatever umask it was started with. */
  umask(077);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *name = argv[1];
  if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
    name = "version";
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
    usage(stdout);
    return 0;
  }
  for (const struct cli_cmd *c = cli_commands; c->name; c++)
    if (strcmp(c->name, name) == 0)
      return c->fn(argc - 1, argv + 1);
  fprintf(stderr, "klaxon: unknown command \"%s\"\n\n", name);
  usage(stderr);
  return 2;
}
