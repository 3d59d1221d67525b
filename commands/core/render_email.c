/* render_email.c — RFC 5322 messages with safe headers; see render_email.h. */
#include "commands/core/render_email.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/kx.h"
#include "lib/log.h"

/* An encoded-word is at most 75 characters: "=?UTF-8?B?" + base64 + "?=" leaves 63 for the
 * base64, so 45 bytes of text (a multiple of 3 keeps each word's base64 unpadded but the last). */
#define WORD_BYTES 45

static bool needs_encoding(const char *s)
{
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p >= 0x80)
      return true;
  return false;
}

/* The value with every control character (CR and LF included) turned into a space. */
static char *flatten(const char *s)
{
  char *out = strdup(s ? s : "");
  if (!out)
    return NULL;
  for (unsigned char *p = (unsigned char *)out; *p; p++)
    if (*p < 0x20 || *p == 0x7f)
      *p = ' ';
  return out;
}

/* Length of a prefix of s of at most max bytes that does not split a UTF-8 character. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
  if (len <= max)
    return len;
  size_t n = max;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
    n--;
  return n ? n : max;
}

static int render_email_header_value(struct buf *b, const char *value)
{
  char *v = flatten(value);
  if (!v)
    return KX_ENOMEM;
  int rc = 0;
  if (!needs_encoding(v)) {
    rc = buf_puts(b, v);
    free(v);
    return rc;
  }
  size_t len = strlen(v);
  const char *p = v;
  bool first = true;
  while (len > 0 && rc == 0) {
    size_t n = utf8_cut(p, len, WORD_BYTES);
    unsigned char enc[4 * ((WORD_BYTES + 2) / 3) + 1];
    EVP_EncodeBlock(enc, (const unsigned char *)p, (int)n);
    /* Encoded-words on folded lines: the whitespace between two of them is not displayed. */
    rc = buf_printf(b, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", (const char *)enc);
    first = false;
    p += n;
    len -= n;
  }
  free(v);
  return rc;
}

/* An address we write into From/To: printable ASCII, no spaces, no header or list syntax. */
static bool address_ok(const char *a)
{
  if (!a || !*a || !strchr(a, '@'))
    return false;
  for (const unsigned char *p = (const unsigned char *)a; *p; p++)
    if (*p <= 0x20 || *p >= 0x7f || *p == ',' || *p == '<' || *p == '>' || *p == ';' || *p == '"')
      return false;
  return true;
}

/* Base64 in lines of 76 characters (RFC 2045). */
static int base64_lines(struct buf *b, const char *data)
{
  size_t len = strlen(data);
  int rc = 0;
  for (size_t off = 0; off < len && rc == 0; off += 57) {
    size_t n = len - off < 57 ? len - off : 57;
    unsigned char enc[77];
    EVP_EncodeBlock(enc, (const unsigned char *)data + off, (int)n);
    rc = buf_printf(b, "%s\r\n", (const char *)enc);
  }
  return rc;
}

/* A MIME type we write: type/subtype of letters, digits and + - . only; then at most the one
 * parameter "; method=UPPERCASE" (text/calendar; method=REQUEST, RFC 6047). */
static bool mime_type_ok(const char *t)
{
  if (!t || !strchr(t, '/'))
    return false;
  const char *param = strstr(t, "; method=");
  size_t n = param ? (size_t)(param - t) : strlen(t);
  for (size_t i = 0; i < n; i++)
    if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= '0' && t[i] <= '9') || strchr("/+-.", t[i])))
      return false;
  if (param) {
    const char *v = param + strlen("; method=");
    if (!*v)
      return false;
    for (; *v; v++)
      if (!(*v >= 'A' && *v <= 'Z'))
        return false;
  }
  return true;
}

/* The headers and parts of a message with one attachment. Base64 never holds "=_", so the
 * boundary cannot occur in either part. */
static int multipart(struct buf *b, const struct email_parts *e)
{
  static const char boundary[] = "=_klaxon_part";
  if (!mime_type_ok(e->attachment_type))
    return KX_EINVAL;
  char *name = flatten(e->attachment_name ? e->attachment_name : "attachment");
  if (!name)
    return KX_ENOMEM;
  for (char *p = name; *p; p++)
    if (*p == '"' || *p == '\\' || (unsigned char)*p >= 0x80)
      *p = '_';
  int rc = buf_printf(b,
                      "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
                      "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n",
                      boundary, boundary);
  if (rc == 0)
    rc = base64_lines(b, e->text ? e->text : "");
  if (rc == 0)
    rc = buf_printf(b,
                    "--%s\r\nContent-Type: %s; charset=utf-8; name=\"%s\"\r\n"
                    "Content-Disposition: attachment; filename=\"%s\"\r\n"
                    "Content-Transfer-Encoding: base64\r\n\r\n",
                    boundary, e->attachment_type, name, name);
  if (rc == 0)
    rc = base64_lines(b, e->attachment);
  if (rc == 0)
    rc = buf_printf(b, "--%s--\r\n", boundary);
  free(name);
  return rc;
}

char *render_email(const struct email_parts *e)
{
  if (!address_ok(e->from)) {
    LOG_WARN("email", "bad_address", "which=from");
    return NULL;
  }
  for (size_t i = 0; i < e->n_to; i++)
    if (!address_ok(e->to[i])) {
      LOG_WARN("email", "bad_address", "which=to index=%zu", i);
      return NULL;
    }
  struct buf msg;
  buf_init(&msg, EMAIL_MAX_BYTES);
  char date[64];
  time_t t = (time_t)(e->date_ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  if (strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
    date[0] = '\0';
  int rc = buf_printf(&msg, "Date: %s\r\nFrom: %s\r\nTo: ", date, e->from);
  for (size_t i = 0; i < e->n_to && rc == 0; i++)
    rc = buf_printf(&msg, "%s%s", i ? ", " : "", e->to[i]);
  if (rc == 0)
    rc = buf_puts(&msg, "\r\nSubject: ");
  if (rc == 0)
    rc = render_email_header_value(&msg, e->subject);
  if (rc == 0)
    rc = buf_printf(&msg, "\r\nMessage-ID: <klaxon-%lld@klaxon>\r\nMIME-Version: 1.0\r\n",
                    e->message_id);
  if (rc == 0 && e->attachment)
    rc = multipart(&msg, e);
  else if (rc == 0)
    rc = buf_puts(&msg,
                  "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit"
                  "\r\n\r\n");
  /* Body: CRLF line ends (SMTP dot-stuffing is curl's). */
  const char *text = e->text ? e->text : "";
  for (const char *p = text; !e->attachment && *p && rc == 0; p++) {
    if (*p == '\n' && (p == text || p[-1] != '\r'))
      rc = buf_puts(&msg, "\r");
    if (rc == 0)
      rc = buf_append(&msg, p, 1);
  }
  if (rc == 0 && !e->attachment)
    rc = buf_puts(&msg, "\r\n");
  if (rc) {
    buf_free(&msg);
    return NULL;
  }
  return msg.data;
}
