#include "out.h"

#include <stdlib.h>

#include "../lib/kx.h"
#include "../lib/log.h"
#include "people.h"
#include "render_slack.h"

int out_slack_call(struct cmd_ctx *ctx,
                   const char *method,
                   const char *queue,
                   cJSON *body,
                   int priority,
                   const char *hook,
                   const char *ref,
                   int64_t *id_out)
{
  if (!body) return KX_ENOMEM;
  char *text = cJSON_PrintUnformatted(body);
  cJSON_Delete(body);
  if (!text) return KX_ENOMEM;
  struct outbox_new row = {
      .platform = "slack",
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
  if (!channel) return KX_EINVAL;
  cJSON *body = message_body(ctx, channel, m);
  return out_slack_call(ctx, "chat.postMessage", channel, body, priority, hook, ref, id_out);
}

int out_post_thread(struct cmd_ctx *ctx,
                    const char *channel,
                    const char *thread_ts,
                    const struct msg *m,
                    int priority)
{
  if (!channel || !thread_ts) return KX_EINVAL;
  cJSON *body = message_body(ctx, channel, m);
  if (body) cJSON_AddStringToObject(body, "thread_ts", thread_ts);
  return out_slack_call(ctx, "chat.postMessage", channel, body, priority, NULL, NULL, NULL);
}

int out_update(struct cmd_ctx *ctx,
               const char *channel,
               const char *ts,
               const struct msg *m,
               int priority)
{
  if (!channel || !ts) return KX_EINVAL;
  cJSON *body = message_body(ctx, channel, m);
  if (body) cJSON_AddStringToObject(body, "ts", ts);
  return out_slack_call(ctx, "chat.update", channel, body, priority, NULL, NULL, NULL);
}

int out_ephemeral(struct cmd_ctx *ctx, const char *channel, const char *user, const struct msg *m)
{
  if (!channel || !user) return KX_EINVAL;
  cJSON *body = message_body(ctx, channel, m);
  if (body) cJSON_AddStringToObject(body, "user", user);
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

int out_response_url(struct cmd_ctx *ctx,
                     const char *url,
                     const struct msg *m,
                     bool replace_original,
                     bool in_channel)
{
  if (!url) return KX_EINVAL;
  cJSON *body = message_body(ctx, "", m);
  if (!body) return KX_ENOMEM;
  cJSON_DeleteItemFromObject(body, "channel");
  cJSON_AddStringToObject(body, "url", url);
  cJSON_AddBoolToObject(body, "replace_original", replace_original);
  cJSON_AddStringToObject(body, "response_type", in_channel ? "in_channel" : "ephemeral");
  /* One queue per response_url keeps a button's updates in order. */
  return out_slack_call(ctx, "response_url", url, body, OUTBOX_URGENT, NULL, NULL, NULL);
}
