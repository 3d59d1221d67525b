/*
 * incident.c — declaring an incident and getting it a place to talk: the record, the first
 * timeline entries and roles, the channel name reserved in SQLite, conversations.create and
 * what its answer leads to (name_taken: the next name; another refusal: the declarer is told
 * and a retry is scheduled; success: invites, topic, summary, announcement), and the public
 * functions of incident.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/links.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/incident/incident_internal.h"
#include "commands/incident/incident_parse.h"
#include "commands/incident/incident_teams.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/channel_names.h"
#include "storage/incident_roles.h"
#include "storage/incident_timeline.h"
#include "storage/seen.h"

static int incident_create_channel(struct cmd_ctx *ctx, const struct incident *inc);
static int incident_channel_ready(struct cmd_ctx *ctx, int64_t id);

/* ---- public helpers -------------------------------------------------------------------------- */

int incident_timeline_add(struct cmd_ctx *ctx,
                          int64_t incident_id,
                          const char *kind,
                          const char *who,
                          const char *text,
                          int64_t at_ms,
                          bool key)
{
  struct incident inc;
  int rc = incidents_get(ctx->db, incident_id, &inc);
  if (rc)
    return rc;
  incident_clear(&inc);
  struct timeline_new e = {
      incident_id, kind, who,        text ? text : "", at_ms ? at_ms : ctx->now_ms,
      key,         NULL, ctx->now_ms};
  return timeline_add(ctx->db, &e, NULL);
}

int64_t incident_in_channel(struct cmd_ctx *ctx, const char *channel)
{
  struct incident inc;
  if (incidents_by_channel(ctx->db, channel, &inc) != 0)
    return 0;
  int64_t id = incident_is_open(&inc) ? inc.id : 0;
  incident_clear(&inc);
  return id;
}

static const struct severity *default_severity(const struct config *c)
{
  const struct severity *s = c->default_severity ? config_severity(c, c->default_severity) : NULL;
  if (!s && c->n_severities)
    s = &c->severities[c->n_severities - 1];
  return s;
}

/* ---- declaring ----------------------------------------------------------------------------------
 */

static int declared_reply(struct cmd_ctx *ctx,
                          const struct incident *inc,
                          bool repeat,
                          struct cmd_reply *reply)
{
  struct buf b;
  md_init(&b);
  if (repeat) {
    md_raw(&b, "You declared this a moment ago: ");
  } else {
    md_raw(&b, inc->drill ? ":test_tube: Drill declared: " : ":rotating_light: Declared ");
  }
  incident_md_ref(&b, inc);
  md_printf(&b, " (%s) ", inc->severity);
  md_bold(&b, inc->title);
  if (inc->channel) {
    md_raw(&b, " — ");
    incident_md_channel(&b, inc);
  } else if (inc->channel_name) {
    md_printf(&b, " — creating #%s; you will be invited.", inc->channel_name);
  } else {
    md_raw(&b, ".");
  }
  (void)ctx;
  int rc = b.data ? cmd_reply_printf(reply, "%s", b.data) : KX_ENOMEM;
  buf_free(&b);
  return rc;
}

static int first_entries(struct cmd_ctx *ctx, const struct incident *inc, const char *who)
{
  char *text = kx_asprintf("%sIncident declared (%s): %s", inc->drill ? "Drill: " : "",
                           inc->severity, inc->title);
  if (!text)
    return KX_ENOMEM;
  struct timeline_new e = {inc->id,          "declared", who,  text,
                           inc->declared_at, true,       NULL, ctx->now_ms};
  int rc = timeline_add(ctx->db, &e, NULL);
  free(text);
  if (rc == 0 && inc->impact_start_at && inc->impact_start_at != inc->declared_at) {
    struct timeline_new imp = {
        inc->id,
        "impact",
        NULL,
        inc->alert_id ? "Impact started (the alert began firing)" : "Impact started",
        inc->impact_start_at,
        true,
        NULL,
        ctx->now_ms};
    rc = timeline_add(ctx->db, &imp, NULL);
  }
  if (rc == 0 && who)
    rc = incident_roles_set(ctx->db, inc->id, INCIDENT_ROLE_COMMANDER, who, ctx->now_ms);
  if (rc == 0 && who) {
    struct timeline_new r = {
        inc->id,          "role", who,  "Became commander (declared the incident)",
        inc->declared_at, false,  NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &r, NULL);
  }
  return rc;
}

