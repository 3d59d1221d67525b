#include "bot/net/httpd.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "bot/clock.h"
#include "bot/dbtask.h"
#include "bot/net/httpd_peers.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"

#define MAX_ROUTES 64
#define WRITE_CHUNK 16384

struct httpd {
  struct lws_context *lws;
  struct lws_vhost *vhost;
  struct httpd_route routes[MAX_ROUTES];
  size_t n_routes;
  int port;
  struct httpd_peers *peers; /* open connections by remote address: the connection caps */
  size_t conn_max;           /* HTTPD_CONN_MAX, or fewer under a low RLIMIT_NOFILE */
  size_t deferred;           /* requests queued as database tasks and not begun */
};

struct httpd_pending {
  struct lws *wsi; /* NULL once the client is gone */
  struct httpd_response resp;
  bool finished;
  bool responding;
  size_t sent;
  struct httpd_session *pss;
};

/* Per connection, allocated by lws (per_session_data_size). */
struct httpd_session {
  struct httpd *server;
  char method[8];
  char path[512];
  char query[1024];
  char authorization[HTTPD_HEADER_MAX];
  char content_type[128];
  char signature[64];     /* X-Twilio-Signature (issue 11) */
  char hub_signature[96]; /* X-Hub-Signature-256, else X-Hub-Signature (issue 14) */
  char event_name[64];    /* X-GitHub-Event (issue 14) */
  char peer[64];
  const struct httpd_route *route;
  struct buf body;
  bool too_big;
  bool dispatched; /* one request, one dispatch: body callbacks after it are ignored */
  bool refuse;     /* answered before the body (no length, or a body on GET/DELETE) */
  uint64_t received_us;
  struct httpd_pending *pending;
};

static struct httpd_response *response_init(struct httpd_response *r)
{
  memset(r, 0, sizeof(*r));
  r->status = 500;
  snprintf(r->content_type, sizeof(r->content_type), "text/plain; charset=utf-8");
  buf_init(&r->body, HTTPD_RESPONSE_MAX);
  return r;
}

void httpd_text(struct httpd_response *resp, int status, const char *content_type, const char *text)
{
  resp->status = status;
  snprintf(resp->content_type, sizeof(resp->content_type), "%s", content_type);
  buf_reset(&resp->body);
  if (text)
    buf_puts(&resp->body, text);
}

void httpd_json(struct httpd_response *resp, int status, const char *json)
{
  httpd_text(resp, status, "application/json", json);
}

void httpd_error(struct httpd_response *resp, int status, const char *message)
{
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "error", message);
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  httpd_json(resp, status, text ? text : "{}");
  free(text);
}

int httpd_add_header(struct httpd_response *resp, const char *name, const char *value)
{
  size_t used = strlen(resp->extra_headers);
  int n = snprintf(resp->extra_headers + used, sizeof(resp->extra_headers) - used, "%s: %s\r\n",
                   name, value);
  if (n < 0 || (size_t)n >= sizeof(resp->extra_headers) - used) {
    resp->extra_headers[used] = '\0';
    return KX_ETOOBIG;
  }
  return 0;
}

