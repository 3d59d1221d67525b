#include "bot/net/http_client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bot/dbtask.h"
#include "lib/buf.h"
#include "lib/kx.h"
#include "lib/log.h"

struct http_client {
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t timer;
  size_t running;
  size_t open_handles; /* uv handles not yet closed (the timer and polls) */
  int closing;
  void (*done)(void *arg);
  void *done_arg;
  struct transfer *transfers; /* doubly linked, for aborting on close */
};

struct poll_ctx {
  uv_poll_t poll;
  curl_socket_t fd;
  struct http_client *client;
};

struct transfer {
  CURL *easy;
  struct http_client *client;
  struct curl_slist *headers;
  struct curl_slist *rcpts;
  struct buf body;
  long retry_after_s;
  char content_type[128];
  char errbuf[CURL_ERROR_SIZE];
  char *upload; /* SMTP payload */
  size_t upload_len, upload_off;
  http_cb cb;
  void *arg;
  struct http_response resp; /* what cb is given, its strings inside this transfer */
  struct transfer *prev, *next;
};

static void maybe_done(struct http_client *c)
{
  if (c->closing && c->open_handles == 0 && c->done) {
    void (*done)(void *) = c->done;
    void *arg = c->done_arg;
    c->done = NULL;
    free(c);
    done(arg);
  }
}

static void on_handle_closed(uv_handle_t *h)
{
  struct http_client *c = h->data;
  if ((uv_handle_t *)&c->timer != h)
    free(h); /* a poll_ctx (poll is its first member) */
  c->open_handles--;
  maybe_done(c);
}

static void unlink_transfer(struct transfer *t)
{
  struct http_client *c = t->client;
  if (t->prev)
    t->prev->next = t->next;
  else
    c->transfers = t->next;
  if (t->next)
    t->next->prev = t->prev;
}

/* The callback, and the transfer freed after it: a task (bot/dbtask.h) when called on the loop,
 * since what an answer leads to is mostly written to the database. */
static void answer(void *arg)
{
  struct transfer *t = arg;
  t->cb(t->arg, &t->resp);
  buf_free(&t->body);
  free(t->upload);
  free(t);
}

static void finish(struct transfer *t, CURLcode code)
{
  struct http_client *c = t->client;
  struct http_response r;
  memset(&r, 0, sizeof(r));
  r.retry_after_s = t->retry_after_s;
  r.content_type = t->content_type[0] ? t->content_type : NULL;
  if (code == CURLE_OK) {
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
  } else {
    r.err = code == CURLE_OPERATION_TIMEDOUT ? KX_ETIMEOUT
            : code == CURLE_WRITE_ERROR      ? KX_ETOOBIG
            : code == CURLE_OUT_OF_MEMORY    ? KX_ENOMEM
                                             : KX_EIO;
    r.error_text = t->errbuf[0] ? t->errbuf : curl_easy_strerror(code);
    /* SMTP failures still carry the server's last reply code. */
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
  }
  struct curl_certinfo *ci = NULL;
  if (code == CURLE_OK && curl_easy_getinfo(t->easy, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci &&
      ci->num_of_certs > 0)
    for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next)
      if (strncmp(s->data, "Expire date:", 12) == 0)
        r.cert_expires_ms = http_cert_date_ms(s->data + 12);
  double secs = 0;
  curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME, &secs);
  r.total_ms = secs * 1000.0;
  r.body = t->body.data ? t->body.data : "";
  r.body_len = t->body.len;
  curl_multi_remove_handle(c->multi, t->easy);
  curl_easy_cleanup(t->easy);
  curl_slist_free_all(t->headers);
  curl_slist_free_all(t->rcpts);
  unlink_transfer(t);
  c->running--;
  t->resp = r;
  dbtask_run(answer, t);
}

/* Drain completions after every socket_action, the timer path included. */
static void drain(struct http_client *c)
{
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(c->multi, &left))) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    struct transfer *t = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    if (t)
      finish(t, msg->data.result);
  }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
  struct poll_ctx *p = h->data;
  struct http_client *c = p->client;
  int flags = 0;
  if (status < 0)
    flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE)
    flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE)
    flags |= CURL_CSELECT_OUT;
  int running;
  curl_multi_socket_action(c->multi, p->fd, flags, &running);
  drain(c);
}

