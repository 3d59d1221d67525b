/*
 * alerts_http.h — the alert webhooks: POST /alerts/alertmanager (Alertmanager webhook v4)
 * and POST /alerts/webhook (the generic JSON alert). Both need `Authorization: Bearer` with
 * the token in the environment variable `alerts.token_env` names (compared in constant time):
 * 401 without it or with a wrong one, 400 for malformed JSON or a body of the wrong shape,
 * 413 over 1 MiB; a refused request stores nothing. An accepted body is dispatched as one
 * request (one transaction) and answered 200 with a JSON summary; 500 when it could not be
 * stored, so Alertmanager retries.
 */
#ifndef KX_ALERTS_HTTP_H
#define KX_ALERTS_HTTP_H

#define ALERTS_HTTP_MAX_BODY ((size_t)1024 * 1024)

struct module_env;

int alerts_http_init(const struct module_env *env, void **state);

#endif
