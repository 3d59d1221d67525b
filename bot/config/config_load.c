/*
 * config_load.c — reading a klaxon config: the file, libyaml's document, problems with
 * their lines, typed values and name indexes. What the keys mean is in config_schema.c.
 */
#include "bot/config/config_load.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "bot/config/config_load_internal.h"
#include "lib/buf.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

#define SHOW_MAX 60         /* characters of a value shown in a message */
#define DURATION_MAX_LEN 32 /* longer "durations" are refused before parsing (no overflow) */
#define READ_CHUNK 16384

/* ---- problems ---------------------------------------------------------------------------- */

/* dropped: counts problems past the cap; NULL for a problem that is always kept. */
static void add_problem(struct config_problems *pr, size_t *dropped, int line, char *msg)
{
  if (!msg)
    return;
  for (size_t i = 0; i < pr->n; i++) {
    /* A map merged into several places repeats its problems: list each once. */
    if (pr->items[i].line == line && strcmp(pr->items[i].message, msg) == 0) {
      free(msg);
      return;
    }
  }
  if (dropped && pr->n >= CONFIG_MAX_PROBLEMS) {
    (*dropped)++;
    free(msg);
    return;
  }
  struct config_problem *items = realloc(pr->items, (pr->n + 1) * sizeof(*items));
  if (!items) {
    free(msg);
    return;
  }
  pr->items = items;
  pr->items[pr->n].line = line;
  pr->items[pr->n].message = msg;
  pr->n++;
}

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    return NULL;
  return s;
}

void cfg_problem(struct cfg_loader *L, int line, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  char *msg = vformat(fmt, ap);
  va_end(ap);
  if (!msg)
    L->nomem = true;
  add_problem(L->pr, &L->dropped, line, msg);
}

