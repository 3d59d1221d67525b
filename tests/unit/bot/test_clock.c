/* The bot's clock: simulated (KLAXON_NOW, KLAXON_TIME_SCALE) or the wall clock itself, which an
 * NTP step or a suspend moves at once (issue 17 item 12). */
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
#include <time.h>
#include <unistd.h>

#include "bot/clock.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

static long long fake_wall;

static long long wall(void)
{
  return fake_wall;
}

static void test_wall_clock_steps_show_at_once(void **state)
{
  (void)state;
  unsetenv("KLAXON_NOW");
  unsetenv("KLAXON_TIME_SCALE");
  fake_wall = 1764950400000LL; /* 2025-12-05T16:00:00Z */
  clock_set_wall_source(wall);
  char err[160];
  assert_int_equal(clock_init_from_env(err, sizeof(err)), 0);
  int64_t t = clock_now_ms();
  assert_true(t == fake_wall);
  /* NTP steps the clock an hour forward (or the host resumes from an hour's suspend): the
   * monotonic clock has not moved, the bot's time has. */
  fake_wall += 3600 * 1000LL;
  assert_true(clock_now_ms() == fake_wall);
  /* and back */
  fake_wall -= 7200 * 1000LL;
  assert_true(clock_now_ms() == fake_wall);
  clock_set_wall_source(NULL);
}

static void test_simulated_clock_ignores_the_wall(void **state)
{
  (void)state;
  setenv("KLAXON_NOW", "2026-11-30T08:59:00Z", 1);
  setenv("KLAXON_TIME_SCALE", "1", 1);
  fake_wall = 1764950400000LL;
  clock_set_wall_source(wall);
  char err[160];
  assert_int_equal(clock_init_from_env(err, sizeof(err)), 0);
  int64_t start = 0;
  assert_int_equal(time_parse_rfc3339("2026-11-30T08:59:00Z", &start), 0);
  int64_t t = clock_now_ms();
  assert_true(t >= start && t < start + 1000);
  fake_wall += 3600 * 1000LL; /* the wall moves; business time does not follow it */
  assert_true(clock_now_ms() < start + 1000);
  clock_set_wall_source(NULL);
  unsetenv("KLAXON_NOW");
  unsetenv("KLAXON_TIME_SCALE");
}

static void write_offset(const char *path, long long ms)
{
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "%lld\n", ms);
  fclose(f);
}

static long long real_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The test-only hook e2e tests step the wall clock with (tests/e2e/test_clock_jumps.py). */
static void test_wall_offset_file_steps_the_clock(void **state)
{
  (void)state;
  char path[] = "/tmp/klaxon-wall-offset-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  write_offset(path, 3600 * 1000LL);
  unsetenv("KLAXON_NOW");
  unsetenv("KLAXON_TIME_SCALE");
  setenv("KLAXON_TEST_WALL_OFFSET_FILE", path, 1);
  char err[160];
  assert_int_equal(clock_init_from_env(err, sizeof(err)), 0);
  assert_true(clock_follows_wall());
  long long d = clock_now_ms() - real_ms() - 3600 * 1000LL;
  assert_true(d > -1000 && d < 1000);
  write_offset(path, -7200 * 1000LL); /* back: reread within 50 ms */
  usleep(60 * 1000);
  d = clock_now_ms() - real_ms() + 7200 * 1000LL;
  assert_true(d > -1000 && d < 1000);
  write_offset(path, 0);
  usleep(60 * 1000);
  d = clock_now_ms() - real_ms();
  assert_true(d > -1000 && d < 1000);
  unsetenv("KLAXON_TEST_WALL_OFFSET_FILE");
  unlink(path);
}

/* KLAXON_NOW_ANCHOR: the simulated clock is KLAXON_NOW + (wall - anchor) * scale, whenever the
 * process starts, so a restarted (or a second) instance shows the same time. */
