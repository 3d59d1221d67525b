/*
 * status_cmd.c — `/oncall checks` (every check and heartbeat with its state) and
 * `/incident maintenance COMPONENT FROM TO TEXT` (a window on the status page).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/names.h"
#include "commands/oncall/rota.h"
#include "commands/status/status.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

#define WINDOW_MAX_MS (31LL * 24 * MS_PER_HOUR)
#define WINDOW_TEXT_MAX 1000

int status_schedule_window(struct cmd_ctx *ctx, const struct status_window *w, int64_t id);

static const struct status_check *find(const struct status_check *v, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i].name, name) == 0)
      return &v[i];
  return NULL;
}

static void line(struct buf *b,
                 struct cmd_ctx *ctx,
                 const char *kind,
                 const char *name,
                 const char *target,
                 const char *component,
                 const struct status_check *st)
{
  char when[64], dur[32];
  const char *word = !st || !st->last_at ? "not run yet"
                     : st->firing        ? "DOWN (alert raised)"
                     : !st->up           ? "failing"
                                         : "up";
  if (status_in_maintenance(ctx, component) == 1)
    word = "under maintenance (not paged)";
  md_raw(b, "\n• ");
  md_raw(b, kind);
  md_raw(b, " *");
  md_text(b, name);
  md_raw(b, "*");
  if (target) {
    md_raw(b, " (");
    md_text(b, target);
    md_raw(b, ")");
  }
  md_printf(b, ": %s", word);
  if (st && st->last_at) {
    time_format_duration(ctx->now_ms - st->last_at, dur, sizeof(dur));
    md_printf(b, ", last %s ago", dur);
    if (st->last_ms > 0)
      md_printf(b, " in %.0f ms", st->last_ms);
  }
  if (st && !st->up && st->down_since) {
    time_format_utc(st->down_since, when, sizeof(when));
    md_printf(b, ", failing since %s", when);
  }
  if (st && st->detail && !st->up) {
    md_raw(b, " — ");
    md_text(b, st->detail);
  }
  if (st && st->warn) {
    md_raw(b, " :warning: ");
    md_text(b, st->warn);
  }
}

int status_cmd_checks(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply)
{
  (void)req;
  (void)args;
  const struct config *c = ctx->config;
  if (c->n_checks == 0 && c->n_heartbeats == 0) {
    cmd_reply_printf(reply,
                     "No checks or heartbeats are configured (`checks:` and `heartbeats:` "
                     "in the config).");
    return 0;
  }
  struct status_check *all;
  size_t n;
  int rc = status_checks_all(ctx->db, &all, &n);
  if (rc)
    return rc;
  struct buf b;
  md_init(&b);
  md_printf(&b, "*Checks and heartbeats* (%zu):", c->n_checks + c->n_heartbeats);
  for (size_t i = 0; i < c->n_checks; i++) {
    const struct check_config *k = &c->checks[i];
    line(&b, ctx, "check", k->name, k->http ? k->http : k->tcp, k->component,
         find(all, n, k->name));
  }
  for (size_t i = 0; i < c->n_heartbeats; i++) {
    const struct heartbeat_config *k = &c->heartbeats[i];
    line(&b, ctx, "heartbeat", k->name, NULL, k->component, find(all, n, k->name));
  }
  rc = buf_append(&reply->text, b.data, b.len);
  buf_free(&b);
  status_checks_free(all, n);
  return rc;
}

/* The zone FROM and TO are read in: the first rota in the config's zone, else the first. */
static const struct rota *zone_rota(const struct config *c)
{
  for (size_t i = 0; i < c->n_rotas; i++)
    if (c->rotas[i].timezone && c->timezone && strcmp(c->rotas[i].timezone, c->timezone) == 0)
      return &c->rotas[i];
  return c->n_rotas ? &c->rotas[0] : NULL;
}

int status_cmd_maintenance(struct cmd_ctx *ctx,
                           const struct cmd_request *req,
                           const struct cmd_args *args,
                           struct cmd_reply *reply)
{
  const char *component = args->argv[0];
  if (!config_component(ctx->config, component)) {
    char *e = md_escape(component);
    cmd_reply_printf(reply, "`%s` is not a component of the status page (status_page.components).",
                     e ? e : "");
    free(e);
    return KX_ENOTFOUND;
  }
  struct status_window w = {0};
  const struct rota *r = zone_rota(ctx->config);
  if (!r || rota_parse_range(r, args->argv[1], args->argv[2], &w.from_ms, &w.to_ms) != 0) {
    cmd_reply_printf(reply,
                     "I could not read FROM and TO as a time range (the end after the start). "
                     "Use %s.",
                     ROTA_TIME_HELP);
    return KX_EINVAL;
  }
  if (w.to_ms <= ctx->now_ms) {
    cmd_reply_printf(reply, "That window is over already.");
    return KX_EINVAL;
  }
  if (w.to_ms - w.from_ms > WINDOW_MAX_MS) {
    cmd_reply_printf(reply, "A maintenance window can last at most 31 days.");
    return KX_EINVAL;
  }
  if (strlen(args->rest[3]) > WINDOW_TEXT_MAX) {
    cmd_reply_printf(reply, "The text is too long (at most %d characters).", WINDOW_TEXT_MAX);
    return KX_EINVAL;
  }
  w.component = (char *)component;
  w.text = (char *)args->rest[3];
  w.created_by = (char *)(req->user ? req->user : "?");
  int64_t id = 0;
  int rc = status_window_add(ctx->db, &w, ctx->now_ms, &id);
  if (rc == KX_EEXISTS) {
    cmd_reply_printf(reply, "That window is already scheduled.");
    return KX_ESTATE;
  }
  if (rc == 0)
    rc = status_schedule_window(ctx, &w, id);
  if (rc == 0) {
    char a[40], b[40];
    struct buf m;
    md_init(&m);
    md_printf(&m, ":construction: Maintenance #%lld on *", (long long)id);
    md_text(&m, component);
    md_printf(&m,
              "* from %s to %s is on the status page; alerts for it are recorded, not paged, "
              "during the window.",
              time_format_utc(w.from_ms, a, sizeof(a)), time_format_utc(w.to_ms, b, sizeof(b)));
    rc = buf_append(&reply->text, m.data, m.len);
    buf_free(&m);
  }
  return rc;
}
