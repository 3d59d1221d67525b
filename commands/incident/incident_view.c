/*
 * incident_view.c — how an incident looks and speaks: people as "who" strings, times, the
 * summary message with its buttons, the channel topic, posts in the channel and the announce
 * channel, stakeholder notices (channel and email), invitations, and finding the incident a
 * command is about.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/incident/incident_internal.h"
#include "commands/incident/incident_parse.h"
#include "commands/oncall/oncall.h"
#include "commands/oncall/rota.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "storage/outbox.h"
#include "storage/seen.h"

/* ---- people ------------------------------------------------------------------------------ */

const char *incident_who(
    struct cmd_ctx *ctx, enum cmd_platform platform, const char *user, char *buf, size_t size)
{
  if (!user || !*user)
    return NULL;
  const struct person *p = cmd_person_for_user(ctx, platform, user);
  snprintf(buf, size, "%s", p ? p->id : user);
  return buf;
}

int incident_md_who(struct buf *b, struct cmd_ctx *ctx, const char *who)
{
  if (!who)
    return md_raw(b, "nobody");
  if (config_person(ctx->config, who))
    return md_person(b, who);
  return md_user(b, who);
}

const char *incident_who_name(struct cmd_ctx *ctx, const char *who)
{
  if (!who)
    return "klaxon";
  const struct person *p = config_person(ctx->config, who);
  return p ? cmd_person_name(p) : who;
}

char *incident_who_slack(struct cmd_ctx *ctx, const char *who)
{
  if (!who)
    return NULL;
  const struct person *p = config_person(ctx->config, who);
  if (p)
    return cmd_person_slack(ctx, p);
  /* A platform id kept as is: Slack user ids start with U or W. */
  return (who[0] == 'U' || who[0] == 'W') ? kx_strdup(who) : NULL;
}

/* ---- what people type ---------------------------------------------------------------------------
 */

struct names {
  struct cmd_ctx *ctx;
  enum cmd_platform platform;
};

static const char *name_of(void *arg, const char *user_id)
{
  struct names *nm = arg;
  const struct person *p = cmd_person_for_user(nm->ctx, nm->platform, user_id);
  return p ? cmd_person_name(p) : NULL;
}

/* What a user typed, as plain text (mentions by name, Slack's escapes undone). */
char *incident_typed(struct cmd_ctx *ctx, const struct cmd_request *req, const char *raw, bool line)
{
  struct names nm = {ctx, req->platform};
  return incident_plain(raw, name_of, &nm, line);
}

int incident_too_long(struct cmd_reply *reply, const char *what, size_t max)
{
  cmd_reply_printf(reply, "That %s is too long (at most %zu characters).", what, max);
  return KX_EINVAL;
}

int incident_reply_markup(struct cmd_reply *reply, struct buf *b)
{
  int rc = b->data ? cmd_reply_printf(reply, "%s", b->data) : KX_ENOMEM;
  buf_free(b);
  return rc;
}

/* A person named in an argument, as a who: a config person, or a platform user mention. */
const char *incident_arg_who(
    struct cmd_ctx *ctx, const struct cmd_request *req, const char *arg, char *buf, size_t size)
{
  if (strcasecmp(arg, "me") == 0)
    return incident_who(ctx, req->platform, req->user, buf, size);
  const struct person *p = cmd_person_arg(ctx, req->platform, arg);
  if (p) {
    snprintf(buf, size, "%s", p->id);
    return buf;
  }
  char id[64];
  if (cmd_mention_id(arg, id, sizeof(id)) == 0 && strncmp(id, "p:", 2) != 0) {
    snprintf(buf, size, "%s", id);
    return buf;
  }
  return NULL;
}

int incident_unknown_person(struct cmd_reply *reply, const char *arg, const struct cmd_def *def)
{
  char *esc = md_escape(arg);
  cmd_reply_printf(reply,
                   "I don't know who `%s` is. Mention them (`@name`) or use their klaxon id. ",
                   esc ? esc : "");
  cmd_usage(reply, def);
  free(esc);
  return KX_EINVAL;
}

