#include "lib/form.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decode s[0..len) into a new string; NULL with *rc set when malformed or out of memory. */
static char *decode(const char *s, size_t len, int *rc)
{
  if (len > FORM_MAX_SIZE) {
    *rc = KX_ETOOBIG;
    return NULL;
  }
  char *out = malloc(len + 1);
  if (!out) {
    *rc = KX_ENOMEM;
    return NULL;
  }
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '+') {
      out[o++] = ' ';
    } else if (s[i] == '%') {
      int hi = i + 1 < len ? hexval(s[i + 1]) : -1;
      int lo = i + 2 < len ? hexval(s[i + 2]) : -1;
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
        free(out);
        *rc = KX_EINVAL;
        return NULL;
      }
      out[o++] = (char)(hi * 16 + lo);
      i += 2;
    } else if (s[i] == '\0') {
      free(out);
      *rc = KX_EINVAL;
      return NULL;
    } else {
      out[o++] = s[i];
    }
  }
  out[o] = '\0';
  return out;
}

void form_free(struct form *f)
{
  if (!f)
    return;
  for (size_t i = 0; i < f->n; i++) {
    free(f->v[i].key);
    free(f->v[i].value);
  }
  free(f->v);
  free(f);
}

static size_t count_segments(const char *body, size_t len)
{
  size_t n = 1;
  for (size_t i = 0; i < len; i++)
    if (body[i] == '&')
      n++;
  return n;
}

int form_parse(const char *body, size_t len, struct form **out)
{
  *out = NULL;
  if (len > FORM_MAX_SIZE)
    return KX_ETOOBIG;
  struct form *f = calloc(1, sizeof(*f));
  if (!f)
    return KX_ENOMEM;
  if (len == 0) {
    *out = f;
    return 0;
  }
  size_t cap = count_segments(body, len);
  if (cap > (size_t)FORM_MAX_FIELDS * 4) {
    /* Mostly empty segments would be skipped, but so many '&' is no form Twilio sends. */
    form_free(f);
    return KX_ETOOBIG;
  }
  f->v = calloc(cap, sizeof(*f->v));
  if (!f->v) {
    form_free(f);
    return KX_ENOMEM;
  }
  size_t start = 0;
  int rc = 0;
  while (start <= len) {
    const char *seg = body + start;
    const char *amp = memchr(seg, '&', len - start);
    size_t seg_len = amp ? (size_t)(amp - seg) : len - start;
    if (seg_len > 0) {
      if (f->n == FORM_MAX_FIELDS) {
        rc = KX_ETOOBIG;
        break;
      }
      const char *eq = memchr(seg, '=', seg_len);
      size_t key_len = eq ? (size_t)(eq - seg) : seg_len;
      struct form_field *fl = &f->v[f->n];
      fl->key = decode(seg, key_len, &rc);
      if (!fl->key)
        break;
      fl->value = eq ? decode(eq + 1, seg_len - key_len - 1, &rc) : decode("", 0, &rc);
      if (!fl->value) {
        free(fl->key);
        fl->key = NULL;
        break;
      }
      f->n++;
    }
    if (!amp)
      break;
    start += seg_len + 1;
  }
  if (rc) {
    form_free(f);
    return rc;
  }
  *out = f;
  return 0;
}

const char *form_get(const struct form *f, const char *key)
{
  if (!f || !key)
    return NULL;
  for (size_t i = 0; i < f->n; i++)
    if (strcmp(f->v[i].key, key) == 0)
      return f->v[i].value;
  return NULL;
}

static int encode(struct buf *b, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char tmp[3];
    size_t n = 1;
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '.' || *p == '_' || *p == '~') {
      tmp[0] = (char)*p;
    } else if (*p == ' ') {
      tmp[0] = '+';
    } else {
      tmp[0] = '%';
      tmp[1] = hex[*p >> 4];
      tmp[2] = hex[*p & 15];
      n = 3;
    }
    int rc = buf_append(b, tmp, n);
    if (rc)
      return rc;
  }
  return 0;
}

int form_append(struct buf *b, const char *key, const char *value)
{
  int rc = 0;
  if (b->len > 0)
    rc = buf_append(b, "&", 1);
  if (!rc)
    rc = encode(b, key);
  if (!rc)
    rc = buf_append(b, "=", 1);
  if (!rc)
    rc = encode(b, value ? value : "");
  return rc;
}
