/*
 * cli_migrate.c — `klaxon migrate --to postgres [--config FILE] [--from FILE] [--url-env VAR]`:
 * copy a SQLite database into an empty PostgreSQL database (docs/ha.md, "Moving from SQLite").
 *
 * Where things come from:
 * - the SQLite file: --from FILE, else the config's storage.path (engine: sqlite). A config
 *   that already says engine: postgres has no SQLite file, so --from is needed then.
 * - the PostgreSQL database: the libpq string in the variable --url-env names, else the
 *   config's storage.url_env (engine: postgres), else KLAXON_DATABASE_URL. The string is never
 *   printed or logged (it may hold a password).
 * The file is opened read-only, under the lock `klaxon run` takes, so no bot writes to it during
 * the copy; the copy itself is storage/db_copy.c. Exit 0 copied, 1 refused or failed, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/cli/cli.h"
#include "bot/database.h"
#include "lib/kx.h"
#include "storage/db_copy.h"

#define DEFAULT_URL_ENV "KLAXON_DATABASE_URL"

static const struct cli_cmd *migrate_cmd(void)
{
  for (const struct cli_cmd *c = cli_commands; c->name; c++)
    if (strcmp(c->name, "migrate") == 0)
      return c;
  return NULL;
}

/* What the options and the config say; a sentence and 1 or 2 when they do not add up. */
struct plan {
  const char *from;    /* the SQLite file */
  const char *url_env; /* the variable holding the libpq string */
  const char *url;     /* its value: never printed */
};

static int plan_from_options(struct cli_opts *o, struct config **c, struct plan *p)
{
  const struct cli_cmd *cmd = migrate_cmd();
  const char *to = cli_option(o, "--to");
  p->from = cli_option(o, "--from");
  p->url_env = cli_option(o, "--url-env");
  if (!to || o->argc) {
    if (o->argc)
      fprintf(stderr, "klaxon migrate: unexpected argument \"%s\"\n", o->argv[0]);
    else
      fprintf(stderr, "klaxon migrate: say where to: --to postgres\n");
    cli_usage(stderr, cmd);
    return 2;
  }
  if (strcmp(to, "postgres") != 0) {
    fprintf(stderr,
            "klaxon migrate: --to %s: klaxon migrates from SQLite to PostgreSQL only "
            "(--to postgres)\n",
            to);
    return 2;
  }
  if (!o->config_path && !p->from) {
    fprintf(stderr,
            "klaxon migrate: which SQLite file? Give --config FILE (its storage.path) or "
            "--from FILE\n");
    cli_usage(stderr, cmd);
    return 2;
  }
  if (o->config_path && !(*c = cli_load_config(o))) {
    fprintf(stderr, "klaxon migrate: the config has problems (see above)\n");
    return 1;
  }
  if (!p->from && (*c)->storage_postgres) {
    fprintf(stderr,
            "klaxon migrate: %s already says storage.engine: postgres, so it names no SQLite "
            "file: give the file to copy with --from FILE\n",
            o->config_path);
    return 2;
  }
  if (!p->from)
    p->from = database_file(*c);
  if (!p->url_env)
    p->url_env = *c && (*c)->storage_postgres && (*c)->storage_url_env ? (*c)->storage_url_env
                                                                       : DEFAULT_URL_ENV;
  p->url = getenv(p->url_env);
  if (!p->url || !*p->url) {
    fprintf(stderr,
            "klaxon migrate: %s is not set: put the PostgreSQL connection string in it "
            "(libpq: postgresql://USER@HOST/DB or \"host=… dbname=… user=…\"), or name another "
            "variable with --url-env VAR\n",
            p->url_env);
    return 1;
  }
  return 0;
}

