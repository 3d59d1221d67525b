/*
 * config_status.c — the keys of issue 13: `status_page:` (title, public_url, components),
 * `checks:`, `heartbeats:` and `maintenance:`. Read after severities and rotas, so a check's
 * severity and rota are checked where they are written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/config/config_load_internal.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

#define DEFAULT_EVERY_MS (30 * MS_PER_SEC)
#define DEFAULT_TIMEOUT_MS (5 * MS_PER_SEC)
#define DEFAULT_DOWN_AFTER_MS (2 * MS_PER_MIN)
#define DEFAULT_GRACE_MS (2 * MS_PER_MIN)
#define MIN_EVERY_MS MS_PER_SEC

static const char *const STATUS_KEYS[] = {"title", "components", "public_url", NULL},
                         *const COMPONENT_KEYS[] = {"name", "description", "group", "match", NULL},
                         *const CHECK_KEYS[] = {"name",       "http",      "tcp",      "every",
                                                "timeout",    "expect",    "slow",     "tls_expiry",
                                                "down_after", "component", "severity", "rota",
                                                NULL},
                         *const EXPECT_KEYS[] = {"status", "body", NULL},
                         *const HEARTBEAT_KEYS[] = {"name",     "every", "grace", "component",
                                                    "severity", "rota",  NULL},
                         *const MAINT_KEYS[] = {"component", "from", "to", "text", NULL};

/* Names of checks and heartbeats go into URLs and alert labels: [a-z0-9_.-], 1-64. */
static bool is_slug(const char *s)
{
  size_t n = strlen(s);
  if (n == 0 || n > 64)
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
          *s == '-'))
      return false;
  return true;
}

static const struct cfg_check SLUG = {is_slug, "a name of 1-64 characters from a-z 0-9 _ . -",
                                      false};

static bool has_component(const struct config *c, const char *name)
{
  for (size_t i = 0; i < c->status_page.n_components; i++)
    if (c->status_page.components[i] && strcmp(c->status_page.components[i], name) == 0)
      return true;
  return false;
}

struct match_ctx {
  struct status_component *k;
  const char *path;
};

static void match_pair(struct cfg_loader *L,
                       const char *key,
                       yaml_node_t *knode,
                       yaml_node_t *val,
                       bool merged,
                       void *arg)
{
  (void)knode;
  (void)merged;
  struct match_ctx *m = arg;
  char *v = NULL;
  if (!cfg_str(L, val, CFG_P("%s.%s", m->path, key), &v))
    return;
  size_t n = m->k->n_match;
  char **keys = realloc(m->k->match_keys, (n + 1) * sizeof(char *));
  if (keys)
    m->k->match_keys = keys;
  char **vals = realloc(m->k->match_values, (n + 1) * sizeof(char *));
  if (vals)
    m->k->match_values = vals;
  char *kd = cfg_dup(L, key);
  if (!keys || !vals || !kd) {
    free(v);
    free(kd);
    cfg_oom(L);
    return;
  }
  keys[n] = kd;
  vals[n] = v;
  m->k->n_match++;
}

static void load_component(struct cfg_loader *L, yaml_node_t *n, size_t i)
{
  struct config *c = L->c;
  struct status_component *k = &c->status_page.comp[i];
  char **name = &c->status_page.components[i];
  const char *path = CFG_P("status_page.components[%zu]", i);
  char p[CFG_PATH_MAX];
  snprintf(p, sizeof(p), "%s", path);
  if (n && n->type == YAML_SCALAR_NODE) {
    /* The short form: just a name. */
    if (cfg_str(L, n, p, name))
      k->name = cfg_dup(L, *name);
    return;
  }
  struct cfg_obj o;
  if (!cfg_obj_open(L, n, p, COMPONENT_KEYS, &o))
    return;
  if (cfg_str(L, cfg_need(L, &o, p, "name", "(what the page calls it)"), CFG_P("%s.name", p), name))
    k->name = cfg_dup(L, *name);
  cfg_str(L, cfg_get(&o, "description"), CFG_P("%s.description", p), &k->description);
  cfg_str(L, cfg_get(&o, "group"), CFG_P("%s.group", p), &k->group);
  struct match_ctx m = {k, CFG_P("%s.match", p)};
  char mp[CFG_PATH_MAX];
  snprintf(mp, sizeof(mp), "%s", m.path);
  m.path = mp;
  cfg_pairs(L, cfg_get(&o, "match"), mp, match_pair, &m);
}

