/*
 * oncall_cmd.c — `/oncall` (who is on call now), `/oncall schedule`, `/oncall help`, and the
 * helpers every /oncall file shares: times for people, slot holders as markup, option parsing
 * and picking the rota a command means.
 */
#include "commands/oncall/oncall_cmd.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/people.h"
#include "commands/oncall/oncall.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"

/* ---- shared helpers ------------------------------------------------------------------------ */

const char *oncall_fmt_time(const struct rota *r, int64_t ms, char *buf, size_t size)
{
  static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  struct kx_local l;
  if (tz_to_local(rota_zone(r), ms, &l) != 0) {
    char utc[40];
    snprintf(buf, size, "%s", time_format_utc(ms, utc, sizeof(utc)));
    return buf;
  }
  snprintf(buf, size, "%s %04d-%02d-%02d %02d:%02d", days[l.wday % 7], l.y, l.m, l.d, l.hh, l.mm);
  return buf;
}

static int oncall_md_slot(struct buf *b, const struct rota_slot *s)
{
  switch (s->source) {
    case ROTA_SRC_NONE:
      return md_raw(b, "—");
    case ROTA_SRC_SCHEDULE:
      return md_person(b, s->person);
    case ROTA_SRC_OVERRIDE:
      md_person(b, s->person);
      return md_raw(b, " (override)");
    case ROTA_SRC_COVER:
      md_person(b, s->person);
      md_raw(b, " (covering for ");
      md_person(b, s->scheduled);
      return md_raw(b, ", who is away)");
    case ROTA_SRC_UNCOVERED:
      md_raw(b, "*nobody*");
      if (!s->scheduled)
        return 0;
      md_raw(b, " (");
      md_person(b, s->scheduled);
      return md_raw(b, " is away and nobody can cover)");
  }
  return 0;
}

const char *oncall_handoff_channel(const struct rota *r)
{
  return r ? r->handoff_channel : NULL;
}

static int in_list(char *const *list, size_t n, const char *person)
{
  for (size_t i = 0; i < n; i++)
    if (list[i] && strcmp(list[i], person) == 0)
      return 1;
  return 0;
}

int oncall_rota_has(const struct rota *r, const char *person)
{
  if (!person)
    return 0;
  return in_list(r->primary, r->n_primary, person) ||
         in_list(r->secondary, r->n_secondary, person) || in_list(r->shadow, r->n_shadow, person);
}

static bool is_date(const char *s)
{
  return strlen(s) == 10 && isdigit((unsigned char)s[0]) && s[4] == '-' && s[7] == '-';
}

static bool is_clock(const char *s)
{
  size_t n = strlen(s);
  return (n == 5 || n == 8) && isdigit((unsigned char)s[0]) && s[2] == ':';
}

int oncall_opts_parse(const struct cmd_args *args, struct oncall_opts *o, struct cmd_reply *reply)
{
  memset(o, 0, sizeof(*o));
  /* The dispatcher took the row's options out of the words; the last of --secondary and
   * --primary wins. */
  o->rota = cmd_opt(args, "rota");
  for (int i = 0; i < args->opts.n; i++) {
    const char *name = args->opts.set[i].def->name;
    if (strcmp(name, "secondary") == 0)
      o->secondary = true;
    else if (strcmp(name, "primary") == 0)
      o->secondary = false;
  }
  for (int i = 0; i < args->argc; i++) {
    const char *a = args->argv[i];
    if (strcmp(a, "to") == 0 || strcmp(a, "until") == 0 || strcmp(a, "-") == 0 ||
        strcmp(a, "from") == 0 || strcmp(a, "\xe2\x86\x92") == 0)
      continue;
    if (o->n == ONCALL_MAX_POSITIONAL) {
      cmd_reply_printf(reply, "That is more words than I expected.");
      return KX_EINVAL;
    }
    if (is_date(a) && i + 1 < args->argc && is_clock(args->argv[i + 1])) {
      snprintf(o->joined[o->n], sizeof(o->joined[o->n]), "%s %s", a, args->argv[i + 1]);
      o->pos[o->n] = o->joined[o->n];
      o->n++;
      i++;
    } else {
      o->pos[o->n++] = a;
    }
  }
  return 0;
}

