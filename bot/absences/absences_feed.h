/*
 * absences_feed.h — the HR calendar's feed (issue 14): when the config has an absences block,
 * GET its iCalendar URL shortly after start and then every absences.every (on the bot's clock,
 * so KLAXON_TIME_SCALE speeds it up), never on the loop's time: libcurl multi. A 200 of at most
 * ABSENCES_MAX_BYTES is handed to the action "absences.sync" (commands/oncall/absences.h) in
 * one transaction; anything else is logged and the next fetch tried at its time. The URL is
 * never logged (a private calendar address is a secret).
 */
#ifndef KX_ABSENCES_FEED_H
#define KX_ABSENCES_FEED_H

struct module_env;

int absences_feed_init(const struct module_env *env, void **state);
int absences_feed_start(void *state);
void absences_feed_stop(void *state, void (*done)(void *arg), void *arg);
void absences_feed_halt(void *state);
void absences_feed_close(void *state);

#endif
