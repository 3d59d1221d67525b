/*
 * feed_auth.h — the check in front of the read-only feeds (calendar, postmortem, /metrics): the
 * request must carry the path's token (lib/feed_token.h), as `?token=` or as
 * `Authorization: Bearer`. On refusal it fills a 401 and logs once; the feed does no work.
 */
#ifndef KX_FEED_AUTH_H
#define KX_FEED_AUTH_H

#include <stdbool.h>

#include "bot/net/httpd.h"

struct module_env;

/* True when the request may read its path; false with `resp` filled (401). */
bool feed_auth(const struct module_env *env,
               const struct httpd_request *req,
               struct httpd_response *resp);

#endif
