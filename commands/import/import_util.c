/*
 * import_util.c — what every importer shares: the report, slugs, freeing a result, the YAML
 * writer and the view of an imported rota as a struct rota for the schedule arithmetic.
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/import/import.h"
#include "commands/import/import_internal.h"
#include "commands/oncall/rota.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

int imp_report(struct imp_result *r, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = buf_vprintf(&r->report, fmt, ap);
  va_end(ap);
  if (rc == 0)
    rc = buf_puts(&r->report, "\n");
  return rc;
}

char *imp_slug(const char *text, int allow_dot)
{
  char *s = malloc(50);
  if (!s)
    return NULL;
  size_t n = 0;
  int dash = 0;
  for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p && n < 48; p++) {
    int c = tolower(*p);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (allow_dot && c == '.')) {
      if (dash && n > 0)
        s[n++] = '-';
      if (n < 48)
        s[n++] = (char)c;
      dash = 0;
    } else {
      dash = 1;
    }
  }
  if (n == 0)
    s[n++] = 'x';
  s[n] = '\0';
  return s;
}

static void free_list(char **l, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(l[i]);
  free(l);
}

void imp_rota_free(struct imp_rota *o)
{
  free(o->name), free(o->vendor_id), free(o->vendor_name), free(o->timezone);
  free_list(o->primary, o->n_primary);
  free_list(o->secondary, o->n_secondary);
  for (size_t j = 0; j < o->n_entries; j++)
    free(o->entries[j].person), free(o->entries[j].vendor_user);
  free(o->entries);
  memset(o, 0, sizeof *o);
}

void imp_result_free(struct imp_result *r)
{
  if (!r)
    return;
  free(r->timezone);
  for (size_t i = 0; i < r->n_people; i++) {
    struct imp_person *p = &r->people[i];
    free(p->id), free(p->vendor_id), free(p->name), free(p->email), free(p->phone);
  }
  free(r->people);
  for (size_t i = 0; i < r->n_rotas; i++)
    imp_rota_free(&r->rotas[i]);
  free(r->rotas);
  for (size_t i = 0; i < r->n_policies; i++) {
    struct imp_policy *p = &r->policies[i];
    free(p->name), free(p->vendor_id), free(p->rota);
    for (size_t j = 0; j < p->n_steps; j++)
      free(p->steps[j].notify);
    free(p->steps);
  }
  free(r->policies);
  for (size_t i = 0; i < r->n_routes; i++) {
    struct imp_route *o = &r->routes[i];
    free(o->service), free(o->key_env), free(o->rota), free(o->policy);
  }
  free(r->routes);
  buf_free(&r->report);
  memset(r, 0, sizeof *r);
}

void imp_rota_view(const struct imp_rota *rr, struct rota *out)
{
  memset(out, 0, sizeof *out);
  out->name = rr->name;
  out->timezone = rr->timezone;
  out->handoff_wday = rr->handoff_wday;
  out->handoff_minute = rr->handoff_minute;
  out->shift_days = rr->shift_days;
  out->start = rr->start;
  out->primary = rr->primary;
  out->n_primary = rr->n_primary;
  if (rr->n_secondary > 0) {
    out->secondary_mode = SECONDARY_LIST;
    out->secondary = rr->secondary;
    out->n_secondary = rr->n_secondary;
  }
}

/* A YAML double-quoted scalar: control characters dropped, quote and backslash escaped. */
/* The length of the UTF-8 sequence at p when it is a character libyaml reads (tab, and from
 * space on, without DEL, C1 controls but NEL, surrogates, U+FEFF, U+FFFE/F); 0 otherwise. */
