/*
 * import_pd.c — PagerDuty REST v2 exports (GET /users, /schedules, /escalation_policies,
 * /services list responses; also one GET /schedules/{id} response) mapped onto klaxon's config.
 * The shapes are those of PagerDuty's public schema (PagerDuty/api-schema,
 * reference/REST/openapiv3.json); tests/fixtures/pagerduty_import/README.md says which examples.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/import/import.h"
#include "commands/import/import_internal.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

/* E.164 from a phone contact method (country_code + address), NULL when it is not one. */
static char *pd_phone(const cJSON *cms)
{
  const cJSON *cm;
  cJSON_ArrayForEach (cm, cms) {
    const char *type = imp_jstr(cm, "type"), *addr = imp_jstr(cm, "address");
    const cJSON *cc = cJSON_GetObjectItemCaseSensitive(cm, "country_code");
    if (!type || !addr || !cJSON_IsNumber(cc))
      continue;
    if (strcmp(type, "phone_contact_method") != 0 && strcmp(type, "sms_contact_method") != 0)
      continue;
    if (cc->valuedouble < 1 || cc->valuedouble > 1999)
      continue;
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%d", (int)cc->valuedouble);
    for (const char *p = addr; *p && n < 20; p++)
      if (*p >= '0' && *p <= '9')
        digits[n++] = *p;
    digits[n] = '\0';
    if (n < 3 || n > 15)
      continue;
    char *s = malloc(32);
    if (s)
      snprintf(s, 32, "+%s", digits);
    return s;
  }
  return NULL;
}

static int pd_users(const cJSON *users, struct imp_result *r)
{
  int n = cJSON_GetArraySize(users);
  r->people = calloc((size_t)n + 1, sizeof *r->people);
  if (!r->people)
    return KX_ENOMEM;
  const cJSON *u;
  cJSON_ArrayForEach (u, users) {
    const char *id = imp_jstr(u, "id"), *email = imp_jstr(u, "email"), *name = imp_jstr(u, "name");
    if (!cJSON_IsObject(u) || !id) {
      r->error = "a user without an id: not a PagerDuty users list";
      return KX_EINVAL;
    }
    size_t before = r->n_people;
    int rc = imp_add_person(r, id, name, email);
    if (rc)
      return rc;
    if (r->n_people == before)
      continue; /* left out, reported */
    struct imp_person *p = &r->people[before];
    const cJSON *cms = cJSON_GetObjectItemCaseSensitive(u, "contact_methods");
    if (cJSON_IsArray(cms))
      p->phone = pd_phone(cms);
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(u, "notification_rules");
    if (cJSON_GetArraySize(rules) > 0)
      imp_report(r,
                 "user %s (%s): PagerDuty notification rules not carried over: set notify: "
                 "in people (docs/paging.md)",
                 id, p->id);
  }
  return 0;
}

/* The users of a layer, as klaxon ids; unknown users reported and left out. */
static int layer_users(
    struct imp_result *r, const char *sched, const cJSON *layer, char ***out, size_t *n_out)
{
  int bad = 0;
  const cJSON *users = imp_jarr(layer, "users", IMP_MAX_LAYER_USERS, &bad);
  if (bad) {
    r->error = bad == KX_ETOOBIG ? "a schedule layer with too many users (the cap is "
                                   "IMP_MAX_LAYER_USERS, 500)"
                                 : "a schedule layer whose users are not a list";
    return bad;
  }
  *out = calloc((size_t)cJSON_GetArraySize(users) + 1, sizeof **out);
  if (!*out)
    return KX_ENOMEM;
  const cJSON *e;
  cJSON_ArrayForEach (e, users) {
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(e, "user");
    const char *uid = imp_jstr(u ? u : e, "id");
    const char *pid = imp_person_for(r, uid);
    if (!pid) {
      imp_report(r, "schedule %s: user %s is not among the exported users, left out of the rota",
                 sched, uid ? uid : "?");
      continue;
    }
    if (!((*out)[(*n_out)++] = strdup(pid)))
      return KX_ENOMEM;
  }
  return 0;
}

