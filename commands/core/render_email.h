/*
 * render_email.h — an outbox email row as an RFC 5322 message (the sender hands it to SMTP).
 * Every header value is made safe here, whatever the caller passed: CR, LF and other control
 * characters become spaces (no header can be injected through an alert title or a name), and
 * a value that is not plain ASCII is RFC 2047-encoded (UTF-8, base64 encoded-words of at most
 * 75 characters, split on character boundaries). The body is text/plain UTF-8 with CRLF line
 * ends. Returns a malloc'd message the caller frees, or NULL (out of memory, or a recipient or
 * sender address that is not an address: logged).
 */
#ifndef KX_RENDER_EMAIL_H
#define KX_RENDER_EMAIL_H

#include <stddef.h>
#include <stdint.h>

struct email_parts {
  const char *from;      /* an address */
  const char *const *to; /* addresses */
  size_t n_to;
  const char *subject;  /* any UTF-8 text */
  const char *text;     /* the body, any UTF-8 text */
  int64_t date_ms;      /* the Date header */
  long long message_id; /* the outbox row, for Message-ID */
  /* Optional: one file attached (NULL: a plain text/plain message). The message is then
   * multipart/mixed with the text and the file, both base64 (so no boundary can occur in
   * them); the name is sanitised like a header value and the type must be a plain MIME type. */
  const char *attachment;      /* the file's bytes, NUL-terminated text */
  const char *attachment_name; /* "report-2026-11.html" */
  const char *attachment_type; /* "text/html" */
};

/* The largest message rendered (bytes); a longer body is refused. */
#define EMAIL_MAX_BYTES (1024 * 1024)

char *render_email(const struct email_parts *e);

/* Append a header value as render_email does (sanitised; RFC 2047 when not ASCII). Returns 0
 * or a negative KX_E* code (the buffer's cap, or out of memory). */
struct buf;

#endif
