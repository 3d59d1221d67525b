#include "lib/tzfile.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "lib/timeutil.h"

#define TZIF_HEADER 44
/* RFC 8536: UT offsets should lie in -89999..93599; anything past a day is refused outright. */
#define TZ_MAX_UTOFF (26 * 3600)
/* Rule arithmetic is done for years within about +-300 million: far beyond any int64 ms. */
#define TZ_T_LIMIT 10000000000000000LL

/* The header's six counts, in file order. */
struct counts {
  uint32_t isut, isstd, leap, time, type, chars;
};

static uint32_t be32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
  return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Reads a header at data[0..size) and the size of the data block after it, for times of
 * tsize bytes. Every count is checked here, before anything is multiplied or indexed. */
static int read_header(
    const uint8_t *data, size_t size, int tsize, struct counts *c, uint64_t *block)
{
  if (size < TZIF_HEADER || memcmp(data, "TZif", 4) != 0)
    return KX_EINVAL;
  c->isut = be32(data + 20);
  c->isstd = be32(data + 24);
  c->leap = be32(data + 28);
  c->time = be32(data + 32);
  c->type = be32(data + 36);
  c->chars = be32(data + 40);
  if (c->type == 0 || c->type > 256 || c->chars == 0)
    return KX_EINVAL;
  if ((c->isut != 0 && c->isut != c->type) || (c->isstd != 0 && c->isstd != c->type))
    return KX_EINVAL;
  /* Each count is below 2^32, so this sum cannot overflow 64 bits. */
  *block = (uint64_t)c->time * (uint64_t)(tsize + 1) + (uint64_t)c->type * 6 + c->chars +
           (uint64_t)c->leap * (uint64_t)(tsize + 4) + c->isstd + c->isut;
  if (*block > size - TZIF_HEADER)
    return KX_EINVAL;
  return 0;
}

/* Reads one data block (its header already checked) into z. */
static int read_block(const uint8_t *p, const struct counts *c, int tsize, struct tzfile *z)
{
  if (c->leap != 0)
    return KX_EUNSUPPORTED; /* leap-second ("right/") zones count seconds another way */
  z->ntrans = c->time;
  z->ntypes = c->type;
  z->trans = malloc(sizeof(*z->trans) * (z->ntrans ? z->ntrans : 1));
  z->trans_type = malloc(z->ntrans ? z->ntrans : 1);
  z->types = malloc(sizeof(*z->types) * z->ntypes);
  if (!z->trans || !z->trans_type || !z->types)
    return KX_ENOMEM;
  for (size_t i = 0; i < z->ntrans; i++) {
    const uint8_t *t = p + i * (size_t)tsize;
    z->trans[i] = tsize == 8 ? be64(t) : (int64_t)(int32_t)be32(t);
    if (i > 0 && z->trans[i] <= z->trans[i - 1])
      return KX_EINVAL;
  }
  p += z->ntrans * (size_t)tsize;
  for (size_t i = 0; i < z->ntrans; i++) {
    if (p[i] >= z->ntypes)
      return KX_EINVAL;
    z->trans_type[i] = p[i];
  }
  p += z->ntrans;
  for (size_t i = 0; i < z->ntypes; i++, p += 6) {
    int32_t off = (int32_t)be32(p);
    if (off <= -TZ_MAX_UTOFF || off >= TZ_MAX_UTOFF || p[4] > 1 || p[5] >= c->chars)
      return KX_EINVAL;
    z->types[i].utoff = off;
    z->types[i].isdst = p[4];
  }
  return 0;
}

/* The v2+ footer: "\n" TZ-string "\n" at data[0..size). */
static int read_footer(const uint8_t *data, size_t size, struct tzfile *z)
{
  char s[TZFILE_MAX_RULE + 1];
  if (size < 2 || data[0] != '\n')
    return KX_EINVAL;
  const uint8_t *nl = memchr(data + 1, '\n', size - 1);
  if (!nl)
    return KX_EINVAL;
  size_t n = (size_t)(nl - (data + 1));
  if (n > TZFILE_MAX_RULE || memchr(data + 1, '\0', n))
    return KX_EINVAL;
  if (n == 0)
    return 0; /* no rule: the last transition's type holds for ever */
  memcpy(s, data + 1, n);
  s[n] = '\0';
  int rc = tzfile_parse_rule(s, &z->rule);
  if (rc)
    return rc;
  z->has_rule = 1;
  return 0;
}