/* For the few problems found before there is a loader (opening the file). */
static void early_problem(struct config_problems *pr, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void early_problem(struct config_problems *pr, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  add_problem(pr, NULL, 0, vformat(fmt, ap));
  va_end(ap);
}

void cfg_oom(struct cfg_loader *L)
{
  if (!L->nomem)
    cfg_problem(L, 0, "out of memory while loading the config");
  L->nomem = true;
}

char *cfg_dup(struct cfg_loader *L, const char *s)
{
  char *d = kx_strdup(s);
  if (!d && s)
    cfg_oom(L);
  return d;
}

void *cfg_grow(struct cfg_loader *L, void *arr, size_t *alloc, size_t n, size_t size)
{
  if (n <= *alloc)
    return arr;
  size_t want = *alloc ? *alloc * 2 : 8;
  if (want < n)
    want = n;
  char *p = realloc(arr, want * size);
  if (!p) {
    cfg_oom(L);
    return NULL;
  }
  memset(p + *alloc * size, 0, (want - *alloc) * size);
  *alloc = want;
  return p;
}

void config_problems_free(struct config_problems *problems)
{
  if (!problems)
    return;
  for (size_t i = 0; i < problems->n; i++)
    free(problems->items[i].message);
  free(problems->items);
  problems->items = NULL;
  problems->n = 0;
}

/* Stable by line, so problems on one line keep the order they were found in. */
static void sort_problems(struct config_problems *pr)
{
  for (size_t i = 1; i < pr->n; i++) {
    struct config_problem p = pr->items[i];
    size_t j = i;
    for (; j > 0 && pr->items[j - 1].line > p.line; j--)
      pr->items[j] = pr->items[j - 1];
    pr->items[j] = p;
  }
}

/* ---- nodes --------------------------------------------------------------------------------- */

int cfg_line(const yaml_node_t *n)
{
  return n ? (int)n->start_mark.line + 1 : 0;
}

struct cfg_shown cfg_show(const char *s)
{
  struct cfg_shown out;
  size_t i = 0;
  for (; s && s[i] && i < SHOW_MAX; i++) {
    unsigned char ch = (unsigned char)s[i];
    out.s[i] = s[i];
    if (ch < 0x20 || ch == 0x7f || ch == '"')
      out.s[i] = '?';
  }
  /* Do not cut a UTF-8 sequence in half. */
  if (s && s[i]) {
    while (i > 0 && ((unsigned char)out.s[i - 1] & 0xC0) == 0x80)
      i--;
    if (i > 0 && ((unsigned char)out.s[i - 1] & 0xC0) == 0xC0)
      i--;
    memcpy(out.s + i, "...", 4);
  } else {
    out.s[i] = '\0';
  }
  return out;
}

struct cfg_path cfg_pathf(const char *fmt, ...)
{
  struct cfg_path p;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(p.s, sizeof(p.s), fmt, ap);
  va_end(ap);
  if (n < 0)
    p.s[0] = '\0';
  return p;
}

static const char *cfg_kind(const yaml_node_t *n)
{
  if (!n)
    return "nothing";
  switch (n->type) {
    case YAML_MAPPING_NODE:
      return "a map";
    case YAML_SEQUENCE_NODE:
      return "a list";
    default:
      return cfg_is_null(n) ? "empty" : "a single value";
  }
}

bool cfg_is_null(const yaml_node_t *n)
{
  if (!n || n->type != YAML_SCALAR_NODE)
    return false;
  if (n->data.scalar.length == 0)
    return true;
  if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
    return false;
  const char *s = (const char *)n->data.scalar.value;
  return strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
         strcmp(s, "NULL") == 0;
}

bool cfg_visit(struct cfg_loader *L)
{
  if (L->stop)
    return false;
  if (++L->visits > CONFIG_MAX_VISITS) {
    cfg_problem(L, 0,
                "the file expands to more than %d values (aliases that repeat aliases?); "
                "it is refused",
                CONFIG_MAX_VISITS);
    L->stop = true;
    return false;
  }
  return true;
}

static yaml_node_t *node_at(struct cfg_loader *L, int index)
{
  return yaml_document_get_node(L->doc, index);
}

/* ---- maps ---------------------------------------------------------------------------------- */

static bool is_merge_key(const yaml_node_t *k)
{
  return k && k->type == YAML_SCALAR_NODE && k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
         strcmp((const char *)k->data.scalar.value, "<<") == 0;
}

static void walk_pairs(
    struct cfg_loader *L, yaml_node_t *map, const char *path, cfg_pair_fn fn, void *ctx, int depth);

static void merge_from(struct cfg_loader *L,
                       yaml_node_t *src,
                       const char *path,
                       cfg_pair_fn fn,
                       void *ctx,
                       int depth,
                       bool list_ok)
{
  if (depth > CONFIG_MAX_MERGE_DEPTH) {
    cfg_problem(L, cfg_line(src), "%s: merges (<<) nest more than %d deep", path,
                CONFIG_MAX_MERGE_DEPTH);
    return;
  }
  if (src->type == YAML_MAPPING_NODE) {
    walk_pairs(L, src, path, fn, ctx, depth);
    return;
  }
  if (src->type == YAML_SEQUENCE_NODE && list_ok) {
    /* `<<: [*a, *b]`: earlier maps win, which the callers' "skip keys already there" gives. */
    yaml_node_item_t *it = src->data.sequence.items.start;
    for (; it < src->data.sequence.items.top && cfg_visit(L); it++) {
      merge_from(L, node_at(L, *it), path, fn, ctx, depth, false);
    }
    return;
  }
  cfg_problem(L, cfg_line(src), "%s: << (merge) must name a map or a list of maps, not %s", path,
              cfg_kind(src));
}

static void walk_pairs(
    struct cfg_loader *L, yaml_node_t *map, const char *path, cfg_pair_fn fn, void *ctx, int depth)
{
  yaml_node_pair_t *start = map->data.mapping.pairs.start, *top = map->data.mapping.pairs.top;
  if ((size_t)(top - start) > CONFIG_MAX_ITEMS) {
    cfg_problem(L, cfg_line(map), "%s has %zu keys; at most %d are allowed", path,
                (size_t)(top - start), CONFIG_MAX_ITEMS);
    return;
  }
  for (yaml_node_pair_t *p = start; p < top && cfg_visit(L); p++) {
    yaml_node_t *k = node_at(L, p->key), *v = node_at(L, p->value);
    if (is_merge_key(k))
      continue;
    if (k->type != YAML_SCALAR_NODE || cfg_is_null(k)) {
      cfg_problem(L, cfg_line(k), "%s: a key must be a name, not %s", path, cfg_kind(k));
      continue;
    }
    fn(L, (const char *)k->data.scalar.value, k, v, depth > 0, ctx);
  }
  for (yaml_node_pair_t *p = start; p < top && !L->stop; p++) {
    if (is_merge_key(node_at(L, p->key)))
      merge_from(L, node_at(L, p->value), path, fn, ctx, depth + 1, true);
  }
}

bool cfg_pairs(struct cfg_loader *L, yaml_node_t *map, const char *path, cfg_pair_fn fn, void *ctx)
{
  if (!map)
    return false;
  if (map->type != YAML_MAPPING_NODE) {
    cfg_problem(L, cfg_line(map), "%s must be a map (key: value lines), not %s", path,
                cfg_kind(map));
    return false;
  }
  walk_pairs(L, map, path, fn, ctx, 0);
  return true;
}

/* Optimal string alignment distance (edits and swaps of neighbours), ignoring case. */
static size_t edit_distance(const char *a, const char *b)
{
  enum { MAXLEN = 40 };
  size_t la = strlen(a), lb = strlen(b);
  if (la > MAXLEN || lb > MAXLEN)
    return SIZE_MAX;
  size_t d[MAXLEN + 1][MAXLEN + 1];
  for (size_t i = 0; i <= la; i++)
    d[i][0] = i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = j;
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
      size_t best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best)
        best = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < best)
        best = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
          d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  }
  return d[la][lb];
}