struct httpd *httpd_new(struct lws_context *lws, const char *listen)
{
  char host[256];
  int port = 0;
  const char *colon = strrchr(listen, ':');
  if (!colon || colon == listen) {
    LOG_ERROR("http", "bad_listen", "listen=%s", listen);
    return NULL;
  }
  char *end;
  long p = strtol(colon + 1, &end, 10);
  if (*end || p < 0 || p > 65535) {
    LOG_ERROR("http", "bad_listen", "listen=%s", listen);
    return NULL;
  }
  port = (int)p;
  size_t hl = (size_t)(colon - listen);
  if (hl >= sizeof(host))
    return NULL;
  memcpy(host, listen, hl);
  host[hl] = '\0';
  if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
    memmove(host, host + 1, hl - 2);
    host[hl - 2] = '\0';
  }
  struct httpd *h = calloc(1, sizeof(*h));
  if (!h)
    return NULL;
  struct rlimit rl = {.rlim_cur = RLIM_INFINITY};
  (void)getrlimit(RLIMIT_NOFILE, &rl);
  h->conn_max = httpd_peers_budget(rl.rlim_cur, HTTPD_CONN_MAX, HTTPD_FD_RESERVE);
  h->peers = httpd_peers_new(h->conn_max, HTTPD_PER_CLIENT_MAX);
  if (!h->peers) {
    free(h);
    return NULL;
  }
  h->lws = lws;
  /* lws keeps a pointer to the protocol list for the vhost's lifetime. */
  static struct lws_protocols protocols[2];
  protocols[0] = httpd_protocol;
  memset(&protocols[1], 0, sizeof(protocols[1]));
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.vhost_name = "klaxon-http";
  info.port = port;
  info.iface = (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0') ? NULL : host;
  info.protocols = protocols;
  info.user = h;
  info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
  if (strchr(host, ':'))
    info.options = 0;
  info.keepalive_timeout = 30;
  info.timeout_secs = HTTPD_HEADER_DEADLINE_S;
  h->vhost = lws_create_vhost(lws, &info);
  if (!h->vhost) {
    LOG_ERROR("http", "cannot_listen", "listen=%s", listen);
    httpd_peers_free(h->peers);
    free(h);
    return NULL;
  }
  h->port = lws_get_vhost_listen_port(h->vhost);
  LOG_INFO("http", "listening", "host=%s port=%d max_connections=%zu", host, h->port, h->conn_max);
  metrics_describe("klaxon_http_requests_total", METRIC_COUNTER,
                   "HTTP requests served, by route and status");
  metrics_describe("klaxon_http_connections_open", METRIC_GAUGE,
                   "HTTP connections the server holds now");
  metrics_describe("klaxon_http_connections_refused_total", METRIC_COUNTER,
                   "HTTP connections answered 503 and closed at once, by reason (per_client: "
                   "one address held too many; server_full: the server did)");
  metrics_describe("klaxon_http_deferred_dropped_total", METRIC_COUNTER,
                   "Requests whose client left while they waited for the database thread: not "
                   "handled (PostgreSQL)");
  metrics_set("klaxon_http_connections_open", "", 0);
  return h;
}

void httpd_free(struct httpd *h)
{
  if (!h)
    return;
  httpd_peers_free(h->peers);
  free(h);
}

int httpd_set_per_client_max(struct httpd *h, size_t max)
{
  if (max == 0 || max > h->conn_max)
    max = h->conn_max;
  if (max == httpd_peers_per_client(h->peers))
    return 0;
  /* Before the first connection the table is empty: a new one loses nothing. */
  struct httpd_peers *p = httpd_peers_new(h->conn_max, max);
  if (!p)
    return KX_ENOMEM;
  httpd_peers_free(h->peers);
  h->peers = p;
  return 0;
}

size_t httpd_connections(const struct httpd *h)
{
  return httpd_peers_open(h->peers);
}

