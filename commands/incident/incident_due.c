/*
 * incident_due.c — action items' due dates (issue 14): `--due 2026-12-10` (or `--due 7d`), the
 * severity's `action_due` by default; a DM to the owner on the due day (at the start of the
 * business hours of the owner's rota, or 09:00 in the config's time zone) and once a day when
 * overdue, at most INCIDENT_ACTION_OVERDUE_MAX times, each a durable job (key
 * "action:INCIDENT:N:K", so it runs exactly once across restarts); the reminder's **Done**
 * button closes the item.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/out.h"
#include "commands/incident/incident_internal.h"
#include "commands/incident/incident_rows.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "storage/incident_actions.h"
#include "storage/jobs.h"

/* The owner's rota (the first that has them as primary or secondary), or NULL. */
static const struct rota *owner_rota(const struct config *c, const char *owner)
{
  for (size_t i = 0; owner && i < c->n_rotas; i++) {
    const struct rota *r = &c->rotas[i];
    for (size_t k = 0; k < r->n_primary; k++)
      if (kx_streq(r->primary[k], owner))
        return r;
    for (size_t k = 0; k < r->n_secondary; k++)
      if (kx_streq(r->secondary[k], owner))
        return r;
  }
  return NULL;
}

static const char *owner_zone(const struct config *c, const char *owner, int *minute)
{
  const struct rota *r = owner_rota(c, owner);
  *minute = r && r->has_hours ? r->hours_start_min : 9 * 60;
  if (r && r->timezone)
    return r->timezone;
  return c->timezone ? c->timezone : "UTC";
}

/* When the reminder K (0: the due day, 1…: the days after) of a due date is sent. */
static int remind_time(
    const struct config *c, const char *owner, struct kx_date d, int k, int64_t *at)
{
  int minute;
  const char *zone = owner_zone(c, owner, &minute);
  struct kx_date day = date_add_days(d, k);
  return tz_from_local(zone, day.y, day.m, day.d, minute / 60, minute % 60, 0, at);
}

static int schedule(struct cmd_ctx *ctx,
                    const char *owner,
                    int64_t incident_id,
                    int64_t number,
                    struct kx_date d,
                    int k)
{
  int64_t at;
  if (remind_time(ctx->config, owner, d, k, &at))
    return KX_EINVAL;
  char key[80], ref[80];
  snprintf(key, sizeof(key), "action:%lld:%lld:%d", (long long)incident_id, (long long)number, k);
  snprintf(ref, sizeof(ref), "%lld:%lld:%d", (long long)incident_id, (long long)number, k);
  int rc = jobs_schedule(ctx->db, CMD_JOB_INCIDENT_ACTION_DUE, key, at, ref, ctx->now_ms);
  return rc == KX_EEXISTS ? 0 : rc;
}

int incident_action_set_due(struct cmd_ctx *ctx,
                            const struct incident *inc,
                            int64_t number,
                            const char *owner,
                            const char *typed,
                            char *shown,
                            size_t shown_size,
                            struct cmd_reply *reply)
{
  const struct severity *sev = config_severity(ctx->config, inc->severity);
  int minute;
  const char *zone = owner_zone(ctx->config, owner, &minute);
  struct kx_local now;
  if (tz_to_local(zone, ctx->now_ms, &now))
    return KX_EINVAL;
  struct kx_date today = {now.y, now.m, now.d}, d;
  int64_t ms = 0;
  shown[0] = '\0';
  if (typed) {
    if (date_parse(typed, &d) != 0) {
      if (time_parse_duration(typed, &ms) != 0 || ms <= 0 || ms > 366LL * 86400000LL) {
        cmd_reply_printf(reply,
                         "`--due` takes a date (2026-12-10) or a time from now (7d, 2w), not "
                         "`%.40s`.",
                         typed);
        return KX_EINVAL;
      }
    } else if (date_cmp(d, today) < 0) {
      cmd_reply_printf(reply, "The due date %04d-%02d-%02d is in the past.", d.y, d.m, d.d);
      return KX_EINVAL;
    } else if (date_to_days(d) - date_to_days(today) > 3660) {
      cmd_reply_printf(reply, "The due date %04d-%02d-%02d is too far away.", d.y, d.m, d.d);
      return KX_EINVAL;
    }
  } else if (sev && sev->action_due_ms > 0) {
    ms = sev->action_due_ms;
  } else {
    return 0; /* no due date */
  }
  if (ms > 0) {
    struct kx_local l;
    if (tz_to_local(zone, ctx->now_ms + ms, &l))
      return KX_EINVAL;
    d = (struct kx_date){l.y, l.m, l.d};
  }
  struct kx_date next = date_add_days(d, 1);
  int64_t due_at;
  if (tz_from_local(zone, next.y, next.m, next.d, 0, 0, 0, &due_at))
    return KX_EINVAL;
  snprintf(shown, shown_size, "%04d-%02d-%02d", d.y, d.m, d.d);
  int rc = incident_actions_set_due(ctx->db, inc->id, number, due_at, shown);
  /* The due day's reminder, unless that moment has passed (then the first overdue one). */
  int64_t at = 0;
  int k = 0;
  if (rc == 0 && remind_time(ctx->config, owner, d, 0, &at) == 0 && at <= ctx->now_ms)
    k = 1;
  if (rc == 0)
    rc = schedule(ctx, owner, inc->id, number, d, k);
  return rc;
}

