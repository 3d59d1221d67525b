#include "commands/core/out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/people.h"
#include "commands/core/render_slack.h"
#include "commands/core/render_teams.h"
#include "lib/kx.h"
#include "lib/log.h"

/* One outbox row of `platform` carrying `body` (taken: deleted whatever happens). */
static int add_row(struct cmd_ctx *ctx,
                   const char *platform,
                   const char *method,
                   const char *queue,
                   cJSON *body,
                   int priority,
                   const char *hook,
                   const char *ref,
                   int64_t *id_out)
{
  if (!body)
    return KX_ENOMEM;
  char *text = cJSON_PrintUnformatted(body);
  cJSON_Delete(body);
  if (!text)
    return KX_ENOMEM;
  struct outbox_new row = {
      .platform = platform,
      .method = method,
      .queue = queue,
      .body = text,
      .priority = priority,
      .hook = hook,
      .ref = ref,
      .now_ms = ctx->now_ms,
  };
  int rc = outbox_add(ctx->db, &row, id_out);
  free(text);
  return rc;
}

int out_slack_call(struct cmd_ctx *ctx,
                   const char *method,
                   const char *queue,
                   cJSON *body,
                   int priority,
                   const char *hook,
                   const char *ref,
                   int64_t *id_out)
{
  return add_row(ctx, "slack", method, queue, body, priority, hook, ref, id_out);
}

bool out_is_teams(const char *d)
{
  return d && (strncmp(d, "19:", 3) == 0 || strncmp(d, "a:", 2) == 0 || strncmp(d, "29:", 3) == 0 ||
               strncmp(d, "8:", 2) == 0 || strncmp(d, "aad:", 4) == 0);
}

static int teams_row(struct cmd_ctx *ctx,
                     const char *method,
                     const char *queue,
                     cJSON *body,
                     int priority,
                     const char *hook,
                     const char *ref,
                     int64_t *id_out)
{
  return add_row(ctx, "teams", method, queue, body, priority, hook, ref, id_out);
}

static cJSON *teams_activity(struct cmd_ctx *ctx, const struct msg *m)
{
  struct cmd_people pp;
  cmd_people_open(&pp, ctx);
  cJSON *act = render_teams_activity(m, &pp.rp);
  cmd_people_close(&pp);
  return act;
}

static int teams_post(struct cmd_ctx *ctx,
                      const char *dest,
                      const struct msg *m,
                      int priority,
                      const char *hook,
                      const char *ref,
                      int64_t *id_out)
{
  cJSON *body = cJSON_CreateObject();
  cJSON *act = teams_activity(ctx, m);
  if (!body || !act) {
    cJSON_Delete(body);
    cJSON_Delete(act);
    return KX_ENOMEM;
  }
  if (strncmp(dest, "29:", 3) == 0 || strncmp(dest, "aad:", 4) == 0) {
    /* A person: the bot's 1:1 chat with them (created by the sender when needed). */
    cJSON_AddStringToObject(body, "user", dest);
    cJSON_AddItemToObject(body, "activity", act);
    return teams_row(ctx, "teams.dm", dest, body, priority, hook, ref, id_out);
  }
  bool thread = strstr(dest, ";messageid=") != NULL || strncmp(dest, "a:", 2) == 0;
  cJSON_AddStringToObject(body, thread ? "conversation" : "channel", dest);
  cJSON_AddItemToObject(body, "activity", act);
  /* Replies queue behind their thread's root; new threads behind their channel. */
  char queue[512];
  snprintf(queue, sizeof(queue), "%.*s", (int)strcspn(dest, ";"), dest);
  return teams_row(ctx, thread ? "teams.reply" : "teams.post", queue, body, priority, hook, ref,
                   id_out);
}

static cJSON *message_body(struct cmd_ctx *ctx, const char *channel, const struct msg *m)
{
  struct cmd_people pp;
  cmd_people_open(&pp, ctx);
  cJSON *body = render_slack_message(m, channel, &pp.rp);
  cmd_people_close(&pp);
  return body;
}

int out_post(struct cmd_ctx *ctx,
             const char *channel,
             const struct msg *m,
             int priority,
             const char *hook,
             const char *ref,
             int64_t *id_out)
{
  if (!channel)
    return KX_EINVAL;
  if (out_is_teams(channel))
    return teams_post(ctx, channel, m, priority, hook, ref, id_out);
  cJSON *body = message_body(ctx, channel, m);
  return out_slack_call(ctx, "chat.postMessage", channel, body, priority, hook, ref, id_out);
}

int out_post_thread(struct cmd_ctx *ctx,
                    const char *channel,
                    const char *thread_ts,
                    const struct msg *m,
                    int priority)
{
  if (!channel || !thread_ts)
    return KX_EINVAL;
  cJSON *body = message_body(ctx, channel, m);
  if (body)
    cJSON_AddStringToObject(body, "thread_ts", thread_ts);
  return out_slack_call(ctx, "chat.postMessage", channel, body, priority, NULL, NULL, NULL);
}

int out_update(
    struct cmd_ctx *ctx, const char *channel, const char *ts, const struct msg *m, int priority)
{
  return out_update_hook(ctx, channel, ts, m, priority, NULL, NULL);
}

