/*
 * oncall_cmd_change.c — the commands that change who is on call: `/oncall override`, `away`,
 * `swap`, `cancel`, and `changes` (the list). Each change is stored (storage/rota_changes.h),
 * confirmed to the caller, announced in the rota's handoff channel, and DMed to every person
 * whose on-call time it changes (worked out by comparing who holds what before and after).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/oncall/oncall.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "storage/rota_changes.h"
#include "storage/rota_swaps.h"

/* ---- shared pieces of the commands ----------------------------------------------------------- */

static const char *actor_id(struct cmd_ctx *ctx, const struct cmd_request *req)
{
  const struct person *p = cmd_person_for_user(ctx, req->platform, req->user);
  return p ? p->id : req->user;
}

/* Who may change a rota (issue 17 item 6): its members (primary, secondary and shadow lists)
 * and its manager; for one change, also the person it concerns and whoever made it. The
 * dispatcher has already refused people outside `people`. */
static int may_change(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct rota *r,
                      const char *concerns,
                      const char *made_by,
                      struct cmd_reply *reply)
{
  const struct person *me = cmd_person_for_user(ctx, req->platform, req->user);
  if (!me) /* the system itself (CLI, tests of handlers without a user) */
    return req->platform == CMD_PLATFORM_SLACK || req->platform == CMD_PLATFORM_TEAMS ? KX_EAUTH
                                                                                      : 0;
  if (oncall_rota_has(r, me->id) || (r->manager && strcmp(r->manager, me->id) == 0) ||
      (concerns && strcmp(concerns, me->id) == 0) || (made_by && strcmp(made_by, me->id) == 0))
    return 0;
  LOG_WARN("oncall", "change_refused", "rota=%s person=%s", r->name, me->id);
  cmd_reply_printf(reply, "Only the members of *%s* and its manager can change it%s.", r->name,
                   concerns ? " (or the person the change is about)" : "");
  return KX_EAUTH;
}

static void md_actor(struct buf *b, struct cmd_ctx *ctx, const char *actor)
{
  if (actor && config_person(ctx->config, actor))
    md_person(b, actor);
  else if (actor)
    md_user(b, actor);
  else
    md_raw(b, "someone");
}

/* Post `what` in the rota's handoff channel(s). */
static int announce(struct cmd_ctx *ctx, const struct rota *r, const char *what, const char *plain)
{
  struct msg *m = msg_new();
  if (!m)
    return KX_ENOMEM;
  struct buf b;
  md_init(&b);
  md_raw(&b, ":repeat: *");
  md_text(&b, r->name);
  md_raw(&b, "*: ");
  md_raw(&b, what);
  int rc = msg_set_fallback(m, plain);
  if (rc == 0)
    rc = msg_section_take(m, &b);
  if (rc == 0) {
    int n = out_announce(ctx, OUT_HANDOFF, oncall_handoff_channel(r), m, OUTBOX_NORMAL, NULL, NULL);
    rc = n < 0 ? n : 0;
  }
  buf_free(&b);
  msg_free(m);
  return rc;
}

/* Parse FROM TO in the rota's zone and check them against now and the cap. */
static int parse_window(struct cmd_ctx *ctx,
                        const struct rota *r,
                        const char *from,
                        const char *to,
                        struct oncall_window *w,
                        struct cmd_reply *reply)
{
  if (rota_parse_range(r, from, to, &w->from, &w->to) != 0) {
    char *a = md_escape(from), *b = md_escape(to);
    cmd_reply_printf(reply,
                     "I could not read `%s` to `%s` as a time range (the end must be after the "
                     "start). Use %s.",
                     a ? a : "", b ? b : "", ROTA_TIME_HELP);
    free(a);
    free(b);
    return KX_EINVAL;
  }
  if (w->to <= ctx->now_ms) {
    cmd_reply_printf(reply, "That time is over already.");
    return KX_EINVAL;
  }
  if (w->to - w->from > ONCALL_CHANGE_MAX_MS) {
    cmd_reply_printf(reply, "A change can last at most 366 days.");
    return KX_EINVAL;
  }
  return 0;
}

