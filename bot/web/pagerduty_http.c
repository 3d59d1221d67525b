#include "bot/web/pagerduty_http.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/modules.h"
#include "commands/paging/alerts.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"

struct pd_bucket {
  double tokens;
  uint64_t at_ms;
};

struct pd_http {
  const struct module_env *env;
  struct pd_bucket *buckets; /* one per variable of alerts.pagerduty_keys_env */
};

static void answer(struct httpd_response *resp, int status, cJSON *body)
{
  char *text = cJSON_PrintUnformatted(body);
  httpd_json(resp, status, text ? text : "{\"status\":\"error\"}");
  free(text);
  cJSON_Delete(body);
}

static cJSON *invalid(const char *status, const char *message, cJSON *errors)
{
  cJSON *o = cJSON_CreateObject();
  if (!o) {
    cJSON_Delete(errors);
    return NULL;
  }
  cJSON_AddStringToObject(o, "status", status);
  cJSON_AddStringToObject(o, "message", message);
  if (errors)
    cJSON_AddItemToObject(o, "errors", errors);
  return o;
}

static void refuse(struct httpd_response *resp,
                   const struct httpd_request *req,
                   int status,
                   cJSON *body,
                   const char *why)
{
  char labels[48];
  snprintf(labels, sizeof(labels), "status=\"%d\"", status);
  metrics_inc("klaxon_pagerduty_events_refused_total", labels, 1);
  LOG_WARN("alerts", "pagerduty_refused", "status=%d peer=%s reason=\"%s\"", status, req->peer,
           why);
  answer(resp, status, body);
}

/* Which variable's key this is: every variable is compared, in constant time, whatever
 * matched before; -1 for none. */
static int key_index(const struct config *c, const char *given)
{
  int found = -1;
  for (size_t i = 0; i < c->alerts.n_pagerduty_keys_env; i++) {
    const char *want = getenv(c->alerts.pagerduty_keys_env[i]);
    if (!want || !*want)
      continue;
    if (kx_ct_equal(given, strlen(given), want, strlen(want)) == 1 && found < 0)
      found = (int)i;
  }
  return found;
}

static bool take_token(struct pd_bucket *b)
{
  uint64_t now = clock_mono_ms();
  if (b->at_ms == 0) {
    b->tokens = PD_RATE_BURST;
  } else {
    b->tokens += (double)(now - b->at_ms) / 1000.0 * PD_RATE_PER_S;
    if (b->tokens > PD_RATE_BURST)
      b->tokens = PD_RATE_BURST;
  }
  b->at_ms = now;
  if (b->tokens < 1)
    return false;
  b->tokens -= 1;
  return true;
}

/* A trigger without a dedup_key gets a fresh one, as PagerDuty gives (a UUID). */
static int fresh_dedup(char out[37])
{
  unsigned char r[16];
  if (RAND_bytes(r, (int)sizeof(r)) != 1)
    return KX_EIO;
  r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
  r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
           r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
           r[15]);
  return 0;
}

