/*
 * config_schema.c — the keys of a klaxon config: what each means, its default, and how it
 * must relate to the others (docs/configuration.md is the same list for people).
 *
 * Sections are read in dependency order, not file order: people before anything that
 * names a person, smtp before `email:` steps, policies before severities, and rotas,
 * policies and severities before alert routes. So each reference is checked where it is
 * written, with its own line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/config/config_load_internal.h"
#include "bot/net/httpd.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define DEFAULT_STORAGE "klaxon.db"
#define DEFAULT_RETENTION_MS ((int64_t)400 * 24 * 3600 * 1000)
#define RETENTION_MIN_MS ((int64_t)7 * 24 * 3600 * 1000)
#define RETENTION_MAX_MS ((int64_t)3650 * 24 * 3600 * 1000)
#define DEFAULT_ALERT_TOKEN_ENV "KLAXON_ALERT_TOKEN"
#define DEFAULT_PING_MS (10 * MS_PER_SEC)
#define DEFAULT_PONG_MS (20 * MS_PER_SEC)
#define MAX_PONG_MS (30 * MS_PER_SEC) /* Slack drops a socket that has been quiet this long */
#define DEFAULT_POSTMORTEM_DUE_MS (24 * MS_PER_HOUR)
#define DEFAULT_HANDOFF_ACK_MS (30 * MS_PER_MIN)
#define TEAMS_OPENID_URL "https://login.botframework.com/v1/.well-known/openidconfiguration"
#define TEAMS_SERVICE_URL "https://smba.trafficmanager.net/teams/"
#define TEAMS_LEGACY_TENANT "botframework.com" /* multi-tenant bots, when no tenant_id is given */

static bool one_of(struct cfg_loader *L,
                   yaml_node_t *n,
                   const char *path,
                   const char *const *choices,
                   const char *list,
                   char **out)
{
  const char *s = cfg_text(L, n, path);
  if (!s)
    return false;
  for (size_t i = 0; choices[i]; i++)
    if (strcmp(s, choices[i]) == 0)
      return cfg_str(L, n, path, out);
  cfg_problem(L, cfg_line(n), "%s: \"%s\" is not one of %s", path, cfg_show(s).s, list);
  return false;
}

void cfg_need_person(
    struct cfg_loader *L, yaml_node_t *n, const char *id, const char *who, const char *role)
{
  if (id && !L->people_broken && !cfg_names_find(&L->people, id))
    cfg_problem(L, cfg_line(n), "%s: %s names \"%s\", who is not in people", who, role,
                cfg_show(id).s);
}

void cfg_person_list(struct cfg_loader *L,
                     yaml_node_t *n,
                     const char *path,
                     const char *who,
                     const char *role,
                     bool empty_ok,
                     char ***out,
                     size_t *n_out)
{
  size_t len;
  if (!n || !cfg_list(L, n, path, &len) || (len == 0 && empty_ok))
    return;
  if (len == 0) {
    cfg_problem(L, cfg_line(n), "%s is an empty list; name at least one person", path);
    return;
  }
  if (!(*out = calloc(len, sizeof(**out)))) {
    cfg_oom(L);
    return;
  }
  for (size_t i = 0; i < len && cfg_visit(L); i++) {
    yaml_node_t *it = cfg_item(L, n, i);
    if (cfg_str(L, it, CFG_P("%s[%zu]", path, i), &(*out)[*n_out])) {
      cfg_need_person(L, it, (*out)[*n_out], who, role);
      (*n_out)++;
    }
  }
}

/* ---- small sections ------------------------------------------------------------------------- */

static const char *const
    STORAGE_KEYS[] = {"engine", "path", "url_env", "retention", NULL},
    *const LOG_KEYS[] = {"level", "format", NULL}, *const HANDOFF_KEYS[] = {"ack_timeout", NULL},
    *const POSTMORTEM_KEYS[] = {"template", "due", "confluence", "webhook_url_env", NULL},
    *const TARGETS_KEYS[] = {"mtta", "mttr", "false_positive_rate", "page_success", NULL};
static const char *const HTTP_KEYS[] = {"listen", "feed_secret_env", "max_connections_per_client",
                                        NULL};