static const struct person *person_arg(struct cmd_ctx *ctx,
                                       const struct cmd_request *req,
                                       const char *arg,
                                       struct cmd_reply *reply)
{
  const struct person *p = cmd_person_arg(ctx, req->platform, arg);
  if (!p) {
    char *esc = md_escape(arg);
    cmd_reply_printf(reply,
                     "I don't know who `%s` is: mention someone (@name) who is in the config's "
                     "people.",
                     esc ? esc : "");
    free(esc);
  }
  return p;
}

/* The rota's changes that matter for windows starting at `from` (owned by the caller). */
struct change_set {
  struct rota_change_row *rows;
  struct rota_change *ch;
  size_t n;
};

static int load_set(struct cmd_ctx *ctx, const struct rota *r, int64_t from, struct change_set *s)
{
  return oncall_changes_load(ctx, r->name, from, &s->rows, &s->ch, &s->n);
}

static void free_set(struct change_set *s)
{
  oncall_changes_free(s->rows, s->ch, s->n);
  memset(s, 0, sizeof(*s));
}

/* Store one change and tell everyone: the shared body of override and away. */
static int apply_change(struct cmd_ctx *ctx,
                        const struct rota *r,
                        const struct rota_change_new *c,
                        const char *label,
                        const char *actor,
                        struct buf *what,
                        struct buf *told,
                        int64_t *id_out)
{
  struct change_set before = {0}, after = {0};
  int rc = load_set(ctx, r, c->from_ms, &before);
  if (rc == 0)
    rc = rota_changes_add(ctx->db, c, id_out);
  if (rc == 0)
    rc = load_set(ctx, r, c->from_ms, &after);
  if (rc == 0)
    md_printf(what, " (%s #%lld, by ", label, (long long)*id_out);
  if (rc == 0) {
    md_actor(what, ctx, actor);
    md_raw(what, ")");
    struct oncall_window w = {c->from_ms, c->to_ms};
    rc = oncall_notify_changed(ctx, r, before.ch, before.n, after.ch, after.n, &w, 1, what->data,
                               actor, told);
    rc = rc < 0 ? rc : 0;
  }
  free_set(&before);
  free_set(&after);
  return rc;
}

static int finish_reply(struct cmd_reply *reply, const char *what, const struct buf *told)
{
  int rc = cmd_reply_printf(reply, "Done: %s.", what);
  if (rc == 0 && told->len)
    rc = cmd_reply_printf(reply, " I have told %s.", told->data);
  return rc;
}

/* ---- /oncall override ------------------------------------------------------------------------ */

int oncall_cmd_override(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        const struct cmd_args *args,
                        struct cmd_reply *reply)
{
  struct oncall_opts o;
  int rc = oncall_opts_parse(args, &o, reply);
  if (rc)
    return rc;
  if (o.n != 3) {
    cmd_usage(reply, args->def);
    return KX_EINVAL;
  }
  const struct person *p = person_arg(ctx, req, o.pos[0], reply);
  if (!p)
    return KX_EINVAL;
  const struct rota *r = oncall_pick_rota(ctx, o.rota, p->id, reply);
  if (!r)
    return KX_EINVAL;
  rc = may_change(ctx, req, r, NULL, NULL, reply);
  if (rc)
    return rc;
  struct oncall_window w;
  if (parse_window(ctx, r, o.pos[1], o.pos[2], &w, reply))
    return KX_EINVAL;
  const char *actor = actor_id(ctx, req);
  struct rota_change_new c = {
      .rota = r->name,
      .kind = ROTA_CHANGE_OVERRIDE,
      .person = p->id,
      .from_ms = w.from,
      .to_ms = w.to,
      .secondary = o.secondary,
      .created_by = actor,
      .reason = "override",
      .now_ms = ctx->now_ms,
  };
  char t1[40], t2[40];
  struct buf what, told;
  md_init(&what);
  md_init(&told);
  md_person(&what, p->id);
  md_printf(&what, " holds *%s* from %s to %s", o.secondary ? "secondary" : "primary",
            oncall_fmt_time(r, w.from, t1, sizeof(t1)), oncall_fmt_time(r, w.to, t2, sizeof(t2)));
  int64_t id = 0;
  rc = apply_change(ctx, r, &c, "override", actor, &what, &told, &id);
  if (rc == 0) {
    char *plain = kx_asprintf("Override in %s: %s holds %s from %s to %s", r->name,
                              cmd_person_name(p), o.secondary ? "secondary" : "primary", t1, t2);
    rc = announce(ctx, r, what.data, plain ? plain : "Override");
    free(plain);
  }
  if (rc == 0)
    rc = finish_reply(reply, what.data, &told);
  LOG_INFO("oncall", "override", "rota=%s person=%s id=%lld secondary=%d rc=%s", r->name, p->id,
           (long long)id, o.secondary, kx_err_name(rc));
  buf_free(&what);
  buf_free(&told);
  return rc;
}

