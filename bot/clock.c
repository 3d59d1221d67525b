#include "bot/clock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lib/kx.h"
#include "lib/timeutil.h"

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

long long clock_wall_ms(void)
{
  if (wall_source)
    return wall_source();
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

int clock_init_from_env(char *err, size_t size)
{
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