/* http.max_connections_per_client: a whole number up to the server's total connection cap. */
static void load_per_client(struct cfg_loader *L, yaml_node_t *n)
{
  const char *text = cfg_text(L, n, "http.max_connections_per_client");
  if (!text)
    return;
  char *end = NULL;
  long v = strtol(text, &end, 10);
  if (end == text || *end || v < 1 || v > HTTPD_CONN_MAX)
    cfg_problem(L, cfg_line(n),
                "http.max_connections_per_client: \"%s\" is not a whole number from 1 to %d",
                cfg_show(text).s, HTTPD_CONN_MAX);
  else
    L->c->http_max_connections_per_client = (int)v;
}

/* storage.retention: at least a week (the outbox keeps a month of delivered rows and
 * redeliveries come within days; less would only lose history), at most ten years. */
static void load_retention(struct cfg_loader *L, yaml_node_t *n)
{
  int64_t ms;
  if (!cfg_duration(L, n, "storage.retention", &ms))
    return;
  if (ms < RETENTION_MIN_MS || ms > RETENTION_MAX_MS)
    cfg_problem(L, cfg_line(n), "storage.retention: \"%s\" is not between 7d and 3650d",
                cfg_show(cfg_text(L, n, "storage.retention")).s);
  else
    L->c->storage_retention_ms = ms;
}

/* storage.engine: sqlite (the default: storage.path, one instance) or postgres (the database
 * named by the libpq string in the variable storage.url_env, KLAXON_DATABASE_URL unless said;
 * several instances: docs/ha.md). The string itself never sits in the file: it holds a
 * password. */
static void load_engine(struct cfg_loader *L, struct cfg_obj *o)
{
  struct config *c = L->c;
  yaml_node_t *engine = cfg_get(o, "engine");
  const char *name = engine ? cfg_text(L, engine, "storage.engine") : "sqlite";
  if (!name)
    return;
  if (strcmp(name, "postgres") == 0) {
    c->storage_postgres = true;
    if (cfg_get(o, "path"))
      cfg_problem(L, cfg_line(cfg_get(o, "path")),
                  "storage.path: the SQLite file has no use with engine: postgres (the database "
                  "is the one storage.url_env names)");
    free(c->storage_url_env);
    c->storage_url_env = NULL;
    cfg_checked(L, cfg_get(o, "url_env"), "storage.url_env", &CFG_ENV, &c->storage_url_env);
    if (!c->storage_url_env)
      c->storage_url_env = cfg_dup(L, "KLAXON_DATABASE_URL");
    return;
  }
  if (strcmp(name, "sqlite") != 0) {
    cfg_problem(L, cfg_line(engine), "storage.engine: \"%s\" is not sqlite or postgres",
                cfg_show(name).s);
    return;
  }
  if (cfg_get(o, "url_env"))
    cfg_problem(L, cfg_line(cfg_get(o, "url_env")),
                "storage.url_env: only for engine: postgres (SQLite's file is storage.path)");
  cfg_str(L, cfg_need(L, o, "storage", "path", "(the SQLite file)"), "storage.path",
          &c->storage_path);
}