static int yaml_char(const unsigned char *p)
{
  if (p[0] < 0x80)
    return p[0] == '\t' || (p[0] >= 0x20 && p[0] != 0x7f) ? 1 : 0;
  int n = p[0] >= 0xf0 && p[0] <= 0xf4 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : 0;
  if (n == 0 || (p[0] >= 0xf5))
    return 0;
  unsigned cp = p[0] & (0x7f >> n);
  for (int i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0; /* overlong or out of range */
  if ((cp >= 0x80 && cp < 0xa0 && cp != 0x85) || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfeff ||
      cp == 0xfffe || cp == 0xffff)
    return 0;
  return n;
}

/* Text YAML can read: each character kept, anything else a '?'; quote and backslash escaped
 * when `quoted`. */
static int put_text(struct buf *b, const char *s, int quoted)
{
  int rc = 0;
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); !rc && *p;) {
    int n = yaml_char(p);
    if (quoted && (*p == '"' || *p == '\\')) {
      char e[3] = {'\\', (char)*p, 0};
      rc = buf_puts(b, e);
    } else if (n > 0 && !(!quoted && *p == '\t')) {
      rc = buf_append(b, p, (size_t)n);
    } else {
      rc = buf_puts(b, "?");
    }
    p += n > 0 ? n : 1;
  }
  return rc;
}

/* A YAML double-quoted scalar. */
static int put_q(struct buf *b, const char *s)
{
  int rc = buf_puts(b, "\"");
  if (!rc)
    rc = put_text(b, s, 1);
  return rc ? rc : buf_puts(b, "\"");
}

/* A comment's text: one line. */
static int put_c(struct buf *b, const char *s)
{
  return put_text(b, s, 0);
}

static int put_list(struct buf *b, char *const *l, size_t n)
{
  int rc = buf_puts(b, "[");
  for (size_t i = 0; !rc && i < n; i++) {
    if (i)
      rc = buf_puts(b, ", ");
    if (!rc)
      rc = put_q(b, l[i]);
  }
  return rc ? rc : buf_puts(b, "]");
}

static const char *const wdays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                    "thursday", "friday", "saturday"};

static int yaml_people(const struct imp_result *r, struct buf *b)
{
  int rc = buf_puts(
      b,
      "\n# People: id from the email's local part (or the name), as the export had them.\n"
      "# Add each person's Slack id (slack: U…) or let klaxon look them up by email.\npeople:\n");
  for (size_t i = 0; !rc && i < r->n_people; i++) {
    const struct imp_person *p = &r->people[i];
    rc = buf_puts(b, "  - {id: ");
    if (!rc)
      rc = put_q(b, p->id);
    if (!rc)
      rc = buf_puts(b, ", name: ");
    if (!rc)
      rc = put_q(b, p->name ? p->name : p->id);
    if (!rc)
      rc = buf_puts(b, ", email: ");
    if (!rc)
      rc = put_q(b, p->email);
    if (!rc && p->phone)
      rc = buf_puts(b, ", phone: "), rc = rc ? rc : put_q(b, p->phone);
    if (!rc)
      rc = buf_puts(b, "}   # ");
    if (!rc)
      rc = put_c(b, p->vendor_id);
    if (!rc)
      rc = buf_puts(b, "\n");
  }
  return rc;
}

static int yaml_rotas(const struct imp_result *r, struct buf *b)
{
  int rc = buf_puts(b, "\nrotas:\n");
  for (size_t i = 0; !rc && i < r->n_rotas; i++) {
    const struct imp_rota *o = &r->rotas[i];
    rc = buf_puts(b, "  - name: ");
    if (!rc)
      rc = put_q(b, o->name);
    if (!rc)
      rc = buf_puts(b, "   # schedule ");
    if (!rc)
      rc = put_c(b, o->vendor_id);
    if (!rc)
      rc = buf_puts(b, " ");
    if (!rc)
      rc = put_c(b, o->vendor_name);
    if (!rc)
      rc = buf_puts(b, "\n    timezone: ");
    if (!rc)
      rc = put_q(b, o->timezone);
    if (!rc) {
      rc = buf_printf(
          b, "\n    handoff: \"%s%s%02d:%02d\"\n    shift: %dd\n    start: %04d-%02d-%02d\n",
          o->shift_days % 7 == 0 ? wdays[o->handoff_wday] : "", o->shift_days % 7 == 0 ? " " : "",
          o->handoff_minute / 60, o->handoff_minute % 60, o->shift_days, o->start.y, o->start.m,
          o->start.d);
    }
    if (!rc)
      rc = buf_puts(b, "    primary: ");
    if (!rc)
      rc = put_list(b, o->primary, o->n_primary);
    if (!rc && o->n_secondary)
      rc = buf_puts(b, "\n    secondary: "),
      rc = rc ? rc : put_list(b, o->secondary, o->n_secondary);
    if (!rc)
      rc = buf_puts(b, "\n");
  }
  return rc;
}

