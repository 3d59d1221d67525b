/*
 * cli_links.c — `klaxon links`: the URLs of the read-only feeds (every rota's calendar and
 * /metrics) with the tokens that open them (commands/core/links.h), for calendar apps and the
 * Prometheus scrape config. Postmortem links reach people in the incident's messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/cli/cli.h"
#include "commands/core/links.h"
#include "commands/report/report.h"
#include "lib/feed_token.h"
#include "lib/kx.h"

static void print_link(const struct cmd_ctx *ctx, const char *what, const char *path)
{
  char *url = links_feed_url(ctx, path);
  if (url) {
    printf("%-24s %s\n", what, url);
  } else {
    char token[FEED_TOKEN_LEN + 1];
    if (feed_token(ctx->feed_secret, path, token) == 0)
      printf("%-24s %s?token=%s\n", what, path, token);
  }
  free(url);
}

int cli_links(int argc, char **argv)
{
  const struct cli_cmd *cmd = NULL;
  for (const struct cli_cmd *c = cli_commands; c->name; c++)
    if (strcmp(c->name, "links") == 0)
      cmd = c;
  struct cli_opts o;
  int rc = cli_parse(cmd, argc, argv, &o);
  if (rc || o.help)
    return rc;
  if (o.argc) {
    fprintf(stderr, "klaxon links: unexpected argument \"%s\"\n", o.argv[0]);
    cli_usage(stderr, cmd);
    cli_opts_free(&o);
    return 2;
  }
  struct config *c = cli_load_config(&o);
  cli_opts_free(&o);
  if (!c)
    return 1;
  struct db *db = cli_open_db(c, true);
  if (!db) {
    config_free(c);
    return 1;
  }
  char *secret = links_feed_secret(db, c, true);
  struct cmd_ctx ctx = {.db = db, .config = c, .public_url = c->public_url, .feed_secret = secret};
  if (!secret) {
    fprintf(stderr, "klaxon links: no feed secret could be read or made\n");
    rc = 1;
  } else {
    for (size_t i = 0; i < c->n_rotas; i++) {
      char what[96], path[192];
      snprintf(what, sizeof(what), "calendar %s", c->rotas[i].name);
      snprintf(path, sizeof(path), "/calendar/%s.ics", c->rotas[i].name);
      print_link(&ctx, what, path);
    }
    print_link(&ctx, "metrics", "/metrics");
    int y, m;
    if (report_last_month(c, cli_now_ms(), &y, &m) == 0) {
      char what[32], path[48];
      snprintf(what, sizeof(what), "report %04d-%02d", y, m);
      snprintf(path, sizeof(path), "/reports/%04d-%02d.html", y, m);
      print_link(&ctx, what, path);
    }
    if (!c->public_url)
      printf("(set public_url in the config for whole URLs)\n");
  }
  free(secret);
  db_close(db);
  config_free(c);
  return rc;
}
