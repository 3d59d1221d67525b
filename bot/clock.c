#include "bot/clock.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"

/* Tests only (KLAXON_TEST_WALL_OFFSET_FILE): the wall clock is shifted by the file's number of
 * milliseconds, reread at most every 50 ms, so a test steps the clock forward or back while the
 * bot runs, as NTP or a resumed host would. */
#define OFFSET_REREAD_US 50000
static struct {
  pthread_mutex_t mu;
  char *file;
  long long ms;
  uint64_t read_us;
} test_offset = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

static int64_t start_virtual_ms;
static uint64_t start_mono_us;
static double scale = 1.0;
static int initialised;
/* Without KLAXON_NOW at scale 1 the bot's time is the wall clock itself, read each time, so an
 * NTP step or a suspend moves it at once; a simulated clock runs on the monotonic one. */
static int follows_wall;
static long long (*wall_source)(void);

uint64_t clock_mono_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t clock_mono_ms(void)
{
  return clock_mono_us() / 1000u;
}

static long long wall_offset_ms(void)
{
  if (!test_offset.file)
    return 0;
  pthread_mutex_lock(&test_offset.mu);
  uint64_t now = clock_mono_us();
  if (!test_offset.read_us || now - test_offset.read_us >= OFFSET_REREAD_US) {
    test_offset.read_us = now;
    FILE *f = fopen(test_offset.file, "r");
    long long v;
    if (f && fscanf(f, "%lld", &v) == 1)
      test_offset.ms = v;
    if (f)
      fclose(f);
  }
  long long ms = test_offset.ms;
  pthread_mutex_unlock(&test_offset.mu);
  return ms;
}

long long clock_wall_ms(void)
{
  if (wall_source)
    return wall_source();
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + wall_offset_ms();
}

void clock_set(int64_t start_ms, double s)
{
  start_virtual_ms = start_ms;
  start_mono_us = clock_mono_us();
  scale = s > 0 ? s : 1.0;
  initialised = 1;
  follows_wall = 0;
}

void clock_set_wall_source(long long (*source)(void))
{
  wall_source = source;
}

/* KLAXON_NOW_ANCHOR: epoch milliseconds (digits only) or an RFC 3339 time. 0 or KX_EINVAL. */
static int parse_anchor(const char *s, int64_t *out_ms)
{
  if (*s >= '0' && *s <= '9' && strspn(s, "0123456789") == strlen(s)) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v > 253402300799999LL) /* up to 9999-12-31 */
      return KX_EINVAL;
    *out_ms = v;
    return 0;
  }
  return time_parse_rfc3339(s, out_ms) == 0 ? 0 : KX_EINVAL;
}

/* With an anchor, the simulated clock is a function of the wall clock, not of this process's
 * start: KLAXON_NOW + (wall - anchor) * scale. Every process given the same three values reads
 * the same time (to the precision of its wall clock), whenever it starts or restarts. From
 * here on it runs on the monotonic clock like any simulated clock, so a wall step later does
 * not move it. */
static int anchored_start(const char *now,
                          const char *anchor,
                          int64_t now_ms,
                          double s,
                          int64_t *start,
                          char *err,
                          size_t size)
{
  int64_t anchor_ms = 0;
  if (parse_anchor(anchor, &anchor_ms) != 0) {
    snprintf(err, size,
             "KLAXON_NOW_ANCHOR=\"%.30s\" is not an RFC 3339 time (like 2026-12-06T03:00:00Z) or "
             "epoch milliseconds",
             anchor);
    return KX_EINVAL;
  }
  if (!(now && *now)) {
    snprintf(err, size,
             "KLAXON_NOW_ANCHOR needs KLAXON_NOW (the simulated time at the anchor); set both "
             "or neither");
    return KX_EINVAL;
  }
  double elapsed = (double)(clock_wall_ms() - anchor_ms) * s;
  if (fabs(elapsed) > 1e15) {
    snprintf(err, size, "KLAXON_NOW_ANCHOR=\"%.30s\" is too far from the wall clock", anchor);
    return KX_EINVAL;
  }
  *start = now_ms + (int64_t)elapsed;
  return 0;
}

int clock_init_from_env(char *err, size_t size)
{
  const char *off = getenv("KLAXON_TEST_WALL_OFFSET_FILE");
  if (off && *off && !test_offset.file && (test_offset.file = strdup(off)) != NULL)
    LOG_WARN("clock", "test_wall_offset_installed",
             "file=%s note=\"KLAXON_TEST_WALL_OFFSET_FILE is set: the wall clock is shifted; for "
             "tests only\"",
             off);
  int64_t start = clock_wall_ms();
  double s = 1.0;
  const char *now = getenv("KLAXON_NOW");
  const char *sc = getenv("KLAXON_TIME_SCALE");
  if (now && *now && time_parse_rfc3339(now, &start) != 0) {
    snprintf(err, size, "KLAXON_NOW=\"%.60s\" is not an RFC 3339 time (like 2026-11-30T08:59:00Z)",
             now);
    return KX_EINVAL;
  }
  if (sc && *sc) {
    char *end;
    s = strtod(sc, &end);
    if (*end || !(s > 0) || !isfinite(s) || s > 1e6) {
      snprintf(err, size, "KLAXON_TIME_SCALE=\"%.30s\" is not a positive number up to 1000000", sc);
      return KX_EINVAL;
    }
  }
  const char *anchor = getenv("KLAXON_NOW_ANCHOR");
  if (anchor && *anchor) {
    int rc = anchored_start(now, anchor, start, s, &start, err, size);
    if (rc)
      return rc;
  }
  clock_set(start, s);
  follows_wall = !(now && *now) && s == 1.0;
  return 0;
}

int64_t clock_now_ms(void)
{
  if (!initialised) {
    clock_set(clock_wall_ms(), 1.0);
    follows_wall = 1;
  }
  if (follows_wall)
    return (int64_t)clock_wall_ms();
  uint64_t elapsed_us = clock_mono_us() - start_mono_us;
  return start_virtual_ms + (int64_t)((double)elapsed_us * scale / 1000.0);
}

int clock_follows_wall(void)
{
  return !initialised || follows_wall;
}

double clock_scale(void)
{
  return scale;
}

uint64_t clock_real_delay_ms(int64_t virtual_ms)
{
  if (virtual_ms <= 0)
    return 0;
  double real = ceil((double)virtual_ms / scale);
  return real > 1e12 ? (uint64_t)1e12 : (uint64_t)real;
}
