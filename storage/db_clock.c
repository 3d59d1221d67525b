/*
 * db_clock.c — the database's clock, for leases (storage/leases.h). Every instance must
 * measure a lease against one clock, so it is the database's, not the bot's (which may be a
 * simulated KLAXON_NOW clock) and not each host's. On SQLite the database is a file on this
 * host, and every instance sharing it shares this host's wall clock: CLOCK_REALTIME is the
 * database's clock. The PostgreSQL engine will read clock_timestamp() from the server instead.
 */
#include <time.h>

#include "storage/db_internal.h"

int64_t db_clock_ms(struct db *db)
{
  (void)db;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