static void describe_restriction(struct imp_result *r,
                                 const char *sched,
                                 const char *layer,
                                 const cJSON *x)
{
  static const char *const days[] = {"?",        "Monday", "Tuesday",  "Wednesday",
                                     "Thursday", "Friday", "Saturday", "Sunday"};
  const char *type = imp_jstr(x, "type"), *tod = imp_jstr(x, "start_time_of_day");
  const cJSON *dur = cJSON_GetObjectItemCaseSensitive(x, "duration_seconds");
  const cJSON *day = cJSON_GetObjectItemCaseSensitive(x, "start_day_of_week");
  double h = cJSON_IsNumber(dur) ? dur->valuedouble / 3600.0 : 0;
  int d = cJSON_IsNumber(day) && day->valuedouble >= 1 && day->valuedouble <= 7
              ? (int)day->valuedouble
              : 0;
  if (type && strcmp(type, "weekly_restriction") == 0)
    imp_report(r,
               "schedule %s, layer %s: restricted to %.1fh from %s %s each week; klaxon shifts "
               "run around the clock, so the layer is on call all week in klaxon",
               sched, layer, h, days[d], tod ? tod : "?");
  else
    imp_report(r,
               "schedule %s, layer %s: restricted to %.1fh from %s each day; klaxon shifts run "
               "around the clock, so the layer is on call all day in klaxon",
               sched, layer, h, tod ? tod : "?");
}

/* Handoff, shift and start from layer 0's rotation. */
static int pd_rhythm(struct imp_result *r,
                     struct imp_rota *o,
                     const cJSON *layer,
                     const char *lname)
{
  const char *vs = imp_jstr(layer, "rotation_virtual_start");
  const cJSON *turn = cJSON_GetObjectItemCaseSensitive(layer, "rotation_turn_length_seconds");
  int64_t at;
  struct kx_local l;
  if (!vs || time_parse_rfc3339(vs, &at) != 0 || !cJSON_IsNumber(turn) || turn->valuedouble < 1 ||
      tz_to_local(o->timezone, at, &l) != 0) {
    imp_report(r,
               "schedule %s, layer %s: no usable rotation_virtual_start and "
               "rotation_turn_length_seconds, schedule left out",
               o->vendor_id, lname);
    return KX_ENOTFOUND;
  }
  double secs = turn->valuedouble;
  double dd = secs / 86400.0 + 0.5;
  long days = dd < 1 ? 1 : dd > 366 ? 366 : (long)dd; /* clamped before the cast */
  if (secs != (double)days * 86400.0)
    imp_report(r,
               "schedule %s, layer %s: a rotation of %.0fh cannot be carried over (klaxon shifts "
               "are whole days, 1d to 366d): shifts of %ldd instead",
               o->vendor_id, lname, secs / 3600.0, days);
  o->shift_days = (int)days;
  o->handoff_minute = l.hh * 60 + l.mm;
  o->handoff_wday = l.wday;
  o->start = (struct kx_date){l.y, l.m, l.d};
  if (l.ss)
    imp_report(r, "schedule %s, layer %s: handoff at %02d:%02d:%02d, seconds dropped", o->vendor_id,
               lname, l.hh, l.mm, l.ss);
  if (days % 7 == 0 && (l.wday == 0 || l.wday == 6))
    imp_report(r,
               "schedule %s, layer %s: handoffs on a %s; klaxon moves weekly handoffs off the "
               "weekend to the Monday (docs/rota-rules.md)",
               o->vendor_id, lname, l.wday == 0 ? "Sunday" : "Saturday");
  return 0;
}

