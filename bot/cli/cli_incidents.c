/*
 * cli_incidents.c — `klaxon incidents [--open] [--json]` (the incidents, newest last; JSON for
 * scripts) and `klaxon postmortem ID` (the postmortem draft in Markdown). Both read the
 * database read-only, so they work while the bot runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/cli/cli.h"
#include "bot/web/incident_http.h"
#include "commands/incident/postmortem.h"
#include "lib/kx.h"
#include "lib/timeutil.h"
#include "storage/incidents.h"

int cli_incidents(int argc, char **argv);
int cli_postmortem(int argc, char **argv);

static const struct cli_cmd *find_cmd(const char *name)
{
  for (const struct cli_cmd *c = cli_commands; c->name; c++)
    if (strcmp(c->name, name) == 0)
      return c;
  return NULL;
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
  char t[40];
  if (ms)
    cJSON_AddStringToObject(o, key, time_format_utc(ms - ms % 1000, t, sizeof(t)));
  else
    cJSON_AddNullToObject(o, key);
}

static void add_str(cJSON *o, const char *key, const char *v)
{
  if (v)
    cJSON_AddStringToObject(o, key, v);
  else
    cJSON_AddNullToObject(o, key);
}

static cJSON *incident_json(const struct incident *x)
{
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  cJSON_AddNumberToObject(o, "id", (double)x->id);
  add_str(o, "title", x->title);
  add_str(o, "severity", x->severity);
  add_str(o, "status", x->status);
  add_str(o, "channel", x->channel_name);
  add_str(o, "channel_id", x->channel);
  static const char *const roles[INCIDENT_N_ROLES] = {"commander", "scribe", "comms", "ops"};
  for (int r = 0; r < INCIDENT_N_ROLES; r++)
    add_str(o, roles[r], x->roles[r]);
  add_str(o, "declared_by", x->declared_by);
  add_time(o, "declared_at", x->declared_at);
  add_time(o, "acknowledged_at", x->acknowledged_at);
  add_str(o, "acknowledged_by", x->acknowledged_by);
  add_time(o, "resolved_at", x->resolved_at);
  add_str(o, "resolved_by", x->resolved_by);
  add_time(o, "closed_at", x->closed_at);
  add_time(o, "impact_start_at", x->impact_start_at);
  cJSON_AddBoolToObject(o, "drill", x->drill);
  add_str(o, "platform", x->platform);
  add_str(o, "description", x->description);
  add_str(o, "resolution", x->resolution);
  if (x->alert_id)
    cJSON_AddNumberToObject(o, "alert_id", (double)x->alert_id);
  else
    cJSON_AddNullToObject(o, "alert_id");
  add_time(o, "postmortem_done_at", x->postmortem_done_at);
  add_str(o, "postmortem_url", x->postmortem_url);
  return o;
}

static void print_table(const struct config *c, const struct incident *list, size_t n, bool open)
{
  if (n == 0) {
    printf("%s\n", open ? "No open incidents." : "No incidents yet.");
    return;
  }
  printf("%-5s %-6s %-14s %-17s %-24s %-12s %s\n", "ID", "SEV", "STATUS", "DECLARED", "CHANNEL",
         "COMMANDER", "TITLE");
  for (size_t i = 0; i < n; i++) {
    const struct incident *x = &list[i];
    struct kx_local l;
    char when[24] = "?";
    if (tz_to_local(c->timezone ? c->timezone : "UTC", x->declared_at, &l) == 0)
      snprintf(when, sizeof(when), "%04d-%02d-%02d %02d:%02d", l.y, l.m, l.d, l.hh, l.mm);
    char chan[96];
    snprintf(chan, sizeof(chan), "%s%s", x->channel_name ? "#" : "",
             x->channel_name ? x->channel_name : "-");
    printf("%-5lld %-6s %-14s %-17s %-24s %-12s %s%s\n", (long long)x->id, x->severity, x->status,
           when, chan, x->roles[INCIDENT_ROLE_COMMANDER] ? x->roles[INCIDENT_ROLE_COMMANDER] : "-",
           x->drill ? "[DRILL] " : "", x->title);
  }
}

int cli_incidents(int argc, char **argv)
{
  const struct cli_cmd *cmd = find_cmd("incidents");
  struct cli_opts o;
  int rc = cli_parse(cmd, argc, argv, &o);
  if (rc || o.help)
    return rc;
  bool open = cli_flag(&o, "--open");
  if (o.argc) {
    fprintf(stderr, "klaxon incidents: unexpected argument \"%s\"\n", o.argv[0]);
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
  struct incident *list = NULL;
  size_t n = 0;
  rc = incidents_list(db, open ? INCIDENTS_OPEN : 0, 0, 0, &list, &n);
  if (rc) {
    fprintf(stderr, "klaxon incidents: cannot read the incidents (%s)\n", kx_strerror(rc));
  } else if (json) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++)
      cJSON_AddItemToArray(arr, incident_json(&list[i]));
    char *text = arr ? cJSON_Print(arr) : NULL;
    if (text)
      printf("%s\n", text);
    else
      rc = KX_ENOMEM;
    free(text);
    cJSON_Delete(arr);
  } else {
    print_table(c, list, n, open);
  }
  incidents_free(list, n);
  db_close(db);
  config_free(c);
  return rc ? 1 : 0;
}

int cli_postmortem(int argc, char **argv)
{
  const struct cli_cmd *cmd = find_cmd("postmortem");
  struct cli_opts o;
  int rc = cli_parse(cmd, argc, argv, &o);
  if (rc || o.help)
    return rc;
  char *end = NULL;
  long long id = o.argc == 1 ? strtoll(o.argv[0], &end, 10) : 0;
  if (o.argc != 1 || !end || *end || id <= 0) {
    if (o.argc == 1)
      fprintf(stderr, "klaxon postmortem: \"%s\" is not an incident id\n", o.argv[0]);
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
  char problem[300];
  char *tmpl = incident_template_read(c, problem, sizeof(problem));
  if (problem[0])
    fprintf(stderr, "klaxon postmortem: the template is not used (%s); the built-in layout is\n",
            problem);
  struct cmd_ctx ctx = {.db = db, .config = c, .now_ms = cli_now_ms()};
  struct buf md;
  rc = postmortem_render(&ctx, id, tmpl, &md);
  if (rc == KX_ENOTFOUND)
    fprintf(stderr, "klaxon postmortem: there is no incident #%lld\n", id);
  else if (rc)
    fprintf(stderr, "klaxon postmortem: %s\n", kx_strerror(rc));
  else
    fputs(md.data, stdout);
  buf_free(&md);
  free(tmpl);
  db_close(db);
  config_free(c);
  return rc ? 1 : 0;
}
