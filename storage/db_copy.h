/*
 * db_copy.h — copying a whole klaxon database from SQLite into an empty PostgreSQL database
 * (`klaxon migrate --to postgres`, docs/ha.md "Moving from SQLite"). It knows no table: the
 * tables, their columns and their foreign keys are read from the SQLite file, every value is
 * bound by its own kind, and the copy is one PostgreSQL transaction, so it lands whole or not
 * at all.
 *
 * Both connections stay the caller's. The source must be a SQLite connection at the schema
 * version the destination was migrated to (db_open read-only, db_open_pg): the caller checks
 * the versions, db_copy only checks that every table and column is there on both sides.
 */
#ifndef KX_DB_COPY_H
#define KX_DB_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

struct db_copy_table {
  char *name;
  int64_t rows; /* rows copied; counted again on both sides before the commit */
};

struct db_copy {
  struct db_copy_table *tables; /* in copy order: parents before children */
  size_t n;
  int64_t rows;  /* all tables together */
  int sequences; /* identity sequences set past the largest copied id */
  char why[400]; /* after a failure: a sentence for the operator (no connection string) */
  size_t cap;    /* db_copy.c's: the capacity of tables */
};

/* The source's tables in an order that satisfies its foreign keys (a table after every table
 * it references), SQLite's own tables (sqlite_*) left out; rows are 0. 0, or KX_EUNSUPPORTED
 * when src is not SQLite, KX_EDB for a foreign-key cycle (why says which tables), or the
 * error of a query (logged). out is freed with db_copy_free() in every case. */
int db_copy_tables(struct db *src, struct db_copy *out);

/* Copy every row of every table of src (SQLite) into dst (PostgreSQL), in one transaction on
 * dst that also sets each identity column's sequence past the largest copied value and
 * compares every table's row count on both sides before it commits. 0, or:
 *   KX_EEXISTS      dst already holds rows in one of its tables (nothing was written; why
 *                   names the tables): a copy goes only into an empty database, so a second
 *                   run cannot duplicate anything;
 *   KX_EUNSUPPORTED src is not SQLite or dst is not PostgreSQL, or a value is a BLOB;
 *   KX_EBUSY        another session holds dst's tables (a klaxon running on it, another copy);
 *   KX_ECONSTRAINT, KX_EDB, KX_EIO …  a statement failed (logged with the engine's message);
 * with out->why a sentence saying what and where. out is freed with db_copy_free(). */
int db_copy_run(struct db *src, struct db *dst, struct db_copy *out);
void db_copy_free(struct db_copy *c); /* NULL-safe; leaves *c empty */

#endif
