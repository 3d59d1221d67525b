#include "bot/twilio/twilio.h"

#include <stdio.h>
#include <stdlib.h>

#include "bot/twilio/twilio_send.h"
#include "lib/kx.h"
#include "lib/log.h"

struct twilio {
  const struct module_env *env;
  struct twilio_send *send;
};

static const char *env_required(const char *key, const char *env)
{
  const char *v = env ? getenv(env) : NULL;
  if (v && *v)
    return v;
  fprintf(stderr, "klaxon: %s names the environment variable %s, which is not set\n", key,
          env ? env : "?");
  LOG_ERROR("twilio", "env_missing", "key=%s env=%s", key, env ? env : "-");
  return NULL;
}

int twilio_init(const struct module_env *env, void **state)
{
  const struct config *cfg = env->config;
  *state = NULL;
  if (!cfg->twilio.from)
    return 0;
  const char *sid = env_required("twilio.account_sid_env", cfg->twilio.account_sid_env);
  const char *token = env_required("twilio.auth_token_env", cfg->twilio.auth_token_env);
  if (!sid || !token)
    return KX_ECONFIG;
  const char *api = getenv("KLAXON_TWILIO_API_URL");
  struct twilio *t = calloc(1, sizeof(*t));
  if (!t)
    return KX_ENOMEM;
  t->env = env;
  t->send = twilio_send_new(env->http, api, sid, token, cfg->twilio.from);
  if (!t->send) {
    free(t);
    fprintf(stderr, "klaxon: %s does not hold a Twilio Account SID (letters and digits)\n",
            cfg->twilio.account_sid_env);
    return KX_ECONFIG;
  }
  *state = t;
  return 0;
}

int twilio_start(void *state)
{
  struct twilio *t = state;
  if (!t)
    return 0;
  int rc = sender_register(t->env->sender, "twilio", twilio_send_row, t->send);
  if (rc)
    return rc;
  LOG_INFO("twilio", "enabled", "from=%s", t->env->config->twilio.from);
  return 0;
}

void twilio_close(void *state)
{
  struct twilio *t = state;
  if (!t)
    return;
  twilio_send_free(t->send);
  free(t);
}
