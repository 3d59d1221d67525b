/*
 * cli_teams.c — `klaxon teams-manifest [TEMPLATE]`: the Teams app manifest with its command
 * menu derived from the command table (bot/teams/teams_manifest.h), on stdout. The template is
 * deploy/teams/manifest.json by default; write the output back there after changing a row's
 * CMD_MENU flag, usage or help (a unit test checks that they agree).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/cli/cli.h"
#include "bot/teams/teams_manifest.h"

#define TEMPLATE_MAX (1 << 20) /* bytes of a manifest template */

int cli_teams_manifest(int argc, char **argv)
{
  const struct cli_cmd *cmd = NULL;
  for (const struct cli_cmd *c = cli_commands; c->name; c++)
    if (strcmp(c->name, "teams-manifest") == 0)
      cmd = c;
  struct cli_opts o;
  int rc = cli_parse(cmd, argc, argv, &o);
  if (rc || o.help)
    return rc;
  if (o.argc > 1) {
    fprintf(stderr, "klaxon teams-manifest: unexpected argument \"%s\"\n", o.argv[1]);
    cli_usage(stderr, cmd);
    cli_opts_free(&o);
    return 2;
  }
  const char *path = o.argc ? o.argv[0] : "deploy/teams/manifest.json";
  FILE *f = fopen(path, "rb");
  char *text = f ? malloc(TEMPLATE_MAX + 1) : NULL;
  size_t n = text ? fread(text, 1, TEMPLATE_MAX + 1, f) : 0;
  if (f)
    (void)fclose(f); /* read only: nothing to lose */
  char *out = NULL;
  if (text && n <= TEMPLATE_MAX) {
    text[n] = '\0';
    out = teams_manifest_render(text);
  }
  if (out)
    printf("%s\n", out);
  else
    fprintf(stderr, "klaxon teams-manifest: cannot read a Teams manifest from %s\n", path);
  free(out);
  free(text);
  cli_opts_free(&o);
  return out ? 0 : 1;
}
