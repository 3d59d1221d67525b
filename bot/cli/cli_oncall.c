/*
 * cli_oncall.c — `klaxon oncall`, `klaxon schedule` and `klaxon export-ical`: who is on call,
 * the coming shifts and the iCalendar feed, for people and scripts. The config gives the
 * rotas; the database (read-only, while the bot runs) gives the overrides and absences. A
 * database that does not exist yet holds no changes, so the base schedule is shown.
 *
 * JSON shapes (people by config id, null for nobody; instants RFC 3339 in the rota's zone):
 *   oncall:   {rota, at, primary, secondary, manager, shadow, shift, shift_start, shift_end,
 *              primary_until, secondary_until, started}   (an array of them without --rota)
 *   schedule: [{rota, shift, start, end, primary, secondary, note}, …]
 */
#include "bot/cli/cli_oncall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "bot/cli/cli.h"
#include "bot/database.h"
#include "bot/net/http_client.h"
#include "bot/slack/slack_api.h"
#include "commands/oncall/oncall.h"
#include "commands/oncall/oncall_cmd.h"
#include "commands/oncall/rota.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

#define CLI_MAX_WEEKS 520

static const struct cli_cmd *find_cmd(const char *name)
{
  for (const struct cli_cmd *c = cli_commands; c->name; c++)
    if (strcmp(c->name, name) == 0)
      return c;
  return NULL;
}

/* What every one of these needs: the options, the config, the database when there is one. */
struct session {
  const struct cli_cmd *cmd;
  struct cli_opts o;
  struct config *config;
  struct db *db;
  struct cmd_ctx ctx;
  const char *rota;
};

static int session_open(struct session *s, const char *name, int argc, char **argv, bool *done)
{
  memset(s, 0, sizeof(*s));
  *done = false;
  s->cmd = find_cmd(name);
  int rc = cli_parse(s->cmd, argc, argv, &s->o);
  if (rc || s->o.help) {
    *done = true;
    return rc;
  }
  s->rota = cli_option(&s->o, "--rota");
  return 0;
}

/* After the options are taken: nothing may be left over; then config and database. */
static int session_load(struct session *s)
{
  if (s->o.argc) {
    fprintf(stderr, "klaxon %s: unexpected argument \"%s\"\n", s->cmd->name, s->o.argv[0]);
    cli_usage(stderr, s->cmd);
    return 2;
  }
  s->config = cli_load_config(&s->o);
  if (!s->config)
    return 1;
  const char *path = database_file(s->config);
  if (!path || access(path, F_OK) == 0) {
    s->db = cli_open_db(s->config, false);
    if (!s->db)
      return 1;
  }
  s->ctx = (struct cmd_ctx){.db = s->db, .config = s->config, .now_ms = cli_now_ms()};
  if (s->rota && !config_rota(s->config, s->rota)) {
    fprintf(stderr, "klaxon %s: there is no rota called \"%s\" (rotas:", s->cmd->name, s->rota);
    for (size_t i = 0; i < s->config->n_rotas; i++)
      fprintf(stderr, " %s", s->config->rotas[i].name);
    fprintf(stderr, ")\n");
    return 1;
  }
  return 0;
}

static void session_close(struct session *s)
{
  db_close(s->db);
  config_free(s->config);
  cli_opts_free(&s->o);
}

static bool selected(const struct session *s, const struct rota *r)
{
  return !s->rota || strcmp(s->rota, r->name) == 0;
}

static void add_time(cJSON *o, const char *key, const struct rota *r, int64_t ms)
{
  char t[48];
  cJSON_AddStringToObject(o, key, time_format_zone(ms, rota_zone(r), t, sizeof(t)));
}

static void add_person(cJSON *o, const char *key, const char *person)
{
  if (person)
    cJSON_AddStringToObject(o, key, person);
  else
    cJSON_AddNullToObject(o, key);
}

static int print_json(cJSON *j)
{
  char *text = j ? cJSON_Print(j) : NULL;
  cJSON_Delete(j);
  if (!text)
    return 1;
  printf("%s\n", text);
  free(text);
  return 0;
}

static const char *name_of(const struct config *c, const char *person)
{
  const struct person *p = config_person(c, person);
  return p && p->name ? p->name : person;
}

/* ---- klaxon oncall ------------------------------------------------------------------------- */