static void list_rotas(struct cmd_ctx *ctx, struct cmd_reply *reply)
{
  for (size_t i = 0; i < ctx->config->n_rotas; i++) {
    char *esc = md_escape(ctx->config->rotas[i].name);
    cmd_reply_printf(reply, "%s`%s`", i ? ", " : "", esc ? esc : "");
    free(esc);
  }
}

const struct rota *oncall_pick_rota(struct cmd_ctx *ctx,
                                    const char *name,
                                    const char *person,
                                    struct cmd_reply *reply)
{
  const struct config *c = ctx->config;
  if (name) {
    const struct rota *r = config_rota(c, name);
    if (!r) {
      char *esc = md_escape(name);
      cmd_reply_printf(reply, "There is no rota called `%s`. The rotas are: ", esc ? esc : "");
      free(esc);
      list_rotas(ctx, reply);
      cmd_reply_printf(reply, ".");
    }
    return r;
  }
  if (c->n_rotas == 1)
    return &c->rotas[0];
  const struct rota *found = NULL;
  int n = 0;
  for (size_t i = 0; person && i < c->n_rotas; i++) {
    if (oncall_rota_has(&c->rotas[i], person)) {
      found = &c->rotas[i];
      n++;
    }
  }
  if (n == 1)
    return found;
  cmd_reply_printf(reply, "Which rota? Add `--rota NAME` (one of ");
  list_rotas(ctx, reply);
  cmd_reply_printf(reply, ").");
  return NULL;
}

/* ---- /oncall (who) --------------------------------------------------------------------------- */

static void contacts_line(struct cmd_ctx *ctx, const struct rota *r, struct buf *b)
{
  if (!r->n_contacts || !rota_in_business_hours(r, ctx->now_ms))
    return;
  md_raw(b, "• Business-hours contacts (it is business hours now): ");
  for (size_t i = 0; i < r->n_contacts; i++) {
    md_raw(b, i ? ", " : "");
    md_text(b, r->contacts[i].role);
    md_raw(b, " ");
    md_person(b, r->contacts[i].person);
  }
  md_raw(b, "\n");
}

static void until_text(const struct rota *r, int64_t until, bool capped, struct buf *b)
{
  char t[40];
  if (capped)
    md_raw(b, " until further notice");
  else
    md_printf(b, " until %s", oncall_fmt_time(r, until, t, sizeof(t)));
}

/* One rota's block of the /oncall answer. */
static int who_rota(struct cmd_ctx *ctx, const struct rota *r, struct buf *b)
{
  char t[40];
  md_raw(b, "*");
  md_text(b, r->name);
  md_raw(b, "* (");
  md_text(b, rota_zone(r));
  md_raw(b, ")\n");
  struct oncall_view v;
  int rc = oncall_at(ctx, r, ctx->now_ms, &v);
  if (rc) {
    md_printf(b, "• I cannot work this rota out (%s).\n", kx_strerror(rc));
    LOG_WARN("oncall", "who_failed", "rota=%s err=%s", r->name, kx_err_name(rc));
    return rc == KX_ENOMEM || rc == KX_EDB ? rc : 0;
  }
  const struct rota_oncall *o = &v.now;
  if (!o->started) {
    md_printf(b, "• Not started yet: the first shift begins %s with ",
              oncall_fmt_time(r, o->shift.start_ms, t, sizeof(t)));
    md_person(b, o->shift.primary);
    md_raw(b, " as primary.\n");
    oncall_view_free(&v);
    return 0;
  }
  md_raw(b, "• Primary: ");
  oncall_md_slot(b, &o->primary);
  cmd_md_phone(b, ctx->config, o->primary.person);
  if (o->primary.person)
    until_text(r, o->primary_until_ms, o->primary_until_capped, b);
  md_raw(b, "\n");
  if (o->secondary.source != ROTA_SRC_NONE) {
    md_raw(b, "• Secondary: ");
    oncall_md_slot(b, &o->secondary);
    cmd_md_phone(b, ctx->config, o->secondary.person);
    if (o->secondary.person)
      until_text(r, o->secondary_until_ms, o->secondary_until_capped, b);
    md_raw(b, "\n");
  }
  if (o->shadow) {
    md_raw(b, "• Shadow: ");
    md_person(b, o->shadow);
    md_raw(b, "\n");
  }
  if (o->manager) {
    md_raw(b, "• Manager: ");
    md_person(b, o->manager);
    md_raw(b, "\n");
  }
  char t2[40];
  md_printf(b, "• Shift #%lld: %s → %s\n", (long long)o->shift.index + 1,
            oncall_fmt_time(r, o->shift.start_ms, t, sizeof(t)),
            oncall_fmt_time(r, o->shift.end_ms, t2, sizeof(t2)));
  contacts_line(ctx, r, b);
  oncall_view_free(&v);
  return 0;
}