int incident_declare(struct cmd_ctx *ctx,
                     const struct incident_new *n,
                     int64_t *id_out,
                     struct cmd_reply *reply)
{
  const struct config *c = ctx->config;
  if (!n->title || !*n->title) {
    cmd_reply_printf(reply, "An incident needs a title: `/incident declare [SEV] TITLE`.");
    return KX_EINVAL;
  }
  if (strlen(n->title) > INCIDENT_TITLE_MAX) {
    cmd_reply_printf(reply,
                     "That title is too long (at most %d characters); put the details in "
                     "the channel once it is open.",
                     INCIDENT_TITLE_MAX);
    return KX_EINVAL;
  }
  if (n->description && strlen(n->description) > INCIDENT_TEXT_MAX) {
    cmd_reply_printf(reply, "That description is too long (at most %d characters).",
                     INCIDENT_TEXT_MAX);
    return KX_EINVAL;
  }
  const struct severity *sev = n->severity ? config_severity(c, n->severity) : default_severity(c);
  if (!sev) {
    cmd_reply_printf(reply, "There is no severity `%s`.", n->severity ? n->severity : "(default)");
    return KX_EINVAL;
  }
  const struct rota *rota = n->rota ? config_rota(c, n->rota) : (c->n_rotas ? &c->rotas[0] : NULL);
  if (n->rota && !rota) {
    cmd_reply_printf(reply, "There is no rota `%s`.", n->rota);
    return KX_EINVAL;
  }
  const char *who = n->declared_by_person ? n->declared_by_person : n->declared_by_user;
  int64_t id = 0;
  int rc =
      incidents_find_repeat(ctx->db, who, n->title, ctx->now_ms - INCIDENT_REPEAT_WINDOW_MS, &id);
  bool repeat = rc == 0;
  if (rc && rc != KX_ENOTFOUND)
    return rc;
  if (!repeat) {
    struct incident_create cr = {
        .title = n->title,
        .description = (n->description && *n->description) ? n->description : NULL,
        .severity = sev->name,
        .platform = n->platform == CMD_PLATFORM_TEAMS ? "teams" : "slack",
        .origin_channel = n->origin_channel,
        .declared_by = who,
        .declared_by_user = n->declared_by_user,
        .rota = rota ? rota->name : NULL,
        .drill = n->drill,
        .alert_id = n->alert_id,
        .declared_at = ctx->now_ms,
        .impact_start_at = n->impact_start_ms,
    };
    rc = incidents_create(ctx->db, &cr, &id);
    if (rc)
      return rc;
  }
  struct incident inc;
  rc = incidents_get(ctx->db, id, &inc);
  if (rc)
    return rc;
  if (!repeat) {
    rc = first_entries(ctx, &inc, who);
    if (rc == 0 && n->platform != CMD_PLATFORM_TEAMS)
      rc = incident_create_channel(ctx, &inc);
    else if (rc == 0)
      rc = incident_teams_thread(ctx, &inc);
    if (rc == 0)
      rc = incident_schedule_update(ctx, &inc, inc.declared_at);
    if (rc == 0)
      rc = incident_schedule_resolve_target(ctx, &inc);
    if (rc == 0 && !n->drill && !n->from_page)
      rc = incident_page_oncall(ctx, &inc);
    incident_clear(&inc);
    if (rc == 0)
      rc = incidents_get(ctx->db, id, &inc);
    if (rc)
      return rc;
    LOG_INFO("incident", "declared", "id=%lld severity=%s drill=%d platform=%s", (long long)id,
             inc.severity, inc.drill, inc.platform);
  }
  rc = declared_reply(ctx, &inc, repeat, reply);
  incident_clear(&inc);
  if (id_out)
    *id_out = id;
  return rc;
}

/* ---- the Slack channel ------------------------------------------------------------------------
 */