int out_update_hook(struct cmd_ctx *ctx,
                    const char *channel,
                    const char *ts,
                    const struct msg *m,
                    int priority,
                    const char *hook,
                    const char *ref)
{
  if (!channel || !ts)
    return KX_EINVAL;
  if (out_is_teams(channel)) {
    cJSON *body = cJSON_CreateObject();
    cJSON *act = teams_activity(ctx, m);
    if (!body || !act) {
      cJSON_Delete(body);
      cJSON_Delete(act);
      return KX_ENOMEM;
    }
    cJSON_AddStringToObject(body, "conversation", channel);
    cJSON_AddStringToObject(body, "activity_id", ts);
    cJSON_AddItemToObject(body, "activity", act);
    char queue[512];
    snprintf(queue, sizeof(queue), "%.*s", (int)strcspn(channel, ";"), channel);
    return teams_row(ctx, "teams.update", queue, body, priority, hook, ref, NULL);
  }
  cJSON *body = message_body(ctx, channel, m);
  if (body)
    cJSON_AddStringToObject(body, "ts", ts);
  return out_slack_call(ctx, "chat.update", channel, body, priority, hook, ref, NULL);
}

int out_ephemeral(struct cmd_ctx *ctx, const char *channel, const char *user, const struct msg *m)
{
  if (!channel || !user)
    return KX_EINVAL;
  cJSON *body = message_body(ctx, channel, m);
  if (body)
    cJSON_AddStringToObject(body, "user", user);
  return out_slack_call(ctx, "chat.postEphemeral", channel, body, OUTBOX_URGENT, NULL, NULL, NULL);
}

int out_dm(struct cmd_ctx *ctx,
           const struct person *p,
           const struct msg *m,
           int priority,
           const char *hook,
           const char *ref)
{
  char *uid = cmd_person_slack(ctx, p);
  if (!uid) {
    LOG_WARN("out", "dm_no_slack_id", "person=%s", p ? p->id : "-");
    return KX_ENOTFOUND;
  }
  int rc = out_post(ctx, uid, m, priority, hook, ref, NULL);
  free(uid);
  return rc;
}

int out_announce(struct cmd_ctx *ctx,
                 enum out_audience audience,
                 const char *slack_channel,
                 const struct msg *m,
                 int priority,
                 const char *hook,
                 const char *ref)
{
  const struct config *c = ctx->config;
  const char *slack = slack_channel;
  const char *teams = NULL;
  switch (audience) {
    case OUT_ANNOUNCE:
      if (!slack)
        slack = c->slack.announce_channel;
      teams = c->teams.announce_channel;
      break;
    case OUT_HANDOFF:
      if (!slack)
        slack = c->slack.handoff_channel;
      teams = c->teams.handoff_channel;
      break;
    case OUT_STAKEHOLDERS:
      if (!slack)
        slack = c->slack.stakeholder_channel;
      teams = c->teams.announce_channel;
      break;
  }
  int written = 0, rc;
  if (slack) {
    rc = out_post(ctx, slack, m, priority, hook, ref, NULL);
    if (rc)
      return rc;
    written++;
  }
  if (teams && c->teams.app_id) {
    rc = teams_post(ctx, teams, m, priority, hook, ref, NULL);
    if (rc)
      return rc;
    written++;
  } else if (c->teams.workflow_webhook_url_env && audience != OUT_STAKEHOLDERS) {
    /* One-way Workflows webhook: cards without callbacks (protocols/teams.md §3.2). */
    cJSON *body = cJSON_CreateObject();
    cJSON *act = teams_activity(ctx, m);
    if (!body || !act) {
      cJSON_Delete(body);
      cJSON_Delete(act);
      return KX_ENOMEM;
    }
    cJSON_AddItemToObject(body, "activity", act);
    rc = teams_row(ctx, "teams.webhook", "teams.webhook", body, priority, NULL, NULL, NULL);
    if (rc)
      return rc;
    written++;
  }
  return written;
}

int out_row(struct cmd_ctx *ctx,
            const char *platform,
            const char *method,
            const char *queue,
            cJSON *body,
            int priority,
            const char *hook,
            const char *ref,
            int64_t *id_out)
{
  return add_row(ctx, platform, method, queue, body, priority, hook, ref, id_out);
}

int out_email(
    struct cmd_ctx *ctx, const char *to, const char *subject, const char *text, int priority)
{
  return out_email_hook(ctx, to, subject, text, priority, NULL, NULL);
}