void httpd_raise_fd_limit(void)
{
  struct rlimit rl;
  const rlim_t want = (rlim_t)HTTPD_FD_LIMIT + HTTPD_FD_RESERVE;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
    return;
  rlim_t old = rl.rlim_cur;
  rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want) ? want : rl.rlim_max;
  if (rl.rlim_cur > old && setrlimit(RLIMIT_NOFILE, &rl) != 0)
    rl.rlim_cur = old;
  if (rl.rlim_cur < want)
    LOG_WARN("http", "low_fd_limit", "nofile=%llu want=%llu note=\"fewer HTTP connections\"",
             (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

int httpd_port(const struct httpd *h)
{
  return h->port;
}

int httpd_route(struct httpd *h, const struct httpd_route *route)
{
  if (h->n_routes == MAX_ROUTES)
    return KX_ETOOBIG;
  h->routes[h->n_routes++] = *route;
  return 0;
}

static const struct httpd_route *find_route(struct httpd *h,
                                            const char *method,
                                            const char *path,
                                            bool *method_mismatch)
{
  *method_mismatch = false;
  for (size_t i = 0; i < h->n_routes; i++) {
    const struct httpd_route *r = &h->routes[i];
    size_t n = strlen(r->path);
    bool match;
    if (n && (r->path[n - 1] == '*' || r->path[n - 1] == '/'))
      match = strncmp(path, r->path, r->path[n - 1] == '*' ? n - 1 : n) == 0;
    else
      match = strcmp(path, r->path) == 0;
    if (!match)
      continue;
    if (r->method && strcmp(r->method, method) != 0) {
      *method_mismatch = true;
      continue;
    }
    return r;
  }
  return NULL;
}

static void count(const struct httpd_session *s, int status)
{
  char labels[200];
  const char *route = s->route ? s->route->path : "unmatched";
  snprintf(labels, sizeof(labels), "route=\"%.100s\",code=\"%d\"", route, status);
  metrics_inc("klaxon_http_requests_total", labels, 1);
}

static int begin_response(struct lws *wsi, struct httpd_pending *p)
{
  unsigned char buf[LWS_PRE + 2048];
  unsigned char *start = buf + LWS_PRE, *pos = start, *end = buf + sizeof(buf) - 1;
  struct httpd_response *r = &p->resp;
  if (lws_add_http_common_headers(wsi, (unsigned int)r->status, r->content_type,
                                  (lws_filepos_t)r->body.len, &pos, end))
    return -1;
  if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
                                  (const unsigned char *)"no-store", 8, &pos, end))
    return -1;
  /* One request per connection. Requests pipelined behind another reach lws 4.1's buffered
   * path, which handed a later request's body callback freed memory and could spin the loop
   * forever (found by tests/fuzz/fuzz_http.c); closing after each answer never parses them.
   * Our clients (probes, scrapers, webhooks, Bot Framework) open a new connection, at the
   * price of a handshake per request. */
  if (lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
                                   &pos, end))
    return -1;
  /* Extra headers: "Name: value\r\n" lines. */
  char *line = r->extra_headers;
  while (*line) {
    char *eol = strstr(line, "\r\n");
    if (!eol)
      break;
    char *colon = memchr(line, ':', (size_t)(eol - line));
    if (colon) {
      char name[96];
      size_t nl = (size_t)(colon - line) + 1;
      if (nl < sizeof(name)) {
        memcpy(name, line, nl);
        name[nl] = '\0';
        for (char *c = name; *c; c++)
          *c = (char)((*c >= 'A' && *c <= 'Z') ? *c + 32 : *c);
        const char *v = colon + 1;
        while (*v == ' ')
          v++;
        if (lws_add_http_header_by_name(wsi, (unsigned char *)name, (const unsigned char *)v,
                                        (int)(eol - v), &pos, end))
          return -1;
      }
    }
    line = eol + 2;
  }
  if (lws_finalize_write_http_header(wsi, start, &pos, end))
    return -1;
  p->responding = true;
  p->sent = 0;
  lws_callback_on_writable(wsi);
  return 0;
}

static void pending_free(struct httpd_pending *p)
{
  buf_free(&p->resp.body);
  free(p);
}

/* Answer a request that is refused before its body is read: 411 (no length: the body's end
 * cannot be found), 401 (an unauthenticated client is not waited for), 400 (a body on a method
 * that has none). The connection closes after the answer, as after every answer, so the
 * unread body is never read. */
static int refuse_early(struct lws *wsi, struct httpd_session *s, int status, const char *why)
{
  struct httpd_pending *p = calloc(1, sizeof(*p));
  if (!p)
    return -1;
  s->dispatched = true;
  p->wsi = wsi;
  p->pss = s;
  p->finished = true;
  s->pending = p;
  response_init(&p->resp);
  httpd_error(&p->resp, status, why);
  count(s, status);
  LOG_INFO("http", "refused", "method=%s status=%d reason=\"%s\"", s->method, status, why);
  return begin_response(wsi, p);
}

/* Answer a request no handler sees (404, 405, 413). It is finished here: were the client to
 * leave before the answer is written, the close frees it (an unfinished one waits for its
 * handler's httpd_finish, and these have none: each client that hung up leaked ~1 KB). */