static int create_call(struct cmd_ctx *ctx, int64_t id, const char *name)
{
  cJSON *body = cJSON_CreateObject();
  if (!body)
    return KX_ENOMEM;
  cJSON_AddStringToObject(body, "name", name);
  cJSON_AddBoolToObject(body, "is_private", 0);
  char ref[24];
  snprintf(ref, sizeof(ref), "%lld", (long long)id);
  return out_slack_call(ctx, "conversations.create", NULL, body, OUTBOX_URGENT,
                        CMD_HOOK_INCIDENT_CHANNEL_CREATED, ref, NULL);
}

static int incident_create_channel(struct cmd_ctx *ctx, const struct incident *inc)
{
  char base[32], name[CHANNEL_NAME_MAX + 1];
  int rc = incident_channel_base(ctx->config->timezone, inc->declared_at, base, sizeof(base));
  if (rc == 0)
    rc = channel_names_reserve(ctx->db, base, inc->id, ctx->now_ms, name, sizeof(name));
  if (rc == 0)
    rc = incidents_set_text(ctx->db, inc->id, INCIDENT_F_CHANNEL_NAME, name);
  if (rc == 0)
    rc = create_call(ctx, inc->id, name);
  return rc;
}

static int64_t ref_id(const char *ref)
{
  char *end = NULL;
  long long v = ref ? strtoll(ref, &end, 10) : 0;
  return (end && *end == '\0' && v > 0) ? (int64_t)v : 0;
}

static const char *json_str(const cJSON *o, const char *k1, const char *k2)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k1);
  if (k2)
    v = cJSON_GetObjectItemCaseSensitive(v, k2);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Tell the declarer something about their incident in a DM (Slack ids only). */
static int tell_declarer(struct cmd_ctx *ctx,
                         const struct incident *inc,
                         struct buf *markup,
                         const char *fallback)
{
  const char *user = inc->declared_by_user;
  char *slack =
      user && !out_is_teams(user) ? kx_strdup(user) : incident_who_slack(ctx, inc->declared_by);
  if (!slack) {
    buf_free(markup);
    return 0;
  }
  struct msg *m = msg_new();
  int rc = m ? msg_set_fallback(m, fallback) : KX_ENOMEM;
  if (rc == 0)
    rc = msg_section_take(m, markup);
  if (rc == 0)
    rc = out_post(ctx, slack, m, OUTBOX_URGENT, NULL, NULL, NULL);
  msg_free(m);
  buf_free(markup);
  free(slack);
  return rc;
}

static int creation_refused(struct cmd_ctx *ctx, const struct incident *inc, const char *error)
{
  int64_t failures = inc->channel_failures + 1;
  int rc = incidents_set_time(ctx->db, inc->id, INCIDENT_F_CHANNEL_FAILURES, failures);
  if (rc)
    return rc;
  int64_t wait = 60 * 1000LL;
  for (int64_t i = 1; i < failures && wait < INCIDENT_CHANNEL_RETRY_MAX_MS; i++)
    wait *= 2;
  if (wait > INCIDENT_CHANNEL_RETRY_MAX_MS)
    wait = INCIDENT_CHANNEL_RETRY_MAX_MS;
  char key[64], ref[24], t[48];
  snprintf(key, sizeof(key), "incident:%lld:channel-retry", (long long)inc->id);
  snprintf(ref, sizeof(ref), "%lld", (long long)inc->id);
  rc = jobs_upsert(ctx->db, CMD_JOB_INCIDENT_CHANNEL_RETRY, key, ctx->now_ms + wait, ref,
                   ctx->now_ms);
  if (rc)
    return rc;
  LOG_WARN("incident", "channel_refused", "id=%lld name=%s error=%s failures=%lld",
           (long long)inc->id, inc->channel_name ? inc->channel_name : "-", error,
           (long long)failures);
  if (failures == 1) {
    struct buf b;
    md_init(&b);
    md_raw(&b, ":warning: Slack refused to create the channel ");
    md_printf(&b, "#%s for incident ", inc->channel_name ? inc->channel_name : "?");
    incident_md_ref(&b, inc);
    md_raw(&b, " (");
    md_text(&b, error);
    md_printf(&b, "). The incident is recorded; I will try again at %s and keep trying.",
              incident_local_time(ctx, ctx->now_ms + wait, t, sizeof(t)));
    char *fb = kx_asprintf("Slack refused to create the channel for incident #%lld (%s)",
                           (long long)inc->id, error);
    rc = tell_declarer(ctx, inc, &b, fb ? fb : "Slack refused to create the channel");
    free(fb);
    /* Nobody must miss an incident because its channel is late: announce it now. */
    if (rc == 0)
      rc = incident_announce_new(ctx, inc);
  }
  return rc;
}

