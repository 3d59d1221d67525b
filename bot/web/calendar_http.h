/*
 * calendar_http.h — GET /calendar/<rota>.ics: a rota's iCalendar feed (RFC 5545), the same as
 * `klaxon export-ical`, for Google Calendar and Outlook to subscribe to. `?weeks=N` (1..520)
 * chooses how far ahead it reaches (default 26). An unknown rota is a 404.
 */
#ifndef KX_CALENDAR_HTTP_H
#define KX_CALENDAR_HTTP_H

struct module_env;

int calendar_http_init(const struct module_env *env, void **state);

#endif