static int on_event(void *arg,
                    const struct httpd_request *req,
                    struct httpd_response *resp,
                    struct httpd_pending *later)
{
  (void)later;
  struct pd_http *pd = arg;
  const struct module_env *env = pd->env;
  cJSON *root = cJSON_ParseWithLength(req->body, req->body_len);
  if (!root) {
    cJSON *errors = cJSON_CreateArray();
    if (errors)
      cJSON_AddItemToArray(errors, cJSON_CreateString("JSON parse error"));
    refuse(resp, req, 400,
           invalid("Unrecognized object", "Event object format is unrecognized", errors),
           "not JSON");
    return HTTPD_DONE;
  }
  const cJSON *rk = cJSON_GetObjectItemCaseSensitive(root, "routing_key");
  int which = cJSON_IsString(rk) ? key_index(env->config, rk->valuestring) : -1;
  if (which < 0) {
    cJSON *errors = cJSON_CreateArray();
    if (errors)
      cJSON_AddItemToArray(
          errors,
          cJSON_CreateString(cJSON_IsString(rk) ? "'routing_key' is not one this service accepts"
                                                : "'routing_key' is missing or not a string"));
    cJSON_Delete(root);
    refuse(resp, req, 400, invalid("invalid event", "Event object is invalid", errors),
           "unknown routing key");
    return HTTPD_DONE;
  }
  const char *key_env = env->config->alerts.pagerduty_keys_env[which];
  if (!take_token(&pd->buckets[which])) {
    cJSON_Delete(root);
    refuse(resp, req, 429,
           invalid("throttle event",
                   "Requests for this service are arriving too quickly. "
                   "Please retry later.",
                   NULL),
           "rate");
    return HTTPD_DONE;
  }
  cJSON *errors = cJSON_CreateArray();
  char why[256];
  if (alerts_pd_check(root, errors, why, sizeof(why)) != 0) {
    cJSON_Delete(root);
    refuse(resp, req, 400, invalid("invalid event", "Event object is invalid", errors), why);
    return HTTPD_DONE;
  }
  cJSON_Delete(errors);
  /* What is stored names the key's variable, never the key. */
  cJSON_DeleteItemFromObjectCaseSensitive(root, "routing_key");
  cJSON_DeleteItemFromObjectCaseSensitive(root, "routing_key_env");
  cJSON_AddStringToObject(root, "routing_key_env", key_env);
  const cJSON *dk = cJSON_GetObjectItemCaseSensitive(root, "dedup_key");
  if (!cJSON_IsString(dk) || !*dk->valuestring) {
    char uuid[37];
    if (fresh_dedup(uuid) != 0) {
      cJSON_Delete(root);
      answer(resp, 500, invalid("error", "no randomness for a dedup_key; retry", NULL));
      return HTTPD_DONE;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(root, "dedup_key");
    cJSON_AddStringToObject(root, "dedup_key", uuid);
  }
  char *dedup = kx_strdup(cJSON_GetObjectItemCaseSensitive(root, "dedup_key")->valuestring);
  struct cmd_request creq = {
      .platform = CMD_PLATFORM_HTTP,
      .kind = CMD_KIND_ACTION,
      .now_ms = clock_now_ms(),
      .action_id = CMD_ACTION_ALERTS_PD,
      .user = "pagerduty",
      .payload = root,
  };
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  int rc = dedup ? app_dispatch(env->app, &creq, &reply) : KX_ENOMEM;
  if (rc == 0) {
    cJSON *ok = cJSON_CreateObject();
    if (ok) {
      cJSON_AddStringToObject(ok, "status", "success");
      cJSON_AddStringToObject(ok, "message", "Event processed");
      cJSON_AddStringToObject(ok, "dedup_key", dedup);
    }
    answer(resp, 202, ok);
  } else {
    /* PagerDuty's 5xx: the sender retries. */
    answer(resp, 500, invalid("error", "the event could not be stored; retry", NULL));
  }
  LOG_INFO("alerts", "pagerduty_event", "key_env=%s action=%d status=%d", key_env,
           alerts_pd_action(root), resp->status);
  cmd_reply_free(&reply);
  free(dedup);
  cJSON_Delete(root);
  return HTTPD_DONE;
}

int pagerduty_http_init(const struct module_env *env, void **state)
{
  metrics_describe("klaxon_pagerduty_events_refused_total", METRIC_COUNTER,
                   "PagerDuty Events API v2 requests refused, by HTTP status");
  if (!env->httpd || env->config->alerts.n_pagerduty_keys_env == 0)
    return 0;
  struct pd_http *pd = calloc(1, sizeof(*pd));
  if (pd)
    pd->buckets = calloc(env->config->alerts.n_pagerduty_keys_env, sizeof(*pd->buckets));
  if (!pd || !pd->buckets) {
    free(pd);
    return KX_ENOMEM;
  }
  pd->env = env;
  *state = pd;
  static const char *const PATHS[] = {"/alerts/pagerduty", "/v2/enqueue"};
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < KX_ARRAY_SIZE(PATHS); i++) {
    struct httpd_route r = {
        .method = "POST", .path = PATHS[i], .max_body = PD_MAX_BODY, .fn = on_event, .arg = pd};
    rc = httpd_route(env->httpd, &r);
  }
  return rc;
}

void pagerduty_http_close(void *state)
{
  struct pd_http *pd = state;
  if (!pd)
    return;
  free(pd->buckets);
  free(pd);
}
