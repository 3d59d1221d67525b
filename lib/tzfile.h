/*
 * tzfile.h — one time zone's rules, read from a TZif file (RFC 8536), and the UTC offset they
 * give at an instant. No process-wide state: a struct tzfile is immutable once parsed, so any
 * number of threads may read it at once (timeutil.c keeps the cache of parsed zones).
 *
 * The parser takes the version 2+ section (64-bit times) and its footer, the POSIX TZ string
 * ("GMT0BST,M3.5.0/1,M10.5.0", with RFC 8536's extensions: hours -167..167 in rule times) that
 * gives local time after the last transition; a version 1 file is read from its 32-bit
 * section. Every count in a header is checked against the bytes that are there: bad, short or
 * truncated input is KX_EINVAL, a file with leap seconds ("right/" zones) KX_EUNSUPPORTED,
 * input over TZFILE_MAX_BYTES KX_ETOOBIG. Nothing is logged here; callers decide.
 * Ownership: tzfile_parse() hands out a struct the caller frees with tzfile_free() (NULL is a
 * no-op). struct tzfile_rule is a plain value.
 */
#ifndef KX_TZFILE_H
#define KX_TZFILE_H

#include <stddef.h>
#include <stdint.h>

/* The largest TZif input accepted; real zones are under 4 KiB. */
#define TZFILE_MAX_BYTES ((size_t)256 * 1024)
/* The longest POSIX TZ footer accepted. */
#define TZFILE_MAX_RULE 256

/* One end of daylight saving time in a POSIX TZ rule. */
struct tzfile_when {
  char kind;      /* 'J': day n in 1..365, Feb 29 never counted; 'D': day n in 0..365 counting
                     Feb 29; 'M': weekday d (0 = Sunday) of week w (5 = last) of month m */
  int n, m, w, d; /* as kind says */
  int32_t secs;   /* local time of day of the change, -167h..167h (02:00:00 when absent) */
};

/* A POSIX TZ string. Offsets are seconds east of UTC (the string's sign is the other way). */
struct tzfile_rule {
  int32_t std_off;
  int has_dst;     /* 0: std_off all year */
  int32_t dst_off; /* std_off + 1h when the string omits it */
  struct tzfile_when start, end;
};

struct tzfile_type {
  int32_t utoff; /* seconds east of UTC */
  int isdst;
};

struct tzfile {
  size_t ntrans;
  int64_t *trans;      /* ntrans ascending instants (seconds since the epoch) */
  uint8_t *trans_type; /* ntrans indexes into types */
  size_t ntypes;       /* 1..256 */
  struct tzfile_type *types;
  int has_rule; /* the footer was non-empty: rule applies from the last transition on */
  struct tzfile_rule rule;
};

/* Parses size bytes of TZif data. On success *out is the caller's (tzfile_free). */
int tzfile_parse(const uint8_t *data, size_t size, struct tzfile **out);
void tzfile_free(struct tzfile *z);

/* Parses a NUL-terminated POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0", "<+0530>-5:30").
 * A DST part without a rule takes the US rule, as glibc does. 0 or KX_EINVAL. */
int tzfile_parse_rule(const char *s, struct tzfile_rule *out);

/* The UTC offset, in seconds east, at instant t (seconds since the epoch). */
int32_t tzfile_rule_offset(const struct tzfile_rule *r, int64_t t);
int32_t tzfile_offset(const struct tzfile *z, int64_t t);

#endif
