/* httpd_peers.c — open connections by remote address; see httpd_peers.h. */
#include "bot/net/httpd_peers.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* An address as the caps see it: IPv4 as an IPv4-mapped IPv6 address, so that a dual-stack
 * listener counts one client once. */
struct peer_key {
  unsigned char bytes[16];
};

struct place {
  bool used;
  const void *conn; /* NULL until bound */
  struct peer_key key;
};

struct httpd_peers {
  size_t total, per_client, open;
  struct place *places;
  struct place *admitted; /* the place of the last admission, until it is bound */
};

struct httpd_peers *httpd_peers_new(size_t total, size_t per_client)
{
  if (total < 1 || per_client < 1)
    return NULL;
  struct httpd_peers *p = calloc(1, sizeof(*p));
  if (!p)
    return NULL;
  p->places = calloc(total, sizeof(*p->places));
  if (!p->places) {
    free(p);
    return NULL;
  }
  p->total = total;
  p->per_client = per_client;
  return p;
}

void httpd_peers_free(struct httpd_peers *p)
{
  if (!p)
    return;
  free(p->places);
  free(p);
}

static void key_of(const struct sockaddr *addr, socklen_t len, struct peer_key *k)
{
  memset(k, 0, sizeof(*k));
  if (addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)addr;
    k->bytes[10] = k->bytes[11] = 0xff;
    memcpy(k->bytes + 12, &in->sin_addr, 4);
  } else if (addr && addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)addr;
    memcpy(k->bytes, &in6->sin6_addr, 16);
  }
  /* Anything else keeps the all-zero key: one client. */
}

static void drop(struct httpd_peers *p, struct place *pl)
{
  if (p->admitted == pl)
    p->admitted = NULL;
  memset(pl, 0, sizeof(*pl));
  p->open--;
}

enum httpd_admit httpd_peers_admit(struct httpd_peers *p,
                                   const struct sockaddr *addr,
                                   socklen_t len)
{
  /* The previous admission was never bound: its connection was not set up. */
  if (p->admitted)
    drop(p, p->admitted);
  struct peer_key k;
  key_of(addr, len, &k);
  size_t same = 0;
  struct place *free_place = NULL;
  for (size_t i = 0; i < p->total; i++) {
    struct place *pl = &p->places[i];
    if (!pl->used)
      free_place = free_place ? free_place : pl;
    else if (memcmp(&pl->key, &k, sizeof(k)) == 0)
      same++;
  }
  if (same >= p->per_client)
    return HTTPD_ADMIT_CLIENT_FULL;
  if (!free_place)
    return HTTPD_ADMIT_SERVER_FULL;
  free_place->used = true;
  free_place->conn = NULL;
  free_place->key = k;
  p->admitted = free_place;
  p->open++;
  return HTTPD_ADMIT_OK;
}

bool httpd_peers_bind(struct httpd_peers *p, const void *conn)
{
  if (!p->admitted || !conn)
    return false;
  p->admitted->conn = conn;
  p->admitted = NULL;
  return true;
}

bool httpd_peers_release(struct httpd_peers *p, const void *conn)
{
  if (!conn)
    return false;
  for (size_t i = 0; i < p->total; i++) {
    if (p->places[i].used && p->places[i].conn == conn) {
      drop(p, &p->places[i]);
      return true;
    }
  }
  return false;
}

size_t httpd_peers_open(const struct httpd_peers *p)
{
  return p->open;
}

size_t httpd_peers_total(const struct httpd_peers *p)
{
  return p->total;
}

size_t httpd_peers_per_client(const struct httpd_peers *p)
{
  return p->per_client;
}

const char *httpd_admit_name(enum httpd_admit a)
{
  switch (a) {
    case HTTPD_ADMIT_OK:
      return "ok";
    case HTTPD_ADMIT_CLIENT_FULL:
      return "per_client";
    case HTTPD_ADMIT_SERVER_FULL:
      return "server_full";
  }
  return "unknown";
}

size_t httpd_peers_budget(rlim_t nofile, size_t cap, size_t reserve)
{
  if (nofile == RLIM_INFINITY || nofile >= (rlim_t)(cap + reserve))
    return cap;
  if (nofile <= (rlim_t)reserve + 1)
    return 1;
  return (size_t)(nofile - (rlim_t)reserve);
}