static int answer_now(struct lws *wsi, struct httpd_session *s, struct httpd_pending *p)
{
  p->finished = true;
  count(s, p->resp.status);
  return begin_response(wsi, p);
}

/* A request handled as a task (bot/dbtask.h): its strings and body copied, since the
 * connection's own may be gone (the client left) before the task runs. */
struct deferred {
  struct httpd *server;
  const struct httpd_route *route;
  struct httpd_pending *p;
  struct httpd_request req;
  struct buf body;
  char strs[]; /* the request's strings, one after the other */
};

static void run_deferred(void *arg)
{
  struct deferred *d = arg;
  struct httpd_pending *p = d->p;
  d->server->deferred--;
  if (!p->wsi) {
    /* The client left while the request waited (it will send again if it cares): not handled,
     * so a retry is not handled twice. */
    metrics_inc("klaxon_http_deferred_dropped_total", "", 1);
    httpd_finish(p, &p->resp);
  } else {
    int rc = d->route->fn(d->route->arg, &d->req, &p->resp, p);
    if (rc != HTTPD_LATER)
      httpd_finish(p, &p->resp);
  }
  buf_free(&d->body);
  free(d);
}

static const char *copy_str(char **at, const char *v)
{
  if (!v)
    return NULL;
  size_t n = strlen(v) + 1;
  memcpy(*at, v, n);
  const char *out = *at;
  *at += n;
  return out;
}

static int defer(struct httpd_session *s, struct httpd_pending *p, const struct httpd_request *req)
{
  const char *v[] = {req->method,        req->path,         req->query,
                     req->authorization, req->content_type, req->signature,
                     req->hub_signature, req->event_name,   req->peer};
  size_t n = 0;
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
    n += v[i] ? strlen(v[i]) + 1 : 0;
  if (s->server->deferred >= HTTPD_DEFERRED_MAX)
    return KX_EBUSY;
  struct deferred *d = calloc(1, sizeof(*d) + n);
  if (!d)
    return KX_ENOMEM;
  char *at = d->strs;
  d->server = s->server;
  d->route = s->route;
  d->p = p;
  d->req = *req;
  d->req.method = copy_str(&at, req->method);
  d->req.path = copy_str(&at, req->path);
  d->req.query = copy_str(&at, req->query);
  d->req.authorization = copy_str(&at, req->authorization);
  d->req.content_type = copy_str(&at, req->content_type);
  d->req.signature = copy_str(&at, req->signature);
  d->req.hub_signature = copy_str(&at, req->hub_signature);
  d->req.event_name = copy_str(&at, req->event_name);
  d->req.peer = copy_str(&at, req->peer);
  d->body = s->body; /* the body moves over, NUL-terminated as it was */
  buf_init(&s->body, 0);
  d->req.body = d->body.data ? d->body.data : "";
  s->server->deferred++;
  dbtask_run(run_deferred, d);
  return 0;
}