static const char *suggest(const char *key, const char *const *known)
{
  const char *best = NULL;
  size_t best_d = SIZE_MAX;
  for (size_t i = 0; known[i]; i++) {
    size_t d = edit_distance(key, known[i]);
    size_t allowed = strlen(known[i]) <= 4 ? 1 : strlen(known[i]) <= 8 ? 2 : 3;
    if (d <= allowed && d < best_d) {
      best = known[i];
      best_d = d;
    }
  }
  return best;
}

struct obj_walk {
  struct cfg_obj *o;
  const char *path;
  int key_line[CFG_OBJ_MAX_KEYS];
};

static void obj_pair(struct cfg_loader *L,
                     const char *key,
                     yaml_node_t *knode,
                     yaml_node_t *val,
                     bool merged,
                     void *ctx)
{
  struct obj_walk *w = ctx;
  size_t i = 0;
  /* Top-level keys starting with x- hold anchors for the rest of the file (as in compose
   * files); klaxon ignores them. No real key starts with x-, so no typo hides here. */
  if (!w->path[0] && strncmp(key, "x-", 2) == 0)
    return;
  while (w->o->keys[i] && strcmp(w->o->keys[i], key) != 0)
    i++;
  if (!w->o->keys[i]) {
    const char *near = suggest(key, w->o->keys);
    const char *where = w->path[0] ? w->path : "the top level";
    if (near)
      cfg_problem(L, cfg_line(knode), "unknown key \"%s\" in %s (did you mean \"%s\"?)",
                  cfg_show(key).s, where, near);
    else
      cfg_problem(L, cfg_line(knode), "unknown key \"%s\" in %s", cfg_show(key).s, where);
    return;
  }
  if (w->o->val[i]) {
    if (!merged)
      cfg_problem(L, cfg_line(knode), "duplicate key \"%s\" in %s (first on line %d)",
                  cfg_show(key).s, w->path[0] ? w->path : "the top level", w->key_line[i]);
    return;
  }
  w->o->val[i] = val;
  w->key_line[i] = cfg_line(knode);
}

bool cfg_obj_open(struct cfg_loader *L,
                  yaml_node_t *n,
                  const char *path,
                  const char *const *keys,
                  struct cfg_obj *o)
{
  memset(o, 0, sizeof(*o));
  o->keys = keys;
  o->node = n;
  struct obj_walk w = {.o = o, .path = path};
  return cfg_pairs(L, n, path[0] ? path : "the file", obj_pair, &w);
}

yaml_node_t *cfg_get(const struct cfg_obj *o, const char *key)
{
  for (size_t i = 0; o->keys[i]; i++)
    if (strcmp(o->keys[i], key) == 0)
      return o->val[i];
  return NULL;
}

