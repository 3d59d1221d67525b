/*
 * rota_changes.h — overrides and absences (and the overrides a swap is made of), per rota.
 * Rows own their strings; rota_change_rows_free releases an array from rota_changes_load.
 * (commands/oncall.c turns them into the pure rota module's struct rota_change.)
 */
#ifndef KX_ROTA_CHANGES_H
#define KX_ROTA_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

enum rota_change_type { ROTA_CHANGE_OVERRIDE = 1, ROTA_CHANGE_ABSENCE = 2 };

struct rota_change_new {
  const char *rota;
  enum rota_change_type kind;
  const char *person;
  int64_t from_ms, to_ms;
  bool secondary;
  const char *created_by; /* person id or platform user id */
  const char *reason;     /* "swap with bob", free text */
  int64_t now_ms;
};

struct rota_change_row {
  int64_t id;
  enum rota_change_type kind;
  char *person;
  int64_t from_ms, to_ms;
  bool secondary;
  char *created_by;
  char *reason;
  int64_t created_at;
};

int rota_changes_add(struct db *db, const struct rota_change_new *c, int64_t *id_out);
/* Cancel one (by id) — KX_ENOTFOUND when there is no such active change of that rota. */
int rota_changes_cancel(struct db *db, const char *rota, int64_t id, int64_t now_ms);
/* Active changes of a rota that end after `after_ms` (all when after_ms is INT64_MIN), oldest
 * first, at most `limit`. */
int rota_changes_load(struct db *db,
                      const char *rota,
                      int64_t after_ms,
                      size_t limit,
                      struct rota_change_row **out,
                      size_t *n);
void rota_change_rows_free(struct rota_change_row *rows, size_t n);

#endif
