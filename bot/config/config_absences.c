/*
 * config_absences.c — the absences block (issue 14): the HR calendar's iCalendar feed.
 */
#include "bot/config/config_load_internal.h"

/* absences: {ical_url | ical_url_env, every, notice} (issue 14): the HR calendar. A private
 * calendar URL (Google's "secret address", Outlook's published ICS) is a secret: give its
 * variable's name as ical_url_env. */
static const char *const ABSENCES_KEYS[] = {"ical_url", "ical_url_env", "every", "notice", NULL};

void cfg_load_absences(struct cfg_loader *L, yaml_node_t *n)
{
  struct cfg_obj o;
  L->c->absences.every_ms = 3600 * 1000LL;
  L->c->absences.notice_ms = 14 * 24 * 3600 * 1000LL;
  if (!n || !cfg_obj_open(L, n, "absences", ABSENCES_KEYS, &o))
    return;
  yaml_node_t *url = cfg_get(&o, "ical_url"), *env = cfg_get(&o, "ical_url_env");
  if ((url != NULL) == (env != NULL))
    cfg_problem(L, cfg_line(n),
                "absences: give one of ical_url or ical_url_env (a variable "
                "holding a private calendar address)");
  cfg_checked(L, url, "absences.ical_url", &CFG_URL, &L->c->absences.ical_url);
  cfg_checked(L, env, "absences.ical_url_env", &CFG_ENV, &L->c->absences.ical_url_env);
  cfg_duration(L, cfg_get(&o, "every"), "absences.every", &L->c->absences.every_ms);
  cfg_duration(L, cfg_get(&o, "notice"), "absences.notice", &L->c->absences.notice_ms);
  if (L->c->absences.every_ms < 60 * 1000)
    cfg_problem(L, cfg_line(cfg_get(&o, "every")), "absences.every: at least 1m");
}
