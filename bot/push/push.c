#include "bot/push/push.h"

#include "bot/push/export_send.h"
#include "bot/push/pagerduty_send.h"
#include "bot/push/push_send.h"
#include "bot/push/tracker_send.h"

int push_init(const struct module_env *env, void **state)
{
  /* The env outlives the modules (app.c owns it); the sender is set only before start. */
  *state = (void *)env;
  return 0;
}

int push_start(void *state)
{
  const struct module_env *env = state;
  int rc = sender_register(env->sender, "push", push_send_row, env->http);
  /* PagerDuty events of `pagerduty:KEY_ENV` escalation steps (issue 14). */
  rc = rc ? rc : sender_register(env->sender, "pagerduty", pagerduty_send_row, env->http);
  /* The postmortem to Confluence or a webhook (issue 14). */
  rc = rc ? rc : sender_register(env->sender, "export", export_send_row, env->http);
  /* Action items filed in GitHub or Jira (issue 14). */
  return rc ? rc : sender_register(env->sender, "tracker", tracker_send_row, env->http);
}
