#include "lib/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"

void buf_init(struct buf *b, size_t cap)
{
  b->data = NULL;
  b->len = 0;
  b->alloc = 0;
  b->cap = cap;
}

void buf_free(struct buf *b)
{
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->alloc = 0;
}

void buf_reset(struct buf *b)
{
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

int buf_append(struct buf *b, const void *data, size_t len)
{
  if (len > b->cap || b->len > b->cap - len) {
    buf_free(b);
    return KX_ETOOBIG;
  }
  size_t need = b->len + len + 1;
  if (need > b->alloc) {
    size_t n = b->alloc ? b->alloc : 256;
    while (n < need)
      n *= 2;
    if (n > b->cap + 1)
      n = b->cap + 1;
    char *p = realloc(b->data, n);
    if (!p) {
      buf_free(b);
      return KX_ENOMEM;
    }
    b->data = p;
    b->alloc = n;
  }
  if (len)
    memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return 0;
}

int buf_puts(struct buf *b, const char *s)
{
  return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
  char small[256];
  va_list copy;
  va_copy(copy, ap);
  int n = vsnprintf(small, sizeof(small), fmt, copy);
  va_end(copy);
  if (n < 0)
    return KX_EINVAL;
  if ((size_t)n < sizeof(small))
    return buf_append(b, small, (size_t)n);
  char *big = malloc((size_t)n + 1);
  if (!big)
    return KX_ENOMEM;
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  int rc = buf_append(b, big, (size_t)n);
  free(big);
  return rc;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

char *buf_take(struct buf *b)
{
  char *p = b->data;
  if (!p)
    p = calloc(1, 1);
  b->data = NULL;
  b->len = 0;
  b->alloc = 0;
  return p;
}

int buf_xml(struct buf *b, const char *s)
{
  int rc = 0;
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && rc == 0; p++) {
    switch (*p) {
      case '&':
        rc = buf_puts(b, "&amp;");
        break;
      case '<':
        rc = buf_puts(b, "&lt;");
        break;
      case '>':
        rc = buf_puts(b, "&gt;");
        break;
      case '"':
        rc = buf_puts(b, "&quot;");
        break;
      case '\'':
        rc = buf_puts(b, "&#39;");
        break;
      default:
        /* Control characters other than tab and newline are not allowed in XML 1.0. */
        rc = *p >= 0x20 || *p == '\t' || *p == '\n' ? buf_append(b, p, 1) : buf_puts(b, " ");
    }
  }
  return rc;
}
