/*
 * push.h — the push module (issue 11): registers the outbox sender for platform "push"
 * (bot/push/push_send.h), always on: it needs no configuration, each row carries its URL.
 */
#ifndef KX_PUSH_H
#define KX_PUSH_H

#include "bot/modules.h"

int push_init(const struct module_env *env, void **state);
int push_start(void *state);

#endif
