/*
 * rota.h — rota arithmetic: who is on call when. Pure: no database, no network, no clock;
 * every instant is an argument (int64 ms since the epoch, UTC). The rules are written out in
 * docs/rota-rules.md; this header says how to call them.
 *
 * Inputs are borrowed: a struct rota from the config and an array of struct rota_change the
 * caller loaded (overrides and absences; a swap is two overrides, see rota_swap_plan). Every
 * `const char *` person in an output (struct rota_shift, rota_slot, rota_oncall,
 * rota_segment) points into the rota or into the changes array passed in, so it stays valid
 * only as long as those do. The one allocation is rota_schedule()'s array, which the caller
 * frees with free() (or rota_segments_free(), NULL-safe).
 *
 * Errors: 0 or a negative KX_E* code.
 *   KX_ECONFIG   the rota is unusable (rota_problem() says why): bad zone, no primary …
 *   KX_EINVAL    an argument is bad: an instant outside years 1970..9999, a negative index,
 *                a malformed change (to <= from, no person, unknown kind), unparsable text.
 *   KX_ETOOBIG   more changes or shifts than the caps below.
 *   KX_ENOTFOUND rota_shift_at: the instant is before the rota starts (the ROTA has not
 *                started; *out then describes shift 0 so the caller can say when it begins);
 *                rota_swap_plan: the person has no shift of their own; next business start:
 *                the rota has no business day at all.
 *   KX_ENOMEM    out of memory (rota_schedule only).
 */
#ifndef KX_ROTA_H
#define KX_ROTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commands/core/config.h"

/* Caps on sizes that come from outside (the database, a user's /schedule --weeks N). */
#define ROTA_MAX_CHANGES 4096         /* overrides + absences passed in one call */
#define ROTA_MAX_SCHEDULE_SHIFTS 1000 /* n_shifts of rota_schedule / the iCal feed */
#define ROTA_MAX_HOLIDAYS 2000
#define ROTA_MAX_SHIFT_DAYS 366
#define ROTA_MAX_TIME_TEXT 64 /* longest FROM/TO text rota_parse_time accepts */
/* How far rota_oncall_at looks ahead for "until when" before giving up (it is then capped). */
#define ROTA_UNTIL_HORIZON_MS (366LL * 24 * 60 * 60 * 1000)

/* The forms rota_parse_time accepts, for help texts and error messages. */
#define ROTA_TIME_HELP                                                                       \
  "YYYY-MM-DD, YYYY-MM-DD HH:MM or YYYY-MM-DDTHH:MM (in the rota's time zone), or RFC 3339 " \
  "with an offset (2026-12-01T14:00:00+01:00)"

enum rota_change_kind {
  ROTA_OVERRIDE = 1, /* `person` holds the slot during [from, to) */
  ROTA_ABSENCE       /* `person` is away during [from, to): covered, see the rules */
};

struct rota_change {
  enum rota_change_kind kind;
  int64_t from_ms, to_ms; /* [from, to); to > from */
  const char *person;     /* person id, not NULL */
  bool secondary; /* ROTA_OVERRIDE: of the secondary slot (else primary); ignored for absences */
  int64_t id;     /* the caller's row id; among overlapping overrides the highest wins */
};

/* One shift of the base schedule (no overrides or absences applied). */
struct rota_shift {
  int64_t index;            /* k: 0 is "week 1" */
  int64_t start_ms, end_ms; /* [start, end); start == end: skipped (see docs, daily holidays) */
  int64_t nominal_start_ms; /* the handoff before any holiday/weekend move */
  int64_t nominal_end_ms;   /* the next shift's nominal handoff */
  bool late_handoff;        /* start moved by a holiday (or weekend) */
  bool late_end;            /* end moved: the next handoff was moved, this shift runs on */
  const char *primary;      /* primary[k mod n] */
  const char *secondary;    /* by secondary_mode; NULL for SECONDARY_NONE */
  const char *shadow;       /* shadow[k mod s]; NULL when there are none */
  const char *manager;      /* may be NULL */
};

/* Why a slot is held by whom. */
enum rota_source {
  ROTA_SRC_NONE = 0, /* the rota has no such slot (secondary with SECONDARY_NONE) */
  ROTA_SRC_SCHEDULE, /* the base schedule */
  ROTA_SRC_OVERRIDE, /* an override (change_id says which) */
  ROTA_SRC_COVER,    /* the scheduled person is absent (change_id: the absence); covered */
  ROTA_SRC_UNCOVERED /* the scheduled person is absent and so is every candidate: nobody */
};

struct rota_slot {
  const char *person; /* who holds it; NULL for ROTA_SRC_NONE and ROTA_SRC_UNCOVERED */
  enum rota_source source;
  const char *scheduled; /* whom the base schedule names (NULL for ROTA_SRC_NONE) */
  int64_t change_id;     /* the override or absence that applies; 0 otherwise */
};

