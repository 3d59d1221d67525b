/*
 * import_og.c — Opsgenie exports (the v2 list responses' "data" arrays: GET /v2/users,
 * /v2/schedules?expand=rotation, /v2/escalations, /v2/teams) mapped onto klaxon's config. The
 * shapes are those of Opsgenie's OpenAPI definitions (github.com/opsgenie/opsgenie-oas,
 * definitions/user.yaml, schedule.yaml, scheduleRotation.yaml, escalation.yaml, team.yaml,
 * common.yaml); tests/fixtures/opsgenie_import/README.md says how the fixtures were made.
 * Opsgenie's list responses carry no rendered timeline, so there is nothing to compare.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/import/import.h"
#include "commands/import/import_internal.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

static int og_users(const cJSON *users, struct imp_result *r)
{
  const cJSON *u;
  cJSON_ArrayForEach (u, users) {
    const char *id = imp_jstr(u, "id");
    if (!cJSON_IsObject(u) || !id) {
      r->error = "a user without an id: not an Opsgenie users list";
      return KX_EINVAL;
    }
    /* username is the login, an email address */
    int rc = imp_add_person(r, id, imp_jstr(u, "fullName"), imp_jstr(u, "username"));
    if (rc)
      return rc;
  }
  return 0;
}

/* A participant's klaxon id: by id, else by username (the email). */
static const char *og_participant(const struct imp_result *r, const cJSON *p)
{
  const char *pid = imp_person_for(r, imp_jstr(p, "id"));
  const char *un = imp_jstr(p, "username");
  for (size_t i = 0; !pid && un && i < r->n_people; i++)
    if (strcmp(r->people[i].email, un) == 0)
      pid = r->people[i].id;
  return pid;
}

static int og_participants(
    struct imp_result *r, const char *sched, const cJSON *rot, char ***out, size_t *n_out)
{
  int bad = 0;
  const cJSON *ps = imp_jarr(rot, "participants", IMP_MAX_LAYER_USERS, &bad);
  if (bad) {
    r->error = bad == KX_ETOOBIG
                   ? "a rotation with more than IMP_MAX_LAYER_USERS (500) participants"
                   : "a rotation whose participants are not a list";
    return bad;
  }
  *out = calloc((size_t)cJSON_GetArraySize(ps) + 1, sizeof **out);
  if (!*out)
    return KX_ENOMEM;
  const cJSON *p;
  cJSON_ArrayForEach (p, ps) {
    const char *type = imp_jstr(p, "type");
    const char *pid = type && strcmp(type, "user") == 0 ? og_participant(r, p) : NULL;
    if (!pid) {
      const char *who = imp_jstr(p, "username") ? imp_jstr(p, "username") : imp_jstr(p, "id");
      imp_report(r,
                 "schedule %s: participant %s%s%s cannot be carried over (klaxon rotates people "
                 "only; a 'none' turn means nobody on call), left out",
                 sched, type ? type : "?", who ? " " : "", who ? who : "");
      continue;
    }
    if (!((*out)[(*n_out)++] = strdup(pid)))
      return KX_ENOMEM;
  }
  return 0;
}

static int og_rhythm(struct imp_result *r, struct imp_rota *o, const cJSON *rot, const char *rn)
{
  const char *sd = imp_jstr(rot, "startDate"), *type = imp_jstr(rot, "type");
  const cJSON *len = cJSON_GetObjectItemCaseSensitive(rot, "length");
  double n = cJSON_IsNumber(len) && len->valuedouble >= 1 ? len->valuedouble : 1;
  int64_t at;
  struct kx_local l;
  if (!sd || !type || time_parse_rfc3339(sd, &at) || tz_to_local(o->timezone, at, &l) ||
      (strcmp(type, "daily") != 0 && strcmp(type, "weekly") != 0 && strcmp(type, "hourly") != 0)) {
    imp_report(r, "schedule %s, rotation %s: no usable startDate and type, schedule left out",
               o->vendor_id, rn);
    return KX_ENOTFOUND;
  }
  double days = strcmp(type, "weekly") == 0 ? 7 * n : strcmp(type, "daily") == 0 ? n : n / 24.0;
  long d = days + 0.5 < 1 ? 1 : days + 0.5 > 366 ? 366 : (long)(days + 0.5); /* clamped first */
  if (days != (double)d)
    imp_report(r,
               "schedule %s, rotation %s: a rotation of %.0fh cannot be carried over (klaxon "
               "shifts are whole days, 1d to 366d): shifts of %ldd instead",
               o->vendor_id, rn, days * 24, d);
  o->shift_days = (int)d;
  o->handoff_minute = l.hh * 60 + l.mm;
  o->handoff_wday = l.wday;
  o->start = (struct kx_date){l.y, l.m, l.d};
  if (d % 7 == 0 && (l.wday == 0 || l.wday == 6))
    imp_report(r,
               "schedule %s, rotation %s: handoffs on a %s; klaxon moves weekly handoffs off the "
               "weekend to the Monday (docs/rota-rules.md)",
               o->vendor_id, rn, l.wday == 0 ? "Sunday" : "Saturday");
  return 0;
}