static void test_anchor_shares_one_clock(void **state)
{
  (void)state;
  int64_t now_ms = 0, anchor_ms = 0;
  assert_int_equal(time_parse_rfc3339("2026-11-30T08:59:00Z", &now_ms), 0);
  assert_int_equal(time_parse_rfc3339("2025-12-05T16:00:00Z", &anchor_ms), 0);
  setenv("KLAXON_NOW", "2026-11-30T08:59:00Z", 1);
  setenv("KLAXON_TIME_SCALE", "60", 1);
  char err[200];
  const char *anchors[] = {"2025-12-05T16:00:00Z", "1764950400000"};
  for (size_t i = 0; i < 2; i++) {
    setenv("KLAXON_NOW_ANCHOR", anchors[i], 1);
    /* a process started at the anchor shows KLAXON_NOW */
    fake_wall = anchor_ms;
    clock_set_wall_source(wall);
    assert_int_equal(clock_init_from_env(err, sizeof(err)), 0);
    int64_t d = clock_now_ms() - now_ms;
    assert_true(d >= 0 && d < 1000);
    /* one started 10 s of wall time later shows KLAXON_NOW + 10 min (scale 60) */
    fake_wall = anchor_ms + 10 * 1000;
    assert_int_equal(clock_init_from_env(err, sizeof(err)), 0);
    d = clock_now_ms() - (now_ms + 600 * 1000);
    assert_true(d >= 0 && d < 1000);
    assert_false(clock_follows_wall());
    /* without the anchor the same start shows KLAXON_NOW: the clock restarts */
    unsetenv("KLAXON_NOW_ANCHOR");
    assert_int_equal(clock_init_from_env(err, sizeof(err)), 0);
    d = clock_now_ms() - now_ms;
    assert_true(d >= 0 && d < 1000);
  }
  /* an anchor in the future of the wall clock: before KLAXON_NOW, still one shared clock */
  setenv("KLAXON_NOW_ANCHOR", "1764950400000", 1);
  fake_wall = anchor_ms - 1000;
  assert_int_equal(clock_init_from_env(err, sizeof(err)), 0);
  int64_t d = clock_now_ms() - (now_ms - 60 * 1000);
  assert_true(d >= 0 && d < 1000);
  clock_set_wall_source(NULL);
  unsetenv("KLAXON_NOW_ANCHOR");
  unsetenv("KLAXON_NOW");
  unsetenv("KLAXON_TIME_SCALE");
}

static void test_anchor_refused_with_a_sentence(void **state)
{
  (void)state;
  char err[200];
  setenv("KLAXON_NOW", "2026-11-30T08:59:00Z", 1);
  const char *bad[] = {"yesterday", "2026-13-01T00:00:00Z", "12ab",
                       "-5",        "99999999999999999999", " 1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    setenv("KLAXON_NOW_ANCHOR", bad[i], 1);
    err[0] = 0;
    assert_int_equal(clock_init_from_env(err, sizeof(err)), KX_EINVAL);
    assert_non_null(strstr(err, "KLAXON_NOW_ANCHOR=\""));
    assert_non_null(strstr(err, "RFC 3339"));
  }
  /* an anchor needs KLAXON_NOW */
  unsetenv("KLAXON_NOW");
  setenv("KLAXON_NOW_ANCHOR", "1764950400000", 1);
  assert_int_equal(clock_init_from_env(err, sizeof(err)), KX_EINVAL);
  assert_non_null(strstr(err, "needs KLAXON_NOW"));
  /* empty means unset */
  setenv("KLAXON_NOW_ANCHOR", "", 1);
  assert_int_equal(clock_init_from_env(err, sizeof(err)), 0);
  unsetenv("KLAXON_NOW_ANCHOR");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wall_clock_steps_show_at_once),
      cmocka_unit_test(test_simulated_clock_ignores_the_wall),
      cmocka_unit_test(test_wall_offset_file_steps_the_clock),
      cmocka_unit_test(test_anchor_shares_one_clock),
      cmocka_unit_test(test_anchor_refused_with_a_sentence),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
