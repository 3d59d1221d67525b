/*
 * incident_jobs.c — what happens on the clock: the status-update reminder (no update for the
 * severity's update_every: ask the commander, and again each period), the resolve target (not
 * resolved in time: the rota's manager is brought in by DM and invite, and the channel is
 * told), and the postmortem reminder (due `postmortem.due` after resolve, then daily).
 * Each job re-reads the incident: a job that finds nothing left to do does nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/incident/incident_internal.h"
#include "commands/oncall/oncall.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "storage/incident_timeline.h"

static int load(struct cmd_ctx *ctx, const struct job *job, struct incident *inc)
{
  char *end = NULL;
  long long id = job->ref ? strtoll(job->ref, &end, 10) : 0;
  if (!end || *end || id <= 0) {
    LOG_WARN("incident", "job_bad_ref", "kind=%s ref=%s", job->kind, job->ref ? job->ref : "-");
    return KX_ENOTFOUND;
  }
  return incidents_get(ctx->db, id, inc);
}

/* Who is asked: the commander, else whoever declared it. */
static const char *asked(const struct incident *inc)
{
  return inc->roles[INCIDENT_ROLE_COMMANDER] ? inc->roles[INCIDENT_ROLE_COMMANDER]
                                             : inc->declared_by;
}

int incident_job_update_due(struct cmd_ctx *ctx, const struct job *job)
{
  struct incident inc;
  int rc = load(ctx, job, &inc);
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  const struct severity *sev = config_severity(ctx->config, inc.severity);
  if (!incident_is_open(&inc) || !sev || sev->update_every_ms <= 0)
    goto done;
  int64_t due = inc.last_update_at + sev->update_every_ms;
  if (ctx->now_ms < due) {
    /* An update came in after this job was set: wait for the real due time. */
    rc = incident_schedule_update(ctx, &inc, inc.last_update_at);
    goto done;
  }
  char since[32], every[32];
  struct buf b;
  md_init(&b);
  md_raw(&b, ":alarm_clock: ");
  if (asked(&inc)) {
    incident_md_who(&b, ctx, asked(&inc));
    md_raw(&b, ", there");
  } else {
    md_raw(&b, "Nobody leads this incident (`/incident lead`), and there");
  }
  md_printf(&b,
            " has been no status update on this %s incident for *%s* (every %s is "
            "expected). Post one with `/incident update TEXT`.",
            inc.severity,
            time_format_duration(ctx->now_ms - inc.last_update_at, since, sizeof(since)),
            time_format_duration(sev->update_every_ms, every, sizeof(every)));
  rc = incident_say(ctx, &inc, &b, "A status update is due", OUTBOX_NORMAL);
  /* And again each period, counted from now. */
  if (rc == 0)
    rc = incident_schedule_update(ctx, &inc, ctx->now_ms);
  LOG_INFO("incident", "update_reminder", "id=%lld", (long long)inc.id);
done:
  incident_clear(&inc);
  return rc;
}

