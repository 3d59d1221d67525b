/*
 * people.h — who is who: from a platform user id to a config person and back, mentions typed
 * in commands, and the resolver the renderers use for <@p:id> mentions.
 */
#ifndef KX_PEOPLE_H
#define KX_PEOPLE_H

#include <stddef.h>

#include "commands/core/command.h"
#include "commands/core/render_slack.h"

/* The config person behind a platform user id (Slack U…, Teams aad object id), or NULL. */
const struct person *cmd_person_for_user(struct cmd_ctx *ctx,
                                         enum cmd_platform platform,
                                         const char *user_id);
/* A person named in an argument: "<@U123|alice>", "<@U123>", "@alice", "alice". NULL when
 * nobody matches. */
const struct person *cmd_person_arg(struct cmd_ctx *ctx,
                                    enum cmd_platform platform,
                                    const char *arg);
/* The platform user id inside a mention argument ("<@U123|x>" -> "U123"); 0 or KX_EINVAL. */
int cmd_mention_id(const char *arg, char *out, size_t size);
/* The Slack user id of a person (config, else learnt from email), or NULL. Caller frees. */
char *cmd_person_slack(struct cmd_ctx *ctx, const struct person *p);
const char *cmd_person_name(const struct person *p); /* display name, never NULL */
/* " · +4930123456" after a person's mention when they have a phone (issue 11: whoever reads
 * the page, the handoff or /oncall can call them); nothing otherwise. */
int cmd_md_phone(struct buf *b, const struct config *c, const char *person_id);
/* Where a person is reached in Teams (an out_post destination for the bot's 1:1 chat): their
 * "29:…" user id when the bot has seen it, else "aad:<people[].teams>" (the sender finds the
 * user in a team's roster); NULL without people[].teams. Caller frees. */
char *cmd_person_teams(struct cmd_ctx *ctx, const struct person *p);

/* A resolver for render_slack: strings it returns live until cmd_people_close. */
#define CMD_PEOPLE_CACHE 64
struct cmd_people {
  struct render_people rp;
  struct cmd_ctx *ctx;
  char *owned[CMD_PEOPLE_CACHE];
  size_t n_owned;
};
void cmd_people_open(struct cmd_people *pp, struct cmd_ctx *ctx);
void cmd_people_close(struct cmd_people *pp);

#endif