/* ---- references ----------------------------------------------------------------------------- */

static const char *incident_prefix(const struct incident *inc)
{
  return inc->drill ? "[DRILL] " : "";
}

int incident_md_ref(struct buf *b, const struct incident *inc)
{
  return md_printf(b, "%s*#%lld*", inc->drill ? "*DRILL* " : "", (long long)inc->id);
}

int incident_md_channel(struct buf *b, const struct incident *inc)
{
  if (inc->channel && !out_is_teams(inc->channel))
    return md_channel(b, inc->channel);
  if (inc->channel_name)
    return md_printf(b, "#%s", inc->channel_name);
  return md_raw(b, "(no channel yet)");
}

const char *incident_local_time(struct cmd_ctx *ctx, int64_t ms, char *buf, size_t size)
{
  struct kx_local l;
  const char *zone = ctx->config->timezone ? ctx->config->timezone : "UTC";
  if (!ms || tz_to_local(zone, ms, &l)) {
    snprintf(buf, size, "%s", ms ? "?" : "-");
    return buf;
  }
  int off = l.offset_s / 60;
  snprintf(buf, size, "%04d-%02d-%02d %02d:%02d (UTC%c%02d:%02d)", l.y, l.m, l.d, l.hh, l.mm,
           off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
  return buf;
}

/* ---- finding the incident a command is about ---------------------------------------------- */

static int list_open_channels(struct cmd_ctx *ctx, struct cmd_reply *reply)
{
  struct incident *list = NULL;
  size_t n = 0;
  int rc = incidents_list(ctx->db, INCIDENTS_OPEN, 0, 0, &list, &n);
  if (rc)
    return rc;
  if (n == 0) {
    cmd_reply_printf(reply,
                     "There is no open incident. Declare one with "
                     "`/incident declare [SEV] TITLE`.");
  } else {
    cmd_reply_printf(reply, "Open incidents:");
    for (size_t i = 0; i < n && i < 10; i++) {
      struct buf b;
      md_init(&b);
      md_raw(&b, "\n• ");
      incident_md_ref(&b, &list[i]);
      md_raw(&b, " ");
      md_text(&b, list[i].title);
      md_raw(&b, " — ");
      incident_md_channel(&b, &list[i]);
      cmd_reply_printf(reply, "%s", b.data ? b.data : "");
      buf_free(&b);
    }
  }
  incidents_free(list, n);
  return 0;
}

int incident_current(struct cmd_ctx *ctx,
                     const struct cmd_request *req,
                     struct cmd_reply *reply,
                     const char *what,
                     struct incident *out)
{
  int rc = incidents_by_channel(ctx->db, req->channel, out);
  if (rc == 0)
    return 0;
  if (rc != KX_ENOTFOUND)
    return rc;
  cmd_reply_printf(reply,
                   "`/incident %s` works in an incident's own channel, and this is not "
                   "one. Run it there. ",
                   what);
  rc = list_open_channels(ctx, reply);
  return rc ? rc : KX_EINVAL;
}

int incident_need_open(const struct incident *inc, struct cmd_reply *reply, const char *what)
{
  if (incident_is_open(inc))
    return 0;
  cmd_reply_printf(reply, "Incident #%lld is %s, so `/incident %s` does not apply any more.%s",
                   (long long)inc->id, inc->status, what,
                   inc->closed_at ? "" : " Reopen it with `/incident reopen` first.");
  return KX_ESTATE;
}

/* ---- the summary message and the topic ------------------------------------------------------ */

static void field_who(struct msg *m, struct cmd_ctx *ctx, const char *label, const char *who)
{
  struct buf b;
  md_init(&b);
  if (who)
    incident_md_who(&b, ctx, who);
  else
    md_raw(&b, "—");
  msg_field(m, label, b.data ? b.data : "—");
  buf_free(&b);
}

struct msg *incident_summary_msg(struct cmd_ctx *ctx, const struct incident *inc)
{
  struct msg *m = msg_new();
  if (!m)
    return NULL;
  char t[64], t2[64];
  char *header = kx_asprintf("%s Incident #%lld: %s", inc->drill ? "DRILL —" : "\xF0\x9F\x9A\xA8",
                             (long long)inc->id, inc->title);
  char *fallback = kx_asprintf("%sIncident #%lld (%s, %s): %s", incident_prefix(inc),
                               (long long)inc->id, inc->severity, inc->status, inc->title);
  msg_set_header(m, header);
  msg_set_fallback(m, fallback);
  free(header);
  free(fallback);
  struct buf b;
  md_init(&b);
  if (inc->drill)
    md_raw(&b, ":test_tube: *This is a drill.* No stakeholders are notified.\n");
  if (inc->description) {
    md_text(&b, inc->description);
    md_raw(&b, "\n");
  }
  if (b.len)
    msg_section_take(m, &b);
  buf_free(&b);
  msg_field(m, "Severity", inc->severity);
  md_init(&b);
  md_text(&b, inc->status);
  if (inc->acknowledged_at && incident_is_open(inc))
    md_raw(&b, " (acknowledged)");
  msg_field(m, "Status", b.data ? b.data : inc->status);
  buf_free(&b);
  static const char *const labels[INCIDENT_N_ROLES] = {"Commander", "Scribe", "Comms", "Ops"};
  for (int r = 0; r < INCIDENT_N_ROLES; r++)
    field_who(m, ctx, labels[r], inc->roles[r]);
  md_init(&b);
  incident_md_who(&b, ctx, inc->declared_by);
  md_printf(&b, "\n%s", incident_local_time(ctx, inc->declared_at, t, sizeof(t)));
  msg_field(m, "Declared", b.data ? b.data : "");
  buf_free(&b);
  msg_field(m, "Impact started", incident_local_time(ctx, inc->impact_start_at, t2, sizeof(t2)));
  const struct severity *sev = config_severity(ctx->config, inc->severity);
  if (sev && sev->bridge_url && incident_is_open(inc)) {
    md_init(&b);
    md_link(&b, sev->bridge_url, "Join the bridge");
    msg_field(m, "War room", b.data ? b.data : sev->bridge_url);
    buf_free(&b);
  }
  if (incident_is_open(inc)) {
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)inc->id);
    msg_button(m, "Take commander", CMD_ACTION_INCIDENT_TAKE_COMMANDER, id, MSG_STYLE_PRIMARY);
    msg_button(m, "Take scribe", CMD_ACTION_INCIDENT_TAKE_SCRIBE, id, MSG_STYLE_DEFAULT);
    msg_button(m, "Resolve", CMD_ACTION_INCIDENT_RESOLVE, id, MSG_STYLE_DANGER);
  } else {
    md_init(&b);
    md_raw(&b, ":white_check_mark: Resolved by ");
    incident_md_who(&b, ctx, inc->resolved_by);
    md_printf(&b, " at %s", incident_local_time(ctx, inc->resolved_at, t, sizeof(t)));
    if (inc->resolution) {
      md_raw(&b, ": ");
      md_text(&b, inc->resolution);
    }
    if (inc->closed_at)
      md_raw(&b, "\nClosed; the postmortem is done.");
    msg_section_take(m, &b);
    buf_free(&b);
  }
  md_init(&b);
  md_printf(&b,
            "`/incident help` for the commands. Everything said here is the timeline; "
            "react with :pushpin: to mark a key event.");
  msg_context(m, b.data ? b.data : "");
  buf_free(&b);
  return m;
}