static int yaml_policies(const struct imp_result *r, struct buf *b)
{
  if (r->n_policies == 0)
    return 0;
  int rc = buf_puts(b,
                    "\n# `after` counts from the page: PagerDuty's rule delays added up, "
                    "Opsgenie's as they were.\nescalation_policies:\n");
  for (size_t i = 0; !rc && i < r->n_policies; i++) {
    const struct imp_policy *p = &r->policies[i];
    rc = buf_puts(b, "  - name: ");
    if (!rc)
      rc = put_q(b, p->name);
    if (!rc)
      rc = buf_puts(b, "   # ");
    if (!rc)
      rc = put_c(b, p->vendor_id);
    if (!rc)
      rc = buf_printf(b, "\n    repeat: %d\n    steps:\n", p->repeat);
    for (size_t j = 0; !rc && j < p->n_steps; j++) {
      rc = buf_printf(b, "      - {after: %dm, notify: ", p->steps[j].after_min);
      if (!rc)
        rc = put_q(b, p->steps[j].notify);
      if (!rc)
        rc = buf_puts(b, "}\n");
    }
  }
  return rc;
}

static int yaml_alerts(const struct imp_result *r, struct buf *b)
{
  int pd = r->routes[0].label == NULL || strcmp(r->routes[0].label, "routing_key_env") == 0;
  int rc =
      pd ? buf_puts(
               b,
               "\n# Each service became a route matching the label routing_key_env: point the\n"
               "# service's monitoring at POST /alerts/pagerduty with a routing key held in that\n"
               "# variable, and list the variables here (docs/integrations.md):\n"
               "#   pagerduty_keys_env: [")
         : buf_puts(
               b,
               "\n# Each team became a route matching the label team: give your alerts a label\n"
               "# team with the value below (Alertmanager or the generic webhook, "
               "docs/alerts.md).\n#   teams: [");
  for (size_t i = 0; !rc && i < r->n_routes; i++) {
    if (i)
      rc = buf_puts(b, ", ");
    if (!rc)
      rc = put_c(b, r->routes[i].key_env);
  }
  if (!rc)
    rc = buf_puts(b, "]\nalerts:\n  routes:\n");
  for (size_t i = 0; !rc && i < r->n_routes; i++) {
    const struct imp_route *o = &r->routes[i];
    rc = buf_printf(b, "    - {match: {%s: ", o->label ? o->label : "routing_key_env");
    if (!rc)
      rc = put_q(b, o->key_env);
    if (!rc)
      rc = buf_puts(b, "}, rota: ");
    if (!rc)
      rc = put_q(b, o->rota);
    if (!rc && o->policy)
      rc = buf_puts(b, ", policy: "), rc = rc ? rc : put_q(b, o->policy);
    if (!rc)
      rc = buf_puts(b, "}   # ");
    if (!rc)
      rc = put_c(b, o->service);
    if (!rc)
      rc = buf_puts(b, "\n");
  }
  return rc;
}

int imp_yaml(const struct imp_result *r, const char *vendor, struct buf *b)
{
  int rc =
      buf_printf(b,
                 "# klaxon configuration imported from %s by `klaxon import`.\n"
                 "# Check it with `klaxon check-config`; what could not be carried over was\n"
                 "# listed on stderr. Slack channels, smtp and the rest: docs/configuration.md.\n"
                 "timezone: ",
                 vendor);
  if (!rc)
    rc = put_q(b, r->timezone);
  if (!rc)
    rc = buf_puts(b, "\n");
  if (!rc)
    rc = yaml_people(r, b);
  if (!rc)
    rc = yaml_rotas(r, b);
  if (!rc)
    rc = yaml_policies(r, b);
  if (!rc) {
    rc = buf_puts(b,
                  "\n# High-urgency pages as P1, low as P2 (edit to taste).\nseverities:\n"
                  "  - {name: P1, ack: 15m, page: [primary]");
    if (!rc && r->n_policies)
      rc = buf_puts(b, ", policy: "), rc = rc ? rc : put_q(b, r->policies[0].name);
    if (!rc)
      rc = buf_puts(b, "}\n  - {name: P2, page: business_hours}\n");
  }
  if (!rc && r->n_routes)
    rc = yaml_alerts(r, b);
  return rc;
}

