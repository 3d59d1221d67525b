/*
 * paging_notify_cmd.c — /oncall notify (issue 11): how klaxon reaches you (each method with
 * where it goes, and your rules in order), and `/oncall notify test METHOD`, a test page by
 * that one method only, whose delivery shows on the page and in /oncall pages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/people.h"
#include "commands/paging/paging.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

static void rules_text(struct buf *b, const struct person *who)
{
  if (!who->n_notify) {
    md_raw(b, "no rules of your own, so the default: chat at once");
    if (who->email)
      md_raw(b, ", then email after 5m");
    md_raw(b, " (people[].notify in the config sets yours)");
    return;
  }
  for (size_t i = 0; i < who->n_notify; i++) {
    int64_t ms = who->notify[i].after_ms;
    char d[32];
    if (ms % 60000 == 0)
      snprintf(d, sizeof(d), "%lldm", (long long)(ms / 60000));
    else
      time_format_duration(ms, d, sizeof(d));
    md_printf(b, "%s%s%s: ", i ? " · " : "", ms ? "after " : "", ms ? d : "at once");
    int k = 0;
    for (unsigned via = VIA_CHAT; via <= VIA_VOICE; via <<= 1)
      if (who->notify[i].via & via)
        md_printf(b, "%s%s", k++ ? " + " : "", paging_via_name(via));
  }
}

static void methods_text(struct buf *b, struct cmd_ctx *ctx, const struct person *who)
{
  char *uid = cmd_person_slack(ctx, who);
  md_raw(b, "• chat: ");
  if (uid)
    md_printf(b, "<@%s>", uid);
  else if (who->teams)
    md_raw(b, "Teams");
  else
    md_raw(b, "_none (no Slack or Teams id)_");
  free(uid);
  md_raw(b, "\n• email: ");
  if (who->email)
    md_text(b, who->email);
  else
    md_raw(b, "_none_");
  md_raw(b, "\n• push: ");
  if (who->push) {
    md_text(b, who->push);
    md_raw(b, who->push_webhook ? " (webhook)" : " (ntfy)");
  } else {
    md_raw(b, "_none_");
  }
  md_raw(b, "\n• SMS and calls: ");
  if (who->phone)
    md_text(b, who->phone);
  else
    md_raw(b, "_none (no phone)_");
  if (who->phone && !ctx->config->twilio.from)
    md_raw(b, " _(Twilio is not configured)_");
  md_raw(b, "\n");
}

int paging_cmd_notify(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply)
{
  const struct person *who = cmd_person_for_user(ctx, req->platform, req->user);
  if (!who) {
    cmd_reply_printf(reply, "You are not in klaxon's people, so it has no way to page you.");
    return KX_EINVAL;
  }
  if (args->argc == 0) {
    struct buf b;
    md_init(&b);
    md_raw(&b, "*How klaxon reaches you*\n");
    methods_text(&b, ctx, who);
    md_raw(&b, "*Your rules:* ");
    rules_text(&b, who);
    md_raw(&b, "\nTry one with `/oncall notify test sms` (chat, email, push, sms, voice).");
    cmd_reply_printf(reply, "%s", b.data ? b.data : "");
    buf_free(&b);
    return 0;
  }
  unsigned via =
      args->argc == 2 && strcmp(args->argv[0], "test") == 0 ? paging_via_named(args->argv[1]) : 0;
  if (!via) {
    cmd_reply_printf(reply,
                     "Usage: `/oncall notify` or `/oncall notify test METHOD` (chat, "
                     "email, push, sms, voice).");
    return KX_EINVAL;
  }
  struct page_new n = {
      .kind = "test",
      .person = who,
      .title = "notification test",
      .summary =
          "A test of one way klaxon reaches you, asked for with /oncall notify test. "
          "Acknowledge it to check that works too. Nothing else happens.",
      .source = "notify-test",
      .created_by = who->id,
      .only_via = via,
  };
  int64_t id = 0;
  int rc = paging_create(ctx, &n, &id);
  if (rc)
    return rc;
  struct page_attempt *a = NULL;
  size_t na = 0;
  rc = page_attempts_list(ctx->db, id, &a, &na);
  if (rc)
    return rc;
  if (na && strcmp(a[na - 1].state, "unreachable") == 0)
    cmd_reply_printf(reply, "Test page #%lld could not go by %s: %s.", (long long)id,
                     paging_via_name(via), a[na - 1].error ? a[na - 1].error : "no destination");
  else
    cmd_reply_printf(reply,
                     "Test page #%lld is on its way by %s. `/oncall pages` shows how far it got.",
                     (long long)id, paging_via_name(via));
  page_attempts_free(a, na);
  return 0;
}
