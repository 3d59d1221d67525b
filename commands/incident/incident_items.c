/*
 * incident_items.c — action items: `/incident action add @owner TEXT`, `/incident action done
 * N`, `/incident action list` (in an incident's channel: its items; elsewhere: every open item).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/incident/incident_internal.h"
#include "lib/kx.h"
#include "storage/incident_actions.h"
#include "storage/incident_timeline.h"

static int list_items(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  struct incident inc;
  int rc = incidents_by_channel(ctx->db, req->channel, &inc);
  bool here = rc == 0;
  if (rc && rc != KX_ENOTFOUND)
    return rc;
  struct incident_action *items = NULL;
  size_t n = 0;
  rc = incident_actions_list(ctx->db, here ? inc.id : 0, !here, &items, &n);
  if (rc) {
    if (here)
      incident_clear(&inc);
    return rc;
  }
  struct buf b;
  md_init(&b);
  if (here) {
    md_raw(&b, "*Action items of* ");
    incident_md_ref(&b, &inc);
    if (n == 0)
      md_raw(&b, ": none yet. `/incident action add @owner TEXT` adds one.");
  } else {
    md_raw(&b, n ? "*Open action items of every incident:*" : "No open action items. :tada:");
  }
  int64_t last = 0;
  for (size_t i = 0; i < n && b.len < 3500; i++) {
    const struct incident_action *a = &items[i];
    if (!here && a->incident_id != last) {
      md_printf(&b, "\n*#%lld* ", (long long)a->incident_id);
      md_text(&b, a->incident_title);
      last = a->incident_id;
    }
    md_printf(&b, "\n%s *%lld.* ",
              a->done_at ? ":white_check_mark:" : ":white_square:", (long long)a->number);
    md_text(&b, a->text);
    md_raw(&b, " — ");
    incident_md_who(&b, ctx, a->owner);
    if (a->due_date && !a->done_at)
      md_printf(&b, a->due_at <= ctx->now_ms ? " _(overdue: due %s)_" : " _(due %s)_", a->due_date);
  }
  incident_actions_free(items, n);
  if (here)
    incident_clear(&inc);
  return incident_reply_markup(reply, &b);
}

static int add_item(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const struct cmd_args *args,
                    struct incident *inc,
                    const char *me,
                    struct cmd_reply *reply)
{
  char buf[64];
  if (args->argc < 3) {
    cmd_usage(reply, args->def);
    return KX_EINVAL;
  }
  const char *owner = incident_arg_who(ctx, req, args->argv[1], buf, sizeof(buf));
  if (!owner)
    return incident_unknown_person(reply, args->argv[1], args->def);
  /* The text ends where an option begins (`… --due 2026-12-10`). */
  char *raw = kx_strdup(args->rest[2]);
  if (!raw)
    return KX_ENOMEM;
  for (char *o = cmd_opt(args, "due") ? strstr(raw, "--") : NULL; o; o = strstr(o + 2, "--"))
    if ((o == raw || o[-1] == ' ') && strncmp(o + 2, "due", 3) == 0 &&
        (o[5] == ' ' || o[5] == '=' || o[5] == '\0')) {
      *o = '\0';
      break;
    }
  char *text = incident_typed(ctx, req, raw, true);
  free(raw);
  if (!text)
    return KX_ENOMEM;
  int rc = 0;
  if (strlen(text) > INCIDENT_ACTION_MAX)
    rc = incident_too_long(reply, "action item", INCIDENT_ACTION_MAX);
  int64_t number = 0;
  if (rc == 0)
    rc = incident_actions_add(ctx->db, inc->id, owner, text, me, ctx->now_ms, &number);
  char due[16] = "";
  if (rc == 0) /* issue 14: the due date, typed or the severity's default */
    rc = incident_action_set_due(ctx, inc, number, owner, cmd_opt(args, "due"), due, sizeof(due),
                                 reply);
  if (rc == 0) /* issue 14: the tracker's issue, through the outbox */
    rc = incident_tracker_open(ctx, inc, number, owner, text, due);
  if (rc == 0) {
    char *t = kx_asprintf("Action item %lld for %s: %s", (long long)number,
                          incident_who_name(ctx, owner), text);
    struct timeline_new e = {inc->id,     "action", me,   t ? t : text,
                             ctx->now_ms, false,    NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
    free(t);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_printf(&b, ":white_square: Action item *%lld* for ", (long long)number);
    incident_md_who(&b, ctx, owner);
    md_raw(&b, ": ");
    md_text(&b, text);
    if (*due)
      md_printf(&b, " _(due %s)_", due);
    rc = incident_say(ctx, inc, &b, text, OUTBOX_NORMAL);
  }
  if (rc == 0)
    rc = cmd_reply_printf(reply,
                          "Added action item %lld to #%lld%s%s; `/incident action done %lld` "
                          "when it is done.",
                          (long long)number, (long long)inc->id, *due ? ", due " : "", due,
                          (long long)number);
  free(text);
  return rc;
}

