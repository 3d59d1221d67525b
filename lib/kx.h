/*
 * kx.h — the few things every klaxon module shares: the error codes and small helpers.
 *
 * Errors are negative ints generated from one X-macro (KX_ERRNO_MAP), in the spirit of
 * libuv's UV_ERRNO_MAP. 0 is success. kx_strerror() and kx_err_name() never return NULL.
 * Foreign codes (sqlite rc, CURLcode, Slack `ok:false`) are converted once, at the boundary.
 *
 * Each code means one thing. Three that are easy to mix up:
 *   KX_EEXISTS     — storage's explicit, expected answer "that is already there" (a job with this
 *                    key, an action already done, a handoff row already present); the function's
 *                    header says when. Callers test for it.
 *   KX_ECONSTRAINT — SQLite refused a write for a UNIQUE/CHECK/NOT NULL/foreign-key constraint
 *                    that no caller expected (db_fail()): a bug, never a user's mistake.
 *   KX_EDUPLICATE  — the dispatcher saw this delivery's dedup key before: a redelivery, nothing
 *                    was done, nothing new is said.
 * And one that only a sender of the outbox sees:
 *   KX_EFENCED     — a write refused because the caller's lease epoch is no longer the current
 *                    one (storage/leases.h): another instance took over, the caller's result is
 *                    dropped and nothing it did is recorded.
 *
 * lib/ is the leaf of the include graph: it includes nothing else from the project, and
 * bot/, commands/ and storage/ may all include it.
 */
#ifndef KX_H
#define KX_H

#include <stddef.h>
#include <stdint.h>

#define KX_ERRNO_MAP(XX)                               \
  XX(NOMEM, "out of memory")                           \
  XX(INVAL, "invalid argument")                        \
  XX(NOTFOUND, "not found")                            \
  XX(EXISTS, "already exists")                         \
  XX(IO, "input/output error")                         \
  XX(DB, "database error")                             \
  XX(PROTO, "protocol error")                          \
  XX(TOOBIG, "too large")                              \
  XX(AUTH, "not authorised")                           \
  XX(BUSY, "busy")                                     \
  XX(TIMEOUT, "timed out")                             \
  XX(RATELIMITED, "rate limited")                      \
  XX(CONFIG, "configuration error")                    \
  XX(PLATFORM, "the platform refused the call")        \
  XX(RETRY, "temporary failure, retry later")          \
  XX(STATE, "not allowed in the current state")        \
  XX(UNSUPPORTED, "not supported")                     \
  XX(CONSTRAINT, "a database constraint was violated") \
  XX(FENCED, "fenced out by a newer lease")            \
  XX(DUPLICATE, "a repeat of a request already handled")

enum kx_errno {
  KX_OK = 0,
  KX__ERR_FIRST = -1000,
#define XX(name, _) KX_E##name,
  KX_ERRNO_MAP(XX)
#undef XX
};

/* A short sentence for an error code; "unknown error" for anything unknown. */
const char *kx_strerror(int err);
/* The code's name ("NOMEM"); "UNKNOWN" for anything unknown. */
const char *kx_err_name(int err);

#define KX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that aborts on failure is not used: callers handle NULL. These are thin
 * wrappers that keep the "free(NULL) is a no-op" promise explicit. */
char *kx_strdup(const char *s);            /* NULL in, NULL out */
char *kx_strndup(const char *s, size_t n); /* copies at most n bytes, always terminates */
char *kx_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kx_streq(const char *a, const char *b); /* both NULL or equal; NULL-safe */
/* Constant-time comparison of two byte strings; 1 when equal. */
int kx_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
