/*
 * incident_lifecycle.c — how an incident ends and what follows: resolve (command and button),
 * reopen, close, the postmortem command and its reminders, the status-update reminders, the
 * manager brought in when the resolve target passes, and action items.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/core/links.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/incident/incident_internal.h"
#include "commands/incident/incident_parse.h"
#include "commands/incident/postmortem.h"
#include "commands/oncall/oncall.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "storage/incident_actions.h"
#include "storage/incident_roles.h"
#include "storage/incident_timeline.h"

static int64_t ref_id(const char *ref)
{
  char *end = NULL;
  long long v = ref ? strtoll(ref, &end, 10) : 0;
  return (end && *end == '\0' && v > 0) ? (int64_t)v : 0;
}

/* Where the postmortem can be read: a link when public_url is set, the CLI always. */
static int md_postmortem_where(struct buf *b, struct cmd_ctx *ctx, int64_t id)
{
  char path[64];
  snprintf(path, sizeof(path), "/incidents/%lld/postmortem.md", (long long)id);
  char *url = links_feed_url(ctx, path);
  if (url) {
    md_link(b, url, "the postmortem draft");
    free(url);
    md_printf(b, " (or `klaxon postmortem %lld`)", (long long)id);
    return 0;
  }
  return md_printf(b, "`klaxon postmortem %lld` (also GET /incidents/%lld/postmortem.md)",
                   (long long)id, (long long)id);
}

static int schedule_postmortem(struct cmd_ctx *ctx, int64_t id, int64_t due_at)
{
  char key[64], ref[24];
  snprintf(key, sizeof(key), "incident:%lld:postmortem", (long long)id);
  snprintf(ref, sizeof(ref), "%lld", (long long)id);
  return jobs_upsert(ctx->db, CMD_JOB_INCIDENT_POSTMORTEM, key, due_at, ref, ctx->now_ms);
}

static int cancel_postmortem(struct cmd_ctx *ctx, int64_t id)
{
  char key[64];
  snprintf(key, sizeof(key), "incident:%lld:postmortem", (long long)id);
  int rc = jobs_cancel(ctx->db, key, ctx->now_ms);
  return rc < 0 ? rc : 0;
}

static int64_t postmortem_due_ms(const struct config *c)
{
  return c->postmortem.due_ms > 0 ? c->postmortem.due_ms : 24 * MS_PER_HOUR;
}

/* ---- resolve ------------------------------------------------------------------------------------
 */

/* Who may resolve an incident (issue 17 item 6): its commander, whoever declared it, whoever
 * is on call now (primary or secondary of any rota) and the rotas' managers. The dispatcher has
 * already refused people outside `people`; requests without a chat user (the CLI) pass. */
static bool on_call_now(struct cmd_ctx *ctx, const char *person_id)
{
  const struct config *cfg = ctx->config;
  bool yes = false;
  for (size_t i = 0; i < cfg->n_rotas && !yes; i++) {
    const struct rota *r = &cfg->rotas[i];
    if (r->manager && strcmp(r->manager, person_id) == 0)
      return true;
    struct oncall_view v;
    if (oncall_at(ctx, r, ctx->now_ms, &v) != 0)
      continue;
    const struct person *p = oncall_primary(ctx, &v);
    const struct person *s = oncall_secondary(ctx, &v);
    yes = (p && strcmp(p->id, person_id) == 0) || (s && strcmp(s->id, person_id) == 0);
    oncall_view_free(&v);
  }
  return yes;
}

static int may_resolve(struct cmd_ctx *ctx,
                       const struct cmd_request *req,
                       const struct incident *inc,
                       const char *who,
                       struct cmd_reply *reply)
{
  if (req->platform != CMD_PLATFORM_SLACK && req->platform != CMD_PLATFORM_TEAMS)
    return 0;
  char *commander = incident_roles_get(ctx->db, inc->id, INCIDENT_ROLE_COMMANDER);
  bool ok = (commander && strcmp(commander, who) == 0) ||
            (inc->declared_by && strcmp(inc->declared_by, who) == 0) || on_call_now(ctx, who);
  free(commander);
  if (ok)
    return 0;
  LOG_WARN("incident", "resolve_refused", "incident=%lld", (long long)inc->id);
  cmd_reply_printf(reply,
                   "Only the incident commander, whoever declared it, or whoever is on call "
                   "can resolve it. Take the commander role first (`/incident lead`).");
  return KX_EAUTH;
}

