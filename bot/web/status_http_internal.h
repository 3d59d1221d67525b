/*
 * status_http_internal.h — shared by bot/web/status_http.c and status_subscribe.c only.
 */
#ifndef KX_STATUS_HTTP_INTERNAL_H
#define KX_STATUS_HTTP_INTERNAL_H

#include <stdbool.h>

#include "bot/modules.h"

#define STATUS_SUBSCRIBE_MAX_BODY 4096

int status_on_subscribe(void *arg,
                        const struct httpd_request *req,
                        struct httpd_response *resp,
                        struct httpd_pending *later);
/* GET/POST /status/confirm and /status/unsubscribe (token in the query or the form body). */
int status_on_token(const struct module_env *env,
                    const struct httpd_request *req,
                    struct httpd_response *resp,
                    bool unsubscribe);

#endif
