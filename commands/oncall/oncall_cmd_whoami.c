/*
 * oncall_cmd_whoami.c — `/oncall whoami`: who klaxon takes you for, and what that lets you do.
 * The answer to "why does it say it doesn't know me?" and "why can't I change this rota?":
 * the config person behind your Slack or Teams id, how klaxon reaches you, the rotas you are in
 * or manage (and so may change). docs/internals.md walks through this file as the worked
 * example of adding a subcommand.
 */
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/people.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/buf.h"
#include "lib/kx.h"

int oncall_cmd_whoami(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply)
{
  (void)args;
  const struct person *me = cmd_person_for_user(ctx, req->platform, req->user);
  if (!me) {
    cmd_reply_printf(reply,
                     "I don't know you yet: you are not in klaxon's `people`, so you can read "
                     "but not change anything. Ask whoever runs klaxon to add your %s id "
                     "(or your email).",
                     req->platform == CMD_PLATFORM_TEAMS ? "Teams" : "Slack");
    return 0;
  }
  struct buf *b = &reply->text;
  int rc = md_raw(b, "You are ");
  if (rc == 0)
    rc = md_person(b, me->id);
  if (rc == 0)
    rc = md_printf(b, " (`%s` in the config). I reach you by", me->id);
  const char *sep = " ";
  if (rc == 0 && me->slack) {
    rc = md_printf(b, "%sSlack", sep);
    sep = ", ";
  }
  if (rc == 0 && me->teams) {
    rc = md_printf(b, "%sTeams", sep);
    sep = ", ";
  }
  if (rc == 0 && me->email) {
    rc = md_printf(b, "%semail (", sep);
    if (rc == 0)
      rc = md_text(b, me->email);
    if (rc == 0)
      rc = md_raw(b, ")");
    sep = ", ";
  }
  if (rc == 0 && me->phone) {
    rc = md_printf(b, "%sphone (", sep);
    if (rc == 0)
      rc = md_text(b, me->phone);
    if (rc == 0)
      rc = md_raw(b, ")");
    sep = ", ";
  }
  if (rc == 0)
    rc = md_raw(b,
                strcmp(sep, " ") == 0 ? " nothing yet: add `slack`, `teams` or `email`.\n" : ".\n");
  size_t changeable = 0;
  const struct config *cfg = ctx->config;
  for (size_t i = 0; rc == 0 && i < cfg->n_rotas; i++) {
    const struct rota *r = &cfg->rotas[i];
    bool member = oncall_rota_has(r, me->id);
    bool manager = r->manager && strcmp(r->manager, me->id) == 0;
    if (!member && !manager)
      continue;
    changeable++;
    rc = md_printf(b, "• *%s*: %s%s%s\n", r->name, member ? "member" : "",
                   member && manager ? " and " : "", manager ? "manager" : "");
  }
  if (rc == 0)
    rc = md_raw(b, changeable ? "You may change those rotas (override, away, swap, cancel)."
                              : "You are in no rota and manage none: you may declare incidents "
                                "and acknowledge your pages, but not change a rota.");
  return rc;
}