static void load_small(struct cfg_loader *L, const struct cfg_obj *top)
{
  static const char *const formats[] = {"text", "json", NULL};
  struct config *c = L->c;
  struct cfg_obj o;
  yaml_node_t *n;
  if ((n = cfg_get(top, "storage")) && cfg_obj_open(L, n, "storage", STORAGE_KEYS, &o)) {
    load_engine(L, &o);
    load_retention(L, cfg_get(&o, "retention"));
  }
  if ((n = cfg_get(top, "http")) && cfg_obj_open(L, n, "http", HTTP_KEYS, &o)) {
    cfg_checked(L, cfg_need(L, &o, "http", "listen", "(host:port; leave http out for none)"),
                "http.listen", &CFG_LISTEN, &c->http_listen);
    cfg_checked(L, cfg_get(&o, "feed_secret_env"), "http.feed_secret_env", &CFG_ENV,
                &c->http_feed_secret_env);
    load_per_client(L, cfg_get(&o, "max_connections_per_client"));
  }
  if (cfg_checked(L, cfg_get(top, "public_url"), "public_url", &CFG_URL, &c->public_url)) {
    /* Links are built as public_url + "/path": keep one slash. */
    size_t len = strlen(c->public_url);
    while (len > 0 && c->public_url[len - 1] == '/')
      c->public_url[--len] = '\0';
  }
  if ((n = cfg_get(top, "log")) && cfg_obj_open(L, n, "log", LOG_KEYS, &o)) {
    /* The logger's own parser decides, so the two never disagree. */
    yaml_node_t *level = cfg_get(&o, "level");
    const char *name = cfg_text(L, level, "log.level");
    enum log_level parsed;
    if (name && log_parse_level(name, &parsed) != 0)
      cfg_problem(L, cfg_line(level),
                  "log.level: \"%s\" is not one of debug, info, warn, error, off",
                  cfg_show(name).s);
    else if (name)
      cfg_str(L, level, "log.level", &c->log_level);
    if (cfg_get(&o, "format"))
      one_of(L, cfg_get(&o, "format"), "log.format", formats, "text, json", &c->log_format);
  }
  if ((n = cfg_get(top, "handoff")) && cfg_obj_open(L, n, "handoff", HANDOFF_KEYS, &o))
    cfg_duration(L, cfg_get(&o, "ack_timeout"), "handoff.ack_timeout", &c->handoff.handoff_ack_ms);
  if ((n = cfg_get(top, "postmortem")) && cfg_obj_open(L, n, "postmortem", POSTMORTEM_KEYS, &o)) {
    cfg_str(L, cfg_get(&o, "template"), "postmortem.template", &c->postmortem.template_path);
    if (cfg_duration(L, cfg_get(&o, "due"), "postmortem.due", &c->postmortem.due_ms) &&
        c->postmortem.due_ms <= 0)
      cfg_problem(L, cfg_line(cfg_get(&o, "due")), "postmortem.due must be longer than 0");
    cfg_load_postmortem_export(L, &o); /* issue 14 */
  }
}

/* "5%" or a fraction "0.05". */
static bool parse_rate(const char *s, double *out)
{
  char *end;
  if (!((*s >= '0' && *s <= '9') || *s == '.'))
    return false;
  double v = strtod(s, &end);
  bool percent = *end == '%';
  if (end == s || (percent ? end[1] != '\0' : *end != '\0') || !isfinite(v))
    return false;
  if (percent)
    v /= 100;
  if (!(v >= 0 && v <= 1))
    return false;
  *out = v;
  return true;
}

static void load_targets(struct cfg_loader *L, yaml_node_t *n)
{
  struct cfg_obj o;
  if (!n || !cfg_obj_open(L, n, "targets", TARGETS_KEYS, &o))
    return;
  cfg_duration(L, cfg_get(&o, "mtta"), "targets.mtta", &L->c->targets.mtta_ms);
  cfg_duration(L, cfg_get(&o, "mttr"), "targets.mttr", &L->c->targets.mttr_ms);
  yaml_node_t *ps = cfg_get(&o, "page_success");
  const char *pss = cfg_text(L, ps, "targets.page_success");
  if (pss && !parse_rate(pss, &L->c->targets.page_success))
    cfg_problem(L, cfg_line(ps),
                "targets.page_success: \"%s\" is not a rate (like 100%% or 0.999, at most 100%%)",
                cfg_show(pss).s);
  yaml_node_t *fp = cfg_get(&o, "false_positive_rate");
  const char *s = cfg_text(L, fp, "targets.false_positive_rate");
  if (s && !parse_rate(s, &L->c->targets.false_positive_rate))
    cfg_problem(
        L, cfg_line(fp),
        "targets.false_positive_rate: \"%s\" is not a rate (like 5%% or 0.05, at most 100%%)",
        cfg_show(s).s);
}

static const char *const SLACK_KEYS[] = {
    "announce_channel", "handoff_channel", "stakeholder_channel", "app_token_env",
    "bot_token_env",    "ping_interval",   "pong_timeout",        NULL};

