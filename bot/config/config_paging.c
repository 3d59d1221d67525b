/*
 * config_paging.c — the config keys that decide who is paged and how: escalation_policies
 * (steps, their waits and targets, per-person notify steps), severities (targets, cadence,
 * whom each pages) and alerts (the token, routes matched on labels). Read after people and
 * rotas, so each reference is checked where it is written (see config_schema.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/config/config_load_internal.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define MAX_REPEAT 100 /* an escalation policy's `repeat:` at most */

/* ---- escalation policies -------------------------------------------------------------------- */

static const char *const POLICY_KEYS[] = {"name", "repeat", "steps", NULL};
static const char *const STEP_KEYS[] = {"after", "notify", NULL};

/* Where a page copy or an alert post may go: a Slack channel, or a Teams channel (issue 6). */
static bool is_any_channel(const char *s)
{
  return CFG_CHANNEL.ok(s) || CFG_TEAMS_CHANNEL.ok(s);
}

static const struct cfg_check ANY_CHANNEL = {
    is_any_channel,
    "a Slack channel id (C, G or D and capitals or digits, like C0INCIDENT; the id, not the "
    "#name) or a Teams channel id (like 19:abc…@thread.tacv2)",
    false};

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
    if (!ANY_CHANNEL.ok(s + 8))
      cfg_problem(L, cfg_line(n), "%s: \"%s\" is not %s", path, cfg_show(s + 8).s,
                  ANY_CHANNEL.what);
    else
      st->target = cfg_dup(L, s + 8);
    return;
  }
  if (strncmp(s, "contact:", 8) == 0) {
    st->kind = NOTIFY_CONTACT;
    const struct cfg_name *k = L->contacts_broken ? NULL : cfg_names_find(&L->contacts, s + 8);
    if (!L->contacts_broken && !k)
      cfg_problem(
          L, cfg_line(n),
          "%s: contact \"%s\" is not in contacts (a top-level list of {name, phone, email})", who,
          cfg_show(s + 8).s);
    if (k && !L->c->contacts[k->pos].email && !L->c->contacts[k->pos].phone)
      cfg_problem(L, cfg_line(n), "%s: contact \"%s\" has neither email nor phone", who,
                  cfg_show(s + 8).s);
    if (k && L->c->contacts[k->pos].email && !L->smtp_given)
      cfg_problem(L, cfg_line(n), "%s: a contact: step mails, and needs an smtp block to send with",
                  who);
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
  if (strncmp(s, "pagerduty:", 10) == 0) {
    /* A PagerDuty incident kept in step with the page (issue 14): the routing key's variable. */
    st->kind = NOTIFY_PAGERDUTY;
    if (!CFG_ENV.ok(s + 10))
      cfg_problem(L, cfg_line(n), "%s: \"%s\" is not %s", path, cfg_show(s + 10).s, CFG_ENV.what);
    else
      st->target = cfg_dup(L, s + 10);
    return;
  }
  st->kind = NOTIFY_PERSON;
  if (!L->people_broken && !cfg_names_find(&L->people, s))
    cfg_problem(L, cfg_line(n),
                "%s: notifies \"%s\", who is not in people (use primary, secondary, manager, a "
                "person id, channel:C…, email:<person>, contact:<name> or pagerduty:<VARIABLE>)",
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
  if (!(pol->steps = calloc(len, sizeof(*pol->steps)))) {
    cfg_oom(L);
    return;
  }
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
                CFG_P("%s.notify", sp.s), CFG_P("%s step %zu", who, i + 1), st);
    if (!cfg_duration(L, after, CFG_P("%s.after", sp.s), &st->after_ms))
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

void cfg_load_policies(struct cfg_loader *L, yaml_node_t *n)
{
  struct config *c = L->c;
  size_t len;
  if (!n)
    return;
  L->policies_broken = true;
  if (!cfg_list(L, n, "escalation_policies", &len) || len == 0)
    return;
  if (!(c->policies = calloc(len, sizeof(*c->policies)))) {
    cfg_oom(L);
    return;
  }
  c->n_policies = len;
  L->policies_broken = false;
  for (size_t i = 0; i < len && cfg_visit(L); i++) {
    struct cfg_obj o;
    struct policy *pol = &c->policies[i];
    struct cfg_path path = cfg_pathf("escalation_policies[%zu]", i);
    if (!cfg_obj_open(L, cfg_item(L, n, i), path.s, POLICY_KEYS, &o))
      continue;
    yaml_node_t *name = cfg_need(L, &o, path.s, "name", "(like default)");
    if (cfg_str(L, name, CFG_P("%s.name", path.s), &pol->name))
      cfg_names_add(L, &L->policies, pol->name, cfg_line(name), i);
    const char *rep = cfg_text(L, cfg_get(&o, "repeat"), CFG_P("%s.repeat", path.s));
    char *end = NULL;
    long r = rep ? strtol(rep, &end, 10) : 0;
    if (rep && (*end || end == rep || r < 0 || r > MAX_REPEAT))
      cfg_problem(L, cfg_line(cfg_get(&o, "repeat")),
                  "%s.repeat: \"%s\" is not a whole number from 0 to %d", path.s, cfg_show(rep).s,
                  MAX_REPEAT);
    else
      pol->repeat = (int)r;
    load_steps(L, cfg_need(L, &o, path.s, "steps", "(a list of {after, notify})"),
               CFG_P("%s.steps", path.s),
               pol->name ? CFG_P("policy \"%s\"", cfg_show(pol->name).s) : path.s, pol);
  }
  cfg_names_check(L, &L->policies, "escalation policy");
}

/* ---- severities ----------------------------------------------------------------------------- */

static const char *const SEVERITY_KEYS[] = {
    "name",          "ack",        "resolve", "update_every", "page",
    "stakeholders",  "policy",     "mention", "status_page",  "bridge_url",
    "review_within", "action_due", NULL};

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
  if (cfg_str(L, name, CFG_P("%s.name", path), &sv->name))
    cfg_names_add(L, &L->severities, sv->name, cfg_line(name), pos);
  cfg_duration(L, cfg_get(&o, "ack"), CFG_P("%s.ack", path), &sv->ack_ms);
  cfg_duration(L, cfg_get(&o, "resolve"), CFG_P("%s.resolve", path), &sv->resolve_ms);
  cfg_duration(L, cfg_get(&o, "update_every"), CFG_P("%s.update_every", path),
               &sv->update_every_ms);
  cfg_bool(L, cfg_get(&o, "stakeholders"), CFG_P("%s.stakeholders", path), &sv->stakeholders);
  /* issue 13: auto | ask | never */
  yaml_node_t *sp = cfg_get(&o, "status_page");
  const char *spw = cfg_text(L, sp, CFG_P("%s.status_page", path));
  if (spw && strcmp(spw, "auto") != 0 && strcmp(spw, "ask") != 0 && strcmp(spw, "never") != 0)
    cfg_problem(L, cfg_line(sp), "%s.status_page: \"%s\" is not one of auto, ask, never", path,
                cfg_show(spw).s);
  else if (spw)
    cfg_str(L, sp, CFG_P("%s.status_page", path), &sv->status_page);
  yaml_node_t *due = cfg_get(&o, "action_due"); /* issue 14 */
  if (cfg_duration(L, due, CFG_P("%s.action_due", path), &sv->action_due_ms) &&
      (sv->action_due_ms < 86400000LL || sv->action_due_ms > 366LL * 86400000LL))
    cfg_problem(L, cfg_line(due),
                "%s.action_due must be between 1d and 366d (an action item's "
                "default due date)",
                path);
  if (cfg_get(&o, "page"))
    load_page(L, cfg_get(&o, "page"), CFG_P("%s.page", path), sv);
  else
    sv->page_primary = true; /* a severity pages the primary unless it says otherwise */
  yaml_node_t *mention = cfg_get(&o, "mention");
  const char *ms = mention ? cfg_text(L, mention, CFG_P("%s.mention", path)) : NULL;
  if (ms && strcmp(ms, "here") == 0)
    sv->mention = MENTION_HERE;
  else if (ms && strcmp(ms, "channel") == 0)
    sv->mention = MENTION_CHANNEL;
  else if (ms && strcmp(ms, "none") != 0)
    cfg_problem(L, cfg_line(mention),
                "%s.mention: \"%s\" is not here, channel or none (who the incident's "
                "announcement mentions)",
                path, cfg_show(ms).s);
  yaml_node_t *bridge = cfg_get(&o, "bridge_url");
  if (cfg_checked(L, bridge, CFG_P("%s.bridge_url", path), &CFG_URL, &sv->bridge_url) &&
      sv->bridge_url && strncasecmp(sv->bridge_url, "https://", 8) != 0)
    cfg_problem(L, cfg_line(bridge), "%s.bridge_url: \"%s\" is not an https:// URL (the war room)",
                path, cfg_show(sv->bridge_url).s);
  if (cfg_duration(L, cfg_get(&o, "review_within"), CFG_P("%s.review_within", path),
                   &sv->review_within_ms) &&
      sv->review_within_ms < 60 * 60 * 1000)
    cfg_problem(L, cfg_line(cfg_get(&o, "review_within")),
                "%s.review_within must be at least 1h (the review is booked in business hours)",
                path);
  yaml_node_t *pol = cfg_get(&o, "policy");
  if (cfg_str(L, pol, CFG_P("%s.policy", path), &sv->policy) && !L->policies_broken &&
      !cfg_names_find(&L->policies, sv->policy))
    cfg_problem(L, cfg_line(pol), "severity \"%s\": policy \"%s\" is not in escalation_policies",
                sv->name ? cfg_show(sv->name).s : path, cfg_show(sv->policy).s);
}

