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

#include "../lib/kx.h"
#include "../lib/timeutil.h"
#include "config_load_internal.h"

#define DEFAULT_STORAGE "klaxon.db"
#define DEFAULT_ALERT_TOKEN_ENV "KLAXON_ALERT_TOKEN"
#define DEFAULT_PING_MS (10 * MS_PER_SEC)
#define DEFAULT_PONG_MS (20 * MS_PER_SEC)
#define MAX_PONG_MS (30 * MS_PER_SEC) /* Slack drops a socket that has been quiet this long */
#define DEFAULT_POSTMORTEM_DUE_MS (24 * MS_PER_HOUR)
#define DEFAULT_HANDOFF_ACK_MS (30 * MS_PER_MIN)
#define MAX_SHIFT_DAYS 366
#define MAX_REPEAT 100
#define TEAMS_OPENID_URL "https://login.botframework.com/v1/.well-known/openidconfiguration"
#define TEAMS_SERVICE_URL "https://smba.trafficmanager.net/teams/"
#define TEAMS_LEGACY_TENANT "botframework.com" /* multi-tenant bots, when no tenant_id is given */

#define P(...) cfg_pathf(__VA_ARGS__).s

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

/* A person a rota, contact or step names must be in people. */
static void need_person(
    struct cfg_loader *L, yaml_node_t *n, const char *id, const char *who, const char *role)
{
  if (id && !L->people_broken && !cfg_names_find(&L->people, id))
    cfg_problem(L, cfg_line(n), "%s: %s names \"%s\", who is not in people", who, role,
                cfg_show(id).s);
}

/* A list of person ids into (*out, *n_out); each id must be in people. */
static void person_list(struct cfg_loader *L,
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
  if (!(*out = calloc(len, sizeof(**out))))
    return cfg_oom(L);
  for (size_t i = 0; i < len && cfg_visit(L); i++) {
    yaml_node_t *it = cfg_item(L, n, i);
    if (cfg_str(L, it, P("%s[%zu]", path, i), &(*out)[*n_out])) {
      need_person(L, it, (*out)[*n_out], who, role);
      (*n_out)++;
    }
  }
}

/* ---- small sections ------------------------------------------------------------------------- */

static const char *const STORAGE_KEYS[] = {"path", NULL}, *const HTTP_KEYS[] = {"listen", NULL},
                         *const LOG_KEYS[] = {"level", "format", NULL},
                         *const HANDOFF_KEYS[] = {"ack_timeout", NULL},
                         *const POSTMORTEM_KEYS[] = {"template", "due", NULL},
                         *const TARGETS_KEYS[] = {"mtta", "mttr", "false_positive_rate", NULL},
                         *const STATUS_KEYS[] = {"title", "components", NULL};