static int bring_in_manager(struct cmd_ctx *ctx,
                            const struct incident *inc,
                            const struct severity *sev)
{
  const struct rota *r = inc->rota ? config_rota(ctx->config, inc->rota) : NULL;
  const struct person *mgr = NULL;
  struct oncall_view v;
  bool have_view = r && oncall_at(ctx, r, ctx->now_ms, &v) == 0;
  if (have_view)
    mgr = oncall_manager(ctx, &v);
  char target[32], open[32];
  time_format_duration(sev->resolve_ms, target, sizeof(target));
  time_format_duration(ctx->now_ms - inc->declared_at, open, sizeof(open));
  int rc = 0;
  struct buf b;
  md_init(&b);
  md_printf(&b, ":rotating_light: Not resolved within the %s target of *%s* (open for %s). ",
            inc->severity, target, open);
  if (mgr) {
    md_raw(&b, "Bringing in ");
    md_person(&b, mgr->id);
    md_raw(&b, " (manager).");
  } else {
    md_raw(&b, "No manager is configured for this rota, so nobody more was brought in.");
  }
  rc = incident_say(ctx, inc, &b, "Resolve target missed", OUTBOX_URGENT);
  if (rc == 0 && mgr) {
    const char *whos[1] = {mgr->id};
    rc = incident_invite(ctx, inc, whos, 1);
  }
  if (rc == 0 && mgr) {
    md_init(&b);
    md_raw(&b, ":rotating_light: You are brought into incident ");
    incident_md_ref(&b, inc);
    md_printf(&b, " (%s) ", inc->severity);
    md_bold(&b, inc->title);
    md_printf(&b, ": it is not resolved within its %s target (open for %s). Channel: ", target,
              open);
    incident_md_channel(&b, inc);
    struct msg *m = msg_new();
    rc = m ? msg_section_take(m, &b) : KX_ENOMEM;
    if (rc == 0)
      rc = msg_set_fallback(m, "You are brought into an incident");
    if (rc == 0) {
      rc = out_dm(ctx, mgr, m, OUTBOX_URGENT, NULL, NULL);
      if (rc == KX_ENOTFOUND)
        rc = 0; /* no Slack id: the channel post names them */
    }
    msg_free(m);
    buf_free(&b);
  }
  if (rc == 0) {
    char *text =
        mgr ? kx_asprintf("Not resolved within the %s target (%s): %s (manager) brought in",
                          inc->severity, target, cmd_person_name(mgr))
            : kx_asprintf("Not resolved within the %s target (%s); no manager configured",
                          inc->severity, target);
    struct timeline_new e = {inc->id,     "escalation", NULL, text ? text : "Resolve target missed",
                             ctx->now_ms, true,         NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
    free(text);
  }
  if (have_view)
    oncall_view_free(&v);
  return rc;
}

int incident_job_resolve_target(struct cmd_ctx *ctx, const struct job *job)
{
  struct incident inc;
  int rc = load(ctx, job, &inc);
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  const struct severity *sev = config_severity(ctx->config, inc.severity);
  if (!incident_is_open(&inc) || inc.manager_called_at || !sev || sev->resolve_ms <= 0)
    goto done;
  if (ctx->now_ms < inc.declared_at + sev->resolve_ms) {
    rc = incident_schedule_resolve_target(ctx, &inc); /* the severity changed: a later target */
    goto done;
  }
  rc = incidents_set_time(ctx->db, inc.id, INCIDENT_F_MANAGER_CALLED_AT, ctx->now_ms);
  if (rc == 0)
    rc = bring_in_manager(ctx, &inc, sev);
  LOG_INFO("incident", "resolve_target_missed", "id=%lld", (long long)inc.id);
done:
  incident_clear(&inc);
  return rc;
}

int incident_job_postmortem_due(struct cmd_ctx *ctx, const struct job *job)
{
  struct incident inc;
  int rc = load(ctx, job, &inc);
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  if (incident_is_open(&inc) || inc.closed_at || inc.postmortem_done_at)
    goto done;
  const char *who = asked(&inc);
  char late[32];
  time_format_duration(ctx->now_ms - inc.resolved_at, late, sizeof(late));
  struct buf b;
  md_init(&b);
  md_raw(&b, ":notebook: ");
  if (who) {
    incident_md_who(&b, ctx, who);
    md_raw(&b, ", the");
  } else {
    md_raw(&b, "The");
  }
  md_printf(&b,
            " postmortem of this incident is due (resolved %s ago). When it is "
            "written, say `/incident postmortem done [URL]`.",
            late);
  rc = incident_say(ctx, &inc, &b, "The postmortem is due", OUTBOX_BULK);
  if (rc == 0) {
    const struct person *p = who ? config_person(ctx->config, who) : NULL;
    md_init(&b);
    md_raw(&b, ":notebook: Reminder: the postmortem of incident ");
    incident_md_ref(&b, &inc);
    md_raw(&b, " ");
    md_bold(&b, inc.title);
    md_raw(&b, " is due. The draft: `/incident postmortem` in ");
    incident_md_channel(&b, &inc);
    md_raw(&b, ".");
    struct msg *m = msg_new();
    rc = m ? msg_section_take(m, &b) : KX_ENOMEM;
    if (rc == 0)
      rc = msg_set_fallback(m, "The postmortem is due");
    if (rc == 0 && p) {
      rc = out_dm(ctx, p, m, OUTBOX_BULK, NULL, NULL);
      if (rc == KX_ENOTFOUND)
        rc = 0;
    } else if (rc == 0 && who && (who[0] == 'U' || who[0] == 'W')) {
      rc = out_post(ctx, who, m, OUTBOX_BULK, NULL, NULL, NULL);
    }
    msg_free(m);
    buf_free(&b);
  }
  /* Every day after, until it is done. */
  if (rc == 0) {
    char key[64];
    snprintf(key, sizeof(key), "incident:%lld:postmortem", (long long)inc.id);
    rc = jobs_upsert(ctx->db, CMD_JOB_INCIDENT_POSTMORTEM, key,
                     ctx->now_ms + INCIDENT_POSTMORTEM_REPEAT_MS, job->ref, ctx->now_ms);
  }
  LOG_INFO("incident", "postmortem_reminder", "id=%lld", (long long)inc.id);
done:
  incident_clear(&inc);
  return rc;
}