void cfg_load_severities(struct cfg_loader *L, yaml_node_t *n, yaml_node_t *dflt)
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
  if (!(c->severities = calloc(len, sizeof(*c->severities)))) {
    cfg_oom(L);
    return;
  }
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

/* ---- alerts --------------------------------------------------------------------------------- */

static const char *const ALERTS_KEYS[] = {"token_env", "routes", "pagerduty_keys_env", NULL},
                         *const ROUTE_KEYS[] = {"match",  "rota",  "policy", "severity", "channel",
                                                "record", "email", "digest", "hours",    NULL};

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
  if (!cfg_str(L, val, CFG_P("%s.%s", w->path, cfg_show(key).s), &value))
    return;
  struct label_match *grown = cfg_grow(L, r->match, &w->alloc, r->n_match + 1, sizeof(*grown));
  if (!grown) {
    free(value);
    return;
  }
  r->match = grown;
  struct label_match *m = &r->match[r->n_match++];
  m->value = value;
  if ((m->key = cfg_dup(L, key)))
    cfg_names_add(L, &w->labels, m->key, cfg_line(knode), r->n_match - 1);
}

/* A route names a rota, policy or severity that must be in ns; it is stored as spelled there
 * (severities match ignoring case). */
static void route_ref(struct cfg_loader *L,
                      yaml_node_t *n,
                      const char *path,
                      const char *key,
                      const struct cfg_names *ns,
                      bool broken,
                      const char *section,
                      char **out)
{
  if (!cfg_str(L, n, CFG_P("%s.%s", path, key), out) || broken)
    return;
  const struct cfg_name *found = cfg_names_find(ns, *out);
  if (!found) {
    cfg_problem(L, cfg_line(n), "%s: %s \"%s\" is not in %s", path, key, cfg_show(*out).s, section);
  } else if (strcmp(found->name, *out) != 0) {
    char *canon = cfg_dup(L, found->name);
    if (canon) {
      free(*out);
      *out = canon;
    }
  }
}

