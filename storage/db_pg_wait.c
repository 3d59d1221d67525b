/*
 * db_pg_wait.c — the PostgreSQL engine waiting for the server: every call bounded, and, with a
 * runner's hooks (db_set_hooks, bot/dbtask.c), the caller's turn given up for the wait so the
 * loop runs on (docs/ha.md, "The loop never waits for the database").
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>

#include "lib/kx.h"
#include "lib/log.h"
#include "storage/db_engine.h"
#include "storage/db_pg_internal.h"

static int64_t mono_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t pg_mono_ms(void)
{
  return mono_us() / 1000;
}

/* One call's wait and the caller's turn (db_set_hooks): the caller may keep its turn through
 * the first `hold` microseconds of waiting (a local server answers in about 100 µs; handing
 * the turn over and back costs four thread wake-ups), then gives it up until the answer. */
struct turn {
  const char *what;
  int64_t hold_until_us; /* 0: give it up at the first wait */
  int asked;             /* pg_hand_over was called */
  int handed;            /* … and the turn was given up */
};

/* poll() for the connection's socket until `deadline`, a signal (EINTR) not counting as the
 * end: 1 ready, 0 the time is up or the socket failed. */
static int wait_socket(struct pg_db *db, short events, int64_t deadline, struct turn *turn)
{
  if (!turn->handed && turn->hold_until_us) {
    int64_t left_us = turn->hold_until_us - mono_us();
    struct pollfd p = {.fd = PQsocket(db->conn), .events = events};
    if (left_us > 0) {
      struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)left_us * 1000};
      if (ppoll(&p, 1, &ts, NULL) > 0)
        return 1;
    }
    turn->hold_until_us = 0;
  }
  if (!turn->asked) { /* once per call (on the loop's thread: one counted wait, not one a poll) */
    turn->asked = 1;
    turn->handed = pg_hand_over(db, turn->what);
  }
  for (;;) {
    int64_t left = deadline - pg_mono_ms();
    if (left <= 0)
      return 0;
    struct pollfd p = {.fd = PQsocket(db->conn), .events = events};
    int n = poll(&p, 1, (int)left);
    if (n > 0)
      return 1;
    if (n == 0 || errno != EINTR)
      return 0;
  }
}

/* After a PQsend*(): the call's last result (the first error, if any), or NULL when the server
 * did not answer within the call's limit or the connection broke (then it is closed). */
static PGresult *await_result(struct pg_db *db, struct turn *turn)
{
  int64_t deadline = pg_mono_ms() + db->call_timeout_ms;
  while (PQflush(db->conn) == 1) {
    if (!wait_socket(db, POLLIN | POLLOUT, deadline, turn))
      goto timeout;
    if (!PQconsumeInput(db->conn))
      goto broken;
  }
  PGresult *last = NULL;
  for (;;) {
    while (PQisBusy(db->conn)) {
      if (!wait_socket(db, POLLIN, deadline, turn)) {
        PQclear(last);
        goto timeout;
      }
      if (!PQconsumeInput(db->conn)) {
        PQclear(last);
        goto broken;
      }
    }
    PGresult *r = PQgetResult(db->conn);
    if (!r)
      return last;
    ExecStatusType st = PQresultStatus(r);
    bool failed = st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE;
    if (last && PQresultStatus(last) == PGRES_FATAL_ERROR && !failed) {
      PQclear(r); /* keep the first error of a multi-statement text */
    } else {
      PQclear(last);
      last = r;
    }
  }
timeout:
  snprintf(db->msg, sizeof(db->msg), "the server did not answer within %d ms", db->call_timeout_ms);
  db->state[0] = '\0';
  LOG_ERROR("db", "pg_timeout", "db=%s ms=%d note=\"connection dropped\"", db->label,
            db->call_timeout_ms);
  PQfinish(db->conn);
  db->conn = NULL;
  __atomic_store_n(&db->pause_until_ms, pg_mono_ms() + RECONNECT_PAUSE_MS, __ATOMIC_RELAXED);
  return NULL;
broken:
  note_failure(db, NULL);
  return NULL;
}

/* A runner's hooks (db_set_hooks): the caller's turn is given up for the wait, so the loop runs
 * on while a task waits for the server; only this connection is touched meanwhile. */
int pg_hand_over(struct pg_db *db, const char *what)
{
  return db->base.hooks.release ? db->base.hooks.release(db->base.hooks.arg, what) : 0;
}

void pg_take_back(struct pg_db *db, int handed)
{
  if (handed)
    db->base.hooks.acquire(db->base.hooks.arg);
}

PGresult *pg_wait_result(struct pg_db *db, int sent, const char *what)
{
  if (!sent) {
    note_failure(db, NULL);
    return NULL;
  }
  struct turn turn = {.what = what};
  int hold = db->base.hooks.hold_us ? db->base.hooks.hold_us(db->base.hooks.arg) : 0;
  if (hold > 0)
    turn.hold_until_us = mono_us() + hold;
  PGresult *r = await_result(db, &turn);
  pg_take_back(db, turn.handed);
  return r;
}

PGresult *pg_call(struct pg_db *db, const char *sql)
{
  return pg_wait_result(db, PQsendQuery(db->conn, sql), sql);
}
