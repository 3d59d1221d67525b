/*
 * pagerduty_send.h — the outbox sender for rows of platform "pagerduty" (issue 14): an event of
 * PagerDuty's Events API v2, for escalation steps `pagerduty:KEY_ENV` that keep a PagerDuty
 * incident in step with a klaxon page. The row's body is
 *   {"key_env": "PD_KEY_PLATFORM", "event": {"event_action": …, "dedup_key": …, "payload": …}}
 * and the routing key is read from that variable only now, at send time, so it is never
 * stored. POSTed as JSON to $KLAXON_PAGERDUTY_EVENTS_URL (default
 * https://events.pagerduty.com/v2/enqueue). Results as for push rows (push_send.h): 2xx done;
 * 429 rate-limited; 5xx and network errors retried; any other status (PagerDuty's 400 "invalid
 * event") refused for good as "pagerduty_http_STATUS". An unset variable refuses the row.
 */
#ifndef KX_PAGERDUTY_SEND_H
#define KX_PAGERDUTY_SEND_H

#include "bot/net/http_client.h"
#include "bot/sender.h"

#define PAGERDUTY_EVENTS_URL "https://events.pagerduty.com/v2/enqueue"

int pagerduty_send_row(void *arg,
                       struct sender *s,
                       const struct outbox_row *row,
                       sender_done_fn done);

#endif