/* `email: [person id or address …]`, `digest: next_business_day`, `hours: ROTA` (issue 11). */
static void load_route_email(struct cfg_loader *L,
                             const struct cfg_obj *o,
                             const char *path,
                             struct alert_route *r)
{
  yaml_node_t *e = cfg_get(o, "email"), *d = cfg_get(o, "digest"), *h = cfg_get(o, "hours");
  size_t len;
  if (!e && (d || h))
    cfg_problem(L, r->line, "%s: digest and hours only go with email (a route that mails)", path);
  if (!e || !cfg_list(L, e, CFG_P("%s.email", path), &len))
    return;
  if (len == 0)
    cfg_problem(L, cfg_line(e), "%s.email is empty; give person ids or addresses", path);
  if (!L->smtp_given)
    cfg_problem(L, cfg_line(e), "%s.email: a route that mails needs an smtp block to send with",
                path);
  if (len && !(r->email = calloc(len, sizeof(*r->email)))) {
    cfg_oom(L);
    return;
  }
  for (size_t i = 0; i < len && cfg_visit(L); i++) {
    struct cfg_path ip = cfg_pathf("%s.email[%zu]", path, i);
    yaml_node_t *item = cfg_item(L, e, i);
    const char *s = cfg_text(L, item, ip.s);
    if (!s)
      continue;
    const struct cfg_name *who = L->people_broken ? NULL : cfg_names_find(&L->people, s);
    if (who && !L->c->people[who->pos].email)
      cfg_problem(L, cfg_line(item), "%s: \"%s\" has no email in people", ip.s, cfg_show(s).s);
    else if (!who && !CFG_EMAIL.ok(s))
      cfg_problem(L, cfg_line(item), "%s: \"%s\" is neither a person id nor %s", ip.s,
                  cfg_show(s).s, CFG_EMAIL.what);
    r->email[r->n_email++] = cfg_dup(L, s);
  }
  const char *ds = d ? cfg_text(L, d, CFG_P("%s.digest", path)) : NULL;
  if (ds && strcmp(ds, "next_business_day") == 0)
    r->digest = true;
  else if (ds && strcmp(ds, "none") != 0)
    cfg_problem(L, cfg_line(d), "%s.digest: \"%s\" is not next_business_day or none", path,
                cfg_show(ds).s);
  if (h && !r->digest)
    cfg_problem(L, cfg_line(h), "%s.hours only goes with digest: next_business_day", path);
  if (h)
    route_ref(L, h, path, "hours", &L->rotas, L->rotas_broken, "rotas", &r->hours_rota);
  /* Without hours: the first rota with hours, else the first rota (Mon–Fri 08:00–18:00). */
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
    struct cfg_path mp = cfg_pathf("%s.match", path);
    struct match_walk w = {.r = r, .path = mp.s};
    cfg_pairs(L, m, w.path, match_pair, &w);
    cfg_names_check(L, &w.labels, "label");
    cfg_names_free(&w.labels);
  }
  route_ref(L, cfg_get(&o, "rota"), path, "rota", &L->rotas, L->rotas_broken, "rotas", &r->rota);
  route_ref(L, cfg_get(&o, "policy"), path, "policy", &L->policies, L->policies_broken,
            "escalation_policies", &r->policy);
  route_ref(L, cfg_get(&o, "severity"), path, "severity", &L->severities, L->severities_broken,
            "severities", &r->severity);
  cfg_checked(L, cfg_get(&o, "channel"), CFG_P("%s.channel", path), &ANY_CHANNEL, &r->channel);
  cfg_bool(L, cfg_get(&o, "record"), CFG_P("%s.record", path), &r->record);
  bool rota = cfg_get(&o, "rota"), channel = cfg_get(&o, "channel"), email = cfg_get(&o, "email");
  int kinds = rota + channel + r->record + email;
  if (kinds == 0)
    cfg_problem(L, r->line,
                "%s: a route needs one of rota (to page), channel (to post), email (to mail) or "
                "record: true",
                path);
  else if (kinds > 1)
    cfg_problem(L, r->line, "%s: a route has only one of rota, channel, email or record: true",
                path);
  if (!rota && cfg_get(&o, "policy"))
    cfg_problem(L, r->line, "%s: policy only goes with rota (a route that pages)", path);
  if (!rota && !channel && cfg_get(&o, "severity"))
    cfg_problem(L, r->line,
                "%s: severity only goes with rota (a route that pages) or channel (whose "
                "Acknowledge button is measured against the severity's ack)",
                path);
  load_route_email(L, &o, path, r);
}

