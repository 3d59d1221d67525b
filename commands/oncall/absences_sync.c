/*
 * absences_sync.c — one HR calendar feed made into rota changes (absences.h): for every rota,
 * the absences the feed gives its people (from now on) against the changes created by
 * "hr-calendar" that are still current; new ones added, vanished ones cancelled, each told and
 * announced as /oncall away and /oncall cancel are, in the same transaction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/oncall/absences.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"

struct tally {
  int added, cancelled, warned;
};

static bool same(const struct absence *a, const struct rota_change_row *c)
{
  return strcmp(a->person, c->person) == 0 && a->from_ms == c->from_ms && a->to_ms == c->to_ms;
}

/* Short notice on someone's shift: the rota's manager is told. */
static int warn_manager(struct cmd_ctx *ctx,
                        const struct rota *r,
                        const struct absence *a,
                        const char *told)
{
  const struct person *m = config_person(ctx->config, r->manager);
  if (!m)
    return 0;
  char t1[40], t2[40], d[32];
  struct buf b;
  md_init(&b);
  md_raw(&b, ":warning: *Short notice* from the HR calendar: ");
  md_person(&b, a->person);
  md_printf(&b, " is away %s → %s in *", oncall_fmt_time(r, a->from_ms, t1, sizeof(t1)),
            oncall_fmt_time(r, a->to_ms, t2, sizeof(t2)));
  md_text(&b, r->name);
  md_printf(&b, "*, with %s notice (less than %s), and it lands on a shift: %s now cover.",
            time_format_duration(a->from_ms - ctx->now_ms, d, sizeof(d)),
            time_format_duration(ctx->config->absences.notice_ms, t1, sizeof(t1)), told);
  struct msg *msg = msg_new();
  int rc = msg ? msg_section_take(msg, &b) : KX_ENOMEM;
  if (rc == 0)
    msg_set_fallback(msg, "Short notice absence from the HR calendar");
  if (rc == 0)
    rc = out_dm(ctx, m, msg, OUTBOX_NORMAL, NULL, NULL);
  if (rc == KX_ENOTFOUND)
    rc = 0; /* a manager without a chat id: the handoff channel has the announcement */
  msg_free(msg);
  buf_free(&b);
  return rc;
}

static int sync_rota(struct cmd_ctx *ctx,
                     const struct rota *r,
                     const struct absence_list *l,
                     struct tally *t)
{
  struct rota_change_row *rows = NULL;
  size_t n = 0;
  int rc = rota_changes_load(ctx->db, r->name, ctx->now_ms, ROTA_MAX_CHANGES, &rows, &n);
  if (rc)
    return rc;
  /* Gone from the feed: cancelled. */
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const struct rota_change_row *c = &rows[i];
    if (c->kind != ROTA_CHANGE_ABSENCE || !c->created_by ||
        strcmp(c->created_by, ABSENCES_ACTOR) != 0)
      continue;
    bool keep = false;
    for (size_t k = 0; k < l->n && !keep; k++)
      keep = same(&l->v[k], c);
    if (keep)
      continue;
    struct buf what, told;
    md_init(&what);
    md_init(&told);
    rc = oncall_change_remove(ctx, r, c, ABSENCES_ACTOR, &what, &told);
    buf_free(&what);
    buf_free(&told);
    t->cancelled += rc == 0;
  }
  /* New in the feed: added (once per rota, whatever the feed repeats). */
  for (size_t k = 0; rc == 0 && k < l->n; k++) {
    const struct absence *a = &l->v[k];
    if (a->to_ms <= ctx->now_ms || !oncall_rota_has(r, a->person))
      continue;
    bool have = false;
    for (size_t i = 0; i < n && !have; i++)
      have = rows[i].kind == ROTA_CHANGE_ABSENCE && rows[i].created_by &&
             strcmp(rows[i].created_by, ABSENCES_ACTOR) == 0 && same(a, &rows[i]);
    for (size_t j = 0; j < k && !have; j++)
      have = strcmp(l->v[j].person, a->person) == 0 && l->v[j].from_ms == a->from_ms &&
             l->v[j].to_ms == a->to_ms;
    if (have)
      continue;
    char reason[200];
    snprintf(reason, sizeof(reason), "hr:%s", a->uid);
    struct oncall_absence abs = {a->person,      a->from_ms, a->to_ms,
                                 ABSENCES_ACTOR, reason,     "from the HR calendar"};
    struct buf told;
    md_init(&told);
    int64_t id = 0;
    rc = oncall_absence_add(ctx, r, &abs, &told, &id);
    if (rc == 0) {
      t->added++;
      LOG_INFO("absences", "added", "rota=%s person=%s id=%lld", r->name, a->person, (long long)id);
      if (told.len && a->from_ms - ctx->now_ms < ctx->config->absences.notice_ms) {
        rc = warn_manager(ctx, r, a, told.data);
        t->warned += rc == 0;
      }
    }
    buf_free(&told);
  }
  rota_change_rows_free(rows, n);
  return rc;
}

int absences_action_sync(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         struct cmd_reply *reply)
{
  if (req->platform != CMD_PLATFORM_HTTP || !req->payload)
    return KX_EAUTH;
  const cJSON *ics = cJSON_GetObjectItemCaseSensitive(req->payload, "ics");
  if (!cJSON_IsString(ics))
    return KX_EINVAL;
  struct absence_list l;
  char why[160];
  int rc = absences_parse(ctx->config, ics->valuestring, ctx->now_ms, &l, why, sizeof(why));
  if (rc) {
    LOG_WARN("absences", "feed_refused", "reason=\"%s\"", why);
    cmd_reply_printf(reply, "{\"error\":\"feed refused\"}");
    return rc == KX_ENOMEM ? rc : KX_EINVAL;
  }
  struct tally t = {0, 0, 0};
  for (size_t i = 0; rc == 0 && i < ctx->config->n_rotas; i++)
    rc = sync_rota(ctx, &ctx->config->rotas[i], &l, &t);
  LOG_INFO("absences", "synced", "occurrences=%zu added=%d cancelled=%d warned=%d", l.n, t.added,
           t.cancelled, t.warned);
  absence_list_free(&l);
  if (rc == 0)
    cmd_reply_printf(reply, "{\"added\":%d,\"cancelled\":%d,\"warned\":%d}", t.added, t.cancelled,
                     t.warned);
  return rc;
}
