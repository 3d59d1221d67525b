/*
 * absences.c — absences from the HR calendar (issue 14): an iCalendar feed (RFC 5545, from the
 * HR system, Google or Outlook) read with libical. A VEVENT names a person when one of its
 * ATTENDEE or ORGANIZER addresses is their email, else when its SUMMARY holds their name (or
 * their id) as whole words. Each occurrence (RRULE, RDATE and EXDATE expanded by libical, in the
 * event's own time zone; dates and floating times in the rota's zone) from a day ago to
 * ABSENCES_HORIZON_DAYS ahead becomes an absence in every rota the person is in, covered by the
 * rota's normal rules, announced and DMed exactly as `/oncall away` is (created_by
 * "hr-calendar", reason "hr:<UID>"). The next sync cancels what the feed no longer has. An
 * absence that lands on someone's shift (someone's on-call time changes) with less than
 * absences.notice ahead warns the rota's manager.
 */
#include "commands/oncall/absences.h"

#include <ctype.h>
#include <libical/ical.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"

#define DAY_MS (24 * 3600 * 1000LL)

/* ---- who an event names ------------------------------------------------------------------------
 */

static bool word_in(const char *text, const char *word)
{
  size_t n = strlen(word);
  if (n < 3)
    return false;
  for (const char *p = text; (p = strcasestr(p, word)) != NULL; p++) {
    bool left = p == text || !isalnum((unsigned char)p[-1]);
    bool right = !isalnum((unsigned char)p[n]);
    if (left && right)
      return true;
  }
  return false;
}

static const struct person *by_address(const struct config *c, const char *addr)
{
  if (!addr)
    return NULL;
  if (strncasecmp(addr, "mailto:", 7) == 0)
    addr += 7;
  for (size_t i = 0; i < c->n_people; i++)
    if (c->people[i].email && strcasecmp(c->people[i].email, addr) == 0)
      return &c->people[i];
  return NULL;
}

static const struct person *who_of(const struct config *c, icalcomponent *ev)
{
  icalproperty *p;
  for (p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY); p;
       p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
    const struct person *who = by_address(c, icalproperty_get_attendee(p));
    if (who)
      return who;
  }
  p = icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY);
  const struct person *who = p ? by_address(c, icalproperty_get_organizer(p)) : NULL;
  if (who)
    return who;
  const char *summary = icalcomponent_get_summary(ev);
  for (size_t i = 0; summary && i < c->n_people; i++) {
    const struct person *x = &c->people[i];
    if ((x->name && strcmp(x->name, x->id) != 0 && word_in(summary, x->name)) ||
        word_in(summary, x->id))
      return x;
  }
  return NULL;
}

/* ---- occurrences
 * --------------------------------------------------------------------------------- */

struct collect {
  const struct config *c;
  const struct person *who;
  const char *uid;
  bool floating; /* DATE or floating DTSTART: the span's UTC fields are wall time in `zone` */
  bool all_day;  /* DATE DTSTART */
  int days;      /* an all-day event's length in days (DTEND - DTSTART, at least 1) */
  const char *zone;
  struct absence_list *out;
  int err;
};

static int64_t wall_to_ms(time_t t, const char *zone)
{
  struct tm tm;
  int64_t ms = 0;
  gmtime_r(&t, &tm);
  if (tz_from_local(zone, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                    tm.tm_sec, &ms) != 0)
    return (int64_t)t * 1000;
  return ms;
}