/* alerts.pagerduty_keys_env: [PD_KEY_PLATFORM, …], names of variables, never keys. */
static void load_pd_keys(struct cfg_loader *L, yaml_node_t *n)
{
  struct config *c = L->c;
  size_t len;
  if (!n || !cfg_list(L, n, "alerts.pagerduty_keys_env", &len) || len == 0)
    return;
  if (!(c->alerts.pagerduty_keys_env = calloc(len, sizeof(char *)))) {
    cfg_oom(L);
    return;
  }
  for (size_t i = 0; i < len && cfg_visit(L); i++) {
    char *v = NULL;
    if (cfg_checked(L, cfg_item(L, n, i), CFG_P("alerts.pagerduty_keys_env[%zu]", i), &CFG_ENV, &v))
      c->alerts.pagerduty_keys_env[c->alerts.n_pagerduty_keys_env++] = v;
  }
}

void cfg_load_alerts(struct cfg_loader *L, yaml_node_t *n)
{
  struct cfg_obj o;
  struct config *c = L->c;
  size_t len;
  yaml_node_t *routes;
  if (!n || !cfg_obj_open(L, n, "alerts", ALERTS_KEYS, &o))
    return;
  cfg_checked(L, cfg_get(&o, "token_env"), "alerts.token_env", &CFG_ENV, &c->alerts.token_env);
  load_pd_keys(L, cfg_get(&o, "pagerduty_keys_env"));
  if (!(routes = cfg_get(&o, "routes")) || !cfg_list(L, routes, "alerts.routes", &len) || len == 0)
    return;
  if (!(c->alerts.routes = calloc(len, sizeof(*c->alerts.routes)))) {
    cfg_oom(L);
    return;
  }
  c->alerts.n_routes = len;
  for (size_t i = 0; i < len && cfg_visit(L); i++)
    load_route(L, cfg_item(L, routes, i), CFG_P("alerts.routes[%zu]", i), &c->alerts.routes[i]);
}
