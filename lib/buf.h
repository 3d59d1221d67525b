/*
 * buf.h — a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * The buffer owns its memory. Appending past the cap frees the contents and returns
 * KX_ETOOBIG, so an oversized input never half-survives. The data is always NUL-terminated
 * (the terminator is not counted in len), so a buffer of text can be used as a C string.
 */
#ifndef KX_BUF_H
#define KX_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
  char *data;
  size_t len;
  size_t alloc;
  size_t cap;
};

void buf_init(struct buf *b, size_t cap);
void buf_free(struct buf *b);  /* back to empty; the cap stays */
void buf_reset(struct buf *b); /* len 0, memory kept */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hand the data over to the caller (who frees it); the buffer is empty afterwards. */
char *buf_take(struct buf *b);
/* s escaped for XML and HTML text and attribute values (& < > " ' as entities; control
 * characters other than tab and newline become spaces). */
int buf_xml(struct buf *b, const char *s);

#endif
