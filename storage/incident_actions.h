/*
 * incident_actions.h — the action items that come out of an incident ("add a disk alert",
 * "document the failover"): an owner, a text, a number per incident (1, 2, 3 … as people
 * refer to them), and when and by whom each was done. Open items are listed in the postmortem
 * and in the Monday handoff; the statistics count them.
 * Items own their strings (incident_actions_free). Errors: KX_ENOTFOUND (no such item),
 * KX_EEXISTS (already done).
 */
#ifndef KX_STORAGE_INCIDENT_ACTIONS_H
#define KX_STORAGE_INCIDENT_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

struct incident_action {
  int64_t id;
  int64_t incident_id;
  int64_t number; /* 1, 2, 3 … within the incident */
  char *owner;    /* person id or platform user id, may be NULL */
  char *text;
  char *created_by;
  int64_t created_at;
  int64_t done_at; /* 0: open */
  char *done_by;
  /* Filled by incident_actions_list for the handoff's convenience. */
  char *incident_title;
  char *incident_severity;
  bool incident_drill;
  /* issue 14: due dates. due_at: the instant the item is overdue (local midnight after the due
   * day), 0 = no due date; due_date: "2026-12-10" as shown, may be NULL. */
  int64_t due_at;
  char *due_date;
  /* issue 14: the tracker's issue ("acme/platform#12", "OPS-12") and its address, may be NULL */
  char *tracker_key;
  char *tracker_url;
};

/* Add an item numbered one past the incident's last (*number_out); KX_ENOTFOUND when there is
 * no such incident. Several instances adding at once get distinct numbers (the incident's row
 * is locked first). */
int incident_actions_add(struct db *db,
                         int64_t incident_id,
                         const char *owner,
                         const char *text,
                         const char *created_by,
                         int64_t now_ms,
                         int64_t *number_out);
int incident_actions_done(
    struct db *db, int64_t incident_id, int64_t number, const char *who, int64_t now_ms);
/* Items of one incident (incident_id > 0) or of every incident (0), open ones only when
 * open_only, ordered by incident then number. */
int incident_actions_list(
    struct db *db, int64_t incident_id, bool open_only, struct incident_action **out, size_t *n);
/* One item (any state): *out is an array of one, freed with incident_actions_free(*out, 1). */
int incident_actions_get(struct db *db,
                         int64_t incident_id,
                         int64_t number,
                         struct incident_action **out);
/* Set an item's due date (issue 14). KX_ENOTFOUND when there is no such item. */
int incident_actions_set_due(
    struct db *db, int64_t incident_id, int64_t number, int64_t due_at, const char *due_date);
/* The tracker's issue of an item (issue 14), and the item of an issue (KX_ENOTFOUND). */
int incident_actions_set_tracker(
    struct db *db, int64_t incident_id, int64_t number, const char *key, const char *url);
int incident_actions_by_tracker(struct db *db,
                                const char *key,
                                int64_t *incident_id,
                                int64_t *number);
void incident_actions_free(struct incident_action *items, size_t n);
/* Items of incidents declared in [from_ms, to_ms) (0, 0: all time), drills left out: how many,
 * and how many are done — the completion rate. */
int incident_actions_count(
    struct db *db, int64_t from_ms, int64_t to_ms, int64_t *total, int64_t *done);

#endif