static void on_timer(uv_timer_t *h)
{
  struct http_client *c = h->data;
  int running;
  curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  drain(c);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
  (void)easy;
  struct http_client *c = userp;
  struct poll_ctx *p = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (p) {
      /* Stop at once: curl (and lws) reuse fd numbers immediately, and libuv refuses a second
       * poll on an fd that still has one. */
      uv_poll_stop(&p->poll);
      p->poll.data = c;
      uv_close((uv_handle_t *)&p->poll, on_handle_closed);
      curl_multi_assign(c->multi, s, NULL);
    }
    return 0;
  }
  if (!p) {
    p = calloc(1, sizeof(*p));
    if (!p)
      return -1;
    p->fd = s;
    p->client = c;
    int rc = uv_poll_init_socket(c->loop, &p->poll, s);
    if (rc) {
      LOG_ERROR("http", "poll_init_failed", "fd=%d err=%s", (int)s, uv_err_name(rc));
      free(p);
      return -1;
    }
    p->poll.data = p;
    c->open_handles++;
    curl_multi_assign(c->multi, s, p);
  }
  int events = 0;
  if (what & CURL_POLL_IN)
    events |= UV_READABLE;
  if (what & CURL_POLL_OUT)
    events |= UV_WRITABLE;
  p->poll.data = p;
  uv_poll_start(&p->poll, events, on_poll);
  return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
  (void)multi;
  struct http_client *c = userp;
  /* Only start or stop the timer; never call curl from here. */
  if (timeout_ms < 0)
    uv_timer_stop(&c->timer);
  else
    uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
  return 0;
}

struct http_client *http_client_new(uv_loop_t *loop)
{
  struct http_client *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  c->loop = loop;
  c->multi = curl_multi_init();
  if (!c->multi) {
    free(c);
    return NULL;
  }
  uv_timer_init(loop, &c->timer);
  c->timer.data = c;
  c->open_handles = 1;
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
  curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
  return c;
}

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
  struct transfer *t = arg;
  /* Returning less than given makes curl stop with CURLE_WRITE_ERROR: the cap. */
  return buf_append(&t->body, data, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
  struct transfer *t = arg;
  size_t len = size * n;
  char line[256];
  size_t copy = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
  memcpy(line, data, copy);
  line[copy] = '\0';
  line[strcspn(line, "\r\n")] = '\0';
  if (strncasecmp(line, "retry-after:", 12) == 0) {
    char *end;
    long v = strtol(line + 12, &end, 10);
    if (end != line + 12 && v >= 0 && v < 86400)
      t->retry_after_s = v;
  } else if (strncasecmp(line, "content-type:", 13) == 0) {
    const char *v = line + 13;
    while (*v == ' ')
      v++;
    snprintf(t->content_type, sizeof(t->content_type), "%.127s", v);
  } else if (strncmp(line, "HTTP/", 5) == 0) {
    /* A new response (after a 100 Continue or a redirect): forget the old headers. */
    t->retry_after_s = -1;
    t->content_type[0] = '\0';
  }
  return len;
}

static struct transfer *transfer_new(struct http_client *c, size_t cap, http_cb cb, void *arg)
{
  struct transfer *t = calloc(1, sizeof(*t));
  if (!t)
    return NULL;
  t->easy = curl_easy_init();
  if (!t->easy) {
    free(t);
    return NULL;
  }
  t->client = c;
  t->cb = cb;
  t->arg = arg;
  t->retry_after_s = -1;
  buf_init(&t->body, cap ? cap : HTTP_RESPONSE_MAX);
  curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
  curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https,smtp,smtps");
  /* The CA bundle the Socket Mode client also takes (README: KLAXON_CA_FILE), for a private CA
   * or a test's own; the system's otherwise. */
  const char *ca = getenv("KLAXON_CA_FILE");
  if (ca && *ca)
    curl_easy_setopt(t->easy, CURLOPT_CAINFO, ca);
  return t;
}

static int start(struct transfer *t)
{
  struct http_client *c = t->client;
  if (curl_multi_add_handle(c->multi, t->easy) != CURLM_OK) {
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->rcpts);
    buf_free(&t->body);
    free(t->upload);
    free(t);
    return KX_EIO;
  }
  t->next = c->transfers;
  if (c->transfers)
    c->transfers->prev = t;
  c->transfers = t;
  c->running++;
  return 0;
}