int incident_hook_channel_created(struct cmd_ctx *ctx,
                                  const struct outbox_row *row,
                                  const struct cmd_result *result)
{
  struct incident inc;
  int rc = incidents_get(ctx->db, ref_id(row->ref), &inc);
  if (rc == KX_ENOTFOUND)
    return 0;
  if (rc)
    return rc;
  if (inc.channel)
    goto done; /* already has one: nothing to do twice */
  if (result->ok) {
    const char *cid = json_str(result->response, "channel", "id");
    const char *cname = json_str(result->response, "channel", "name");
    if (!cid) {
      rc = creation_refused(ctx, &inc, "no channel id in the answer");
      goto done;
    }
    if (cname)
      rc = incidents_set_text(ctx->db, inc.id, INCIDENT_F_CHANNEL_NAME, cname);
    if (rc == 0)
      rc = incidents_set_text(ctx->db, inc.id, INCIDENT_F_CHANNEL, cid);
    if (rc == 0 && cname)
      (void)channel_names_set_state(ctx->db, cname, CHANNEL_NAME_CREATED);
    if (rc == 0)
      rc = incident_channel_ready(ctx, inc.id);
    LOG_INFO("incident", "channel_created", "id=%lld channel=%s name=%s", (long long)inc.id, cid,
             cname ? cname : "-");
  } else if (kx_streq(result->error, "name_taken")) {
    /* Someone else has that name (made by hand, or by another app): the next one. */
    if (inc.channel_name)
      (void)channel_names_set_state(ctx->db, inc.channel_name, CHANNEL_NAME_TAKEN);
    LOG_INFO("incident", "channel_name_taken", "id=%lld name=%s", (long long)inc.id,
             inc.channel_name ? inc.channel_name : "-");
    rc = incident_create_channel(ctx, &inc);
  } else {
    rc = creation_refused(ctx, &inc, result->error ? result->error : "unknown error");
  }
done:
  incident_clear(&inc);
  return rc;
}

int incident_job_channel_retry(struct cmd_ctx *ctx, const struct job *job)
{
  struct incident inc;
  int rc = incidents_get(ctx->db, ref_id(job->ref), &inc);
  if (rc == KX_ENOTFOUND)
    return 0;
  if (rc)
    return rc;
  if (!inc.channel && !inc.closed_at && inc.channel_name)
    rc = create_call(ctx, inc.id, inc.channel_name);
  incident_clear(&inc);
  return rc;
}

static int bookmark(struct cmd_ctx *ctx, const struct incident *inc);

static int incident_channel_ready(struct cmd_ctx *ctx, int64_t id)
{
  struct incident inc;
  int rc = incidents_get(ctx->db, id, &inc);
  if (rc)
    return rc;
  const struct severity *sev = config_severity(ctx->config, inc.severity);
  char paged[4][64];
  size_t n = incident_paged(ctx, &inc, sev, paged, 4);
  const char *whos[6];
  size_t k = 0;
  if (inc.declared_by)
    whos[k++] = inc.declared_by;
  for (size_t i = 0; i < n; i++)
    whos[k++] = paged[i];
  rc = incident_invite(ctx, &inc, whos, k);
  if (rc == 0)
    rc = incident_refresh(ctx, id, true); /* the topic */
  if (rc == 0) {
    struct msg *m = incident_summary_msg(ctx, &inc);
    char ref[24];
    snprintf(ref, sizeof(ref), "%lld", (long long)id);
    rc = m ? out_post(ctx, inc.channel, m, OUTBOX_URGENT, CMD_HOOK_INCIDENT_SUMMARY_POSTED, ref,
                      NULL)
           : KX_ENOMEM;
    msg_free(m);
  }
  if (rc == 0 && n) {
    struct buf b;
    md_init(&b);
    md_raw(&b, ":busts_in_silhouette: On call for this severity, invited: ");
    for (size_t i = 0; i < n; i++) {
      if (i)
        md_raw(&b, ", ");
      incident_md_who(&b, ctx, paged[i]);
    }
    rc = incident_say(ctx, &inc, &b, "On call, invited", OUTBOX_NORMAL);
  }
  if (rc == 0)
    rc = incident_announce_new(ctx, &inc);
  if (rc == 0)
    rc = bookmark(ctx, &inc);
  if (rc == 0 && inc.channel_failures > 0 && !out_is_teams(inc.channel)) {
    struct buf b;
    md_init(&b);
    md_raw(&b, ":white_check_mark: The channel for incident ");
    incident_md_ref(&b, &inc);
    md_raw(&b, " exists now: ");
    incident_md_channel(&b, &inc);
    rc = tell_declarer(ctx, &inc, &b, "The incident channel exists now");
  }
  incident_clear(&inc);
  return rc;
}

