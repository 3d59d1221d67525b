/*
 * home_view.c — the App Home tab's contents for one person: who is on call in each rota, their
 * next shifts, their open pages (with Acknowledge), the open incidents, their open action items,
 * and the buttons that open the forms. Built as a struct msg (so every text is escaped and cut
 * to Block Kit's limits by render_slack.c) and wrapped into a "home" view.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/names.h"
#include "commands/core/people.h"
#include "commands/core/render_slack.h"
#include "commands/home/home.h"
#include "commands/oncall/oncall.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/incident_actions.h"
#include "storage/incidents.h"
#include "storage/pages.h"

static bool same(const char *a, const char *b)
{
  return a && b && strcmp(a, b) == 0;
}

static void md_slot(struct buf *b, const struct rota_slot *s)
{
  if (s->person)
    md_person(b, s->person);
  else
    md_raw(b, "_nobody_");
}

/* "*platform*: primary X, secondary Y — until Mon 2026-11-30 09:00" */
static int part_oncall(struct cmd_ctx *ctx, struct msg *m)
{
  struct buf b;
  md_init(&b);
  md_raw(&b, "*On call now*\n");
  const struct config *c = ctx->config;
  for (size_t i = 0; i < c->n_rotas && i < (size_t)2 * HOME_LIST_MAX; i++) {
    const struct rota *r = &c->rotas[i];
    struct oncall_view v;
    md_raw(&b, "• *");
    md_text(&b, r->name);
    md_raw(&b, "*: ");
    if (oncall_at(ctx, r, ctx->now_ms, &v) != 0) {
      md_raw(&b, "_cannot be worked out_\n");
      continue;
    }
    if (!v.now.started) {
      md_raw(&b, "_not started yet_\n");
    } else {
      char t[40];
      md_slot(&b, &v.now.primary);
      if (v.now.secondary.source != ROTA_SRC_NONE) {
        md_raw(&b, ", secondary ");
        md_slot(&b, &v.now.secondary);
      }
      if (!v.now.primary_until_capped)
        md_printf(&b, " — until %s", oncall_fmt_time(r, v.now.primary_until_ms, t, sizeof(t)));
      md_raw(&b, "\n");
    }
    oncall_view_free(&v);
  }
  if (c->n_rotas == 0)
    md_raw(&b, "_No rotas are configured._\n");
  return msg_section_take(m, &b) ? KX_ENOMEM : 0;
}

/* The person's next shifts (primary or secondary) in every rota, soonest first per rota. */
static int part_shifts(struct cmd_ctx *ctx, const struct person *me, struct msg *m)
{
  struct buf b;
  md_init(&b);
  md_raw(&b, "*Your next shifts*\n");
  int shown = 0;
  const struct config *c = ctx->config;
  for (size_t i = 0; me && i < c->n_rotas && shown < HOME_LIST_MAX; i++) {
    const struct rota *r = &c->rotas[i];
    struct rota_change_row *rows = NULL;
    struct rota_change *changes = NULL;
    size_t nc = 0;
    if (oncall_changes_load(ctx, r->name, ctx->now_ms, &rows, &changes, &nc) != 0)
      continue;
    struct rota_segment *segs = NULL;
    size_t ns = 0;
    if (rota_schedule(r, changes, nc, ctx->now_ms, ONCALL_SCHEDULE_MAX, &segs, &ns) == 0) {
      for (size_t k = 0; k < ns && shown < HOME_LIST_MAX; k++) {
        const struct rota_segment *s = &segs[k];
        bool pri = same(s->primary.person, me->id), sec = same(s->secondary.person, me->id);
        if ((!pri && !sec) || s->end_ms <= ctx->now_ms)
          continue;
        char t1[40], t2[40];
        md_raw(&b, "• *");
        md_text(&b, r->name);
        md_printf(&b, "* %s: %s → %s\n", pri ? "primary" : "secondary",
                  oncall_fmt_time(r, s->start_ms, t1, sizeof(t1)),
                  oncall_fmt_time(r, s->end_ms, t2, sizeof(t2)));
        shown++;
      }
    }
    rota_segments_free(segs);
    oncall_changes_free(rows, changes, nc);
  }
  if (!me)
    md_raw(&b, "_klaxon does not know you yet: ask whoever runs it to add you to `people`._\n");
  else if (!shown)
    md_raw(&b, "_None in the coming weeks._\n");
  return msg_section_take(m, &b) ? KX_ENOMEM : 0;
}

