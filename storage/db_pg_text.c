/*
 * db_pg_text.c — SQL text for the PostgreSQL engine: the shared queries are written with
 * SQLite's placeholders, and db_pg.c prepares them with PostgreSQL's. Pure text, no libpq, so
 * the unit tests (test_db_pg_text) and the fuzzer can run it alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/db_engine.h"

/* SQLite's placeholders as PostgreSQL's: `?NNN` is $NNN, a bare `?` one more than the largest
 * number so far. Quoted strings, quoted identifiers and comments are copied as they are. */
char *db_pg_placeholders(const char *sql, int *nparams)
{
  size_t n = strlen(sql);
  char *out = malloc(n * 11 + 16); /* a bare ? becomes $ and up to 10 digits */
  if (!out)
    return NULL;
  size_t o = 0;
  int max = 0;
  for (size_t i = 0; i < n;) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      out[o++] = sql[i++];
      while (i < n) {
        out[o++] = sql[i];
        if (sql[i++] == c) {
          if (i < n && sql[i] == c) { /* a doubled quote inside */
            out[o++] = sql[i++];
            continue;
          }
          break;
        }
      }
    } else if (c == '-' && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n')
        out[o++] = sql[i++];
    } else if (c == '/' && sql[i + 1] == '*') {
      const char *end = strstr(sql + i + 2, "*/");
      size_t stop = end ? (size_t)(end - sql) + 2 : n;
      while (i < stop)
        out[o++] = sql[i++];
    } else if (c == '?') {
      i++;
      int num = 0;
      if (sql[i] >= '0' && sql[i] <= '9') {
        while (sql[i] >= '0' && sql[i] <= '9')
          num = num * 10 + (sql[i++] - '0');
      } else {
        num = max + 1;
      }
      if (num > max)
        max = num;
      o += (size_t)sprintf(out + o, "$%d", num);
    } else {
      out[o++] = sql[i++];
    }
  }
  out[o] = '\0';
  *nparams = max;
  return out;
}
