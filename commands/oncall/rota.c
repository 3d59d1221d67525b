/* rota.c — who is on call when. The rules are in docs/rota-rules.md; keep the two in step. */
#include "commands/oncall/rota.h"

#include <stdlib.h>
#include <string.h>

#include "commands/oncall/rota_internal.h"
#include "lib/kx.h"

/* Instants outside [1970-01-01, 9999-12-31T23:59:59.999Z] are refused. */
#define INSTANT_MIN_MS 0LL
#define INSTANT_MAX_MS 253402300799999LL

static int64_t pos_mod(int64_t a, int64_t n)
{
  int64_t m = a % n;
  return m < 0 ? m + n : m;
}

static int64_t floor_div(int64_t a, int64_t b)
{
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool rota__date_ok(struct kx_date d)
{
  if (d.y < 1970 || d.y > 9999 || d.m < 1 || d.m > 12 || d.d < 1 || d.d > 31)
    return false;
  return date_cmp(date_from_days(date_to_days(d)), d) == 0;
}

static bool list_ok(char **list, size_t n)
{
  if (n && !list)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!list[i] || !*list[i])
      return false;
  return true;
}

const char *rota_zone(const struct rota *r)
{
  return r && r->timezone ? r->timezone : "UTC";
}

static const char *shape_problem(const struct rota *r)
{
  if (r->shift_days < 1 || r->shift_days > ROTA_MAX_SHIFT_DAYS)
    return "shift_days must be between 1 and 366";
  if (r->handoff_minute < 0 || r->handoff_minute >= 24 * 60)
    return "the handoff time must be between 00:00 and 23:59";
  if (r->shift_days % 7 == 0 && (r->handoff_wday < 0 || r->handoff_wday > 6))
    return "the handoff weekday is not a weekday";
  if (!rota__date_ok(r->start))
    return "the start date is not a date between 1970 and 9999";
  if (r->n_holidays > ROTA_MAX_HOLIDAYS)
    return "too many holidays (at most 2000)";
  if (r->n_holidays && !r->holidays)
    return "holidays missing";
  for (size_t i = 0; i < r->n_holidays; i++)
    if (!rota__date_ok(r->holidays[i]))
      return "a holiday is not a date between 1970 and 9999";
  if (r->has_hours && (r->hours_days < 0 || r->hours_days > 0x7F || r->hours_start_min < 0 ||
                       r->hours_end_min > 24 * 60 || r->hours_start_min >= r->hours_end_min))
    return "business hours need days and a start before their end";
  return NULL;
}

const char *rota_problem(const struct rota *r)
{
  if (!r)
    return "no rota";
  if (!tz_valid(rota_zone(r)))
    return "the rota's time zone is not a known IANA zone";
  const char *why = shape_problem(r);
  if (why)
    return why;
  if (r->n_primary == 0 || !list_ok(r->primary, r->n_primary))
    return "the rota needs at least one primary person";
  switch (r->secondary_mode) {
    case SECONDARY_NONE:
    case SECONDARY_NEXT:
      break;
    case SECONDARY_LIST:
    case SECONDARY_FIXED:
      if (r->n_secondary == 0 || !list_ok(r->secondary, r->n_secondary))
        return "the secondary list is empty";
      break;
    default:
      return "unknown secondary mode";
  }
  if (!list_ok(r->shadow, r->n_shadow))
    return "the shadow list has an empty entry";
  return NULL;
}

int rota__check(const struct rota *r)
{
  return rota_problem(r) ? KX_ECONFIG : 0;
}

int rota__check_instant(int64_t ms)
{
  return ms < INSTANT_MIN_MS || ms > INSTANT_MAX_MS ? KX_EINVAL : 0;
}

static int check_changes(const struct rota_change *c, size_t n)
{
  if (n > ROTA_MAX_CHANGES)
    return KX_ETOOBIG;
  if (n && !c)
    return KX_EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (c[i].kind != ROTA_OVERRIDE && c[i].kind != ROTA_ABSENCE)
      return KX_EINVAL;
    if (!c[i].person || !*c[i].person || c[i].to_ms <= c[i].from_ms)
      return KX_EINVAL;
  }
  return 0;
}

