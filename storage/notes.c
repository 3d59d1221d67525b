#include "storage/notes.h"

#include <stdlib.h>

#include "lib/kx.h"
#include "storage/db_internal.h"

const char notes_schema_v1[] =
    "CREATE TABLE notes ("
    "  id INTEGER PRIMARY KEY,"
    "  rota TEXT,"
    "  author TEXT,"
    "  text TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  handed_at INTEGER"
    ");"
    /* A note for every rota (rota NULL) is handed over once per rota: one row per handover. */
    "CREATE TABLE note_handovers ("
    "  note_id INTEGER NOT NULL REFERENCES notes(id),"
    "  rota TEXT NOT NULL,"
    "  handed_at INTEGER NOT NULL,"
    "  PRIMARY KEY (note_id, rota)"
    ") WITHOUT ROWID;";

int notes_add(struct db *db,
              const char *rota,
              const char *author,
              const char *text,
              int64_t now_ms,
              int64_t *id_out)
{
  static const char sql[] =
      "INSERT INTO notes (rota, author, text, created_at) VALUES (?,?,?,?)"
      " RETURNING id";
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, rota);
  db_bind_text(st, 2, author);
  db_bind_text(st, 3, text);
  db_bind_int64(st, 4, now_ms);
  int rc = db_step(st);
  int64_t id = rc == DB_ROW ? db_col_int64(st, 0) : 0;
  db_reset(st);
  if (rc != DB_ROW)
    return db_fail(db, rc, "notes_add");
  if (id_out)
    *id_out = id;
  return 0;
}

int notes_pending(struct db *db, const char *rota, struct note **out, size_t *n)
{
  static const char sql[] =
      "SELECT id, rota, author, text, created_at FROM notes"
      " WHERE (rota IS NULL OR rota = ?1) AND NOT EXISTS (SELECT 1 FROM note_handovers h"
      " WHERE h.note_id = notes.id AND h.rota = ?1) ORDER BY id";
  *out = NULL;
  *n = 0;
  struct db_stmt *st = db_stmt(db, sql);
  if (!st)
    return KX_EDB;
  db_bind_text(st, 1, rota);
  size_t cap = 0, count = 0;
  struct note *notes = NULL;
  int rc;
  while ((rc = db_step(st)) == DB_ROW) {
    if (db_grow((void **)&notes, &cap, count, sizeof(*notes))) {
      db_reset(st);
      notes_free(notes, count);
      return KX_ENOMEM;
    }
    struct note *x = &notes[count++];
    x->id = db_col_int64(st, 0);
    x->rota = db_col_text(st, 1);
    x->author = db_col_text(st, 2);
    x->text = db_col_text(st, 3);
    x->created_at = db_col_int64(st, 4);
  }
  db_reset(st);
  if (rc != DB_DONE) {
    notes_free(notes, count);
    return db_fail(db, rc, "notes_pending");
  }
  *out = notes;
  *n = count;
  return 0;
}

int notes_mark_handed(struct db *db, const char *rota, int64_t handoff_at_ms)
{
  static const char mark[] =
      "INSERT INTO note_handovers (note_id, rota, handed_at)"
      " SELECT id, ?2, ?1 FROM notes WHERE rota IS NULL OR rota = ?2"
      " ON CONFLICT (note_id, rota) DO NOTHING";
  static const char first[] =
      "UPDATE notes SET handed_at = ?1 WHERE handed_at IS NULL AND (rota IS NULL OR rota = ?2)";
  if (!rota)
    return KX_EINVAL;
  struct db_stmt *st = db_stmt(db, mark);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, handoff_at_ms);
  db_bind_text(st, 2, rota);
  int rc = db_step_done(db, st, "notes_mark_handed");
  if (rc)
    return rc;
  /* handed_at keeps the first handover, for the record. */
  st = db_stmt(db, first);
  if (!st)
    return KX_EDB;
  db_bind_int64(st, 1, handoff_at_ms);
  db_bind_text(st, 2, rota);
  return db_step_done(db, st, "notes_mark_handed");
}

void notes_free(struct note *notes, size_t n)
{
  for (size_t i = 0; notes && i < n; i++) {
    free(notes[i].rota);
    free(notes[i].author);
    free(notes[i].text);
  }
  free(notes);
}
