/*
 * cli_schema.c — `klaxon schema [sqlite|postgres]`: the SQL of every schema migration for one
 * engine, on stdout, one statement per line, each version under a `-- version N` comment. For
 * a DBA who creates the tables ahead of time, and for the test that compares the engines'
 * schemas (tests/e2e/test_pg_schema.py).
 */
#include <stdio.h>
#include <string.h>

#include "bot/cli/cli.h"
#include "storage/schema_sql.h"

int cli_schema(int argc, char **argv); /* a row of cli_table.c */

int cli_schema(int argc, char **argv)
{
  const struct cli_cmd *cmd = NULL;
  for (const struct cli_cmd *c = cli_commands; c->name; c++)
    if (strcmp(c->name, "schema") == 0)
      cmd = c;
  struct cli_opts o;
  int rc = cli_parse(cmd, argc, argv, &o);
  if (rc || o.help)
    return rc;
  const char *name = o.argc ? o.argv[0] : "sqlite";
  enum db_engine engine;
  if (o.argc > 1 || (strcmp(name, "sqlite") != 0 && strcmp(name, "postgres") != 0)) {
    fprintf(stderr, "klaxon schema: say sqlite or postgres, not \"%s\"\n",
            o.argc > 1 ? o.argv[1] : name);
    cli_usage(stderr, cmd);
    cli_opts_free(&o);
    return 2;
  }
  engine = strcmp(name, "postgres") == 0 ? DB_ENGINE_POSTGRES : DB_ENGINE_SQLITE;
  printf("-- klaxon schema for %s, versions 1 to %d\n",
         engine == DB_ENGINE_POSTGRES ? "PostgreSQL 15" : "SQLite", schema_latest(engine));
  for (int v = 1; v <= schema_latest(engine); v++) {
    const char *const *texts = schema_sql(engine, v);
    printf("-- version %d\n", v);
    for (; texts && *texts; texts++) {
      /* One statement per line: no text of the schema has a ';' inside a literal. */
      for (const char *p = *texts; *p; p++) {
        putchar(*p);
        if (*p == ';')
          putchar('\n');
      }
    }
  }
  cli_opts_free(&o);
  return fflush(stdout) == 0 ? 0 : 1;
}
