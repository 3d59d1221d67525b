/*
 * schema_sql.h — the SQL texts of the schema's migrations, per engine: SQLite's (storage/schema.c,
 * what db_open runs) and PostgreSQL's (storage/schema_pg.c, the same versions), for
 * `klaxon schema` and the test that compares the two.
 */
#ifndef KX_SCHEMA_SQL_H
#define KX_SCHEMA_SQL_H

enum db_engine { DB_ENGINE_SQLITE, DB_ENGINE_POSTGRES };

/* The texts (NULL-terminated; each holds one or more statements separated by ';') that take
 * the schema from version-1 to version; NULL when there is no such version. */
const char *const *schema_sql(enum db_engine engine, int version);
/* The newest version (the same number for both engines). */
int schema_latest(enum db_engine engine);

#endif