static char *incident_topic(struct cmd_ctx *ctx, const struct incident *inc)
{
  const char *ic = inc->roles[INCIDENT_ROLE_COMMANDER];
  const struct severity *sev = config_severity(ctx->config, inc->severity);
  const char *bridge = sev && sev->bridge_url && incident_is_open(inc) ? sev->bridge_url : NULL;
  /* The bridge before the title, so a long title is what gets cut. */
  char *topic = kx_asprintf("%s%s | %s | IC: %s | %s%s%s#%lld %s", inc->drill ? "DRILL | " : "",
                            inc->severity, inc->status, ic ? incident_who_name(ctx, ic) : "none",
                            bridge ? "Bridge: " : "", bridge ? bridge : "", bridge ? " | " : "",
                            (long long)inc->id, inc->title);
  if (!topic)
    return NULL;
  /* setTopic takes plain text (no formatting) of at most 250 characters. Slack escapes it
   * itself, so & stays &; < and > become look-alikes, so nothing in a title can ever read
   * as a <!channel> or <@U…> there. */
  struct buf b;
  buf_init(&b, 4096);
  int rc = buf_puts(&b, "");
  for (const char *p = topic; rc == 0 && *p; p++) {
    if (*p == '<')
      rc = buf_puts(&b, "\xE2\x80\xB9");
    else if (*p == '>')
      rc = buf_puts(&b, "\xE2\x80\xBA");
    else
      rc = buf_append(&b, p, 1);
  }
  free(topic);
  if (rc)
    return NULL;
  char *safe = buf_take(&b);
  if (safe)
    incident_cut(safe, 240);
  return safe;
}

