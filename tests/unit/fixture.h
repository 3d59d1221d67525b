/*
 * fixture.h — the handler tests' shared fixture: a config parsed from YAML text, a database on
 * ":memory:", and the command context over both at a chosen instant. Include it after cmocka.h.
 * fx_new() fails the test (cmocka assertions) when the config has problems, printing each.
 * fx_free() frees everything. fx_count() runs one `SELECT count(*) …`.
 */
#ifndef KX_TEST_FIXTURE_H
#define KX_TEST_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/config/config_load.h"
#include "commands/core/command.h"
#include "commands/core/config.h"
#include "lib/timeutil.h"
#include "storage/db.h"
#include "storage/db_internal.h"

struct fx {
  struct config *c;
  struct db *db;
  struct cmd_ctx ctx;
  int64_t t0; /* the instant the fixture started at */
};

/* An RFC 3339 instant in ms (fails the test when it does not parse). */
static inline int64_t fx_at(const char *rfc3339)
{
  int64_t ms = 0;
  assert_int_equal(time_parse_rfc3339(rfc3339, &ms), 0);
  return ms;
}

static inline struct fx *fx_new(const char *config_yaml, const char *now_rfc3339)
{
  struct fx *f = calloc(1, sizeof(*f));
  assert_non_null(f);
  struct config_problems pr;
  f->c = config_load_string(config_yaml, strlen(config_yaml), "test", &pr);
  for (size_t i = 0; i < pr.n; i++)
    fprintf(stderr, "config %d: %s\n", pr.items[i].line, pr.items[i].message);
  config_problems_free(&pr);
  assert_non_null(f->c);
  int err = 0;
  f->db = db_open(":memory:", 0, &err);
  assert_non_null(f->db);
  f->t0 = fx_at(now_rfc3339);
  f->ctx = (struct cmd_ctx){.db = f->db, .config = f->c, .now_ms = f->t0};
  return f;
}

static inline void fx_free(struct fx *f)
{
  if (!f)
    return;
  db_close(f->db);
  config_free(f->c);
  free(f);
}

static inline int64_t fx_count(struct fx *f, const char *sql)
{
  struct db_stmt *st = db_prepare(f->db, sql);
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  int64_t v = db_col_int64(st, 0);
  db_finalize(st);
  return v;
}

#endif
