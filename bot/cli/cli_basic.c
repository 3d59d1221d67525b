/*
 * cli_basic.c — `run`, `check-config`, `backup`, `restore`, `demo` and `version`.
 */
#include "bot/cli/cli_basic.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/app.h"
#include "bot/cli/cli.h"
#include "bot/cli/cli_oncall.h"
#include "bot/clock.h"
#include "bot/database.h"
#include "commands/core/command.h"
#include "lib/kx.h"
#include "lib/log.h"

static int apply_log_settings(const struct config *c)
{
  enum log_level level;
  if (c->log_level && log_parse_level(c->log_level, &level) == 0)
    log_set_level(level);
  const char *env = getenv("KLAXON_LOG_LEVEL");
  if (env && *env && log_parse_level(env, &level) == 0)
    log_set_level(level);
  if (c->log_format && strcmp(c->log_format, "json") == 0)
    log_set_format(LOG_FORMAT_JSON);
  return 0;
}

int cli_run(int argc, char **argv)
{
  struct cli_opts o;
  int rc = cli_parse(&cli_commands[0], argc, argv, &o);
  if (rc || o.help)
    return rc;
  if (o.argc) {
    fprintf(stderr, "klaxon run: unexpected argument \"%s\"\n", o.argv[0]);
    cli_opts_free(&o);
    return APP_EXIT_USAGE;
  }
  struct config *c = cli_load_config(&o);
  cli_opts_free(&o);
  if (!c) {
    fprintf(stderr, "klaxon: not starting: the config has problems (see above)\n");
    return APP_EXIT_CONFIG;
  }
  apply_log_settings(c);
  char err[160];
  if (clock_init_from_env(err, sizeof(err)) != 0) {
    fprintf(stderr, "klaxon: %s\n", err);
    config_free(c);
    return APP_EXIT_CONFIG;
  }
  if (cmd_tables_check() != 0) {
    config_free(c);
    return APP_EXIT_RUNTIME;
  }
  int lock_fd = -1;
  /* On PostgreSQL instances share the database by design (docs/ha.md): no lock file. */
  const char *db_path = database_file(c);
  /* Tests only: several instances on one SQLite file (WAL allows it) stand in for several on
   * PostgreSQL (tests/e2e/test_multi_instance.py, test_outbox_lease.py). The lease and the job
   * claims keep them apart there too, but a shared file on one host is a test's stand-in, not
   * a deployment: production runs one instance per SQLite file. */
  const char *shared = getenv("KLAXON_TEST_SHARED_DB");
  if (!db_path) {
    rc = 0;
  } else if (shared && strcmp(shared, "1") == 0) {
    LOG_WARN("cli", "test_shared_db",
             "path=%s note=\"KLAXON_TEST_SHARED_DB=1: the database lock "
             "is not taken; for tests only\"",
             db_path);
    rc = 0;
  } else {
    rc = cli_lock_db(db_path, &lock_fd);
  }
  if (rc) {
    fprintf(stderr, "klaxon: %s\n",
            rc == KX_EBUSY ? "another klaxon is already running on this database"
                           : "cannot create the database's lock file");
    config_free(c);
    return APP_EXIT_STORAGE;
  }
  int code = app_run(c);
  if (lock_fd >= 0)
    close(lock_fd);
  config_free(c);
  return code;
}

int cli_check_config(int argc, char **argv)
{
  struct cli_opts o;
  int rc = cli_parse(&cli_commands[1], argc, argv, &o);
  if (rc || o.help)
    return rc;
  bool online = cli_flag(&o, "--online");
  /* A file given as a plain argument is the config, like `klaxon check-config FILE`. */
  if (!o.config_path && o.argc == 1)
    o.config_path = o.argv[0];
  struct config *c = cli_load_config(&o);
  if (!c) {
    fprintf(stderr, "%s: the config has problems\n", o.config_path ? o.config_path : "config");
    cli_opts_free(&o);
    return 1;
  }
  printf(
      "%s: OK — %zu people, %zu rotas, %zu severities, %zu escalation policies, %zu alert routes\n",
      o.config_path, c->n_people, c->n_rotas, c->n_severities, c->n_policies, c->alerts.n_routes);
  if (c->status_page.n_components || c->n_checks || c->n_heartbeats || c->n_maintenance)
    printf("  status page: %zu components, %zu checks, %zu heartbeats, %zu maintenance windows\n",
           c->status_page.n_components, c->n_checks, c->n_heartbeats, c->n_maintenance);
  /* --online: ask Slack who the people are (issue 4, bot/cli_oncall.c). */
  rc = online ? cli_check_people_online(c) : 0;
  config_free(c);
  cli_opts_free(&o);
  return rc;
}

