/*
 * database.h — opening the database a config names, for the bot and every CLI subcommand:
 * SQLite's file (storage.path), or PostgreSQL through the libpq connection string held by the
 * variable storage.url_env (docs/ha.md). The string is read from the environment here and
 * never logged or shown (it may hold a password).
 */
#ifndef KX_DATABASE_H
#define KX_DATABASE_H

#include <stddef.h>

#include "commands/core/config.h"
#include "storage/db.h"

/* NULL on failure, with *err set and `where` naming what could not be opened ("klaxon.db",
 * "the database in KLAXON_DATABASE_URL"), for the caller's message. flags as db_open(). */
struct db *database_open(const struct config *c, int flags, int *err, char *where, size_t size);
/* The SQLite file, or NULL on PostgreSQL (no file to lock, back up or checkpoint). */
const char *database_file(const struct config *c);

#endif
