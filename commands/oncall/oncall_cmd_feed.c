/*
 * oncall_cmd_feed.c — a rota's iCalendar feed, shared by GET /calendar/R.ics and
 * `klaxon export-ical`: the window (four weeks back, `weeks` ahead) and the stored changes.
 */
#include <stdlib.h>

#include "commands/oncall/ical.h"
#include "commands/oncall/oncall.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

size_t oncall_shifts_for_days(const struct rota *r, int64_t days)
{
  int64_t per = r->shift_days > 0 ? r->shift_days : 7;
  int64_t n = (days + per - 1) / per + 1;
  if (n < 1)
    n = 1;
  if (n > ROTA_MAX_SCHEDULE_SHIFTS)
    n = ROTA_MAX_SCHEDULE_SHIFTS;
  return (size_t)n;
}

int oncall_changes_load_opt(struct cmd_ctx *ctx,
                            const struct rota *r,
                            int64_t after_ms,
                            struct rota_change_row **rows,
                            struct rota_change **changes,
                            size_t *n)
{
  *rows = NULL;
  *changes = NULL;
  *n = 0;
  if (!ctx->db)
    return 0;
  return oncall_changes_load(ctx, r->name, after_ms, rows, changes, n);
}

int oncall_ical(struct cmd_ctx *ctx, const struct rota *r, int weeks, struct buf *out)
{
  if (weeks < 1 || weeks > ONCALL_ICAL_MAX_WEEKS)
    return KX_EINVAL;
  int64_t from = ctx->now_ms - ONCALL_ICAL_PAST_DAYS * MS_PER_DAY;
  struct rota_change_row *rows = NULL;
  struct rota_change *changes = NULL;
  size_t n = 0;
  int rc = oncall_changes_load_opt(ctx, r, from, &rows, &changes, &n);
  if (rc)
    return rc;
  size_t shifts = oncall_shifts_for_days(r, ONCALL_ICAL_PAST_DAYS + 7LL * weeks);
  rc = ical_render_rota(ctx->config, r, changes, n, from, shifts, ctx->now_ms, out);
  oncall_changes_free(rows, changes, n);
  return rc;
}
