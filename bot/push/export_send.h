/*
 * export_send.h — the outbox sender for rows of platform "export" (issue 14): the postmortem sent
 * to Confluence Cloud (REST v2) or to a webhook, as JSON. The row's body is
 *
 *   {"url": "https://example.atlassian.net/wiki/api/v2/pages"   (or "url_env": "VAR"),
 *    "method": "POST" | "PUT",
 *    "email_env": "CONFLUENCE_EMAIL", "token_env": "CONFLUENCE_TOKEN",   (optional: Basic auth)
 *    "json": {…the request…}}
 *
 * The variables are read when the request is sent (the credentials and a secret URL are never
 * stored in the outbox); a variable that is not set is a refusal logged at once (KX_EINVAL).
 * Results as push_send.h: 2xx → {"status", "body": <the JSON answer>} for the row's hook.
 */
#ifndef KX_EXPORT_SEND_H
#define KX_EXPORT_SEND_H

#include "bot/net/http_client.h"
#include "bot/sender.h"

/* A sender_platform_fn: arg is the struct http_client. */
int export_send_row(void *arg, struct sender *s, const struct outbox_row *row, sender_done_fn done);

#endif
