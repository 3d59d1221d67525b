/*
 * incident_teams.c — an incident declared from Teams gets its own thread: a new conversation in
 * teams.incident_channel (else the channel it was declared in), whose root post names it
 * incident-YYYYMMDD[-N] (the same names, reserved the same way, as Slack channels). When the
 * connector answers, the thread's conversation id is handed to incident_attach_channel(): from
 * then on the incident talks there (summary, updates, reminders) and the thread's replies are
 * its timeline (incident_events.c, through the RSC permission). If the thread cannot be
 * started (the bot is not in that channel …), the conversation it was declared in becomes the
 * incident's place instead, so nothing is left without a home.
 *
 * incident_teams_thread() runs in the declaring handler's transaction, so the thread's root post
 * is written with the declaration or not at all; incident_teams_threads() is a start-up task for
 * databases from before that (a declaration without its thread gets it at boot). Both are
 * idempotent (storage/teams_store.h claims).
 */
#include "commands/incident/incident_teams.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "commands/incident/incident.h"
#include "commands/incident/incident_parse.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/channel_names.h"
#include "storage/incidents.h"
#include "storage/teams_store.h"

/* Where the thread goes: the configured incident channel, else the channel of the
 * conversation it was declared in (a 1:1 chat has no channel: NULL). */
static char *thread_channel(struct cmd_ctx *ctx, const struct incident *inc)
{
  if (ctx->config->teams.incident_channel)
    return kx_strdup(ctx->config->teams.incident_channel);
  const char *o = inc->origin_channel;
  if (!o || strncmp(o, "19:", 3) != 0)
    return NULL;
  return kx_strndup(o, strcspn(o, ";"));
}

static struct msg *root_msg(struct cmd_ctx *ctx, const struct incident *inc, const char *name)
{
  struct msg *m = msg_new();
  if (!m)
    return NULL;
  struct buf b;
  md_init(&b);
  msg_set_header(m, name);
  md_raw(&b, ":rotating_light: ");
  md_printf(&b, "*[%s]* ", inc->severity);
  md_text(&b, inc->title);
  if (inc->declared_by) {
    md_raw(&b, " — declared by ");
    if (config_person(ctx->config, inc->declared_by))
      md_person(&b, inc->declared_by);
    else
      md_user(&b, inc->declared_by);
  }
  md_raw(&b, "\n");
  md_raw(&b,
         "Replies in this thread are the incident's timeline. Write `@klaxon incident …` "
         "here to run its commands (`@klaxon incident help`).");
  char *fb = kx_asprintf("%s: [%s] %s", name, inc->severity, inc->title);
  msg_set_fallback(m, fb ? fb : name);
  free(fb);
  int rc = msg_section_take(m, &b);
  buf_free(&b);
  if (rc) {
    msg_free(m);
    return NULL;
  }
  return m;
}

static int start_thread(struct cmd_ctx *ctx, struct incident *inc)
{
  char *channel = thread_channel(ctx, inc);
  if (!channel) {
    LOG_WARN("incident", "teams_no_thread_channel",
             "id=%lld reason=\"no teams.incident_channel and not declared in a channel\"",
             (long long)inc->id);
    return 0;
  }
  int rc = teams_store_thread_claim(ctx->db, inc->id, channel, ctx->now_ms);
  if (rc) {
    free(channel);
    return rc == KX_EEXISTS ? 0 : rc;
  }
  char name[CHANNEL_NAME_MAX + 1];
  if (inc->channel_name) {
    snprintf(name, sizeof(name), "%s", inc->channel_name);
  } else {
    char base[32];
    rc = incident_channel_base(ctx->config->timezone, inc->declared_at, base, sizeof(base));
    if (rc == 0)
      rc = channel_names_reserve(ctx->db, base, inc->id, ctx->now_ms, name, sizeof(name));
    if (rc == 0)
      rc = incidents_set_text(ctx->db, inc->id, INCIDENT_F_CHANNEL_NAME, name);
  }
  struct msg *m = rc == 0 ? root_msg(ctx, inc, name) : NULL;
  if (rc == 0 && !m)
    rc = KX_ENOMEM;
  char ref[24];
  snprintf(ref, sizeof(ref), "%lld", (long long)inc->id);
  if (rc == 0)
    rc = out_post(ctx, channel, m, OUTBOX_URGENT, INCIDENT_TEAMS_HOOK_THREAD, ref, NULL);
  if (rc == 0)
    LOG_INFO("incident", "teams_thread_requested", "id=%lld name=%s", (long long)inc->id, name);
  msg_free(m);
  free(channel);
  return rc;
}

int incident_teams_thread(struct cmd_ctx *ctx, struct incident *inc)
{
  if (!ctx->config->teams.app_id || inc->channel)
    return 0;
  return start_thread(ctx, inc);
}

int incident_teams_threads(struct cmd_ctx *ctx)
{
  if (!ctx->config->teams.app_id)
    return 0;
  struct incident *list = NULL;
  size_t n = 0;
  int rc = incidents_list(ctx->db, INCIDENTS_OPEN, 0, 0, &list, &n);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    struct incident *inc = &list[i];
    if (inc->channel || !inc->platform || strcmp(inc->platform, "teams") != 0)
      continue;
    rc = start_thread(ctx, inc);
  }
  incidents_free(list, n);
  return rc;
}

static int64_t ref_id(const char *ref)
{
  char *end = NULL;
  long long v = ref ? strtoll(ref, &end, 10) : 0;
  return (end && *end == '\0' && v > 0) ? (int64_t)v : 0;
}

int incident_teams_hook_thread(struct cmd_ctx *ctx,
                               const struct outbox_row *row,
                               const struct cmd_result *result)
{
  int64_t id = ref_id(row->ref);
  struct incident inc;
  int rc = incidents_get(ctx->db, id, &inc);
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  const cJSON *conv = cJSON_GetObjectItemCaseSensitive(result->response, "id");
  const char *place = NULL;
  if (result->ok && cJSON_IsString(conv) && strstr(conv->valuestring, ";messageid=")) {
    place = conv->valuestring;
    rc = teams_store_thread_done(ctx->db, id, NULL, ctx->now_ms);
  } else {
    /* No thread: the conversation it was declared in is the incident's place instead. */
    LOG_WARN("incident", "teams_thread_failed", "id=%lld error=%s", (long long)id,
             result->error ? result->error : "-");
    rc = teams_store_thread_done(ctx->db, id, result->error ? result->error : "no thread id",
                                 ctx->now_ms);
    place = inc.origin_channel && out_is_teams(inc.origin_channel) ? inc.origin_channel : NULL;
  }
  if (rc == 0 && place) {
    rc = incident_attach_channel(ctx, id, place, inc.channel_name);
    if (rc == KX_EEXISTS)
      rc = 0;
    if (rc == 0)
      LOG_INFO("incident", "teams_thread_attached", "id=%lld", (long long)id);
  }
  incident_clear(&inc);
  return rc;
}
