/* lib/form.c: application/x-www-form-urlencoded, parsed (bounded, strict escapes) and built. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/form.h"
#include "lib/kx.h"

static struct form *parse_ok(const char *s)
{
  struct form *f = NULL;
  assert_int_equal(form_parse(s, strlen(s), &f), 0);
  assert_non_null(f);
  return f;
}

static void test_parse(void **state)
{
  (void)state;
  struct form *f = parse_ok("Digits=1&From=%2B15005550006&Body=ack+12&Body=second&Flag&x=a%3Db");
  assert_int_equal(f->n, 6);
  assert_string_equal(form_get(f, "Digits"), "1");
  assert_string_equal(form_get(f, "From"), "+15005550006");
  assert_string_equal(form_get(f, "Body"), "ack 12"); /* the first of a repeated name */
  assert_string_equal(f->v[3].key, "Body");
  assert_string_equal(f->v[3].value, "second");
  assert_string_equal(form_get(f, "Flag"), "");
  assert_string_equal(form_get(f, "x"), "a=b");
  assert_null(form_get(f, "digits")); /* names are case-sensitive */
  assert_null(form_get(NULL, "Digits"));
  form_free(f);

  /* Empty segments are skipped; an empty body is an empty form. */
  f = parse_ok("&&a=1&&b=&");
  assert_int_equal(f->n, 2);
  assert_string_equal(form_get(f, "b"), "");
  form_free(f);
  f = parse_ok("");
  assert_int_equal(f->n, 0);
  form_free(f);
  f = NULL;
  assert_int_equal(form_parse(NULL, 0, &f), 0);
  assert_int_equal(f->n, 0);
  form_free(f);
  form_free(NULL);

  /* UTF-8 in escapes, an encoded '+' and '&'. */
  f = parse_ok("Body=caf%C3%A9%20%2B%26%25ok");
  assert_string_equal(form_get(f, "Body"), "caf\xc3\xa9 +&%ok");
  form_free(f);
}

static void test_parse_refuses(void **state)
{
  (void)state;
  static const char *bad[] = {"a=%",      "a=%4",   "a=%G1",    "a=%1G", "%zz=1",
                              "a=1&b=%0", "a=%00b", "a=1%\x00", "a=%%41"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct form *f = (struct form *)1;
    size_t len = strlen(bad[i]);
    if (i == 7)
      len = 5; /* a raw NUL inside the body */
    assert_int_equal(form_parse(bad[i], len, &f), KX_EINVAL);
    assert_null(f);
  }
  /* A raw NUL in the body. */
  struct form *f = NULL;
  assert_int_equal(form_parse("a=1\0b", 5, &f), KX_EINVAL);
  assert_null(f);

  /* Caps: size, and the number of fields. */
  size_t big = FORM_MAX_SIZE + 1;
  char *s = malloc(big + 1);
  assert_non_null(s);
  memset(s, 'a', big);
  s[big] = '\0';
  assert_int_equal(form_parse(s, big, &f), KX_ETOOBIG);
  assert_null(f);
  struct buf b;
  buf_init(&b, FORM_MAX_SIZE);
  for (int i = 0; i <= FORM_MAX_FIELDS; i++)
    assert_int_equal(buf_printf(&b, "%sk%d=v", i ? "&" : "", i), 0);
  assert_int_equal(form_parse(b.data, b.len, &f), KX_ETOOBIG);
  buf_reset(&b);
  for (int i = 0; i < FORM_MAX_FIELDS; i++)
    assert_int_equal(buf_printf(&b, "%sk%d=v", i ? "&" : "", i), 0);
  assert_int_equal(form_parse(b.data, b.len, &f), 0);
  assert_int_equal(f->n, FORM_MAX_FIELDS);
  form_free(f);
  buf_free(&b);
  free(s);
}

static void test_build_roundtrip(void **state)
{
  (void)state;
  struct buf b;
  buf_init(&b, 4096);
  assert_int_equal(form_append(&b, "To", "+15005550006"), 0);
  assert_int_equal(form_append(&b, "Body", "P1 db down: ack? 100% & more=yes ~ café"), 0);
  assert_int_equal(form_append(&b, "Url", "https://k.example.com/twilio/voice?page=3&x=y"), 0);
  assert_int_equal(form_append(&b, "Empty", NULL), 0);
  assert_string_equal(b.data,
                      "To=%2B15005550006"
                      "&Body=P1+db+down%3A+ack%3F+100%25+%26+more%3Dyes+~+caf%C3%A9"
                      "&Url=https%3A%2F%2Fk.example.com%2Ftwilio%2Fvoice%3Fpage%3D3%26x%3Dy"
                      "&Empty=");
  struct form *f = NULL;
  assert_int_equal(form_parse(b.data, b.len, &f), 0);
  assert_int_equal(f->n, 4);
  assert_string_equal(form_get(f, "To"), "+15005550006");
  assert_string_equal(form_get(f, "Body"), "P1 db down: ack? 100% & more=yes ~ café");
  assert_string_equal(form_get(f, "Url"), "https://k.example.com/twilio/voice?page=3&x=y");
  assert_string_equal(form_get(f, "Empty"), "");
  form_free(f);
  buf_free(&b);

  /* Past the buffer's cap: the error, and the buffer emptied. */
  buf_init(&b, 8);
  assert_int_equal(form_append(&b, "Body", "a long value"), KX_ETOOBIG);
  assert_int_equal(b.len, 0);
  buf_free(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),
      cmocka_unit_test(test_parse_refuses),
      cmocka_unit_test(test_build_roundtrip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
