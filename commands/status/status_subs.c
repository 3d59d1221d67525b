/*
 * status_subs.c — email subscribers of the status page: subscribe (a confirmation mail with a
 * link), confirm, one-click unsubscribe, and each public update mailed to the confirmed ones.
 * The token in the links is made by the transport (bot/web/status_subscribe.c) from OpenSSL's
 * RAND_bytes; the handler only stores it. An address is never repeated back to anyone.
 */
#include "storage/status_subs.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/out.h"
#include "commands/status/status.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/webform.h"

static const char *jstr(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *base_url(const struct cmd_ctx *ctx)
{
  return ctx->config->status_page.public_url ? ctx->config->status_page.public_url
         : ctx->public_url                   ? ctx->public_url
                                             : "";
}

static const char *title(const struct cmd_ctx *ctx)
{
  return ctx->config->status_page.title ? ctx->config->status_page.title : "our status page";
}

static bool token_ok(const char *t)
{
  if (!t || strlen(t) != STATUS_SUB_TOKEN_LEN)
    return false;
  for (; *t; t++)
    if (!((*t >= '0' && *t <= '9') || (*t >= 'a' && *t <= 'f')))
      return false;
  return true;
}

int status_action_subscribe(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *r)
{
  if (req->platform != CMD_PLATFORM_HTTP || !req->payload)
    return KX_EAUTH;
  const char *email = jstr(req->payload, "email"), *token = jstr(req->payload, "token");
  if (!webform_email_ok(email) || !token_ok(token)) {
    cmd_reply_printf(r, "invalid");
    return KX_EINVAL;
  }
  if (!ctx->config->smtp.url) {
    cmd_reply_printf(r, "no smtp");
    return KX_ESTATE;
  }
  struct status_sub s;
  int rc = status_sub_add(ctx->db, email, token, ctx->now_ms, &s);
  if (rc)
    return rc;
  const char *what = "mailed";
  if (s.confirmed_at) {
    what = "already";
  } else if (s.mailed_at && ctx->now_ms - s.mailed_at < STATUS_SUB_RESEND_MS) {
    what = "limited"; /* one confirmation mail per address per window */
  } else {
    char *text = kx_asprintf(
        "Someone (we hope you) asked to receive the updates of %s by email.\n\n"
        "To confirm, open this link:\n%s/status/confirm?token=%s\n\n"
        "If it was not you, ignore this message: nothing will be sent without the confirmation.\n",
        title(ctx), base_url(ctx), s.token);
    char *subject = kx_asprintf("Confirm your subscription to %s", title(ctx));
    rc = text && subject ? out_email(ctx, email, subject, text, OUTBOX_NORMAL) : KX_ENOMEM;
    if (rc == 0)
      rc = status_sub_mailed(ctx->db, s.id, ctx->now_ms);
    free(text);
    free(subject);
  }
  if (rc == 0)
    cmd_reply_printf(r, "%s", what);
  LOG_INFO("status", "subscribe", "result=%s", what); /* never the address */
  status_sub_clear(&s);
  return rc;
}

static int by_token(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    struct cmd_reply *r,
                    int (*fn)(struct db *, const char *, int64_t))
{
  if (req->platform != CMD_PLATFORM_HTTP || !req->payload)
    return KX_EAUTH;
  const char *token = jstr(req->payload, "token");
  if (!token_ok(token)) {
    cmd_reply_printf(r, "unknown");
    return KX_ENOTFOUND;
  }
  int rc = fn(ctx->db, token, ctx->now_ms);
  if (rc == KX_ENOTFOUND)
    cmd_reply_printf(r, "unknown");
  else if (rc == 0)
    cmd_reply_printf(r, "ok");
  return rc;
}

int status_action_confirm(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *r)
{
  return by_token(ctx, req, r, status_sub_confirm);
}

int status_action_unsubscribe(struct cmd_ctx *ctx,
                              const struct cmd_request *req,
                              struct cmd_reply *r)
{
  return by_token(ctx, req, r, status_sub_remove);
}

int status_notify_subscribers(struct cmd_ctx *ctx,
                              const char *incident_title,
                              const char *status,
                              const char *text)
{
  if (!ctx->config->smtp.url)
    return 0;
  struct status_sub *subs;
  size_t n;
  int rc = status_subs_confirmed(ctx->db, &subs, &n);
  if (rc)
    return rc;
  char *subject = kx_asprintf("[%s] %s: %s", title(ctx), status, incident_title);
  if (!subject)
    rc = KX_ENOMEM;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    char *body = kx_asprintf(
        "%s\n\n%s\n\nThe status page: %s/status\n"
        "Unsubscribe (one click): %s/status/unsubscribe?token=%s\n",
        incident_title, text, base_url(ctx), base_url(ctx), subs[i].token);
    rc = body ? out_email(ctx, subs[i].email, subject, body, OUTBOX_BULK) : KX_ENOMEM;
    free(body);
  }
  free(subject);
  status_subs_free(subs, n);
  return rc;
}