static int dispatch(struct lws *wsi, struct httpd_session *s)
{
  /* Once per request. A live response is never replaced: a second dispatch (body callbacks of
   * a request already answered) would leak the first and write two header blocks. */
  if (s->dispatched || s->pending)
    return 0;
  s->dispatched = true;
  struct httpd_pending *p = calloc(1, sizeof(*p));
  if (!p)
    return -1;
  p->wsi = wsi;
  p->pss = s;
  s->pending = p;
  response_init(&p->resp);
  if (!s->route) {
    bool mismatch;
    s->route = find_route(s->server, s->method, s->path, &mismatch);
    if (!s->route) {
      httpd_error(&p->resp, mismatch ? 405 : 404, mismatch ? "method not allowed" : "not found");
      return answer_now(wsi, s, p);
    }
  }
  if (s->too_big) {
    httpd_error(&p->resp, 413, "request body too large");
    return answer_now(wsi, s, p);
  }
  struct httpd_request req = {
      .method = s->method,
      .path = s->path,
      .query = s->query,
      .authorization = s->authorization[0] ? s->authorization : NULL,
      .content_type = s->content_type[0] ? s->content_type : NULL,
      .signature = s->signature[0] ? s->signature : NULL,
      .hub_signature = s->hub_signature[0] ? s->hub_signature : NULL,
      .event_name = s->event_name[0] ? s->event_name : NULL,
      .body = s->body.data ? s->body.data : "",
      .body_len = s->body.len,
      .peer = s->peer,
      .received_us = s->received_us,
  };
  /* What needs the database runs as a task, so the loop does not wait for it; a route may say
   * a request of its own (a liveness probe) is answered here and now. */
  bool here = dbtask_here() || (s->route->on_loop && s->route->on_loop(s->route->arg, &req));
  int deferred = here ? KX_EUNSUPPORTED : defer(s, p, &req);
  if (deferred == 0)
    return 0;
  if (deferred == KX_EBUSY) {
    /* So many requests wait for the database already (a slow or failing-over server) that more
     * would only queue: the client tries again, or another instance takes it. */
    buf_free(&s->body);
    httpd_error(&p->resp, 503, "busy: too many requests waiting for the database; try again");
    httpd_add_header(&p->resp, "Retry-After", "1");
    LOG_WARN("http", "deferred_full", "path=%s waiting=%zu", s->path, s->server->deferred);
    return answer_now(wsi, s, p);
  }
  int rc = s->route->fn(s->route->arg, &req, &p->resp, p);
  buf_free(&s->body);
  if (rc == HTTPD_LATER)
    return 0;
  p->finished = true;
  count(s, p->resp.status);
  return begin_response(wsi, p);
}

struct httpd_response *httpd_pending_response(struct httpd_pending *later)
{
  return &later->resp;
}