int oncall_cmd_who(struct cmd_ctx *ctx,
                   const struct cmd_request *req,
                   const struct cmd_args *args,
                   struct cmd_reply *reply)
{
  (void)req;
  struct oncall_opts o;
  int rc = oncall_opts_parse(args, &o, reply);
  if (rc)
    return rc;
  const char *name = o.rota ? o.rota : (o.n ? o.pos[0] : NULL);
  const struct rota *only = NULL;
  if (name && !(only = oncall_pick_rota(ctx, name, NULL, reply)))
    return KX_EINVAL;
  struct buf b;
  md_init(&b);
  for (size_t i = 0; rc == 0 && i < ctx->config->n_rotas; i++) {
    const struct rota *r = &ctx->config->rotas[i];
    if (only && r != only)
      continue;
    if (b.len)
      md_raw(&b, "\n");
    rc = who_rota(ctx, r, &b);
  }
  if (rc == 0)
    rc = cmd_reply_printf(reply, "%s", b.data ? b.data : "");
  buf_free(&b);
  return rc;
}

/* ---- /oncall schedule ------------------------------------------------------------------------ */

static void segment_people(const struct rota_segment *s, struct buf *b)
{
  oncall_md_slot(b, &s->primary);
  if (s->secondary.source != ROTA_SRC_NONE) {
    md_raw(b, ", secondary ");
    oncall_md_slot(b, &s->secondary);
  }
  if (s->shadow) {
    md_raw(b, ", shadow ");
    md_person(b, s->shadow);
  }
}

static bool segment_plain(const struct rota_segment *s)
{
  return s->primary.source == ROTA_SRC_SCHEDULE &&
         (s->secondary.source == ROTA_SRC_SCHEDULE || s->secondary.source == ROTA_SRC_NONE);
}

/* The shifts of segs[from, to) (one shift) as a bullet with sub-bullets for the changes. */
static void schedule_shift(
    const struct rota *r, const struct rota_segment *segs, size_t from, size_t to, struct buf *b)
{
  char t1[40], t2[40];
  const struct rota_segment *first = &segs[from];
  md_printf(b, "• *#%lld* %s → %s: ", (long long)first->shift_index + 1,
            oncall_fmt_time(r, first->start_ms, t1, sizeof(t1)),
            oncall_fmt_time(r, segs[to - 1].end_ms, t2, sizeof(t2)));
  md_person(b, first->primary.scheduled);
  if (first->secondary.source != ROTA_SRC_NONE && first->secondary.scheduled) {
    md_raw(b, ", secondary ");
    md_person(b, first->secondary.scheduled);
  }
  if (first->late_handoff) {
    md_printf(b, " _(handoff moved from %s by a holiday or weekend)_",
              oncall_fmt_time(r, first->nominal_start_ms, t1, sizeof(t1)));
  }
  md_raw(b, "\n");
  bool changed = false;
  for (size_t i = from; i < to; i++)
    changed = changed || !segment_plain(&segs[i]);
  if (!changed)
    return;
  for (size_t i = from; i < to; i++) {
    md_printf(b, "    ◦ %s → %s: ", oncall_fmt_time(r, segs[i].start_ms, t1, sizeof(t1)),
              oncall_fmt_time(r, segs[i].end_ms, t2, sizeof(t2)));
    segment_people(&segs[i], b);
    md_raw(b, "\n");
  }
}