static int dm_owner(struct cmd_ctx *ctx, const char *owner, struct msg *m)
{
  const struct person *p = owner ? config_person(ctx->config, owner) : NULL;
  if (p) {
    int rc = out_dm(ctx, p, m, OUTBOX_NORMAL, NULL, NULL);
    return rc == KX_ENOTFOUND ? 0 : rc;
  }
  if (owner && (owner[0] == 'U' || owner[0] == 'W'))
    return out_post(ctx, owner, m, OUTBOX_NORMAL, NULL, NULL, NULL);
  return 0;
}

int incident_job_action_due(struct cmd_ctx *ctx, const struct job *job)
{
  long long id = 0, number = 0;
  int k = 0;
  if (!job->ref || sscanf(job->ref, "%lld:%lld:%d", &id, &number, &k) != 3 || k < 0)
    return 0;
  struct incident_action *a = NULL;
  int rc = incident_actions_get(ctx->db, id, number, &a);
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  struct kx_date d;
  if (a->done_at || a->incident_drill || !a->due_date || date_parse(a->due_date, &d) != 0)
    goto done; /* done meanwhile: no reminder */
  struct buf b;
  md_init(&b);
  if (k == 0)
    md_printf(&b, ":alarm_clock: Your action item *#%lld.%lld* is due today (%s): ", id, number,
              a->due_date);
  else
    md_printf(&b, ":warning: Your action item *#%lld.%lld* is *overdue* (it was due %s): ", id,
              number, a->due_date);
  md_textn(&b, a->text, 500);
  md_raw(&b, "\nFrom incident #");
  md_printf(&b, "%lld ", id);
  md_textn(&b, a->incident_title ? a->incident_title : "", 150);
  md_raw(&b, ". Press *Done* when it is done.");
  char value[64];
  snprintf(value, sizeof(value), "%lld:%lld", id, number);
  struct msg *m = msg_new();
  rc = m ? msg_section_take(m, &b) : KX_ENOMEM;
  if (rc == 0)
    rc = msg_set_fallback(m, k == 0 ? "An action item is due today" : "An action item is overdue");
  if (rc == 0)
    rc = msg_button(m, "Done", CMD_ACTION_INCIDENT_ACTION_DONE, value, MSG_STYLE_PRIMARY);
  if (rc == 0)
    rc = dm_owner(ctx, a->owner, m);
  msg_free(m);
  buf_free(&b);
  if (rc == 0 && k < INCIDENT_ACTION_OVERDUE_MAX)
    rc = schedule(ctx, a->owner, id, number, d, k + 1);
  LOG_INFO("incident", "action_reminder", "id=%lld number=%lld k=%d", id, number, k);
done:
  incident_actions_free(a, 1);
  return rc;
}

int incident_btn_action_done(struct cmd_ctx *ctx,
                             const struct cmd_request *req,
                             struct cmd_reply *reply)
{
  long long id = 0, number = 0;
  char tail = 0;
  if (!req->action_value || sscanf(req->action_value, "%lld:%lld%c", &id, &number, &tail) != 2 ||
      id <= 0 || number <= 0) {
    cmd_reply_printf(reply, "I don't know that action item.");
    return 0;
  }
  struct incident inc;
  int rc = incidents_get(ctx->db, id, &inc);
  if (rc == KX_ENOTFOUND) {
    cmd_reply_printf(reply, "I cannot find that incident any more.");
    return 0;
  }
  if (rc)
    return rc;
  char me[64];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  rc = incident_action_mark_done(ctx, &inc, number, who, reply);
  if (rc == 0 && req->channel && req->message_ts) {
    struct msg *m = msg_new();
    rc = m ? msg_section(m, ":white_check_mark: Done. Thank you!") : KX_ENOMEM;
    if (rc == 0)
      rc = msg_set_fallback(m, "Action item done");
    if (rc == 0)
      rc = out_update(ctx, req->channel, req->message_ts, m, OUTBOX_NORMAL);
    msg_free(m);
  }
  incident_clear(&inc);
  return rc == KX_EINVAL ? 0 : rc;
}
