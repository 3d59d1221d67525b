/*
 * teams_wire.c — the pure parts of the Teams connector (declared in teams_connector.h): ids in
 * paths, connector URLs, which URLs may receive our token, what an answer means, the token
 * endpoint's form and answer, and the Workflows body. No state, no network.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/teams/teams_connector.h"
#include "lib/buf.h"
#include "lib/kx.h"

/* ---- pure helpers ---------------------------------------------------------------------------- */

char *teams_path_escape(const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  if (!s)
    return NULL;
  size_t n = strlen(s);
  char *out = malloc(n * 3 + 1);
  if (!out)
    return NULL;
  char *o = out;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '.' || *p == '_' || *p == '~') {
      *o++ = (char)*p;
    } else {
      *o++ = '%';
      *o++ = hex[*p >> 4];
      *o++ = hex[*p & 15];
    }
  }
  *o = '\0';
  return out;
}

int teams_service_url_ok(const char *url)
{
  if (!url)
    return 0;
  const char *host = NULL;
  if (strncasecmp(url, "https://", 8) == 0)
    host = url + 8;
  else if (strncasecmp(url, "http://", 7) == 0)
    host = url + 7;
  if (!host || !*host || *host == '/' || *host == ':')
    return 0;
  for (const char *p = url; *p; p++)
    if ((unsigned char)*p <= ' ' || *p == '\\' || *p == '#' || *p == '?')
      return 0;
  return 1;
}

/* Host part of an http(s) URL: [start, start+len). 0 on success. */
static int url_origin(const char *url, const char **host, size_t *len, bool *https)
{
  if (!teams_service_url_ok(url))
    return KX_EINVAL;
  *https = strncasecmp(url, "https://", 8) == 0;
  *host = url + (*https ? 8 : 7);
  *len = strcspn(*host, "/");
  return 0;
}

static bool host_is_or_under(const char *host, size_t len, const char *domain)
{
  size_t n = strlen(domain);
  const char *h = host;
  size_t hl = len;
  const char *colon = memchr(host, ':', len);
  if (colon)
    hl = (size_t)(colon - host);
  if (hl == n && strncasecmp(h, domain, n) == 0)
    return true;
  return hl > n + 1 && h[hl - n - 1] == '.' && strncasecmp(h + hl - n, domain, n) == 0;
}

/* Where Microsoft's Bot Connector lives (public cloud, GCC, GCC High, DoD): an activity's
 * serviceUrl is kept only on one of these, over https, or on the operator's own
 * teams.service_url (its scheme, host and port: a proxy, or the local stand-in in tests). */
static const char *const SERVICE_DOMAINS[] = {"trafficmanager.net",    "botframework.com",
                                              "teams.microsoft.com",   "teams.microsoft.us",
                                              "botframework.azure.us", NULL};

bool teams_service_url_trusted(const char *url, const char *configured)
{
  const char *host, *chost;
  size_t len, clen;
  bool https, chttps;
  if (url_origin(url, &host, &len, &https) != 0)
    return false;
  if (configured && url_origin(configured, &chost, &clen, &chttps) == 0 && https == chttps &&
      len == clen && strncasecmp(host, chost, len) == 0)
    return true;
  if (!https || memchr(host, '@', len))
    return false;
  for (const char *const *d = SERVICE_DOMAINS; *d; d++)
    if (host_is_or_under(host, len, *d))
      return true;
  return false;
}

char *teams_connector_url(const char *service_url, const char *conversation, const char *activity)
{
  if (!teams_service_url_ok(service_url))
    return NULL;
  size_t n = strlen(service_url);
  const char *slash = n && service_url[n - 1] == '/' ? "" : "/";
  char *conv = conversation ? teams_path_escape(conversation) : NULL;
  char *act = activity ? teams_path_escape(activity) : NULL;
  char *url = NULL;
  if ((conversation && !conv) || (activity && !act))
    url = NULL;
  else if (!conversation)
    url = kx_asprintf("%s%sv3/conversations", service_url, slash);
  else if (!activity)
    url = kx_asprintf("%s%sv3/conversations/%s/activities", service_url, slash, conv);
  else
    url = kx_asprintf("%s%sv3/conversations/%s/activities/%s", service_url, slash, conv, act);
  free(conv);
  free(act);
  return url;
}

char *teams_member_url(const char *service_url, const char *conversation, const char *user)
{
  if (!teams_service_url_ok(service_url) || !conversation || !user)
    return NULL;
  size_t n = strlen(service_url);
  char *conv = teams_path_escape(conversation);
  char *u = teams_path_escape(user);
  char *url = conv && u ? kx_asprintf("%s%sv3/conversations/%s/members/%s", service_url,
                                      n && service_url[n - 1] == '/' ? "" : "/", conv, u)
                        : NULL;
  free(conv);
  free(u);
  return url;
}

int teams_classify(long status, const char *body, char *error, size_t size)
{
  snprintf(error, size, "http_%ld", status);
  /* Connectors and Workflows report throttling in the body, whatever the status. */
  if (body && strstr(body, "HTTP error 429")) {
    snprintf(error, size, "throttled");
    return KX_ERATELIMITED;
  }
  if (status >= 200 && status < 300)
    return 0;
  if (status == 429) {
    snprintf(error, size, "throttled");
    return KX_ERATELIMITED;
  }
  if (status == 401 || status == 408 || status >= 500 || status == 0)
    return KX_ERETRY;
  cJSON *j = body ? cJSON_Parse(body) : NULL;
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
  const cJSON *sub = cJSON_GetObjectItemCaseSensitive(e, "subCode");
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
  if (cJSON_IsString(sub) && *sub->valuestring)
    snprintf(error, size, "%.60s", sub->valuestring);
  else if (cJSON_IsString(code) && *code->valuestring)
    snprintf(error, size, "%.60s", code->valuestring);
  cJSON_Delete(j);
  return KX_EPLATFORM;
}