static cJSON *oncall_json(const struct rota *r, int64_t at, const struct rota_oncall *o)
{
  cJSON *j = cJSON_CreateObject();
  if (!j)
    return NULL;
  cJSON_AddStringToObject(j, "rota", r->name);
  add_time(j, "at", r, at);
  add_person(j, "primary", o->started ? o->primary.person : NULL);
  add_person(j, "secondary", o->started ? o->secondary.person : NULL);
  add_person(j, "manager", r->manager);
  add_person(j, "shadow", o->started ? o->shadow : NULL);
  cJSON_AddNumberToObject(j, "shift", (double)(o->shift.index + 1));
  add_time(j, "shift_start", r, o->shift.start_ms);
  add_time(j, "shift_end", r, o->shift.end_ms);
  if (o->started && o->primary.person && !o->primary_until_capped)
    add_time(j, "primary_until", r, o->primary_until_ms);
  else
    cJSON_AddNullToObject(j, "primary_until");
  if (o->started && o->secondary.person && !o->secondary_until_capped)
    add_time(j, "secondary_until", r, o->secondary_until_ms);
  else
    cJSON_AddNullToObject(j, "secondary_until");
  cJSON_AddBoolToObject(j, "started", o->started);
  return j;
}

static void oncall_text(const struct config *c,
                        const struct rota *r,
                        int64_t at,
                        const struct rota_oncall *o)
{
  char t1[48], t2[48];
  printf("%s (%s) at %s\n", r->name, rota_zone(r), oncall_fmt_time(r, at, t1, sizeof(t1)));
  if (!o->started) {
    printf("  not started: the first shift begins %s\n",
           oncall_fmt_time(r, o->shift.start_ms, t1, sizeof(t1)));
    return;
  }
  static const char *const why[] = {"", "", " (override)", " (covering)", ""};
  const struct rota_slot *slots[2] = {&o->primary, &o->secondary};
  const int64_t until[2] = {o->primary_until_ms, o->secondary_until_ms};
  const bool capped[2] = {o->primary_until_capped, o->secondary_until_capped};
  for (int i = 0; i < 2; i++) {
    if (slots[i]->source == ROTA_SRC_NONE)
      continue;
    printf("  %-9s %s%s", i ? "secondary" : "primary",
           slots[i]->person ? name_of(c, slots[i]->person) : "nobody",
           why[slots[i]->source < 5 ? slots[i]->source : 0]);
    if (slots[i]->person && !capped[i])
      printf(" until %s", oncall_fmt_time(r, until[i], t1, sizeof(t1)));
    printf("\n");
  }
  if (o->shadow)
    printf("  %-9s %s\n", "shadow", name_of(c, o->shadow));
  if (r->manager)
    printf("  %-9s %s\n", "manager", name_of(c, r->manager));
  printf("  shift #%lld: %s -> %s\n", (long long)o->shift.index + 1,
         oncall_fmt_time(r, o->shift.start_ms, t1, sizeof(t1)),
         oncall_fmt_time(r, o->shift.end_ms, t2, sizeof(t2)));
}

static int oncall_one(struct session *s, const struct rota *r, const char *at_text, cJSON *out)
{
  int64_t at = s->ctx.now_ms;
  if (at_text && rota_parse_time(r, at_text, false, &at) != 0) {
    fprintf(stderr, "klaxon oncall: --at \"%s\": use %s\n", at_text, ROTA_TIME_HELP);
    return 2;
  }
  struct rota_change_row *rows = NULL;
  struct rota_change *changes = NULL;
  size_t n = 0;
  int rc = oncall_changes_load_opt(&s->ctx, r, at, &rows, &changes, &n);
  struct rota_oncall o;
  if (rc == 0)
    rc = rota_oncall_at(r, changes, n, at, &o);
  if (rc) {
    fprintf(stderr, "klaxon oncall: %s: %s\n", r->name, kx_strerror(rc));
    oncall_changes_free(rows, changes, n);
    return 1;
  }
  if (out)
    cJSON_AddItemToArray(out, oncall_json(r, at, &o));
  else
    oncall_text(s->config, r, at, &o);
  oncall_changes_free(rows, changes, n);
  return 0;
}

