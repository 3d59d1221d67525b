/* links.c — see links.h. */
#include "commands/core/links.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "lib/feed_token.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/seen.h"

#define SECRET_KEY "http.feed_secret"
#define SECRET_BYTES 32

char *links_feed_secret(struct db *db, const struct config *c, bool create)
{
  const char *env =
      c && c->http_feed_secret_env ? c->http_feed_secret_env : LINKS_DEFAULT_SECRET_ENV;
  const char *v = getenv(env);
  if (v && *v)
    return kx_strdup(v);
  char *kept = db ? kv_get(db, SECRET_KEY) : NULL;
  if (kept || !create || !db)
    return kept;
  unsigned char raw[SECRET_BYTES];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    LOG_ERROR("links", "no_randomness", "what=feed_secret");
    return NULL;
  }
  static const char hex[] = "0123456789abcdef";
  char made[2 * SECRET_BYTES + 1];
  for (size_t i = 0; i < SECRET_BYTES; i++) {
    made[2 * i] = hex[raw[i] >> 4];
    made[2 * i + 1] = hex[raw[i] & 15];
  }
  made[2 * SECRET_BYTES] = '\0';
  int rc = db_begin(db);
  if (rc == 0)
    rc = kv_set(db, SECRET_KEY, made, 0);
  if (rc == 0)
    rc = db_commit(db);
  if (rc) {
    db_rollback(db);
    LOG_ERROR("links", "secret_not_stored", "err=%s", kx_err_name(rc));
    return NULL;
  }
  LOG_INFO("links", "feed_secret_made", "kept=database");
  return kx_strdup(made);
}

char *links_feed_url(const struct cmd_ctx *ctx, const char *path)
{
  const char *base = ctx->public_url ? ctx->public_url : ctx->config->public_url;
  char token[FEED_TOKEN_LEN + 1];
  if (!base || !*base || feed_token(ctx->feed_secret, path, token) != 0)
    return NULL;
  size_t n = strlen(base);
  return kx_asprintf("%.*s%s?token=%s", (int)(base[n - 1] == '/' ? n - 1 : n), base, path, token);
}
