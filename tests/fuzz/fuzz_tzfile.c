/*
 * fuzz_tzfile.c — libFuzzer target for lib/tzfile.c: any bytes to the TZif parser, and any
 * string to the POSIX TZ parser (the whole input up to its first NUL, and the text after its
 * last-but-one newline, where a TZif file keeps its footer), never a crash, a leak or undefined
 * behaviour. What parses is then asked for offsets at instants near and far, and each answer
 * must be one the zone defines. Seeds: tests/fuzz/seeds/fuzz_tzfile/ (real zones from
 * /usr/share/zoneinfo, a truncated one, two footers). Run with `make fuzz` (tests/fuzz/run.sh).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/tzfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int64_t instants[] = {INT64_MIN / 1000,
                                   -9000000000000LL,
                                   -2147483648LL,
                                   -1,
                                   0,
                                   1,
                                   951782400 /* 2000-02-29 */,
                                   1774746000 /* 2026-03-29 */,
                                   2147483647LL,
                                   4102444800LL /* 2100 */,
                                   9000000000000LL,
                                   INT64_MAX / 1000};

static void try_rule(const char *s)
{
  struct tzfile_rule r;
  if (tzfile_parse_rule(s, &r) != 0)
    return;
  for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
    int32_t off = tzfile_rule_offset(&r, instants[i]);
    if (off != r.std_off && !(r.has_dst && off == r.dst_off))
      __builtin_trap();
  }
}

static int is_type(const struct tzfile *z, int32_t off)
{
  for (size_t i = 0; i < z->ntypes; i++) {
    if (z->types[i].utoff == off)
      return 1;
  }
  return z->has_rule && (off == z->rule.std_off || (z->rule.has_dst && off == z->rule.dst_off));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct tzfile *z = NULL;
  if (tzfile_parse(data, size, &z) == 0) {
    for (size_t i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
      if (!is_type(z, tzfile_offset(z, instants[i])))
        __builtin_trap();
    }
    for (size_t i = 0; i < z->ntrans; i++) {
      if (!is_type(z, tzfile_offset(z, z->trans[i])) ||
          !is_type(z, tzfile_offset(z, z->trans[i] - 1)))
        __builtin_trap();
    }
    tzfile_free(z);
  } else if (z) {
    __builtin_trap(); /* a refusal hands nothing out */
  }
  char s[TZFILE_MAX_RULE + 2];
  size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
  memcpy(s, data, n);
  s[n] = '\0';
  try_rule(s);
  /* The footer of a TZif file: between its last two newlines. */
  if (size >= 2 && data[size - 1] == '\n') {
    const uint8_t *nl = NULL;
    for (size_t i = size - 1; i-- > 0;) {
      if (data[i] == '\n') {
        nl = data + i;
        break;
      }
    }
    if (nl) {
      size_t len = (size_t)(data + size - 1 - (nl + 1));
      if (len <= TZFILE_MAX_RULE) {
        memcpy(s, nl + 1, len);
        s[len] = '\0';
        try_rule(s);
      }
    }
  }
  return 0;
}