yaml_node_t *cfg_need(struct cfg_loader *L,
                      const struct cfg_obj *o,
                      const char *path,
                      const char *key,
                      const char *hint)
{
  yaml_node_t *v = cfg_get(o, key);
  if (!v)
    cfg_problem(L, path[0] ? cfg_line(o->node) : 0, "%s%s%s is missing%s%s", path,
                path[0] ? "." : "", key, hint ? " " : "", hint ? hint : "");
  return v;
}

/* ---- lists and values ---------------------------------------------------------------------- */

bool cfg_list(struct cfg_loader *L, yaml_node_t *n, const char *path, size_t *len)
{
  if (!n)
    return false;
  if (n->type != YAML_SEQUENCE_NODE) {
    cfg_problem(L, cfg_line(n), "%s must be a list, not %s", path, cfg_kind(n));
    return false;
  }
  *len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
  if (*len > CONFIG_MAX_ITEMS) {
    cfg_problem(L, cfg_line(n), "%s has %zu items; at most %d are allowed", path, *len,
                CONFIG_MAX_ITEMS);
    return false;
  }
  return true;
}

yaml_node_t *cfg_item(struct cfg_loader *L, yaml_node_t *list, size_t i)
{
  return node_at(L, list->data.sequence.items.start[i]);
}

const char *cfg_text(struct cfg_loader *L, yaml_node_t *n, const char *path)
{
  if (!n)
    return NULL;
  if (n->type != YAML_SCALAR_NODE) {
    cfg_problem(L, cfg_line(n), "%s must be a single value, not %s", path, cfg_kind(n));
    return NULL;
  }
  if (cfg_is_null(n)) {
    cfg_problem(L, cfg_line(n), "%s is empty (give a value or leave the key out)", path);
    return NULL;
  }
  const char *s = (const char *)n->data.scalar.value;
  if (strlen(s) != n->data.scalar.length) {
    cfg_problem(L, cfg_line(n), "%s contains a NUL character", path);
    return NULL;
  }
  if (n->data.scalar.length > CONFIG_MAX_TEXT) {
    cfg_problem(L, cfg_line(n), "%s is longer than %d characters", path, CONFIG_MAX_TEXT);
    return NULL;
  }
  return s;
}

bool cfg_str(struct cfg_loader *L, yaml_node_t *n, const char *path, char **out)
{
  const char *s = cfg_text(L, n, path);
  if (!s)
    return false;
  char *copy = cfg_dup(L, s);
  if (!copy)
    return false;
  free(*out);
  *out = copy;
  return true;
}

bool cfg_checked(struct cfg_loader *L,
                 yaml_node_t *n,
                 const char *path,
                 const struct cfg_check *check,
                 char **out)
{
  const char *s = cfg_text(L, n, path);
  if (!s)
    return false;
  if (!check->ok(s)) {
    if (check->secret)
      cfg_problem(L, cfg_line(n), "%s is not %s", path, check->what);
    else
      cfg_problem(L, cfg_line(n), "%s: \"%s\" is not %s", path, cfg_show(s).s, check->what);
    return false;
  }
  return cfg_str(L, n, path, out);
}

bool cfg_duration(struct cfg_loader *L, yaml_node_t *n, const char *path, int64_t *out)
{
  const char *s = cfg_text(L, n, path);
  int64_t ms;
  if (!s)
    return false;
  if (strlen(s) > DURATION_MAX_LEN || time_parse_duration(s, &ms) != 0) {
    cfg_problem(L, cfg_line(n), "%s: \"%s\" is not a duration (use 90s, 5m, 1h30m, 2d, 1w)", path,
                cfg_show(s).s);
    return false;
  }
  *out = ms;
  return true;
}

bool cfg_bool(struct cfg_loader *L, yaml_node_t *n, const char *path, bool *out)
{
  static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
  const char *s = cfg_text(L, n, path);
  if (!s)
    return false;
  for (size_t i = 0; i < KX_ARRAY_SIZE(yes); i++) {
    if (strcasecmp(s, yes[i]) == 0 || strcasecmp(s, no[i]) == 0) {
      *out = strcasecmp(s, yes[i]) == 0;
      return true;
    }
  }
  cfg_problem(L, cfg_line(n), "%s: \"%s\" is not true or false", path, cfg_show(s).s);
  return false;
}

