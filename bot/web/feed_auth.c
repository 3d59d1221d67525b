/* feed_auth.c — see feed_auth.h. */
#include "bot/web/feed_auth.h"

#include <string.h>
#include <strings.h>

#include "bot/modules.h"
#include "lib/feed_token.h"
#include "lib/log.h"

/* The value of token= in a query string, copied into out ("" when absent). */
static void query_token(const char *query, char *out, size_t size)
{
  out[0] = '\0';
  for (const char *p = query; p && *p;) {
    if (strncmp(p, "token=", 6) == 0) {
      size_t n = strcspn(p + 6, "&");
      if (n < size) {
        memcpy(out, p + 6, n);
        out[n] = '\0';
      }
      return;
    }
    p = strchr(p, '&');
    if (p)
      p++;
  }
}

bool feed_auth(const struct module_env *env,
               const struct httpd_request *req,
               struct httpd_response *resp)
{
  char given[FEED_TOKEN_LEN * 2 + 1];
  query_token(req->query, given, sizeof(given));
  if (!given[0] && req->authorization && strncasecmp(req->authorization, "Bearer ", 7) == 0) {
    const char *t = req->authorization + 7;
    if (strlen(t) < sizeof(given))
      strcpy(given, t);
  }
  if (feed_token_ok(env->ctx->feed_secret, req->path, given))
    return true;
  LOG_WARN("http", "feed_refused", "reason=%s", given[0] ? "wrong_token" : "no_token");
  httpd_error(resp, 401,
              "this feed needs its token (?token= or a bearer token): `klaxon links` prints "
              "the links");
  return false;
}
