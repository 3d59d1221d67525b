/*
 * config_rota.c — the `rotas` section: who is on call when (zone, handoff, shift, start),
 * who is in it (primary, secondary, shadow, manager, contacts) and its calendar (holidays,
 * business hours). The rules that use these values are in commands/rota.c.
 */
#include <stdlib.h>
#include <string.h>

#include "bot/config/config_load_internal.h"
#include "lib/timeutil.h"

#define MAX_SHIFT_DAYS 366

static const char *const ROTA_KEYS[] = {
    "name",    "timezone",  "handoff",   "shift",           "start",
    "primary", "secondary", "shadow",    "manager",         "holidays",
    "hours",   "contacts",  "usergroup", "handoff_channel", "tracker" /* issue 14 */,
    NULL};

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
  if (!cfg_str(L, val, CFG_P("%s: contacts.%s", w->who, cfg_show(key).s), &person))
    return;
  cfg_need_person(L, val, person, w->who, CFG_P("contact \"%s\"", cfg_show(key).s));
  struct contact *grown = cfg_grow(L, r->contacts, &w->alloc, r->n_contacts + 1, sizeof(*grown));
  if (!grown) {
    free(person);
    return;
  }
  r->contacts = grown;
  struct contact *ct = &r->contacts[r->n_contacts++];
  ct->person = person;
  if ((ct->role = cfg_dup(L, key)))
    cfg_names_add(L, &w->roles, ct->role, cfg_line(knode), r->n_contacts - 1);
}

static void rota_people(struct cfg_loader *L,
                        const struct cfg_obj *o,
                        const char *path,
                        const char *who,
                        struct rota *r)
{
  yaml_node_t *n;
  cfg_person_list(L, cfg_need(L, o, path, "primary", "(a list of person ids)"),
                  CFG_P("%s.primary", path), who, "primary", false, &r->primary, &r->n_primary);
  if ((n = cfg_get(o, "secondary")) && n->type == YAML_SEQUENCE_NODE) {
    cfg_person_list(L, n, CFG_P("%s.secondary", path), who, "secondary", false, &r->secondary,
                    &r->n_secondary);
    r->secondary_mode = SECONDARY_LIST;
  } else if (n) {
    char *id = NULL;
    if (cfg_str(L, n, CFG_P("%s.secondary", path), &id) && strcmp(id, "next") == 0) {
      r->secondary_mode = SECONDARY_NEXT;
      free(id);
      if (r->n_primary == 1)
        cfg_problem(L, cfg_line(n),
                    "%s: secondary: next needs at least two people in primary (with one, they "
                    "would be their own secondary)",
                    who);
    } else if (id && !(r->secondary = calloc(1, sizeof(char *)))) {
      free(id);
      cfg_oom(L);
    } else if (id) {
      r->secondary_mode = SECONDARY_FIXED;
      r->secondary[r->n_secondary++] = id;
      cfg_need_person(L, n, id, who, "secondary");
    }
  }
  if ((n = cfg_get(o, "shadow")))
    cfg_person_list(L, n, CFG_P("%s.shadow", path), who, "shadow", true, &r->shadow, &r->n_shadow);
  if (cfg_str(L, (n = cfg_get(o, "manager")), CFG_P("%s.manager", path), &r->manager))
    cfg_need_person(L, n, r->manager, who, "manager");
  if ((n = cfg_get(o, "contacts"))) {
    struct contact_walk w = {.r = r, .who = who};
    cfg_pairs(L, n, CFG_P("%s.contacts", path), contact_pair, &w);
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
  if ((n = cfg_get(o, "holidays")) && cfg_list(L, n, CFG_P("%s.holidays", path), &len) && len > 0) {
    if (!(r->holidays = calloc(len, sizeof(*r->holidays)))) {
      cfg_oom(L);
      return;
    }
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
  const char *s = cfg_text(L, (n = cfg_get(o, "hours")), CFG_P("%s.hours", path));
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
  cfg_checked(L, cfg_get(o, "usergroup"), CFG_P("%s.usergroup", path), &CFG_USERGROUP,
              &r->usergroup);
  cfg_checked(L, cfg_get(o, "handoff_channel"), CFG_P("%s.handoff_channel", path), &CFG_CHANNEL,
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
  if (!cfg_checked(L, cfg_get(o, "timezone"), CFG_P("%s.timezone", path), &CFG_TIMEZONE,
                   &r->timezone))
    r->timezone = cfg_dup(L, L->c->timezone);
  int64_t shift_ms = 0;
  if (cfg_duration(L, (n = cfg_get(o, "shift")), CFG_P("%s.shift", path), &shift_ms)) {
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
  if ((s = cfg_text(L, (n = cfg_get(o, "handoff")), CFG_P("%s.handoff", path))) &&
      !parse_handoff(s, &wday, &r->handoff_minute))
    cfg_problem(L, cfg_line(n), "%s.handoff: \"%s\" is not a weekday and time (like monday 09:00)",
                path, cfg_show(s).s);
  else if (s && wday < 0 && weekly)
    cfg_problem(L, cfg_line(n),
                "%s.handoff: \"%s\" needs a weekday for a shift of whole weeks (like monday 09:00)",
                path, cfg_show(s).s);
  s = cfg_text(L, (n = cfg_need(L, o, path, "start", "(the date shift 1 begins, like 2026-11-23)")),
               CFG_P("%s.start", path));
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
  if (cfg_checked(L, name, CFG_P("%s.name", at.s), &CFG_ROTA_NAME, &r->name))
    cfg_names_add(L, &L->rotas, r->name, cfg_line(name), pos);
  struct cfg_path who = r->name ? cfg_pathf("rota \"%s\"", r->name) : at;
  rota_clock(L, &o, at.s, who.s, r);
  rota_people(L, &o, at.s, who.s, r);
  rota_calendar(L, &o, at.s, r);
  cfg_load_tracker(L, cfg_get(&o, "tracker"), at.s, &r->tracker); /* issue 14 */
}

void cfg_load_rotas(struct cfg_loader *L, yaml_node_t *n)
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
  if (!(c->rotas = calloc(len, sizeof(*c->rotas)))) {
    cfg_oom(L);
    return;
  }
  c->n_rotas = len;
  L->rotas_broken = false;
  for (size_t i = 0; i < len && cfg_visit(L); i++)
    load_rota(L, cfg_item(L, n, i), i, &c->rotas[i]);
  cfg_names_check(L, &L->rotas, "rota name");
}