/* The SQLite file, read-only, at the schema this klaxon writes; NULL with a sentence. */
static struct db *open_source(const char *path)
{
  int err = 0;
  struct db *db = db_open(path, DB_OPEN_READONLY | DB_OPEN_NO_CREATE | DB_OPEN_ANY_VERSION, &err);
  if (!db) {
    fprintf(stderr, "klaxon migrate: cannot open %s as a SQLite database (%s)\n", path,
            kx_strerror(err));
    return NULL;
  }
  int v = db_schema_version(db);
  int latest = db_schema_latest();
  if (v < 0) {
    fprintf(stderr, "klaxon migrate: %s is not a SQLite database klaxon can read (%s)\n", path,
            kx_strerror(v));
  } else if (v < latest) {
    fprintf(stderr,
            "klaxon migrate: %s is at schema version %d and this klaxon writes version %d: start "
            "this klaxon on it once (`klaxon run`, then stop it), which brings it up to date, "
            "then migrate\n",
            path, v, latest);
  } else if (v > latest) {
    fprintf(stderr,
            "klaxon migrate: %s is at schema version %d, newer than this klaxon knows (%d): "
            "migrate with the klaxon that last ran on it\n",
            path, v, latest);
  } else {
    return db;
  }
  db_close(db);
  return NULL;
}

static int report(const struct plan *p, const struct db_copy *copy)
{
  size_t width = 5;
  for (size_t i = 0; i < copy->n; i++)
    if (strlen(copy->tables[i].name) > width)
      width = strlen(copy->tables[i].name);
  printf("%-*s  rows\n", (int)width, "table");
  for (size_t i = 0; i < copy->n; i++)
    printf("%-*s  %lld\n", (int)width, copy->tables[i].name, (long long)copy->tables[i].rows);
  printf(
      "copied %lld rows in %zu tables from %s to the PostgreSQL database in %s "
      "(row counts checked; %d identity sequences set past the copied ids)\n",
      (long long)copy->rows, copy->n, p->from, p->url_env, copy->sequences);
  printf(
      "next: set storage: {engine: postgres, url_env: %s} in the config and start klaxon; "
      "keep %s as it is until you are sure\n",
      p->url_env, p->from);
  return fflush(stdout) == 0 ? 0 : 1;
}

/* Lock, open both sides, copy: the exit code. */
static int migrate(const struct plan *p)
{
  /* Before the lock, which would leave a .lock file beside a path that holds nothing. */
  if (access(p->from, R_OK) != 0) {
    fprintf(stderr, "klaxon migrate: there is no readable SQLite database at %s\n", p->from);
    return 1;
  }
  int lock_fd = -1;
  int rc = cli_lock_db(p->from, &lock_fd);
  if (rc) {
    fprintf(stderr, "klaxon migrate: %s\n",
            rc == KX_EBUSY ? "klaxon is running on this SQLite file: stop it first, so that "
                             "nothing it writes is left behind"
                           : "cannot lock the SQLite file (its .lock file cannot be created)");
    return 1;
  }
  struct db *src = open_source(p->from);
  struct db *dst = NULL;
  int err = 0;
  if (src && !(dst = db_open_pg(p->url, 0, &err)))
    fprintf(stderr,
            "klaxon migrate: cannot open the PostgreSQL database in %s (%s; the log line above "
            "says why)\n",
            p->url_env, kx_strerror(err));
  int code = 1;
  if (dst) {
    struct db_copy copy;
    rc = db_copy_run(src, dst, &copy);
    if (rc)
      fprintf(stderr, "klaxon migrate: %s\n", copy.why[0] ? copy.why : kx_strerror(rc));
    else
      code = report(p, &copy);
    db_copy_free(&copy);
  }
  db_close(dst);
  db_close(src);
  close(lock_fd);
  return code;
}

int cli_migrate(int argc, char **argv)
{
  struct cli_opts o;
  int rc = cli_parse(migrate_cmd(), argc, argv, &o);
  if (rc || o.help)
    return rc;
  struct config *c = NULL;
  struct plan p = {0};
  rc = plan_from_options(&o, &c, &p);
  if (rc == 0)
    rc = migrate(&p);
  config_free(c);
  cli_opts_free(&o);
  return rc;
}