/* ---- the base schedule ------------------------------------------------------------------ */

int rota_is_holiday(const struct rota *r, struct kx_date d)
{
  for (size_t i = 0; r && i < r->n_holidays; i++)
    if (date_cmp(r->holidays[i], d) == 0)
      return 1;
  return 0;
}

/* Shift 0's nominal date: the start date, or for weekly rhythms the first handoff weekday on
 * or after it. */
static struct kx_date first_date(const struct rota *r)
{
  struct kx_date d = r->start;
  if (r->shift_days % 7 == 0)
    d = date_add_days(d, pos_mod(r->handoff_wday - date_weekday(d), 7));
  return d;
}

/* A handoff may happen on this date: not a holiday, and for weekly rhythms not a weekend. */
static bool handoff_date_ok(const struct rota *r, struct kx_date d)
{
  if (rota_is_holiday(r, d))
    return false;
  if (r->shift_days % 7 != 0)
    return true;
  int wd = date_weekday(d);
  return wd != 0 && wd != 6;
}

/* Start of shift k: nominal and after holiday moves. */
static int shift_start(const struct rota *r, int64_t k, int64_t *start, int64_t *nominal)
{
  if (k < 0 || k > (INSTANT_MAX_MS / MS_PER_DAY) / r->shift_days)
    return KX_EINVAL;
  struct kx_date d = date_add_days(first_date(r), k * r->shift_days);
  struct kx_date m = d;
  /* A run of unusable days is at most every holiday plus the weekends between them. */
  for (size_t guard = 0; !handoff_date_ok(r, m) && guard < 3 * r->n_holidays + 3; guard++)
    m = date_add_days(m, 1);
  if (m.y > 9999)
    return KX_EINVAL;
  int hh = r->handoff_minute / 60, mm = r->handoff_minute % 60;
  int rc = tz_from_local(rota_zone(r), m.y, m.m, m.d, hh, mm, 0, start);
  if (rc || !nominal)
    return rc;
  if (date_cmp(m, d) == 0) {
    *nominal = *start;
    return 0;
  }
  return tz_from_local(rota_zone(r), d.y, d.m, d.d, hh, mm, 0, nominal);
}

static const char *primary_of(const struct rota *r, int64_t k)
{
  return r->primary[pos_mod(k, (int64_t)r->n_primary)];
}

static const char *secondary_of(const struct rota *r, int64_t k)
{
  switch (r->secondary_mode) {
    case SECONDARY_NEXT:
      return primary_of(r, k + 1);
    case SECONDARY_LIST:
      return r->secondary[pos_mod(k, (int64_t)r->n_secondary)];
    case SECONDARY_FIXED:
      return r->secondary[0];
    default:
      return NULL;
  }
}

static int fill_shift(const struct rota *r, int64_t k, struct rota_shift *out)
{
  memset(out, 0, sizeof(*out));
  int rc = shift_start(r, k, &out->start_ms, &out->nominal_start_ms);
  if (!rc)
    rc = shift_start(r, k + 1, &out->end_ms, &out->nominal_end_ms);
  if (rc)
    return rc;
  out->index = k;
  out->late_handoff = out->start_ms != out->nominal_start_ms;
  out->late_end = out->end_ms != out->nominal_end_ms;
  out->primary = primary_of(r, k);
  out->secondary = secondary_of(r, k);
  out->shadow = r->n_shadow ? r->shadow[pos_mod(k, (int64_t)r->n_shadow)] : NULL;
  out->manager = r->manager;
  return 0;
}