int incident_refresh(struct cmd_ctx *ctx, int64_t id, bool topic)
{
  struct incident inc;
  int rc = incidents_get(ctx->db, id, &inc);
  if (rc)
    return rc;
  if (!inc.channel)
    goto done;
  if (topic && !out_is_teams(inc.channel)) {
    char *text = incident_topic(ctx, &inc);
    cJSON *body = cJSON_CreateObject();
    if (!text || !body) {
      free(text);
      cJSON_Delete(body);
      rc = KX_ENOMEM;
      goto done;
    }
    cJSON_AddStringToObject(body, "channel", inc.channel);
    cJSON_AddStringToObject(body, "topic", text);
    free(text);
    rc = out_slack_call(ctx, "conversations.setTopic", inc.channel, body, OUTBOX_NORMAL, NULL, NULL,
                        NULL);
    if (rc)
      goto done;
  }
  if (inc.summary_ts) {
    struct msg *m = incident_summary_msg(ctx, &inc);
    rc = m ? out_update(ctx, inc.channel, inc.summary_ts, m, OUTBOX_NORMAL) : KX_ENOMEM;
    msg_free(m);
  }
done:
  incident_clear(&inc);
  return rc;
}

/* ---- saying things ------------------------------------------------------------------------ */

static struct msg *markup_msg(struct buf *markup, const char *fallback)
{
  struct msg *m = msg_new();
  if (!m) {
    buf_free(markup);
    return NULL;
  }
  if (msg_set_fallback(m, fallback) || msg_section_take(m, markup)) {
    msg_free(m);
    return NULL;
  }
  return m;
}

int incident_say(struct cmd_ctx *ctx,
                 const struct incident *inc,
                 struct buf *markup,
                 const char *fallback,
                 int priority)
{
  if (!inc->channel) {
    buf_free(markup);
    return 0;
  }
  struct msg *m = markup_msg(markup, fallback);
  if (!m)
    return KX_ENOMEM;
  int rc = out_post(ctx, inc->channel, m, priority, NULL, NULL, NULL);
  msg_free(m);
  return rc;
}

int incident_announce(struct cmd_ctx *ctx,
                      const struct incident *inc,
                      struct buf *markup,
                      const char *fallback)
{
  (void)inc;
  struct msg *m = markup_msg(markup, fallback);
  if (!m)
    return KX_ENOMEM;
  int rc = out_announce(ctx, OUT_ANNOUNCE, NULL, m, OUTBOX_NORMAL, NULL, NULL);
  msg_free(m);
  return rc < 0 ? rc : 0;
}

/* An email subject is a header line: nothing that could end it. */
static void header_safe(char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      *s = ' ';
}