static void og_rotation_notes(struct imp_result *r, const char *sched, const cJSON *rot, int i)
{
  const char *rn = imp_jstr(rot, "name") ? imp_jstr(rot, "name") : "?";
  const cJSON *tr = cJSON_GetObjectItemCaseSensitive(rot, "timeRestriction");
  if (cJSON_IsObject(tr))
    imp_report(r,
               "schedule %s, rotation %s: restricted (%s); klaxon shifts run around the clock, "
               "so the rotation is on call at all hours in klaxon",
               sched, rn, imp_jstr(tr, "type") ? imp_jstr(tr, "type") : "?");
  if (imp_jstr(rot, "endDate"))
    imp_report(r, "schedule %s, rotation %s: ends %s; klaxon rotas do not end", sched, rn,
               imp_jstr(rot, "endDate"));
  if (i == 1)
    imp_report(r,
               "schedule %s, rotation %s: became the secondary (Opsgenie stacks rotations, the "
               "last on call where it has someone; klaxon pages primary, then secondary)",
               sched, rn);
  if (i >= 2)
    imp_report(r,
               "schedule %s, rotation %s: klaxon has a primary and a secondary, so rotation %d "
               "is left out",
               sched, rn, i + 1);
}

static int og_schedule(struct imp_result *r, const cJSON *sch)
{
  const char *id = imp_jstr(sch, "id"), *name = imp_jstr(sch, "name");
  const char *tz = imp_jstr(sch, "timezone");
  int bad = 0;
  const cJSON *rots = imp_jarr(sch, "rotations", IMP_MAX_LAYERS, &bad);
  if (!cJSON_IsObject(sch) || !id || bad == KX_EINVAL) {
    r->error =
        "a schedule without an id or with rotations that are not a list: not an Opsgenie "
        "schedule";
    return KX_EINVAL;
  }
  if (bad) {
    r->error =
        "a schedule has more rotations than klaxon reads (the cap is IMP_MAX_LAYERS, 50); "
        "nothing imported";
    return bad;
  }
  int n = cJSON_GetArraySize(rots);
  if (n == 0) {
    imp_report(r,
               "schedule %s (%s): no rotations in the export (list with expand=rotation), left "
               "out",
               id, name ? name : "?");
    return 0;
  }
  const cJSON *en = cJSON_GetObjectItemCaseSensitive(sch, "enabled");
  if (cJSON_IsFalse(en))
    imp_report(r, "schedule %s: disabled in Opsgenie, imported anyway", id);
  struct imp_rota *o = &r->rotas[r->n_rotas];
  o->vendor_id = strdup(id);
  o->vendor_name = imp_dup(name);
  if (tz && !tz_valid(tz))
    imp_report(r, "schedule %s: time zone %s unknown here, UTC used", id, tz);
  o->timezone = strdup(tz && tz_valid(tz) ? tz : "UTC");
  o->name = imp_rota_name(r, name ? name : id);
  r->n_rotas++;
  if (!o->vendor_id || !o->timezone || !o->name)
    return KX_ENOMEM;
  for (int i = 0; i < n; i++)
    og_rotation_notes(r, id, cJSON_GetArrayItem(rots, i), i);
  const cJSON *r0 = cJSON_GetArrayItem(rots, 0);
  int rc = og_rhythm(r, o, r0, imp_jstr(r0, "name") ? imp_jstr(r0, "name") : "1");
  if (rc == 0)
    rc = og_participants(r, id, r0, &o->primary, &o->n_primary);
  const cJSON *r1 = cJSON_GetArrayItem(rots, 1);
  if (r1 && !(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(r0, "type"),
                            cJSON_GetObjectItemCaseSensitive(r1, "type"), 1) &&
              cJSON_Compare(cJSON_GetObjectItemCaseSensitive(r0, "length"),
                            cJSON_GetObjectItemCaseSensitive(r1, "length"), 1) &&
              cJSON_Compare(cJSON_GetObjectItemCaseSensitive(r0, "startDate"),
                            cJSON_GetObjectItemCaseSensitive(r1, "startDate"), 1)))
    imp_report(
        r,
        "schedule %s: rotation 2 turns on its own rhythm (%s, length %d); in klaxon the "
        "secondary list hands over with the primary",
        id, imp_jstr(r1, "type") ? imp_jstr(r1, "type") : "?",
        cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r1, "length"))
            ? (int)fmin(fmax(cJSON_GetObjectItemCaseSensitive(r1, "length")->valuedouble, 0), 1e6)
            : 1);
  if (rc == 0 && n >= 2)
    rc = og_participants(r, id, cJSON_GetArrayItem(rots, 1), &o->secondary, &o->n_secondary);
  if (rc == 0 && o->n_primary == 0) {
    imp_report(r, "schedule %s: no exported user in its first rotation, left out", id);
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

static int og_minutes(const cJSON *delay)
{
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(delay, "timeAmount");
  const char *u = imp_jstr(delay, "timeUnit");
  double v = cJSON_IsNumber(a) && a->valuedouble > 0 ? a->valuedouble : 0;
  if (u && strcmp(u, "hours") == 0)
    v *= 60;
  else if (u && strcmp(u, "days") == 0)
    v *= 1440;
  else if (u && strcmp(u, "seconds") == 0)
    v /= 60;
  else if (u && strcmp(u, "minutes") != 0)
    v = 0; /* milli/micro/nanoseconds: at once */
  return v > 100000 ? 100000 : (int)v;
}

static int og_rule(struct imp_result *r, struct imp_policy *p, const cJSON *rule, int rn)
{
  const cJSON *rc_ = cJSON_GetObjectItemCaseSensitive(rule, "recipient");
  const char *type = imp_jstr(rc_, "type"), *cond = imp_jstr(rule, "condition");
  const char *nt = imp_jstr(rule, "notifyType");
  int after = og_minutes(cJSON_GetObjectItemCaseSensitive(rule, "delay"));
  if (cond && strcmp(cond, "if-not-closed") == 0)
    imp_report(r,
               "escalation %s, rule %d: if-not-closed becomes if-not-acknowledged (klaxon stops "
               "escalating on acknowledge)",
               p->vendor_id, rn);
  if (type && strcmp(type, "user") == 0) {
    const char *pid = og_participant(r, rc_);
    if (pid)
      return imp_add_step(p, after, pid);
    imp_report(r, "escalation %s, rule %d: user %s is not among the exported users, left out",
               p->vendor_id, rn, imp_jstr(rc_, "id") ? imp_jstr(rc_, "id") : "?");
    return 0;
  }
  if (type && strcmp(type, "schedule") == 0) {
    const char *rota = imp_rota_for(r, imp_jstr(rc_, "id"));
    for (size_t i = 0; !rota && imp_jstr(rc_, "name") && i < r->n_rotas; i++)
      if (r->rotas[i].vendor_name && strcmp(r->rotas[i].vendor_name, imp_jstr(rc_, "name")) == 0)
        rota = r->rotas[i].name;
    if (!rota) {
      imp_report(r, "escalation %s, rule %d: schedule %s was not imported, left out", p->vendor_id,
                 rn, imp_jstr(rc_, "id") ? imp_jstr(rc_, "id") : "?");
      return 0;
    }
    if (p->rota && strcmp(p->rota, rota) != 0) {
      imp_report(r,
                 "escalation %s, rule %d: a klaxon page goes to one rota (%s), so rota %s is "
                 "left out",
                 p->vendor_id, rn, p->rota, rota);
      return 0;
    }
    if (!p->rota && !(p->rota = strdup(rota)))
      return KX_ENOMEM;
    const char *who = nt && strcmp(nt, "next") == 0 ? "secondary" : "primary";
    if (nt && strcmp(nt, "default") != 0 && strcmp(nt, "next") != 0)
      imp_report(r, "escalation %s, rule %d: notifyType %s becomes the primary", p->vendor_id, rn,
                 nt);
    return imp_add_step(p, after, who);
  }
  imp_report(r, "escalation %s, rule %d: recipient type %s not carried over", p->vendor_id, rn,
             type ? type : "?");
  return 0;
}

static int by_after(const void *a, const void *b)
{
  const struct imp_step *x = a, *y = b;
  return (x->after_min > y->after_min) - (x->after_min < y->after_min);
}

static int og_escalation(struct imp_result *r, const cJSON *es)
{
  const char *id = imp_jstr(es, "id"), *name = imp_jstr(es, "name");
  int bad = 0;
  const cJSON *rules = imp_jarr(es, "rules", IMP_MAX_RULES, &bad);
  if (!cJSON_IsObject(es) || !id || bad) {
    r->error = bad == KX_ETOOBIG ? "an escalation with more than IMP_MAX_RULES (50) rules"
                                 : "an escalation without an id or rules that are not a list";
    return bad ? bad : KX_EINVAL;
  }
  struct imp_policy *p = &r->policies[r->n_policies];
  p->steps = calloc((size_t)cJSON_GetArraySize(rules) + 1, sizeof *p->steps);
  p->vendor_id = strdup(id);
  p->name = imp_policy_name(r, name ? name : id);
  r->n_policies++;
  if (!p->steps || !p->vendor_id || !p->name)
    return KX_ENOMEM;
  const cJSON *rep =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(es, "repeat"), "count");
  if (cJSON_IsNumber(rep) && rep->valuedouble > 0)
    p->repeat = rep->valuedouble > 100 ? 100 : (int)rep->valuedouble;
  int rn = 0;
  const cJSON *rule;
  cJSON_ArrayForEach (rule, rules) {
    int rc = og_rule(r, p, rule, ++rn);
    if (rc)
      return rc;
  }
  /* Opsgenie counts every rule's delay from the alert: `after` is that delay, in order. */
  qsort(p->steps, p->n_steps, sizeof *p->steps, by_after);
  if (p->n_steps == 0) {
    imp_report(r, "escalation %s (%s): no recipient could be carried over, left out", id,
               name ? name : "?");
    r->n_policies--;
    free(p->name), free(p->vendor_id), free(p->rota), free(p->steps);
    memset(p, 0, sizeof *p);
  }
  return 0;
}

