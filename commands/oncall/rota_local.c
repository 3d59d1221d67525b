/* rota_local.c — a rota's local time: business hours and the FROM/TO text people type for
 * overrides and absences, read in the rota's zone. The rules are in docs/rota-rules.md. */
#include <string.h>

#include "commands/oncall/rota.h"
#include "commands/oncall/rota_internal.h"
#include "lib/kx.h"

#define DEFAULT_HOURS_DAYS 0x3E /* Monday .. Friday */
#define DEFAULT_HOURS_START (8 * 60)
#define DEFAULT_HOURS_END (18 * 60)

/* ---- business hours --------------------------------------------------------------------- */

static void hours_of(const struct rota *r, int *days, int *start, int *end)
{
  *days = r->has_hours ? r->hours_days : DEFAULT_HOURS_DAYS;
  *start = r->has_hours ? r->hours_start_min : DEFAULT_HOURS_START;
  *end = r->has_hours ? r->hours_end_min : DEFAULT_HOURS_END;
}

static bool business_day(const struct rota *r, struct kx_date d, int days)
{
  return (days & (1 << date_weekday(d))) && !rota_is_holiday(r, d);
}

bool rota_in_business_hours(const struct rota *r, int64_t at_ms)
{
  struct kx_local l;
  if (rota__check(r) || rota__check_instant(at_ms) || tz_to_local(rota_zone(r), at_ms, &l))
    return false;
  int days, start, end;
  hours_of(r, &days, &start, &end);
  int minute = l.hh * 60 + l.mm;
  struct kx_date d = {l.y, l.m, l.d};
  return business_day(r, d, days) && start <= minute && minute < end;
}

int rota_next_business_start(const struct rota *r, int64_t at_ms, int64_t *out_ms)
{
  int rc = rota__check(r);
  if (!rc && !out_ms)
    rc = KX_EINVAL;
  if (!rc)
    rc = rota__check_instant(at_ms);
  if (rc)
    return rc;
  if (rota_in_business_hours(r, at_ms)) {
    *out_ms = at_ms;
    return 0;
  }
  int days, start, end;
  hours_of(r, &days, &start, &end);
  struct kx_local l;
  rc = tz_to_local(rota_zone(r), at_ms, &l);
  if (rc)
    return rc;
  struct kx_date d = {l.y, l.m, l.d};
  /* Each holiday can hide at most one week's business days. */
  int64_t max_days = 7 * ((int64_t)r->n_holidays + 2);
  for (int64_t i = 0; days && i < max_days; i++) {
    struct kx_date di = date_add_days(d, i);
    if (!business_day(r, di, days))
      continue;
    int64_t s;
    rc = tz_from_local(rota_zone(r), di.y, di.m, di.d, start / 60, start % 60, 0, &s);
    if (rc)
      return rc;
    if (s > at_ms) {
      *out_ms = s;
      return 0;
    }
  }
  return KX_ENOTFOUND;
}

/* ---- FROM/TO text ------------------------------------------------------------------------ */

static int two_digits(const char *s, int max, int *out)
{
  if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
    return KX_EINVAL;
  *out = (s[0] - '0') * 10 + (s[1] - '0');
  return *out > max ? KX_EINVAL : 0;
}

/* "YYYY-MM-DD HH:MM[:SS]" or with a T, local to the rota's zone. */
static int parse_local(const struct rota *r, const char *s, size_t len, int64_t *out)
{
  char date[11];
  struct kx_date d;
  int hh, mm, ss = 0;
  if (len != 16 && len != 19)
    return KX_EINVAL;
  if (s[10] != ' ' && s[10] != 'T' && s[10] != 't')
    return KX_EINVAL;
  memcpy(date, s, 10);
  date[10] = '\0';
  if (date_parse(date, &d) || !rota__date_ok(d))
    return KX_EINVAL;
  if (two_digits(s + 11, 23, &hh) || s[13] != ':' || two_digits(s + 14, 59, &mm))
    return KX_EINVAL;
  if (len == 19 && (s[16] != ':' || two_digits(s + 17, 59, &ss)))
    return KX_EINVAL;
  return tz_from_local(rota_zone(r), d.y, d.m, d.d, hh, mm, ss, out);
}

int rota_parse_time(const struct rota *r, const char *text, bool is_end, int64_t *out_ms)
{
  int rc = rota__check(r);
  if (rc)
    return rc;
  if (!text || !out_ms)
    return KX_EINVAL;
  while (*text == ' ' || *text == '\t')
    text++;
  size_t len = strnlen(text, ROTA_MAX_TIME_TEXT + 1);
  if (len > ROTA_MAX_TIME_TEXT)
    return KX_EINVAL;
  while (len && (text[len - 1] == ' ' || text[len - 1] == '\t'))
    len--;
  char s[ROTA_MAX_TIME_TEXT + 1];
  memcpy(s, text, len);
  s[len] = '\0';
  int64_t ms;
  struct kx_date d;
  if (len == 10) {
    rc = date_parse(s, &d);
    if (!rc && !rota__date_ok(d))
      rc = KX_EINVAL;
    if (!rc && is_end)
      d = date_add_days(d, 1);
    if (!rc)
      rc = tz_from_local(rota_zone(r), d.y, d.m, d.d, 0, 0, 0, &ms);
  } else if (parse_local(r, s, len, &ms) == 0) {
    rc = 0;
  } else {
    rc = time_parse_rfc3339(s, &ms);
  }
  if (!rc)
    rc = rota__check_instant(ms);
  if (rc)
    return KX_EINVAL;
  *out_ms = ms;
  return 0;
}

int rota_parse_range(
    const struct rota *r, const char *from, const char *to, int64_t *from_ms, int64_t *to_ms)
{
  int64_t f, t;
  int rc = rota_parse_time(r, from, false, &f);
  if (!rc)
    rc = rota_parse_time(r, to, true, &t);
  if (rc)
    return rc;
  if (!from_ms || !to_ms || t <= f)
    return KX_EINVAL;
  *from_ms = f;
  *to_ms = t;
  return 0;
}