void cfg_load_status_page(struct cfg_loader *L, yaml_node_t *n)
{
  struct cfg_obj o;
  size_t len;
  struct config *c = L->c;
  if (!n || !cfg_obj_open(L, n, "status_page", STATUS_KEYS, &o))
    return;
  cfg_str(L, cfg_get(&o, "title"), "status_page.title", &c->status_page.title);
  if (cfg_checked(L, cfg_get(&o, "public_url"), "status_page.public_url", &CFG_URL,
                  &c->status_page.public_url)) {
    size_t ul = strlen(c->status_page.public_url);
    while (ul > 0 && c->status_page.public_url[ul - 1] == '/')
      c->status_page.public_url[--ul] = '\0';
  }
  yaml_node_t *list = cfg_get(&o, "components");
  if (!list || !cfg_list(L, list, "status_page.components", &len) || len == 0)
    return;
  c->status_page.components = calloc(len, sizeof(char *));
  c->status_page.comp = calloc(len, sizeof(struct status_component));
  if (!c->status_page.components || !c->status_page.comp)
    return cfg_oom(L);
  c->status_page.n_components = len;
  for (size_t i = 0; i < len && cfg_visit(L); i++) {
    yaml_node_t *it = cfg_item(L, list, i);
    load_component(L, it, i);
    for (size_t j = 0; j < i; j++)
      if (c->status_page.components[i] && c->status_page.components[j] &&
          strcmp(c->status_page.components[i], c->status_page.components[j]) == 0)
        cfg_problem(L, cfg_line(it), "status_page.components: duplicate component \"%s\"",
                    cfg_show(c->status_page.components[i]).s);
  }
}

/* component, severity and rota of a check or heartbeat. */
static void load_refs(struct cfg_loader *L,
                      const struct cfg_obj *o,
                      const char *path,
                      char **component,
                      char **severity,
                      char **rota)
{
  yaml_node_t *cn = cfg_get(o, "component");
  if (cfg_str(L, cn, CFG_P("%s.component", path), component) && !has_component(L->c, *component))
    cfg_problem(L, cfg_line(cn), "%s.component: \"%s\" is not in status_page.components", path,
                cfg_show(*component).s);
  if (!cfg_str(L, cfg_get(o, "severity"), CFG_P("%s.severity", path), severity))
    *severity = cfg_dup(L, "critical");
  yaml_node_t *rn = cfg_get(o, "rota");
  if (cfg_str(L, rn, CFG_P("%s.rota", path), rota) && !L->rotas_broken &&
      !cfg_names_find(&L->rotas, *rota))
    cfg_problem(L, cfg_line(rn), "%s.rota: \"%s\" is not in rotas", path, cfg_show(*rota).s);
}

static void dur(struct cfg_loader *L,
                const struct cfg_obj *o,
                const char *key,
                const char *path,
                int64_t dflt,
                int64_t *out)
{
  *out = dflt;
  yaml_node_t *n = cfg_get(o, key);
  if (cfg_duration(L, n, CFG_P("%s.%s", path, key), out) && *out <= 0)
    cfg_problem(L, cfg_line(n), "%s.%s must be longer than 0", path, key);
}

static bool is_hostport(const char *s)
{
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s || strlen(s) > 255)
    return false;
  char *end;
  long port = strtol(colon + 1, &end, 10);
  return *end == '\0' && end != colon + 1 && port > 0 && port < 65536;
}

static const struct cfg_check HOSTPORT = {is_hostport, "host:port", false};

static void load_check(struct cfg_loader *L, yaml_node_t *n, size_t i)
{
  struct check_config *k = &L->c->checks[i];
  char path[CFG_PATH_MAX];
  snprintf(path, sizeof(path), "checks[%zu]", i);
  struct cfg_obj o;
  if (!cfg_obj_open(L, n, path, CHECK_KEYS, &o))
    return;
  cfg_checked(L, cfg_need(L, &o, path, "name", "(a-z 0-9 _ . -)"), CFG_P("%s.name", path), &SLUG,
              &k->name);
  cfg_checked(L, cfg_get(&o, "http"), CFG_P("%s.http", path), &CFG_URL, &k->http);
  cfg_checked(L, cfg_get(&o, "tcp"), CFG_P("%s.tcp", path), &HOSTPORT, &k->tcp);
  if (!cfg_get(&o, "http") == !cfg_get(&o, "tcp"))
    cfg_problem(L, cfg_line(n), "%s: give exactly one of http: URL or tcp: host:port", path);
  dur(L, &o, "every", path, DEFAULT_EVERY_MS, &k->every_ms);
  if (k->every_ms > 0 && k->every_ms < MIN_EVERY_MS)
    cfg_problem(L, cfg_line(cfg_get(&o, "every")), "%s.every must be at least 1s", path);
  dur(L, &o, "timeout", path, DEFAULT_TIMEOUT_MS, &k->timeout_ms);
  dur(L, &o, "slow", path, 0, &k->slow_ms);
  dur(L, &o, "tls_expiry", path, 0, &k->tls_expiry_ms);
  dur(L, &o, "down_after", path, DEFAULT_DOWN_AFTER_MS, &k->down_after_ms);
  struct cfg_obj e;
  yaml_node_t *ex = cfg_get(&o, "expect");
  if (ex && cfg_obj_open(L, ex, CFG_P("%s.expect", path), EXPECT_KEYS, &e)) {
    yaml_node_t *st = cfg_get(&e, "status");
    const char *s = cfg_text(L, st, CFG_P("%s.expect.status", path));
    char *end = NULL;
    long v = s ? strtol(s, &end, 10) : 0;
    if (s && (end == s || *end || v < 100 || v > 599))
      cfg_problem(L, cfg_line(st), "%s.expect.status: \"%s\" is not an HTTP status (100-599)", path,
                  cfg_show(s).s);
    else
      k->expect_status = v;
    cfg_str(L, cfg_get(&e, "body"), CFG_P("%s.expect.body", path), &k->expect_body);
    if (k->tcp)
      cfg_problem(L, cfg_line(ex), "%s.expect only goes with http:", path);
  }
  load_refs(L, &o, path, &k->component, &k->severity, &k->rota);
}

