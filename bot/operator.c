#include "bot/operator.h"

#include <stdio.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "lib/buf.h"
#include "lib/kx.h"
#include "lib/log.h"

#define TEXT_MAX 1024

/* The subject and the body, plain text, for one piece of news. */
static void compose(const char *platform,
                    enum operator_news news,
                    const char *detail,
                    int64_t waiting,
                    char *subject,
                    size_t ssize,
                    char *text,
                    size_t tsize)
{
  bool slack = strcmp(platform, "slack") == 0, teams = strcmp(platform, "teams") == 0;
  const char *name = slack ? "Slack" : teams ? "Microsoft Teams" : platform;
  const char *what = slack   ? "the bot token"
                     : teams ? "the Teams bot's credentials"
                             : "klaxon's credentials";
  const char *fix = slack
                        ? "put a valid bot token (xoxb-...) in SLACK_BOT_TOKEN and restart klaxon, "
                          "or reinstall the Slack app to the workspace."
                    : teams ? "check teams.app_id, teams.tenant_id and the client secret in "
                              "teams.app_password_env (it may have expired), then restart klaxon."
                            : "check the credentials the config names for it, then restart klaxon.";
  const char *why = detail && *detail ? detail : "refused";
  switch (news) {
    case OPERATOR_REFUSED:
      snprintf(subject, ssize, "[klaxon] %s refuses %s (%s)", name, what, why);
      snprintf(text, tsize,
               "%s answered %s: klaxon has stopped sending to %s and keeps every message in its "
               "outbox (%lld waiting); nothing is lost. It tries again now and then and sends "
               "everything, once each, when %s accepts it.\n\nTo fix: %s\n\nYou are told once "
               "for this refusal, and once more when it is over.",
               name, why, name, (long long)waiting, name, fix);
      break;
    case OPERATOR_ACCEPTED:
      snprintf(subject, ssize, "[klaxon] %s accepts %s again", name, what);
      snprintf(text, tsize,
               "%s accepts %s again: klaxon is sending what waited (%lld messages in the outbox).",
               name, what, (long long)waiting);
      break;
    case OPERATOR_DISABLED:
      snprintf(subject, ssize, "[klaxon] stopped: Slack turned off Socket Mode for the app (%s)",
               why);
      snprintf(text, tsize,
               "Slack disabled Socket Mode for klaxon's app (%s), so klaxon exited (exit code 6). "
               "%lld messages wait in the outbox and go out, once each, when klaxon runs again."
               "\n\nTo fix: turn Socket Mode back on in the app's settings (api.slack.com/apps), "
               "then restart klaxon.",
               why, (long long)waiting);
      break;
  }
}

static int post(
    struct cmd_ctx *ctx, const char *channel, const char *subject, const char *text, int64_t *id)
{
  struct msg *m = msg_new();
  struct buf b;
  buf_init(&b, 4 * TEXT_MAX);
  int rc = KX_ENOMEM;
  if (m && md_bold(&b, subject) == 0 && buf_puts(&b, "\n") == 0 && md_text(&b, text) == 0 &&
      msg_section(m, b.data) == 0 && msg_set_fallback(m, subject) == 0)
    rc = out_post(ctx, channel, m, OUTBOX_URGENT, NULL, NULL, id);
  buf_free(&b);
  msg_free(m);
  return rc;
}

static int mail(
    struct cmd_ctx *ctx, const char *to, const char *subject, const char *text, int64_t *id)
{
  cJSON *body = cJSON_CreateObject();
  cJSON *list = body ? cJSON_AddArrayToObject(body, "to") : NULL;
  if (!list) {
    cJSON_Delete(body);
    return KX_ENOMEM;
  }
  cJSON_AddItemToArray(list, cJSON_CreateString(to));
  cJSON_AddStringToObject(body, "subject", subject);
  cJSON_AddStringToObject(body, "text", text);
  return out_row(ctx, "email", "email.send", "operator:email", body, OUTBOX_URGENT, NULL, NULL, id);
}

int operator_tell(const struct cmd_ctx *env,
                  int64_t now_ms,
                  const char *platform,
                  enum operator_news news,
                  const char *detail,
                  int64_t *ids,
                  size_t max)
{
  const struct config *c = env->config;
  bool slack = strcmp(platform, "slack") == 0;
  /* Never through the platform the news is about. */
  const char *teams = slack && c->teams.app_id ? c->operator.teams_channel : NULL;
  const char *slack_channel = slack ? NULL : c->operator.slack_channel;
  if (c->operator.n_email == 0 && !teams && !slack_channel)
    return 0;
  struct cmd_ctx ctx = cmd_ctx_at(env, now_ms);
  char subject[200], text[TEXT_MAX];
  int64_t waiting = outbox_depth(ctx.db);
  compose(platform, news, detail, waiting < 0 ? 0 : waiting, subject, sizeof(subject), text,
          sizeof(text));
  int rc = db_begin(ctx.db);
  if (rc)
    return rc;
  int n = 0;
  int64_t id = 0;
  const char *how[16];
  size_t n_how = 0;
  for (size_t i = 0; rc == 0 && i < c->operator.n_email && c->smtp.url; i++) {
    if ((rc = mail(&ctx, c->operator.email[i], subject, text, &id)) == 0) {
      if ((size_t)n < max && ids)
        ids[n] = id;
      n++;
      if (n_how < 16)
        how[n_how++] = "email";
    }
  }
  const char *channels[2] = {teams, slack_channel};
  for (size_t i = 0; rc == 0 && i < 2; i++) {
    if (!channels[i])
      continue;
    if ((rc = post(&ctx, channels[i], subject, text, &id)) == 0) {
      if ((size_t)n < max && ids)
        ids[n] = id;
      n++;
      if (n_how < 16)
        how[n_how++] = i == 0 ? "teams" : "slack";
    }
  }
  if (rc || (rc = db_commit(ctx.db)) != 0) {
    db_rollback(ctx.db);
    LOG_ERROR("operator", "not_told", "platform=%s news=%d err=%s", platform, (int)news,
              kx_err_name(rc));
    return rc;
  }
  char list[64] = "";
  for (size_t i = 0; i < n_how && i < 4; i++)
    snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? "," : "", how[i]);
  LOG_INFO("operator", "told", "platform=%s news=%s rows=%d via=%s", platform,
           news == OPERATOR_REFUSED    ? "refused"
           : news == OPERATOR_ACCEPTED ? "accepted"
                                       : "disabled",
           n, list);
  return n;
}
