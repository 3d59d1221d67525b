/* feed_token.c — see feed_token.h. */
#include "lib/feed_token.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "lib/kx.h"

int feed_token(const char *secret, const char *path, char out[FEED_TOKEN_LEN + 1])
{
  out[0] = '\0';
  if (!secret || !*secret || !path)
    return KX_EINVAL;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)path, strlen(path),
            mac, &len) ||
      len * 2 < FEED_TOKEN_LEN)
    return KX_EINVAL;
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < FEED_TOKEN_LEN / 2; i++) {
    out[2 * i] = hex[mac[i] >> 4];
    out[2 * i + 1] = hex[mac[i] & 15];
  }
  out[FEED_TOKEN_LEN] = '\0';
  return 0;
}

bool feed_token_ok(const char *secret, const char *path, const char *given)
{
  char want[FEED_TOKEN_LEN + 1];
  if (!given || feed_token(secret, path, want) != 0)
    return false;
  return kx_ct_equal(want, FEED_TOKEN_LEN, given, strlen(given)) == 1;
}
