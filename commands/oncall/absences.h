/*
 * absences.h — absences from the HR calendar (issue 14; absences.c parses, absences_sync.c
 * turns a feed into rota changes). Config: absences: {ical_url | ical_url_env, every, notice}.
 */
#ifndef KX_ABSENCES_H
#define KX_ABSENCES_H

#include <stddef.h>
#include <stdint.h>

#include "commands/core/command.h"

#define ABSENCES_HORIZON_DAYS 180      /* occurrences this far ahead become absences */
#define ABSENCES_MAX_EVENTS 20000      /* VEVENTs in one feed */
#define ABSENCES_MAX_OCCURRENCES 20000 /* absences from one feed */
#define ABSENCES_MAX_BYTES ((size_t)8 * 1024 * 1024)
#define ABSENCES_ACTOR "hr-calendar"

struct absence {
  const char *person; /* a config person id (borrowed from the config) */
  int64_t from_ms, to_ms;
  char uid[160];
};

struct absence_list {
  struct absence *v;
  size_t n, cap;
};

/* The feed's absences of config people around now; KX_EPROTO (not iCalendar), KX_ETOOBIG (over
 * the caps) with a sentence in why. */
int absences_parse(const struct config *c,
                   const char *ics,
                   int64_t now_ms,
                   struct absence_list *out,
                   char *why,
                   size_t n);
void absence_list_free(struct absence_list *l);

/* The action "absences.sync" (payload {"ics": text}, from bot/web/absences_feed.c): add what is
 * new, cancel what is gone; the reply's text is a JSON summary {added, cancelled, warned}. */
int absences_action_sync(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         struct cmd_reply *reply);

#endif