/* The index of the (never skipped) shift containing at; KX_ENOTFOUND before shift 0. */
static int index_at(const struct rota *r, int64_t at, int64_t *k_out)
{
  struct kx_local l;
  int rc = tz_to_local(rota_zone(r), at, &l);
  if (rc)
    return rc;
  struct kx_date today = {l.y, l.m, l.d};
  int64_t k = floor_div(date_to_days(today) - date_to_days(first_date(r)), r->shift_days);
  int64_t s = 0;
  if (k < 0)
    k = 0;
  /* Moves only push handoffs later, so the nominal guess can only be too high. */
  while ((rc = shift_start(r, k, &s, NULL)) == 0 && s > at && k > 0)
    k--;
  if (rc)
    return rc;
  if (s > at)
    return KX_ENOTFOUND;
  while ((rc = shift_start(r, k + 1, &s, NULL)) == 0 && s <= at)
    k++;
  if (rc)
    return rc;
  *k_out = k;
  return 0;
}

int rota_shift_by_index(const struct rota *r, int64_t k, struct rota_shift *out)
{
  int rc = rota__check(r);
  if (rc)
    return rc;
  if (!out || k < 0)
    return KX_EINVAL;
  return fill_shift(r, k, out);
}

int rota_shift_at(const struct rota *r, int64_t at_ms, struct rota_shift *out)
{
  int rc = rota__check(r);
  if (!rc && !out)
    rc = KX_EINVAL;
  if (!rc)
    rc = rota__check_instant(at_ms);
  if (rc)
    return rc;
  int64_t k;
  rc = index_at(r, at_ms, &k);
  if (rc == KX_ENOTFOUND) {
    int rc0 = fill_shift(r, 0, out);
    return rc0 ? rc0 : KX_ENOTFOUND;
  }
  return rc ? rc : fill_shift(r, k, out);
}

/* From shift k on, the first shift that is not skipped (start < end). */
static int first_real_shift(const struct rota *r, int64_t k, struct rota_shift *out)
{
  int rc;
  while ((rc = fill_shift(r, k, out)) == 0 && out->start_ms == out->end_ms)
    k++;
  return rc;
}

int rota_next_handoff(const struct rota *r, int64_t after_ms, int64_t *at_out, int64_t *index_out)
{
  int rc = rota__check(r);
  if (!rc && !at_out)
    rc = KX_EINVAL;
  if (!rc)
    rc = rota__check_instant(after_ms);
  if (rc)
    return rc;
  int64_t k;
  rc = index_at(r, after_ms, &k);
  if (rc == KX_ENOTFOUND) {
    k = 0;
  } else if (rc) {
    return rc;
  } else {
    k++;
  }
  struct rota_shift sh;
  rc = first_real_shift(r, k, &sh);
  if (rc)
    return rc;
  *at_out = sh.start_ms;
  if (index_out)
    *index_out = sh.index;
  return 0;
}

/* ---- changes: overrides and absences ------------------------------------------------------ */

static bool covers(const struct rota_change *c, int64_t t)
{
  return c->from_ms <= t && t < c->to_ms;
}

/* The override of a slot in force at t: the highest id wins, then the later in the array. */
static const struct rota_change *override_at(const struct rota_change *c,
                                             size_t n,
                                             int64_t t,
                                             bool secondary)
{
  const struct rota_change *best = NULL;
  for (size_t i = 0; i < n; i++) {
    if (c[i].kind != ROTA_OVERRIDE || c[i].secondary != secondary || !covers(&c[i], t))
      continue;
    if (!best || c[i].id >= best->id)
      best = &c[i];
  }
  return best;
}

static const struct rota_change *absence_of(const struct rota_change *c,
                                            size_t n,
                                            const char *person,
                                            int64_t t)
{
  for (size_t i = 0; person && i < n; i++)
    if (c[i].kind == ROTA_ABSENCE && covers(&c[i], t) && strcmp(c[i].person, person) == 0)
      return &c[i];
  return NULL;
}

