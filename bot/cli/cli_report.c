/*
 * cli_report.c — `klaxon report [--month YYYY-MM] [--json|--csv|--html]`: the monthly report
 * (commands/report/report.h) of the last full month or of --month, as text, JSON, CSV or the
 * HTML page GET /reports/YYYY-MM.html serves; read-only while the bot runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/cli/cli.h"
#include "commands/core/links.h"
#include "commands/core/msg.h"
#include "commands/report/report.h"
#include "lib/kx.h"

int cli_report(int argc, char **argv);

static const char *person_name(void *arg, const char *id)
{
  const struct person *p = config_person(arg, id);
  return p ? (p->name ? p->name : p->id) : id;
}

static int print(struct cmd_ctx *ctx, const struct report *r, bool json, bool csv, bool html)
{
  if (json) {
    cJSON *j = report_json(ctx, r);
    char *text = j ? cJSON_Print(j) : NULL;
    if (text)
      printf("%s\n", text);
    free(text);
    cJSON_Delete(j);
    return text ? 0 : KX_ENOMEM;
  }
  struct buf b;
  buf_init(&b, REPORT_HTML_MAX);
  int rc = csv    ? report_csv(ctx, r, &b)
           : html ? report_html(ctx, r, &b)
                  : report_markup(ctx, r, NULL, &b);
  if (rc == 0 && (csv || html)) {
    fputs(b.data ? b.data : "", stdout);
  } else if (rc == 0) {
    char *plain = md_to_plain(b.data ? b.data : "", person_name, (void *)ctx->config);
    if (plain)
      printf("%s\n", plain);
    else
      rc = KX_ENOMEM;
    free(plain);
  }
  buf_free(&b);
  return rc;
}

int cli_report(int argc, char **argv)
{
  const struct cli_cmd *cmd = NULL;
  for (const struct cli_cmd *c = cli_commands; c->name; c++)
    if (strcmp(c->name, "report") == 0)
      cmd = c;
  struct cli_opts o;
  int rc = cli_parse(cmd, argc, argv, &o);
  if (rc || o.help)
    return rc;
  const char *month = cli_option(&o, "--month");
  bool csv = cli_flag(&o, "--csv"), html = cli_flag(&o, "--html"), json = o.json;
  int y = 0, m = 0;
  if (month && report_parse_month(month, &y, &m) != 0) {
    fprintf(stderr, "klaxon report: --month takes a month like 2026-11\n");
    cli_opts_free(&o);
    return 2;
  }
  if (o.argc || (json + csv + html) > 1) {
    if (o.argc)
      fprintf(stderr, "klaxon report: unexpected argument \"%s\"\n", o.argv[0]);
    else
      fprintf(stderr, "klaxon report: choose one of --json, --csv and --html\n");
    cli_usage(stderr, cmd);
    cli_opts_free(&o);
    return 2;
  }
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
  if (!month)
    rc = report_last_month(c, ctx.now_ms, &y, &m);
  struct report r;
  if (rc == 0)
    rc = report_compute(&ctx, y, m, &r);
  if (rc == 0) {
    rc = print(&ctx, &r, json, csv, html);
    report_free(&r);
  }
  if (rc)
    fprintf(stderr, "klaxon report: %s\n", kx_strerror(rc));
  db_close(db);
  config_free(c);
  return rc ? 1 : 0;
}
