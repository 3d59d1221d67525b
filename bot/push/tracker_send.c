#include "bot/push/tracker_send.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/push/push_send.h"
#include "lib/kx.h"
#include "lib/log.h"

struct tr_call {
  struct sender *s;
  sender_done_fn done;
  int64_t id;
  char *json;
  char *url;
  char *auth; /* "Authorization: …", wiped when done */
};

static void call_free(struct tr_call *c)
{
  if (!c)
    return;
  if (c->auth)
    OPENSSL_cleanse(c->auth, strlen(c->auth));
  free(c->auth);
  free(c->url);
  free(c->json);
  free(c);
}

static void on_response(void *arg, const struct http_response *r)
{
  struct tr_call *c = arg;
  char error[64];
  cJSON *json = NULL;
  int err = push_result(r->err, r->status, r->body, error, sizeof(error), &json);
  if (err == KX_ENOMEM)
    err = KX_ERETRY;
  if (err) {
    snprintf(error, sizeof(error), "tracker_http_%ld", r->status);
    LOG_WARN("tracker", "refused", "id=%lld status=%ld", (long long)c->id, r->status);
  } else {
    LOG_INFO("tracker", "sent", "id=%lld status=%ld", (long long)c->id, r->status);
  }
  c->done(c->s, c->id, err, err ? error : NULL, r->retry_after_s, json);
  cJSON_Delete(json);
  call_free(c);
}

static const char *env_of(const cJSON *body, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
  const char *s = cJSON_IsString(v) ? getenv(v->valuestring) : NULL;
  return s && *s ? s : NULL;
}

static const char *str_of(const cJSON *body, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
  return cJSON_IsString(v) && *v->valuestring ? v->valuestring : NULL;
}

static bool header_safe(const char *s)
{
  return s && !strpbrk(s, "\r\n");
}

/* "Authorization: Basic base64(email:token)". */
static char *basic(const char *email, const char *token)
{
  char *pair = kx_asprintf("%s:%s", email, token);
  if (!pair)
    return NULL;
  size_t n = strlen(pair);
  char *b64 = malloc(4 * ((n + 2) / 3) + 1);
  char *out = NULL;
  if (b64) {
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)pair, (int)n);
    out = kx_asprintf("Authorization: Basic %s", b64);
    OPENSSL_cleanse(b64, strlen(b64));
  }
  OPENSSL_cleanse(pair, n);
  free(pair);
  free(b64);
  return out;
}

int tracker_send_row(void *arg, struct sender *s, const struct outbox_row *row, sender_done_fn done)
{
  struct http_client *http = arg;
  cJSON *body = row->body ? cJSON_Parse(row->body) : NULL;
  const char *kind = str_of(body, "kind");
  const char *token = env_of(body, "token_env");
  const char *why = NULL;
  struct tr_call *c = calloc(1, sizeof(*c));
  if (!c) {
    cJSON_Delete(body);
    return KX_ENOMEM;
  }
  cJSON *issue = cJSON_GetObjectItemCaseSensitive(body, "issue");
  if (!kind || !cJSON_IsObject(issue)) {
    why = "bad body";
  } else if (!token || !header_safe(token)) {
    why = "the token's variable is not set";
  } else if (strcmp(kind, "github") == 0) {
    const char *repo = str_of(body, "repo");
    const char *api = getenv("KLAXON_GITHUB_API_URL");
    if (!repo)
      why = "no repo";
    else {
      c->url = kx_asprintf("%s/repos/%s/issues", api && *api ? api : GITHUB_API_URL, repo);
      c->auth = kx_asprintf("Authorization: Bearer %s", token);
    }
  } else if (strcmp(kind, "jira") == 0) {
    const char *base = str_of(body, "url");
    const char *email = env_of(body, "email_env");
    if (!base)
      why = "no url";
    else if (!email || !header_safe(email))
      why = "the email's variable is not set";
    else {
      size_t bl = strlen(base);
      c->url = kx_asprintf("%.*s/rest/api/3/issue", (int)(base[bl - 1] == '/' ? bl - 1 : bl), base);
      c->auth = basic(email, token);
    }
  } else {
    why = "unknown tracker";
  }
  if (why) {
    LOG_ERROR("tracker", "unsendable", "id=%lld reason=\"%s\"", (long long)row->id, why);
    cJSON_Delete(body);
    call_free(c);
    return KX_EINVAL;
  }
  c->json = cJSON_PrintUnformatted(issue);
  bool github = strcmp(kind, "github") == 0;
  cJSON_Delete(body);
  if (!c->json || !c->url || !c->auth) {
    call_free(c);
    return KX_ENOMEM;
  }
  c->s = s;
  c->done = done;
  c->id = row->id;
  const char *gh[] = {c->auth,
                      "Accept: application/vnd.github+json",
                      "X-GitHub-Api-Version: 2022-11-28",
                      "Content-Type: application/json",
                      "User-Agent: klaxon",
                      NULL};
  const char *jira[] = {c->auth, "Accept: application/json", "Content-Type: application/json",
                        NULL};
  struct http_request req = {
      .method = "POST",
      .url = c->url,
      .headers = github ? gh : jira,
      .body = c->json,
      .body_len = strlen(c->json),
      .timeout_ms = PUSH_TIMEOUT_MS,
      .max_response = PUSH_RESPONSE_MAX,
  };
  int rc = http_client_send(http, &req, on_response, c);
  if (rc)
    call_free(c);
  return rc;
}