static void fill_primary(const struct rota *r,
                         int64_t k,
                         const struct rota_change *c,
                         size_t n,
                         int64_t t,
                         struct rota_slot *slot)
{
  memset(slot, 0, sizeof(*slot));
  slot->scheduled = primary_of(r, k);
  const struct rota_change *o = override_at(c, n, t, false);
  if (o) {
    *slot = (struct rota_slot){o->person, ROTA_SRC_OVERRIDE, slot->scheduled, o->id};
    return;
  }
  const struct rota_change *a = absence_of(c, n, slot->scheduled, t);
  if (!a) {
    slot->person = slot->scheduled;
    slot->source = ROTA_SRC_SCHEDULE;
    return;
  }
  slot->change_id = a->id;
  slot->source = ROTA_SRC_UNCOVERED;
  for (int64_t j = 1; j < (int64_t)r->n_primary; j++) {
    const char *cand = primary_of(r, k - j);
    if (!absence_of(c, n, cand, t)) {
      slot->person = cand;
      slot->source = ROTA_SRC_COVER;
      return;
    }
  }
}

static int64_t secondary_count(const struct rota *r)
{
  switch (r->secondary_mode) {
    case SECONDARY_NEXT:
      return (int64_t)r->n_primary;
    case SECONDARY_LIST:
      return (int64_t)r->n_secondary;
    case SECONDARY_FIXED:
      return 1;
    default:
      return 0;
  }
}

/* Like fill_primary, but a candidate who already holds primary does not back themselves up. */
static void fill_secondary(const struct rota *r,
                           int64_t k,
                           const struct rota_change *c,
                           size_t n,
                           int64_t t,
                           const char *primary,
                           struct rota_slot *slot)
{
  memset(slot, 0, sizeof(*slot));
  slot->scheduled = secondary_of(r, k);
  const struct rota_change *o = override_at(c, n, t, true);
  if (o) {
    *slot = (struct rota_slot){o->person, ROTA_SRC_OVERRIDE, slot->scheduled, o->id};
    return;
  }
  if (!slot->scheduled)
    return; /* SECONDARY_NONE */
  const struct rota_change *a = absence_of(c, n, slot->scheduled, t);
  if (!a) {
    slot->person = slot->scheduled;
    slot->source = ROTA_SRC_SCHEDULE;
    return;
  }
  slot->change_id = a->id;
  slot->source = ROTA_SRC_UNCOVERED;
  for (int64_t j = 1; j < secondary_count(r); j++) {
    const char *cand = secondary_of(r, k - j);
    if (kx_streq(cand, primary) || absence_of(c, n, cand, t))
      continue;
    slot->person = cand;
    slot->source = ROTA_SRC_COVER;
    return;
  }
}

/* Everything that holds at instant t inside shift sh. */
struct state {
  struct rota_slot primary, secondary;
  const char *shadow;
};

static void eval_at(const struct rota *r,
                    const struct rota_shift *sh,
                    const struct rota_change *c,
                    size_t n,
                    int64_t t,
                    struct state *st)
{
  fill_primary(r, sh->index, c, n, t, &st->primary);
  fill_secondary(r, sh->index, c, n, t, st->primary.person, &st->secondary);
  st->shadow = absence_of(c, n, sh->shadow, t) ? NULL : sh->shadow;
}

/* The first instant after t (and before limit) at which anything may change. */
static int64_t next_point(const struct rota_shift *sh,
                          const struct rota_change *c,
                          size_t n,
                          int64_t t)
{
  int64_t b = sh->end_ms;
  for (size_t i = 0; i < n; i++) {
    if (c[i].from_ms > t && c[i].from_ms < b)
      b = c[i].from_ms;
    if (c[i].to_ms > t && c[i].to_ms < b)
      b = c[i].to_ms;
  }
  return b;
}

