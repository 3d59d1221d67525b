/*
 * teams_webhook.c — POST /teams/webhook: Teams Outgoing Webhooks, verified by HMAC-SHA256 and
 * answered in the HTTP response (Teams waits 5 s). See teams.h.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/modules.h"
#include "bot/teams/teams.h"
#include "bot/teams/teams_activity.h"
#include "bot/teams/teams_auth.h"
#include "bot/teams/teams_connector.h"
#include "bot/teams/teams_internal.h"
#include "bot/teams/teams_request.h"
#include "commands/core/msg.h"
#include "commands/core/people.h"
#include "commands/core/render_teams.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "storage/outbox.h"
#include "storage/teams_store.h"

/* ---- POST /teams/webhook --------------------------------------------------------------------- */

int teams__on_webhook(void *arg,
                      const struct httpd_request *req,
                      struct httpd_response *resp,
                      struct httpd_pending *later)
{
  (void)later;
  struct teams *t = arg;
  const char *env = t->cfg->outgoing_webhook_secret_env;
  const char *secret = env ? getenv(env) : NULL;
  int rc = secret && *secret
               ? teams_hmac_verify(req->authorization, req->body, req->body_len, secret)
               : KX_ECONFIG;
  if (rc) {
    LOG_WARN("teams", "webhook_refused", "err=%s", kx_err_name(rc));
    teams__count("webhook", "auth_refused");
    httpd_error(resp, 401, "unauthorized");
    return HTTPD_DONE;
  }
  struct teams_activity *act = NULL;
  rc = teams_activity_parse(req->body, req->body_len, &act);
  if (rc) {
    teams__count("webhook", "malformed");
    httpd_error(resp, 400, "not a Teams message");
    return HTTPD_DONE;
  }
  /* The HMAC covers the body, not when it was sent: a captured request stays valid. So the
   * activity's timestamp must be fresh on the real clock (KLAXON_NOW does not move it), and a
   * replay inside the window is a redelivery of the same activity id (dropped by dispatch). */
  int64_t wall = (int64_t)clock_wall_ms();
  if (act->timestamp_ms < 0 || act->timestamp_ms < wall - TEAMS_WEBHOOK_FRESH_MS ||
      act->timestamp_ms > wall + TEAMS_WEBHOOK_FRESH_MS) {
    char q[80];
    LOG_WARN("teams", "webhook_stale", "timestamp=%s skew_ms=%lld",
             log_quote(q, sizeof(q), act->timestamp ? act->timestamp : "-"),
             act->timestamp_ms < 0 ? 0LL : (long long)(wall - act->timestamp_ms));
    teams__count("webhook", "stale");
    httpd_error(resp, 401, "unauthorized: the request is not fresh");
    teams_activity_free(act);
    return HTTPD_DONE;
  }
  const char *refused = teams__refusal(t, act);
  if (refused) {
    teams__count("webhook", refused);
    httpd_error(resp, 403, "this bot serves Microsoft Teams in its own tenant only");
    teams_activity_free(act);
    return HTTPD_DONE;
  }
  /* Every Outgoing Webhook message is addressed to the webhook: its mention leads the text. */
  teams_webhook_addressed(act);
  struct cmd_request creq;
  struct teams_req_strings strs;
  enum teams_route route =
      teams_request_build(act, clock_now_ms(), teams__aad_lookup, t, &creq, &strs);
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  const char *result = "ignored";
  if (route == TEAMS_ROUTE_DISPATCH && creq.kind == CMD_KIND_COMMAND) {
    rc = app_dispatch(t->env->app, &creq, &reply);
    result = rc == KX_EDUPLICATE ? "redelivery" : rc ? "failed" : "ok";
  } else {
    result = "help";
    teams__help_reply(&reply);
  }
  teams__count("webhook", result);
  char *md = teams__reply_markdown(t, reply.text.len ? reply.text.data : "Done.");
  cJSON *out = render_teams_reply_activity(md, reply.card, NULL);
  char *json = out ? cJSON_PrintUnformatted(out) : NULL;
  httpd_json(resp, json ? 200 : 500, json ? json : "{\"error\":\"out of memory\"}");
  free(json);
  cJSON_Delete(out);
  free(md);
  cmd_reply_free(&reply);
  teams_req_strings_free(&strs);
  teams_activity_free(act);
  return HTTPD_DONE;
}