/* ---- /oncall away ---------------------------------------------------------------------------- */

int oncall_cmd_away(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const struct cmd_args *args,
                    struct cmd_reply *reply)
{
  struct oncall_opts o;
  int rc = oncall_opts_parse(args, &o, reply);
  if (rc)
    return rc;
  if (o.n != 2 && o.n != 3) {
    cmd_usage(reply, args->def);
    return KX_EINVAL;
  }
  const struct person *p = NULL;
  if (o.n == 3) {
    p = person_arg(ctx, req, o.pos[0], reply);
  } else {
    p = cmd_person_for_user(ctx, req->platform, req->user);
    if (!p)
      cmd_reply_printf(reply,
                       "I don't know you yet: your Slack id or email must be in the config's "
                       "people. Or name the person: `/oncall away @user FROM TO`.");
  }
  if (!p)
    return KX_EINVAL;
  const char *from_text = o.pos[o.n - 2], *to_text = o.pos[o.n - 1];
  const struct config *cfg = ctx->config;
  const struct rota *rotas[64];
  size_t n_rotas = 0;
  if (o.rota) {
    const struct rota *r = oncall_pick_rota(ctx, o.rota, NULL, reply);
    if (!r)
      return KX_EINVAL;
    rotas[n_rotas++] = r;
  } else {
    for (size_t i = 0; i < cfg->n_rotas && n_rotas < KX_ARRAY_SIZE(rotas); i++)
      if (oncall_rota_has(&cfg->rotas[i], p->id))
        rotas[n_rotas++] = &cfg->rotas[i];
  }
  if (n_rotas == 0) {
    cmd_reply_printf(reply, "%s is in no rota, so nobody needs to cover.", cmd_person_name(p));
    return KX_EINVAL;
  }
  /* Every rota's range and right first (zones may differ), so a bad one changes nothing. A
   * person may mark themselves away anywhere they are; someone else only as a member or manager. */
  struct oncall_window w[64];
  for (size_t i = 0; i < n_rotas; i++) {
    if (parse_window(ctx, rotas[i], from_text, to_text, &w[i], reply))
      return KX_EINVAL;
    rc = may_change(ctx, req, rotas[i], p->id, NULL, reply);
    if (rc)
      return rc;
  }
  const char *actor = actor_id(ctx, req);
  struct buf told;
  md_init(&told);
  for (size_t i = 0; rc == 0 && i < n_rotas; i++) {
    const struct rota *r = rotas[i];
    char t1[40], t2[40];
    struct rota_change_new c = {
        .rota = r->name,
        .kind = ROTA_CHANGE_ABSENCE,
        .person = p->id,
        .from_ms = w[i].from,
        .to_ms = w[i].to,
        .created_by = actor,
        .reason = "away",
        .now_ms = ctx->now_ms,
    };
    struct buf what;
    md_init(&what);
    md_person(&what, p->id);
    md_printf(&what, " is away from %s to %s", oncall_fmt_time(r, w[i].from, t1, sizeof(t1)),
              oncall_fmt_time(r, w[i].to, t2, sizeof(t2)));
    int64_t id = 0;
    struct buf these;
    md_init(&these);
    rc = apply_change(ctx, r, &c, "absence", actor, &what, &these, &id);
    if (rc == 0 && these.len) {
      md_raw(&told, told.len ? ", " : "");
      md_raw(&told, these.data);
    }
    buf_free(&these);
    if (rc == 0) {
      char *plain = kx_asprintf("%s is away from %s to %s", cmd_person_name(p), t1, t2);
      rc = announce(ctx, r, what.data, plain ? plain : "Away");
      free(plain);
    }
    if (rc == 0)
      rc = cmd_reply_printf(reply, "%s*%s*: %s.", i ? "\n" : "Done. ", r->name, what.data);
    LOG_INFO("oncall", "away", "rota=%s person=%s id=%lld rc=%s", r->name, p->id, (long long)id,
             kx_err_name(rc));
    buf_free(&what);
  }
  if (rc == 0 && told.len)
    rc = cmd_reply_printf(reply, "\nI have told %s.", told.data);
  buf_free(&told);
  return rc;
}

