/*
 * database.c — see database.h.
 */
#include "bot/database.h"

#include <stdio.h>
#include <stdlib.h>

#include "lib/kx.h"
#include "lib/log.h"

const char *database_file(const struct config *c)
{
  if (c->storage_postgres)
    return NULL;
  return c->storage_path ? c->storage_path : "klaxon.db";
}

struct db *database_open(const struct config *c, int flags, int *err, char *where, size_t size)
{
  if (!c->storage_postgres) {
    const char *path = database_file(c);
    snprintf(where, size, "%s", path);
    return db_open(path, flags, err);
  }
  const char *var = c->storage_url_env ? c->storage_url_env : "KLAXON_DATABASE_URL";
  const char *url = getenv(var);
  if (!url || !*url) {
    snprintf(where, size, "PostgreSQL: %s is not set", var);
    LOG_ERROR("db", "no_database_url", "var=%s", var);
    *err = KX_ECONFIG;
    return NULL;
  }
  snprintf(where, size, "the PostgreSQL database in %s", var);
  return db_open_pg(url, flags, err);
}
