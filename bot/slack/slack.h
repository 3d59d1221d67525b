/*
 * slack.h — the Slack transport as a module (bot/modules.h): Socket Mode envelopes in, acks
 * out, auth.test at start, and the Slack Web API handed to the sender. It runs on its own
 * libwebsockets context, so connections to the HTTP server (slow ones included) never take
 * the header slots or file descriptors its reconnects need.
 *
 * Off when neither SLACK_APP_TOKEN nor SLACK_BOT_TOKEN (or the variables slack.app_token_env
 * and slack.bot_token_env name) is set; one without the other, or a token of the wrong kind
 * (xapp-/xoxb-), is a configuration error. A token Slack refuses, or link_disabled, stops the
 * bot with its own exit code (app.h).
 */
#ifndef KX_SLACK_H
#define KX_SLACK_H

#include "bot/modules.h"

int slack_init(const struct module_env *env, void **state);
int slack_start(void *state);
void slack_stop(void *state, void (*done)(void *arg), void *arg);
void slack_halt(void *state);
void slack_close(void *state);
/* "connected" or "disconnected" (the module is absent from /healthz when Slack is off). */
const char *slack_status(const void *state);

#endif