static int pd_entries(struct imp_result *r, struct imp_rota *o, const cJSON *sch)
{
  const cJSON *fin = cJSON_GetObjectItemCaseSensitive(sch, "final_schedule");
  int bad = 0;
  const cJSON *ents = imp_jarr(fin, "rendered_schedule_entries", IMP_MAX_ENTRIES, &bad);
  if (bad) {
    r->error =
        "final_schedule.rendered_schedule_entries is not a list or holds more than "
        "IMP_MAX_ENTRIES (5000) entries";
    return bad;
  }
  o->entries = calloc((size_t)cJSON_GetArraySize(ents) + 1, sizeof *o->entries);
  if (!o->entries)
    return KX_ENOMEM;
  const cJSON *e;
  cJSON_ArrayForEach (e, ents) {
    struct imp_entry *x = &o->entries[o->n_entries];
    const char *s = imp_jstr(e, "start"), *t = imp_jstr(e, "end");
    const char *uid = imp_jstr(cJSON_GetObjectItemCaseSensitive(e, "user"), "id");
    if (!s || !t || time_parse_rfc3339(s, &x->from_ms) || time_parse_rfc3339(t, &x->to_ms) ||
        x->to_ms <= x->from_ms) {
      imp_report(r,
                 "schedule %s: a final_schedule entry without a usable start and end, not "
                 "compared",
                 o->vendor_id);
      continue;
    }
    x->vendor_user = imp_dup(uid ? uid : "?");
    x->person = imp_dup(imp_person_for(r, uid));
    if (!x->vendor_user)
      return KX_ENOMEM;
    o->n_entries++;
  }
  return 0;
}

static int pd_schedule(struct imp_result *r, const cJSON *sch)
{
  const char *id = imp_jstr(sch, "id"), *name = imp_jstr(sch, "name"),
             *tz = imp_jstr(sch, "time_zone");
  int bad = 0;
  const cJSON *layers = imp_jarr(sch, "schedule_layers", IMP_MAX_LAYERS, &bad);
  if (!cJSON_IsObject(sch) || !id || bad == KX_EINVAL) {
    r->error =
        "a schedule without an id or with schedule_layers that are not a list: not a "
        "PagerDuty schedule";
    return KX_EINVAL;
  }
  if (bad) {
    r->error =
        "a schedule has more layers than klaxon reads (the cap is IMP_MAX_LAYERS, 50); "
        "nothing imported";
    return bad;
  }
  int n_layers = cJSON_GetArraySize(layers);
  if (n_layers == 0) {
    imp_report(r, "schedule %s (%s): no schedule_layers in the export, left out", id,
               name ? name : "?");
    return 0;
  }
  struct imp_rota *o = &r->rotas[r->n_rotas];
  o->vendor_id = strdup(id);
  o->vendor_name = imp_dup(name);
  if (tz && !tz_valid(tz))
    imp_report(r, "schedule %s: time zone %s unknown here, UTC used", id, tz);
  o->timezone = strdup(tz && tz_valid(tz) ? tz : "UTC");
  o->name = imp_rota_name(r, name ? name : id);
  r->n_rotas++; /* owned by r from here, freed with it */
  if (!o->vendor_id || !o->timezone || !o->name)
    return KX_ENOMEM;
  for (int i = 0; i < n_layers; i++) {
    const cJSON *ly = cJSON_GetArrayItem(layers, i);
    const char *ln = imp_jstr(ly, "name") ? imp_jstr(ly, "name") : "?";
    int nb = 0;
    const cJSON *res = imp_jarr(ly, "restrictions", 100, &nb);
    const cJSON *x;
    cJSON_ArrayForEach (x, res)
      describe_restriction(r, id, ln, x);
    if (imp_jstr(ly, "end"))
      imp_report(r, "schedule %s, layer %s: ends %s; klaxon rotas do not end", id, ln,
                 imp_jstr(ly, "end"));
    if (i >= 2)
      imp_report(r,
                 "schedule %s, layer %s: klaxon has a primary and a secondary, so layer "
                 "%d is left out",
                 id, ln, i + 1);
  }
  const cJSON *l0 = cJSON_GetArrayItem(layers, 0);
  const char *l0n = imp_jstr(l0, "name") ? imp_jstr(l0, "name") : "1";
  int rc = pd_rhythm(r, o, l0, l0n);
  if (rc == 0)
    rc = layer_users(r, id, l0, &o->primary, &o->n_primary);
  if (rc == 0 && n_layers >= 2) {
    const cJSON *l1 = cJSON_GetArrayItem(layers, 1);
    rc = layer_users(r, id, l1, &o->secondary, &o->n_secondary);
    imp_report(r,
               "schedule %s, layer %s: became the secondary (PagerDuty stacks layers, the higher "
               "one on call where it has someone; klaxon pages primary, then secondary)",
               id, imp_jstr(l1, "name") ? imp_jstr(l1, "name") : "2");
    const cJSON *t0 = cJSON_GetObjectItemCaseSensitive(l0, "rotation_turn_length_seconds");
    const cJSON *t1 = cJSON_GetObjectItemCaseSensitive(l1, "rotation_turn_length_seconds");
    const char *v0 = imp_jstr(l0, "rotation_virtual_start"),
               *v1 = imp_jstr(l1, "rotation_virtual_start");
    if (!cJSON_IsNumber(t0) || !cJSON_IsNumber(t1) || t0->valuedouble != t1->valuedouble || !v0 ||
        !v1 || strcmp(v0, v1) != 0)
      imp_report(r,
                 "schedule %s: layer 2 rotates on its own rhythm; in klaxon the secondary list "
                 "hands over with the primary",
                 id);
  }
  const cJSON *ov = cJSON_GetObjectItemCaseSensitive(sch, "overrides_subschedule");
  int n_ov = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ov, "rendered_schedule_entries"));
  if (n_ov > 0)
    imp_report(r,
               "schedule %s: %d overrides not carried over (overrides are klaxon runtime state: "
               "/oncall override)",
               id, n_ov);
  if (rc == 0)
    rc = pd_entries(r, o, sch);
  if (rc == 0 && o->n_primary == 0) {
    imp_report(r, "schedule %s: no exported user in its first layer, left out", id);
    rc = KX_ENOTFOUND;
  }
  if (rc == 0)
    rc = imp_rota_settle(r, o);
  if (rc == KX_ENOTFOUND) {
    r->n_rotas--;
    imp_rota_free(o);
    return 0;
  }
  return rc;
}