static int incident_resolve(struct cmd_ctx *ctx,
                            const struct incident *inc,
                            const char *by,
                            const char *summary,
                            struct cmd_reply *reply)
{
  char t[48], d[32];
  if (!incident_is_open(inc)) {
    struct buf b;
    md_init(&b);
    incident_md_ref(&b, inc);
    md_printf(&b, " is already %s (by ", inc->status);
    incident_md_who(&b, ctx, inc->resolved_by);
    md_printf(&b, " at %s).", incident_local_time(ctx, inc->resolved_at, t, sizeof(t)));
    incident_reply_markup(reply, &b);
    return KX_ESTATE;
  }
  int rc = incidents_set_time(ctx->db, inc->id, INCIDENT_F_RESOLVED_AT, ctx->now_ms);
  if (rc == 0)
    rc = incidents_set_text(ctx->db, inc->id, INCIDENT_F_RESOLVED_BY, by);
  if (rc == 0)
    rc = incidents_set_text(ctx->db, inc->id, INCIDENT_F_STATUS, INCIDENT_RESOLVED);
  if (rc == 0)
    rc = incident_pages_follow(ctx, inc->id, by, true);
  if (rc == 0 && summary && *summary)
    rc = incidents_set_text(ctx->db, inc->id, INCIDENT_F_RESOLUTION, summary);
  time_format_duration(ctx->now_ms - inc->declared_at, d, sizeof(d));
  if (rc == 0) {
    char *text = summary && *summary ? kx_asprintf("Resolved: %s", summary) : kx_strdup("Resolved");
    struct timeline_new e = {inc->id,     "resolved", by,   text ? text : "Resolved",
                             ctx->now_ms, true,       NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
    free(text);
  }
  if (rc == 0)
    rc = incident_cancel_open_jobs(ctx, inc->id);
  int64_t due = ctx->now_ms + postmortem_due_ms(ctx->config);
  if (rc == 0 && !inc->postmortem_done_at)
    rc = schedule_postmortem(ctx, inc->id, due);
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, ":white_check_mark: *Resolved* by ");
    incident_md_who(&b, ctx, by);
    md_printf(&b, " after %s.", d);
    if (summary && *summary) {
      md_raw(&b, "\n>");
      md_text(&b, summary);
    }
    md_raw(&b, "\nA blameless postmortem draft is ready: ");
    md_postmortem_where(&b, ctx, inc->id);
    md_printf(&b, ". It is due %s; then `/incident postmortem done [URL]` and `/incident close`.",
              incident_local_time(ctx, due, t, sizeof(t)));
    rc = incident_say(ctx, inc, &b, "Incident resolved", OUTBOX_NORMAL);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, ":white_check_mark: Resolved: ");
    incident_md_ref(&b, inc);
    md_printf(&b, " (%s) ", inc->severity);
    md_bold(&b, inc->title);
    md_printf(&b, " after %s.", d);
    if (summary && *summary) {
      md_raw(&b, " ");
      md_text(&b, summary);
    }
    rc = incident_announce(ctx, inc, &b, "Incident resolved");
  }
  if (rc == 0) {
    char *head = kx_asprintf("Resolved: incident #%lld (%s) %s", (long long)inc->id, inc->severity,
                             inc->title);
    rc = head ? incident_stakeholders(ctx, inc, head, summary) : KX_ENOMEM;
    free(head);
  }
  if (rc == 0)
    rc = incident_review_invite(ctx, inc);
  if (rc == 0)
    rc = incident_refresh(ctx, inc->id, true);
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, "Resolved ");
    incident_md_ref(&b, inc);
    md_printf(&b, " after %s. Postmortem: ", d);
    md_postmortem_where(&b, ctx, inc->id);
    rc = incident_reply_markup(reply, &b);
  }
  LOG_INFO("incident", "resolved", "id=%lld ms=%lld", (long long)inc->id,
           (long long)(ctx->now_ms - inc->declared_at));
  return rc;
}

int incident_cmd_resolve(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         const struct cmd_args *args,
                         struct cmd_reply *reply)
{
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "resolve", &inc);
  if (rc)
    return rc;
  char me[64];
  char *summary = args->argc ? incident_typed(ctx, req, args->rest[0], false) : NULL;
  if (args->argc && !summary)
    rc = KX_ENOMEM;
  if (rc == 0 && summary && strlen(summary) > INCIDENT_TEXT_MAX) {
    cmd_reply_printf(reply, "That summary is too long (at most %d characters).", INCIDENT_TEXT_MAX);
    rc = KX_EINVAL;
  }
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  if (rc == 0 && incident_is_open(&inc)) /* a closed one says so whoever asks */
    rc = may_resolve(ctx, req, &inc, who, reply);
  if (rc == 0)
    rc = incident_resolve(ctx, &inc, who, summary, reply);
  free(summary);
  incident_clear(&inc);
  return rc;
}