static void load_small(struct cfg_loader *L, const struct cfg_obj *top)
{
  static const char *const levels[] = {"debug", "info", "warn", "error", NULL}, *const formats[] = {
                                                                                    "text", "json",
                                                                                    NULL};
  struct config *c = L->c;
  struct cfg_obj o;
  yaml_node_t *n;
  if ((n = cfg_get(top, "storage")) && cfg_obj_open(L, n, "storage", STORAGE_KEYS, &o))
    cfg_str(L, cfg_need(L, &o, "storage", "path", "(the SQLite file)"), "storage.path",
            &c->storage_path);
  if ((n = cfg_get(top, "http")) && cfg_obj_open(L, n, "http", HTTP_KEYS, &o))
    cfg_checked(L, cfg_need(L, &o, "http", "listen", "(host:port; leave http out for none)"),
                "http.listen", &CFG_LISTEN, &c->http_listen);
  if (cfg_checked(L, cfg_get(top, "public_url"), "public_url", &CFG_URL, &c->public_url)) {
    /* Links are built as public_url + "/path": keep one slash. */
    size_t len = strlen(c->public_url);
    while (len > 0 && c->public_url[len - 1] == '/')
      c->public_url[--len] = '\0';
  }
  if ((n = cfg_get(top, "log")) && cfg_obj_open(L, n, "log", LOG_KEYS, &o)) {
    if (cfg_get(&o, "level"))
      one_of(L, cfg_get(&o, "level"), "log.level", levels, "debug, info, warn, error",
             &c->log_level);
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
  yaml_node_t *fp = cfg_get(&o, "false_positive_rate");
  const char *s = cfg_text(L, fp, "targets.false_positive_rate");
  if (s && !parse_rate(s, &L->c->targets.false_positive_rate))
    cfg_problem(
        L, cfg_line(fp),
        "targets.false_positive_rate: \"%s\" is not a rate (like 5%% or 0.05, at most 100%%)",
        cfg_show(s).s);
}

static void load_status_page(struct cfg_loader *L, yaml_node_t *n)
{
  struct cfg_obj o;
  size_t len;
  if (!n || !cfg_obj_open(L, n, "status_page", STATUS_KEYS, &o))
    return;
  cfg_str(L, cfg_get(&o, "title"), "status_page.title", &L->c->status_page.title);
  yaml_node_t *list = cfg_get(&o, "components");
  if (!list || !cfg_list(L, list, "status_page.components", &len) || len == 0)
    return;
  if (!(L->c->status_page.components = calloc(len, sizeof(char *))))
    return cfg_oom(L);
  for (size_t i = 0; i < len && cfg_visit(L); i++) {
    char **slot = &L->c->status_page.components[L->c->status_page.n_components];
    if (cfg_str(L, cfg_item(L, list, i), P("status_page.components[%zu]", i), slot))
      L->c->status_page.n_components++;
  }
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

static const char *const SMTP_KEYS[] = {"url",          "from",     "username_env",
                                        "password_env", "starttls", "stakeholders", NULL};

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
    if (cfg_checked(L, cfg_item(L, list, i), P("smtp.stakeholders[%zu]", i), &CFG_EMAIL,
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
  static const struct {
    const char *key;
    const struct cfg_check *check;
    size_t offset;
  } fields[] = {
      {"app_password_env", &CFG_ENV, offsetof(struct teams_config, app_password_env)},
      {"openid_metadata_url", &CFG_URL, offsetof(struct teams_config, openid_metadata_url)},
      {"token_url", &CFG_URL, offsetof(struct teams_config, token_url)},
      {"service_url", &CFG_URL, offsetof(struct teams_config, service_url)},
      {"incident_channel", &CFG_TEAMS_CHANNEL, offsetof(struct teams_config, incident_channel)},
      {"announce_channel", &CFG_TEAMS_CHANNEL, offsetof(struct teams_config, announce_channel)},
      {"handoff_channel", &CFG_TEAMS_CHANNEL, offsetof(struct teams_config, handoff_channel)},
      {"outgoing_webhook_secret_env", &CFG_ENV,
       offsetof(struct teams_config, outgoing_webhook_secret_env)},
      {"workflow_webhook_url_env", &CFG_ENV,
       offsetof(struct teams_config, workflow_webhook_url_env)},
  };
  for (size_t i = 0; i < KX_ARRAY_SIZE(fields); i++)
    cfg_checked(L, cfg_get(&o, fields[i].key), P("teams.%s", fields[i].key), fields[i].check,
                (char **)((char *)t + fields[i].offset));
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
  if (!cfg_checked(L, val, P("runbooks.%s", cfg_show(key).s), &CFG_URL, &url))
    return;
  if (!cfg_reserve(L, (void **)&c->runbooks, &w->alloc, c->n_runbooks + 1, sizeof(*c->runbooks))) {
    free(url);
    return;
  }
  struct runbook *rb = &c->runbooks[c->n_runbooks];
  rb->url = url;
  if (!(rb->alertname = cfg_dup(L, key)))
    return;
  c->n_runbooks++;
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

static const char *const PERSON_KEYS[] = {"id", "name", "slack", "email", "teams", "phone", NULL};

static void load_person(struct cfg_loader *L, yaml_node_t *n, size_t pos, struct person *p)
{
  struct cfg_path at = cfg_pathf("people[%zu]", pos);
  const char *path = at.s;
  struct cfg_obj o;
  if (!cfg_obj_open(L, n, path, PERSON_KEYS, &o))
    return;
  yaml_node_t *id = cfg_need(L, &o, path, "id", "(like alice)");
  const char *s = cfg_text(L, id, P("%s.id", path));
  if (s && !CFG_PERSON_ID.ok(s))
    cfg_problem(L, cfg_line(id), "%s.id: \"%s\" is not %s", path, cfg_show(s).s,
                CFG_PERSON_ID.what);
  /* Even a malformed id is indexed: the rotas naming it should not all be reported too. */
  if (s && (p->id = cfg_dup(L, s)))
    cfg_names_add(L, &L->people, p->id, cfg_line(id), pos);
  cfg_str(L, cfg_get(&o, "name"), P("%s.name", path), &p->name);
  if (cfg_checked(L, cfg_get(&o, "slack"), P("%s.slack", path), &CFG_SLACK_USER, &p->slack))
    cfg_names_add(L, &L->slack_ids, p->slack, cfg_line(cfg_get(&o, "slack")), pos);
  if (cfg_checked(L, cfg_get(&o, "email"), P("%s.email", path), &CFG_EMAIL, &p->email))
    cfg_names_add(L, &L->emails, p->email, cfg_line(cfg_get(&o, "email")), pos);
  cfg_str(L, cfg_get(&o, "teams"), P("%s.teams", path), &p->teams);
  cfg_str(L, cfg_get(&o, "phone"), P("%s.phone", path), &p->phone);
  if (!cfg_get(&o, "slack") && !cfg_get(&o, "email"))
    cfg_problem(L, cfg_line(n),
                "%s: give slack (a user id) or email (looked up in Slack at run time), or both",
                p->id ? P("person \"%s\"", cfg_show(p->id).s) : path);
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
  if (!(c->people = calloc(len, sizeof(*c->people))))
    return cfg_oom(L);
  c->n_people = len;
  for (size_t i = 0; i < len && cfg_visit(L); i++)
    load_person(L, cfg_item(L, n, i), i, &c->people[i]);
  L->people_broken = false;
  cfg_names_check(L, &L->people, "person id");
  cfg_names_check(L, &L->slack_ids, "slack user id");
  cfg_names_check(L, &L->emails, "email");
}

/* ---- escalation policies -------------------------------------------------------------------- */

static const char *const POLICY_KEYS[] = {"name", "repeat", "steps", NULL}, *const STEP_KEYS[] = {
                                                                                "after", "notify",
                                                                                NULL};

static void load_notify(
    struct cfg_loader *L, yaml_node_t *n, const char *path, const char *who, struct policy_step *st)
{
  static const struct {
    const char *word;
    enum notify_kind kind;
  } words[] = {
      {"primary", NOTIFY_PRIMARY}, {"secondary", NOTIFY_SECONDARY}, {"manager", NOTIFY_MANAGER}};
  const char *s = cfg_text(L, n, path);
  if (!s)
    return;
  for (size_t i = 0; i < KX_ARRAY_SIZE(words); i++) {
    if (strcmp(s, words[i].word) == 0) {
      st->kind = words[i].kind;
      return;
    }
  }
  if (strncmp(s, "channel:", 8) == 0) {
    st->kind = NOTIFY_CHANNEL;
    if (!CFG_CHANNEL.ok(s + 8))
      cfg_problem(L, cfg_line(n), "%s: \"%s\" is not %s", path, cfg_show(s + 8).s,
                  CFG_CHANNEL.what);
    else
      st->target = cfg_dup(L, s + 8);
    return;
  }
  if (strncmp(s, "email:", 6) == 0) {
    st->kind = NOTIFY_EMAIL;
    const struct cfg_name *p = L->people_broken ? NULL : cfg_names_find(&L->people, s + 6);
    if (!L->people_broken && !p)
      cfg_problem(L, cfg_line(n), "%s: emails \"%s\", who is not in people", who,
                  cfg_show(s + 6).s);
    if (p && !L->c->people[p->pos].email)
      cfg_problem(L, cfg_line(n), "%s: emails \"%s\", who has no email in people", who,
                  cfg_show(s + 6).s);
    if (!L->smtp_given)
      cfg_problem(L, cfg_line(n), "%s: an email: step needs an smtp block to send with", who);
    st->target = cfg_dup(L, s + 6);
    return;
  }
  st->kind = NOTIFY_PERSON;
  if (!L->people_broken && !cfg_names_find(&L->people, s))
    cfg_problem(L, cfg_line(n),
                "%s: notifies \"%s\", who is not in people (use primary, secondary, manager, a "
                "person id, channel:C… or email:<person>)",
                who, cfg_show(s).s);
  st->target = cfg_dup(L, s);
}

static void load_steps(
    struct cfg_loader *L, yaml_node_t *n, const char *path, const char *who, struct policy *pol)
{
  size_t len;
  if (!cfg_list(L, n, path, &len))
    return;
  if (len == 0) {
    cfg_problem(L, cfg_line(n), "%s is empty; a policy needs at least one step", path);
    return;
  }
  if (!(pol->steps = calloc(len, sizeof(*pol->steps))))
    return cfg_oom(L);
  pol->n_steps = len;
  int64_t prev = -1;
  const char *prev_text = NULL;
  for (size_t i = 0; i < len && cfg_visit(L); i++) {
    struct cfg_obj o;
    struct policy_step *st = &pol->steps[i];
    struct cfg_path sp = cfg_pathf("%s[%zu]", path, i);
    if (!cfg_obj_open(L, cfg_item(L, n, i), sp.s, STEP_KEYS, &o))
      continue;
    yaml_node_t *after = cfg_need(L, &o, sp.s, "after", "(like 15m; 0m for at once)");
    load_notify(L, cfg_need(L, &o, sp.s, "notify", "(primary, secondary, manager, a person …)"),
                P("%s.notify", sp.s), P("%s step %zu", who, i + 1), st);
    if (!cfg_duration(L, after, P("%s.after", sp.s), &st->after_ms))
      continue;
    const char *text = (const char *)after->data.scalar.value;
    if (st->after_ms < prev)
      cfg_problem(L, cfg_line(after),
                  "%s step %zu: after %s comes before the previous step's %s (steps' after must "
                  "not decrease)",
                  who, i + 1, cfg_show(text).s, cfg_show(prev_text).s);
    prev = st->after_ms;
    prev_text = text;
  }
}

static void load_policies(struct cfg_loader *L, yaml_node_t *n)
{
  struct config *c = L->c;
  size_t len;
  if (!n)
    return;
  L->policies_broken = true;
  if (!cfg_list(L, n, "escalation_policies", &len) || len == 0)
    return;
  if (!(c->policies = calloc(len, sizeof(*c->policies))))
    return cfg_oom(L);
  c->n_policies = len;
  L->policies_broken = false;
  for (size_t i = 0; i < len && cfg_visit(L); i++) {
    struct cfg_obj o;
    struct policy *pol = &c->policies[i];
    struct cfg_path path = cfg_pathf("escalation_policies[%zu]", i);
    if (!cfg_obj_open(L, cfg_item(L, n, i), path.s, POLICY_KEYS, &o))
      continue;
    yaml_node_t *name = cfg_need(L, &o, path.s, "name", "(like default)");
    if (cfg_str(L, name, P("%s.name", path.s), &pol->name))
      cfg_names_add(L, &L->policies, pol->name, cfg_line(name), i);
    const char *rep = cfg_text(L, cfg_get(&o, "repeat"), P("%s.repeat", path.s));
    char *end = NULL;
    long r = rep ? strtol(rep, &end, 10) : 0;
    if (rep && (*end || end == rep || r < 0 || r > MAX_REPEAT))
      cfg_problem(L, cfg_line(cfg_get(&o, "repeat")),
                  "%s.repeat: \"%s\" is not a whole number from 0 to %d", path.s, cfg_show(rep).s,
                  MAX_REPEAT);
    else
      pol->repeat = (int)r;
    load_steps(L, cfg_need(L, &o, path.s, "steps", "(a list of {after, notify})"),
               P("%s.steps", path.s),
               pol->name ? P("policy \"%s\"", cfg_show(pol->name).s) : path.s, pol);
  }
  cfg_names_check(L, &L->policies, "escalation policy");
}

/* ---- severities ----------------------------------------------------------------------------- */

static const char *const SEVERITY_KEYS[] = {"name", "ack",          "resolve", "update_every",
                                            "page", "stakeholders", "policy",  NULL};

static void load_page(struct cfg_loader *L, yaml_node_t *n, const char *path, struct severity *sv)
{
  size_t len;
  if (n->type == YAML_SCALAR_NODE && !cfg_is_null(n)) {
    const char *s = (const char *)n->data.scalar.value;
    if (strcmp(s, "business_hours") == 0)
      sv->page_business_hours = true;
    else if (strcmp(s, "none") != 0)
      cfg_problem(
          L, cfg_line(n), "%s: \"%s\" is not a list of primary/secondary, business_hours or none%s",
          path, cfg_show(s).s,
          strcmp(s, "primary") == 0 || strcmp(s, "secondary") == 0 ? " (write it as [x])" : "");
    return;
  }
  if (!cfg_list(L, n, path, &len))
    return;
  for (size_t i = 0; i < len && cfg_visit(L); i++) {
    struct cfg_path ip = cfg_pathf("%s[%zu]", path, i);
    const char *s = cfg_text(L, cfg_item(L, n, i), ip.s);
    if (s && strcmp(s, "primary") == 0)
      sv->page_primary = true;
    else if (s && strcmp(s, "secondary") == 0)
      sv->page_secondary = true;
    else if (s)
      cfg_problem(L, cfg_line(cfg_item(L, n, i)), "%s: \"%s\" is not primary or secondary", ip.s,
                  cfg_show(s).s);
  }
}

static void load_severity(struct cfg_loader *L, yaml_node_t *n, size_t pos, struct severity *sv)
{
  struct cfg_path at = cfg_pathf("severities[%zu]", pos);
  const char *path = at.s;
  struct cfg_obj o;
  if (!cfg_obj_open(L, n, path, SEVERITY_KEYS, &o))
    return;
  yaml_node_t *name = cfg_need(L, &o, path, "name", "(like P1)");
  if (cfg_str(L, name, P("%s.name", path), &sv->name))
    cfg_names_add(L, &L->severities, sv->name, cfg_line(name), pos);
  cfg_duration(L, cfg_get(&o, "ack"), P("%s.ack", path), &sv->ack_ms);
  cfg_duration(L, cfg_get(&o, "resolve"), P("%s.resolve", path), &sv->resolve_ms);
  cfg_duration(L, cfg_get(&o, "update_every"), P("%s.update_every", path), &sv->update_every_ms);
  cfg_bool(L, cfg_get(&o, "stakeholders"), P("%s.stakeholders", path), &sv->stakeholders);
  if (cfg_get(&o, "page"))
    load_page(L, cfg_get(&o, "page"), P("%s.page", path), sv);
  else
    sv->page_primary = true; /* a severity pages the primary unless it says otherwise */
  yaml_node_t *pol = cfg_get(&o, "policy");
  if (cfg_str(L, pol, P("%s.policy", path), &sv->policy) && !L->policies_broken &&
      !cfg_names_find(&L->policies, sv->policy))
    cfg_problem(L, cfg_line(pol), "severity \"%s\": policy \"%s\" is not in escalation_policies",
                sv->name ? cfg_show(sv->name).s : path, cfg_show(sv->policy).s);
}

static void load_severities(struct cfg_loader *L, yaml_node_t *n, yaml_node_t *dflt)
{
  struct config *c = L->c;
  size_t len;
  L->severities_broken = true;
  if (!n || !cfg_list(L, n, "severities", &len))
    return;
  if (len == 0) {
    cfg_problem(L, cfg_line(n), "severities is empty; give at least one (most severe first)");
    return;
  }
  if (!(c->severities = calloc(len, sizeof(*c->severities))))
    return cfg_oom(L);
  c->n_severities = len;
  L->severities_broken = false;
  for (size_t i = 0; i < len && cfg_visit(L); i++) {
    c->severities[i].rank = (int)i;
    load_severity(L, cfg_item(L, n, i), i, &c->severities[i]);
  }
  cfg_names_check(L, &L->severities, "severity");
  /* The default is stored as the severity's own spelling. */
  const char *want = dflt ? cfg_text(L, dflt, "default_severity") : c->severities[len - 1].name;
  const struct cfg_name *found = want ? cfg_names_find(&L->severities, want) : NULL;
  if (found)
    c->default_severity = cfg_dup(L, found->name);
  else if (want && dflt)
    cfg_problem(L, cfg_line(dflt), "default_severity \"%s\" is not one of the severities",
                cfg_show(want).s);
}

/* ---- rotas ---------------------------------------------------------------------------------- */

static const char *const ROTA_KEYS[] = {"name",      "timezone",        "handoff",   "shift",
                                        "start",     "primary",         "secondary", "shadow",
                                        "manager",   "holidays",        "hours",     "contacts",
                                        "usergroup", "handoff_channel", NULL};

static const char *const WEEKDAYS[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};

/* Copies [s, e) without surrounding blanks into out (size n); false when empty or too long. */
static bool trimmed(const char *s, const char *e, char *out, size_t n)
{
  while (s < e && *s == ' ')
    s++;
  while (e > s && e[-1] == ' ')
    e--;
  if (s == e || (size_t)(e - s) >= n)
    return false;
  memcpy(out, s, (size_t)(e - s));
  out[e - s] = '\0';
  return true;
}

/* "monday 09:00", "mon 9:00" or "09:00" (weekday -1). */
static bool parse_handoff(const char *s, int *wday, int *minute)
{
  const char *sp = strrchr(s, ' ');
  char day[16];
  *wday = -1;
  if (sp) {
    if (!trimmed(s, sp, day, sizeof(day)) || (*wday = weekday_parse(day)) < 0)
      return false;
    s = sp + 1;
  }
  return cfg_parse_hhmm(s, strlen(s), false, minute);
}

/* "mon-fri 08:00-18:00", "mon,wed,fri 09:00-17:00", "fri-mon 10:00-14:00" (ranges wrap).
 * 0 when good, -1 when not that shape, -2 when the start is not before the end. */
static int parse_hours(const char *s, int *days, int *start, int *end)
{
  const char *sp = strrchr(s, ' '), *dash = sp ? strchr(sp + 1, '-') : NULL;
  if (!dash || !cfg_parse_hhmm(sp + 1, (size_t)(dash - sp - 1), false, start) ||
      !cfg_parse_hhmm(dash + 1, strlen(dash + 1), true, end))
    return -1;
  int mask = 0;
  for (const char *p = s; p < sp;) {
    const char *comma = memchr(p, ',', (size_t)(sp - p)), *e = comma ? comma : sp;
    char item[32], *to;
    if (!trimmed(p, e, item, sizeof(item)))
      return -1;
    int a, b;
    if ((to = strchr(item, '-'))) {
      *to++ = '\0';
      char first[16], last[16];
      if (!trimmed(item, item + strlen(item), first, sizeof(first)) ||
          !trimmed(to, to + strlen(to), last, sizeof(last)))
        return -1;
      a = weekday_parse(first);
      b = weekday_parse(last);
    } else {
      a = b = weekday_parse(item);
    }
    if (a < 0 || b < 0)
      return -1;
    for (int d = a;; d = (d + 1) % 7) {
      mask |= 1 << d;
      if (d == b)
        break;
    }
    p = comma ? comma + 1 : sp;
  }
  if (!mask)
    return -1;
  *days = mask;
  return *start < *end ? 0 : -2;
}

struct contact_walk {
  struct rota *r;
  const char *who;
  struct cfg_names roles;
  size_t alloc;
};

static void contact_pair(struct cfg_loader *L,
                         const char *key,
                         yaml_node_t *knode,
                         yaml_node_t *val,
                         bool merged,
                         void *ctx)
{
  struct contact_walk *w = ctx;
  struct rota *r = w->r;
  char *person = NULL;
  if (merged && cfg_names_has(&w->roles, key))
    return;
  if (!cfg_str(L, val, P("%s: contacts.%s", w->who, cfg_show(key).s), &person))
    return;
  need_person(L, val, person, w->who, P("contact \"%s\"", cfg_show(key).s));
  if (!cfg_reserve(L, (void **)&r->contacts, &w->alloc, r->n_contacts + 1, sizeof(*r->contacts))) {
    free(person);
    return;
  }
  struct contact *ct = &r->contacts[r->n_contacts];
  ct->person = person;
  if (!(ct->role = cfg_dup(L, key)))
    return;
  r->n_contacts++;
  cfg_names_add(L, &w->roles, ct->role, cfg_line(knode), r->n_contacts - 1);
}

static void rota_people(struct cfg_loader *L,
                        const struct cfg_obj *o,
                        const char *path,
                        const char *who,
                        struct rota *r)
{
  yaml_node_t *n;
  person_list(L, cfg_need(L, o, path, "primary", "(a list of person ids)"), P("%s.primary", path),
              who, "primary", false, &r->primary, &r->n_primary);
  if ((n = cfg_get(o, "secondary")) && n->type == YAML_SEQUENCE_NODE) {
    person_list(L, n, P("%s.secondary", path), who, "secondary", false, &r->secondary,
                &r->n_secondary);
    r->secondary_mode = SECONDARY_LIST;
  } else if (n) {
    char *id = NULL;
    if (cfg_str(L, n, P("%s.secondary", path), &id) && strcmp(id, "next") == 0) {
      r->secondary_mode = SECONDARY_NEXT;
      free(id);
    } else if (id && !(r->secondary = calloc(1, sizeof(char *)))) {
      free(id);
      cfg_oom(L);
    } else if (id) {
      r->secondary_mode = SECONDARY_FIXED;
      r->secondary[r->n_secondary++] = id;
      need_person(L, n, id, who, "secondary");
    }
  }
  if ((n = cfg_get(o, "shadow")))
    person_list(L, n, P("%s.shadow", path), who, "shadow", true, &r->shadow, &r->n_shadow);
  if (cfg_str(L, (n = cfg_get(o, "manager")), P("%s.manager", path), &r->manager))
    need_person(L, n, r->manager, who, "manager");
  if ((n = cfg_get(o, "contacts"))) {
    struct contact_walk w = {.r = r, .who = who};
    cfg_pairs(L, n, P("%s.contacts", path), contact_pair, &w);
    cfg_names_check(L, &w.roles, "contact role");
    cfg_names_free(&w.roles);
  }
}

static void rota_calendar(struct cfg_loader *L,
                          const struct cfg_obj *o,
                          const char *path,
                          struct rota *r)
{
  yaml_node_t *n;
  size_t len;
  if ((n = cfg_get(o, "holidays")) && cfg_list(L, n, P("%s.holidays", path), &len) && len > 0) {
    if (!(r->holidays = calloc(len, sizeof(*r->holidays))))
      return cfg_oom(L);
    for (size_t i = 0; i < len && cfg_visit(L); i++) {
      struct cfg_path ip = cfg_pathf("%s.holidays[%zu]", path, i);
      yaml_node_t *it = cfg_item(L, n, i);
      const char *s = cfg_text(L, it, ip.s);
      if (s && date_parse(s, &r->holidays[r->n_holidays]) == 0)
        r->n_holidays++;
      else if (s)
        cfg_problem(L, cfg_line(it), "%s: \"%s\" is not a date (YYYY-MM-DD)", ip.s, cfg_show(s).s);
    }
  }
  const char *s = cfg_text(L, (n = cfg_get(o, "hours")), P("%s.hours", path));
  int rc = s ? parse_hours(s, &r->hours_days, &r->hours_start_min, &r->hours_end_min) : 1;
  if (rc == -1)
    cfg_problem(L, cfg_line(n),
                "%s.hours: \"%s\" is not business hours (like mon-fri 08:00-18:00 or "
                "mon,wed,fri 09:00-17:00)",
                path, cfg_show(s).s);
  else if (rc == -2)
    cfg_problem(L, cfg_line(n),
                "%s.hours: \"%s\" ends before it starts (the start must be before the end; hours "
                "cannot cross midnight)",
                path, cfg_show(s).s);
  r->has_hours = rc == 0;
  cfg_checked(L, cfg_get(o, "usergroup"), P("%s.usergroup", path), &CFG_USERGROUP, &r->usergroup);
  cfg_checked(L, cfg_get(o, "handoff_channel"), P("%s.handoff_channel", path), &CFG_CHANNEL,
              &r->handoff_channel);
}

/* timezone, shift, handoff and start, which must agree with each other. */
static void rota_clock(struct cfg_loader *L,
                       const struct cfg_obj *o,
                       const char *path,
                       const char *who,
                       struct rota *r)
{
  yaml_node_t *n;
  const char *s;
  if (!cfg_checked(L, cfg_get(o, "timezone"), P("%s.timezone", path), &CFG_TIMEZONE, &r->timezone))
    r->timezone = cfg_dup(L, L->c->timezone);
  int64_t shift_ms = 0;
  if (cfg_duration(L, (n = cfg_get(o, "shift")), P("%s.shift", path), &shift_ms)) {
    if (shift_ms % MS_PER_DAY || shift_ms < MS_PER_DAY || shift_ms > MAX_SHIFT_DAYS * MS_PER_DAY)
      cfg_problem(L, cfg_line(n),
                  "%s.shift: \"%s\" is not a whole number of days from 1d to %dd (like 1d, 1w, 2w)",
                  path, cfg_show((const char *)n->data.scalar.value).s, MAX_SHIFT_DAYS);
    else
      r->shift_days = (int)(shift_ms / MS_PER_DAY);
  }
  bool weekly = r->shift_days % 7 == 0;
  int wday = 1;
  r->handoff_minute = 9 * 60; /* monday 09:00 unless the rota says otherwise */
  if ((s = cfg_text(L, (n = cfg_get(o, "handoff")), P("%s.handoff", path))) &&
      !parse_handoff(s, &wday, &r->handoff_minute))
    cfg_problem(L, cfg_line(n), "%s.handoff: \"%s\" is not a weekday and time (like monday 09:00)",
                path, cfg_show(s).s);
  else if (s && wday < 0 && weekly)
    cfg_problem(L, cfg_line(n),
                "%s.handoff: \"%s\" needs a weekday for a shift of whole weeks (like monday 09:00)",
                path, cfg_show(s).s);
  s = cfg_text(L, (n = cfg_need(L, o, path, "start", "(the date shift 1 begins, like 2026-11-23)")),
               P("%s.start", path));
  if (s && date_parse(s, &r->start) != 0) {
    cfg_problem(L, cfg_line(n), "%s.start: \"%s\" is not a date (YYYY-MM-DD)", path, cfg_show(s).s);
    s = NULL;
  }
  if (s && weekly && wday >= 0 && date_weekday(r->start) != wday)
    cfg_problem(L, cfg_line(n),
                "%s: start %s is a %s, but the handoff is on %s (for shifts of whole weeks they "
                "must match)",
                who, s, WEEKDAYS[date_weekday(r->start)], WEEKDAYS[wday]);
  /* For shifts that are not whole weeks the weekday is not used; keep the start's. */
  r->handoff_wday = weekly || !s ? (wday < 0 ? 1 : wday) : date_weekday(r->start);
}

static void load_rota(struct cfg_loader *L, yaml_node_t *n, size_t pos, struct rota *r)
{
  struct cfg_obj o;
  struct cfg_path at = cfg_pathf("rotas[%zu]", pos);
  r->line = cfg_line(n);
  r->shift_days = 7;
  if (!cfg_obj_open(L, n, at.s, ROTA_KEYS, &o))
    return;
  yaml_node_t *name = cfg_need(L, &o, at.s, "name", "(like platform)");
  if (cfg_checked(L, name, P("%s.name", at.s), &CFG_ROTA_NAME, &r->name))
    cfg_names_add(L, &L->rotas, r->name, cfg_line(name), pos);
  struct cfg_path who = r->name ? cfg_pathf("rota \"%s\"", r->name) : at;
  rota_clock(L, &o, at.s, who.s, r);
  rota_people(L, &o, at.s, who.s, r);
  rota_calendar(L, &o, at.s, r);
}

static void load_rotas(struct cfg_loader *L, yaml_node_t *n)
{
  struct config *c = L->c;
  size_t len;
  L->rotas_broken = true;
  if (!n || !cfg_list(L, n, "rotas", &len))
    return;
  if (len == 0) {
    cfg_problem(L, cfg_line(n), "rotas is empty; give at least one rota");
    return;
  }
  if (!(c->rotas = calloc(len, sizeof(*c->rotas))))
    return cfg_oom(L);
  c->n_rotas = len;
  L->rotas_broken = false;
  for (size_t i = 0; i < len && cfg_visit(L); i++)
    load_rota(L, cfg_item(L, n, i), i, &c->rotas[i]);
  cfg_names_check(L, &L->rotas, "rota name");
}

/* ---- alerts --------------------------------------------------------------------------------- */

static const char *const ALERTS_KEYS[] = {"token_env", "routes", NULL}, *const ROUTE_KEYS[] = {
                                                                            "match",   "rota",
                                                                            "policy",  "severity",
                                                                            "channel", "record",
                                                                            NULL};

struct match_walk {
  struct alert_route *r;
  const char *path;
  struct cfg_names labels;
  size_t alloc;
};

static void match_pair(struct cfg_loader *L,
                       const char *key,
                       yaml_node_t *knode,
                       yaml_node_t *val,
                       bool merged,
                       void *ctx)
{
  struct match_walk *w = ctx;
  struct alert_route *r = w->r;
  char *value = NULL;
  if (merged && cfg_names_has(&w->labels, key))
    return;
  if (!cfg_str(L, val, P("%s.%s", w->path, cfg_show(key).s), &value))
    return;
  if (!cfg_reserve(L, (void **)&r->match, &w->alloc, r->n_match + 1, sizeof(*r->match))) {
    free(value);
    return;
  }
  struct label_match *m = &r->match[r->n_match];
  m->value = value;
  if (!(m->key = cfg_dup(L, key)))
    return;
  r->n_match++;
  cfg_names_add(L, &w->labels, m->key, cfg_line(knode), r->n_match - 1);
}

/* A route names something of kind `what` that must be in `ns`. */
static void route_ref(struct cfg_loader *L,
                      yaml_node_t *n,
                      const char *path,
                      const char *key,
                      const struct cfg_names *ns,
                      bool broken,
                      const char *section,
                      char **out)
{
  if (cfg_str(L, n, P("%s.%s", path, key), out) && !broken && !cfg_names_find(ns, *out))
    cfg_problem(L, cfg_line(n), "%s: %s \"%s\" is not in %s", path, key, cfg_show(*out).s, section);
}

static void load_route(struct cfg_loader *L,
                       yaml_node_t *n,
                       const char *path,
                       struct alert_route *r)
{
  struct cfg_obj o;
  yaml_node_t *m;
  r->line = cfg_line(n);
  if (!cfg_obj_open(L, n, path, ROUTE_KEYS, &o))
    return;
  if ((m = cfg_get(&o, "match"))) {
    struct match_walk w = {.r = r, .path = P("%s.match", path)};
    cfg_pairs(L, m, w.path, match_pair, &w);
    cfg_names_check(L, &w.labels, "label");
    cfg_names_free(&w.labels);
  }
  route_ref(L, cfg_get(&o, "rota"), path, "rota", &L->rotas, L->rotas_broken, "rotas", &r->rota);
  route_ref(L, cfg_get(&o, "policy"), path, "policy", &L->policies, L->policies_broken,
            "escalation_policies", &r->policy);
  route_ref(L, cfg_get(&o, "severity"), path, "severity", &L->severities, L->severities_broken,
            "severities", &r->severity);
  cfg_checked(L, cfg_get(&o, "channel"), P("%s.channel", path), &CFG_CHANNEL, &r->channel);
  cfg_bool(L, cfg_get(&o, "record"), P("%s.record", path), &r->record);
  bool rota = cfg_get(&o, "rota"), channel = cfg_get(&o, "channel");
  int kinds = rota + channel + r->record;
  if (kinds == 0)
    cfg_problem(L, r->line,
                "%s: a route needs one of rota (to page), channel (to post) or record: true", path);
  else if (kinds > 1)
    cfg_problem(L, r->line, "%s: a route has only one of rota, channel or record: true", path);
  if (!rota && (cfg_get(&o, "policy") || cfg_get(&o, "severity")))
    cfg_problem(L, r->line, "%s: policy and severity only go with rota (a route that pages)", path);
}

static void load_alerts(struct cfg_loader *L, yaml_node_t *n)
{
  struct cfg_obj o;
  struct config *c = L->c;
  size_t len;
  yaml_node_t *routes;
  if (!n || !cfg_obj_open(L, n, "alerts", ALERTS_KEYS, &o))
    return;
  cfg_checked(L, cfg_get(&o, "token_env"), "alerts.token_env", &CFG_ENV, &c->alerts.token_env);
  if (!(routes = cfg_get(&o, "routes")) || !cfg_list(L, routes, "alerts.routes", &len) || len == 0)
    return;
  if (!(c->alerts.routes = calloc(len, sizeof(*c->alerts.routes))))
    return cfg_oom(L);
  c->alerts.n_routes = len;
  for (size_t i = 0; i < len && cfg_visit(L); i++)
    load_route(L, cfg_item(L, routes, i), P("alerts.routes[%zu]", i), &c->alerts.routes[i]);
}

/* ---- the whole file ------------------------------------------------------------------------- */

static const char *const TOP_KEYS[] = {"timezone",
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
                                       NULL};

static void defaults(struct cfg_loader *L)
{
  struct config *c = L->c;
  c->storage_path = cfg_dup(L, DEFAULT_STORAGE);
  c->log_level = cfg_dup(L, "info");
  c->log_format = cfg_dup(L, "text");
  c->slack.app_token_env = cfg_dup(L, "SLACK_APP_TOKEN");
  c->slack.bot_token_env = cfg_dup(L, "SLACK_BOT_TOKEN");
  c->slack.ping_interval_ms = DEFAULT_PING_MS;
  c->slack.pong_timeout_ms = DEFAULT_PONG_MS;
  c->alerts.token_env = cfg_dup(L, DEFAULT_ALERT_TOKEN_ENV);
  c->postmortem.due_ms = DEFAULT_POSTMORTEM_DUE_MS;
  c->handoff.handoff_ack_ms = DEFAULT_HANDOFF_ACK_MS;
  c->targets.false_positive_rate = -1;
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
  load_status_page(L, cfg_get(&o, "status_page"));
  load_slack(L, cfg_get(&o, "slack"));
  load_smtp(L, cfg_get(&o, "smtp"));
  load_teams(L, cfg_get(&o, "teams"));
  load_runbooks(L, cfg_get(&o, "runbooks"));
  load_people(L, cfg_need(L, &o, "", "people", "(a list of {id, name, slack, email})"));
  load_policies(L, cfg_get(&o, "escalation_policies"));
  load_severities(L, cfg_need(L, &o, "", "severities", "(a list, most severe first)"),
                  cfg_get(&o, "default_severity"));
  load_rotas(L, cfg_need(L, &o, "", "rotas", "(a list of on-call rotas)"));
  load_alerts(L, cfg_get(&o, "alerts"));
}
