#include "lib/timeutil.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/kx.h"
#include "lib/tzfile.h"

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

/* Parsed zones, read once each and immutable once published: a reader takes the count with
 * acquire and may then use slots[0..count) without the lock; a writer adds under the lock and
 * publishes with release. Entries live until the process ends. When the cache is full (more
 * distinct zones than any configuration names), a zone is parsed for the one call instead. */
#define TZ_CACHE_MAX 256

struct zone_entry {
  char name[ZONE_NAME_MAX + 1];
  struct tzfile *tz;
};

static struct zone_entry *zone_slots[TZ_CACHE_MAX];
static atomic_size_t zone_count;
static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;

static int zone_name_ok(const char *zone)
{
  if (!zone || !*zone || strlen(zone) > ZONE_NAME_MAX || zone[0] == '/' || strstr(zone, ".."))
    return 0;
  for (const char *p = zone; *p; p++) {
    if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
      return 0;
  }
  return 1;
}

static const struct tzfile *zone_cached(const char *zone)
{
  size_t n = atomic_load_explicit(&zone_count, memory_order_acquire);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(zone_slots[i]->name, zone) == 0)
      return zone_slots[i]->tz;
  }
  return NULL;
}

/* Reads and parses ZONEINFO_DIR/zone (a name already checked). */
static int zone_read(const char *zone, struct tzfile **out)
{
  char path[sizeof(ZONEINFO_DIR) + ZONE_NAME_MAX + 2];
  snprintf(path, sizeof(path), "%s/%s", ZONEINFO_DIR, zone);
  FILE *f = fopen(path, "rb");
  if (!f)
    return KX_EINVAL;
  uint8_t *data = malloc(TZFILE_MAX_BYTES + 1);
  if (!data) {
    (void)fclose(f);
    return KX_ENOMEM;
  }
  size_t n = fread(data, 1, TZFILE_MAX_BYTES + 1, f);
  int err = ferror(f);
  (void)fclose(f);
  int rc = err ? KX_EINVAL : tzfile_parse(data, n, out);
  free(data);
  return rc;
}

/* The zone's rules: *tmp is set when they are not cached and the caller must free them. */
static int zone_get(const char *zone, const struct tzfile **tz, struct tzfile **tmp)
{
  *tmp = NULL;
  if (!zone_name_ok(zone))
    return KX_EINVAL;
  if ((*tz = zone_cached(zone)))
    return 0;
  if (pthread_mutex_lock(&zone_lock) != 0)
    return KX_EINVAL;
  int rc = 0;
  if (!(*tz = zone_cached(zone))) {
    struct tzfile *parsed = NULL;
    rc = zone_read(zone, &parsed);
    size_t n = atomic_load_explicit(&zone_count, memory_order_relaxed);
    struct zone_entry *e = NULL;
    if (!rc && n < TZ_CACHE_MAX && (e = malloc(sizeof(*e)))) {
      snprintf(e->name, sizeof(e->name), "%s", zone);
      e->tz = parsed;
      zone_slots[n] = e;
      atomic_store_explicit(&zone_count, n + 1, memory_order_release);
    } else if (!rc) {
      *tmp = parsed;
    }
    *tz = parsed;
  }
  (void)pthread_mutex_unlock(&zone_lock);
  return rc;
}

int tz_valid(const char *zone)
{
  const struct tzfile *tz;
  struct tzfile *tmp;
  int rc = zone_get(zone, &tz, &tmp);
  tzfile_free(tmp);
  return rc == 0;
}

static void to_local(int64_t secs, int32_t offset, struct kx_local *out)
{
  int64_t local = secs + offset;
  int64_t days = local / 86400 - (local % 86400 < 0);
  int64_t sod = local - days * 86400;
  struct kx_date d = date_from_days(days);
  int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
  out->y = d.y;
  out->m = d.m;
  out->d = d.d;
  out->hh = (int)(sod / 3600);
  out->mm = (int)(sod / 60 % 60);
  out->ss = (int)(sod % 60);
  out->wday = (int)(w < 0 ? w + 7 : w);
  out->offset_s = offset;
}

int tz_to_local(const char *zone, int64_t ms, struct kx_local *out)
{
  const struct tzfile *tz;
  struct tzfile *tmp;
  int rc = zone_get(zone, &tz, &tmp);
  if (rc)
    return rc;
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  to_local(secs, tzfile_offset(tz, secs), out);
  tzfile_free(tmp);
  return 0;
}

static int shows(const struct tzfile *tz, int64_t secs, int y, int m, int d, int hh, int mm, int ss)
{
  struct kx_local l;
  to_local(secs, tzfile_offset(tz, secs), &l);
  return l.y == y && l.m == m && l.d == d && l.hh == hh && l.mm == mm && l.ss == ss;
}

/* Wall times further out than this are refused: the answer in ms must fit in an int64. */
#define TZ_WALL_LIMIT (INT64_MAX / 1000 - 4LL * 86400)

int tz_from_local(const char *zone, int y, int m, int d, int hh, int mm, int ss, int64_t *out_ms)
{
  const struct tzfile *tz;
  struct tzfile *tmp;
  int rc = zone_get(zone, &tz, &tmp);
  if (rc)
    return rc;
  /* Any int date and time fit in int64 seconds (|days| < 2^40); the answer must fit in ms. */
  struct kx_date date = {y, m, d};
  int64_t wall = date_to_days(date) * 86400 + (int64_t)hh * 3600 + (int64_t)mm * 60 + ss;
  if (wall > TZ_WALL_LIMIT || wall < -TZ_WALL_LIMIT) {
    tzfile_free(tmp);
    return KX_EINVAL;
  }
  /* Try the UTC offsets in effect a day either side: a zone has at most two around a
   * transition. The earliest instant that shows this wall time wins (first occurrence). */
  int64_t c1 = wall - tzfile_offset(tz, wall - 86400), c2 = wall - tzfile_offset(tz, wall + 86400);
  int64_t lo = c1 < c2 ? c1 : c2, hi = c1 < c2 ? c2 : c1;
  if (shows(tz, lo, y, m, d, hh, mm, ss))
    *out_ms = lo * 1000;
  else if (shows(tz, hi, y, m, d, hh, mm, ss))
    *out_ms = hi * 1000;
  else /* In the gap: the wall time is skipped; take the instant the offset from before would
        * give, which lands just after the transition (02:30 -> 03:30 in Europe/Berlin). */
    *out_ms = c1 * 1000;
  tzfile_free(tmp);
  return 0;
}
