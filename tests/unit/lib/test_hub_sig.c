/* lib/hub_sig.c: the webhooks' X-Hub-Signature-256 / X-Hub-Signature (issue 14). The first
 * vector is GitHub's own example from "Validating webhook deliveries" (secret "It's a Secret to
 * Everybody", payload "Hello, World!"). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

#include "lib/hub_sig.h"

static const char GH_SECRET[] = "It's a Secret to Everybody";
static const char GH_BODY[] = "Hello, World!";
static const char GH_SIG[] =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

static void test_github_vector(void **state)
{
  (void)state;
  char out[80];
  assert_int_equal(hub_sig_compute(GH_SECRET, GH_BODY, strlen(GH_BODY), out, sizeof(out)), 0);
  assert_string_equal(out, GH_SIG);
  assert_true(hub_sig_ok(GH_SECRET, GH_BODY, strlen(GH_BODY), GH_SIG));
  /* Upper-case hex is the same signature. */
  assert_true(
      hub_sig_ok(GH_SECRET, GH_BODY, strlen(GH_BODY),
                 "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17"));
}

static void test_refusals(void **state)
{
  (void)state;
  size_t n = strlen(GH_BODY);
  assert_false(hub_sig_ok("another secret", GH_BODY, n, GH_SIG));
  assert_false(hub_sig_ok(GH_SECRET, "Hello, World?", n, GH_SIG));
  assert_false(hub_sig_ok(GH_SECRET, GH_BODY, n - 1, GH_SIG)); /* the raw bytes, all of them */
  assert_false(hub_sig_ok(GH_SECRET, GH_BODY, n, GH_SIG + 7)); /* no "sha256=" */
  assert_false(hub_sig_ok(GH_SECRET, GH_BODY, n,
                          "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"));
  assert_false(hub_sig_ok(GH_SECRET, GH_BODY, n, "sha256=757107ea"));
  assert_false(hub_sig_ok(GH_SECRET, GH_BODY, n, ""));
  assert_false(hub_sig_ok(GH_SECRET, GH_BODY, n, NULL));
  assert_false(hub_sig_ok("", GH_BODY, n, GH_SIG));
  assert_false(hub_sig_ok(NULL, GH_BODY, n, GH_SIG));
  char small[16];
  assert_int_not_equal(hub_sig_compute(GH_SECRET, GH_BODY, n, small, sizeof(small)), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_github_vector),
      cmocka_unit_test(test_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
