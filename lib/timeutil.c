#include "lib/timeutil.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "lib/kx.h"

#define ZONEINFO_DIR "/usr/share/zoneinfo"
#define ZONE_NAME_MAX 128

static int digits(const char *s, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i]))
      return KX_EINVAL;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

static int days_in_month(int y, int m)
{
  static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    return 29;
  return dm[m - 1];
}

int64_t date_to_days(struct kx_date d)
{
  /* Howard Hinnant's days_from_civil. */
  int64_t y = d.y - (d.m <= 2);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (d.m + (d.m > 2 ? -3 : 9)) + 2) / 5 + d.d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct kx_date date_from_days(int64_t z)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp + (mp < 10 ? 3 : -9);
  struct kx_date out = {(int)(y + (m <= 2)), (int)m, (int)d};
  return out;
}

int date_weekday(struct kx_date d)
{
  int64_t days = date_to_days(d);
  int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
  return (int)(w < 0 ? w + 7 : w);
}

int date_cmp(struct kx_date a, struct kx_date b)
{
  if (a.y != b.y)
    return a.y < b.y ? -1 : 1;
  if (a.m != b.m)
    return a.m < b.m ? -1 : 1;
  if (a.d != b.d)
    return a.d < b.d ? -1 : 1;
  return 0;
}

struct kx_date date_add_days(struct kx_date d, int64_t n)
{
  return date_from_days(date_to_days(d) + n);
}

int date_parse(const char *s, struct kx_date *out)
{
  struct kx_date d;
  if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
    return KX_EINVAL;
  if (digits(s, 4, &d.y) || digits(s + 5, 2, &d.m) || digits(s + 8, 2, &d.d))
    return KX_EINVAL;
  if (d.m < 1 || d.m > 12 || d.d < 1 || d.d > days_in_month(d.y, d.m))
    return KX_EINVAL;
  *out = d;
  return 0;
}

int weekday_parse(const char *s)
{
  static const char *names[] = {"sunday",   "monday", "tuesday", "wednesday",
                                "thursday", "friday", "saturday"};
  if (!s)
    return -1;
  size_t n = strlen(s);
  if (n < 3)
    return -1;
  for (int i = 0; i < 7; i++) {
    if (n <= strlen(names[i]) && strncasecmp(s, names[i], n) == 0)
      return i;
  }
  return -1;
}

int time_parse_rfc3339(const char *s, int64_t *out_ms)
{
  int y, mo, d, h, mi, sec, ms = 0;
  if (!s || strlen(s) < 20)
    return KX_EINVAL;
  if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
      digits(s + 8, 2, &d))
    return KX_EINVAL;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
    return KX_EINVAL;
  if (digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
      digits(s + 17, 2, &sec))
    return KX_EINVAL;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
    return KX_EINVAL;
  const char *p = s + 19;
  if (*p == '.') {
    int scale = 100, n = 0;
    for (p++; isdigit((unsigned char)*p); p++, n++) {
      ms += (*p - '0') * scale;
      scale /= 10;
    }
    if (n == 0)
      return KX_EINVAL;
  }
  int offset = 0;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int oh, om;
    if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
      return KX_EINVAL;
    offset = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
    p += 6;
  } else {
    return KX_EINVAL;
  }
  if (*p)
    return KX_EINVAL;
  struct kx_date date = {y, mo, d};
  int64_t secs =
      date_to_days(date) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + (sec > 59 ? 59 : sec);
  *out_ms = (secs - offset) * 1000 + ms;
  return 0;
}

const char *time_format_utc(int64_t ms, char *buf, size_t size)
{
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int64_t rem = ms - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t sod = secs - days * 86400;
  struct kx_date d = date_from_days(days);
  if (rem)
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", d.y, d.m, d.d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60), (int)rem);
  else
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", d.y, d.m, d.d, (int)(sod / 3600),
             (int)(sod / 60 % 60), (int)(sod % 60));
  return buf;
}

const char *time_format_zone(int64_t ms, const char *zone, char *buf, size_t size)
{
  struct kx_local l;
  if (tz_to_local(zone, ms, &l))
    return time_format_utc(ms, buf, size);
  int off = l.offset_s < 0 ? -l.offset_s : l.offset_s;
  snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", l.y, l.m, l.d, l.hh, l.mm, l.ss,
           l.offset_s < 0 ? '-' : '+', off / 3600, off / 60 % 60);
  return buf;
}

