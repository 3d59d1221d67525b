/*
 * fuzz_webform.c — libFuzzer target for the subscribe form's parser (lib/webform.c): webform_get
 * over any body, as POST /status/subscribe and the confirm/unsubscribe links hand it theirs, and
 * webform_email_ok over what it decodes. Never a crash or an overrun; a value found always fits
 * its buffer, is terminated, and holds no NUL; an address that passes holds no character that
 * could add a recipient or a header. Seeds: tests/fuzz/seeds/fuzz_webform/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/webform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* Not NUL-terminated on purpose: the parser must stay inside len. */
  char *body = malloc(size ? size : 1);
  if (!body)
    return 0;
  memcpy(body, data, size);
  static const char *const names[] = {"email", "token", "", "e"};
  for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
    char out[256];
    memset(out, 'x', sizeof(out));
    int rc = webform_get(body, size, names[k], out, sizeof(out));
    if (memchr(out, '\0', sizeof(out)) == NULL)
      __builtin_trap();
    if (rc == 0 && webform_email_ok(out)) {
      for (const char *p = out; *p; p++)
        if (*p == '\r' || *p == '\n' || *p == ',' || *p == '<' || *p == '>' || *p == ' ')
          __builtin_trap();
    }
  }
  char tiny[1];
  (void)webform_get(body, size, "email", tiny, sizeof(tiny));
  free(body);
  return 0;
}