/* When the holder of a slot changes, walking breakpoints up to the horizon. */
static int holder_until(const struct rota *r,
                        const struct rota_shift *start_shift,
                        const struct rota_change *c,
                        size_t n,
                        int64_t at,
                        bool secondary,
                        int64_t *until,
                        bool *capped)
{
  struct rota_shift sh = *start_shift;
  struct state st;
  int64_t limit = at + ROTA_UNTIL_HORIZON_MS, t = at;
  eval_at(r, &sh, c, n, t, &st);
  const char *holder = secondary ? st.secondary.person : st.primary.person;
  for (;;) {
    int64_t b = next_point(&sh, c, n, t);
    if (b >= limit) {
      *until = limit;
      *capped = true;
      return 0;
    }
    if (b == sh.end_ms) {
      int rc = first_real_shift(r, sh.index + 1, &sh);
      if (rc)
        return rc;
    }
    eval_at(r, &sh, c, n, b, &st);
    if (!kx_streq(holder, secondary ? st.secondary.person : st.primary.person)) {
      *until = b;
      return 0;
    }
    t = b;
  }
}

int rota_oncall_at(const struct rota *r,
                   const struct rota_change *changes,
                   size_t n,
                   int64_t at_ms,
                   struct rota_oncall *out)
{
  int rc = rota__check(r);
  if (!rc && !out)
    rc = KX_EINVAL;
  if (!rc)
    rc = rota__check_instant(at_ms);
  if (!rc)
    rc = check_changes(changes, n);
  if (rc)
    return rc;
  memset(out, 0, sizeof(*out));
  int64_t k;
  rc = index_at(r, at_ms, &k);
  if (rc == KX_ENOTFOUND)
    return fill_shift(r, 0, &out->shift);
  if (!rc)
    rc = fill_shift(r, k, &out->shift);
  if (rc)
    return rc;
  struct state st;
  eval_at(r, &out->shift, changes, n, at_ms, &st);
  out->started = true;
  out->primary = st.primary;
  out->secondary = st.secondary;
  out->shadow = st.shadow;
  out->manager = r->manager;
  rc = holder_until(r, &out->shift, changes, n, at_ms, false, &out->primary_until_ms,
                    &out->primary_until_capped);
  if (rc)
    return rc;
  /* No secondary slot and no override of it: nobody holds it up to the horizon, as the walk
   * would find, only slower. */
  bool any = r->secondary_mode != SECONDARY_NONE;
  for (size_t i = 0; i < n && !any; i++)
    any = changes[i].kind == ROTA_OVERRIDE && changes[i].secondary;
  if (!any) {
    out->secondary_until_ms = at_ms + ROTA_UNTIL_HORIZON_MS;
    out->secondary_until_capped = true;
    return 0;
  }
  return holder_until(r, &out->shift, changes, n, at_ms, true, &out->secondary_until_ms,
                      &out->secondary_until_capped);
}

/* ---- the schedule: shifts split into segments ---------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static bool same_state(const struct rota_segment *s, const struct state *st)
{
  return kx_streq(s->primary.person, st->primary.person) &&
         kx_streq(s->secondary.person, st->secondary.person) &&
         s->primary.source == st->primary.source && s->secondary.source == st->secondary.source &&
         kx_streq(s->shadow, st->shadow);
}

struct seg_list {
  struct rota_segment *v;
  size_t n, alloc;
};

static int seg_push(struct seg_list *l, const struct rota_segment *s)
{
  if (l->n == l->alloc) {
    size_t a = l->alloc ? l->alloc * 2 : 16;
    struct rota_segment *p = realloc(l->v, a * sizeof(*p));
    if (!p)
      return KX_ENOMEM;
    l->v = p;
    l->alloc = a;
  }
  l->v[l->n++] = *s;
  return 0;
}

/* Split one shift at every change boundary inside it; merge neighbours that hold the same. */
static int split_shift(const struct rota *r,
                       const struct rota_shift *sh,
                       const struct rota_change *c,
                       size_t n,
                       int64_t *pts,
                       struct seg_list *l)
{
  size_t np = 0;
  pts[np++] = sh->start_ms;
  for (size_t i = 0; i < n; i++) {
    if (c[i].from_ms > sh->start_ms && c[i].from_ms < sh->end_ms)
      pts[np++] = c[i].from_ms;
    if (c[i].to_ms > sh->start_ms && c[i].to_ms < sh->end_ms)
      pts[np++] = c[i].to_ms;
  }
  qsort(pts, np, sizeof(*pts), cmp_i64);
  size_t first = l->n;
  for (size_t i = 0; i < np; i++) {
    if (i > 0 && pts[i] == pts[i - 1])
      continue;
    struct state st;
    eval_at(r, sh, c, n, pts[i], &st);
    if (l->n > first && same_state(&l->v[l->n - 1], &st))
      continue;
    if (l->n > first)
      l->v[l->n - 1].end_ms = pts[i];
    struct rota_segment s = {
        .shift_index = sh->index,
        .start_ms = pts[i],
        .end_ms = sh->end_ms,
        .shift_start = i == 0,
        .late_handoff = i == 0 && sh->late_handoff,
        .nominal_start_ms = sh->nominal_start_ms,
        .primary = st.primary,
        .secondary = st.secondary,
        .shadow = st.shadow,
        .manager = sh->manager,
    };
    int rc = seg_push(l, &s);
    if (rc)
      return rc;
  }
  return 0;
}

