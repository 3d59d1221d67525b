/*
 * http_client.h — outgoing HTTP (and SMTP) on the bot's libuv loop, through libcurl's
 * multi_socket interface. The only module that includes curl.
 *
 * A request's strings are copied; the caller may free them after http_client_send returns.
 * The callback runs exactly once per accepted request, from the loop, with a response whose
 * memory is valid only during the call. A function that takes a callback and returns an error
 * never calls the callback (libuv's rule). Every request has connect and total timeouts and a
 * cap on the response size; signals are not used (CURLOPT_NOSIGNAL).
 */
#ifndef KX_HTTP_CLIENT_H
#define KX_HTTP_CLIENT_H

#include <stddef.h>
#include <uv.h>

#define HTTP_RESPONSE_MAX ((size_t)4 * 1024 * 1024)
#define HTTP_DEFAULT_TIMEOUT_MS 15000
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 5000

struct http_client;

struct http_request {
  const char *method; /* "GET", "POST", "PUT", "DELETE" */
  const char *url;
  const char *const *headers; /* "Name: value", NULL-terminated; may be NULL */
  const char *body;           /* may be NULL */
  size_t body_len;
  long timeout_ms;         /* 0: HTTP_DEFAULT_TIMEOUT_MS */
  long connect_timeout_ms; /* 0: HTTP_DEFAULT_CONNECT_TIMEOUT_MS */
  size_t max_response;     /* 0: HTTP_RESPONSE_MAX */
  int want_cert;           /* https: a fresh connection, and the leaf certificate's expiry */
};

struct http_response {
  int err;          /* 0, or KX_ETIMEOUT / KX_EIO / KX_ETOOBIG / KX_ENOMEM (no status then) */
  long status;      /* HTTP status, 0 when err */
  const char *body; /* NUL-terminated */
  size_t body_len;
  long retry_after_s; /* Retry-After in seconds, -1 when absent */
  const char *content_type;
  const char *error_text; /* curl's sentence when err */
  double total_ms;
  long long cert_expires_ms; /* want_cert: the server certificate's notAfter, 0 when unknown */
};

/* "Jan 12 23:59:59 2027 GMT" (curl's certinfo "Expire date") in ms since the epoch, or 0. */
long long http_cert_date_ms(const char *s);

/* An email for http_client_smtp. */
struct smtp_message {
  const char *url;       /* smtp://host:port or smtps://… */
  const char *from;      /* envelope sender */
  const char *const *to; /* NULL-terminated */
  const char *username;  /* may be NULL */
  const char *password;
  int starttls;        /* require STARTTLS on smtp:// */
  const char *payload; /* the full RFC 5322 message, CRLF line ends */
};

typedef void (*http_cb)(void *arg, const struct http_response *resp);

struct http_client *http_client_new(uv_loop_t *loop);
int http_client_send(struct http_client *c, const struct http_request *req, http_cb cb, void *arg);
/* Send an email; the response's status is the last SMTP reply code (250 on success). */
int http_client_smtp(struct http_client *c, const struct smtp_message *m, http_cb cb, void *arg);
/* Abort what is running (their callbacks run with KX_EIO), release curl and close the
 * handles; `done` runs once everything is closed, from the loop. */
void http_client_close(struct http_client *c, void (*done)(void *arg), void *arg);

#endif
