/* util.h — small helpers shared by the unit tests (read a fixture, wrap a payload). */
#ifndef KX_TEST_UTIL_H
#define KX_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

/* The contents of a file under the repository root (tests run from it), or NULL. */
static inline char *test_read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if (buf)
    buf[n] = '\0';
  fclose(f);
  if (len)
    *len = (size_t)n;
  return buf;
}

#endif
