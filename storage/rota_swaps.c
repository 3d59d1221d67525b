#include "storage/rota_swaps.h"

#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

/* Both directions are stored, so either half finds the other with one look-up. */
const char rota_swaps_schema_v2[] =
    "CREATE TABLE rota_swaps ("
    "  change_id INTEGER PRIMARY KEY,"
    "  other_id INTEGER NOT NULL"
    ");";

int rota_swaps_pair(struct db *db, int64_t a, int64_t b)
{
  static const char sql[] = "INSERT INTO rota_swaps (change_id, other_id) VALUES (?,?), (?,?)";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, a);
  db_bind_int64(st, 2, b);
  db_bind_int64(st, 3, b);
  db_bind_int64(st, 4, a);
  return db_step_done(db, st, "rota_swaps_pair");
}

int rota_swaps_other(struct db *db, const char *rota, int64_t id, struct rota_change_row *out)
{
  static const char sql[] =
      "SELECT c.id, c.kind, c.person, c.from_ms, c.to_ms, c.secondary, c.created_by, c.reason,"
      " c.created_at FROM rota_swaps s JOIN rota_changes c ON c.id = s.other_id"
      " WHERE s.change_id = ? AND c.rota = ? AND c.cancelled_at IS NULL";
  memset(out, 0, sizeof(*out));
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, id);
  db_bind_text(st, 2, rota);
  int rc = db_step(st), err = 0;
  if (rc == DB_ROW) {
    out->id = db_col_int64(st, 0);
    const char *kind = db_col_text_ref(st, 1);
    out->kind = kind && strcmp(kind, "absence") == 0 ? ROTA_CHANGE_ABSENCE : ROTA_CHANGE_OVERRIDE;
    out->person = db_col_text(st, 2);
    out->from_ms = db_col_int64(st, 3);
    out->to_ms = db_col_int64(st, 4);
    out->secondary = db_col_int(st, 5) != 0;
    out->created_by = db_col_text(st, 6);
    out->reason = db_col_text(st, 7);
    out->created_at = db_col_int64(st, 8);
    if (!out->person)
      err = KX_ENOMEM;
  } else if (rc == DB_DONE) {
    err = KX_ENOTFOUND;
  } else {
    err = db_fail(db, rc, "rota_swaps_other");
  }
  db_reset(st);
  if (err) {
    free(out->person);
    free(out->created_by);
    free(out->reason);
    memset(out, 0, sizeof(*out));
  }
  return err;
}