int time_parse_duration(const char *s, int64_t *out_ms)
{
  int64_t total = 0;
  int parts = 0;
  if (!s || !*s)
    return KX_EINVAL;
  while (*s) {
    if (!isdigit((unsigned char)*s))
      return KX_EINVAL;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (v < 0 || v > 1000000)
      return KX_EINVAL;
    int64_t unit;
    switch (*end) {
      case 's':
        unit = MS_PER_SEC;
        break;
      case 'm':
        unit = MS_PER_MIN;
        break;
      case 'h':
        unit = MS_PER_HOUR;
        break;
      case 'd':
        unit = MS_PER_DAY;
        break;
      case 'w':
        unit = 7 * MS_PER_DAY;
        break;
      default:
        return KX_EINVAL;
    }
    total += v * unit;
    s = end + 1;
    parts++;
  }
  if (parts == 0)
    return KX_EINVAL;
  *out_ms = total;
  return 0;
}

const char *time_format_duration(int64_t ms, char *buf, size_t size)
{
  int64_t s = (ms < 0 ? -ms : ms) / 1000;
  int64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
  const char *sign = ms < 0 ? "-" : "";
  if (d)
    snprintf(buf, size, "%s%lldd %lldh", sign, (long long)d, (long long)h);
  else if (h)
    snprintf(buf, size, "%s%lldh %lldm", sign, (long long)h, (long long)m);
  else if (m)
    snprintf(buf, size, "%s%lldm %llds", sign, (long long)m, (long long)sec);
  else
    snprintf(buf, size, "%s%llds", sign, (long long)sec);
  return buf;
}

int tz_valid(const char *zone)
{
  char path[sizeof(ZONEINFO_DIR) + ZONE_NAME_MAX + 2];
  char magic[4];
  if (!zone || !*zone || strlen(zone) > ZONE_NAME_MAX || zone[0] == '/' || strstr(zone, ".."))
    return 0;
  for (const char *p = zone; *p; p++) {
    if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
      return 0;
  }
  snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, zone);
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  size_t n = fread(magic, 1, sizeof(magic), f);
  (void)fclose(f);
  return n == 4 && memcmp(magic, "TZif", 4) == 0;
}

/* Switch the process's zone only when it changes: tzset() re-reads the file each switch. */
static int use_zone(const char *zone)
{
  static char current[ZONE_NAME_MAX + 2];
  /* The zone in use was checked when it was set: skip the file check on the hot path. */
  if (zone && current[0] && strcmp(current, zone) == 0)
    return 0;
  if (!tz_valid(zone))
    return KX_EINVAL;
  {
    char val[ZONE_NAME_MAX + 2];
    snprintf(val, sizeof(val), ":%s", zone);
    if (setenv("TZ", val, 1) != 0)
      return KX_ENOMEM;
    tzset();
    snprintf(current, sizeof(current), "%s", zone);
  }
  return 0;
}

int tz_to_local(const char *zone, int64_t ms, struct kx_local *out)
{
  int rc = use_zone(zone);
  if (rc)
    return rc;
  time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  struct tm tm;
  if (!localtime_r(&t, &tm))
    return KX_EINVAL;
  out->y = tm.tm_year + 1900;
  out->m = tm.tm_mon + 1;
  out->d = tm.tm_mday;
  out->hh = tm.tm_hour;
  out->mm = tm.tm_min;
  out->ss = tm.tm_sec;
  out->wday = tm.tm_wday;
  out->offset_s = (int)tm.tm_gmtoff;
  return 0;
}

static int shows(const char *zone, int64_t secs, int y, int m, int d, int hh, int mm, int ss)
{
  struct kx_local l;
  if (tz_to_local(zone, secs * 1000, &l))
    return 0;
  return l.y == y && l.m == m && l.d == d && l.hh == hh && l.mm == mm && l.ss == ss;
}

int tz_from_local(const char *zone, int y, int m, int d, int hh, int mm, int ss, int64_t *out_ms)
{
  int rc = use_zone(zone);
  if (rc)
    return rc;
  struct kx_date date = {y, m, d};
  int64_t wall = date_to_days(date) * 86400 + (int64_t)hh * 3600 + (int64_t)mm * 60 + ss;
  /* Try the UTC offsets in effect a day either side: a zone has at most two around a
   * transition. The earliest instant that shows this wall time wins (first occurrence). */
  struct kx_local before, after;
  if (tz_to_local(zone, (wall - 86400) * 1000, &before) ||
      tz_to_local(zone, (wall + 86400) * 1000, &after))
    return KX_EINVAL;
  int64_t c1 = wall - before.offset_s, c2 = wall - after.offset_s;
  int64_t lo = c1 < c2 ? c1 : c2, hi = c1 < c2 ? c2 : c1;
  if (shows(zone, lo, y, m, d, hh, mm, ss)) {
    *out_ms = lo * 1000;
    return 0;
  }
  if (shows(zone, hi, y, m, d, hh, mm, ss)) {
    *out_ms = hi * 1000;
    return 0;
  }
  /* In the gap: the wall time is skipped; take the instant the offset from before would
   * give, which lands just after the transition (02:30 -> 03:30 in Europe/Berlin). */
  *out_ms = (wall - before.offset_s) * 1000;
  return 0;
}
