/*
 * sender_email.h — the sender's built-in "email" platform: an outbox row {"to": [...],
 * "subject", "text", "attachment"?} rendered as RFC 5322 (commands/core/render_email.h) and
 * handed to smtp.url. `done` runs once, from the loop: 0 when the relay took it, KX_EPLATFORM
 * when it refused it for good (5xx), KX_ERETRY otherwise. KX_ECONFIG without an smtp block,
 * KX_EINVAL for a malformed row (then `done` is never called).
 */
#ifndef KX_SENDER_EMAIL_H
#define KX_SENDER_EMAIL_H

#include "bot/net/http_client.h"
#include "bot/sender.h"
#include "commands/core/config.h"

int sender_email(struct http_client *http,
                 const struct smtp_config *smtp,
                 struct sender *s,
                 const struct outbox_row *row,
                 sender_done_fn done);

#endif