int cli_oncall(int argc, char **argv)
{
  struct session s;
  bool done;
  int rc = session_open(&s, "oncall", argc, argv, &done);
  if (done)
    return rc;
  const char *at = cli_option(&s.o, "--at");
  rc = session_load(&s);
  cJSON *arr = rc == 0 && s.o.json ? cJSON_CreateArray() : NULL;
  for (size_t i = 0; rc == 0 && i < s.config->n_rotas; i++)
    if (selected(&s, &s.config->rotas[i]))
      rc = oncall_one(&s, &s.config->rotas[i], at, arr);
  if (rc == 0 && arr) {
    /* One rota asked for: the object itself. */
    cJSON *one = s.rota ? cJSON_DetachItemFromArray(arr, 0) : NULL;
    rc = print_json(one ? one : arr);
    if (one)
      cJSON_Delete(arr);
  } else {
    cJSON_Delete(arr);
  }
  session_close(&s);
  return rc;
}

/* ---- klaxon schedule ----------------------------------------------------------------------- */

static void segment_note(const struct config *c, const struct rota_segment *g, struct buf *b)
{
  const struct rota_slot *slots[2] = {&g->primary, &g->secondary};
  for (int i = 0; i < 2; i++) {
    const char *slot = i ? "secondary" : "primary";
    const struct rota_slot *x = slots[i];
    if (x->source == ROTA_SRC_OVERRIDE)
      buf_printf(b, "%s%s: override (instead of %s)", b->len ? "; " : "", slot,
                 x->scheduled ? name_of(c, x->scheduled) : "nobody");
    else if (x->source == ROTA_SRC_COVER)
      buf_printf(b, "%s%s: covering for %s (away)", b->len ? "; " : "", slot,
                 name_of(c, x->scheduled));
    else if (x->source == ROTA_SRC_UNCOVERED)
      buf_printf(b, "%s%s: nobody (%s is away)", b->len ? "; " : "", slot,
                 x->scheduled ? name_of(c, x->scheduled) : "?");
  }
}

static int schedule_rota(struct session *s, const struct rota *r, int weeks, cJSON *arr)
{
  int64_t now = s->ctx.now_ms, end = now + 7LL * weeks * MS_PER_DAY;
  struct rota_change_row *rows = NULL;
  struct rota_change *changes = NULL;
  size_t n = 0;
  struct rota_shift cur;
  int64_t since = rota_shift_at(r, now, &cur) == 0 ? cur.start_ms : now;
  int rc = oncall_changes_load_opt(&s->ctx, r, since, &rows, &changes, &n);
  struct rota_segment *segs = NULL;
  size_t ns = 0;
  if (rc == 0)
    rc = rota_schedule(r, changes, n, now, oncall_shifts_for_days(r, 7LL * weeks), &segs, &ns);
  if (rc) {
    fprintf(stderr, "klaxon schedule: %s: %s\n", r->name, kx_strerror(rc));
    oncall_changes_free(rows, changes, n);
    return 1;
  }
  if (!arr)
    printf("%s (%s)\n", r->name, rota_zone(r));
  for (size_t i = 0; i < ns && segs[i].start_ms < end; i++) {
    const struct rota_segment *g = &segs[i];
    struct buf note;
    buf_init(&note, 4096);
    buf_puts(&note, "");
    if (g->late_handoff) {
      char t[48];
      buf_printf(&note, "handoff moved from %s by a holiday or the weekend",
                 time_format_zone(g->nominal_start_ms, rota_zone(r), t, sizeof(t)));
    }
    segment_note(s->config, g, &note);
    if (arr) {
      cJSON *j = cJSON_CreateObject();
      cJSON_AddStringToObject(j, "rota", r->name);
      cJSON_AddNumberToObject(j, "shift", (double)(g->shift_index + 1));
      add_time(j, "start", r, g->start_ms);
      add_time(j, "end", r, g->end_ms);
      add_person(j, "primary", g->primary.person);
      add_person(j, "secondary", g->secondary.person);
      cJSON_AddStringToObject(j, "note", note.data ? note.data : "");
      cJSON_AddItemToArray(arr, j);
    } else {
      char t1[48], t2[48];
      printf("  #%-4lld %s -> %s  %s", (long long)g->shift_index + 1,
             oncall_fmt_time(r, g->start_ms, t1, sizeof(t1)),
             oncall_fmt_time(r, g->end_ms, t2, sizeof(t2)),
             g->primary.person ? name_of(s->config, g->primary.person) : "nobody");
      if (g->secondary.source != ROTA_SRC_NONE)
        printf(", secondary %s",
               g->secondary.person ? name_of(s->config, g->secondary.person) : "nobody");
      printf("%s%s\n", note.len ? "  — " : "", note.data ? note.data : "");
    }
    buf_free(&note);
  }
  rota_segments_free(segs);
  oncall_changes_free(rows, changes, n);
  return 0;
}

