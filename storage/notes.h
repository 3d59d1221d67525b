/*
 * notes.h — handoff notes: what the outgoing on-call wants the next one to know (an ongoing
 * issue, planned maintenance). `/oncall note TEXT` adds one; the next handoff lists the notes
 * not yet handed over and marks them. A note for every rota (rota NULL) is handed over once in
 * each rota's next handoff (one handover row per rota).
 */
#ifndef KX_NOTES_H
#define KX_NOTES_H

#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

struct note {
  int64_t id;
  char *rota; /* NULL: every rota */
  char *author;
  char *text;
  int64_t created_at;
};

int notes_add(struct db *db,
              const char *rota,
              const char *author,
              const char *text,
              int64_t now_ms,
              int64_t *id_out);
/* Notes not yet handed over in this rota (its own and those for every rota), oldest first. */
int notes_pending(struct db *db, const char *rota, struct note **out, size_t *n);
/* Mark what notes_pending(rota) returns as handed over in this rota (rota not NULL). */
int notes_mark_handed(struct db *db, const char *rota, int64_t handoff_at_ms);
void notes_free(struct note *notes, size_t n);

#endif
