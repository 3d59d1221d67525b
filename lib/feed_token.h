/*
 * feed_token.h — the tokens that open klaxon's read-only feeds (a rota's calendar, a
 * postmortem draft, /metrics) on a listener that must be public for Teams: the first
 * FEED_TOKEN_LEN hex digits of HMAC-SHA256(secret, path), path as the server sees it
 * ("/calendar/platform.ics"). A token opens one path only, and rotating the secret revokes them
 * all. No allocation; the secret is never logged.
 */
#ifndef KX_FEED_TOKEN_H
#define KX_FEED_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define FEED_TOKEN_LEN 32

/* Writes the token and a NUL into out (FEED_TOKEN_LEN + 1 bytes). 0, or KX_EINVAL without a
 * secret. */
int feed_token(const char *secret, const char *path, char out[FEED_TOKEN_LEN + 1]);
/* Whether `given` is the token of `path` (constant time). False without a secret. */
bool feed_token_ok(const char *secret, const char *path, const char *given);

#endif
