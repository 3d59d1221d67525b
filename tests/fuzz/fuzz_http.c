/*
 * fuzz_http.c — libFuzzer target for the HTTP server's request handling (bot/net/httpd.c) as a
 * client meets it: the input is written, raw, to a loopback TCP connection to a real server
 * (libwebsockets on a libuv loop, as in the bot), the connection is half-closed, and the loop
 * runs until the server has closed it. Request lines, headers, bodies, chunking and pipelined
 * requests all come from the input, so the server's state machine is driven end to end: route
 * matching, 404/405, the body caps (413), 411 for chunked or length-less bodies, 400 for a body
 * on GET/DELETE, the header-time authorisation check (401), a request answered later
 * (HTTPD_LATER, finished by this driver a few turns of the loop later, sometimes after the
 * client is gone), and the connection caps' bookkeeping: once every connection is closed the
 * server must hold none (else the target aborts: a place would leak and the cap shrink).
 *
 * Why a socket and not a parser function: the decisions (one dispatch per request, answering
 * before the body, closing after a refusal) live in the lws callback sequence itself, and
 * what they have gone wrong on (a second dispatch from body callbacks, a leak when the client
 * leaves) only shows with lws delivering real callbacks. libklaxon is instrumented for
 * coverage; lws is not, so coverage is of httpd.c's side.
 *
 * Seeds: tests/fuzz/seeds/fuzz_http/ (valid and broken requests, and the two pipelined inputs
 * it found: pipelined_spin, pipelined_body_after_free). Run: tests/fuzz/run.sh fuzz_http
 * (about 6,000 inputs a second).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "bot/net/httpd.h"
#include "lib/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Turns of the loop per input at most (each waits at most TURN_MS for something to happen). */
#define MAX_TURNS 400
#define TURN_MS 5
#define LATER_AFTER_TURNS 3

static uv_loop_t loop;
static struct lws_context *lws;
static struct httpd *server;
static int port;
static struct httpd_pending *later; /* a request answered later, at most one at a time */
static int later_turns;

static int ok_text(void *arg,
                   const struct httpd_request *req,
                   struct httpd_response *resp,
                   struct httpd_pending *pending)
{
  (void)arg;
  (void)pending;
  char text[160];
  snprintf(text, sizeof(text), "%s %s ?%.40s %zu\n", req->method, req->path, req->query,
           req->body_len);
  if (strlen(req->body) > req->body_len) /* the body is NUL-terminated at its length */
    abort();
  httpd_text(resp, 200, "text/plain", text);
  return HTTPD_DONE;
}

static int ok_json(void *arg,
                   const struct httpd_request *req,
                   struct httpd_response *resp,
                   struct httpd_pending *pending)
{
  (void)arg;
  (void)pending;
  if (!req->authorization || strcmp(req->authorization, "Bearer fuzz") != 0)
    abort(); /* allow() let it through: it must have had the token */
  if (req->body_len > 256)
    abort(); /* over the route's cap: must have been 413 */
  httpd_json(resp, 202, "{\"ok\":true}");
  (void)httpd_add_header(resp, "X-Fuzz", "1");
  return HTTPD_DONE;
}

static int answer_later(void *arg,
                        const struct httpd_request *req,
                        struct httpd_response *resp,
                        struct httpd_pending *pending)
{
  (void)arg;
  (void)req;
  if (later) { /* one at a time: answer this one now */
    httpd_error(resp, 503, "busy");
    return HTTPD_DONE;
  }
  later = pending;
  later_turns = 0;
  return HTTPD_LATER;
}

static bool allow_bearer(void *arg, const struct httpd_request *req)
{
  (void)arg;
  return req->authorization && strcmp(req->authorization, "Bearer fuzz") == 0;
}

static void finish_later(void)
{
  if (!later)
    return;
  struct httpd_response *resp = httpd_pending_response(later);
  httpd_text(resp, 200, "text/calendar", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
  struct httpd_pending *p = later;
  later = NULL;
  httpd_finish(p, resp);
}

static void turn(void)
{
  (void)uv_run(&loop, UV_RUN_NOWAIT);
  if (later && ++later_turns >= LATER_AFTER_TURNS)
    finish_later();
}

/* Wait up to TURN_MS for the loop's or the client's socket. */
static void wait_a_little(int fd, short events)
{
  struct pollfd p[2] = {{.fd = uv_backend_fd(&loop), .events = POLLIN},
                        {.fd = fd, .events = events}};
  /* 0 when the loop has work without an event (closing handles, idlers): no wait then. */
  int timeout = uv_backend_timeout(&loop);
  (void)poll(p, fd >= 0 ? 2 : 1, timeout >= 0 && timeout < TURN_MS ? timeout : TURN_MS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  log_set_level(LOG_LEVEL_OFF);
  lws_set_log_level(0, NULL);
  if (uv_loop_init(&loop) != 0)
    abort();
  void *foreign[1] = {&loop};
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  info.foreign_loops = foreign;
  info.max_http_header_data = HTTPD_HEADER_MAX;
  info.max_http_header_pool = 8;
  info.fd_limit_per_thread = 64;
  lws = lws_create_context(&info);
  if (!lws) {
    fprintf(stderr, "fuzz_http: no lws context on libuv (libwebsockets-evlib-uv installed?)\n");
    abort();
  }
  server = httpd_new(lws, "127.0.0.1:0");
  if (!server || httpd_set_per_client_max(server, 2) != 0)
    abort();
  port = httpd_port(server);
  static const struct httpd_route routes[] = {
      {.method = "GET", .path = "/healthz", .fn = ok_text},
      {.method = "POST",
       .path = "/alerts/webhook",
       .max_body = 256,
       .fn = ok_json,
       .allow = allow_bearer},
      {.method = "GET", .path = "/calendar/", .fn = answer_later},
      {.method = NULL, .path = "/any*", .max_body = 64, .fn = ok_text},
  };
  for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
    if (httpd_route(server, &routes[i]) != 0)
      abort();
  for (int i = 0; i < 10; i++)
    turn();
  return 0;
}

static int connect_to_server(void)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    abort();
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS)
    abort();
  return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int fd = connect_to_server();
  size_t sent = 0;
  bool shut = false;
  char sink[16384];
  for (int i = 0; i < MAX_TURNS; i++) {
    turn();
    if (sent < size) {
      ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n > 0)
        sent += (size_t)n;
      else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN)
        break; /* the server closed on us (a refusal): done */
    } else if (!shut) {
      (void)shutdown(fd, SHUT_WR);
      shut = true;
    }
    ssize_t got = recv(fd, sink, sizeof(sink), 0);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN))
      break; /* the server closed the connection */
    if (got < 0)
      wait_a_little(fd, (short)(POLLIN | (sent < size ? POLLOUT : 0)));
  }
  close(fd);
  /* The server notices the close and frees the connection (lws closes asynchronously on
   * libuv); a request still pending is answered to nobody, as a late handler would. */
  for (int i = 0; i < MAX_TURNS && (httpd_connections(server) > 0 || later); i++) {
    turn();
    if (httpd_connections(server) > 0)
      wait_a_little(-1, 0);
  }
  finish_later();
  if (httpd_connections(server) != 0) {
    fprintf(stderr, "fuzz_http: %zu connections still counted after every client left\n",
            httpd_connections(server));
    abort();
  }
  return 0;
}