/* Changes that can matter from the start of the shift containing `at` on. */
static int64_t changes_since(const struct rota *r, int64_t at)
{
  struct rota_shift s;
  int rc = rota_shift_at(r, at, &s);
  return rc == 0 ? s.start_ms : at;
}

static int schedule_rota(struct cmd_ctx *ctx, const struct rota *r, size_t n, struct buf *b)
{
  struct rota_change_row *rows = NULL;
  struct rota_change *changes = NULL;
  size_t nc = 0;
  int rc = oncall_changes_load(ctx, r->name, changes_since(r, ctx->now_ms), &rows, &changes, &nc);
  if (rc)
    return rc;
  struct rota_segment *segs = NULL;
  size_t ns = 0;
  rc = rota_schedule(r, changes, nc, ctx->now_ms, n, &segs, &ns);
  md_raw(b, "*");
  md_text(b, r->name);
  md_printf(b, "* — the next %zu shift%s (", n, n == 1 ? "" : "s");
  md_text(b, rota_zone(r));
  md_raw(b, ")\n");
  if (rc) {
    md_printf(b, "• I cannot work this rota out (%s).\n", kx_strerror(rc));
    rc = rc == KX_ENOMEM ? rc : 0;
  }
  for (size_t i = 0; rc == 0 && i < ns;) {
    size_t j = i + 1;
    while (j < ns && segs[j].shift_index == segs[i].shift_index)
      j++;
    schedule_shift(r, segs, i, j, b);
    i = j;
  }
  rota_segments_free(segs);
  oncall_changes_free(rows, changes, nc);
  return rc;
}

int oncall_cmd_schedule(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        const struct cmd_args *args,
                        struct cmd_reply *reply)
{
  (void)req;
  struct oncall_opts o;
  int rc = oncall_opts_parse(args, &o, reply);
  if (rc)
    return rc;
  long n = ONCALL_SCHEDULE_DEFAULT;
  const char *rota_name = o.rota;
  for (int i = 0; i < o.n; i++) {
    char *end;
    long v = strtol(o.pos[i], &end, 10);
    if (end != o.pos[i] && *end == '\0') {
      if (v < 1 || v > ONCALL_SCHEDULE_MAX) {
        cmd_reply_printf(reply,
                         "I show 1 to %d shifts here; `klaxon schedule --weeks N` shows more.",
                         ONCALL_SCHEDULE_MAX);
        return KX_EINVAL;
      }
      n = v;
    } else if (!rota_name) {
      rota_name = o.pos[i];
    } else {
      cmd_usage(reply, args->def);
      return KX_EINVAL;
    }
  }
  const struct rota *only = NULL;
  if (rota_name && !(only = oncall_pick_rota(ctx, rota_name, NULL, reply)))
    return KX_EINVAL;
  struct buf b;
  md_init(&b);
  for (size_t i = 0; rc == 0 && i < ctx->config->n_rotas; i++) {
    const struct rota *r = &ctx->config->rotas[i];
    if (only && r != only)
      continue;
    if (b.len)
      md_raw(&b, "\n");
    rc = schedule_rota(ctx, r, (size_t)n, &b);
  }
  if (rc == 0)
    rc = cmd_reply_printf(reply, "%s", b.data ? b.data : "");
  buf_free(&b);
  return rc;
}

/* ---- /oncall help ---------------------------------------------------------------------------- */

int oncall_cmd_help(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const struct cmd_args *args,
                    struct cmd_reply *reply)
{
  (void)ctx;
  (void)args;
  int rc = cmd_help(req->command ? req->command : "oncall", reply);
  if (rc == 0)
    rc =
        cmd_reply_printf(reply,
                         "FROM and TO are %s. A date alone means the whole day: "
                         "`/oncall away 2026-12-01 2026-12-03` is 1 December 00:00 to 4 December "
                         "00:00. WEEK (for swap) is a shift number from `/oncall schedule` (`#5`), "
                         "a date in that shift (`2026-12-07`) or an ISO week (`2026-W50`).",
                         ROTA_TIME_HELP);
  return rc;
}