static void on_span(icalcomponent *comp, struct icaltime_span *span, void *arg)
{
  (void)comp;
  struct collect *k = arg;
  struct absence_list *l = k->out;
  if (k->err)
    return;
  if (l->n >= ABSENCES_MAX_OCCURRENCES) {
    k->err = KX_ETOOBIG;
    return;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 32;
    struct absence *v = realloc(l->v, cap * sizeof(*v));
    if (!v) {
      k->err = KX_ENOMEM;
      return;
    }
    l->v = v;
    l->cap = cap;
  }
  struct absence *a = &l->v[l->n];
  memset(a, 0, sizeof(*a));
  a->person = k->who->id;
  a->from_ms = k->floating ? wall_to_ms(span->start, k->zone) : (int64_t)span->start * 1000;
  /* An all-day event lasts whole days up to DTEND, which is exclusive (RFC 5545 3.6.1); libical
   * ends its span at the end of DTEND's day instead, so the days are counted from the event. */
  time_t end = k->all_day ? span->start + (time_t)k->days * 86400 : span->end;
  a->to_ms = k->floating ? wall_to_ms(end, k->zone) : (int64_t)end * 1000;
  if (a->to_ms <= a->from_ms)
    a->to_ms = a->from_ms + DAY_MS; /* an all-day event without DTEND is one day (RFC 5545) */
  snprintf(a->uid, sizeof(a->uid), "%s", k->uid);
  l->n++;
}

static icaltimetype at(int64_t ms)
{
  return icaltime_from_timet_with_zone((time_t)(ms / 1000), 0, icaltimezone_get_utc_timezone());
}

void absence_list_free(struct absence_list *l)
{
  free(l->v);
  memset(l, 0, sizeof(*l));
}

int absences_parse(const struct config *c,
                   const char *ics,
                   int64_t now_ms,
                   struct absence_list *out,
                   char *why,
                   size_t n)
{
  memset(out, 0, sizeof(*out));
  why[0] = '\0';
  icalcomponent *cal = icalparser_parse_string(ics);
  if (!cal || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT) {
    snprintf(why, n, "not an iCalendar feed (no VCALENDAR)");
    if (cal)
      icalcomponent_free(cal);
    return KX_EPROTO;
  }
  const char *zone = c->timezone ? c->timezone : "UTC";
  int rc = 0, events = 0;
  for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
       ev && rc == 0; ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
    if (++events > ABSENCES_MAX_EVENTS) {
      snprintf(why, n, "more than %d events", ABSENCES_MAX_EVENTS);
      rc = KX_ETOOBIG;
      break;
    }
    if (icalcomponent_get_status(ev) == ICAL_STATUS_CANCELLED)
      continue;
    const struct person *who = who_of(c, ev);
    const char *uid = icalcomponent_get_uid(ev);
    if (!who || !uid)
      continue;
    icaltimetype start = icalcomponent_get_dtstart(ev);
    if (icaltime_is_null_time(start))
      continue;
    /* A person's own rota zone for whole days; the config's when they are in none. */
    const char *pz = zone;
    for (size_t i = 0; i < c->n_rotas; i++)
      if (oncall_rota_has(&c->rotas[i], who->id)) {
        pz = c->rotas[i].timezone ? c->rotas[i].timezone : zone;
        break;
      }
    int days = 1;
    icaltimetype dtend = icalcomponent_get_dtend(ev);
    if (start.is_date && !icaltime_is_null_time(dtend) && dtend.is_date) {
      int d = icaltime_day_of_year(dtend) - icaltime_day_of_year(start) +
              365 * (dtend.year - start.year); /* a leap day off by one at most: capped below */
      for (int y = start.year; y < dtend.year; y++)
        d += icaltime_is_leap_year(y);
      days = d > 0 && d <= 366 ? d : 1;
    }
    struct collect k = {.c = c,
                        .days = days,
                        .who = who,
                        .uid = uid,
                        .floating = start.is_date || (!start.zone && !icaltime_is_utc(start)),
                        .all_day = start.is_date != 0,
                        .zone = pz,
                        .out = out,
                        .err = 0};
    icalcomponent_foreach_recurrence(ev, at(now_ms - DAY_MS),
                                     at(now_ms + ABSENCES_HORIZON_DAYS * DAY_MS), on_span, &k);
    if (k.err) {
      if (k.err == KX_ETOOBIG)
        snprintf(why, n, "more than %d occurrences in %d days", ABSENCES_MAX_OCCURRENCES,
                 ABSENCES_HORIZON_DAYS);
      rc = k.err;
    }
  }
  icalcomponent_free(cal);
  if (rc)
    absence_list_free(out);
  return rc;
}