static int pd_rule_targets(
    struct imp_result *r, struct imp_policy *p, const cJSON *rule, int after, int rn)
{
  int bad = 0;
  const cJSON *targets = imp_jarr(rule, "targets", IMP_MAX_TARGETS, &bad);
  if (bad) {
    r->error = "an escalation rule's targets are not a list or more than IMP_MAX_TARGETS (50)";
    return bad;
  }
  const cJSON *t;
  cJSON_ArrayForEach (t, targets) {
    const char *type = imp_jstr(t, "type"), *tid = imp_jstr(t, "id");
    if (!type || !tid)
      continue;
    if (strncmp(type, "user", 4) == 0) {
      const char *pid = imp_person_for(r, tid);
      if (pid) {
        if (imp_add_step(p, after, pid))
          return KX_ENOMEM;
      } else {
        imp_report(r,
                   "escalation policy %s, rule %d: user %s is not among the exported users, "
                   "left out",
                   p->vendor_id, rn, tid);
      }
    } else if (strncmp(type, "schedule", 8) == 0) {
      const char *rota = imp_rota_for(r, tid);
      if (!rota) {
        imp_report(r, "escalation policy %s, rule %d: schedule %s was not imported, left out",
                   p->vendor_id, rn, tid);
      } else if (!p->rota || strcmp(p->rota, rota) == 0) {
        if (!p->rota && !(p->rota = strdup(rota)))
          return KX_ENOMEM;
        if (imp_add_step(p, after, "primary"))
          return KX_ENOMEM;
      } else {
        imp_report(r,
                   "escalation policy %s, rule %d: a klaxon page goes to one rota (%s), so "
                   "schedule %s (rota %s) is left out; page it with its own route",
                   p->vendor_id, rn, p->rota, tid, rota);
      }
    } else {
      imp_report(r, "escalation policy %s, rule %d: target type %s not carried over", p->vendor_id,
                 rn, type);
    }
  }
  return 0;
}

