/*
 * fuzz_form.c — libFuzzer target for lib/form.c and lib/twilio_sig.c: any bytes to the
 * application/x-www-form-urlencoded parser, never a crash, a leak or undefined behaviour. What
 * parses is built again with form_append and must parse back to the same fields, in order; its
 * Twilio signature is computed and must verify, and must not verify under another token. Seeds:
 * tests/fuzz/seeds/fuzz_form/ (Twilio status callbacks, an inbound SMS, a <Gather> answer,
 * malformed escapes). Each value is also read as an SMS reply (paging_sms_parse). Run with `make
 * fuzz` (tests/fuzz/run.sh).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands/paging/paging.h"
#include "lib/buf.h"
#include "lib/form.h"
#include "lib/twilio_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct form *f = NULL;
  if (form_parse((const char *)data, size, &f) != 0) {
    if (f)
      abort();
    return 0;
  }
  struct buf b;
  buf_init(&b, FORM_MAX_SIZE * 4);
  for (size_t i = 0; i < f->n; i++)
    if (form_append(&b, f->v[i].key, f->v[i].value) != 0)
      abort();
  struct form *g = NULL;
  if (form_parse(b.data, b.len, &g) != 0) {
    /* Re-encoding can grow a body past the cap (3 bytes per escaped byte): only then. */
    if (b.len <= FORM_MAX_SIZE)
      abort();
  } else {
    if (g->n != f->n)
      abort();
    for (size_t i = 0; i < f->n; i++)
      if (strcmp(f->v[i].key, g->v[i].key) != 0 || strcmp(f->v[i].value, g->v[i].value) != 0)
        abort();
  }
  char sig[TWILIO_SIG_LEN + 1];
  if (twilio_sig_compute("fuzz-token", "https://k.example.com/twilio/sms", f, sig) == 0) {
    if (!twilio_sig_ok("fuzz-token", "https://k.example.com/twilio/sms", f, sig))
      abort();
    if (twilio_sig_ok("fuzz-token2", "https://k.example.com/twilio/sms", f, sig))
      abort();
  }
  /* Every value as an SMS reply (commands/paging/paging_twilio.c): a verb in 0..3, a page
   * number only with a verb. */
  for (size_t i = 0; i < f->n; i++) {
    long long page = -1;
    int verb = paging_sms_parse(f->v[i].value, &page);
    if (verb < 0 || verb > 3 || (verb && page < 0))
      abort();
  }
  form_free(g);
  form_free(f);
  buf_free(&b);
  return 0;
}
