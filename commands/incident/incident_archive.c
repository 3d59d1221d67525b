/*
 * incident_archive.c — `incident.archive_after` (issue 14): a closed incident's Slack channel is
 * archived (conversations.archive, through the outbox) that long after it was closed. A durable
 * job keyed per incident: scheduled once when the incident is closed, run once even across
 * restarts (the scheduler marks it done with its outbox rows), cancelled when the incident is
 * reopened, and doing nothing when it finds the incident open again or without a Slack channel.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands/core/out.h"
#include "commands/incident/incident_internal.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/timeutil.h"
#include "storage/incident_timeline.h"

static void archive_key(char *key, size_t n, int64_t id)
{
  snprintf(key, n, "incident:%lld:archive", (long long)id);
}

int incident_schedule_archive(struct cmd_ctx *ctx, const struct incident *inc)
{
  int64_t after = ctx->config->incident.archive_after_ms;
  if (after <= 0 || !inc->channel || out_is_teams(inc->channel))
    return 0;
  char key[64], ref[24];
  archive_key(key, sizeof(key), inc->id);
  snprintf(ref, sizeof(ref), "%lld", (long long)inc->id);
  int rc =
      jobs_upsert(ctx->db, CMD_JOB_INCIDENT_ARCHIVE, key, ctx->now_ms + after, ref, ctx->now_ms);
  return rc < 0 ? rc : 0;
}

int incident_cancel_archive(struct cmd_ctx *ctx, int64_t id)
{
  char key[64];
  archive_key(key, sizeof(key), id);
  int rc = jobs_cancel(ctx->db, key, ctx->now_ms);
  return rc < 0 ? rc : 0;
}

int incident_job_archive(struct cmd_ctx *ctx, const struct job *job)
{
  char *end = NULL;
  long long id = job->ref ? strtoll(job->ref, &end, 10) : 0;
  if (!end || *end || id <= 0)
    return 0;
  struct incident inc;
  int rc = incidents_get(ctx->db, id, &inc);
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  if (!inc.closed_at || !inc.channel || out_is_teams(inc.channel)) {
    LOG_INFO("incident", "archive_skipped", "id=%lld", id);
    goto done;
  }
  char since[32];
  struct buf b;
  md_init(&b);
  md_printf(&b,
            ":file_cabinet: This incident was closed %s ago; archiving the channel. Its "
            "timeline and postmortem stay in klaxon (`klaxon postmortem %lld`).",
            time_format_duration(ctx->now_ms - inc.closed_at, since, sizeof(since)), id);
  rc = incident_say(ctx, &inc, &b, "Archiving the channel", OUTBOX_BULK);
  cJSON *body = rc == 0 ? cJSON_CreateObject() : NULL;
  if (rc == 0 && !body)
    rc = KX_ENOMEM;
  if (rc == 0) {
    cJSON_AddStringToObject(body, "channel", inc.channel);
    rc = out_slack_call(ctx, "conversations.archive", inc.channel, body, OUTBOX_BULK, NULL, NULL,
                        NULL);
  }
  if (rc == 0) {
    struct timeline_new e = {inc.id,      "archived", NULL, "Channel archived",
                             ctx->now_ms, false,      NULL, ctx->now_ms};
    rc = timeline_add(ctx->db, &e, NULL);
  }
  LOG_INFO("incident", "archived", "id=%lld channel=%s", id, inc.channel);
done:
  incident_clear(&inc);
  return rc;
}
