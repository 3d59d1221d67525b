/*
 * pagerduty_http.h — PagerDuty Events API v2 in (issue 14): POST /alerts/pagerduty and POST
 * /v2/enqueue (for tools that only let you change the host), answered as PagerDuty answers:
 * 202 {"status":"success","message":"Event processed","dedup_key"}; 400 {"status":"invalid
 * event","message":"Event object is invalid","errors":[…]} (or "Unrecognized object" for a body
 * that is not JSON); 429 when one routing key sends more than PD_RATE_BURST events at once
 * (refilled at PD_RATE_PER_S a second). The routing key is the credential: it must equal the
 * value of one of the variables alerts.pagerduty_keys_env names (constant time, every one
 * compared); the key itself is never stored or logged, only its variable's name.
 */
#ifndef KX_PAGERDUTY_HTTP_H
#define KX_PAGERDUTY_HTTP_H

#define PD_MAX_BODY ((size_t)512 * 1024) /* PagerDuty's own limit on an event */
#define PD_RATE_BURST 120
#define PD_RATE_PER_S 2.0

struct module_env;

int pagerduty_http_init(const struct module_env *env, void **state);
void pagerduty_http_close(void *state);

#endif