/* A team: a route for alerts labelled team=<slug>, to the rota and escalation the team owns. */
static int og_team(struct imp_result *r, const cJSON *tm, const cJSON *scheds, const cJSON *escs)
{
  const char *id = imp_jstr(tm, "id"), *name = imp_jstr(tm, "name");
  if (!cJSON_IsObject(tm) || !id) {
    r->error = "a team without an id: not an Opsgenie teams list";
    return KX_EINVAL;
  }
  const char *rota = NULL, *policy = NULL;
  const cJSON *x;
  cJSON_ArrayForEach (x, scheds) {
    const char *owner = imp_jstr(cJSON_GetObjectItemCaseSensitive(x, "ownerTeam"), "id");
    if (!rota && owner && strcmp(owner, id) == 0)
      rota = imp_rota_for(r, imp_jstr(x, "id"));
  }
  cJSON_ArrayForEach (x, escs) {
    const char *owner = imp_jstr(cJSON_GetObjectItemCaseSensitive(x, "ownerTeam"), "id");
    const struct imp_policy *p =
        owner && strcmp(owner, id) == 0 ? imp_policy_for(r, imp_jstr(x, "id")) : NULL;
    if (!policy && p)
      policy = p->name, rota = p->rota ? p->rota : rota;
  }
  if (!rota) {
    imp_report(r, "team %s (%s): owns no imported schedule; its route pages rota %s", id,
               name ? name : "?", r->rotas[0].name);
    rota = r->rotas[0].name;
  }
  struct imp_route *o = &r->routes[r->n_routes];
  o->label = "team";
  o->key_env = imp_slug(name ? name : id, 0);
  o->service = malloc(strlen(id) + (name ? strlen(name) : 0) + 8);
  if (o->service)
    sprintf(o->service, "team %s %s", id, name ? name : "");
  o->rota = strdup(rota);
  o->policy = imp_dup(policy);
  r->n_routes++;
  if (!o->key_env || !o->service || !o->rota || (policy && !o->policy))
    return KX_ENOMEM;
  return 0;
}

