/*
 * oncall_cmd_sync.c — keeping Slack in step with the rotas: each rota's user group holds who
 * is on call (usergroups.users.update whenever that changes: a handoff, an override beginning
 * or ending, a cover), and people given by email get their Slack id from users.lookupByEmail.
 *
 * A rota's "oncall.sync" job is always due at the next instant someone changes hands (the
 * earlier of the primary's and the secondary's "until"), so a change that begins while nobody
 * types anything still reaches the group. What was last sent is kept in the kv store
 * ("oncall.usergroup:<rota>"), so a sync that finds nothing new makes no call.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/oncall/oncall.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/people.h"
#include "storage/seen.h"

#define SYNC_MIN_STEP_MS 1000

static void kv_key(const struct rota *r, char *key, size_t size)
{
  snprintf(key, size, "oncall.usergroup:%s", r->name);
}

/* "U1,U2": the Slack ids of the slot holders that have one (duplicates once). */
static int group_users(struct cmd_ctx *ctx, const struct oncall_view *v, struct buf *out)
{
  const struct person *who[2] = {oncall_primary(ctx, v), oncall_secondary(ctx, v)};
  char *ids[2] = {NULL, NULL};
  int rc = 0;
  for (int i = 0; i < 2 && rc == 0; i++) {
    if (!who[i])
      continue;
    ids[i] = cmd_person_slack(ctx, who[i]);
    if (!ids[i]) {
      LOG_WARN("oncall", "usergroup_no_slack_id", "rota=%s person=%s", v->rota->name, who[i]->id);
      continue;
    }
    if (i == 1 && ids[0] && strcmp(ids[0], ids[1]) == 0)
      continue;
    if (out->len)
      rc = buf_puts(out, ",");
    if (rc == 0)
      rc = buf_puts(out, ids[i]);
  }
  free(ids[0]);
  free(ids[1]);
  return rc;
}

static int update_group(struct cmd_ctx *ctx, const struct rota *r, const struct oncall_view *v)
{
  struct buf users;
  buf_init(&users, 4096);
  int rc = group_users(ctx, v, &users);
  if (rc || users.len == 0) {
    if (rc == 0)
      LOG_WARN("oncall", "usergroup_nobody", "rota=%s usergroup=%s", r->name, r->usergroup);
    buf_free(&users);
    return rc;
  }
  char key[200];
  kv_key(r, key, sizeof(key));
  char *last = kv_get(ctx->db, key);
  if (!kx_streq(last, users.data)) {
    cJSON *body = cJSON_CreateObject();
    if (body) {
      cJSON_AddStringToObject(body, "usergroup", r->usergroup);
      cJSON_AddStringToObject(body, "users", users.data);
    }
    char queue[128];
    snprintf(queue, sizeof(queue), "usergroup:%s", r->usergroup);
    rc = out_slack_call(ctx, "usergroups.users.update", queue, body, OUTBOX_NORMAL,
                        CMD_HOOK_ONCALL_USERGROUP, r->name, NULL);
    if (rc == 0)
      rc = kv_set(ctx->db, key, users.data, ctx->now_ms);
    if (rc == 0)
      LOG_INFO("oncall", "usergroup_update", "rota=%s usergroup=%s users=%s", r->name, r->usergroup,
               users.data);
  }
  free(last);
  buf_free(&users);
  return rc;
}

int oncall_sync_rota(struct cmd_ctx *ctx, const struct rota *r)
{
  struct oncall_view v;
  int rc = oncall_at(ctx, r, ctx->now_ms, &v);
  if (rc) {
    LOG_WARN("oncall", "sync_failed", "rota=%s err=%s", r->name, kx_err_name(rc));
    return rc == KX_EDB || rc == KX_ENOMEM ? rc : 0;
  }
  int64_t next = INT64_MAX;
  if (!v.now.started) {
    next = v.now.shift.start_ms;
  } else {
    if (!v.now.primary_until_capped)
      next = v.now.primary_until_ms;
    if (!v.now.secondary_until_capped && v.now.secondary_until_ms < next)
      next = v.now.secondary_until_ms;
    if (next == INT64_MAX)
      next = ctx->now_ms + ROTA_UNTIL_HORIZON_MS;
  }
  if (next < ctx->now_ms + SYNC_MIN_STEP_MS)
    next = ctx->now_ms + SYNC_MIN_STEP_MS;
  if (v.now.started && r->usergroup)
    rc = update_group(ctx, r, &v);
  oncall_view_free(&v);
  if (rc == 0) {
    char key[200];
    snprintf(key, sizeof(key), CMD_JOB_ONCALL_SYNC ":%s", r->name);
    rc = jobs_upsert(ctx->db, CMD_JOB_ONCALL_SYNC, key, next, r->name, ctx->now_ms);
  }
  return rc;
}

