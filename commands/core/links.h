/*
 * links.h — links people open in a browser to klaxon's read-only feeds (a rota's calendar, a
 * postmortem draft, /metrics), each carrying the token that opens that one path
 * (lib/feed_token.h). The secret comes from the variable `http.feed_secret_env` names
 * (default KLAXON_FEED_SECRET); without it, klaxon makes a random one at first start and keeps
 * it in the database, so links survive restarts. docs/security.md says how to rotate it.
 */
#ifndef KX_LINKS_H
#define KX_LINKS_H

#include <stdbool.h>

#include "commands/core/command.h"
#include "commands/core/config.h"
#include "storage/db.h"

#define LINKS_DEFAULT_SECRET_ENV "KLAXON_FEED_SECRET"

/* The feed secret (a copy the caller frees): the environment's, else the database's; with
 * `create`, one is made and stored (in its own transaction) when there is none. NULL when there
 * is none and `create` is false, or on an error (logged). */
char *links_feed_secret(struct db *db, const struct config *c, bool create);

/* public_url + path + "?token=…" (caller frees), or NULL without a public_url or a secret. */
char *links_feed_url(const struct cmd_ctx *ctx, const char *path);

#endif
