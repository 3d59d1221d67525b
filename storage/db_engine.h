/*
 * db_engine.h — for the engines and db.c only: what an engine supplies behind the statement API
 * of db_internal.h and the connection API of db.h. Every connection starts with a pointer to its
 * engine's table (`struct db`), so db.c passes each call to the engine it was opened with; a
 * process can hold connections to both (`klaxon migrate --to postgres`).
 *
 * A statement carries no header: SQLite's `struct db_stmt *` is its sqlite3_stmt itself, so the
 * default engine pays no allocation or indirection per statement. PostgreSQL's statements are
 * tagged with the low bit of their address (never set on an allocated pointer), which is how
 * db.c tells them apart.
 */
#ifndef KX_DB_ENGINE_H
#define KX_DB_ENGINE_H

#include <stdint.h>

#include "storage/db_internal.h"
#include "storage/schema_sql.h"

struct db_ops {
  enum db_engine engine;
  const char *name; /* "sqlite", "postgres": logs and /metrics */
  /* statements */
  struct db_stmt *(*stmt)(struct db *db, const char *sql);
  struct db_stmt *(*prepare)(struct db *db, const char *sql);
  void (*finalize)(struct db_stmt *st);
  int (*bind_text)(struct db_stmt *st, int i, const char *s);
  int (*bind_int64)(struct db_stmt *st, int i, int64_t v);
  int (*bind_double)(struct db_stmt *st, int i, double v);
  int (*bind_null)(struct db_stmt *st, int i);
  int (*step)(struct db_stmt *st);
  void (*reset)(struct db_stmt *st);
  int64_t (*col_int64)(struct db_stmt *st, int i);
  double (*col_double)(struct db_stmt *st, int i);
  bool (*col_is_null)(struct db_stmt *st, int i);
  const char *(*col_text_ref)(struct db_stmt *st, int i);
  enum db_col_type (*col_type)(struct db_stmt *st, int i);
  int (*col_count)(struct db_stmt *st);
  const char *(*col_name)(struct db_stmt *st, int i);
  /* the connection */
  int (*changes)(struct db *db);
  int (*exec)(struct db *db, const char *sql);
  int (*fail)(struct db *db, int err, const char *what);
  int (*begin)(struct db *db);
  int (*commit)(struct db *db);
  int (*rollback)(struct db *db);
  bool (*in_transaction)(struct db *db);
  int (*depth)(struct db *db);
  int (*schema_version)(struct db *db);
  int (*migration_begin)(struct db *db);
  int (*migration_version)(struct db *db, int version);
  int (*check)(struct db *db);
  void (*busy_timeout)(struct db *db, int ms);
  int (*backup)(struct db *db, const char *path);
  int (*set_autocheckpoint)(struct db *db, int pages);
  int (*checkpoint)(struct db *db, bool truncate);
  int64_t (*clock_ms)(struct db *db);
  int (*notify)(struct db *db, const char *channel);
  int (*listen)(struct db *db, const char *channel);
  int (*listen_fd)(struct db *db);
  int (*listen_drain)(struct db *db);
  void (*retry_now)(struct db *db);
  const char *(*path)(struct db *db);
  void (*close)(struct db *db);
};

/* The head of every engine's connection. */
struct db {
  const struct db_ops *ops;
  struct db_hooks hooks; /* db_set_hooks: zero when none */
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

/* Tests only: db_open(":memory:") with KLAXON_TEST_DATABASE_URL set opens this instead, a
 * PostgreSQL database whose schema is dropped and made again, so the unit suites run on both
 * engines unchanged. */
struct db *db_open_pg_test(const char *conninfo, int *err);

/* SQLite's placeholders as PostgreSQL's (db_pg_text.c): `?NNN` is $NNN and a bare `?` one more
 * than the largest number so far, outside quoted strings, quoted identifiers and comments.
 * *nparams is the largest number. NULL when out of memory; the caller frees. */
char *db_pg_placeholders(const char *sql, int *nparams);

/* PostgreSQL statements are tagged pointers (see above). */
#define DB_STMT_PG_TAG ((uintptr_t)1)

/* The migrations of each engine, the same version numbers (schema.c, schema_pg.c). */
extern const struct db_migration db_pg_migrations[];
extern const int db_pg_n_migrations;

#endif