void tzfile_free(struct tzfile *z)
{
  if (!z)
    return;
  free(z->trans);
  free(z->trans_type);
  free(z->types);
  free(z);
}

int tzfile_parse(const uint8_t *data, size_t size, struct tzfile **out)
{
  struct counts c;
  uint64_t block;
  *out = NULL;
  if (!data || size > TZFILE_MAX_BYTES)
    return data ? KX_ETOOBIG : KX_EINVAL;
  int rc = read_header(data, size, 4, &c, &block);
  if (rc)
    return rc;
  struct tzfile *z = calloc(1, sizeof(*z));
  if (!z)
    return KX_ENOMEM;
  if (data[4] == '\0') {
    rc = read_block(data + TZIF_HEADER, &c, 4, z);
  } else {
    /* Version 2+: skip the 32-bit section; the 64-bit one and the footer follow it. */
    size_t at = TZIF_HEADER + (size_t)block;
    rc = read_header(data + at, size - at, 8, &c, &block);
    if (!rc)
      rc = read_block(data + at + TZIF_HEADER, &c, 8, z);
    at += TZIF_HEADER + (size_t)block;
    if (!rc)
      rc = read_footer(data + at, size - at, z);
  }
  if (rc) {
    tzfile_free(z);
    return rc;
  }
  *out = z;
  return 0;
}

/* ---- POSIX TZ strings ---- */

/* Up to max digits as a number; at least one digit. */
static int number(const char **s, int max, int *out)
{
  int v = 0, n = 0;
  while (n < max && isdigit((unsigned char)**s)) {
    v = v * 10 + (**s - '0');
    (*s)++;
    n++;
  }
  if (n == 0)
    return KX_EINVAL;
  *out = v;
  return 0;
}

/* A zone abbreviation: three or more letters, or <...> of letters, digits, '+' and '-'. */
static int zone_name(const char **s)
{
  const char *p = *s;
  size_t n = 0;
  if (*p == '<') {
    for (p++; isalnum((unsigned char)p[n]) || p[n] == '+' || p[n] == '-'; n++) {
    }
    if (p[n] != '>' || n < 3)
      return KX_EINVAL;
    *s = p + n + 1;
    return 0;
  }
  while (isalpha((unsigned char)p[n]))
    n++;
  if (n < 3)
    return KX_EINVAL;
  *s = p + n;
  return 0;
}

/* [+-]hh[:mm[:ss]] with hh up to max_h, as signed seconds. */
static int hms(const char **s, int max_h, int32_t *out)
{
  int sign = 1, h, m = 0, sec = 0;
  if (**s == '+' || **s == '-')
    sign = *(*s)++ == '-' ? -1 : 1;
  if (number(s, 3, &h) || h > max_h)
    return KX_EINVAL;
  if (**s == ':') {
    (*s)++;
    if (number(s, 2, &m) || m > 59)
      return KX_EINVAL;
    if (**s == ':') {
      (*s)++;
      if (number(s, 2, &sec) || sec > 59)
        return KX_EINVAL;
    }
  }
  *out = sign * (h * 3600 + m * 60 + sec);
  return 0;
}

/* Jn, n or Mm.w.d, then an optional /time. */
static int when(const char **s, struct tzfile_when *w)
{
  memset(w, 0, sizeof(*w));
  if (**s == 'J') {
    (*s)++;
    w->kind = 'J';
    if (number(s, 3, &w->n) || w->n < 1 || w->n > 365)
      return KX_EINVAL;
  } else if (**s == 'M') {
    (*s)++;
    w->kind = 'M';
    if (number(s, 2, &w->m) || w->m < 1 || w->m > 12 || *(*s)++ != '.' || number(s, 1, &w->w) ||
        w->w < 1 || w->w > 5 || *(*s)++ != '.' || number(s, 1, &w->d) || w->d > 6)
      return KX_EINVAL;
  } else {
    w->kind = 'D';
    if (number(s, 3, &w->n) || w->n > 365)
      return KX_EINVAL;
  }
  w->secs = 2 * 3600;
  if (**s == '/') {
    (*s)++;
    return hms(s, 167, &w->secs);
  }
  return 0;
}