static int weeks_option(struct session *s, int def, int *out)
{
  const char *w = cli_option(&s->o, "--weeks");
  *out = def;
  if (!w)
    return 0;
  char *end;
  long v = strtol(w, &end, 10);
  if (end == w || *end || v < 1 || v > CLI_MAX_WEEKS) {
    fprintf(stderr, "klaxon %s: --weeks takes a number from 1 to %d\n", s->cmd->name,
            CLI_MAX_WEEKS);
    return 2;
  }
  *out = (int)v;
  return 0;
}

int cli_schedule(int argc, char **argv)
{
  struct session s;
  bool done;
  int rc = session_open(&s, "schedule", argc, argv, &done);
  if (done)
    return rc;
  int weeks;
  rc = weeks_option(&s, 4, &weeks);
  if (rc == 0)
    rc = session_load(&s);
  cJSON *arr = rc == 0 && s.o.json ? cJSON_CreateArray() : NULL;
  for (size_t i = 0; rc == 0 && i < s.config->n_rotas; i++)
    if (selected(&s, &s.config->rotas[i]))
      rc = schedule_rota(&s, &s.config->rotas[i], weeks, arr);
  if (rc == 0 && arr)
    rc = print_json(arr);
  else
    cJSON_Delete(arr);
  session_close(&s);
  return rc;
}

/* ---- klaxon export-ical -------------------------------------------------------------------- */

static int export_one(struct cmd_ctx *ctx, const struct rota *r, int weeks)
{
  struct buf b;
  buf_init(&b, ONCALL_ICAL_MAX_BYTES);
  int rc = 0;
  int err = oncall_ical(ctx, r, weeks, &b);
  if (err) {
    fprintf(stderr, "klaxon export-ical: %s: %s\n", r->name, kx_strerror(err));
    rc = 1;
  } else if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout) != 0) {
    fprintf(stderr, "klaxon export-ical: cannot write the calendar\n");
    rc = 1;
  }
  buf_free(&b);
  return rc;
}

int cli_export_ical(int argc, char **argv)
{
  struct session s;
  bool done;
  int rc = session_open(&s, "export-ical", argc, argv, &done);
  if (done)
    return rc;
  int weeks;
  rc = weeks_option(&s, ONCALL_ICAL_WEEKS, &weeks);
  if (rc == 0)
    rc = session_load(&s);
  const struct rota *r = NULL;
  if (rc == 0 && s.config)
    r = s.rota ? config_rota(s.config, s.rota) : (s.config->n_rotas == 1 ? s.config->rotas : NULL);
  if (rc == 0 && !r) {
    fprintf(stderr, "klaxon export-ical: give --rota R (one of:");
    for (size_t i = 0; s.config && s.config->rotas && i < s.config->n_rotas; i++)
      fprintf(stderr, " %s", s.config->rotas[i].name);
    fprintf(stderr, ")\n");
    rc = 2;
  }
  if (rc == 0 && r)
    rc = export_one(&s.ctx, r, weeks);
  session_close(&s);
  return rc;
}

/* ---- check-config --online: people in Slack ---------------------------------------------------
 */

#define ONLINE_MAX_RETRIES 5
#define ONLINE_MAX_WAIT_S 60

struct online {
  uv_loop_t loop;
  uv_timer_t wait;
  struct http_client *http;
  struct slack_api *api;
  const struct config *c;
  size_t next; /* the person being asked about */
  int retries;
  int missing;  /* not found, or refused */
  int mismatch; /* configured id differs */
  int asked;
  bool auth_failed;
};

static void ask_next(struct online *o);

static void on_wait(uv_timer_t *t)
{
  ask_next(t->data);
}

static void on_closed(void *arg)
{
  (void)arg;
}

static void finish_online(struct online *o)
{
  http_client_close(o->http, on_closed, o);
  uv_close((uv_handle_t *)&o->wait, NULL);
}