/* ---- /oncall swap ---------------------------------------------------------------------------- */

/* The shift whose nominal (unmoved) handoff week contains local date d's handoff time. */
static int shift_of_date(const struct rota *r, struct kx_date d, int64_t *k_out)
{
  int64_t t;
  int rc = tz_from_local(rota_zone(r), d.y, d.m, d.d, r->handoff_minute / 60,
                         r->handoff_minute % 60, 0, &t);
  struct rota_shift s;
  if (rc == 0)
    rc = rota_shift_at(r, t, &s);
  if (rc)
    return rc;
  int64_t k = s.index;
  if (t < s.nominal_start_ms && k > 0)
    k--;
  else if (t >= s.nominal_end_ms)
    k++;
  *k_out = k;
  return 0;
}

/* WEEK: "#5" or "5" (1-based), "2026-12-07" (a date in it), "2026-W50" (an ISO week). */
static int parse_week(const struct rota *r, const char *text, int64_t *k_out)
{
  const char *p = text[0] == '#' ? text + 1 : text;
  char *end;
  long long n = strtoll(p, &end, 10);
  if (end != p && *end == '\0')
    return n >= 1 && n <= 1000000 ? (*k_out = n - 1, 0) : KX_EINVAL;
  struct kx_date d;
  /* "2026-W50": an ISO week (its Monday is in the week of 4 January, plus w - 1 weeks). */
  if (strlen(text) == 8 && text[4] == '-' && (text[5] == 'W' || text[5] == 'w')) {
    char *e1, *e2;
    long y = strtol(text, &e1, 10);
    long w = strtol(text + 6, &e2, 10);
    if (e1 != text + 4 || *e2 || y < 1970 || y > 9999 || w < 1 || w > 53)
      return KX_EINVAL;
    struct kx_date jan4 = {(int)y, 1, 4};
    int64_t monday = date_to_days(jan4) - (date_weekday(jan4) + 6) % 7 + 7LL * (w - 1);
    int wanted = r->shift_days % 7 == 0 ? (r->handoff_wday + 6) % 7 : 0;
    d = date_from_days(monday + wanted);
    return shift_of_date(r, d, k_out);
  }
  if (date_parse(text, &d) == 0)
    return shift_of_date(r, d, k_out);
  return KX_EINVAL;
}

static int store_swap(struct cmd_ctx *ctx,
                      const struct rota *r,
                      const struct rota_change plan[2],
                      const char *actor,
                      const char *a,
                      const char *b,
                      int64_t ids[2])
{
  for (int i = 0; i < 2; i++) {
    char reason[160];
    snprintf(reason, sizeof(reason), "swap: %s and %s", a, b);
    struct rota_change_new c = {
        .rota = r->name,
        .kind = ROTA_CHANGE_OVERRIDE,
        .person = plan[i].person,
        .from_ms = plan[i].from_ms,
        .to_ms = plan[i].to_ms,
        .created_by = actor,
        .reason = reason,
        .now_ms = ctx->now_ms,
    };
    int rc = rota_changes_add(ctx->db, &c, &ids[i]);
    if (rc)
      return rc;
  }
  return rota_swaps_pair(ctx->db, ids[0], ids[1]); /* one change: cancelled as one (issue 14) */
}

static int swap_refusal(struct cmd_reply *reply, int rc, const struct person *a)
{
  if (rc == KX_ENOTFOUND)
    cmd_reply_printf(reply, "%s has no shift of their own in that rota to give in return.",
                     cmd_person_name(a));
  else
    cmd_reply_printf(reply, "I cannot plan that swap (%s).", kx_strerror(rc));
  return KX_EINVAL;
}

