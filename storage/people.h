/*
 * people.h — platform ids learnt at run time for people the config names by email only
 * (users.lookupByEmail), so nobody links accounts by hand. Strings returned are copies the
 * caller frees; NULL when unknown.
 */
#ifndef KX_STORAGE_PEOPLE_H
#define KX_STORAGE_PEOPLE_H

#include <stdint.h>

#include "storage/db.h"

int people_set_slack(struct db *db, const char *person, const char *slack_id, int64_t now_ms);
char *people_slack(struct db *db, const char *person);
/* The person whose learnt Slack id this is, or NULL. */
char *people_by_slack(struct db *db, const char *slack_id);
int people_set_lookup_error(struct db *db, const char *person, const char *error, int64_t now_ms);

#endif
