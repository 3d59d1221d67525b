/*
 * config_twilio.c — the twilio block (issue 11): {account_sid_env, auth_token_env, from}. The
 * two secrets are named, never given (like every *_env key); `from` is the Twilio number calls
 * and texts come from, in E.164 (cfg_phone, config_notify.c: written with or without spaces).
 */
#include "bot/config/config_load_internal.h"

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
  cfg_phone(L, cfg_need(L, &o, "twilio", "from", "(your Twilio number, like +15005550006)"),
            "twilio.from", &L->c->twilio.from);
}