static int og_shape(const cJSON *root, struct imp_result *r)
{
  static const char *const known[] = {"users", "schedules", "escalations", "teams", NULL};
  if (!cJSON_IsObject(root)) {
    r->error =
        "not an Opsgenie export: expected a JSON object with users, schedules, escalations "
        "and teams";
    return KX_EINVAL;
  }
  const cJSON *c;
  cJSON_ArrayForEach (c, root) {
    int ok = 0;
    for (int i = 0; known[i]; i++)
      ok |= c->string && strcmp(c->string, known[i]) == 0;
    if (!ok || !cJSON_IsArray(c)) {
      r->error =
          "not an Opsgenie export: expected only the lists users, schedules, escalations "
          "and teams (each list response's data)";
      return KX_EINVAL;
    }
    if (cJSON_GetArraySize(c) > IMP_MAX_ITEMS) {
      r->error = "an export list holds more than IMP_MAX_ITEMS (2000) items";
      return KX_ETOOBIG;
    }
  }
  return 0;
}

int imp_opsgenie(const cJSON *root, struct imp_result *r)
{
  memset(r, 0, sizeof *r);
  buf_init(&r->report, IMP_MAX_REPORT_BYTES);
  int rc = og_shape(root, r);
  if (rc)
    return rc;
  const cJSON *users = cJSON_GetObjectItemCaseSensitive(root, "users");
  const cJSON *scheds = cJSON_GetObjectItemCaseSensitive(root, "schedules");
  const cJSON *escs = cJSON_GetObjectItemCaseSensitive(root, "escalations");
  const cJSON *teams = cJSON_GetObjectItemCaseSensitive(root, "teams");
  r->people = calloc((size_t)cJSON_GetArraySize(users) + 1, sizeof *r->people);
  r->rotas = calloc((size_t)cJSON_GetArraySize(scheds) + 1, sizeof *r->rotas);
  r->policies = calloc((size_t)cJSON_GetArraySize(escs) + 1, sizeof *r->policies);
  r->routes = calloc((size_t)cJSON_GetArraySize(teams) + 1, sizeof *r->routes);
  if (!r->people || !r->rotas || !r->policies || !r->routes)
    return KX_ENOMEM;
  if ((rc = og_users(users, r)))
    return rc;
  if (r->n_people == 0) {
    r->error = "nothing to import: no user with an email (export GET /v2/users as users.json)";
    return KX_ENOTFOUND;
  }
  const cJSON *x;
  cJSON_ArrayForEach (x, scheds)
    if ((rc = og_schedule(r, x)))
      return rc;
  if (r->n_rotas == 0) {
    r->error =
        "nothing to import: no schedule could be carried over (export GET "
        "/v2/schedules?expand=rotation as schedules.json)";
    return KX_ENOTFOUND;
  }
  if (!(r->timezone = strdup(r->rotas[0].timezone ? r->rotas[0].timezone : "UTC")))
    return KX_ENOMEM;
  cJSON_ArrayForEach (x, escs)
    if ((rc = og_escalation(r, x)))
      return rc;
  cJSON_ArrayForEach (x, teams)
    if ((rc = og_team(r, x, scheds, escs)))
      return rc;
  if (r->report.data == NULL && buf_puts(&r->report, ""))
    return KX_ENOMEM;
  return 0;
}