static void load_slack(struct cfg_loader *L, yaml_node_t *n)
{
  struct cfg_obj o;
  if (!n || !cfg_obj_open(L, n, "slack", SLACK_KEYS, &o))
    return;
  struct config *c = L->c;
  cfg_checked(L, cfg_get(&o, "announce_channel"), "slack.announce_channel", &CFG_CHANNEL,
              &c->slack.announce_channel);
  cfg_checked(L, cfg_get(&o, "handoff_channel"), "slack.handoff_channel", &CFG_CHANNEL,
              &c->slack.handoff_channel);
  cfg_checked(L, cfg_get(&o, "stakeholder_channel"), "slack.stakeholder_channel", &CFG_CHANNEL,
              &c->slack.stakeholder_channel);
  cfg_checked(L, cfg_get(&o, "app_token_env"), "slack.app_token_env", &CFG_ENV,
              &c->slack.app_token_env);
  cfg_checked(L, cfg_get(&o, "bot_token_env"), "slack.bot_token_env", &CFG_ENV,
              &c->slack.bot_token_env);
  yaml_node_t *ping = cfg_get(&o, "ping_interval"), *pong = cfg_get(&o, "pong_timeout");
  bool ping_ok = cfg_duration(L, ping, "slack.ping_interval", &c->slack.ping_interval_ms);
  bool pong_ok = cfg_duration(L, pong, "slack.pong_timeout", &c->slack.pong_timeout_ms);
  char a[32], b[32];
  if (ping_ok && c->slack.ping_interval_ms < MS_PER_SEC)
    cfg_problem(L, cfg_line(ping), "slack.ping_interval must be at least 1s");
  if (pong_ok && c->slack.pong_timeout_ms >= MAX_PONG_MS)
    cfg_problem(L, cfg_line(pong), "slack.pong_timeout must be under 30s (it is %s)",
                time_format_duration(c->slack.pong_timeout_ms, a, sizeof(a)));
  else if ((ping_ok || pong_ok) && c->slack.pong_timeout_ms <= c->slack.ping_interval_ms)
    cfg_problem(L, cfg_line(pong ? pong : ping),
                "slack.pong_timeout (%s) must be longer than slack.ping_interval (%s)",
                time_format_duration(c->slack.pong_timeout_ms, a, sizeof(a)),
                time_format_duration(c->slack.ping_interval_ms, b, sizeof(b)));
}

static const char *const SMTP_KEYS[] = {
    "url", "from", "username_env", "password_env", "starttls", "stakeholders", NULL};

static void load_smtp(struct cfg_loader *L, yaml_node_t *n)
{
  struct cfg_obj o;
  struct smtp_config *s = &L->c->smtp;
  if (!n)
    return;
  L->smtp_given = true;
  if (!cfg_obj_open(L, n, "smtp", SMTP_KEYS, &o))
    return;
  cfg_checked(L, cfg_need(L, &o, "smtp", "url", "(like smtp://mail.example.com:587)"), "smtp.url",
              &CFG_SMTP_URL, &s->url);
  cfg_checked(L, cfg_need(L, &o, "smtp", "from", "(the sender's address)"), "smtp.from", &CFG_EMAIL,
              &s->from);
  cfg_checked(L, cfg_get(&o, "username_env"), "smtp.username_env", &CFG_ENV, &s->username_env);
  cfg_checked(L, cfg_get(&o, "password_env"), "smtp.password_env", &CFG_ENV, &s->password_env);
  if (!cfg_get(&o, "username_env") != !cfg_get(&o, "password_env"))
    cfg_problem(L, cfg_line(n), "smtp: give both username_env and password_env, or neither");
  cfg_bool(L, cfg_get(&o, "starttls"), "smtp.starttls", &s->starttls);
  /* Email addresses told of pages of severities with stakeholders: true (issue 5). */
  yaml_node_t *list = cfg_get(&o, "stakeholders");
  size_t len;
  if (!list || !cfg_list(L, list, "smtp.stakeholders", &len) || len == 0)
    return;
  if (!(s->stakeholders = calloc(len, sizeof(char *))))
    return cfg_oom(L);
  for (size_t i = 0; i < len && cfg_visit(L); i++)
    if (cfg_checked(L, cfg_item(L, list, i), CFG_P("smtp.stakeholders[%zu]", i), &CFG_EMAIL,
                    &s->stakeholders[s->n_stakeholders]))
      s->n_stakeholders++;
}

