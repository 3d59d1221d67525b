/*
 * form.h — application/x-www-form-urlencoded bodies, both ways: the parser for what Twilio
 * POSTs to us (status callbacks, inbound SMS, <Gather> digits) and the builder for the bodies
 * klaxon POSTs to Twilio's REST API.
 *
 * Parser: bounded (FORM_MAX_SIZE bytes, FORM_MAX_FIELDS pairs), '+' is a space, %XX is a byte;
 * a malformed escape ("%G1", "%4", "%" at the end) or an escaped NUL ("%00", which a C string
 * cannot hold) refuses the whole body with KX_EINVAL. Empty segments ("a=1&&b=2") are skipped;
 * a segment without '=' is a key with an empty value. Fields keep the body's order; a key may
 * repeat. The struct form owns its strings; form_free(NULL) is a no-op.
 *
 * Builder: form_append() adds "key=value" (with '&' between pairs) to a struct buf, encoding
 * everything but ALPHA / DIGIT / "-._~" as %XX (upper case) and a space as '+'.
 */
#ifndef KX_FORM_H
#define KX_FORM_H

#include <stddef.h>

#include "lib/buf.h"

#define FORM_MAX_SIZE ((size_t)64 * 1024)
#define FORM_MAX_FIELDS 128

struct form_field {
  char *key;
  char *value;
};

struct form {
  struct form_field *v;
  size_t n;
};

/* Parse `len` bytes of `body` (NULL with len 0 is an empty form) into *out (the caller frees it
 * with form_free). 0; KX_EINVAL (malformed escape, %00), KX_ETOOBIG (over FORM_MAX_SIZE or
 * FORM_MAX_FIELDS), KX_ENOMEM; *out is NULL on error. */
int form_parse(const char *body, size_t len, struct form **out);
void form_free(struct form *f);
/* The first value of `key` (case-sensitive), or NULL when absent (or f is NULL). Owned by f. */
const char *form_get(const struct form *f, const char *key);

/* Append key=value, encoded, to b (a '&' first when b is not empty). 0, or the buffer's error
 * (KX_ETOOBIG frees b's contents, as buf_append does). */
int form_append(struct buf *b, const char *key, const char *value);

#endif
