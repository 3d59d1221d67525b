/*
 * basic.c — the handlers every group has (help) and `/oncall note`, the first thing that
 * speaks through the outbox.
 */
#include "commands/core/basic.h"

#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "lib/kx.h"
#include "storage/notes.h"

int cmd_group_help(struct cmd_ctx *ctx,
                   const struct cmd_request *req,
                   const struct cmd_args *args,
                   struct cmd_reply *reply)
{
  (void)ctx;
  (void)args;
  return cmd_help(req->command, reply);
}

/* A rota's own Slack handoff channel, or NULL for the config's. */
static const char *handoff_channel(const struct config *c, const struct rota *r)
{
  (void)c;
  return r ? r->handoff_channel : NULL;
}

int cmd_oncall_note(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const struct cmd_args *args,
                    struct cmd_reply *reply)
{
  const struct rota *rota = NULL;
  /* `/oncall note --rota R TEXT` picks a rota; without it the note is for every rota. */
  const char *rota_name = cmd_opt(args, "rota");
  if (rota_name) {
    rota = config_rota(ctx->config, rota_name);
    if (!rota) {
      char *esc = md_escape(rota_name);
      cmd_reply_printf(reply, "There is no rota called `%s`.", esc ? esc : "");
      free(esc);
      return KX_EINVAL;
    }
  }
  const char *text = args->argc ? args->rest[0] : NULL;
  if (!text || !*text) {
    cmd_usage(reply, args->def);
    return KX_EINVAL;
  }
  const struct person *author = cmd_person_for_user(ctx, req->platform, req->user);
  char *plain = md_unescape(text);
  int64_t id = 0;
  int rc = notes_add(ctx->db, rota ? rota->name : NULL, author ? author->id : req->user, plain,
                     req->now_ms, &id);
  if (rc) {
    free(plain);
    return rc;
  }
  int posted = 0;
  {
    struct msg *m = msg_new();
    struct buf b;
    md_init(&b);
    md_raw(&b, ":memo: Note for the next handoff");
    if (rota) {
      md_raw(&b, " (");
      md_text(&b, rota->name);
      md_raw(&b, ")");
    }
    md_raw(&b, " from ");
    if (author)
      md_person(&b, author->id);
    else
      md_user(&b, req->user);
    md_raw(&b, ":\n>");
    md_text(&b, plain);
    char *fallback = kx_asprintf("Note for the next handoff: %s", plain);
    msg_set_fallback(m, fallback);
    free(fallback);
    rc = m ? msg_section_take(m, &b) : KX_ENOMEM;
    if (rc == 0) {
      posted = out_announce(ctx, OUT_HANDOFF, handoff_channel(ctx->config, rota), m, OUTBOX_NORMAL,
                            NULL, NULL);
      if (posted < 0)
        rc = posted;
    }
    msg_free(m);
  }
  free(plain);
  if (rc)
    return rc;
  cmd_reply_printf(reply, "Noted (#%lld); it will be in the next handoff%s.", (long long)id,
                   posted > 0 ? " and is posted in the handoff channel" : "");
  return 0;
}
