#include "bot/twilio/twilio_send.h"

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/form.h"
#include "lib/kx.h"
#include "lib/log.h"

struct twilio_send {
  struct http_client *http;
  char *api_url;
  char *account_sid;
  char *from;
  char *authorization; /* "Authorization: Basic …" (the token inside: never logged) */
};

struct twilio_call {
  struct sender *s;
  sender_done_fn done;
  int64_t id;
  char method[16];
};

static bool sid_ok(const char *s)
{
  size_t n = 0;
  for (; s[n]; n++)
    if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'z') ||
          (s[n] >= 'A' && s[n] <= 'Z')))
      return false;
  return n > 0 && n <= 64;
}

void twilio_send_free(struct twilio_send *t)
{
  if (!t)
    return;
  if (t->authorization)
    explicit_bzero(t->authorization, strlen(t->authorization));
  free(t->authorization);
  free(t->api_url);
  free(t->account_sid);
  free(t->from);
  free(t);
}

struct twilio_send *twilio_send_new(struct http_client *http,
                                    const char *api_url,
                                    const char *account_sid,
                                    const char *auth_token,
                                    const char *from)
{
  if (!account_sid || !sid_ok(account_sid) || !auth_token || !*auth_token) {
    LOG_ERROR("twilio", "credentials", "reason=\"empty or malformed account sid or token\"");
    return NULL;
  }
  struct twilio_send *t = calloc(1, sizeof(*t));
  if (!t)
    return NULL;
  t->http = http;
  t->api_url = strdup(api_url && *api_url ? api_url : TWILIO_DEFAULT_API_URL);
  t->account_sid = strdup(account_sid);
  t->from = from ? strdup(from) : NULL;
  /* Basic auth, base64(sid:token). */
  size_t plain_len = strlen(account_sid) + 1 + strlen(auth_token);
  char *plain = malloc(plain_len + 1);
  size_t enc_len = 4 * ((plain_len + 2) / 3);
  const char prefix[] = "Authorization: Basic ";
  t->authorization = malloc(sizeof(prefix) + enc_len + 1);
  if (!plain || !t->api_url || !t->account_sid || (from && !t->from) || !t->authorization) {
    free(plain);
    twilio_send_free(t);
    return NULL;
  }
  snprintf(plain, plain_len + 1, "%s:%s", account_sid, auth_token);
  memcpy(t->authorization, prefix, sizeof(prefix) - 1);
  EVP_EncodeBlock((unsigned char *)t->authorization + sizeof(prefix) - 1,
                  (const unsigned char *)plain, (int)plain_len);
  explicit_bzero(plain, plain_len);
  free(plain);
  /* No trailing slash: the path is appended. */
  size_t n = strlen(t->api_url);
  while (n > 0 && t->api_url[n - 1] == '/')
    t->api_url[--n] = '\0';
  return t;
}

int twilio_request(const char *api_url,
                   const char *account_sid,
                   const char *from,
                   const char *method,
                   const char *row_body,
                   char **url,
                   char **form)
{
  *url = NULL;
  *form = NULL;
  if (strcmp(method, "Messages") != 0 && strcmp(method, "Calls") != 0)
    return KX_EUNSUPPORTED;
  if (!sid_ok(account_sid))
    return KX_EINVAL;
  cJSON *body = row_body ? cJSON_Parse(row_body) : NULL;
  if (!cJSON_IsObject(body)) {
    cJSON_Delete(body);
    return KX_EINVAL;
  }
  struct buf b;
  buf_init(&b, TWILIO_BODY_MAX);
  int rc = 0;
  bool has_to = false, has_from = false;
  const cJSON *m;
  cJSON_ArrayForEach (m, body) {
    if (!cJSON_IsString(m) || !m->string || !*m->string) {
      rc = KX_EINVAL;
      break;
    }
    has_to |= strcmp(m->string, "To") == 0;
    has_from |= strcmp(m->string, "From") == 0;
    if ((rc = form_append(&b, m->string, m->valuestring)) != 0)
      break;
  }
  if (!rc && !has_to)
    rc = KX_EINVAL;
  if (!rc && !has_from) {
    if (from && *from)
      rc = form_append(&b, "From", from);
    else
      rc = KX_EINVAL;
  }
  cJSON_Delete(body);
  if (rc) {
    buf_free(&b);
    return rc;
  }
  size_t ulen = strlen(api_url) + strlen(account_sid) + 64;
  char *u = malloc(ulen);
  if (!u) {
    buf_free(&b);
    return KX_ENOMEM;
  }
  snprintf(u, ulen, "%s/" TWILIO_API_VERSION "/Accounts/%s/%s.json", api_url, account_sid, method);
  *url = u;
  *form = buf_take(&b);
  if (!*form) {
    /* An empty body cannot happen (To is there), but buf_take of nothing gives NULL. */
    free(u);
    *url = NULL;
    return KX_ENOMEM;
  }
  return 0;
}

