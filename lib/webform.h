/*
 * webform.h — application/x-www-form-urlencoded bodies and query strings (outside input: the
 * status page's subscribe form), read with the one form parser (lib/form.h).
 */
#ifndef KX_WEBFORM_H
#define KX_WEBFORM_H

#include <stdbool.h>
#include <stddef.h>

/* The first field named `name` in `body` (len bytes, not necessarily NUL-terminated),
 * percent- and '+'-decoded into out (size > 0, always terminated). 0 when found, KX_ENOTFOUND
 * when absent, KX_EPROTO when the body is not a form (a bad %-escape anywhere, a decoded NUL,
 * over FORM_MAX_SIZE or FORM_MAX_FIELDS), KX_ETOOBIG when the value does not fit in out. */
int webform_get(const char *body, size_t len, const char *name, char *out, size_t size);

/* A plausible single email address: 3-254 bytes, one '@' with a non-empty local part, a dot in
 * the domain, printable ASCII without spaces, quotes, angle brackets, commas or semicolons (so
 * it can never carry a second recipient or a header). */
bool webform_email_ok(const char *s);

#endif
