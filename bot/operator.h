/*
 * operator.h — telling whoever runs klaxon (the config's operator block) that a platform
 * refuses klaxon, through the channels that still work: an email to each operator.email (the
 * smtp block), a post in operator.teams_channel unless Teams is the one refusing, a post in
 * operator.slack_channel unless Slack is. The messages are outbox rows like any other
 * ("one way out"), urgent, each in its own queue ("operator:…"), written in one transaction.
 *
 * The sender (bot/sender.c) calls it once when a refusal episode starts, once when the platform
 * accepts klaxon again, and once before exiting when Slack turned the app's Socket Mode off.
 */
#ifndef KX_OPERATOR_H
#define KX_OPERATOR_H

#include <stddef.h>
#include <stdint.h>

#include "commands/core/command.h"

enum operator_news {
  OPERATOR_REFUSED = 0, /* the platform refuses our token or credentials */
  OPERATOR_ACCEPTED,    /* … and now accepts them again */
  OPERATOR_DISABLED     /* Slack: Socket Mode turned off (link_disabled); klaxon exits */
};

/* Write the rows at now_ms. `platform` is "slack" or "teams" (the one the news is about; it is
 * never used to tell), `detail` the platform's error name (may be NULL). The row ids go to
 * ids[0..max) (may be NULL). Returns how many rows were written (0 when the operator block
 * names no way that works) or < 0 (nothing written). */
int operator_tell(const struct cmd_ctx *env,
                  int64_t now_ms,
                  const char *platform,
                  enum operator_news news,
                  const char *detail,
                  int64_t *ids,
                  size_t max);

#endif
