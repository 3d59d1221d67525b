/*
 * handoffs.h — the record of every shift handoff, one row per (rota, shift index): whether it
 * was posted (on time or late) or missed while the bot was down, who handed over to whom, where
 * the post is (for the "I have the pager" button and the thread for notes), and who took the
 * pager when. The UNIQUE (rota, shift) key is what makes a handoff happen exactly once: the
 * row is written in the same transaction as the post's outbox rows, and a second attempt gets
 * KX_EEXISTS.
 *
 * A struct handoff_row owns its strings (handoff_row_clear). Errors: 0 or KX_E*; KX_ENOTFOUND
 * for a missing row; KX_ESTATE when a transition is not allowed (acknowledging twice).
 */
#ifndef KX_HANDOFFS_H
#define KX_HANDOFFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

enum handoff_state {
  HANDOFF_POSTED = 0, /* announced (late or on time) */
  HANDOFF_MISSED      /* the bot was down for more than the catch-up window: recorded only */
};

struct handoff_new {
  const char *rota;
  int64_t shift_index;
  int64_t due_at; /* the handoff instant (after holiday moves) */
  enum handoff_state state;
  bool late;
  /* person ids; any may be NULL (nobody) */
  const char *out_primary, *out_secondary;
  const char *in_primary, *in_secondary, *in_shadow, *manager;
  const char *checklist; /* markup, kept so the post can be redrawn (button pressed …) */
  int64_t now_ms;
};

struct handoff_row {
  int64_t id;
  char *rota;
  int64_t shift_index;
  int64_t due_at;
  enum handoff_state state;
  bool late;
  int64_t created_at; /* when it was posted (or recorded as missed) */
  char *out_primary, *out_secondary;
  char *in_primary, *in_secondary, *in_shadow, *manager;
  char *channel, *ts; /* the Slack post, NULL until it has landed */
  int64_t acked_at;   /* "I have the pager", 0 when not yet */
  char *acked_by;
  int64_t manager_told_at; /* 0 when the manager was not told */
  char *checklist;
};

/* KX_EEXISTS when this rota's shift already has a row (posted or missed). */
int handoffs_add(struct db *db, const struct handoff_new *h, int64_t *id_out);
int handoffs_get(struct db *db, int64_t id, struct handoff_row *out);
int handoffs_by_shift(struct db *db,
                      const char *rota,
                      int64_t shift_index,
                      struct handoff_row *out);
/* The handoff whose Slack post is (channel, ts): for replies in its thread. */
int handoffs_by_message(struct db *db,
                        const char *channel,
                        const char *ts,
                        struct handoff_row *out);
/* The newest posted handoff of a rota. */
int handoffs_last(struct db *db, const char *rota, struct handoff_row *out);
int handoffs_set_message(struct db *db, int64_t id, const char *channel, const char *ts);
/* "I have the pager": KX_ESTATE when it was pressed before. */
int handoffs_ack(struct db *db, int64_t id, const char *who, int64_t now_ms);
int handoffs_manager_told(struct db *db, int64_t id, int64_t now_ms);
void handoff_row_clear(struct handoff_row *h);

/* For /metrics: per rota, handoffs posted on time, posted late, missed, the pager taken, the
 * manager told (all time). handoff_totals_free releases the array. */
struct handoff_totals {
  char *rota;
  int64_t on_time, late, missed, taken, told;
};
int handoffs_totals(struct db *db, struct handoff_totals **out, size_t *n);
void handoff_totals_free(struct handoff_totals *t, size_t n);

#endif