static void load_heartbeat(struct cfg_loader *L, yaml_node_t *n, size_t i)
{
  struct heartbeat_config *k = &L->c->heartbeats[i];
  char path[CFG_PATH_MAX];
  snprintf(path, sizeof(path), "heartbeats[%zu]", i);
  struct cfg_obj o;
  if (!cfg_obj_open(L, n, path, HEARTBEAT_KEYS, &o))
    return;
  cfg_checked(L, cfg_need(L, &o, path, "name", "(a-z 0-9 _ . -)"), CFG_P("%s.name", path), &SLUG,
              &k->name);
  dur(L, &o, "every", path, 5 * MS_PER_MIN, &k->every_ms);
  dur(L, &o, "grace", path, DEFAULT_GRACE_MS, &k->grace_ms);
  load_refs(L, &o, path, &k->component, &k->severity, &k->rota);
}

static void load_window(struct cfg_loader *L, yaml_node_t *n, size_t i)
{
  struct maintenance_config *k = &L->c->maintenance[i];
  char path[CFG_PATH_MAX];
  snprintf(path, sizeof(path), "maintenance[%zu]", i);
  struct cfg_obj o;
  if (!cfg_obj_open(L, n, path, MAINT_KEYS, &o))
    return;
  yaml_node_t *cn = cfg_need(L, &o, path, "component", "(a status_page component)");
  if (cfg_str(L, cn, CFG_P("%s.component", path), &k->component) &&
      !has_component(L->c, k->component))
    cfg_problem(L, cfg_line(cn), "%s.component: \"%s\" is not in status_page.components", path,
                cfg_show(k->component).s);
  const char *keys[2] = {"from", "to"};
  int64_t *outs[2] = {&k->from_ms, &k->to_ms};
  for (int j = 0; j < 2; j++) {
    yaml_node_t *t = cfg_need(L, &o, path, keys[j], "(RFC 3339, like 2026-12-06T02:00:00Z)");
    const char *s = cfg_text(L, t, CFG_P("%s.%s", path, keys[j]));
    if (s && time_parse_rfc3339(s, outs[j]) != 0)
      cfg_problem(L, cfg_line(t), "%s.%s: \"%s\" is not an RFC 3339 time", path, keys[j],
                  cfg_show(s).s);
  }
  if (k->from_ms && k->to_ms && k->to_ms <= k->from_ms)
    cfg_problem(L, cfg_line(n), "%s: to must be after from", path);
  if (!cfg_str(L, cfg_get(&o, "text"), CFG_P("%s.text", path), &k->text))
    k->text = cfg_dup(L, "Scheduled maintenance");
}

/* A list section: allocate n entries of size, load each. */
static void *load_list(struct cfg_loader *L,
                       yaml_node_t *n,
                       const char *path,
                       size_t size,
                       size_t *count,
                       void (*one)(struct cfg_loader *, yaml_node_t *, size_t),
                       void **slot)
{
  size_t len;
  if (!n || !cfg_list(L, n, path, &len) || len == 0)
    return NULL;
  if (!(*slot = calloc(len, size))) {
    cfg_oom(L);
    return NULL;
  }
  *count = len;
  for (size_t i = 0; i < len && cfg_visit(L); i++)
    one(L, cfg_item(L, n, i), i);
  return *slot;
}

void cfg_load_checks(struct cfg_loader *L,
                     yaml_node_t *checks,
                     yaml_node_t *heartbeats,
                     yaml_node_t *maintenance)
{
  struct config *c = L->c;
  load_list(L, checks, "checks", sizeof(struct check_config), &c->n_checks, load_check,
            (void **)&c->checks);
  load_list(L, heartbeats, "heartbeats", sizeof(struct heartbeat_config), &c->n_heartbeats,
            load_heartbeat, (void **)&c->heartbeats);
  load_list(L, maintenance, "maintenance", sizeof(struct maintenance_config), &c->n_maintenance,
            load_window, (void **)&c->maintenance);
  /* One namespace for checks and heartbeats: both are alert names and /oncall checks rows. */
  for (size_t i = 0; i < c->n_checks + c->n_heartbeats; i++)
    for (size_t j = 0; j < i; j++) {
      const char *a = i < c->n_checks ? c->checks[i].name : c->heartbeats[i - c->n_checks].name;
      const char *b = j < c->n_checks ? c->checks[j].name : c->heartbeats[j - c->n_checks].name;
      if (a && b && strcmp(a, b) == 0)
        cfg_problem(L, 0, "checks and heartbeats: the name \"%s\" is used twice", cfg_show(a).s);
    }
}
