#include "bot/cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "bot/clock.h"
#include "bot/config/config_load.h"
#include "bot/database.h"
#include "lib/kx.h"
#include "lib/log.h"

void cli_usage(FILE *f, const struct cli_cmd *cmd)
{
  fprintf(f, "usage: klaxon %s\n  %s\n", cmd->usage, cmd->help);
  fprintf(f, "  --config FILE   the config (default: $KLAXON_CONFIG)\n");
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_opts *o)
{
  memset(o, 0, sizeof(*o));
  o->config_path = getenv("KLAXON_CONFIG");
  if (o->config_path && !*o->config_path)
    o->config_path = NULL;
  o->argv = calloc((size_t)argc + 1, sizeof(char *));
  if (!o->argv)
    return 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "klaxon %s: --config needs a file\n", cmd->name);
        cli_opts_free(o);
        return 2;
      }
      o->config_path = argv[++i];
    } else if (strncmp(argv[i], "--config=", 9) == 0) {
      o->config_path = argv[i] + 9;
    } else if (strcmp(argv[i], "--json") == 0) {
      o->json = true;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      o->help = true;
    } else {
      o->argv[o->argc++] = argv[i];
    }
  }
  if (o->help) {
    cli_usage(stdout, cmd);
    cli_opts_free(o);
    o->help = true;
    return 0;
  }
  return 0;
}

void cli_opts_free(struct cli_opts *o)
{
  free(o->argv);
  o->argv = NULL;
  o->argc = 0;
}

const char *cli_option(struct cli_opts *o, const char *name)
{
  size_t nl = strlen(name);
  for (int i = 0; i < o->argc; i++) {
    const char *a = o->argv[i];
    const char *value = NULL;
    int used = 0;
    if (strcmp(a, name) == 0 && i + 1 < o->argc) {
      value = o->argv[i + 1];
      used = 2;
    } else if (strncmp(a, name, nl) == 0 && a[nl] == '=') {
      value = a + nl + 1;
      used = 1;
    }
    if (used) {
      memmove(&o->argv[i], &o->argv[i + used], (size_t)(o->argc - i - used) * sizeof(char *));
      o->argc -= used;
      return value;
    }
  }
  return NULL;
}

bool cli_flag(struct cli_opts *o, const char *name)
{
  for (int i = 0; i < o->argc; i++) {
    if (strcmp(o->argv[i], name) == 0) {
      memmove(&o->argv[i], &o->argv[i + 1], (size_t)(o->argc - i - 1) * sizeof(char *));
      o->argc--;
      return true;
    }
  }
  return false;
}

struct config *cli_load_config(const struct cli_opts *o)
{
  if (!o->config_path) {
    fprintf(stderr, "klaxon: no config: give --config FILE or set KLAXON_CONFIG\n");
    return NULL;
  }
  struct config_problems problems;
  struct config *c = config_load_file(o->config_path, &problems);
  for (size_t i = 0; i < problems.n; i++) {
    if (problems.items[i].line > 0)
      fprintf(stderr, "%s:%d: %s\n", o->config_path, problems.items[i].line,
              problems.items[i].message);
    else
      fprintf(stderr, "%s: %s\n", o->config_path, problems.items[i].message);
  }
  config_problems_free(&problems);
  return c;
}

struct db *cli_open_db(const struct config *c, bool write)
{
  int err = 0;
  char where[200];
  struct db *db = database_open(c, write ? 0 : (DB_OPEN_READONLY | DB_OPEN_NO_CREATE), &err, where,
                                sizeof(where));
  if (!db)
    fprintf(stderr, "klaxon: cannot open the database %s (%s)\n", where, kx_strerror(err));
  return db;
}

int cli_lock_db(const char *db_path, int *fd_out)
{
  char *path = kx_asprintf("%s.lock", db_path);
  if (!path)
    return KX_ENOMEM;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  free(path);
  if (fd < 0)
    return KX_EIO;
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int busy = errno == EWOULDBLOCK;
    close(fd);
    return busy ? KX_EBUSY : KX_EIO;
  }
  *fd_out = fd;
  return 0;
}

long long cli_now_ms(void)
{
  char err[160];
  if (clock_init_from_env(err, sizeof(err)) != 0) {
    fprintf(stderr, "klaxon: %s\n", err);
    return clock_wall_ms();
  }
  return clock_now_ms();
}
