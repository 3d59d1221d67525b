/*
 * out.h — what handlers call to say something: each function renders a struct msg for the
 * platform and writes one outbox row in the caller's transaction. Nothing is sent here; the
 * sender (bot/sender.c) delivers the rows. The msg stays the caller's.
 * Returns 0 or a KX_E* code; `id_out` (may be NULL) receives the outbox row id.
 *
 * The destination decides the platform: Slack ids (C…, G…, D…, U…) give Slack rows; Teams
 * conversation ids ("19:…", "a:…") give Teams rows (platform "teams") carrying an Adaptive
 * Card activity:
 *   teams.post   {"channel": "19:…@thread.tacv2", "activity": {…}}  a new thread in a channel
 *   teams.reply  {"conversation": "19:…;messageid=…", "activity": {…}} into a thread
 *   teams.update {"conversation": …, "activity_id": …, "activity": {…}} a card in place
 *   teams.webhook {"activity": {…}}   a one-way post to the Workflows webhook
 *   teams.dm     {"user": "29:…" | "aad:<object id>", "activity": {…}} the bot's 1:1 chat with a
 *                person (a destination "29:…" or "aad:…", see cmd_person_teams in people.h)
 * The Teams sender (bot/teams_connector.c) delivers them and puts the connector's answer
 * ({"id": …, "activityId": …}) in the hook's result, plus "channel" and "ts" naming the message
 * as Slack's {"channel", "ts"} do, so out_update(channel, ts) updates it on either platform.
 */
#ifndef KX_OUT_H
#define KX_OUT_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "commands/core/command.h"
#include "commands/core/msg.h"

/* Any Slack Web API call; `body` is taken (deleted) whatever the result. */
int out_slack_call(struct cmd_ctx *ctx,
                   const char *method,
                   const char *queue,
                   cJSON *body,
                   int priority,
                   const char *hook,
                   const char *ref,
                   int64_t *id_out);
/* chat.postMessage to a channel (or a user id: a DM from the app). */
int out_post(struct cmd_ctx *ctx,
             const char *channel,
             const struct msg *m,
             int priority,
             const char *hook,
             const char *ref,
             int64_t *id_out);
/* The same in a thread. */
int out_post_thread(struct cmd_ctx *ctx,
                    const char *channel,
                    const char *thread_ts,
                    const struct msg *m,
                    int priority);
/* chat.update of a message the bot posted. */
int out_update(
    struct cmd_ctx *ctx, const char *channel, const char *ts, const struct msg *m, int priority);
/* The same, with a hook told when the update has landed (or was refused). */
int out_update_hook(struct cmd_ctx *ctx,
                    const char *channel,
                    const char *ts,
                    const struct msg *m,
                    int priority,
                    const char *hook,
                    const char *ref);
/* chat.postEphemeral: only `user` sees it. */
int out_ephemeral(struct cmd_ctx *ctx, const char *channel, const char *user, const struct msg *m);
/* A DM to a person (by their Slack id); KX_ENOTFOUND when the person has no Slack id yet. */
int out_dm(struct cmd_ctx *ctx,
           const struct person *p,
           const struct msg *m,
           int priority,
           const char *hook,
           const char *ref);
/* Where announcements of a kind go: the Slack channel from the config's slack: block and the
 * Teams channel from its teams: block (or the Workflows webhook), whichever are configured. */
enum out_audience {
  OUT_ANNOUNCE = 0, /* slack.announce_channel / teams.announce_channel */
  OUT_HANDOFF,      /* slack.handoff_channel / teams.handoff_channel */
  OUT_STAKEHOLDERS  /* slack.stakeholder_channel (Teams: the announce channel) */
};
/* Post to every configured destination of the audience; returns how many rows were written
 * (0 when nothing is configured) or < 0. `slack_channel` (may be NULL) overrides the Slack
 * destination (a rota's own handoff channel). */
int out_announce(struct cmd_ctx *ctx,
                 enum out_audience audience,
                 const char *slack_channel,
                 const struct msg *m,
                 int priority,
                 const char *hook,
                 const char *ref);
/* True for a Teams conversation id. */
bool out_is_teams(const char *destination);

/* The reply to a request whose transport cannot carry it (req->answer, request.h): an
 * ephemeral message, a response_url POST or a Teams reply, written as an urgent outbox row in
 * the caller's transaction. 0 with nothing written for CMD_ANSWER_ACK or an empty reply. */
/* An email to one address: {"to": [to], "subject", "text"} as an outbox row of platform
 * "email"; the sender renders it (commands/core/render_email.h: RFC 5322, every header
 * sanitised and RFC 2047-encoded) and hands it to smtp.url. */
int out_email(
    struct cmd_ctx *ctx, const char *to, const char *subject, const char *text, int priority);
/* The same, with a hook told when the relay took it (or refused it for good). */
int out_email_hook(struct cmd_ctx *ctx,
                   const char *to,
                   const char *subject,
                   const char *text,
                   int priority,
                   const char *hook,
                   const char *ref);
/* A row for another platform's sender ("twilio", "push": bot/twilio/); `body` is taken. */
int out_row(struct cmd_ctx *ctx,
            const char *platform,
            const char *method,
            const char *queue,
            cJSON *body,
            int priority,
            const char *hook,
            const char *ref,
            int64_t *id_out);
/* The same with one file attached (`name`, MIME `type` like "text/html", `data` text): the
 * message becomes multipart/mixed (render_email.h). */
int out_email_attach(struct cmd_ctx *ctx,
                     const char *to,
                     const char *subject,
                     const char *text,
                     const char *name,
                     const char *type,
                     const char *data,
                     int priority);

#define OUT_ANSWER_TEXT_MAX 3000 /* characters of an answer's mrkdwn */
/* A reply's markup as Slack mrkdwn (at most OUT_ANSWER_TEXT_MAX) or as Teams markdown, people
 * resolved through ctx: what every answer, in an ack or an outbox row, is rendered with.
 * Caller frees; NULL when out of memory. */
char *out_slack_text(struct cmd_ctx *ctx, const char *markup);
char *out_teams_text(struct cmd_ctx *ctx, const char *markup);
int out_answer(struct cmd_ctx *ctx, const struct cmd_request *req, const struct cmd_reply *reply);

#endif
