/*
 * oncall_cmd_notify.c — who is told about a change: who holds which slot in the changed period
 * before and after it (rota_schedule over the stored changes), and a DM to everyone whose
 * holdings differ, saying what they hold now.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

/* ---- who holds what, before and after ------------------------------------------------------ */

struct hold {
  const char *person;
  bool secondary;
  int64_t from, to;
};

struct holds {
  struct hold *v;
  size_t n, cap;
};

static int holds_add(struct holds *h, const char *person, bool secondary, int64_t from, int64_t to)
{
  for (size_t i = h->n; i-- > 0;) {
    struct hold *x = &h->v[i];
    if (x->secondary == secondary && x->to == from && strcmp(x->person, person) == 0) {
      x->to = to;
      return 0;
    }
  }
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 16;
    struct hold *grown = realloc(h->v, cap * sizeof(*grown));
    if (!grown)
      return KX_ENOMEM;
    h->v = grown;
    h->cap = cap;
  }
  h->v[h->n++] = (struct hold){person, secondary, from, to};
  return 0;
}

static int holds_compute(const struct rota *r,
                         const struct rota_change *ch,
                         size_t n,
                         struct oncall_window w,
                         struct holds *out)
{
  memset(out, 0, sizeof(*out));
  int64_t per = (int64_t)(r->shift_days > 0 ? r->shift_days : 7) * MS_PER_DAY;
  int64_t shifts = (w.to - w.from) / per + 3;
  if (shifts > ROTA_MAX_SCHEDULE_SHIFTS)
    shifts = ROTA_MAX_SCHEDULE_SHIFTS;
  struct rota_segment *segs = NULL;
  size_t ns = 0;
  int rc = rota_schedule(r, ch, n, w.from, (size_t)shifts, &segs, &ns);
  for (size_t i = 0; rc == 0 && i < ns; i++) {
    int64_t a = segs[i].start_ms > w.from ? segs[i].start_ms : w.from;
    int64_t b = segs[i].end_ms < w.to ? segs[i].end_ms : w.to;
    if (a >= b)
      continue;
    if (segs[i].primary.person)
      rc = holds_add(out, segs[i].primary.person, false, a, b);
    if (rc == 0 && segs[i].secondary.person)
      rc = holds_add(out, segs[i].secondary.person, true, a, b);
  }
  rota_segments_free(segs);
  if (rc) {
    free(out->v);
    memset(out, 0, sizeof(*out));
  }
  return rc;
}

static bool has_hold(const struct holds *h, const struct hold *x)
{
  for (size_t i = 0; i < h->n; i++) {
    const struct hold *y = &h->v[i];
    if (y->secondary == x->secondary && y->from == x->from && y->to == x->to &&
        strcmp(y->person, x->person) == 0)
      return true;
  }
  return false;
}

/* Does `person` hold exactly the same in a and b? */
static bool same_for(const struct holds *a, const struct holds *b, const char *person)
{
  size_t na = 0, nb = 0;
  for (size_t i = 0; i < a->n; i++) {
    if (strcmp(a->v[i].person, person) != 0)
      continue;
    na++;
    if (!has_hold(b, &a->v[i]))
      return false;
  }
  for (size_t i = 0; i < b->n; i++)
    nb += strcmp(b->v[i].person, person) == 0;
  return na == nb;
}

/* What `person` holds in window w according to h, as markup lines. */
static void describe_for(const struct rota *r,
                         const struct holds *h,
                         const char *person,
                         struct oncall_window w,
                         struct buf *b)
{
  char t1[40], t2[40];
  bool any = false;
  for (size_t i = 0; i < h->n; i++) {
    if (strcmp(h->v[i].person, person) != 0)
      continue;
    md_printf(b, "• %s %s → %s\n", h->v[i].secondary ? "secondary" : "primary",
              oncall_fmt_time(r, h->v[i].from, t1, sizeof(t1)),
              oncall_fmt_time(r, h->v[i].to, t2, sizeof(t2)));
    any = true;
  }
  if (!any)
    md_printf(b, "• nothing: you are off call from %s to %s\n",
              oncall_fmt_time(r, w.from, t1, sizeof(t1)), oncall_fmt_time(r, w.to, t2, sizeof(t2)));
}