int http_client_send(struct http_client *c, const struct http_request *req, http_cb cb, void *arg)
{
  if (c->closing)
    return KX_ESTATE;
  struct transfer *t = transfer_new(c, req->max_response, cb, arg);
  if (!t)
    return KX_ENOMEM;
  CURL *e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, req->url);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                   req->timeout_ms ? req->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS);
  curl_easy_setopt(
      e, CURLOPT_CONNECTTIMEOUT_MS,
      req->connect_timeout_ms ? req->connect_timeout_ms : HTTP_DEFAULT_CONNECT_TIMEOUT_MS);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "klaxon/" KLAXON_VERSION);
  if (req->want_cert) {
    /* curl reports the chain only after a handshake, so not on a reused connection. */
    curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  }
  for (const char *const *h = req->headers; h && *h; h++) {
    struct curl_slist *n = curl_slist_append(t->headers, *h);
    if (!n)
      goto nomem;
    t->headers = n;
  }
  /* No "Expect: 100-continue" round trip for our small bodies. */
  struct curl_slist *n = curl_slist_append(t->headers, "Expect:");
  if (!n)
    goto nomem;
  t->headers = n;
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  const char *method = req->method ? req->method : (req->body ? "POST" : "GET");
  if (req->body) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body);
  }
  if (strcmp(method, "GET") == 0)
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  else if (strcmp(method, "POST") != 0)
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
  return start(t);
nomem:
  curl_easy_cleanup(t->easy);
  curl_slist_free_all(t->headers);
  buf_free(&t->body);
  free(t);
  return KX_ENOMEM;
}

static size_t on_read(char *out, size_t size, size_t n, void *arg)
{
  struct transfer *t = arg;
  size_t room = size * n, left = t->upload_len - t->upload_off;
  size_t take = left < room ? left : room;
  memcpy(out, t->upload + t->upload_off, take);
  t->upload_off += take;
  return take;
}

int http_client_smtp(struct http_client *c, const struct smtp_message *m, http_cb cb, void *arg)
{
  if (c->closing)
    return KX_ESTATE;
  if (!m->url || !m->from || !m->to || !m->to[0] || !m->payload)
    return KX_EINVAL;
  struct transfer *t = transfer_new(c, (size_t)64 * 1024, cb, arg);
  if (!t)
    return KX_ENOMEM;
  t->upload = strdup(m->payload);
  t->upload_len = strlen(m->payload);
  for (const char *const *to = m->to; *to; to++) {
    struct curl_slist *n = curl_slist_append(t->rcpts, *to);
    if (n)
      t->rcpts = n;
  }
  if (!t->upload || !t->rcpts) {
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->rcpts);
    buf_free(&t->body);
    free(t->upload);
    free(t);
    return KX_ENOMEM;
  }
  CURL *e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, m->url);
  curl_easy_setopt(e, CURLOPT_MAIL_FROM, m->from);
  curl_easy_setopt(e, CURLOPT_MAIL_RCPT, t->rcpts);
  curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt(e, CURLOPT_READDATA, t);
  curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)t->upload_len);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)HTTP_DEFAULT_CONNECT_TIMEOUT_MS);
  if (m->starttls)
    curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
  if (m->username)
    curl_easy_setopt(e, CURLOPT_USERNAME, m->username);
  if (m->password)
    curl_easy_setopt(e, CURLOPT_PASSWORD, m->password);
  return start(t);
}

void http_client_close(struct http_client *c, void (*done)(void *arg), void *arg)
{
  if (!c || c->closing)
    return;
  c->closing = 1;
  c->done = done;
  c->done_arg = arg;
  /* Each finish() unlinks its transfer; no new one can start while closing. */
  for (struct transfer *t = c->transfers, *next; t; t = next) {
    next = t->next;
    finish(t, CURLE_ABORTED_BY_CALLBACK);
  }
  /* curl_multi_cleanup calls the socket callback again: our poll state is still valid. */
  curl_multi_cleanup(c->multi);
  c->multi = NULL;
  uv_timer_stop(&c->timer);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

long long http_cert_date_ms(const char *s)
{
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  while (s && *s == ' ')
    s++;
  const char *end = s ? strptime(s, "%b %d %H:%M:%S %Y", &tm) : NULL;
  if (!end)
    return 0;
  while (*end == ' ')
    end++;
  if (strcmp(end, "GMT") != 0)
    return 0;
  time_t t = timegm(&tm);
  return t == (time_t)-1 ? 0 : (long long)t * 1000;
}