/* ---- the mappers' shared look-ups (import_internal.h) ---- */

const char *imp_jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

char *imp_dup(const char *s)
{
  return s ? strdup(s) : NULL;
}

/* The array under k: NULL when absent; *bad set when present but not an array or too long. */
const cJSON *imp_jarr(const cJSON *o, const char *k, int cap, int *bad)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  if (!v || cJSON_IsNull(v))
    return NULL;
  if (!cJSON_IsArray(v)) {
    *bad = KX_EINVAL;
    return NULL;
  }
  if (cJSON_GetArraySize(v) > cap)
    *bad = KX_ETOOBIG;
  return v;
}

const char *imp_person_for(const struct imp_result *r, const char *vendor_id)
{
  for (size_t i = 0; vendor_id && i < r->n_people; i++)
    if (strcmp(r->people[i].vendor_id, vendor_id) == 0)
      return r->people[i].id;
  return NULL;
}

int imp_id_taken(const struct imp_result *r, const char *id)
{
  for (size_t i = 0; i < r->n_people; i++)
    if (strcmp(r->people[i].id, id) == 0)
      return 1;
  return 0;
}

/* A unique klaxon id from `base` (freed here). */
char *imp_unique_id(const struct imp_result *r, char *base)
{
  if (!base || !imp_id_taken(r, base))
    return base;
  char *s = malloc(strlen(base) + 16);
  for (int n = 2; s; n++) {
    sprintf(s, "%s-%d", base, n);
    if (!imp_id_taken(r, s))
      break;
  }
  free(base);
  return s;
}

int imp_rota_taken(const struct imp_result *r, const char *name)
{
  for (size_t i = 0; i < r->n_rotas; i++)
    if (strcmp(r->rotas[i].name, name) == 0)
      return 1;
  return 0;
}

const char *imp_rota_for(const struct imp_result *r, const char *sched_id)
{
  for (size_t i = 0; sched_id && i < r->n_rotas; i++)
    if (strcmp(r->rotas[i].vendor_id, sched_id) == 0)
      return r->rotas[i].name;
  return NULL;
}

int imp_add_step(struct imp_policy *p, int after, const char *notify)
{
  struct imp_step *s = &p->steps[p->n_steps];
  s->after_min = after;
  if (!(s->notify = strdup(notify)))
    return KX_ENOMEM;
  p->n_steps++;
  return 0;
}

const struct imp_policy *imp_policy_for(const struct imp_result *r, const char *vendor_id)
{
  for (size_t i = 0; vendor_id && i < r->n_policies; i++)
    if (strcmp(r->policies[i].vendor_id, vendor_id) == 0)
      return &r->policies[i];
  return NULL;
}

/* The config loader's rule (bot/config): one '@' with text on both sides, no spaces or control
 * characters, a dot in the domain (or localhost); and not longer than a config value may be. */
static int is_email(const char *s)
{
  const char *at = strchr(s, '@');
  if (!at || at == s || !at[1] || strchr(at + 1, '@') || strlen(s) > 254)
    return 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\')
      return 0; /* ASCII only: an address we would have to change is not theirs */
  return strchr(at + 1, '.') != NULL || strcmp(at + 1, "localhost") == 0;
}

