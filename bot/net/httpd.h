/*
 * httpd.h — the bot's HTTP server (libwebsockets, on the same libuv loop): a route table of
 * (method, path) → handler, request bodies capped per route (413 beyond), and responses built
 * in a struct httpd_response. Used for the alert webhooks, Teams, /healthz, /metrics, the
 * calendar and the postmortem.
 *
 * A handler fills the response and returns HTTPD_DONE, or keeps the request open with
 * HTTPD_LATER and answers later with httpd_finish(token, …) — e.g. after fetching keys. The
 * request's strings live until the handler returns (copy what a later answer needs).
 */
#ifndef KX_HTTPD_H
#define KX_HTTPD_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define HTTPD_DEFAULT_MAX_BODY ((size_t)1024 * 1024)
#define HTTPD_RESPONSE_MAX ((size_t)8 * 1024 * 1024)
#define HTTPD_HEADER_MAX 16384
/* Connections whose headers are being read at once (the server has its own lws context). */
#define HTTPD_HEADER_POOL 512
/* Seconds a connection may take over its headers (and other network round trips) before lws
 * drops it: slow clients are cut off. */
#define HTTPD_HEADER_DEADLINE_S 10
/* Sockets lws keeps open at most; deploy/klaxon.service sets LimitNOFILE above it. */
#define HTTPD_FD_LIMIT 2048
/* Connections the server holds at once, in all: below HTTPD_FD_LIMIT, so the listener and
 * lws's own sockets keep room, and lowered at start when RLIMIT_NOFILE leaves fewer than
 * HTTPD_FD_RESERVE descriptors for the rest of the process (the database, the HTTP client, the
 * Slack client's lws context).
 * A connection beyond it, or beyond the per-client cap, is answered 503 with
 * `Connection: close` as soon as it is accepted and closed: accept() never fails with EMFILE
 * (which lws retried in a busy loop, logging each time). */
#define HTTPD_CONN_MAX (HTTPD_FD_LIMIT - 128)
#define HTTPD_FD_RESERVE 128
/* Connections one remote address may hold at once, by default (http.max_connections_per_client
 * in the config, at most HTTPD_CONN_MAX). */
#define HTTPD_PER_CLIENT_MAX 64
/* Requests waiting for the database thread at most (bot/dbtask.h); beyond it 503 with
 * Retry-After: 1, so a server that stalls cannot grow the queue without bound. */
#define HTTPD_DEFERRED_MAX 512

struct httpd_request {
  const char *method; /* "GET", "POST", "PUT", "DELETE" */
  const char *path;   /* without the query */
  const char *query;  /* "a=1&b=2" (decoded by lws), "" when none */
  const char *authorization;
  const char *content_type;
  const char *signature;     /* X-Twilio-Signature, NULL when absent */
  const char *hub_signature; /* X-Hub-Signature-256 or X-Hub-Signature (issue 14), or NULL */
  const char *event_name;    /* X-GitHub-Event (issue 14), or NULL */
  const char *body;          /* NUL-terminated */
  size_t body_len;
  const char *peer; /* remote address */
  uint64_t received_us;
};

struct httpd_response {
  int status;
  char content_type[96];
  struct buf body;
  char extra_headers[512]; /* "Name: value\r\n" lines, e.g. WWW-Authenticate */
};

enum httpd_result { HTTPD_DONE = 0, HTTPD_LATER = 1 };

struct httpd_pending; /* a request answered later */

typedef int (*httpd_handler)(void *arg,
                             const struct httpd_request *req,
                             struct httpd_response *resp,
                             struct httpd_pending *later);

struct httpd_route {
  const char *method; /* NULL: any */
  const char *path;   /* exact, or a prefix when it ends with '/' or '*' */
  size_t max_body;    /* 0: HTTPD_DEFAULT_MAX_BODY */
  httpd_handler fn;
  void *arg;
  /* Optional: checked on the headers alone (method, path, query, Authorization, peer), before
   * any body is read; false answers 401 and the body is never read, so an unauthenticated
   * client cannot make the server hold or parse a body. */
  bool (*allow)(void *arg, const struct httpd_request *req);
  int deny_status; /* what a refusal by allow() answers; 0: 401 */
  /* Optional: true when this request is answered without the database (a liveness probe), so
   * it is handled on the loop at once and never waits behind a database task (dbtask.h).
   * Otherwise the handler runs as a task; on SQLite that is here and now. */
  bool (*on_loop)(void *arg, const struct httpd_request *req);
};

struct httpd;

extern const struct lws_protocols httpd_protocol;

/* Create the server's vhost on "host:port"; NULL (with the reason logged) when it cannot
 * listen there. */
struct httpd *httpd_new(struct lws_context *lws, const char *listen);
void httpd_free(struct httpd *h);
/* Connections one remote address may hold at once (default HTTPD_PER_CLIENT_MAX); 0 or a value
 * over the total cap means the total cap. Call before the first connection. KX_ENOMEM when the
 * table cannot be made (the old one stays). */
int httpd_set_per_client_max(struct httpd *h, size_t max);
size_t httpd_connections(const struct httpd *h); /* open now (for tests and metrics) */
int httpd_port(const struct httpd *h); /* the port listened on (for "127.0.0.1:0" in tests) */
/* Raise the process's soft RLIMIT_NOFILE towards HTTPD_FD_LIMIT + HTTPD_FD_RESERVE, as far as
 * the hard limit allows; call before lws_create_context, which sizes its tables from it. */
void httpd_raise_fd_limit(void);
int httpd_route(struct httpd *h, const struct httpd_route *route);

/* Helpers for handlers. */
void httpd_json(struct httpd_response *resp, int status, const char *json);
void httpd_text(struct httpd_response *resp,
                int status,
                const char *content_type,
                const char *text);
void httpd_error(struct httpd_response *resp, int status, const char *message);
int httpd_add_header(struct httpd_response *resp, const char *name, const char *value);

/* Answer a request left open with HTTPD_LATER. Takes the response's body. If the client went
 * away meanwhile, the answer is dropped. Each pending request is finished exactly once. */
void httpd_finish(struct httpd_pending *later, struct httpd_response *resp);
/* The response to fill for a pending request (initialised, status 500). */
struct httpd_response *httpd_pending_response(struct httpd_pending *later);

#endif