/* ---- name indexes -------------------------------------------------------------------------- */

bool cfg_names_add(
    struct cfg_loader *L, struct cfg_names *ns, const char *name, int line, size_t pos)
{
  struct cfg_name *grown = cfg_grow(L, ns->v, &ns->alloc, ns->n + 1, sizeof(*ns->v));
  if (!grown)
    return false;
  ns->v = grown;
  ns->v[ns->n] = (struct cfg_name){.name = name, .line = line, .pos = pos};
  ns->n++;
  return true;
}

static int by_name(const struct cfg_name *a, const struct cfg_name *b, bool nocase)
{
  int c = nocase ? strcasecmp(a->name, b->name) : strcmp(a->name, b->name);
  if (c)
    return c;
  return a->pos < b->pos ? -1 : a->pos > b->pos;
}

static int by_name_case(const void *a, const void *b)
{
  return by_name(a, b, false);
}

static int by_name_nocase(const void *a, const void *b)
{
  return by_name(a, b, true);
}

void cfg_names_check(struct cfg_loader *L, struct cfg_names *ns, const char *what)
{
  if (ns->n < 2)
    return;
  qsort(ns->v, ns->n, sizeof(*ns->v), ns->nocase ? by_name_nocase : by_name_case);
  size_t first = 0;
  for (size_t i = 1; i < ns->n; i++) {
    bool same = ns->nocase ? strcasecmp(ns->v[i].name, ns->v[first].name) == 0
                           : strcmp(ns->v[i].name, ns->v[first].name) == 0;
    if (!same) {
      first = i;
      continue;
    }
    if (ns->v[i].line == ns->v[first].line) /* one definition, used twice through an alias */
      cfg_problem(L, ns->v[i].line,
                  "duplicate %s \"%s\" (this definition is used twice, through an alias)", what,
                  cfg_show(ns->v[i].name).s);
    else if (strcmp(ns->v[i].name, ns->v[first].name) != 0) /* differs only in case */
      cfg_problem(L, ns->v[i].line,
                  "duplicate %s \"%s\" (first defined on line %d as \"%s\"; names are compared "
                  "ignoring case)",
                  what, cfg_show(ns->v[i].name).s, ns->v[first].line,
                  cfg_show(ns->v[first].name).s);
    else
      cfg_problem(L, ns->v[i].line, "duplicate %s \"%s\" (first defined on line %d)", what,
                  cfg_show(ns->v[i].name).s, ns->v[first].line);
  }
}

const struct cfg_name *cfg_names_find(const struct cfg_names *ns, const char *name)
{
  size_t lo = 0, hi = ns->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = ns->nocase ? strcasecmp(name, ns->v[mid].name) : strcmp(name, ns->v[mid].name);
    if (c == 0)
      return &ns->v[mid];
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

bool cfg_names_has(const struct cfg_names *ns, const char *name)
{
  for (size_t i = 0; i < ns->n; i++)
    if ((ns->nocase ? strcasecmp : strcmp)(ns->v[i].name, name) == 0)
      return true;
  return false;
}

void cfg_names_free(struct cfg_names *ns)
{
  free(ns->v);
  memset(ns, 0, sizeof(*ns));
}

/* ---- the document -------------------------------------------------------------------------- */

static int offset_line(const char *text, size_t len, size_t offset)
{
  int line = 1;
  for (size_t i = 0; i < offset && i < len; i++)
    line += text[i] == '\n';
  return line;
}

static void syntax_problem(struct cfg_loader *L,
                           const yaml_parser_t *p,
                           const char *text,
                           size_t len)
{
  const char *what = p->problem ? p->problem : "the YAML could not be read";
  if (p->error == YAML_READER_ERROR) {
    cfg_problem(L, offset_line(text, len, p->problem_offset),
                "the file is not UTF-8 text YAML can read (%s)", what);
  } else if (p->error == YAML_MEMORY_ERROR) {
    cfg_oom(L);
  } else if (p->context) {
    cfg_problem(L, (int)p->problem_mark.line + 1,
                "YAML syntax error: %s (%s that began on line %d)", what, p->context,
                (int)p->context_mark.line + 1);
  } else {
    cfg_problem(L, (int)p->problem_mark.line + 1, "YAML syntax error: %s", what);
  }
}

/* A second `---` document would be silently ignored by a reader that takes the first. */
static void refuse_second_document(struct cfg_loader *L,
                                   yaml_parser_t *parser,
                                   const char *text,
                                   size_t len)
{
  yaml_document_t next;
  if (!yaml_parser_load(parser, &next)) {
    syntax_problem(L, parser, text, len);
    return;
  }
  yaml_node_t *root = yaml_document_get_root_node(&next);
  if (root)
    cfg_problem(L, (int)next.start_mark.line + 1,
                "a second YAML document starts here; the config must be one document");
  yaml_document_delete(&next);
}

static void load_document(struct cfg_loader *L, const char *text, size_t len)
{
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser)) {
    cfg_oom(L);
    return;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
  if (!yaml_parser_load(&parser, &doc)) {
    syntax_problem(L, &parser, text, len);
    yaml_parser_delete(&parser);
    return;
  }
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  if (!root || cfg_is_null(root)) {
    cfg_problem(L, 0,
                "the file is empty; a config needs at least timezone, people, rotas and "
                "severities (see deploy/klaxon.example.yaml)");
  } else {
    refuse_second_document(L, &parser, text, len);
    L->doc = &doc;
    cfg_load_root(L, root);
    L->doc = NULL;
  }
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
}