static void on_lookup(void *arg, const struct slack_result *r)
{
  struct online *o = arg;
  const struct person *p = &o->c->people[o->next];
  if (r->err == KX_ERATELIMITED || r->err == KX_ERETRY) {
    if (++o->retries <= ONLINE_MAX_RETRIES) {
      long s = r->retry_after_s > 0 ? r->retry_after_s : 1;
      uv_timer_start(&o->wait, on_wait,
                     (uint64_t)(s > ONLINE_MAX_WAIT_S ? ONLINE_MAX_WAIT_S : s) * 1000, 0);
      return;
    }
  }
  const cJSON *user = cJSON_GetObjectItemCaseSensitive(r->json, "user");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(user, "id");
  if (r->err == 0 && cJSON_IsString(id)) {
    if (p->slack && strcmp(p->slack, id->valuestring) != 0) {
      printf("  %-16s %s: Slack says %s, the config says %s\n", p->id, p->email, id->valuestring,
             p->slack);
      o->mismatch++;
    } else {
      printf("  %-16s %s: %s\n", p->id, p->email, id->valuestring);
    }
  } else {
    printf("  %-16s %s: NOT FOUND in Slack (%s)\n", p->id, p->email,
           r->error ? r->error : "no user in the answer");
    o->missing++;
  }
  o->next++;
  o->retries = 0;
  ask_next(o);
}

static void ask_next(struct online *o)
{
  while (o->next < o->c->n_people && !o->c->people[o->next].email)
    o->next++;
  if (o->next >= o->c->n_people) {
    finish_online(o);
    return;
  }
  cJSON *args = cJSON_CreateObject();
  if (args)
    cJSON_AddStringToObject(args, "email", o->c->people[o->next].email);
  char *form = args ? slack_form_encode(args) : NULL;
  cJSON_Delete(args);
  int rc = form ? slack_api_form(o->api, "users.lookupByEmail", SLACK_TOKEN_BOT, form, on_lookup, o)
                : KX_ENOMEM;
  free(form);
  o->asked++;
  if (rc) {
    printf("  %-16s cannot ask Slack (%s)\n", o->c->people[o->next].id, kx_strerror(rc));
    o->missing++;
    o->next++;
    ask_next(o);
  }
}

static void on_auth(void *arg, const struct slack_result *r)
{
  struct online *o = arg;
  if (r->err) {
    printf("Slack refused the bot token (auth.test: %s)\n", r->error ? r->error : "no answer");
    o->auth_failed = true;
    finish_online(o);
    return;
  }
  const cJSON *team = cJSON_GetObjectItemCaseSensitive(r->json, "team");
  printf("Slack workspace %s: looking people up by email\n",
         cJSON_IsString(team) ? team->valuestring : "?");
  ask_next(o);
}

int cli_check_people_online(const struct config *c)
{
  const char *env = c->slack.bot_token_env ? c->slack.bot_token_env : "SLACK_BOT_TOKEN";
  const char *token = getenv(env);
  if (!token || strncmp(token, "xoxb-", 5) != 0) {
    fprintf(stderr, "klaxon check-config --online: %s must hold the bot token (xoxb-…)\n", env);
    return 1;
  }
  const char *base = getenv("KLAXON_SLACK_API_URL");
  if (!base || !*base)
    base = "https://slack.com/api/";
  struct online *o = calloc(1, sizeof(*o));
  if (!o)
    return 1;
  o->c = c;
  uv_loop_init(&o->loop);
  uv_timer_init(&o->loop, &o->wait);
  o->wait.data = o;
  o->http = http_client_new(&o->loop);
  o->api = o->http ? slack_api_new(o->http, base, token, NULL) : NULL;
  int rc =
      o->api ? slack_api_call(o->api, "auth.test", SLACK_TOKEN_BOT, "{}", on_auth, o) : KX_ENOMEM;
  if (rc) {
    fprintf(stderr, "klaxon check-config --online: cannot reach Slack (%s)\n", kx_strerror(rc));
    if (o->http)
      finish_online(o);
    else
      uv_close((uv_handle_t *)&o->wait, NULL);
  }
  uv_run(&o->loop, UV_RUN_DEFAULT);
  slack_api_free(o->api);
  if (uv_loop_close(&o->loop) != 0)
    fprintf(stderr, "klaxon check-config --online: the loop did not close cleanly\n");
  int bad = rc || o->auth_failed || o->missing || o->mismatch;
  if (!rc && !o->auth_failed)
    printf("%d people asked about: %d not found, %d with a different Slack id\n", o->asked,
           o->missing, o->mismatch);
  free(o);
  return bad ? 1 : 0;
}
