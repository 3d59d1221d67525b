/*
 * incident_timeline.h — what happened during an incident, in order: the declaration, every
 * human message in its channel (edits applied, deletions hidden), notes, status, severity and
 * role changes, updates, pages and acknowledgements, the resolution.
 *
 * An entry that mirrors a platform message carries its `source_ts` (the Slack ts, or the Teams
 * activity id); (incident, source_ts) is unique, so a redelivered message is stored once, and
 * edits, deletions, 📌 reactions and pins find their entry by it. An entry is a key event
 * when klaxon says so (declaration, severity change, resolution …), when it is pinned, or while
 * at least one 📌 reaction is on it; key events keep their own time.
 * Entries own their strings (timeline_free). KX_EEXISTS: that source_ts is already stored.
 */
#ifndef KX_STORAGE_INCIDENT_TIMELINE_H
#define KX_STORAGE_INCIDENT_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

struct timeline_entry {
  int64_t id;
  int64_t incident_id;
  char *kind; /* "declared", "message", "note", "status", "severity", "role", "update",
                 "ack", "impact", "escalation", "resolved", "reopened", "closed",
                 "page", "action", "postmortem" … */
  char *who;  /* person id or platform user id, may be NULL (klaxon itself) */
  char *text; /* plain text */
  int64_t at_ms;
  bool key; /* any of the three reasons below */
  bool key_system;
  bool pinned;
  int reactions;   /* 📌 reactions on it */
  char *source_ts; /* may be NULL */
  int64_t edited_at;
};

struct timeline_new {
  int64_t incident_id;
  const char *kind;
  const char *who;
  const char *text;
  int64_t at_ms;
  bool key;
  const char *source_ts; /* NULL for klaxon's own entries */
  int64_t now_ms;
};

int timeline_add(struct db *db, const struct timeline_new *e, int64_t *id_out);
/* The message was edited: new text. KX_ENOTFOUND when it is not in the timeline. */
int timeline_edit(
    struct db *db, int64_t incident_id, const char *source_ts, const char *text, int64_t now_ms);
/* The message was deleted: hidden from the timeline for good. KX_ENOTFOUND as above. */
int timeline_delete(struct db *db, int64_t incident_id, const char *source_ts, int64_t now_ms);

/* Hide klaxon's own entries of a kind (the old "impact" entry when the impact start moves);
 * returns how many or < 0. */
int timeline_hide_kind(struct db *db, int64_t incident_id, const char *kind, int64_t now_ms);

enum timeline_mark {
  TIMELINE_REACTION_ADDED = 0,
  TIMELINE_REACTION_REMOVED,
  TIMELINE_PINNED,
  TIMELINE_UNPINNED
};
/* 📌 and pins. KX_ENOTFOUND when the message is not in the timeline. */
int timeline_mark(struct db *db, int64_t incident_id, const char *source_ts, enum timeline_mark m);

enum timeline_list_flags {
  TIMELINE_KEY_ONLY = 1 << 0,
  TIMELINE_LATEST = 1 << 1 /* the newest `limit` entries (still returned oldest first) */
};
/* Visible entries by time (then id), at most `limit` (0: all). */
int timeline_list(struct db *db,
                  int64_t incident_id,
                  unsigned flags,
                  size_t limit,
                  struct timeline_entry **out,
                  size_t *n);
int64_t timeline_count(struct db *db, int64_t incident_id); /* visible entries, or < 0 */
void timeline_free(struct timeline_entry *list, size_t n);

/* Everyone who appears in the timeline (who != NULL), in order of first appearance; an array
 * of strings the caller frees with timeline_people_free. */
int timeline_people(struct db *db, int64_t incident_id, char ***out, size_t *n);
void timeline_people_free(char **people, size_t n);

#endif
