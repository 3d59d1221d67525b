/*
 * render_slack.h — struct msg to Block Kit and Slack mrkdwn.
 *
 * Person mentions (<@p:alice>) become <@U…> when the person's Slack id is known, else their
 * name in bold; <@u:U…> becomes <@U…>. Texts are cut to Block Kit's limits (a cut text ends in
 * "…"), so a long user text never makes Slack refuse the whole message. Returned cJSON trees
 * and strings belong to the caller.
 */
#ifndef KX_RENDER_SLACK_H
#define KX_RENDER_SLACK_H

#include <cjson/cJSON.h>

#include "commands/core/msg.h"

struct render_people {
  /* Slack user id for a config person id, or NULL when unknown. */
  const char *(*slack_id)(void *arg, const char *person_id);
  /* Display name for a config person id, or NULL when unknown. */
  const char *(*name)(void *arg, const char *person_id);
  void *arg;
};

/* Markup to mrkdwn; max_len 0 = no cut. Caller frees. */
char *render_slack_mrkdwn(const char *markup, const struct render_people *people, size_t max_len);
cJSON *render_slack_blocks(const struct msg *m, const struct render_people *people);
/* {"channel": …, "text": fallback, "blocks": […]} for chat.postMessage; add "ts" yourself for
 * chat.update. */
cJSON *render_slack_message(const struct msg *m,
                            const char *channel,
                            const struct render_people *people);

#endif
