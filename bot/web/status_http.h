/*
 * status_http.h — the status page's HTTP side (issue 13): GET /status, /status/api/v2/NAME.json,
 * /status/history.atom, POST /heartbeat/NAME (the alerts token, as a Bearer header or
 * ?token=), and the check runner: each configured check on a libuv timer on the bot's clock,
 * HTTP checks through the shared libcurl-multi client, TCP checks with a libuv connect, never
 * blocking the loop; each result is dispatched as a CMD_ACTION_STATUS_CHECK request.
 */
#ifndef KX_STATUS_HTTP_H
#define KX_STATUS_HTTP_H

#include "bot/modules.h"

int status_http_init(const struct module_env *env, void **state);
int status_http_start(void *state);
void status_http_halt(void *state);
void status_http_close(void *state);

#endif