int oncall_job_sync(struct cmd_ctx *ctx, const struct job *job)
{
  const struct rota *r = config_rota(ctx->config, job->ref);
  if (!r) {
    LOG_INFO("oncall", "sync_rota_gone", "rota=%s", job->ref ? job->ref : "-");
    return 0;
  }
  return oncall_sync_rota(ctx, r);
}

int oncall_hook_usergroup(struct cmd_ctx *ctx,
                          const struct outbox_row *row,
                          const struct cmd_result *result)
{
  if (result->ok)
    return 0;
  const struct rota *r = config_rota(ctx->config, row->ref);
  LOG_WARN("oncall", "usergroup_refused", "rota=%s error=%s", row->ref ? row->ref : "-",
           result->error ? result->error : "-");
  if (!r)
    return 0;
  /* Forget what we sent, so the next sync (the next change, or a restart) tries again. */
  char key[200];
  kv_key(r, key, sizeof(key));
  return kv_set(ctx->db, key, "", ctx->now_ms);
}

/* ---- people given by email ------------------------------------------------------------------ */

static int sync_all(struct cmd_ctx *ctx)
{
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < ctx->config->n_rotas; i++)
    rc = oncall_sync_rota(ctx, &ctx->config->rotas[i]);
  return rc;
}

int oncall_hook_lookup(struct cmd_ctx *ctx,
                       const struct outbox_row *row,
                       const struct cmd_result *result)
{
  const struct person *p = config_person(ctx->config, row->ref);
  if (!p)
    return 0;
  if (!result->ok) {
    LOG_WARN("oncall", "person_not_found", "person=%s error=%s", p->id,
             result->error ? result->error : "-");
    return people_set_lookup_error(ctx->db, p->id, result->error ? result->error : "unknown",
                                   ctx->now_ms);
  }
  const cJSON *user = cJSON_GetObjectItemCaseSensitive(result->response, "user");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(user, "id");
  if (!cJSON_IsString(id) || !id->valuestring[0]) {
    LOG_WARN("oncall", "person_lookup_no_id", "person=%s", p->id);
    return people_set_lookup_error(ctx->db, p->id, "no_user_id", ctx->now_ms);
  }
  int rc = people_set_slack(ctx->db, p->id, id->valuestring, ctx->now_ms);
  if (rc == 0)
    LOG_INFO("oncall", "person_found", "person=%s slack=%s", p->id, id->valuestring);
  /* Someone on call may have been left out of a user group for want of this id. */
  return rc ? rc : sync_all(ctx);
}

static int lookup_people(struct cmd_ctx *ctx)
{
  int rc = 0, asked = 0;
  for (size_t i = 0; rc == 0 && i < ctx->config->n_people; i++) {
    const struct person *p = &ctx->config->people[i];
    if (p->slack || !p->email)
      continue;
    char *known = people_slack(ctx->db, p->id);
    bool kept = known != NULL; /* from an earlier start */
    free(known);
    if (kept)
      continue;
    cJSON *body = cJSON_CreateObject();
    if (body)
      cJSON_AddStringToObject(body, "email", p->email);
    rc = out_slack_call(ctx, "users.lookupByEmail", "users.lookupByEmail", body, OUTBOX_NORMAL,
                        CMD_HOOK_PEOPLE_LOOKUP, p->id, NULL);
    asked += rc == 0;
  }
  if (asked)
    LOG_INFO("oncall", "people_lookup", "people=%d", asked);
  return rc;
}

int oncall_startup(struct cmd_ctx *ctx)
{
  int rc = lookup_people(ctx);
  return rc ? rc : sync_all(ctx);
}