int imp_add_person(struct imp_result *r, const char *vendor_id, const char *name, const char *email)
{
  if (!email || !is_email(email)) {
    imp_report(r, "user %s (%s): no usable email, left out (klaxon needs an email or a Slack id)",
               vendor_id, name && strlen(name) <= IMP_MAX_NAME ? name : "?");
    return 0;
  }
  if (name && strspn(name, " \t\r\n") == strlen(name))
    name = NULL; /* an empty name: the id stands in */
  if (name && strlen(name) > IMP_MAX_NAME) {
    imp_report(r, "user %s: a name of %zu bytes, left out (the email identifies them)", vendor_id,
               strlen(name));
    name = NULL;
  }
  for (size_t i = 0; i < r->n_people; i++) {
    if (strcasecmp(r->people[i].email, email) == 0) {
      imp_report(r, "user %s: email %s is already another user's, left out", vendor_id, email);
      return 0;
    }
  }
  struct imp_person *p = &r->people[r->n_people];
  char local[80];
  snprintf(local, sizeof local, "%.*s", (int)(strchr(email, '@') - email), email);
  p->id = imp_unique_id(r, imp_slug(local[0] ? local : name, 1));
  p->vendor_id = strdup(vendor_id);
  p->name = imp_dup(name);
  p->email = strdup(email);
  r->n_people++;
  if (!p->id || !p->vendor_id || !p->email || (name && !p->name))
    return KX_ENOMEM;
  return 0;
}

char *imp_rota_name(const struct imp_result *r, const char *text)
{
  char *slug = imp_slug(text, 0);
  if (!slug || !imp_rota_taken(r, slug))
    return slug;
  char *s = malloc(strlen(slug) + 16);
  for (int k = 2; s && k < 100000; k++) {
    sprintf(s, "%s-%d", slug, k);
    if (!imp_rota_taken(r, s))
      break;
  }
  free(slug);
  return s;
}

static size_t gcd(size_t a, size_t b)
{
  while (b) {
    size_t t = a % b;
    a = b, b = t;
  }
  return a;
}

int imp_rota_settle(struct imp_result *r, struct imp_rota *o)
{
  /* A virtual start long ago is common (the rotation was set up years back). klaxon's arithmetic
   * starts in 1970: move the start forward by whole cycles of the rotation (every list back at
   * its first person), which changes no turn. */
  const struct kx_date floor = {1971, 1, 1};
  if (date_cmp(o->start, floor) < 0) {
    size_t ns = o->n_secondary ? o->n_secondary : 1;
    int64_t cycle = (int64_t)o->shift_days * (int64_t)(o->n_primary / gcd(o->n_primary, ns) * ns);
    int64_t gap = date_to_days(floor) - date_to_days(o->start);
    if (cycle > 0 && cycle < 1000000) {
      struct kx_date was = o->start;
      o->start = date_add_days(o->start, (gap + cycle - 1) / cycle * cycle);
      if (o->shift_days % 7)
        o->handoff_wday = date_weekday(o->start);
      imp_report(r,
                 "schedule %s: its rotation starts %04d-%02d-%02d; klaxon starts it whole cycles "
                 "later, on %04d-%02d-%02d, with the same turns",
                 o->vendor_id, was.y, was.m, was.d, o->start.y, o->start.m, o->start.d);
    }
  }
  struct rota view;
  struct rota_shift s;
  imp_rota_view(o, &view);
  const char *why = rota_problem(&view);
  if (why || o->start.y > 9000 || rota_shift_by_index(&view, 0, &s) != 0) {
    imp_report(r, "schedule %s: klaxon cannot use its rotation (%s), left out", o->vendor_id,
               why ? why : "a start outside 1971-9000");
    return KX_ENOTFOUND;
  }
  return 0;
}

static int policy_taken(const struct imp_result *r, const char *name)
{
  for (size_t i = 0; i < r->n_policies; i++)
    if (strcmp(r->policies[i].name, name) == 0)
      return 1;
  return 0;
}

char *imp_policy_name(const struct imp_result *r, const char *text)
{
  char *slug = imp_slug(text, 1);
  if (!slug || !policy_taken(r, slug))
    return slug;
  char *s = malloc(strlen(slug) + 16);
  for (int k = 2; s && k < 100000; k++) {
    sprintf(s, "%s-%d", slug, k);
    if (!policy_taken(r, s))
      break;
  }
  free(slug);
  return s;
}
