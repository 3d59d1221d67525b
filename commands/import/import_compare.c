/*
 * import_compare.c — who is on call in the vendor's rendered final schedule and in the rota
 * klaxon generated from it, instant by instant over the rendered span (at most 8 weeks), with
 * klaxon's own schedule arithmetic (commands/oncall/rota.h). Only the primary slot is compared:
 * a final schedule names one person at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "commands/import/import.h"
#include "commands/oncall/rota.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

/* The entry holding t (the latest-starting one when entries overlap) and until when the vendor's
 * answer stays the same. */
static const struct imp_entry *theirs_at(const struct imp_rota *rr, int64_t t, int64_t *until)
{
  const struct imp_entry *hit = NULL;
  int64_t next = INT64_MAX;
  for (size_t i = 0; i < rr->n_entries; i++) {
    const struct imp_entry *e = &rr->entries[i];
    if (e->from_ms <= t && t < e->to_ms) {
      if (!hit || e->from_ms >= hit->from_ms)
        hit = e;
      if (e->to_ms < next)
        next = e->to_ms;
    } else if (e->from_ms > t && e->from_ms < next) {
      next = e->from_ms;
    }
  }
  *until = next;
  return hit;
}

static int same(const char *a, const char *b)
{
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int imp_compare(const struct imp_rota *rr,
                struct imp_diff **out,
                size_t *n_out,
                int64_t *span_from,
                int64_t *span_to)
{
  *out = NULL;
  *n_out = 0;
  if (rr->n_entries == 0)
    return KX_ENOTFOUND;
  int64_t from = INT64_MAX, to = INT64_MIN;
  for (size_t i = 0; i < rr->n_entries; i++) {
    if (rr->entries[i].from_ms < from)
      from = rr->entries[i].from_ms;
    if (rr->entries[i].to_ms > to)
      to = rr->entries[i].to_ms;
  }
  /* klaxon's arithmetic covers 1970-9000: compare only there */
  const int64_t lo = MS_PER_DAY * 2, hi = 221845392000000LL; /* 1970-01-03, 9000-01-01 */
  if (from < lo)
    from = lo;
  if (to > hi)
    to = hi;
  if (to <= from)
    return KX_ENOTFOUND;
  if (to - from > IMP_COMPARE_MAX_MS)
    to = from + IMP_COMPARE_MAX_MS;
  *span_from = from, *span_to = to;
  struct rota r;
  imp_rota_view(rr, &r);
  size_t alloc = 0;
  /* Each step ends at an entry boundary or a klaxon handoff: at most 2 per entry plus the shifts.
   */
  for (int64_t t = from, steps = 0; t < to; steps++) {
    if (steps > 4 * IMP_MAX_ENTRIES + 100000)
      return KX_ETOOBIG;
    int64_t t_until, o_until;
    const struct imp_entry *e = theirs_at(rr, t, &t_until);
    struct rota_oncall oc;
    int rc = rota_oncall_at(&r, NULL, 0, t, &oc);
    if (rc)
      return free(*out), *out = NULL, *n_out = 0, rc;
    const char *ours = oc.started ? oc.primary.person : NULL;
    o_until = oc.started ? oc.primary_until_ms : oc.shift.start_ms;
    const char *theirs = e ? (e->person ? e->person : e->vendor_user) : NULL;
    int64_t next = t_until < o_until ? t_until : o_until;
    if (next > to)
      next = to;
    if (next <= t)
      next = t + 1; /* never stand still */
    if (!same(theirs, ours)) {
      struct imp_diff *last = *n_out ? &(*out)[*n_out - 1] : NULL;
      if (last && last->to_ms == t && same(last->theirs, theirs) && same(last->ours, ours)) {
        last->to_ms = next;
      } else {
        if (*n_out == alloc) {
          alloc = alloc ? alloc * 2 : 16;
          struct imp_diff *g = realloc(*out, alloc * sizeof *g);
          if (!g)
            return free(*out), *out = NULL, *n_out = 0, KX_ENOMEM;
          *out = g;
        }
        (*out)[(*n_out)++] = (struct imp_diff){t, next, theirs, ours};
      }
    }
    t = next;
  }
  return 0;
}