struct rota_oncall {
  bool started;            /* false: before shift 0 — the ROTA has not started; nobody is on
                              call from it and only `shift` (shift 0) is filled */
  struct rota_shift shift; /* the base shift containing the instant */
  struct rota_slot primary, secondary;
  int64_t primary_until_ms;   /* when primary next changes hands, see below */
  int64_t secondary_until_ms; /* likewise for the secondary slot */
  bool primary_until_capped;  /* the holder does not change within ROTA_UNTIL_HORIZON_MS:
                                 primary_until_ms is at + that horizon */
  bool secondary_until_capped;
  const char *shadow; /* the shift's shadow, NULL when absent at that instant */
  const char *manager;
};

/* A piece of a shift during which nobody changes; shifts are split where changes apply. */
struct rota_segment {
  int64_t shift_index;
  int64_t start_ms, end_ms;
  bool shift_start;         /* begins at the shift's handoff */
  bool late_handoff;        /* shift_start and that handoff was moved by a holiday */
  int64_t nominal_start_ms; /* of the shift */
  struct rota_slot primary, secondary;
  const char *shadow;
  const char *manager;
};

/* NULL when r is fine; otherwise a sentence saying what is wrong (static storage). The
 * config loader may call it; every function below calls it and returns KX_ECONFIG. */
const char *rota_problem(const struct rota *r);
/* The rota's zone: r->timezone, or "UTC" when that is NULL. */
const char *rota_zone(const struct rota *r);

/* The base shift containing at_ms. KX_ENOTFOUND before the first handoff (*out = shift 0). */
int rota_shift_at(const struct rota *r, int64_t at_ms, struct rota_shift *out);
/* Shift k (k >= 0); it may be a skipped one (start == end). */
int rota_shift_by_index(const struct rota *r, int64_t k, struct rota_shift *out);
/* The first handoff strictly after after_ms that starts a non-skipped shift: its instant and
 * shift index (index_out may be NULL). Before the rota starts that is shift 0's handoff. */
int rota_next_handoff(const struct rota *r, int64_t after_ms, int64_t *at_out, int64_t *index_out);

/* Who actually holds primary and secondary at at_ms, with changes applied, and until when.
 * Before the start this returns 0 with out->started false. changes may be NULL when n is 0. */
int rota_oncall_at(const struct rota *r,
                   const struct rota_change *changes,
                   size_t n,
                   int64_t at_ms,
                   struct rota_oncall *out);

/* n_shifts non-skipped shifts, beginning with the one containing from_ms (shift 0 when from_ms
 * is before the start), whole (not clipped to from_ms), each split into segments where a change
 * makes someone else hold a slot. *out is malloc'd (the caller frees it; NULL when *n_out is
 * 0). n_shifts 0 gives no segments; more than ROTA_MAX_SCHEDULE_SHIFTS is KX_ETOOBIG. */
int rota_schedule(const struct rota *r,
                  const struct rota_change *changes,
                  size_t n,
                  int64_t from_ms,
                  size_t n_shifts,
                  struct rota_segment **out,
                  size_t *n_out);
void rota_segments_free(struct rota_segment *segments); /* NULL-safe; same as free() */

/* Business hours (r->has_hours; without them Mon–Fri 08:00–18:00): inside when the local
 * weekday's bit is set, start <= local minute < end, and the local date is not a holiday.
 * false for an unusable rota. */
bool rota_in_business_hours(const struct rota *r, int64_t at_ms);
/* at_ms itself when inside, else the next instant business hours begin. */
int rota_next_business_start(const struct rota *r, int64_t at_ms, int64_t *out_ms);
/* 1 when the date is one of the rota's holidays, else 0. */
int rota_is_holiday(const struct rota *r, struct kx_date d);

/* FROM/TO text -> instant. Dates alone mean whole days in the rota's zone: as a start
 * (is_end false) 00:00 of that date, as an end (is_end true) 00:00 of the day after.
 * "YYYY-MM-DD HH:MM" / "YYYY-MM-DDTHH:MM" (optionally :SS) are local to the rota's zone;
 * RFC 3339 with Z or an offset is taken as written. KX_EINVAL for anything else. */
int rota_parse_time(const struct rota *r, const char *text, bool is_end, int64_t *out_ms);
/* Both ends at once: [from, to) with the whole-day rule; KX_EINVAL unless from < to. */
int rota_parse_range(
    const struct rota *r, const char *from, const char *to, int64_t *from_ms, int64_t *to_ms);

/* Swaps. Person b is primary of shift k and person a takes it; in return b takes a's next own
 * shift after k (the first non-skipped shift j > k with primary[j mod n] == a). Fills
 * out[0] = override of shift k's [start, end) by a, out[1] = override of shift j's
 * [start, end) by b (kind ROTA_OVERRIDE, primary slot, id 0: the caller assigns ids and stores
 * both). out[].person points at a and b. *j_out (may be NULL) gets j.
 * KX_EINVAL when b is not primary[k mod n] or a == b; KX_ENOTFOUND when a is not in primary. */
int rota_swap_plan(const struct rota *r,
                   const char *a,
                   const char *b,
                   int64_t k,
                   struct rota_change out[2],
                   int64_t *j_out);

#endif