int twilio_result(
    int transport_err, long status, const char *body, char *error, size_t error_size, cJSON **json)
{
  *json = NULL;
  error[0] = '\0';
  if (transport_err || status == 0) {
    snprintf(error, error_size, "twilio_transport");
    return KX_ERETRY;
  }
  cJSON *j = body ? cJSON_Parse(body) : NULL;
  if (status >= 200 && status < 300) {
    *json = cJSON_IsObject(j) ? j : (cJSON_Delete(j), cJSON_CreateObject());
    return *json ? 0 : KX_ENOMEM;
  }
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "code");
  const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
  if (cJSON_IsNumber(code))
    snprintf(error, error_size, "twilio_%d: %.200s", code->valueint,
             cJSON_IsString(msg) ? msg->valuestring : "-");
  else
    snprintf(error, error_size, "twilio_http_%ld", status);
  cJSON_Delete(j);
  if (status == 429)
    return KX_ERATELIMITED;
  if (status >= 500)
    return KX_ERETRY;
  return KX_EPLATFORM;
}

static void on_response(void *arg, const struct http_response *r)
{
  struct twilio_call *c = arg;
  char error[256];
  cJSON *json = NULL;
  int err = twilio_result(r->err, r->status, r->body, error, sizeof(error), &json);
  if (err == KX_ENOMEM)
    err = KX_ERETRY;
  if (err) {
    LOG_WARN("twilio", "refused", "id=%lld method=%s status=%ld error=\"%s\"", (long long)c->id,
             c->method, r->status, error);
  } else {
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(json, "sid");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(json, "status");
    LOG_INFO("twilio", "accepted", "id=%lld method=%s sid=%s status=%s", (long long)c->id,
             c->method, cJSON_IsString(sid) ? sid->valuestring : "-",
             cJSON_IsString(st) ? st->valuestring : "-");
  }
  c->done(c->s, c->id, err, err ? error : NULL, r->retry_after_s, json);
  cJSON_Delete(json);
  free(c);
}

int twilio_send_row(void *arg, struct sender *s, const struct outbox_row *row, sender_done_fn done)
{
  struct twilio_send *t = arg;
  char *url = NULL, *form = NULL;
  int rc = twilio_request(t->api_url, t->account_sid, t->from, row->method, row->body, &url, &form);
  if (rc) {
    LOG_ERROR("twilio", "unsendable", "id=%lld method=%s err=%s", (long long)row->id, row->method,
              kx_err_name(rc));
    return rc == KX_ETOOBIG ? KX_EINVAL : rc;
  }
  struct twilio_call *c = calloc(1, sizeof(*c));
  if (!c) {
    free(url);
    free(form);
    return KX_ENOMEM;
  }
  c->s = s;
  c->done = done;
  c->id = row->id;
  snprintf(c->method, sizeof(c->method), "%s", row->method);
  const char *headers[] = {t->authorization, "Content-Type: application/x-www-form-urlencoded",
                           "Accept: application/json", NULL};
  struct http_request req = {
      .method = "POST",
      .url = url,
      .headers = headers,
      .body = form,
      .body_len = strlen(form),
      .timeout_ms = TWILIO_TIMEOUT_MS,
      .max_response = TWILIO_RESPONSE_MAX,
  };
  rc = http_client_send(t->http, &req, on_response, c);
  free(url);
  free(form);
  if (rc)
    free(c);
  return rc;
}