/* A page is the person's when it was sent to them, or when they hold its rota's primary or
 * secondary slot now. */
static bool page_is_mine(struct cmd_ctx *ctx,
                         const struct page_row *p,
                         const struct person *me,
                         const char *user)
{
  if (same(p->target, user) || (me && same(p->target, me->id)))
    return true;
  const struct rota *r = p->rota ? config_rota(ctx->config, p->rota) : NULL;
  if (!me || !r || p->target)
    return false;
  struct oncall_view v;
  if (oncall_at(ctx, r, ctx->now_ms, &v) != 0)
    return false;
  bool mine = same(v.now.primary.person, me->id) || same(v.now.secondary.person, me->id);
  oncall_view_free(&v);
  return mine;
}

/* Teams shows at most six actions on a card, five of them the Home's own: one Acknowledge. */
#define HOME_TEAMS_ACK_MAX 1

static int part_pages(
    struct cmd_ctx *ctx, const struct person *me, const char *user, int max_buttons, struct msg *m)
{
  struct page_row *pages = NULL;
  size_t n = 0;
  int rc = pages_list_open(ctx->db, 100, &pages, &n);
  if (rc)
    return rc;
  struct buf b;
  md_init(&b);
  md_raw(&b, "*Your open pages*");
  int shown = 0;
  for (size_t i = 0; i < n && !rc; i++)
    if (page_is_mine(ctx, &pages[i], me, user))
      shown++;
  if (!shown)
    md_raw(&b, "\n_None._");
  rc = msg_section_take(m, &b);
  shown = 0;
  for (size_t i = 0; i < n && rc == 0 && shown < HOME_LIST_MAX; i++) {
    const struct page_row *p = &pages[i];
    if (!page_is_mine(ctx, p, me, user))
      continue;
    shown++;
    md_printf(&b, "*#%lld* ", (long long)p->id);
    md_text(&b, p->title ? p->title : "(no title)");
    md_raw(&b, " — ");
    md_text(&b, p->severity ? p->severity : "?");
    md_raw(&b, p->state == PAGE_ACKED ? ", acknowledged" : ", not acknowledged");
    rc = msg_section_take(m, &b);
    if (rc == 0 && p->state == PAGE_OPEN && max_buttons-- > 0) {
      char id[32];
      snprintf(id, sizeof(id), "%lld", (long long)p->id);
      rc = msg_button(m, "Acknowledge", CMD_ACTION_HOME_PAGE_ACK, id, MSG_STYLE_PRIMARY);
    }
  }
  buf_free(&b);
  pages_free(pages, n);
  return rc;
}

static int part_incidents(struct cmd_ctx *ctx, struct msg *m)
{
  struct incident *list = NULL;
  size_t n = 0;
  int rc = incidents_list(ctx->db, INCIDENTS_OPEN, 0, 0, &list, &n);
  if (rc)
    return rc;
  struct buf b;
  md_init(&b);
  md_raw(&b, "*Open incidents*\n");
  for (size_t k = 0; k < n && k < HOME_LIST_MAX; k++) {
    const struct incident *inc = &list[n - 1 - k]; /* newest first */
    md_printf(&b, "• *#%lld* ", (long long)inc->id);
    md_text(&b, inc->title);
    md_raw(&b, " — ");
    md_text(&b, inc->severity);
    md_raw(&b, ", ");
    md_text(&b, inc->status);
    if (inc->drill)
      md_raw(&b, " (drill)");
    if (inc->channel && md_id_ok(inc->channel)) {
      md_raw(&b, " ");
      md_channel(&b, inc->channel);
    }
    md_raw(&b, "\n");
  }
  if (n > HOME_LIST_MAX)
    md_printf(&b, "_… and %zu more: `/incident list`_\n", n - HOME_LIST_MAX);
  if (!n)
    md_raw(&b, "_None. All quiet._\n");
  incidents_free(list, n);
  return msg_section_take(m, &b) ? KX_ENOMEM : 0;
}

