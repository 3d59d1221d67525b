#include "lib/webform.h"

#include <string.h>

#include "lib/form.h"
#include "lib/kx.h"

int webform_get(const char *body, size_t len, const char *name, char *out, size_t size)
{
  if (!out || size == 0)
    return KX_EINVAL;
  out[0] = '\0';
  /* One form decoder for every body (lib/form.h): strict escapes, bounded fields. */
  struct form *f = NULL;
  if (!body || form_parse(body, len, &f) != 0)
    return KX_EPROTO;
  const char *v = form_get(f, name);
  int rc = !v ? KX_ENOTFOUND : strlen(v) >= size ? KX_ETOOBIG : 0;
  if (rc == 0)
    memcpy(out, v, strlen(v) + 1);
  form_free(f);
  return rc;
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
