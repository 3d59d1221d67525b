/*
 * channel_names.h — incident channel names, reserved in SQLite before conversations.create is
 * called, so two declarations at once never race for one name (Slack itself can create two
 * channels of one name under concurrency). A name is reserved for an incident, then marked
 * created (Slack made it) or taken (Slack said name_taken: someone else has it); a name in the
 * table, in any state, is never handed out again.
 */
#ifndef KX_STORAGE_CHANNEL_NAMES_H
#define KX_STORAGE_CHANNEL_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

/* The most suffixes tried for one base ("incident-20261124-999"). */
#define CHANNEL_NAMES_MAX_SUFFIX 999
#define CHANNEL_NAME_MAX 80

/* Reserve the first free name of `base`, `base`-2, `base`-3 … for the incident and copy it to
 * out (size >= CHANNEL_NAME_MAX + 1). KX_ETOOBIG when all are used or the name would be too
 * long. */
int channel_names_reserve(
    struct db *db, const char *base, int64_t incident_id, int64_t now_ms, char *out, size_t size);

enum channel_name_state { CHANNEL_NAME_RESERVED = 0, CHANNEL_NAME_CREATED, CHANNEL_NAME_TAKEN };
int channel_names_set_state(struct db *db, const char *name, enum channel_name_state state);
/* The state of a name, or KX_ENOTFOUND. */
int channel_names_state(struct db *db, const char *name);

#endif