int incident_stakeholders(struct cmd_ctx *ctx,
                          const struct incident *inc,
                          const char *headline,
                          const char *detail)
{
  const struct severity *sev = config_severity(ctx->config, inc->severity);
  if (inc->drill || !sev || !sev->stakeholders)
    return 0;
  struct buf b;
  md_init(&b);
  md_raw(&b, ":loudspeaker: ");
  md_bold(&b, headline);
  if (detail && *detail) {
    md_raw(&b, "\n");
    md_text(&b, detail);
  }
  md_raw(&b, "\nIncident channel: ");
  incident_md_channel(&b, inc);
  struct msg *m = markup_msg(&b, headline);
  if (!m)
    return KX_ENOMEM;
  int rc = out_announce(ctx, OUT_STAKEHOLDERS, NULL, m, OUTBOX_NORMAL, NULL, NULL);
  msg_free(m);
  if (rc < 0)
    return rc;
  if (!ctx->config->smtp.url)
    return 0;
  char *subject = kx_asprintf("[klaxon] %s", headline);
  char *text = kx_asprintf(
      "%s\n\n%s%sIncident #%lld: %s\nSeverity: %s\nStatus: %s\nChannel: %s\n"
      "\nThis message was sent by klaxon to the stakeholders of %s incidents.\n",
      headline, detail ? detail : "", detail && *detail ? "\n\n" : "", (long long)inc->id,
      inc->title, inc->severity, inc->status, inc->channel_name ? inc->channel_name : "-",
      inc->severity);
  rc = (subject && text) ? 0 : KX_ENOMEM;
  if (subject)
    header_safe(subject);
  for (size_t i = 0; rc == 0 && i < ctx->config->smtp.n_stakeholders; i++)
    rc = out_email(ctx, ctx->config->smtp.stakeholders[i], subject, text, OUTBOX_NORMAL);
  free(subject);
  free(text);
  return rc;
}

int incident_announce_new(struct cmd_ctx *ctx, const struct incident *inc)
{
  if (inc->announced_at)
    return 0;
  struct buf b;
  md_init(&b);
  md_raw(&b, inc->drill ? ":test_tube: *Drill* — " : ":rotating_light: ");
  /* severities[].mention (issue 11): Slack's special mention; never for a drill. */
  const struct severity *sev = config_severity(ctx->config, inc->severity);
  if (sev && !inc->drill && sev->mention != MENTION_NONE)
    md_raw(&b, sev->mention == MENTION_HERE ? "<!here> " : "<!channel> ");
  md_printf(&b, "*%s incident* ", inc->severity);
  incident_md_ref(&b, inc);
  md_raw(&b, ": ");
  md_bold(&b, inc->title);
  md_raw(&b, "\nDeclared by ");
  incident_md_who(&b, ctx, inc->declared_by);
  md_raw(&b, ". Join ");
  incident_md_channel(&b, inc);
  md_raw(&b, inc->drill ? " to practise." : " to help.");
  char *fb = kx_asprintf("%s%s incident #%lld: %s", incident_prefix(inc), inc->severity,
                         (long long)inc->id, inc->title);
  int rc = incident_announce(ctx, inc, &b, fb ? fb : "New incident");
  free(fb);
  if (rc == 0) {
    char *head = kx_asprintf("%s incident #%lld declared: %s", inc->severity, (long long)inc->id,
                             inc->title);
    rc = head ? incident_stakeholders(ctx, inc, head, inc->description) : KX_ENOMEM;
    free(head);
  }
  if (rc == 0)
    rc = incidents_set_time(ctx->db, inc->id, INCIDENT_F_ANNOUNCED_AT, ctx->now_ms);
  return rc;
}

/* ---- invitations -------------------------------------------------------------------------- */

size_t incident_paged(struct cmd_ctx *ctx,
                      const struct incident *inc,
                      const struct severity *sev,
                      char whos[][64],
                      size_t max)
{
  const struct rota *r = inc->rota ? config_rota(ctx->config, inc->rota) : NULL;
  if (!r || !sev || max < 2)
    return 0;
  struct oncall_view v;
  if (oncall_at(ctx, r, ctx->now_ms, &v) != 0)
    return 0;
  size_t n = 0;
  const struct person *p = oncall_primary(ctx, &v);
  bool primary =
      sev->page_primary || (sev->page_business_hours && rota_in_business_hours(r, ctx->now_ms));
  if (primary && p)
    snprintf(whos[n++], 64, "%s", p->id);
  const struct person *s = oncall_secondary(ctx, &v);
  if (sev->page_secondary && s)
    snprintf(whos[n++], 64, "%s", s->id);
  oncall_view_free(&v);
  return n;
}

