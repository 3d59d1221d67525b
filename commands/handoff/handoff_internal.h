/*
 * handoff_internal.h — shared by commands/handoff*.c only: job keys, scheduling helpers, the
 * handoff post's message and DMs.
 */
#ifndef KX_HANDOFF_INTERNAL_H
#define KX_HANDOFF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "commands/core/command.h"
#include "commands/core/msg.h"
#include "commands/oncall/rota.h"
#include "storage/handoffs.h"

/* k from a "kind:rota:k" key, or -1. */
int64_t handoff_key_index(const char *key);
/* The first digest after `after_ms`. */
int handoff_schedule_digest(struct cmd_ctx *ctx, const struct rota *r, int64_t after_ms);
/* handoff.ack_timeout from the config, or the default. */
int64_t handoff_ack_timeout(const struct cmd_ctx *ctx);
/* The handoff post as it stands (button, or who has the pager; the manager notice). Caller
 * frees; NULL when out of memory. */
struct msg *handoff_message(struct cmd_ctx *ctx, const struct rota *r, const struct handoff_row *h);
/* A DM of markup to a config person id; quietly nothing for an unknown person or one without a
 * Slack id yet. */
int handoff_dm(
    struct cmd_ctx *ctx, const char *person, const char *markup, const char *plain, int prio);

#endif
