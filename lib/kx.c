#include "lib/kx.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *kx_strerror(int err)
{
  switch (err) {
    case KX_OK:
      return "success";
#define XX(name, msg) \
  case KX_E##name:    \
    return msg;
      KX_ERRNO_MAP(XX)
#undef XX
    default:
      return "unknown error";
  }
}

const char *kx_err_name(int err)
{
  switch (err) {
    case KX_OK:
      return "OK";
#define XX(name, _) \
  case KX_E##name:  \
    return #name;
      KX_ERRNO_MAP(XX)
#undef XX
    default:
      return "UNKNOWN";
  }
}

char *kx_strdup(const char *s)
{
  return s ? strdup(s) : NULL;
}

char *kx_strndup(const char *s, size_t n)
{
  return s ? strndup(s, n) : NULL;
}

char *kx_asprintf(const char *fmt, ...)
{
  va_list ap;
  char *out = NULL;
  va_start(ap, fmt);
  int n = vasprintf(&out, fmt, ap);
  va_end(ap);
  return n < 0 ? NULL : out;
}

int kx_streq(const char *a, const char *b)
{
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

int kx_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
  if (alen != blen)
    return 0;
  if (alen == 0)
    return 1;
  return CRYPTO_memcmp(a, b, alen) == 0;
}