int incident_btn_resolve(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         struct cmd_reply *reply)
{
  struct incident inc;
  int64_t id = ref_id(req->action_value);
  int rc = id ? incidents_get(ctx->db, id, &inc) : KX_ENOTFOUND;
  if (rc == KX_ENOTFOUND) {
    cmd_reply_printf(reply, "I cannot find that incident any more.");
    return KX_ENOTFOUND;
  }
  if (rc)
    return rc;
  char me[64];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  rc = incident_is_open(&inc) ? may_resolve(ctx, req, &inc, who, reply) : 0;
  if (rc == 0)
    rc = incident_resolve(ctx, &inc, who, NULL, reply);
  incident_clear(&inc);
  return rc;
}

/* ---- reopen, close ------------------------------------------------------------------------------
 */

int incident_cmd_reopen(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        const struct cmd_args *args,
                        struct cmd_reply *reply)
{
  (void)args;
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "reopen", &inc);
  if (rc)
    return rc;
  char me[64];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  if (inc.closed_at) {
    cmd_reply_printf(reply, "Incident #%lld is closed; declare a new incident instead.",
                     (long long)inc.id);
    rc = KX_ESTATE;
  } else if (incident_is_open(&inc)) {
    cmd_reply_printf(reply, "Incident #%lld is not resolved; nothing to reopen.",
                     (long long)inc.id);
    rc = KX_ESTATE;
  }
  if (rc == 0)
    rc = incidents_set_time(ctx->db, inc.id, INCIDENT_F_RESOLVED_AT, 0);
  if (rc == 0)
    rc = incidents_set_text(ctx->db, inc.id, INCIDENT_F_RESOLVED_BY, NULL);
  if (rc == 0)
    rc = incidents_set_text(ctx->db, inc.id, INCIDENT_F_STATUS, INCIDENT_INVESTIGATING);
  if (rc == 0)
    rc = incidents_set_time(ctx->db, inc.id, INCIDENT_F_LAST_UPDATE_AT, ctx->now_ms);
  if (rc == 0)
    rc = cancel_postmortem(ctx, inc.id);
  if (rc == 0)
    rc = incident_cancel_archive(ctx, inc.id);
  if (rc == 0) {
    struct timeline_new e = {inc.id,      "reopened", who,  "Reopened",
                             ctx->now_ms, true,       NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
  }
  int64_t id = inc.id;
  incident_clear(&inc);
  if (rc == 0)
    rc = incidents_get(ctx->db, id, &inc);
  if (rc)
    return rc;
  rc = incident_schedule_update(ctx, &inc, ctx->now_ms);
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, ":leftwards_arrow_with_hook: *Reopened* by ");
    incident_md_who(&b, ctx, who);
    md_raw(&b, ". Status updates are due again.");
    rc = incident_say(ctx, &inc, &b, "Incident reopened", OUTBOX_NORMAL);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, ":leftwards_arrow_with_hook: Reopened: ");
    incident_md_ref(&b, &inc);
    md_printf(&b, " (%s) ", inc.severity);
    md_bold(&b, inc.title);
    md_raw(&b, " — ");
    incident_md_channel(&b, &inc);
    rc = incident_announce(ctx, &inc, &b, "Incident reopened");
  }
  if (rc == 0)
    rc = incident_refresh(ctx, inc.id, true);
  if (rc == 0)
    rc = cmd_reply_printf(reply, "Reopened #%lld.", (long long)inc.id);
  incident_clear(&inc);
  return rc;
}

int incident_cmd_close(struct cmd_ctx *ctx,
                       const struct cmd_request *req,
                       const struct cmd_args *args,
                       struct cmd_reply *reply)
{
  (void)args;
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "close", &inc);
  if (rc)
    return rc;
  char me[64];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  if (inc.closed_at) {
    cmd_reply_printf(reply, "Incident #%lld is already closed.", (long long)inc.id);
    rc = KX_ESTATE;
  } else if (incident_is_open(&inc)) {
    cmd_reply_printf(reply,
                     "Incident #%lld is not resolved yet: `/incident resolve [SUMMARY]` "
                     "first, then the postmortem, then close.",
                     (long long)inc.id);
    rc = KX_ESTATE;
  } else if (!inc.postmortem_done_at) {
    cmd_reply_printf(reply,
                     "The postmortem of #%lld is not done yet. When it is, say "
                     "`/incident postmortem done [URL]`, then close.",
                     (long long)inc.id);
    rc = KX_ESTATE;
  }
  if (rc == 0)
    rc = incidents_set_time(ctx->db, inc.id, INCIDENT_F_CLOSED_AT, ctx->now_ms);
  if (rc == 0)
    rc = incidents_set_text(ctx->db, inc.id, INCIDENT_F_STATUS, INCIDENT_CLOSED);
  if (rc == 0)
    rc = cancel_postmortem(ctx, inc.id);
  if (rc == 0)
    rc = incident_schedule_archive(ctx, &inc);
  if (rc == 0) {
    struct timeline_new e = {inc.id,      "closed", who,  "Closed",
                             ctx->now_ms, false,    NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, ":lock: *Closed* by ");
    incident_md_who(&b, ctx, who);
    md_raw(&b, ". Thank you all.");
    rc = incident_say(ctx, &inc, &b, "Incident closed", OUTBOX_NORMAL);
  }
  if (rc == 0)
    rc = incident_refresh(ctx, inc.id, true);
  if (rc == 0)
    rc = cmd_reply_printf(reply, "Closed #%lld.", (long long)inc.id);
  incident_clear(&inc);
  return rc;
}

