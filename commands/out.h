/*
 * out.h — what handlers call to say something: each function renders a struct msg for the
 * platform and writes one outbox row in the caller's transaction. Nothing is sent here; the
 * sender (bot/sender.c) delivers the rows. The msg stays the caller's.
 * Returns 0 or a KX_E* code; `id_out` (may be NULL) receives the outbox row id.
 */
#ifndef KX_OUT_H
#define KX_OUT_H

#include <cjson/cJSON.h>

#include "command.h"
#include "msg.h"

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
int out_update(struct cmd_ctx *ctx,
               const char *channel,
               const char *ts,
               const struct msg *m,
               int priority);
/* chat.postEphemeral: only `user` sees it. */
int out_ephemeral(struct cmd_ctx *ctx, const char *channel, const char *user, const struct msg *m);
/* A DM to a person (by their Slack id); KX_ENOTFOUND when the person has no Slack id yet. */
int out_dm(struct cmd_ctx *ctx,
           const struct person *p,
           const struct msg *m,
           int priority,
           const char *hook,
           const char *ref);
/* A post to a response_url (slash commands and buttons give one; valid 30 minutes). */
int out_response_url(struct cmd_ctx *ctx,
                     const char *url,
                     const struct msg *m,
                     bool replace_original,
                     bool in_channel);

#endif
