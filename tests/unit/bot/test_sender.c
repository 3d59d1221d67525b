/* The sender's retry pause after a 5xx, a timeout or a transport error (bot/sender.c): base 1 s
 * doubling per failure, bounded at 60 s, jittered over [base/2, base] (issue 15). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <limits.h>

#include "bot/sender.h"

static void test_retry_delay_doubles_and_is_bounded(void **state)
{
  (void)state;
  uint64_t base = 1000;
  for (int failures = 1; failures <= 40; failures++) {
    uint64_t lo = sender_retry_delay_ms(failures, 0);
    uint64_t hi = sender_retry_delay_ms(failures, UINT_MAX);
    uint64_t mid = sender_retry_delay_ms(failures, 12345);
    assert_true(lo == base / 2);
    assert_true(hi >= base / 2 && hi <= base);
    assert_true(mid >= base / 2 && mid <= base);
    /* every jitter value stays within [base/2, base] */
    for (unsigned r = 0; r < 5000; r += 7)
      assert_true(sender_retry_delay_ms(failures, r) <= base);
    base = base * 2 > 60000 ? 60000 : base * 2;
  }
  /* the bound: never more than a minute, however many failures */
  assert_true(sender_retry_delay_ms(1000000, UINT_MAX) <= 60000);
  assert_true(sender_retry_delay_ms(1000000, 0) == 30000);
}

static void test_retry_delay_has_jitter(void **state)
{
  (void)state;
  /* two rows failing together do not retry in lockstep */
  uint64_t seen[8];
  int distinct = 0;
  for (unsigned r = 0; r < 8; r++) {
    uint64_t d = sender_retry_delay_ms(5, r * 2654435761u);
    int dup = 0;
    for (int i = 0; i < distinct; i++)
      dup |= seen[i] == d;
    if (!dup)
      seen[distinct++] = d;
  }
  assert_true(distinct >= 6);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_retry_delay_doubles_and_is_bounded),
      cmocka_unit_test(test_retry_delay_has_jitter),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