/* Mark item `number` of inc done: the timeline, the channel, the reply. KX_EINVAL (with a
 * sentence in reply) when there is no such item or it is already done. Also the reminder's
 * Done button (incident_due.c). */
int incident_action_mark_done(struct cmd_ctx *ctx,
                              const struct incident *inc,
                              long long number,
                              const char *me,
                              struct cmd_reply *reply)
{
  int rc = incident_actions_done(ctx->db, inc->id, number, me, ctx->now_ms);
  if (rc == KX_ENOTFOUND || rc == KX_EEXISTS) {
    cmd_reply_printf(reply,
                     rc == KX_EEXISTS ? "Action item %lld of #%lld is already done."
                                      : "Incident #%lld has no action item %lld.",
                     rc == KX_EEXISTS ? number : (long long)inc->id,
                     rc == KX_EEXISTS ? (long long)inc->id : number);
    return KX_EINVAL;
  }
  if (rc == 0) {
    char *t = kx_asprintf("Action item %lld done", number);
    struct timeline_new e = {inc->id,     "action", me,   t ? t : "Action item done",
                             ctx->now_ms, false,    NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
    free(t);
  }
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_printf(&b, ":white_check_mark: Action item *%lld* is done (", number);
    if (kx_streq(me, "github") || kx_streq(me, "jira")) /* issue 14: its issue was closed */
      md_printf(&b, "its %s issue was closed", kx_streq(me, "github") ? "GitHub" : "Jira");
    else
      incident_md_who(&b, ctx, me);
    md_raw(&b, ").");
    rc = incident_say(ctx, inc, &b, "Action item done", OUTBOX_NORMAL);
  }
  if (rc == 0)
    rc = cmd_reply_printf(reply, "Action item %lld of #%lld is done.", number, (long long)inc->id);
  return rc;
}

static int done_item(struct cmd_ctx *ctx,
                     const struct cmd_args *args,
                     struct incident *inc,
                     const char *me,
                     struct cmd_reply *reply)
{
  const char *w = args->argc == 2 ? args->argv[1] : "";
  if (*w == '#')
    w++;
  char *end = NULL;
  long long number = strtoll(w, &end, 10);
  if (!*w || !end || *end || number <= 0 || cmd_opt(args, "due")) {
    cmd_usage(reply, args->def);
    cmd_reply_printf(reply, " (N from `/incident action list`)");
    return KX_EINVAL;
  }
  return incident_action_mark_done(ctx, inc, number, me, reply);
}

int incident_cmd_action(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        const struct cmd_args *args,
                        struct cmd_reply *reply)
{
  const char *verb = args->argv[0];
  if (strcasecmp(verb, "list") == 0)
    return list_items(ctx, req, reply);
  if (strcasecmp(verb, "add") != 0 && strcasecmp(verb, "done") != 0) {
    cmd_usage(reply, args->def);
    return KX_EINVAL;
  }
  struct incident inc;
  int rc = incident_current(ctx, req, reply,
                            strcasecmp(verb, "add") == 0 ? "action add" : "action done", &inc);
  if (rc)
    return rc;
  char me[64];
  const char *who = incident_who(ctx, req->platform, req->user, me, sizeof(me));
  rc = strcasecmp(verb, "add") == 0 ? add_item(ctx, req, args, &inc, who, reply)
                                    : done_item(ctx, args, &inc, who, reply);
  incident_clear(&inc);
  return rc;
}
