/*
 * config_twilio.c — the twilio block (issue 11): {account_sid_env, auth_token_env, from}. The
 * two secrets are named, never given (like every *_env key); `from` is the Twilio number calls
 * and texts come from, in E.164 (+ and 2 to 15 digits, the first not 0).
 */
#include <stdbool.h>

#include "bot/config/config_load_internal.h"

static bool is_e164(const char *s)
{
  if (s[0] != '+' || s[1] < '1' || s[1] > '9')
    return false;
  size_t n = 0;
  for (const char *p = s + 1; *p; p++, n++)
    if (*p < '0' || *p > '9')
      return false;
  return n >= 2 && n <= 15;
}

static const struct cfg_check E164 = {
    is_e164, "an E.164 phone number (+, the country code and the number, like +15005550006)",
    false};

static const char *const TWILIO_KEYS[] = {"account_sid_env", "auth_token_env", "from", NULL};

void cfg_load_twilio(struct cfg_loader *L, yaml_node_t *n)
{
  struct cfg_obj o;
  if (!n)
    return;
  if (!cfg_obj_open(L, n, "twilio", TWILIO_KEYS, &o))
    return;
  cfg_checked(L, cfg_need(L, &o, "twilio", "account_sid_env", "(like TWILIO_ACCOUNT_SID)"),
              "twilio.account_sid_env", &CFG_ENV, &L->c->twilio.account_sid_env);
  cfg_checked(L, cfg_need(L, &o, "twilio", "auth_token_env", "(like TWILIO_AUTH_TOKEN)"),
              "twilio.auth_token_env", &CFG_ENV, &L->c->twilio.auth_token_env);
  cfg_checked(L, cfg_need(L, &o, "twilio", "from", "(your Twilio number, like +15005550006)"),
              "twilio.from", &E164, &L->c->twilio.from);
}
