#include "lib/hub_sig.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "lib/kx.h"

int hub_sig_compute(const char *secret, const char *body, size_t len, char *out, size_t size)
{
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (!secret || !*secret || size < 7 + 64 + 1)
    return KX_EINVAL;
  if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac,
            &mac_len) ||
      mac_len != 32)
    return KX_EIO;
  memcpy(out, "sha256=", 7);
  for (unsigned int i = 0; i < mac_len; i++)
    snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
  return 0;
}

bool hub_sig_ok(const char *secret, const char *body, size_t len, const char *header)
{
  char want[80], got[80];
  if (!header || !secret || !*secret || hub_sig_compute(secret, body, len, want, sizeof(want)))
    return false;
  size_t n = strlen(header);
  if (n != strlen(want))
    return false;
  for (size_t i = 0; i < n; i++) /* hex in either case */
    got[i] = (char)tolower((unsigned char)header[i]);
  got[n] = '\0';
  return kx_ct_equal(got, n, want, n) == 1;
}
