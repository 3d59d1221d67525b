/*
 * cli_oncall.h — the rota subcommands (oncall, schedule, export-ical) and the part of
 * `check-config --online` that asks Slack about people (users.lookupByEmail).
 */
#ifndef KX_CLI_ONCALL_H
#define KX_CLI_ONCALL_H

#include "commands/core/config.h"

int cli_oncall(int argc, char **argv);
int cli_schedule(int argc, char **argv);
int cli_export_ical(int argc, char **argv);

/* A small run of the loop: auth.test, then users.lookupByEmail for every person with an email
 * (one at a time, waiting out Retry-After), printing who cannot be found and whose configured
 * Slack id differs from what Slack has. Needs the bot token (slack.bot_token_env) and honours
 * KLAXON_SLACK_API_URL. Returns 0 when everyone was found, 1 otherwise. */
int cli_check_people_online(const struct config *c);

#endif
