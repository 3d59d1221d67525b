#include "lib/webform.h"

#include <string.h>

#include "lib/kx.h"

static int hex(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decode s[0..n) into out; see webform_get. */
static int decode_raw(const char *s, size_t n, char *out, size_t size)
{
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      if (i + 2 >= n)
        return KX_EPROTO;
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0)
        return KX_EPROTO;
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0')
      return KX_EPROTO;
    if (o + 1 >= size)
      return KX_ETOOBIG;
    out[o++] = c;
  }
  out[o] = '\0';
  return 0;
}

/* On any refusal out is left empty (terminated), never half-written. */
static int decode(const char *s, size_t n, char *out, size_t size)
{
  int rc = decode_raw(s, n, out, size);
  if (rc)
    out[0] = '\0';
  return rc;
}

int webform_get(const char *body, size_t len, const char *name, char *out, size_t size)
{
  if (!out || size == 0)
    return KX_EINVAL;
  out[0] = '\0';
  size_t nlen = strlen(name);
  size_t i = 0;
  for (int fields = 0; body && i < len && fields < WEBFORM_MAX_FIELDS; fields++) {
    const char *start = body + i;
    const char *amp = memchr(start, '&', len - i);
    size_t flen = amp ? (size_t)(amp - start) : len - i;
    const char *eq = memchr(start, '=', flen);
    size_t klen = eq ? (size_t)(eq - start) : flen;
    if (klen == nlen && memcmp(start, name, nlen) == 0)
      return eq ? decode(eq + 1, flen - klen - 1, out, size) : 0;
    i += flen + 1;
  }
  return KX_ENOTFOUND;
}

bool webform_email_ok(const char *s)
{
  size_t n = s ? strlen(s) : 0;
  if (n < 3 || n > 254)
    return false;
  const char *at = strchr(s, '@');
  if (!at || at == s || strchr(at + 1, '@'))
    return false;
  const char *dot = strrchr(at + 1, '.');
  if (!dot || dot == at + 1 || dot[1] == '\0')
    return false;
  for (const char *p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c <= 0x20 || c >= 0x7f || strchr("\"<>(),;:\\[]", c))
      return false;
  }
  return true;
}