#define MAX_WINDOWS 4
#define MAX_PEOPLE 64

static void add_person(const char **people, size_t *n, const char *p)
{
  for (size_t i = 0; i < *n; i++)
    if (strcmp(people[i], p) == 0)
      return;
  if (*n < MAX_PEOPLE)
    people[(*n)++] = p;
}

static int dm_changed(struct cmd_ctx *ctx,
                      const struct rota *r,
                      const char *person,
                      const struct holds *after,
                      const bool *differs,
                      const struct oncall_window *windows,
                      size_t n_windows,
                      const char *what)
{
  const struct person *p = config_person(ctx->config, person);
  if (!p)
    return 0;
  struct buf b;
  md_init(&b);
  md_raw(&b, ":calendar: Your on-call in *");
  md_text(&b, r->name);
  md_raw(&b, "* changed: ");
  md_raw(&b, what);
  md_raw(&b, "\n");
  for (size_t w = 0; w < n_windows; w++) {
    if (!differs[w])
      continue;
    char t1[40], t2[40];
    md_printf(&b, "From %s to %s you now hold:\n",
              oncall_fmt_time(r, windows[w].from, t1, sizeof(t1)),
              oncall_fmt_time(r, windows[w].to, t2, sizeof(t2)));
    describe_for(r, &after[w], person, windows[w], &b);
  }
  struct msg *m = msg_new();
  int rc = m ? 0 : KX_ENOMEM;
  if (rc == 0) {
    char *fallback = kx_asprintf("Your on-call in %s changed", r->name);
    msg_set_fallback(m, fallback);
    free(fallback);
    rc = msg_section_take(m, &b);
  }
  if (rc == 0) {
    rc = out_dm(ctx, p, m, OUTBOX_NORMAL, NULL, NULL);
    if (rc == KX_ENOTFOUND)
      rc = 0; /* no Slack id (yet): logged by out_dm */
  }
  msg_free(m);
  buf_free(&b);
  return rc;
}

int oncall_notify_changed(struct cmd_ctx *ctx,
                          const struct rota *r,
                          const struct rota_change *before,
                          size_t n_before,
                          const struct rota_change *after,
                          size_t n_after,
                          const struct oncall_window *windows,
                          size_t n_windows,
                          const char *what_markup,
                          const char *actor,
                          struct buf *told)
{
  if (n_windows > MAX_WINDOWS)
    return KX_EINVAL;
  struct holds hb[MAX_WINDOWS], ha[MAX_WINDOWS];
  memset(hb, 0, sizeof(hb));
  memset(ha, 0, sizeof(ha));
  const char *people[MAX_PEOPLE];
  size_t n_people = 0;
  int rc = 0, n_told = 0;
  for (size_t w = 0; rc == 0 && w < n_windows; w++) {
    rc = holds_compute(r, before, n_before, windows[w], &hb[w]);
    if (rc == 0)
      rc = holds_compute(r, after, n_after, windows[w], &ha[w]);
    for (size_t i = 0; rc == 0 && i < hb[w].n; i++)
      add_person(people, &n_people, hb[w].v[i].person);
    for (size_t i = 0; rc == 0 && i < ha[w].n; i++)
      add_person(people, &n_people, ha[w].v[i].person);
  }
  for (size_t i = 0; rc == 0 && i < n_people; i++) {
    bool differs[MAX_WINDOWS] = {false};
    bool any = false;
    for (size_t w = 0; w < n_windows; w++) {
      differs[w] = !same_for(&hb[w], &ha[w], people[i]);
      any = any || differs[w];
    }
    if (!any || (actor && strcmp(actor, people[i]) == 0))
      continue;
    rc = dm_changed(ctx, r, people[i], ha, differs, windows, n_windows, what_markup);
    if (rc == 0 && told) {
      md_raw(told, n_told ? ", " : "");
      md_person(told, people[i]);
    }
    n_told++;
  }
  for (size_t w = 0; w < n_windows; w++) {
    free(hb[w].v);
    free(ha[w].v);
  }
  if (rc == 0)
    rc = oncall_sync_rota(ctx, r);
  return rc ? rc : n_told;
}