/* ---- the postmortem
 * ------------------------------------------------------------------------------ */

int incident_cmd_postmortem(struct cmd_ctx *ctx,
                            const struct cmd_request *req,
                            const struct cmd_args *args,
                            struct cmd_reply *reply)
{
  struct incident inc;
  int rc = incident_current(ctx, req, reply, "postmortem", &inc);
  if (rc)
    return rc;
  char me[64], t[48];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  if (args->argc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, "The postmortem of ");
    incident_md_ref(&b, &inc);
    md_raw(&b, ": ");
    md_postmortem_where(&b, ctx, inc.id);
    if (inc.postmortem_done_at) {
      md_printf(&b, ". Marked done at %s",
                incident_local_time(ctx, inc.postmortem_done_at, t, sizeof(t)));
      if (inc.postmortem_url) {
        md_raw(&b, ": ");
        md_link(&b, inc.postmortem_url, NULL);
      }
    } else if (!incident_is_open(&inc)) {
      md_raw(&b, ". When it is written: `/incident postmortem done [URL]`.");
    } else {
      md_raw(&b, ". The incident is still open; the draft grows with the timeline.");
    }
    rc = incident_reply_markup(reply, &b);
    incident_clear(&inc);
    return rc;
  }
  if (strcasecmp(args->argv[0], "export") == 0 && args->argc == 1) {
    rc = incident_cmd_postmortem_export(ctx, &inc, reply);
    incident_clear(&inc);
    return rc;
  }
  if (strcasecmp(args->argv[0], "done") != 0 || args->argc > 2) {
    cmd_usage(reply, args->def);
    rc = KX_EINVAL;
  } else if (incident_is_open(&inc)) {
    cmd_reply_printf(reply, "Resolve the incident first (`/incident resolve [SUMMARY]`).");
    rc = KX_ESTATE;
  } else if (inc.postmortem_done_at) {
    cmd_reply_printf(reply, "The postmortem of #%lld was already marked done at %s.",
                     (long long)inc.id,
                     incident_local_time(ctx, inc.postmortem_done_at, t, sizeof(t)));
    rc = KX_EINVAL;
  }
  char *url = NULL;
  if (rc == 0 && args->argc == 2) {
    url = incident_plain(args->argv[1], NULL, NULL, true);
    if (!url)
      rc = KX_ENOMEM;
    else if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
      cmd_reply_printf(reply, "The URL must start with https:// or http://.");
      rc = KX_EINVAL;
    } else if (strlen(url) > 2000) {
      cmd_reply_printf(reply, "That URL is too long.");
      rc = KX_EINVAL;
    }
  }
  if (rc == 0)
    rc = incidents_set_time(ctx->db, inc.id, INCIDENT_F_POSTMORTEM_DONE_AT, ctx->now_ms);
  if (rc == 0 && url)
    rc = incidents_set_text(ctx->db, inc.id, INCIDENT_F_POSTMORTEM_URL, url);
  if (rc == 0)
    rc = cancel_postmortem(ctx, inc.id);
  if (rc == 0) {
    char *text = url ? kx_asprintf("Postmortem done: %s", url) : kx_strdup("Postmortem done");
    struct timeline_new e = {inc.id,      "postmortem", who,  text ? text : "Postmortem done",
                             ctx->now_ms, false,        NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
    free(text);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, ":notebook: The postmortem is done (");
    incident_md_who(&b, ctx, who);
    md_raw(&b, ")");
    if (url) {
      md_raw(&b, ": ");
      md_link(&b, url, NULL);
    }
    md_raw(&b, ". `/incident close` when you are ready.");
    rc = incident_say(ctx, &inc, &b, "Postmortem done", OUTBOX_NORMAL);
  }
  if (rc == 0 && postmortem_export_configured(ctx->config)) {
    struct incident now; /* with its done time and URL */
    rc = incidents_get(ctx->db, inc.id, &now);
    if (rc == 0) {
      rc = postmortem_export(ctx, &now, NULL);
      incident_clear(&now);
    }
  }
  if (rc == 0)
    rc = cmd_reply_printf(reply, "Postmortem of #%lld marked done.", (long long)inc.id);
  free(url);
  incident_clear(&inc);
  return rc;
}
