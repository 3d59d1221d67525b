/*
 * home_unfurl.c — incident links unfurl (issue 16): a link_shared event naming
 * PUBLIC_URL/incidents/ID… gets a chat.unfurl row with a small card per incident: title,
 * severity, status, commander and how long it has run (or ran). Links to anything else, or
 * without a public_url configured, are left to Slack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/core/render_slack.h"
#include "commands/home/home.h"
#include "commands/home/home_state.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/incidents.h"

static void duration(int64_t ms, char *out, size_t size)
{
  long long min = ms > 0 ? (long long)(ms / 60000) : 0;
  if (min < 60)
    snprintf(out, size, "%lld min", min);
  else if (min < 48LL * 60)
    snprintf(out, size, "%lld h %02lld min", min / 60, min % 60);
  else
    snprintf(out, size, "%lld days %lld h", min / 1440, (min % 1440) / 60);
}

static struct msg *card(struct cmd_ctx *ctx, const struct incident *inc)
{
  struct msg *m = msg_new();
  if (!m)
    return NULL;
  struct buf b;
  md_init(&b);
  md_printf(&b, "*Incident #%lld* ", (long long)inc->id);
  md_text(&b, inc->title);
  if (inc->drill)
    md_raw(&b, " _(drill)_");
  int rc = msg_section_take(m, &b);
  char d[48];
  int64_t end = inc->resolved_at ? inc->resolved_at : ctx->now_ms;
  duration(end - inc->declared_at, d, sizeof(d));
  md_text(&b, inc->severity);
  rc = rc ? rc : msg_field(m, "Severity", b.data ? b.data : "");
  buf_reset(&b);
  md_text(&b, inc->status);
  rc = rc ? rc : msg_field(m, "Status", b.data ? b.data : "");
  buf_reset(&b);
  const char *cmdr = inc->roles[INCIDENT_ROLE_COMMANDER];
  if (cmdr && config_person(ctx->config, cmdr))
    md_person(&b, cmdr);
  else if (cmdr && md_id_ok(cmdr))
    md_user(&b, cmdr);
  else
    md_raw(&b, "_nobody yet_");
  rc = rc ? rc : msg_field(m, "Commander", b.data ? b.data : "");
  buf_reset(&b);
  md_printf(&b, "%s%s", d, inc->resolved_at ? " (resolved)" : " so far");
  rc = rc ? rc : msg_field(m, "Duration", b.data ? b.data : "");
  buf_free(&b);
  if (rc) {
    msg_free(m);
    return NULL;
  }
  return m;
}

int home_ev_link_shared(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  (void)reply;
  const char *urls[HOME_UNFURL_MAX];
  long long ids[HOME_UNFURL_MAX];
  size_t n = home_links_parse(req->payload, ctx->public_url, urls, ids, HOME_UNFURL_MAX);
  if (!n)
    return 0;
  cJSON *unfurls = cJSON_CreateObject();
  if (!unfurls)
    return KX_ENOMEM;
  struct cmd_people pp;
  cmd_people_open(&pp, ctx);
  int rc = 0, made = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    struct incident inc;
    if (incidents_get(ctx->db, ids[i], &inc) != 0) {
      LOG_INFO("home", "unfurl_unknown_incident", "id=%lld", ids[i]);
      continue;
    }
    struct msg *m = card(ctx, &inc);
    incident_clear(&inc);
    cJSON *blocks = m ? render_slack_blocks(m, &pp.rp) : NULL;
    msg_free(m);
    if (!blocks) {
      rc = KX_ENOMEM;
      break;
    }
    cJSON *u = cJSON_CreateObject();
    cJSON_AddItemToObject(u, "blocks", blocks);
    cJSON_AddItemToObject(unfurls, urls[i], u);
    made++;
  }
  cmd_people_close(&pp);
  if (rc || !made) {
    cJSON_Delete(unfurls);
    return rc;
  }
  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(req->payload, "event");
  const cJSON *uid = cJSON_GetObjectItemCaseSensitive(ev, "unfurl_id");
  const cJSON *src = cJSON_GetObjectItemCaseSensitive(ev, "source");
  cJSON *body = cJSON_CreateObject();
  if (!body) {
    cJSON_Delete(unfurls);
    return KX_ENOMEM;
  }
  /* A link still in the composer has no message yet: Slack names it by unfurl_id and source. */
  if (cJSON_IsString(uid) && cJSON_IsString(src) && strcmp(src->valuestring, "composer") == 0) {
    cJSON_AddStringToObject(body, "unfurl_id", uid->valuestring);
    cJSON_AddStringToObject(body, "source", src->valuestring);
  } else {
    cJSON_AddStringToObject(body, "channel", req->channel);
    cJSON_AddStringToObject(body, "ts", req->message_ts);
  }
  cJSON_AddItemToObject(body, "unfurls", unfurls);
  return out_slack_call(ctx, "chat.unfurl", req->channel, body, OUTBOX_NORMAL, NULL, NULL, NULL);
}