void httpd_finish(struct httpd_pending *p, struct httpd_response *resp)
{
  if (p->finished)
    return;
  p->finished = true;
  if (resp != &p->resp) {
    buf_free(&p->resp.body);
    p->resp = *resp;
    buf_init(&resp->body, resp->body.cap);
  }
  if (!p->wsi) {
    /* The client left while we worked: nobody to answer. */
    pending_free(p);
    return;
  }
  count(p->pss, p->resp.status);
  if (begin_response(p->wsi, p))
    lws_set_timeout(p->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void read_headers(struct lws *wsi, struct httpd_session *s, const char *uri)
{
  snprintf(s->path, sizeof(s->path), "%s", uri ? uri : "/");
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
    snprintf(s->method, sizeof(s->method), "GET");
  else if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
    snprintf(s->method, sizeof(s->method), "POST");
  else if (lws_hdr_total_length(wsi, WSI_TOKEN_PUT_URI))
    snprintf(s->method, sizeof(s->method), "PUT");
  else if (lws_hdr_total_length(wsi, WSI_TOKEN_DELETE_URI))
    snprintf(s->method, sizeof(s->method), "DELETE");
  else
    snprintf(s->method, sizeof(s->method), "OTHER");
  s->authorization[0] = s->content_type[0] = s->query[0] = '\0';
  if (lws_hdr_copy(wsi, s->authorization, sizeof(s->authorization), WSI_TOKEN_HTTP_AUTHORIZATION) <
      0)
    s->authorization[0] = '\0';
  if (lws_hdr_copy(wsi, s->content_type, sizeof(s->content_type), WSI_TOKEN_HTTP_CONTENT_TYPE) < 0)
    s->content_type[0] = '\0';
  static const char SIG[] = "x-twilio-signature:";
  s->signature[0] = '\0';
  if (lws_hdr_custom_copy(wsi, s->signature, (int)sizeof(s->signature), SIG, (int)strlen(SIG)) < 0)
    s->signature[0] = '\0';
  /* issue 14: the trackers' webhooks (GitHub, Jira) */
  static const char HUB256[] = "x-hub-signature-256:", HUB[] = "x-hub-signature:",
                    EVENT[] = "x-github-event:";
  if (lws_hdr_custom_copy(wsi, s->hub_signature, (int)sizeof(s->hub_signature), HUB256,
                          (int)strlen(HUB256)) < 0 &&
      lws_hdr_custom_copy(wsi, s->hub_signature, (int)sizeof(s->hub_signature), HUB,
                          (int)strlen(HUB)) < 0)
    s->hub_signature[0] = '\0';
  if (lws_hdr_custom_copy(wsi, s->event_name, (int)sizeof(s->event_name), EVENT,
                          (int)strlen(EVENT)) < 0)
    s->event_name[0] = '\0';
  size_t used = 0;
  char frag[512];
  for (int i = 0; used < sizeof(s->query) - 2; i++) {
    int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n <= 0)
      break;
    used +=
        (size_t)snprintf(s->query + used, sizeof(s->query) - used, "%s%s", used ? "&" : "", frag);
  }
  lws_get_peer_simple(wsi, s->peer, sizeof(s->peer));
}

/* The answer to a connection over a cap: fixed bytes, written straight to the new socket. */
static const char REFUSAL[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n"
    "Retry-After: 1\r\nConnection: close\r\n\r\ntoo many connections\n";

static void peer_text(const struct sockaddr_storage *a, char *out, size_t n)
{
  const void *bytes = a->ss_family == AF_INET6
                          ? (const void *)&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr
                          : (const void *)&((const struct sockaddr_in *)(const void *)a)->sin_addr;
  if ((a->ss_family != AF_INET && a->ss_family != AF_INET6) ||
      !inet_ntop(a->ss_family, bytes, out, (socklen_t)n))
    snprintf(out, n, "unknown");
}

/* Called by lws for each accepted socket before it becomes a connection: nonzero closes it.
 * A refused client gets a 503 at once rather than a socket that is never served, and costs a
 * descriptor only for this moment. */
static int filter_connection(struct httpd *h, const struct lws_filter_network_conn_args *a)
{
  enum httpd_admit r =
      httpd_peers_admit(h->peers, (const struct sockaddr *)&a->cli_addr, a->clilen);
  if (r == HTTPD_ADMIT_OK) {
    metrics_set("klaxon_http_connections_open", "", (double)httpd_peers_open(h->peers));
    return 0;
  }
  /* What the client sent already is read first: closing a socket with unread data resets the
   * connection, and the reset can overtake the 503. */
  char sink[2048];
  for (int i = 0; i < 4 && recv(a->accept_fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++)
    ;
  (void)send(a->accept_fd, REFUSAL, sizeof(REFUSAL) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
  char labels[40], peer[INET6_ADDRSTRLEN];
  snprintf(labels, sizeof(labels), "reason=\"%s\"", httpd_admit_name(r));
  metrics_inc("klaxon_http_connections_refused_total", labels, 1);
  peer_text(&a->cli_addr, peer, sizeof(peer));
  LOG_WARN("http", "connection_refused", "peer=%s reason=%s open=%zu per_client_max=%zu max=%zu",
           peer, httpd_admit_name(r), httpd_peers_open(h->peers), httpd_peers_per_client(h->peers),
           h->conn_max);
  return 1;
}

/* A request's headers are in: refuse it early, answer it, or wait for its body. */
static int on_request(struct lws *wsi, struct httpd *h, struct httpd_session *s, const char *uri)
{
  if (s->pending && s->pending->responding)
    return -1; /* pipelining: not supported */
  if (s->pending) {
    s->pending->wsi = NULL;
    if (s->pending->finished)
      pending_free(s->pending);
    s->pending = NULL;
  }
  s->server = h;
  s->route = NULL;
  s->too_big = false;
  s->dispatched = s->refuse = false;
  s->received_us = clock_mono_us();
  read_headers(wsi, s, uri);
  bool mismatch;
  s->route = find_route(h, s->method, s->path, &mismatch);
  size_t max = s->route && s->route->max_body ? s->route->max_body : HTTPD_DEFAULT_MAX_BODY;
  buf_init(&s->body, max);
  char clen[32];
  bool has_len = lws_hdr_copy(wsi, clen, sizeof(clen), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0;
  bool chunked = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
  unsigned long long declared = has_len ? strtoull(clen, NULL, 10) : 0;
  if (declared > max)
    s->too_big = true;
  if (strcmp(s->method, "POST") == 0 || strcmp(s->method, "PUT") == 0) {
    /* Every body we take has a declared length, so a slow or endless chunked body cannot
     * hold the connection; a declared length over the cap is refused without reading it. */
    if (chunked || !has_len)
      return refuse_early(wsi, s, 411, "length required (a Content-Length, not chunked)");
    if (s->route && s->route->allow) {
      struct httpd_request head = {.method = s->method,
                                   .path = s->path,
                                   .query = s->query,
                                   .authorization = s->authorization[0] ? s->authorization : NULL,
                                   .signature = s->signature[0] ? s->signature : NULL,
                                   .peer = s->peer};
      if (!s->route->allow(s->route->arg, &head))
        return refuse_early(wsi, s, s->route->deny_status ? s->route->deny_status : 401,
                            s->route->deny_status == 403 ? "forbidden" : "not authorised");
    }
    if (s->too_big || declared == 0)
      return dispatch(wsi, s);
    return 0;
  }
  if (chunked || declared > 0)
    return refuse_early(wsi, s, 400, "this method takes no request body");
  return dispatch(wsi, s);
}

static int callback(
    struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
  struct httpd_session *s = user;
  switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
      /* wsi is the listener; user is the accepted socket's address, not a session. */
      struct httpd *h = lws_get_vhost_user(lws_get_vhost(wsi));
      return h && user ? filter_connection(h, user) : 0;
    }
    case LWS_CALLBACK_WSI_CREATE: {
      /* Right after the filter admitted its socket, on the same call: name the connection. */
      struct httpd *h = lws_get_vhost_user(lws_get_vhost(wsi));
      if (h)
        (void)httpd_peers_bind(h->peers, wsi);
      return 0;
    }
    case LWS_CALLBACK_WSI_DESTROY: {
      /* The socket is closed by now: its place is free. */
      struct httpd *h = lws_get_vhost_user(lws_get_vhost(wsi));
      if (h && httpd_peers_release(h->peers, wsi))
        metrics_set("klaxon_http_connections_open", "", (double)httpd_peers_open(h->peers));
      return 0;
    }
    case LWS_CALLBACK_HTTP: {
      struct httpd *h = lws_get_vhost_user(lws_get_vhost(wsi));
      return h && s ? on_request(wsi, h, s, in) : -1;
    }
    case LWS_CALLBACK_HTTP_BODY:
      if (s && s->dispatched)
        return 0;
      if (s && !s->too_big && buf_append(&s->body, in, len) != 0)
        s->too_big = true;
      return 0;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      return s ? dispatch(wsi, s) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE: {
      struct httpd_pending *p = s ? s->pending : NULL;
      if (!p || !p->responding)
        return 0;
      size_t left = p->resp.body.len - p->sent;
      size_t n = left > WRITE_CHUNK ? WRITE_CHUNK : left;
      unsigned char *chunk = malloc(LWS_PRE + n + 1);
      if (!chunk)
        return -1;
      if (n)
        memcpy(chunk + LWS_PRE, p->resp.body.data + p->sent, n);
      bool last = (p->sent + n == p->resp.body.len);
      int w = lws_write(wsi, chunk + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP);
      free(chunk);
      if (w < (int)n)
        return -1;
      p->sent += n;
      if (!last) {
        lws_callback_on_writable(wsi);
        return 0;
      }
      s->pending = NULL;
      pending_free(p);
      return -1; /* answered: close (see begin_response); lws flushes what is still queued */
    }
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      if (s) {
        buf_free(&s->body);
        if (s->pending) {
          struct httpd_pending *p = s->pending;
          s->pending = NULL;
          p->wsi = NULL;
          /* An unfinished one is freed by httpd_finish when its handler answers. */
          if (p->finished)
            pending_free(p);
        }
      }
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

const struct lws_protocols httpd_protocol = {
    "http", callback, sizeof(struct httpd_session), 0, 0, NULL, 0,
};