static int pd_policy(struct imp_result *r, const cJSON *ep)
{
  const char *id = imp_jstr(ep, "id"), *name = imp_jstr(ep, "name");
  int bad = 0;
  const cJSON *rules = imp_jarr(ep, "escalation_rules", IMP_MAX_RULES, &bad);
  if (!cJSON_IsObject(ep) || !id || bad) {
    r->error = bad == KX_ETOOBIG
                   ? "an escalation policy with more than IMP_MAX_RULES (50) rules"
                   : "an escalation policy without an id or rules that are not a list";
    return bad ? bad : KX_EINVAL;
  }
  struct imp_policy *p = &r->policies[r->n_policies];
  int n_rules = cJSON_GetArraySize(rules);
  p->steps = calloc((size_t)n_rules * IMP_MAX_TARGETS + 1, sizeof *p->steps);
  p->vendor_id = strdup(id);
  p->name = imp_policy_name(r, name ? name : id);
  r->n_policies++;
  if (!p->steps || !p->vendor_id || !p->name)
    return KX_ENOMEM;
  const cJSON *loops = cJSON_GetObjectItemCaseSensitive(ep, "num_loops");
  if (cJSON_IsNumber(loops) && loops->valuedouble > 0)
    p->repeat = loops->valuedouble > 100 ? 100 : (int)loops->valuedouble;
  if (cJSON_IsNumber(loops) && loops->valuedouble > 100)
    imp_report(r, "escalation policy %s: %d loops, klaxon repeats at most 100 times", id,
               (int)loops->valuedouble);
  int after = 0, rn = 0;
  const cJSON *rule;
  cJSON_ArrayForEach (rule, rules) {
    rn++;
    int rc = pd_rule_targets(r, p, rule, after, rn);
    if (rc)
      return rc;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(rule, "escalation_delay_in_minutes");
    if (cJSON_IsNumber(d) && d->valuedouble > 0 && d->valuedouble < 100000)
      after += (int)d->valuedouble;
  }
  if (p->n_steps == 0) {
    imp_report(r, "escalation policy %s (%s): no target could be carried over, left out", id,
               name ? name : "?");
    struct imp_policy gone = *p;
    r->n_policies--;
    free(gone.name), free(gone.vendor_id), free(gone.rota), free(gone.steps);
    memset(p, 0, sizeof *p);
  }
  return 0;
}

static int pd_service(struct imp_result *r, const cJSON *sv)
{
  const char *id = imp_jstr(sv, "id"), *name = imp_jstr(sv, "name");
  if (!cJSON_IsObject(sv) || !id) {
    r->error = "a service without an id: not a PagerDuty services list";
    return KX_EINVAL;
  }
  const char *epid = imp_jstr(cJSON_GetObjectItemCaseSensitive(sv, "escalation_policy"), "id");
  const struct imp_policy *p = imp_policy_for(r, epid);
  struct imp_route *o = &r->routes[r->n_routes];
  char *slug = imp_slug(name ? name : id, 0);
  if (!slug)
    return KX_ENOMEM;
  o->label = "routing_key_env";
  o->key_env = malloc(strlen(slug) + 24);
  if (!o->key_env)
    return free(slug), KX_ENOMEM;
  char *k = o->key_env + sprintf(o->key_env, "PD_KEY_");
  for (const char *s = slug; *s; s++) {
    char c = *s;
    if (c == '-')
      c = '_';
    else if (c >= 'a' && c <= 'z')
      c = (char)(c - 'a' + 'A');
    *k++ = c;
  }
  *k = '\0';
  free(slug);
  for (size_t i = 0; i < r->n_routes; i++)
    if (strcmp(r->routes[i].key_env, o->key_env) == 0)
      sprintf(k, "_%zu", r->n_routes + 1);
  o->service = malloc(strlen(id) + (name ? strlen(name) : 0) + 12);
  if (o->service)
    sprintf(o->service, "service %s %s", id, name ? name : "");
  r->n_routes++;
  if (!o->service)
    return KX_ENOMEM;
  if (p)
    o->policy = strdup(p->name);
  else
    imp_report(r, "service %s: escalation policy %s was not imported, the route pages without one",
               id, epid ? epid : "(none)");
  const char *rota = p && p->rota ? p->rota : r->rotas[0].name;
  if (p && !p->rota)
    imp_report(r,
               "service %s: its escalation policy names no imported schedule; the route pages "
               "rota %s",
               id, rota);
  o->rota = strdup(rota);
  if (!o->rota || (p && !o->policy))
    return KX_ENOMEM;
  const char *status = imp_jstr(sv, "status");
  if (status && strcmp(status, "disabled") == 0)
    imp_report(r, "service %s: disabled in PagerDuty, imported as a route anyway", id);
  if (cJSON_GetObjectItemCaseSensitive(sv, "support_hours"))
    imp_report(r,
               "service %s: support hours and urgency rules not carried over (see severities "
               "and rotas' hours:)",
               id);
  return 0;
}

