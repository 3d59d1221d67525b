/*
 * twilio.h — the Twilio module (issue 11): when the config has a twilio block, reads the
 * Account SID and Auth Token from the environment variables it names (a missing one stops the
 * bot with the configuration exit code) and registers the outbox sender for platform "twilio"
 * (bot/twilio/twilio_send.h), talking to $KLAXON_TWILIO_API_URL (default
 * https://api.twilio.com). The inbound routes (under /twilio/) are the paging
 * engine's.
 */
#ifndef KX_TWILIO_H
#define KX_TWILIO_H

#include "bot/modules.h"

int twilio_init(const struct module_env *env, void **state);
int twilio_start(void *state);
void twilio_close(void *state);

#endif