int oncall_cmd_swap(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const struct cmd_args *args,
                    struct cmd_reply *reply)
{
  struct oncall_opts o;
  int rc = oncall_opts_parse(args, &o, reply);
  if (rc)
    return rc;
  if (o.n != 2) {
    cmd_usage(reply, args->def);
    return KX_EINVAL;
  }
  const struct person *other = person_arg(ctx, req, o.pos[0], reply);
  if (!other)
    return KX_EINVAL;
  const struct person *me = cmd_person_for_user(ctx, req->platform, req->user);
  if (!me) {
    cmd_reply_printf(reply, "I don't know you yet: your Slack id or email must be in the config.");
    return KX_EINVAL;
  }
  const struct rota *r = oncall_pick_rota(ctx, o.rota, other->id, reply);
  if (!r)
    return KX_EINVAL;
  rc = may_change(ctx, req, r, NULL, NULL, reply);
  if (rc)
    return rc;
  int64_t k;
  struct rota_shift s;
  if (parse_week(r, o.pos[1], &k) != 0 || rota_shift_by_index(r, k, &s) != 0) {
    char *esc = md_escape(o.pos[1]);
    cmd_reply_printf(reply,
                     "I could not find the shift `%s` in *%s*: give a shift number from "
                     "`/oncall schedule` (`#5`), a date in it or an ISO week (`2026-W50`).",
                     esc ? esc : "", r->name);
    free(esc);
    return KX_EINVAL;
  }
  if (s.start_ms == s.end_ms || s.end_ms <= ctx->now_ms) {
    cmd_reply_printf(reply, "Shift #%lld is %s.", (long long)k + 1,
                     s.start_ms == s.end_ms ? "skipped (holidays)" : "over already");
    return KX_EINVAL;
  }
  const struct person *a, *b;
  if (strcmp(s.primary, other->id) == 0) {
    a = me, b = other;
  } else if (strcmp(s.primary, me->id) == 0) {
    a = other, b = me;
  } else {
    cmd_reply_printf(reply, "Neither of you is the primary of shift #%lld in *%s*: it is <@p:%s>.",
                     (long long)k + 1, r->name, s.primary);
    return KX_EINVAL;
  }
  if (a == b) {
    cmd_reply_printf(reply, "That would be a swap with yourself.");
    return KX_EINVAL;
  }
  struct rota_change plan[2];
  int64_t j = 0;
  rc = rota_swap_plan(r, a->id, b->id, k, plan, &j);
  if (rc)
    return swap_refusal(reply, rc, a);
  const char *actor = actor_id(ctx, req);
  struct change_set before = {0}, after = {0};
  int64_t first = plan[0].from_ms < plan[1].from_ms ? plan[0].from_ms : plan[1].from_ms;
  int64_t ids[2] = {0, 0};
  rc = load_set(ctx, r, first, &before);
  if (rc == 0)
    rc = store_swap(ctx, r, plan, actor, a->id, b->id, ids);
  if (rc == 0)
    rc = load_set(ctx, r, first, &after);
  char t1[40], t2[40], t3[40], t4[40];
  struct buf what, told;
  md_init(&what);
  md_init(&told);
  md_person(&what, a->id);
  md_printf(&what, " takes shift #%lld (%s → %s) from ", (long long)k + 1,
            oncall_fmt_time(r, plan[0].from_ms, t1, sizeof(t1)),
            oncall_fmt_time(r, plan[0].to_ms, t2, sizeof(t2)));
  md_person(&what, b->id);
  md_raw(&what, ", and ");
  md_person(&what, b->id);
  md_printf(&what, " takes shift #%lld (%s → %s) in return (swap #%lld and #%lld, by ",
            (long long)j + 1, oncall_fmt_time(r, plan[1].from_ms, t3, sizeof(t3)),
            oncall_fmt_time(r, plan[1].to_ms, t4, sizeof(t4)), (long long)ids[0],
            (long long)ids[1]);
  md_actor(&what, ctx, actor);
  md_raw(&what, ")");
  if (rc == 0) {
    struct oncall_window w[2] = {{plan[0].from_ms, plan[0].to_ms},
                                 {plan[1].from_ms, plan[1].to_ms}};
    rc = oncall_notify_changed(ctx, r, before.ch, before.n, after.ch, after.n, w, 2, what.data,
                               actor, &told);
    rc = rc < 0 ? rc : 0;
  }
  if (rc == 0) {
    char *plain =
        kx_asprintf("Swap in %s: %s takes shift %lld, %s takes shift %lld", r->name,
                    cmd_person_name(a), (long long)k + 1, cmd_person_name(b), (long long)j + 1);
    rc = announce(ctx, r, what.data, plain ? plain : "Swap");
    free(plain);
  }
  if (rc == 0)
    rc = finish_reply(reply, what.data, &told);
  LOG_INFO("oncall", "swap", "rota=%s a=%s b=%s shift=%lld other_shift=%lld rc=%s", r->name, a->id,
           b->id, (long long)k, (long long)j, kx_err_name(rc));
  free_set(&before);
  free_set(&after);
  buf_free(&what);
  buf_free(&told);
  return rc;
}

