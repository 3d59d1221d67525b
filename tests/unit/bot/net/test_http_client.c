/* http_cert_date_ms: the certificate expiry date curl's certinfo gives, as the checks read it
 * for their tls_expiry warning. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include "bot/net/http_client.h"

static void test_cert_date(void **state)
{
  (void)state;
  assert_int_equal(http_cert_date_ms("Jan 12 23:59:59 2027 GMT"), 1799798399000LL);
  assert_int_equal(http_cert_date_ms("  Feb  3 00:00:00 2026 GMT"), 1770076800000LL);
  assert_int_equal(http_cert_date_ms("Jan 12 23:59:59 2027"), 0);
  assert_int_equal(http_cert_date_ms("Jan 12 23:59:59 2027 CET"), 0);
  assert_int_equal(http_cert_date_ms("tomorrow"), 0);
  assert_int_equal(http_cert_date_ms(""), 0);
  assert_int_equal(http_cert_date_ms(NULL), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_cert_date)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