static bool is_tenant(const char *s)
{
  if (CFG_GUID.ok(s))
    return true;
  for (const char *p = s; *p; p++)
    if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
        *p != '.' && *p != '-')
      return false;
  return *s && strchr(s, '.') != NULL;
}

static const struct cfg_check TENANT = {
    is_tenant, "a tenant id (a GUID, or a domain like contoso.onmicrosoft.com)", false};

static const char *const TEAMS_KEYS[] = {"app_id",
                                         "tenant_id",
                                         "app_password_env",
                                         "openid_metadata_url",
                                         "token_url",
                                         "service_url",
                                         "incident_channel",
                                         "announce_channel",
                                         "handoff_channel",
                                         "outgoing_webhook_secret_env",
                                         "workflow_webhook_url_env",
                                         NULL};

static void teams_defaults(struct cfg_loader *L, struct teams_config *t)
{
  if (!t->openid_metadata_url)
    t->openid_metadata_url = cfg_dup(L, TEAMS_OPENID_URL);
  if (!t->service_url)
    t->service_url = cfg_dup(L, TEAMS_SERVICE_URL);
  if (!t->token_url) {
    t->token_url = kx_asprintf("https://login.microsoftonline.com/%s/oauth2/v2.0/token",
                               t->tenant_id ? t->tenant_id : TEAMS_LEGACY_TENANT);
    if (!t->token_url)
      cfg_oom(L);
  }
}

static void load_teams(struct cfg_loader *L, yaml_node_t *n)
{
  struct cfg_obj o;
  struct teams_config *t = &L->c->teams;
  if (!n || !cfg_obj_open(L, n, "teams", TEAMS_KEYS, &o))
    return;
  t->enabled = true;
  cfg_checked(L, cfg_get(&o, "app_id"), "teams.app_id", &CFG_GUID, &t->app_id);
  cfg_checked(L, cfg_get(&o, "tenant_id"), "teams.tenant_id", &TENANT, &t->tenant_id);
  cfg_checked(L, cfg_get(&o, "app_password_env"), "teams.app_password_env", &CFG_ENV,
              &t->app_password_env);
  cfg_checked(L, cfg_get(&o, "openid_metadata_url"), "teams.openid_metadata_url", &CFG_URL,
              &t->openid_metadata_url);
  cfg_checked(L, cfg_get(&o, "token_url"), "teams.token_url", &CFG_URL, &t->token_url);
  cfg_checked(L, cfg_get(&o, "service_url"), "teams.service_url", &CFG_URL, &t->service_url);
  cfg_checked(L, cfg_get(&o, "incident_channel"), "teams.incident_channel", &CFG_TEAMS_CHANNEL,
              &t->incident_channel);
  cfg_checked(L, cfg_get(&o, "announce_channel"), "teams.announce_channel", &CFG_TEAMS_CHANNEL,
              &t->announce_channel);
  cfg_checked(L, cfg_get(&o, "handoff_channel"), "teams.handoff_channel", &CFG_TEAMS_CHANNEL,
              &t->handoff_channel);
  cfg_checked(L, cfg_get(&o, "outgoing_webhook_secret_env"), "teams.outgoing_webhook_secret_env",
              &CFG_ENV, &t->outgoing_webhook_secret_env);
  cfg_checked(L, cfg_get(&o, "workflow_webhook_url_env"), "teams.workflow_webhook_url_env",
              &CFG_ENV, &t->workflow_webhook_url_env);
  if (cfg_get(&o, "app_id") && !cfg_get(&o, "app_password_env"))
    cfg_problem(L, cfg_line(n),
                "teams.app_password_env is missing (the variable holding the bot's client "
                "secret; it goes with app_id)");
  if (!cfg_get(&o, "app_id") && !cfg_get(&o, "outgoing_webhook_secret_env") &&
      !cfg_get(&o, "workflow_webhook_url_env"))
    cfg_problem(L, cfg_line(n),
                "teams: give app_id (a bot), outgoing_webhook_secret_env or "
                "workflow_webhook_url_env; otherwise leave teams out");
  teams_defaults(L, t);
}

/* ---- runbooks: alertname -> URL ------------------------------------------------------------- */

struct runbook_walk {
  struct cfg_names names;
  size_t alloc;
};

