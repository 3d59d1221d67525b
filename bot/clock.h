/*
 * clock.h — the only source of time in the bot.
 *
 * KLAXON_NOW (RFC 3339) starts the clock at that instant; KLAXON_TIME_SCALE (a positive number,
 * default 1) makes it run that many times faster. Without KLAXON_NOW_ANCHOR the clock shows
 * KLAXON_NOW when the process starts; with it (RFC 3339, or epoch milliseconds: a wall-clock
 * instant) it shows KLAXON_NOW + (wall now - anchor) * scale, so every process started with the
 * same three values shares one simulated clock (several instances, a restart). Every timer in the
 * program (escalations, reminders, the Monday handoff) is set through clock_real_delay_ms, so a
 * test sees a 15-minute escalation in seconds. Network timeouts, Slack's rate limits and ping
 * intervals are the platforms' real time and do not scale.
 */
#ifndef KX_CLOCK_H
#define KX_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Read the environment; 0 or KX_EINVAL with a sentence in `err` (size >= 128). */
int clock_init_from_env(char *err, size_t size);
/* Set explicitly (tests): start instant in ms and scale; the clock then runs on the monotonic
 * clock from there. Without KLAXON_NOW at scale 1, clock_init_from_env makes the bot's time the
 * wall clock itself (an NTP step or a suspend shows at once). */
void clock_set(int64_t start_ms, double scale);
/* Tests: read the wall clock from `source` (NULL: CLOCK_REALTIME). */
void clock_set_wall_source(long long (*source)(void));
int64_t clock_now_ms(void);
double clock_scale(void);
/* 1 when the bot's time is the wall clock itself (no KLAXON_NOW, scale 1): it may step. */
int clock_follows_wall(void);
/* Real milliseconds until the clock shows now + virtual_ms (rounded up, >= 0). */
uint64_t clock_real_delay_ms(int64_t virtual_ms);
/* Real monotonic milliseconds (for timeouts, rate limits, latency). */
uint64_t clock_mono_ms(void);
uint64_t clock_mono_us(void);
/* The real wall clock (CLOCK_REALTIME), not the scaled one: log timestamps and every security
 * check (token nbf/exp, key-cache lifetimes), which KLAXON_NOW must not move. */
long long clock_wall_ms(void);
/* Tests only: KLAXON_TEST_WALL_OFFSET_FILE=/path makes clock_init_from_env shift the wall clock
 * by the file's content (milliseconds, signed), reread at most every 50 ms: a test steps the
 * clock as NTP would. Logged as a warning at start; unset in production. */

#endif