int incident_invite(struct cmd_ctx *ctx,
                    const struct incident *inc,
                    const char *const *whos,
                    size_t n)
{
  if (!inc->channel || out_is_teams(inc->channel))
    return 0;
  struct buf users;
  buf_init(&users, 4096);
  int rc = buf_puts(&users, "");
  char *self = kv_get(ctx->db, KV_SLACK_BOT_USER); /* the bot is in the channel already */
  for (size_t i = 0; rc == 0 && i < n; i++) {
    char *id = incident_who_slack(ctx, whos[i]);
    if (!id)
      continue;
    bool dup = (self && strcmp(id, self) == 0);
    for (size_t j = 0; !dup && j < i; j++) {
      char *other = incident_who_slack(ctx, whos[j]);
      dup = other && strcmp(other, id) == 0;
      free(other);
    }
    if (!dup)
      rc = buf_printf(&users, "%s%s", users.len ? "," : "", id);
    free(id);
  }
  free(self);
  if (rc || users.len == 0) {
    buf_free(&users);
    return rc;
  }
  cJSON *body = cJSON_CreateObject();
  if (!body) {
    buf_free(&users);
    return KX_ENOMEM;
  }
  cJSON_AddStringToObject(body, "channel", inc->channel);
  cJSON_AddStringToObject(body, "users", users.data);
  /* force: invite the ones Slack accepts even if one is already in or unknown. */
  cJSON_AddBoolToObject(body, "force", 1);
  buf_free(&users);
  return out_slack_call(ctx, "conversations.invite", inc->channel, body, OUTBOX_URGENT, NULL, NULL,
                        NULL);
}

/* ---- jobs ------------------------------------------------------------------------------------ */

static void job_key(char *buf, size_t size, int64_t id, const char *what)
{
  snprintf(buf, size, "incident:%lld:%s", (long long)id, what);
}

int incident_schedule_update(struct cmd_ctx *ctx, const struct incident *inc, int64_t from_ms)
{
  const struct severity *sev = config_severity(ctx->config, inc->severity);
  char key[64], ref[24];
  job_key(key, sizeof(key), inc->id, "update");
  snprintf(ref, sizeof(ref), "%lld", (long long)inc->id);
  if (!sev || sev->update_every_ms <= 0 || !incident_is_open(inc)) {
    int rc = jobs_cancel(ctx->db, key, ctx->now_ms);
    return rc < 0 ? rc : 0;
  }
  return jobs_upsert(ctx->db, CMD_JOB_INCIDENT_UPDATE, key, from_ms + sev->update_every_ms, ref,
                     ctx->now_ms);
}

int incident_schedule_resolve_target(struct cmd_ctx *ctx, const struct incident *inc)
{
  const struct severity *sev = config_severity(ctx->config, inc->severity);
  char key[64], ref[24];
  job_key(key, sizeof(key), inc->id, "resolve-target");
  snprintf(ref, sizeof(ref), "%lld", (long long)inc->id);
  if (!sev || sev->resolve_ms <= 0 || !incident_is_open(inc) || inc->manager_called_at) {
    int rc = jobs_cancel(ctx->db, key, ctx->now_ms);
    return rc < 0 ? rc : 0;
  }
  return jobs_upsert(ctx->db, CMD_JOB_INCIDENT_RESOLVE_TARGET, key,
                     inc->declared_at + sev->resolve_ms, ref, ctx->now_ms);
}

int incident_cancel_open_jobs(struct cmd_ctx *ctx, int64_t id)
{
  char key[64];
  job_key(key, sizeof(key), id, "update");
  int rc = jobs_cancel(ctx->db, key, ctx->now_ms);
  job_key(key, sizeof(key), id, "resolve-target");
  if (rc >= 0)
    rc = jobs_cancel(ctx->db, key, ctx->now_ms);
  return rc < 0 ? rc : 0;
}