static void runbook_pair(struct cfg_loader *L,
                         const char *key,
                         yaml_node_t *knode,
                         yaml_node_t *val,
                         bool merged,
                         void *ctx)
{
  struct runbook_walk *w = ctx;
  struct config *c = L->c;
  char *url = NULL;
  if (merged && cfg_names_has(&w->names, key))
    return;
  if (!cfg_checked(L, val, CFG_P("runbooks.%s", cfg_show(key).s), &CFG_URL, &url))
    return;
  struct runbook *grown = cfg_grow(L, c->runbooks, &w->alloc, c->n_runbooks + 1, sizeof(*grown));
  if (!grown) {
    free(url);
    return;
  }
  c->runbooks = grown;
  struct runbook *rb = &c->runbooks[c->n_runbooks++];
  rb->url = url;
  if ((rb->alertname = cfg_dup(L, key)))
    cfg_names_add(L, &w->names, rb->alertname, cfg_line(knode), c->n_runbooks - 1);
}

static void load_runbooks(struct cfg_loader *L, yaml_node_t *n)
{
  struct runbook_walk w = {.alloc = 0};
  if (!n)
    return;
  cfg_pairs(L, n, "runbooks", runbook_pair, &w);
  cfg_names_check(L, &w.names, "runbook");
  cfg_names_free(&w.names);
}

/* ---- people --------------------------------------------------------------------------------- */

static const char *const PERSON_KEYS[] = {"id",    "name", "slack",  "email", "teams",
                                          "phone", "push", "notify", NULL};

static void load_person(struct cfg_loader *L, yaml_node_t *n, size_t pos, struct person *p)
{
  struct cfg_path at = cfg_pathf("people[%zu]", pos);
  const char *path = at.s;
  struct cfg_obj o;
  if (!cfg_obj_open(L, n, path, PERSON_KEYS, &o))
    return;
  yaml_node_t *id = cfg_need(L, &o, path, "id", "(like alice)");
  const char *s = cfg_text(L, id, CFG_P("%s.id", path));
  if (s && !CFG_PERSON_ID.ok(s))
    cfg_problem(L, cfg_line(id), "%s.id: \"%s\" is not %s", path, cfg_show(s).s,
                CFG_PERSON_ID.what);
  /* Even a malformed id is indexed: the rotas naming it should not all be reported too. */
  if (s && (p->id = cfg_dup(L, s)))
    cfg_names_add(L, &L->people, p->id, cfg_line(id), pos);
  cfg_str(L, cfg_get(&o, "name"), CFG_P("%s.name", path), &p->name);
  if (cfg_checked(L, cfg_get(&o, "slack"), CFG_P("%s.slack", path), &CFG_SLACK_USER, &p->slack))
    cfg_names_add(L, &L->slack_ids, p->slack, cfg_line(cfg_get(&o, "slack")), pos);
  if (cfg_checked(L, cfg_get(&o, "email"), CFG_P("%s.email", path), &CFG_EMAIL, &p->email))
    cfg_names_add(L, &L->emails, p->email, cfg_line(cfg_get(&o, "email")), pos);
  /* Teams (issue 6): the Entra object id, which activities carry as from.aadObjectId. */
  cfg_checked(L, cfg_get(&o, "teams"), CFG_P("%s.teams", path), &CFG_GUID, &p->teams);
  cfg_load_person_reach(L, &o, path, p); /* phone, push, notify (config_notify.c) */
  if (!cfg_get(&o, "slack") && !cfg_get(&o, "email") && !cfg_get(&o, "teams"))
    cfg_problem(L, cfg_line(n),
                "%s: give slack (a user id) or email (looked up in Slack at run time), or both; "
                "or teams (the Entra object id) for someone who is only in Teams",
                p->id ? CFG_P("person \"%s\"", cfg_show(p->id).s) : path);
  if (!p->name && p->id)
    p->name = cfg_dup(L, p->id);
}

