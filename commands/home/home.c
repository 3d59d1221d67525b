/*
 * home.c — keeping each person's App Home current: drawn when they open the tab, after a button
 * on it, and by a job that redraws every Home whose contents changed since it was last written.
 * A view is written (a views.publish row in the outbox, one queue per user so a new one waits
 * behind an older one) only when its fingerprint differs from the last one written.
 */
#include "commands/home/home.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/names.h"
#include "commands/core/out.h"
#include "commands/incident/incident_rows.h"
#include "commands/paging/paging.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/home_views.h"
#include "storage/seen.h"

/* FNV-1a 64 of the view's JSON text, in hex: enough to see that a view changed. */
static void fingerprint(const char *text, char out[17])
{
  uint64_t h = 1469598103934665603ULL;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    h ^= *p;
    h *= 1099511628211ULL;
  }
  snprintf(out, 17, "%016llx", (unsigned long long)h);
}

int home_publish(struct cmd_ctx *ctx, const char *user, bool force)
{
  if (!user || !md_id_ok(user) || user[0] != 'U')
    return 0; /* the Home is Slack's; Teams people get the card on /oncall */
  cJSON *view = home_view_build(ctx, user);
  char *text = view ? cJSON_PrintUnformatted(view) : NULL;
  if (!text) {
    cJSON_Delete(view);
    return KX_ENOMEM;
  }
  char hash[17];
  fingerprint(text, hash);
  free(text);
  char *old = force ? NULL : home_views_hash(ctx->db, user);
  bool same = old && strcmp(old, hash) == 0;
  free(old);
  if (same) {
    cJSON_Delete(view);
    return 0;
  }
  cJSON *body = cJSON_CreateObject();
  if (!body) {
    cJSON_Delete(view);
    return KX_ENOMEM;
  }
  cJSON_AddStringToObject(body, "user_id", user);
  cJSON_AddItemToObject(body, "view", view);
  char queue[64];
  snprintf(queue, sizeof(queue), "home:%s", user);
  int rc = out_slack_call(ctx, "views.publish", queue, body, OUTBOX_NORMAL, NULL, NULL, NULL);
  if (rc == 0)
    rc = home_views_published(ctx->db, user, hash, ctx->now_ms);
  return rc;
}

#define KV_HOME_REFRESH "home.refresh" /* the key of the pending refresh job */

/* The next refresh, on the next whole HOME_REFRESH_MS of the clock. One is pending at a time:
 * its key is kept in kv, so a restart or a second opening does not start a second chain. */
static int schedule_next(struct cmd_ctx *ctx, bool chain)
{
  char *pending = kv_get(ctx->db, KV_HOME_REFRESH);
  int live = pending && pending[0] ? jobs_pending(ctx->db, pending) : 0;
  free(pending);
  if (live < 0)
    return live;
  if (live && !chain)
    return 0;
  int64_t due = (ctx->now_ms / HOME_REFRESH_MS + 1) * HOME_REFRESH_MS;
  char key[64];
  snprintf(key, sizeof(key), "home.refresh:%lld", (long long)due);
  int rc = jobs_schedule(ctx->db, CMD_JOB_HOME_REFRESH, key, due, NULL, ctx->now_ms);
  if (rc && rc != KX_EEXISTS)
    return rc;
  return kv_set(ctx->db, KV_HOME_REFRESH, key, ctx->now_ms);
}

int home_ev_opened(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  (void)reply;
  int rc = home_views_opened(ctx->db, req->user, ctx->now_ms);
  if (rc == 0)
    rc = schedule_next(ctx, false);
  /* Opening the tab always draws it: Slack may have lost the last one (a reinstall). */
  return rc ? rc : home_publish(ctx, req->user, true);
}

int home_job_refresh(struct cmd_ctx *ctx, const struct job *job)
{
  (void)job;
  struct home_view_row *rows = NULL;
  size_t n = 0;
  int rc = home_views_list(ctx->db, HOME_USERS_MAX, &rows, &n);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = home_publish(ctx, rows[i].user, false);
  home_views_free(rows, n);
  return rc ? rc : schedule_next(ctx, n > 0);
}

int home_startup(struct cmd_ctx *ctx)
{
  /* Only once someone has a Home: a team that never opens it has no job running. */
  struct home_view_row *rows = NULL;
  size_t n = 0;
  int rc = home_views_list(ctx->db, 1, &rows, &n);
  home_views_free(rows, n);
  return rc ? rc : n ? schedule_next(ctx, false) : 0;
}

int home_btn_page_ack(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  int rc = paging_action_ack(ctx, req, reply);
  if (rc == 0 && req->platform == CMD_PLATFORM_TEAMS) {
    /* Answered in place: the Home card again, the page now acknowledged. */
    cJSON_Delete(reply->card);
    reply->card = home_teams_card(ctx, req->user);
    return reply->card ? 0 : KX_ENOMEM;
  }
  if (rc == 0)
    rc = home_publish(ctx, req->user, false);
  return rc;
}

int home_btn_declare(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  /* On Teams the form is a card answered in place; on Slack it is /incident declare's own
   * modal: run the command with no words. */
  if (req->platform == CMD_PLATFORM_TEAMS)
    return home_teams_form(ctx, req, CMD_VIEW_INCIDENT_DECLARE, reply);
  const struct cmd_def *d = cmd_lookup("incident", "declare");
  struct cmd_args words, args;
  int rc = cmd_args_parse("", &words);
  if (rc)
    return rc;
  rc = cmd_opts_split(d, &words, 0, &args, &reply->text);
  if (rc == 0)
    rc = d->fn(ctx, req, &args, reply);
  cmd_args_free(&words);
  return rc;
}

int home_btn_form(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  (void)reply;
  const char *form = NULL;
  if (strcmp(req->action_id, CMD_ACTION_HOME_OVERRIDE) == 0)
    form = CMD_VIEW_ONCALL_OVERRIDE;
  else if (strcmp(req->action_id, CMD_ACTION_HOME_AWAY) == 0)
    form = CMD_VIEW_ONCALL_AWAY;
  else if (strcmp(req->action_id, CMD_ACTION_HOME_SWAP) == 0)
    form = CMD_VIEW_ONCALL_SWAP;
  else
    form = CMD_VIEW_ONCALL_PAGE;
  if (req->platform == CMD_PLATFORM_TEAMS)
    return home_teams_form(ctx, req, form, reply);
  return home_form_open(ctx, req, form);
}