/* ---- /oncall changes and /oncall cancel --------------------------------------------------------
 */

static void describe_change(struct cmd_ctx *ctx,
                            const struct rota *r,
                            const struct rota_change_row *c,
                            struct buf *b)
{
  char t1[40], t2[40];
  md_printf(b, "#%lld ", (long long)c->id);
  md_person(b, c->person);
  if (c->kind == ROTA_CHANGE_ABSENCE)
    md_raw(b, " away");
  else
    md_printf(b, " holds %s", c->secondary ? "secondary" : "primary");
  md_printf(b, " %s → %s", oncall_fmt_time(r, c->from_ms, t1, sizeof(t1)),
            oncall_fmt_time(r, c->to_ms, t2, sizeof(t2)));
  if (c->reason && strncmp(c->reason, "swap", 4) == 0)
    md_raw(b, " (swap)");
  md_raw(b, ", by ");
  md_actor(b, ctx, c->created_by);
}

int oncall_cmd_changes(struct cmd_ctx *ctx,
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
    struct rota_change_row *rows = NULL;
    size_t n = 0;
    rc = rota_changes_load(ctx->db, r->name, ctx->now_ms, ONCALL_LIST_MAX, &rows, &n);
    if (rc)
      break;
    md_raw(&b, b.len ? "\n*" : "*");
    md_text(&b, r->name);
    md_raw(&b, "*\n");
    if (n == 0)
      md_raw(&b, "• no overrides or absences from now on\n");
    for (size_t k = 0; k < n; k++) {
      md_raw(&b, "• ");
      describe_change(ctx, r, &rows[k], &b);
      md_raw(&b, "\n");
    }
    rota_change_rows_free(rows, n);
  }
  if (rc == 0)
    rc = cmd_reply_printf(reply, "%s_Cancel one with `/oncall cancel ID`._", b.data ? b.data : "");
  buf_free(&b);
  return rc;
}

/* The active change `id` of any rota (or of `only`): its rota and row. */
static int find_change(struct cmd_ctx *ctx,
                       const struct rota *only,
                       int64_t id,
                       const struct rota **r_out,
                       struct rota_change_row *out)
{
  for (size_t i = 0; i < ctx->config->n_rotas; i++) {
    const struct rota *r = &ctx->config->rotas[i];
    if (only && r != only)
      continue;
    struct rota_change_row *rows = NULL;
    size_t n = 0;
    int rc = rota_changes_load(ctx->db, r->name, ctx->now_ms, ROTA_MAX_CHANGES, &rows, &n);
    if (rc)
      return rc;
    for (size_t k = 0; k < n; k++) {
      if (rows[k].id != id)
        continue;
      *r_out = r;
      *out = rows[k];
      memset(&rows[k], 0, sizeof(rows[k]));
      rota_change_rows_free(rows, n);
      return 0;
    }
    rota_change_rows_free(rows, n);
  }
  return KX_ENOTFOUND;
}

int oncall_cmd_cancel(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply)
{
  struct oncall_opts o;
  int rc = oncall_opts_parse(args, &o, reply);
  if (rc)
    return rc;
  const char *p = o.n == 1 ? o.pos[0] : "";
  if (*p == '#')
    p++;
  char *end;
  long long id = strtoll(p, &end, 10);
  if (o.n != 1 || end == p || *end || id <= 0) {
    cmd_usage(reply, args->def);
    cmd_reply_printf(reply, " (ID: the number from `/oncall changes`)");
    return KX_EINVAL;
  }
  const struct rota *only = NULL;
  if (o.rota && !(only = oncall_pick_rota(ctx, o.rota, NULL, reply)))
    return KX_EINVAL;
  const struct rota *r = NULL;
  struct rota_change_row c;
  memset(&c, 0, sizeof(c));
  rc = find_change(ctx, only, id, &r, &c);
  if (rc == KX_ENOTFOUND) {
    cmd_reply_printf(reply, "There is no current or future change #%lld.", id);
    return KX_EINVAL;
  }
  if (rc)
    return rc;
  rc = may_change(ctx, req, r, c.person, c.created_by, reply);
  if (rc) {
    free(c.person);
    free(c.created_by);
    free(c.reason);
    return rc;
  }
  struct buf what, told;
  md_init(&what);
  md_init(&told);
  rc = oncall_change_remove(ctx, r, &c, actor_id(ctx, req), &what, &told);
  if (rc == 0)
    rc = finish_reply(reply, what.data, &told);
  free(c.person);
  free(c.created_by);
  free(c.reason);
  buf_free(&what);
  buf_free(&told);
  return rc;
}