/* The known lists; anything else at the top level except pagination is an unknown shape. */
static int pd_shape(const cJSON *root, struct imp_result *r)
{
  static const char *const known[] = {"users",    "schedules", "schedule", "escalation_policies",
                                      "services", "limit",     "offset",   "more",
                                      "total",    NULL};
  if (!cJSON_IsObject(root)) {
    r->error =
        "not a PagerDuty export: expected a JSON object with users, schedules, "
        "escalation_policies and services";
    return KX_EINVAL;
  }
  const cJSON *c;
  int lists = 0;
  cJSON_ArrayForEach (c, root) {
    int ok = 0;
    for (int i = 0; known[i]; i++)
      if (c->string && strcmp(c->string, known[i]) == 0)
        ok = i < 5 ? 2 : 1;
    if (!ok) {
      r->error =
          "not a PagerDuty export: an unknown top-level key (expected users, schedules, "
          "escalation_policies, services)";
      return KX_EINVAL;
    }
    lists += ok == 2;
  }
  if (!lists) {
    r->error = "not a PagerDuty export: none of users, schedules, escalation_policies, services";
    return KX_EINVAL;
  }
  return 0;
}

int imp_pagerduty(const cJSON *root, struct imp_result *r)
{
  memset(r, 0, sizeof *r);
  buf_init(&r->report, IMP_MAX_REPORT_BYTES);
  int rc = pd_shape(root, r), bad = 0;
  if (rc)
    return rc;
  const cJSON *users = imp_jarr(root, "users", IMP_MAX_ITEMS, &bad);
  const cJSON *scheds = imp_jarr(root, "schedules", IMP_MAX_ITEMS, &bad);
  const cJSON *eps = imp_jarr(root, "escalation_policies", IMP_MAX_ITEMS, &bad);
  const cJSON *svcs = imp_jarr(root, "services", IMP_MAX_ITEMS, &bad);
  const cJSON *one = cJSON_GetObjectItemCaseSensitive(root, "schedule");
  if (bad || (one && !cJSON_IsObject(one))) {
    r->error = bad == KX_ETOOBIG ? "an export list holds more than IMP_MAX_ITEMS (2000) items"
                                 : "not a PagerDuty export: users, schedules, escalation_policies "
                                   "and services must be lists";
    return bad ? bad : KX_EINVAL;
  }
  size_t n_s = (size_t)cJSON_GetArraySize(scheds) + (one ? 1 : 0);
  r->rotas = calloc(n_s + 1, sizeof *r->rotas);
  r->policies = calloc((size_t)cJSON_GetArraySize(eps) + 1, sizeof *r->policies);
  r->routes = calloc((size_t)cJSON_GetArraySize(svcs) + 1, sizeof *r->routes);
  if (!r->rotas || !r->policies || !r->routes)
    return KX_ENOMEM;
  if (users && (rc = pd_users(users, r)))
    return rc;
  if (r->n_people == 0) {
    r->error = "nothing to import: no user with an email (export GET /users as users.json)";
    return KX_ENOTFOUND;
  }
  const cJSON *s;
  cJSON_ArrayForEach (s, scheds)
    if ((rc = pd_schedule(r, s)))
      return rc;
  if (one && (rc = pd_schedule(r, one)))
    return rc;
  if (r->n_rotas == 0) {
    r->error =
        "nothing to import: no schedule could be carried over (export GET /schedules "
        "with its layers as schedules.json)";
    return KX_ENOTFOUND;
  }
  r->timezone = strdup(r->rotas[0].timezone ? r->rotas[0].timezone : "UTC");
  if (!r->timezone)
    return KX_ENOMEM;
  cJSON_ArrayForEach (s, eps)
    if ((rc = pd_policy(r, s)))
      return rc;
  cJSON_ArrayForEach (s, svcs)
    if ((rc = pd_service(r, s)))
      return rc;
  if (r->report.data == NULL && buf_puts(&r->report, ""))
    return KX_ENOMEM;
  return 0;
}