int cli_backup(int argc, char **argv)
{
  struct cli_opts o;
  int rc = cli_parse(&cli_commands[2], argc, argv, &o);
  if (rc || o.help)
    return rc;
  if (o.argc != 1) {
    cli_usage(stderr, &cli_commands[2]);
    cli_opts_free(&o);
    return 2;
  }
  const char *dest = o.argv[0];
  struct config *c = cli_load_config(&o);
  if (!c) {
    cli_opts_free(&o);
    return 1;
  }
  if (c->storage_postgres) {
    fprintf(stderr,
            "klaxon backup: the database is PostgreSQL: back it up with pg_dump or the "
            "cluster's own backups (docs/ha.md)\n");
    config_free(c);
    cli_opts_free(&o);
    return 1;
  }
  struct db *db = cli_open_db(c, false);
  rc = db ? db_backup(db, dest) : KX_EIO;
  if (db && rc == 0)
    printf("backed up %s to %s\n", db_path(db), dest);
  else if (db)
    fprintf(stderr, "klaxon backup: %s (%s)\n", kx_strerror(rc), dest);
  db_close(db);
  config_free(c);
  cli_opts_free(&o);
  return rc ? 1 : 0;
}

int cli_restore(int argc, char **argv)
{
  struct cli_opts o;
  int rc = cli_parse(&cli_commands[3], argc, argv, &o);
  if (rc || o.help)
    return rc;
  if (o.argc != 1) {
    cli_usage(stderr, &cli_commands[3]);
    cli_opts_free(&o);
    return 2;
  }
  const char *src = o.argv[0];
  struct config *c = cli_load_config(&o);
  if (!c) {
    cli_opts_free(&o);
    return 1;
  }
  const char *db_path_s = database_file(c);
  int lock_fd = -1;
  rc = db_path_s ? cli_lock_db(db_path_s, &lock_fd) : KX_EUNSUPPORTED;
  if (rc == KX_EUNSUPPORTED) {
    fprintf(stderr,
            "klaxon restore: the database is PostgreSQL: restore it with pg_restore "
            "(docs/ha.md)\n");
  } else if (rc) {
    fprintf(stderr, "klaxon restore: %s\n",
            rc == KX_EBUSY ? "klaxon is running on this database; stop it first"
                           : "cannot lock the database");
  } else {
    rc = db_restore(src, db_path_s);
    if (rc == 0)
      printf("restored %s from %s\n", db_path_s, src);
    else
      fprintf(stderr, "klaxon restore: %s\n", kx_strerror(rc));
    close(lock_fd);
  }
  config_free(c);
  cli_opts_free(&o);
  return rc ? 1 : 0;
}

int cli_version(int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      for (const struct cli_cmd *c = cli_commands; c->name; c++)
        if (strcmp(c->name, "version") == 0)
          cli_usage(stdout, c);
      return 0;
    }
  }
  printf("klaxon %s\n", KLAXON_VERSION);
  return 0;
}

int cli_demo(int argc, char **argv)
{
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      for (const struct cli_cmd *c = cli_commands; c->name; c++)
        if (strcmp(c->name, "demo") == 0)
          cli_usage(stdout, c);
      return 0;
    }
  }
  /* The demonstration drives this binary against the Slack simulator in tests/ (Python,
   * Debian's python3-aiohttp): it needs the source tree klaxon was built from. */
  const char *srcdir = getenv("KLAXON_SRCDIR");
  if (!srcdir || !*srcdir)
    srcdir = KLAXON_SRCDIR;
  char *script = kx_asprintf("%s/tests/demo/demo.py", srcdir);
  if (!script || access(script, R_OK) != 0) {
    fprintf(stderr,
            "klaxon demo: %s not found; the demo runs from the source tree klaxon was built in "
            "(set KLAXON_SRCDIR to it)\n",
            script ? script : "tests/demo/demo.py");
    free(script);
    return 1;
  }
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    free(script);
    return 1;
  }
  self[n] = '\0';
  char **args = calloc((size_t)argc + 5, sizeof(char *));
  if (!args) {
    free(script);
    return 1;
  }
  int k = 0;
  args[k++] = "/usr/bin/python3";
  args[k++] = script;
  args[k++] = "--klaxon";
  args[k++] = self;
  for (int i = 1; i < argc; i++)
    args[k++] = argv[i];
  args[k] = NULL;
  execv(args[0], args);
  fprintf(stderr,
          "klaxon demo: cannot run /usr/bin/python3 (apt-get install python3 python3-aiohttp)\n");
  free(args);
  free(script);
  return 1;
}