int incident_hook_summary_posted(struct cmd_ctx *ctx,
                                 const struct outbox_row *row,
                                 const struct cmd_result *result)
{
  if (!result->ok)
    return 0;
  const char *ts = json_str(result->response, "ts", NULL);
  if (!ts)
    ts = json_str(result->response, "activityId", NULL);
  if (!ts)
    ts = json_str(result->response, "id", NULL);
  if (!ts)
    return 0;
  int rc = incidents_set_text(ctx->db, ref_id(row->ref), INCIDENT_F_SUMMARY_TS, ts);
  if (rc == KX_ENOTFOUND)
    return 0;
  /* Pinned, so the summary (roles, status, buttons) stays at hand in a busy channel. */
  if (rc == 0 && !out_is_teams(row->queue)) {
    cJSON *body = cJSON_CreateObject();
    if (!body)
      return KX_ENOMEM;
    cJSON_AddStringToObject(body, "channel", row->queue);
    cJSON_AddStringToObject(body, "timestamp", ts);
    rc = out_slack_call(ctx, "pins.add", row->queue, body, OUTBOX_NORMAL, NULL, NULL, NULL);
  }
  /* Something may have changed while the summary was on its way. */
  return rc ? rc : incident_refresh(ctx, ref_id(row->ref), false);
}

/* A bookmark to the postmortem draft (it grows with the timeline), when klaxon has a public
 * URL people can open. */
static int bookmark(struct cmd_ctx *ctx, const struct incident *inc)
{
  if (!inc->channel || out_is_teams(inc->channel))
    return 0;
  char path[64];
  snprintf(path, sizeof(path), "/incidents/%lld/postmortem.md", (long long)inc->id);
  char *url = links_feed_url(ctx, path);
  if (!url)
    return 0; /* no public_url (or no secret): no bookmark */
  cJSON *body = cJSON_CreateObject();
  if (!url || !body) {
    free(url);
    cJSON_Delete(body);
    return KX_ENOMEM;
  }
  cJSON_AddStringToObject(body, "channel_id", inc->channel);
  cJSON_AddStringToObject(body, "title", "Postmortem draft");
  cJSON_AddStringToObject(body, "type", "link");
  cJSON_AddStringToObject(body, "link", url);
  free(url);
  return out_slack_call(ctx, "bookmarks.add", inc->channel, body, OUTBOX_BULK, NULL, NULL, NULL);
}

int incident_attach_channel(struct cmd_ctx *ctx,
                            int64_t incident_id,
                            const char *channel,
                            const char *name)
{
  if (!channel || !*channel)
    return KX_EINVAL;
  struct incident inc;
  int rc = incidents_get(ctx->db, incident_id, &inc);
  if (rc)
    return rc;
  bool has = inc.channel != NULL;
  incident_clear(&inc);
  if (has)
    return KX_EEXISTS;
  rc = incidents_set_text(ctx->db, incident_id, INCIDENT_F_CHANNEL, channel);
  if (rc == 0 && name)
    rc = incidents_set_text(ctx->db, incident_id, INCIDENT_F_CHANNEL_NAME, name);
  if (rc == 0)
    rc = incident_channel_ready(ctx, incident_id);
  return rc;
}
