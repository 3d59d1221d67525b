/* render_email: RFC 5322 messages whose headers cannot be injected (issue 17 item 10). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/render_email.h"
#include "lib/buf.h"

static const char *const TO[] = {"alice@example.com", "bob@example.com"};

static char *headers_of(char *msg)
{
  char *end = strstr(msg, "\r\n\r\n");
  assert_non_null(end);
  end[2] = '\0';
  return msg;
}

/* Count header lines that start a header (not folded continuations). */
static int count_header(const char *h, const char *name)
{
  int n = 0;
  size_t len = strlen(name);
  for (const char *p = h; p && *p; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL)
    if (strncasecmp(p, name, len) == 0 && p[len] == ':')
      n++;
  return n;
}

static void test_crlf_in_subject_injects_nothing(void **state)
{
  (void)state;
  struct email_parts e = {"klaxon@example.com",
                          TO,
                          2,
                          "[P1] disk full\r\nBcc: evil@example.net\r\n\r\nowned",
                          "body\nline 2",
                          1764950400000LL,
                          42,
                          NULL,
                          NULL,
                          NULL};
  char *msg = render_email(&e);
  assert_non_null(msg);
  char *body = strstr(msg, "\r\n\r\n") + 4;
  assert_string_equal(body, "body\r\nline 2\r\n");
  char *h = headers_of(msg);
  assert_int_equal(count_header(h, "Bcc"), 0);
  assert_int_equal(count_header(h, "Subject"), 1);
  assert_non_null(strstr(h, "Subject: [P1] disk full  Bcc: evil@example.net    owned\r\n"));
  assert_non_null(strstr(h, "To: alice@example.com, bob@example.com\r\n"));
  assert_non_null(strstr(h, "Message-ID: <klaxon-42@klaxon>\r\n"));
  free(msg);
}

static void test_non_ascii_subject_is_rfc2047(void **state)
{
  (void)state;
  /* 30 two-byte characters: more than one encoded word, split on character boundaries. */
  char subject[128] = "Störung ";
  for (int i = 0; i < 30; i++)
    strcat(subject, "é");
  struct email_parts e = {"klaxon@example.com", TO, 1, subject, "x", 0, 1, NULL, NULL, NULL};
  char *msg = render_email(&e);
  assert_non_null(msg);
  char *h = headers_of(msg);
  for (const unsigned char *p = (const unsigned char *)h; *p; p++)
    assert_true(*p < 0x80);
  /* Decode every encoded word and put the subject back together. */
  char decoded[256] = "";
  const char *p = strstr(h, "Subject: ") + 9;
  int words = 0;
  while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
    p += 10;
    const char *q = strstr(p, "?=");
    assert_non_null(q);
    assert_true(q - p + 12 <= 75);
    unsigned char out[128];
    int n = EVP_DecodeBlock(out, (const unsigned char *)p, (int)(q - p));
    assert_true(n > 0);
    while (n > 0 && (q - p) >= 2 && q[-1] == '=' && out[n - 1] == 0) {
      n--;
      q--;
    }
    out[n] = '\0';
    /* Each word is whole UTF-8: it never starts with a continuation byte. */
    assert_true((out[0] & 0xC0) != 0x80);
    strcat(decoded, (char *)out);
    p = strstr(p, "?=") + 2;
    words++;
  }
  assert_true(words >= 2);
  assert_string_equal(decoded, subject);
  free(msg);
}

static void test_bad_address_refused(void **state)
{
  (void)state;
  const char *const to[] = {"alice@example.com\r\nBcc: x@y"};
  struct email_parts e = {"klaxon@example.com", to, 1, "s", "b", 0, 1, NULL, NULL, NULL};
  assert_null(render_email(&e));
  const char *const ok[] = {"alice@example.com"};
  struct email_parts f = {"klaxon@example.com>, evil@x", ok, 1, "s", "b", 0, 1, NULL, NULL, NULL};
  assert_null(render_email(&f));
}

/* An attached page (the monthly report): multipart/mixed, both parts base64, the file name
 * sanitised, a type that is not a plain MIME type refused. */
static void test_attachment_is_multipart_base64(void **state)
{
  (void)state;
  struct email_parts e = {.from = "klaxon@example.com",
                          .to = TO,
                          .n_to = 1,
                          .subject = "report",
                          .text = "summary\n--=_klaxon_part--\n",
                          .date_ms = 1764950400000LL,
                          .message_id = 7,
                          .attachment = "<html><body>r\u00e9sum\u00e9</body></html>",
                          .attachment_name = "a\"b\r\nX: y.html",
                          .attachment_type = "text/html"};
  char *msg = render_email(&e);
  assert_non_null(msg);
  assert_non_null(strstr(msg, "Content-Type: multipart/mixed; boundary=\"=_klaxon_part\"\r\n"));
  /* the text that looks like the boundary is base64 inside its part: one closing line only */
  const char *close = strstr(msg, "--=_klaxon_part--");
  assert_non_null(close);
  assert_null(strstr(close + 1, "--=_klaxon_part--"));
  assert_non_null(strstr(msg, "filename=\"a_b  X: y.html\""));
  unsigned char want[128];
  int n = EVP_EncodeBlock(want, (const unsigned char *)e.attachment, (int)strlen(e.attachment));
  assert_true(n > 0);
  assert_non_null(strstr(msg, (const char *)want));
  free(msg);
  e.attachment_type = "text/html\r\nBcc: x";
  assert_null(render_email(&e));
  /* a calendar invitation: the one parameter method=TOKEN (issue 14), nothing else */
  e.attachment_type = "text/calendar; method=REQUEST";
  msg = render_email(&e);
  assert_non_null(msg);
  assert_non_null(strstr(msg, "Content-Type: text/calendar; method=REQUEST; charset=utf-8;"));
  free(msg);
  static const char *const bad[] = {"text/calendar; method=", "text/calendar; method=request",
                                    "text/calendar; method=REQUEST\r\nBcc: x",
                                    "text/calendar; charset=x", "text/calendar;method=REQUEST"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    e.attachment_type = bad[i];
    assert_null(render_email(&e));
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crlf_in_subject_injects_nothing),
      cmocka_unit_test(test_non_ascii_subject_is_rfc2047),
      cmocka_unit_test(test_bad_address_refused),
      cmocka_unit_test(test_attachment_is_multipart_base64),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