int teams_token_parse(const char *body, char **token, int64_t *expires_in_ms)
{
  *token = NULL;
  *expires_in_ms = 0;
  cJSON *j = body ? cJSON_Parse(body) : NULL;
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "token_type");
  const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
  int rc = 0;
  double secs = -1;
  if (cJSON_IsNumber(exp))
    secs = exp->valuedouble;
  else if (cJSON_IsString(exp))
    secs = strtod(exp->valuestring, NULL); /* older endpoints send "3599" */
  if (!cJSON_IsString(t) || !*t->valuestring || secs <= 0 || secs > 7 * 86400 ||
      (type && (!cJSON_IsString(type) || strcasecmp(type->valuestring, "Bearer") != 0))) {
    rc = KX_EPROTO;
  } else if (strlen(t->valuestring) > TEAMS_TOKEN_MAX) {
    rc = KX_ETOOBIG;
  } else {
    for (const char *p = t->valuestring; *p; p++)
      if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 127)
        rc = KX_EPROTO;
    if (rc == 0) {
      *token = kx_strdup(t->valuestring);
      *expires_in_ms = (int64_t)(secs * 1000);
      if (!*token)
        rc = KX_ENOMEM;
    }
  }
  cJSON_Delete(j);
  return rc;
}

static int form_put(struct buf *b, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  int rc = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
        *p == '-' || *p == '.' || *p == '_' || *p == '~') {
      rc = buf_append(b, p, 1);
    } else {
      char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      rc = buf_append(b, e, 3);
    }
  }
  return rc;
}

char *teams_token_form(const char *app_id, const char *secret)
{
  if (!app_id || !secret)
    return NULL;
  struct buf b;
  buf_init(&b, (size_t)64 * 1024);
  int rc = buf_puts(&b, "grant_type=client_credentials&client_id=");
  if (rc == 0)
    rc = form_put(&b, app_id);
  if (rc == 0)
    rc = buf_puts(&b, "&client_secret=");
  if (rc == 0)
    rc = form_put(&b, secret);
  if (rc == 0)
    rc = buf_puts(&b, "&scope=");
  if (rc == 0)
    rc = form_put(&b, TEAMS_TOKEN_SCOPE);
  if (rc) {
    buf_free(&b);
    return NULL;
  }
  return buf_take(&b);
}

static void strip_callbacks(cJSON *actions)
{
  cJSON *a = actions ? actions->child : NULL;
  while (a) {
    cJSON *next = a->next;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(a, "type");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "Action.OpenUrl") != 0)
      cJSON_Delete(cJSON_DetachItemViaPointer(actions, a));
    a = next;
  }
}

cJSON *teams_webhook_message(const cJSON *activity)
{
  const cJSON *atts = cJSON_GetObjectItemCaseSensitive(activity, "attachments");
  cJSON *out = cJSON_CreateObject();
  cJSON *list = out ? cJSON_AddArrayToObject(out, "attachments") : NULL;
  if (!list || !cJSON_AddStringToObject(out, "type", "message")) {
    cJSON_Delete(out);
    return NULL;
  }
  const cJSON *att;
  cJSON_ArrayForEach (att, atts) {
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(att, "contentType");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(att, "content");
    if (!cJSON_IsString(ct) ||
        strcmp(ct->valuestring, "application/vnd.microsoft.card.adaptive") != 0 ||
        !cJSON_IsObject(content))
      continue;
    cJSON *card = cJSON_Duplicate(content, 1);
    cJSON *item = cJSON_CreateObject();
    if (!card || !item) {
      cJSON_Delete(card);
      cJSON_Delete(item);
      cJSON_Delete(out);
      return NULL;
    }
    cJSON *actions = cJSON_GetObjectItemCaseSensitive(card, "actions");
    strip_callbacks(actions);
    if (actions && cJSON_GetArraySize(actions) == 0)
      cJSON_DeleteItemFromObject(card, "actions");
    cJSON_AddStringToObject(item, "contentType", ct->valuestring);
    cJSON_AddNullToObject(item, "contentUrl");
    cJSON_AddItemToObject(item, "content", card);
    cJSON_AddItemToArray(list, item);
  }
  if (cJSON_GetArraySize(list) == 0) {
    /* A text-only activity: Workflows posts Adaptive Cards only, so wrap the text in one. */
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(activity, "text");
    cJSON *item = cJSON_CreateObject();
    cJSON *card = cJSON_CreateObject();
    cJSON *body = card ? cJSON_AddArrayToObject(card, "body") : NULL;
    cJSON *tb = cJSON_CreateObject();
    if (!item || !body || !tb) {
      cJSON_Delete(item);
      cJSON_Delete(card);
      cJSON_Delete(tb);
      cJSON_Delete(out);
      return NULL;
    }
    cJSON_AddStringToObject(card, "type", "AdaptiveCard");
    cJSON_AddStringToObject(card, "version", "1.4");
    cJSON_AddStringToObject(tb, "type", "TextBlock");
    cJSON_AddStringToObject(tb, "text", cJSON_IsString(text) ? text->valuestring : "");
    cJSON_AddBoolToObject(tb, "wrap", 1);
    cJSON_AddItemToArray(body, tb);
    cJSON_AddStringToObject(item, "contentType", "application/vnd.microsoft.card.adaptive");
    cJSON_AddNullToObject(item, "contentUrl");
    cJSON_AddItemToObject(item, "content", card);
    cJSON_AddItemToArray(list, item);
  }
  return out;
}