struct config *config_load_string(const char *yaml,
                                  size_t len,
                                  const char *name,
                                  struct config_problems *problems)
{
  struct cfg_loader L = {
      .pr = problems, .severities = {.nocase = true}, .emails = {.nocase = true}};
  problems->items = NULL;
  problems->n = 0;
  if (!yaml)
    len = 0;
  if (len > CONFIG_MAX_BYTES) {
    cfg_problem(&L, 0, "the file is %zu bytes; a config may be at most %d bytes (1 MiB)", len,
                CONFIG_MAX_BYTES);
    return NULL;
  }
  L.c = calloc(1, sizeof(*L.c));
  if (!L.c || !(L.c->path = kx_strdup(name ? name : "<string>"))) {
    cfg_oom(&L);
    config_free(L.c);
    return NULL;
  }
  load_document(&L, yaml ? yaml : "", len);
  sort_problems(problems);
  if (L.dropped)
    add_problem(problems, NULL, 0, kx_asprintf("... and %zu more problems", L.dropped));
  cfg_names_free(&L.people);
  cfg_names_free(&L.slack_ids);
  cfg_names_free(&L.emails);
  cfg_names_free(&L.rotas);
  cfg_names_free(&L.severities);
  cfg_names_free(&L.policies);
  cfg_names_free(&L.contacts);
  if (problems->n > 0 || L.nomem) {
    config_free(L.c);
    return NULL;
  }
  return L.c;
}

struct config *config_load_file(const char *path, struct config_problems *problems)
{
  problems->items = NULL;
  problems->n = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    early_problem(problems, "cannot open %s: %s", path, strerror(errno));
    return NULL;
  }
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    early_problem(problems, "%s is a directory, not a config file", path);
    (void)fclose(f);
    return NULL;
  }
  /* The buffer's cap refuses a pipe or a growing file the same way as a large regular file. */
  struct buf b;
  char chunk[READ_CHUNK];
  size_t got;
  int rc = 0;
  buf_init(&b, CONFIG_MAX_BYTES);
  while (rc == 0 && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
    rc = buf_append(&b, chunk, got);
  int read_error = ferror(f);
  (void)fclose(f);
  struct config *c = NULL;
  if (rc == KX_ETOOBIG)
    early_problem(problems, "%s is larger than %d bytes (1 MiB), the most a config may be", path,
                  CONFIG_MAX_BYTES);
  else if (rc)
    early_problem(problems, "out of memory while reading %s", path);
  else if (read_error)
    early_problem(problems, "cannot read %s", path);
  else
    c = config_load_string(b.data ? b.data : "", b.len, path, problems);
  buf_free(&b);
  return c;
}