static int part_items(struct cmd_ctx *ctx, const struct person *me, const char *user, struct msg *m)
{
  struct incident_action *items = NULL;
  size_t n = 0;
  int rc = incident_actions_list(ctx->db, 0, true, &items, &n);
  if (rc)
    return rc;
  struct buf b;
  md_init(&b);
  md_raw(&b, "*Your open action items*\n");
  int shown = 0;
  for (size_t i = 0; i < n && shown < HOME_LIST_MAX; i++) {
    const struct incident_action *a = &items[i];
    if (!same(a->owner, user) && !(me && same(a->owner, me->id)))
      continue;
    shown++;
    md_printf(&b, "• *#%lld.%lld* ", (long long)a->incident_id, (long long)a->number);
    md_text(&b, a->text);
    md_raw(&b, " _(");
    md_text(&b, a->incident_title ? a->incident_title : "incident");
    md_raw(&b, ")_\n");
  }
  if (!shown)
    md_raw(&b, "_None._\n");
  incident_actions_free(items, n);
  return msg_section_take(m, &b) ? KX_ENOMEM : 0;
}

static int buttons(struct msg *m)
{
  int rc = msg_button(m, "Declare incident", CMD_ACTION_HOME_DECLARE, "home", MSG_STYLE_DANGER);
  if (rc == 0)
    rc = msg_button(m, "Override", CMD_ACTION_HOME_OVERRIDE, "home", MSG_STYLE_DEFAULT);
  if (rc == 0)
    rc = msg_button(m, "I'm away", CMD_ACTION_HOME_AWAY, "home", MSG_STYLE_DEFAULT);
  if (rc == 0)
    rc = msg_button(m, "Swap", CMD_ACTION_HOME_SWAP, "home", MSG_STYLE_DEFAULT);
  if (rc == 0)
    rc = msg_button(m, "Page someone", CMD_ACTION_HOME_PAGE, "home", MSG_STYLE_DEFAULT);
  return rc;
}

struct msg *home_msg(struct cmd_ctx *ctx, enum cmd_platform platform, const char *user)
{
  const struct person *me = cmd_person_for_user(ctx, platform, user);
  struct msg *m = msg_new();
  if (!m)
    return NULL;
  int rc = msg_set_header(m, "klaxon — on call and incidents");
  if (rc == 0)
    rc = buttons(m);
  if (rc == 0)
    rc = part_oncall(ctx, m);
  if (rc == 0)
    rc = part_shifts(ctx, me, m);
  if (rc == 0)
    rc = msg_divider(m);
  if (rc == 0)
    rc = part_pages(ctx, me, user,
                    platform == CMD_PLATFORM_TEAMS ? HOME_TEAMS_ACK_MAX : HOME_LIST_MAX, m);
  if (rc == 0)
    rc = msg_divider(m);
  if (rc == 0)
    rc = part_incidents(ctx, m);
  if (rc == 0)
    rc = part_items(ctx, me, user, m);
  if (rc) {
    LOG_WARN("home", "view_failed", "err=%s", kx_err_name(rc));
    msg_free(m);
    return NULL;
  }
  return m;
}

cJSON *home_view_build(struct cmd_ctx *ctx, const char *user)
{
  struct msg *m = home_msg(ctx, CMD_PLATFORM_SLACK, user);
  if (!m)
    return NULL;
  struct cmd_people pp;
  cmd_people_open(&pp, ctx);
  cJSON *blocks = render_slack_blocks(m, &pp.rp);
  cmd_people_close(&pp);
  msg_free(m);
  if (!blocks)
    return NULL;
  cJSON *view = cJSON_CreateObject();
  if (!view) {
    cJSON_Delete(blocks);
    return NULL;
  }
  cJSON_AddStringToObject(view, "type", "home");
  cJSON_AddStringToObject(view, "callback_id", "home");
  cJSON_AddItemToObject(view, "blocks", blocks);
  return view;
}
