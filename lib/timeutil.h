/*
 * timeutil.h — instants, durations, dates and time zones.
 *
 * An instant is int64_t milliseconds since the Unix epoch (UTC); every module uses that.
 * Time zones are IANA names read from the system's zoneinfo (TZif files, lib/tzfile.h), so
 * daylight saving follows tzdata. Each zone's file is read once, on first use, into a cache
 * of immutable parsed zones (a mutex guards only the adding); conversion touches no process-
 * wide state (no TZ, tzset or localtime), so any thread may call these functions.
 * All functions return 0 or a negative KX_E* code; buffers are the caller's.
 */
#ifndef KX_TIMEUTIL_H
#define KX_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MS_PER_SEC 1000LL
#define MS_PER_MIN (60LL * MS_PER_SEC)
#define MS_PER_HOUR (60LL * MS_PER_MIN)
#define MS_PER_DAY (24LL * MS_PER_HOUR)

/* A calendar date, no zone attached. */
struct kx_date {
  int y, m, d;
};

/* Wall-clock time in some zone. */
struct kx_local {
  int y, m, d, hh, mm, ss;
  int wday;     /* 0 = Sunday */
  int offset_s; /* UTC offset in seconds at that instant */
};

/* "2026-11-24T15:00:00Z", "2026-11-24T16:00:00.250+01:00", also a lower-case t/z and a space. */
int time_parse_rfc3339(const char *s, int64_t *out_ms);
/* "2026-11-24T15:00:00Z" (milliseconds only when non-zero). buf >= 32. */
const char *time_format_utc(int64_t ms, char *buf, size_t size);
/* "2026-11-24T16:00:00+01:00" in zone. buf >= 32. */
const char *time_format_zone(int64_t ms, const char *zone, char *buf, size_t size);

/* "90s", "5m", "1h30m", "2d", "1w", "0m". A bare number is refused (the unit matters). */
int time_parse_duration(const char *s, int64_t *out_ms);
/* "1h 5m", "45s", "2d 3h" — for people. buf >= 32. */
const char *time_format_duration(int64_t ms, char *buf, size_t size);

/* "2026-11-23" */
int date_parse(const char *s, struct kx_date *out);
/* Days since 1970-01-01 for a civil date (proleptic Gregorian), and back. */
int64_t date_to_days(struct kx_date d);
struct kx_date date_from_days(int64_t days);
int date_weekday(struct kx_date d); /* 0 = Sunday */
int date_cmp(struct kx_date a, struct kx_date b);
struct kx_date date_add_days(struct kx_date d, int64_t n);
/* "monday" / "mon" -> 1; -1 when unknown. */
int weekday_parse(const char *s);

/* 1 when zone names a readable, well-formed TZif file under the zoneinfo directory ("UTC"
 * included; leap-second "right/" zones are not). */
int tz_valid(const char *zone);
int tz_to_local(const char *zone, int64_t ms, struct kx_local *out);
/* The instant at which the zone's wall clock shows the given time. A time that does not
 * exist (the spring-forward gap) moves forward by the gap; an ambiguous one (the autumn
 * repeat) takes the first occurrence. */
int tz_from_local(const char *zone, int y, int m, int d, int hh, int mm, int ss, int64_t *out_ms);

#endif
