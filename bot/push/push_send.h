/*
 * push_send.h — the outbox sender for rows of platform "push" (issue 11): one HTTP POST to a
 * push service (an ntfy topic, a generic webhook). The row's method is free (say "ntfy" or
 * "webhook", for the logs); its body is
 *
 *   {"url": "https://ntfy.example.com/oncall-alice",
 *    "headers": {"Title": "P1 db down", "Priority": "5", "Click": "https://…"},
 *    "body": "text"}
 *
 * sent as it is: the headers (names of token characters, values without CR, LF or NUL; at most
 * PUSH_MAX_HEADERS) and the body (default Content-Type text/plain unless a header gives one).
 * The URL must be http:// or https://. Redirects are not followed (a 3xx is a refusal),
 * timeout PUSH_TIMEOUT_MS.
 *
 * Results (the sender's done callback): 2xx → 0 with {"status": N, "body": <JSON answer, or the
 * text>}; 429 → KX_ERATELIMITED (Retry-After); 5xx, timeouts, network errors → KX_ERETRY;
 * other statuses → KX_EPLATFORM "push_http_STATUS". A malformed row → KX_EINVAL at once.
 */
#ifndef KX_PUSH_SEND_H
#define KX_PUSH_SEND_H

#include "bot/net/http_client.h"
#include "bot/sender.h"

#define PUSH_TIMEOUT_MS 10000
#define PUSH_MAX_HEADERS 16
#define PUSH_HEADER_MAX 1024 /* "Name: value" */
#define PUSH_RESPONSE_MAX ((size_t)64 * 1024)

/* A sender_platform_fn: arg is the struct http_client. */
int push_send_row(void *arg, struct sender *s, const struct outbox_row *row, sender_done_fn done);
/* Map an HTTP answer (pure, for tests): the done callback's err; *json (caller deletes) on 2xx. */
int push_result(
    int transport_err, long status, const char *body, char *error, size_t error_size, cJSON **json);

#endif