int rota_schedule(const struct rota *r,
                  const struct rota_change *changes,
                  size_t n,
                  int64_t from_ms,
                  size_t n_shifts,
                  struct rota_segment **out,
                  size_t *n_out)
{
  int rc = rota__check(r);
  if (!rc && (!out || !n_out))
    rc = KX_EINVAL;
  if (!rc)
    rc = rota__check_instant(from_ms);
  if (!rc)
    rc = check_changes(changes, n);
  if (!rc && n_shifts > ROTA_MAX_SCHEDULE_SHIFTS)
    rc = KX_ETOOBIG;
  if (rc)
    return rc;
  *out = NULL;
  *n_out = 0;
  int64_t k;
  rc = index_at(r, from_ms, &k);
  if (rc == KX_ENOTFOUND)
    k = 0;
  else if (rc)
    return rc;
  struct seg_list l = {0};
  int64_t *pts = malloc((2 * n + 1) * sizeof(*pts));
  if (!pts)
    return KX_ENOMEM;
  rc = 0;
  for (size_t done = 0; done < n_shifts; done++) {
    struct rota_shift sh;
    rc = first_real_shift(r, k, &sh);
    if (!rc)
      rc = split_shift(r, &sh, changes, n, pts, &l);
    if (rc)
      break;
    k = sh.index + 1;
  }
  free(pts);
  if (rc) {
    free(l.v);
    return rc;
  }
  *out = l.v;
  *n_out = l.n;
  return 0;
}

void rota_segments_free(struct rota_segment *segments)
{
  free(segments);
}

/* ---- swaps ------------------------------------------------------------------------------ */

int rota_swap_plan(const struct rota *r,
                   const char *a,
                   const char *b,
                   int64_t k,
                   struct rota_change out[2],
                   int64_t *j_out)
{
  int rc = rota__check(r);
  if (rc)
    return rc;
  if (!a || !b || !out || k < 0 || kx_streq(a, b) || !kx_streq(primary_of(r, k), b))
    return KX_EINVAL;
  bool listed = false;
  for (size_t i = 0; i < r->n_primary; i++)
    listed = listed || kx_streq(r->primary[i], a);
  if (!listed)
    return KX_ENOTFOUND;
  struct rota_shift sk, sj;
  rc = fill_shift(r, k, &sk);
  if (rc)
    return rc;
  if (sk.start_ms == sk.end_ms)
    return KX_EINVAL; /* a skipped shift: nothing to swap */
  int64_t j = k + 1;
  for (;; j++) {
    if (!kx_streq(primary_of(r, j), a))
      continue;
    rc = fill_shift(r, j, &sj);
    if (rc)
      return rc;
    if (sj.start_ms < sj.end_ms)
      break;
  }
  out[0] = (struct rota_change){ROTA_OVERRIDE, sk.start_ms, sk.end_ms, a, false, 0};
  out[1] = (struct rota_change){ROTA_OVERRIDE, sj.start_ms, sj.end_ms, b, false, 0};
  if (j_out)
    *j_out = j;
  return 0;
}
