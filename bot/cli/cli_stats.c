/*
 * cli_stats.c — `klaxon stats [--since DAYS] [--json]`: the numbers of /incident stats for
 * scripts and cron mails, read from the database read-only while the bot runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/cli/cli.h"
#include "commands/core/msg.h"
#include "commands/paging/stats.h"
#include "lib/kx.h"

int cli_stats(int argc, char **argv);

static const char *person_name(void *arg, const char *id)
{
  const struct person *p = config_person(arg, id);
  return p ? (p->name ? p->name : p->id) : id;
}

int cli_stats(int argc, char **argv)
{
  const struct cli_cmd *cmd = NULL;
  for (const struct cli_cmd *c = cli_commands; c->name; c++)
    if (strcmp(c->name, "stats") == 0)
      cmd = c;
  struct cli_opts o;
  int rc = cli_parse(cmd, argc, argv, &o);
  if (rc || o.help)
    return rc;
  const char *since = cli_option(&o, "--since");
  int days = 30;
  if (since) {
    char *end;
    long d = strtol(since, &end, 10);
    if (end == since || (*end && strcmp(end, "d") != 0) || d < 1 || d > STATS_MAX_DAYS) {
      fprintf(stderr, "klaxon stats: --since takes a number of days from 1 to %d (like 30)\n",
              STATS_MAX_DAYS);
      cli_opts_free(&o);
      return 2;
    }
    days = (int)d;
  }
  if (o.argc) {
    fprintf(stderr, "klaxon stats: unexpected argument \"%s\"\n", o.argv[0]);
    cli_usage(stderr, cmd);
    cli_opts_free(&o);
    return 2;
  }
  bool json = o.json;
  struct config *c = cli_load_config(&o);
  cli_opts_free(&o);
  if (!c)
    return 1;
  struct db *db = cli_open_db(c, false);
  if (!db) {
    config_free(c);
    return 1;
  }
  struct cmd_ctx ctx = {.db = db, .config = c, .now_ms = cli_now_ms()};
  struct stats_report r;
  rc = stats_compute(&ctx, days, &r);
  if (rc) {
    fprintf(stderr, "klaxon stats: %s\n", kx_strerror(rc));
  } else if (json) {
    cJSON *j = stats_json(&ctx, &r);
    char *text = j ? cJSON_Print(j) : NULL;
    if (text)
      printf("%s\n", text);
    else
      rc = KX_ENOMEM;
    free(text);
    cJSON_Delete(j);
  } else {
    struct buf b;
    buf_init(&b, 1 << 20);
    stats_markup(&ctx, &r, &b);
    char *plain = md_to_plain(b.data ? b.data : "", person_name, c);
    if (plain)
      printf("%s", plain);
    free(plain);
    buf_free(&b);
  }
  stats_report_free(&r);
  db_close(db);
  config_free(c);
  return rc ? 1 : 0;
}