/* The one writer of email rows: {"to": [to], "subject", "text", "attachment"?}. */
static int email_row(struct cmd_ctx *ctx,
                     const char *to,
                     const char *subject,
                     const char *text,
                     const char *const attach[3], /* name, type, data; NULL: none */
                     int priority,
                     const char *hook,
                     const char *ref)
{
  if (!to || !*to || (attach && (!attach[0] || !attach[1] || !attach[2])))
    return KX_EINVAL;
  cJSON *body = cJSON_CreateObject();
  cJSON *list = body ? cJSON_AddArrayToObject(body, "to") : NULL;
  cJSON *att = body && attach ? cJSON_AddObjectToObject(body, "attachment") : NULL;
  if (!list || (attach && !att)) {
    cJSON_Delete(body);
    return KX_ENOMEM;
  }
  cJSON_AddItemToArray(list, cJSON_CreateString(to));
  cJSON_AddStringToObject(body, "subject", subject ? subject : "[klaxon]");
  cJSON_AddStringToObject(body, "text", text ? text : "");
  if (att) {
    cJSON_AddStringToObject(att, "name", attach[0]);
    cJSON_AddStringToObject(att, "type", attach[1]);
    cJSON_AddStringToObject(att, "data", attach[2]);
  }
  /* One queue: the SMTP relay takes one message at a time. */
  return add_row(ctx, "email", "email.send", "email", body, priority, hook, ref, NULL);
}

int out_email_hook(struct cmd_ctx *ctx,
                   const char *to,
                   const char *subject,
                   const char *text,
                   int priority,
                   const char *hook,
                   const char *ref)
{
  return email_row(ctx, to, subject, text, NULL, priority, hook, ref);
}

int out_email_attach(struct cmd_ctx *ctx,
                     const char *to,
                     const char *subject,
                     const char *text,
                     const char *name,
                     const char *type,
                     const char *data,
                     int priority)
{
  const char *const attach[3] = {name, type, data};
  return email_row(ctx, to, subject, text, attach, priority, NULL, NULL);
}

/* ---- answers a transport cannot carry -------------------------------------------------------- */

static int answer_slack(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        const char *mrkdwn,
                        bool in_channel)
{
  cJSON *body = cJSON_CreateObject();
  if (!body)
    return KX_ENOMEM;
  if (req->answer == CMD_ANSWER_EPHEMERAL) {
    if (!req->channel || !req->user) {
      cJSON_Delete(body);
      return 0;
    }
    cJSON_AddStringToObject(body, "channel", req->channel);
    cJSON_AddStringToObject(body, "user", req->user);
    cJSON_AddStringToObject(body, "text", mrkdwn);
    /* A queue of its own per asker: an answer never waits behind the channel's posts (an alert
     * storm's updates), and one person's answers stay in order. */
    char queue[256];
    snprintf(queue, sizeof(queue), "answer:%.100s:%.100s", req->channel, req->user);
    return out_slack_call(ctx, "chat.postEphemeral", queue, body, OUTBOX_URGENT, NULL, NULL, NULL);
  }
  if (!req->response_url) {
    cJSON_Delete(body);
    return 0;
  }
  /* A button's answer: a new message, the card left as it is. */
  cJSON_AddStringToObject(body, "url", req->response_url);
  cJSON_AddStringToObject(body, "text", mrkdwn);
  cJSON_AddStringToObject(body, "response_type", in_channel ? "in_channel" : "ephemeral");
  cJSON_AddBoolToObject(body, "replace_original", 0);
  /* One queue per response_url keeps a button's answers in order. */
  return out_slack_call(ctx, "response_url", req->response_url, body, OUTBOX_URGENT, NULL, NULL,
                        NULL);
}

static int answer_teams(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        const char *markdown,
                        const cJSON *card)
{
  if (!req->channel)
    return 0;
  cJSON *row =
      render_teams_reply_row(req->channel, req->reply_to_id,
                             render_teams_reply_activity(markdown, card, req->reply_to_id));
  if (!row)
    return KX_ENOMEM;
  /* Replies queue behind their thread's root. */
  char queue[512];
  snprintf(queue, sizeof(queue), "%.*s", (int)strcspn(req->channel, ";"), req->channel);
  return teams_row(ctx, "teams.reply", queue, row, OUTBOX_URGENT, NULL, NULL, NULL);
}

char *out_slack_text(struct cmd_ctx *ctx, const char *markup)
{
  struct cmd_people pp;
  cmd_people_open(&pp, ctx);
  char *text = render_slack_mrkdwn(markup ? markup : "", &pp.rp, OUT_ANSWER_TEXT_MAX);
  cmd_people_close(&pp);
  return text;
}

char *out_teams_text(struct cmd_ctx *ctx, const char *markup)
{
  struct cmd_people pp;
  cmd_people_open(&pp, ctx);
  char *md = render_teams_markdown(markup ? markup : "", &pp.rp);
  cmd_people_close(&pp);
  return md;
}

int out_answer(struct cmd_ctx *ctx, const struct cmd_request *req, const struct cmd_reply *reply)
{
  const char *markup = reply->text.data ? reply->text.data : "";
  if (req->answer == CMD_ANSWER_ACK || (reply->text.len == 0 && !reply->card))
    return 0;
  if (req->answer == CMD_ANSWER_THREAD) {
    char *md = out_teams_text(ctx, markup);
    int rc = md ? answer_teams(ctx, req, md, reply->card) : KX_ENOMEM;
    free(md);
    return rc;
  }
  if (reply->text.len == 0)
    return 0;
  char *text = out_slack_text(ctx, markup);
  int rc = text ? answer_slack(ctx, req, text, reply->in_channel) : KX_ENOMEM;
  free(text);
  return rc;
}