int tzfile_parse_rule(const char *s, struct tzfile_rule *out)
{
  struct tzfile_rule r;
  int32_t off;
  memset(&r, 0, sizeof(r));
  if (!s || zone_name(&s) || hms(&s, 24, &off))
    return KX_EINVAL;
  r.std_off = -off;
  if (*s) {
    if (zone_name(&s))
      return KX_EINVAL;
    r.has_dst = 1;
    r.dst_off = r.std_off + 3600;
    if (*s && *s != ',') {
      if (hms(&s, 24, &off))
        return KX_EINVAL;
      r.dst_off = -off;
    }
    if (*s == ',') {
      s++;
      if (when(&s, &r.start) || *s++ != ',' || when(&s, &r.end))
        return KX_EINVAL;
    } else {
      /* glibc's default when a DST zone names no rule: the US rule since 2007. */
      r.start = (struct tzfile_when){.kind = 'M', .m = 3, .w = 2, .d = 0, .secs = 7200};
      r.end = (struct tzfile_when){.kind = 'M', .m = 11, .w = 1, .d = 0, .secs = 7200};
    }
  }
  if (*s)
    return KX_EINVAL;
  *out = r;
  return 0;
}

static int is_leap(int y)
{
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since the epoch of the day w names in year y. */
static int64_t when_day(const struct tzfile_when *w, int y)
{
  int64_t jan1 = date_to_days((struct kx_date){y, 1, 1});
  if (w->kind == 'J')
    return jan1 + w->n - 1 + (is_leap(y) && w->n >= 60);
  if (w->kind == 'D')
    return jan1 + w->n;
  static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int dim = dm[w->m - 1] + (w->m == 2 && is_leap(y));
  int first = date_weekday((struct kx_date){y, w->m, 1});
  int day = 1 + (w->d - first + 7) % 7 + (w->w - 1) * 7;
  while (day > dim)
    day -= 7;
  return date_to_days((struct kx_date){y, w->m, 1}) + day - 1;
}

int32_t tzfile_rule_offset(const struct tzfile_rule *r, int64_t t)
{
  if (!r->has_dst)
    return r->std_off;
  int64_t c = t < -TZ_T_LIMIT ? -TZ_T_LIMIT : t > TZ_T_LIMIT ? TZ_T_LIMIT : t;
  int64_t days = (c + r->std_off) / 86400 - ((c + r->std_off) % 86400 < 0);
  int y = date_from_days(days).y;
  /* The latest change at or before t, over the years around it, says which offset holds;
   * this also covers rules whose changes cross a year's end (DST all year: "0/0,J365/25"). */
  int64_t best = INT64_MIN;
  int dst = 0;
  for (int yy = y - 1; yy <= y + 1; yy++) {
    int64_t end = when_day(&r->end, yy) * 86400 + r->end.secs - r->dst_off;
    int64_t start = when_day(&r->start, yy) * 86400 + r->start.secs - r->std_off;
    /* On a tie the start wins: the end of one year's DST meets the next year's start. */
    if (end <= t && end >= best) {
      best = end;
      dst = 0;
    }
    if (start <= t && start >= best) {
      best = start;
      dst = 1;
    }
  }
  if (best == INT64_MIN) /* only when t is clamped: before every change computed */
    dst = 0;
  return dst ? r->dst_off : r->std_off;
}

int32_t tzfile_offset(const struct tzfile *z, int64_t t)
{
  size_t n = z->ntrans;
  if (n == 0)
    return z->has_rule ? tzfile_rule_offset(&z->rule, t) : z->types[0].utoff;
  if (t < z->trans[0])
    return z->types[0].utoff;
  if (t >= z->trans[n - 1] && z->has_rule)
    return tzfile_rule_offset(&z->rule, t);
  /* The last transition at or before t. */
  size_t lo = 0, hi = n; /* trans[lo] <= t < trans[hi] (hi == n: past the end) */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (z->trans[mid] <= t)
      lo = mid;
    else
      hi = mid;
  }
  return z->types[z->trans_type[lo]].utoff;
}