static void load_people(struct cfg_loader *L, yaml_node_t *n)
{
  struct config *c = L->c;
  size_t len;
  L->people_broken = true;
  if (!n || !cfg_list(L, n, "people", &len))
    return;
  if (len == 0) {
    cfg_problem(L, cfg_line(n), "people is empty; a rota needs at least one person");
    return;
  }
  if (!(c->people = calloc(len, sizeof(*c->people)))) {
    cfg_oom(L);
    return;
  }
  c->n_people = len;
  for (size_t i = 0; i < len && cfg_visit(L); i++)
    load_person(L, cfg_item(L, n, i), i, &c->people[i]);
  L->people_broken = false;
  cfg_names_check(L, &L->people, "person id");
  cfg_names_check(L, &L->slack_ids, "slack user id");
  cfg_names_check(L, &L->emails, "email");
}

/* ---- the whole file ------------------------------------------------------------------------- */

static const char *const TOP_KEYS[] = {"absences",
                                       "incident",
                                       "timezone",
                                       "storage",
                                       "http",
                                       "public_url",
                                       "log",
                                       "slack",
                                       "people",
                                       "rotas",
                                       "severities",
                                       "default_severity",
                                       "escalation_policies",
                                       "alerts",
                                       "runbooks",
                                       "targets",
                                       "postmortem",
                                       "handoff",
                                       "smtp",
                                       "teams",
                                       "status_page",
                                       "twilio",
                                       "contacts",
                                       "checks",
                                       "heartbeats",
                                       "maintenance",
                                       "operator",
                                       NULL};

static void defaults(struct cfg_loader *L)
{
  struct config *c = L->c;
  c->storage_path = cfg_dup(L, DEFAULT_STORAGE);
  c->storage_retention_ms = DEFAULT_RETENTION_MS;
  c->log_level = cfg_dup(L, "info");
  c->log_format = cfg_dup(L, "text");
  c->http_max_connections_per_client = HTTPD_PER_CLIENT_MAX;
  c->slack.app_token_env = cfg_dup(L, "SLACK_APP_TOKEN");
  c->slack.bot_token_env = cfg_dup(L, "SLACK_BOT_TOKEN");
  c->slack.ping_interval_ms = DEFAULT_PING_MS;
  c->slack.pong_timeout_ms = DEFAULT_PONG_MS;
  c->alerts.token_env = cfg_dup(L, DEFAULT_ALERT_TOKEN_ENV);
  c->postmortem.due_ms = DEFAULT_POSTMORTEM_DUE_MS;
  c->handoff.handoff_ack_ms = DEFAULT_HANDOFF_ACK_MS;
  c->targets.false_positive_rate = -1;
  c->targets.page_success = -1;
}

void cfg_load_root(struct cfg_loader *L, yaml_node_t *root)
{
  struct cfg_obj o;
  defaults(L);
  L->people_broken = L->rotas_broken = L->severities_broken = true;
  if (!cfg_obj_open(L, root, "", TOP_KEYS, &o))
    return;
  cfg_checked(L, cfg_need(L, &o, "", "timezone", "(the default time zone, like Europe/Berlin)"),
              "timezone", &CFG_TIMEZONE, &L->c->timezone);
  load_small(L, &o);
  load_targets(L, cfg_get(&o, "targets"));
  cfg_load_status_page(L, cfg_get(&o, "status_page"));
  load_slack(L, cfg_get(&o, "slack"));
  load_smtp(L, cfg_get(&o, "smtp"));
  load_teams(L, cfg_get(&o, "teams"));
  load_runbooks(L, cfg_get(&o, "runbooks"));
  load_people(L, cfg_need(L, &o, "", "people", "(a list of {id, name, slack, email})"));
  cfg_load_contacts(L, cfg_get(&o, "contacts"));
  cfg_load_policies(L, cfg_get(&o, "escalation_policies"));
  cfg_load_severities(L, cfg_need(L, &o, "", "severities", "(a list, most severe first)"),
                      cfg_get(&o, "default_severity"));
  cfg_load_rotas(L, cfg_need(L, &o, "", "rotas", "(a list of on-call rotas)"));
  cfg_load_alerts(L, cfg_get(&o, "alerts"));
  cfg_load_twilio(L, cfg_get(&o, "twilio"));
  cfg_load_absences(L, cfg_get(&o, "absences"));
  cfg_load_checks(L, cfg_get(&o, "checks"), cfg_get(&o, "heartbeats"), cfg_get(&o, "maintenance"));
  cfg_load_incident(L, cfg_get(&o, "incident"));
  cfg_load_operator(L, cfg_get(&o, "operator"));
}