int oncall_change_remove(struct cmd_ctx *ctx,
                         const struct rota *r,
                         const struct rota_change_row *c,
                         const char *actor,
                         struct buf *what,
                         struct buf *told)
{
  struct change_set before = {0}, after = {0};
  struct rota_change_row o; /* a swap's other half is cancelled with it (issue 14) */
  int rc = rota_swaps_other(ctx->db, r->name, c->id, &o);
  bool pair = rc == 0;
  if (rc != KX_ENOTFOUND && rc != 0)
    return rc;
  md_raw(what, pair ? "cancelled the swap " : "cancelled ");
  describe_change(ctx, r, c, what);
  if (pair) {
    md_raw(what, " and ");
    describe_change(ctx, r, &o, what);
  }
  md_raw(what, " (cancelled by ");
  md_actor(what, ctx, actor);
  md_raw(what, ")");
  int64_t from = pair && o.from_ms < c->from_ms ? o.from_ms : c->from_ms;
  rc = load_set(ctx, r, from, &before);
  if (rc == 0)
    rc = rota_changes_cancel(ctx->db, r->name, c->id, ctx->now_ms);
  if (rc == 0 && pair)
    rc = rota_changes_cancel(ctx->db, r->name, o.id, ctx->now_ms);
  if (rc == 0)
    rc = load_set(ctx, r, from, &after);
  if (rc == 0) {
    struct oncall_window w[2] = {{c->from_ms, c->to_ms}, {o.from_ms, o.to_ms}};
    rc = oncall_notify_changed(ctx, r, before.ch, before.n, after.ch, after.n, w, pair ? 2 : 1,
                               what->data, actor, told);
    rc = rc < 0 ? rc : 0;
  }
  if (rc == 0) {
    char *plain = pair ? kx_asprintf("Swap #%lld and #%lld in %s cancelled", (long long)c->id,
                                     (long long)o.id, r->name)
                       : kx_asprintf("Change %lld in %s cancelled", (long long)c->id, r->name);
    rc = announce(ctx, r, what->data, plain ? plain : "Cancelled");
    free(plain);
  }
  free(o.person);
  free(o.created_by);
  free(o.reason);
  free_set(&before);
  free_set(&after);
  return rc;
}

int oncall_absence_add(struct cmd_ctx *ctx,
                       const struct rota *r,
                       const struct oncall_absence *a,
                       struct buf *told,
                       int64_t *id_out)
{
  char t1[40], t2[40];
  struct rota_change_new c = {.rota = r->name,
                              .kind = ROTA_CHANGE_ABSENCE,
                              .person = a->person,
                              .from_ms = a->from_ms,
                              .to_ms = a->to_ms,
                              .created_by = a->actor,
                              .reason = a->reason,
                              .now_ms = ctx->now_ms};
  struct buf what;
  md_init(&what);
  md_person(&what, a->person);
  md_printf(&what, " is away from %s to %s", oncall_fmt_time(r, a->from_ms, t1, sizeof(t1)),
            oncall_fmt_time(r, a->to_ms, t2, sizeof(t2)));
  if (a->why)
    md_printf(&what, " (%s)", a->why);
  int rc = apply_change(ctx, r, &c, "absence", a->actor, &what, told, id_out);
  if (rc == 0) {
    char *plain = kx_asprintf("%s is away from %s to %s", a->person, t1, t2);
    rc = announce(ctx, r, what.data, plain ? plain : "Away");
    free(plain);
  }
  buf_free(&what);
  return rc;
}
