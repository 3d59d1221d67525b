/*
 * httpd_peers.h — the HTTP server's open connections by remote address, for its two caps: a
 * connection beyond the per-client cap (one address holding too many) or the total cap (the
 * server's file descriptors) is refused as soon as it is accepted. Pure bookkeeping: no
 * sockets, no lws; bot/net/httpd.c calls it from the accept filter and the connection's end.
 *
 * A connection is admitted by address (httpd_peers_admit) before it has a handle; the next
 * httpd_peers_bind names its handle (any pointer, e.g. the struct lws), and httpd_peers_release
 * with that handle frees its place. An admission that is never bound (the server failed to set
 * the connection up) is dropped by the next admit, so no place is lost. The table is a fixed
 * array of `total` places, allocated once; lookups scan it (at most HTTPD_FD_LIMIT places, a
 * few microseconds per accept).
 */
#ifndef KX_HTTPD_PEERS_H
#define KX_HTTPD_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/socket.h>

enum httpd_admit {
  HTTPD_ADMIT_OK = 0,
  HTTPD_ADMIT_CLIENT_FULL, /* this address already holds per_client connections */
  HTTPD_ADMIT_SERVER_FULL, /* the server already holds total connections */
};

struct httpd_peers;

/* NULL when out of memory. total and per_client are at least 1. Free with httpd_peers_free
 * (NULL is a no-op). */
struct httpd_peers *httpd_peers_new(size_t total, size_t per_client);
void httpd_peers_free(struct httpd_peers *p);

/* Whether a connection from addr may be held; on HTTPD_ADMIT_OK it holds a place until
 * released. IPv4-mapped IPv6 addresses count as their IPv4 address; an address family other
 * than IPv4 and IPv6 (a Unix socket) counts as one client. */
enum httpd_admit httpd_peers_admit(struct httpd_peers *p,
                                   const struct sockaddr *addr,
                                   socklen_t len);
/* Names the handle of the connection admitted last; false when there is none to bind. */
bool httpd_peers_bind(struct httpd_peers *p, const void *conn);
/* Frees the place of the connection with this handle; false when it has none. */
bool httpd_peers_release(struct httpd_peers *p, const void *conn);

size_t httpd_peers_open(const struct httpd_peers *p); /* places held, bound or not */
size_t httpd_peers_total(const struct httpd_peers *p);
size_t httpd_peers_per_client(const struct httpd_peers *p);
const char *httpd_admit_name(enum httpd_admit a); /* "ok", "per_client", "server_full" */

/* How many connections the server may hold with a process limit of nofile descriptors:
 * `cap`, or fewer when the limit leaves less than `reserve` descriptors for everything else
 * (the database, the HTTP client, the Slack socket); at least 1. */
size_t httpd_peers_budget(rlim_t nofile, size_t cap, size_t reserve);

#endif
