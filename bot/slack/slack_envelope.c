#include "bot/slack/slack_envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/command.h"
#include "commands/core/msg.h"
#include "lib/kx.h"

static const char *str(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *obj(const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsObject(v) ? v : NULL;
}

int slack_frame_parse(const char *data, size_t len, struct slack_frame *f)
{
  memset(f, 0, sizeof(*f));
  if (len > SLACK_FRAME_MAX)
    return KX_ETOOBIG;
  f->root = cJSON_ParseWithLength(data, len);
  if (!cJSON_IsObject(f->root)) {
    slack_frame_free(f);
    return KX_EPROTO;
  }
  f->type_name = str(f->root, "type");
  if (!f->type_name) {
    slack_frame_free(f);
    return KX_EPROTO;
  }
  const cJSON *v;
  if (strcmp(f->type_name, "hello") == 0) {
    f->type = SLACK_FRAME_HELLO;
    v = cJSON_GetObjectItemCaseSensitive(f->root, "num_connections");
    f->num_connections = cJSON_IsNumber(v) ? v->valueint : 0;
    v = cJSON_GetObjectItemCaseSensitive(obj(f->root, "debug_info"), "approximate_connection_time");
    f->approximate_connection_time = cJSON_IsNumber(v) ? v->valueint : 0;
  } else if (strcmp(f->type_name, "disconnect") == 0) {
    f->type = SLACK_FRAME_DISCONNECT;
    f->reason = str(f->root, "reason");
  } else if (strcmp(f->type_name, "slash_commands") == 0 ||
             strcmp(f->type_name, "interactive") == 0 || strcmp(f->type_name, "events_api") == 0) {
    f->type = SLACK_FRAME_ENVELOPE;
    f->envelope_id = str(f->root, "envelope_id");
    f->accepts_response_payload =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->root, "accepts_response_payload"));
    v = cJSON_GetObjectItemCaseSensitive(f->root, "retry_attempt");
    f->retry_attempt = cJSON_IsNumber(v) ? v->valueint : 0;
    f->retry_reason = str(f->root, "retry_reason");
    f->payload = obj(f->root, "payload");
  } else {
    f->type = SLACK_FRAME_UNKNOWN;
    f->envelope_id = str(f->root, "envelope_id");
  }
  return 0;
}

void slack_frame_free(struct slack_frame *f)
{
  cJSON_Delete(f->root);
  memset(f, 0, sizeof(*f));
}

int64_t slack_ts_to_ms(const char *ts)
{
  if (!ts)
    return 0;
  char *end;
  long long secs = strtoll(ts, &end, 10);
  if (end == ts || secs <= 0)
    return 0;
  int64_t ms = (int64_t)secs * 1000;
  if (*end == '.') {
    int scale = 100;
    for (const char *p = end + 1; *p >= '0' && *p <= '9' && scale; p++, scale /= 10)
      ms += (int64_t)(*p - '0') * scale;
  }
  return ms;
}

static int slash_request(const cJSON *p, struct cmd_request *req, struct slack_req_strings *s)
{
  const char *cmd = str(p, "command");
  if (!cmd || cmd[0] != '/' || !cmd[1] || strlen(cmd) >= sizeof(s->command))
    return KX_EPROTO;
  snprintf(s->command, sizeof(s->command), "%s", cmd + 1);
  req->kind = CMD_KIND_COMMAND;
  req->command = s->command;
  req->text = str(p, "text");
  if (!req->text)
    req->text = "";
  req->user = str(p, "user_id");
  req->user_name = str(p, "user_name");
  req->channel = str(p, "channel_id");
  req->channel_name = str(p, "channel_name");
  req->team = str(p, "team_id");
  req->response_url = str(p, "response_url");
  req->trigger_id = str(p, "trigger_id");
  return req->user ? 0 : KX_EPROTO;
}

static int interactive_request(const cJSON *p, struct cmd_request *req, struct slack_req_strings *s)
{
  const char *type = str(p, "type");
  const cJSON *user = obj(p, "user");
  req->user = str(user, "id");
  req->user_name = str(user, "username");
  req->team = str(obj(p, "team"), "id");
  req->trigger_id = str(p, "trigger_id");
  req->response_url = str(p, "response_url");
  if (!type)
    return KX_EPROTO;
  if (strcmp(type, "block_actions") == 0) {
    const cJSON *actions = cJSON_GetObjectItemCaseSensitive(p, "actions");
    const cJSON *a = cJSON_IsArray(actions) ? cJSON_GetArrayItem(actions, 0) : NULL;
    const char *id = str(a, "action_id");
    if (!id)
      return KX_EPROTO;
    snprintf(s->action_id, sizeof(s->action_id), "%s", id);
    char *hash = strrchr(s->action_id, '#');
    if (hash)
      *hash = '\0';
    req->kind = CMD_KIND_ACTION;
    req->action_id = s->action_id;
    req->action_value = str(a, "value");
    if (!req->action_value)
      req->action_value = str(obj(a, "selected_option"), "value");
    const cJSON *container = obj(p, "container");
    req->channel = str(obj(p, "channel"), "id");
    if (!req->channel)
      req->channel = str(container, "channel_id");
    req->message_ts = str(container, "message_ts");
    if (!req->message_ts)
      req->message_ts = str(obj(p, "message"), "ts");
    req->thread_ts = str(obj(p, "message"), "thread_ts");
    return req->user ? 0 : KX_EPROTO;
  }
  if (strcmp(type, "view_submission") == 0) {
    const cJSON *view = obj(p, "view");
    req->kind = CMD_KIND_VIEW_SUBMISSION;
    req->view_callback = str(view, "callback_id");
    return (req->user && req->view_callback) ? 0 : KX_EPROTO;
  }
  if (strcmp(type, "message_action") == 0) {
    /* A message shortcut: a button whose action_id is the shortcut's callback_id, on the
     * message it was used on. */
    const char *id = str(p, "callback_id");
    if (!id || strlen(id) >= sizeof(s->action_id))
      return KX_EPROTO;
    snprintf(s->action_id, sizeof(s->action_id), "%s", id);
    req->kind = CMD_KIND_ACTION;
    req->action_id = s->action_id;
    req->channel = str(obj(p, "channel"), "id");
    req->message_ts = str(p, "message_ts");
    if (!req->message_ts)
      req->message_ts = str(obj(p, "message"), "ts");
    return (req->user && req->channel) ? 0 : KX_EPROTO;
  }
  return KX_ENOTFOUND; /* view_closed, global shortcuts …: nothing to do yet */
}

static bool is_self(const cJSON *msg, const struct slack_self *self)
{
  const char *bot_id = str(msg, "bot_id");
  const char *user = str(msg, "user");
  /* Every bot's message is ignored: the timeline is what people said. */
  if (bot_id)
    return true;
  return self && self->user_id && user && strcmp(user, self->user_id) == 0;
}

static int mention_command(const cJSON *ev,
                           const struct slack_self *self,
                           struct cmd_request *req,
                           struct slack_req_strings *s)
{
  /* "<@UBOT> incident declare P1 db down" → /incident declare P1 db down */
  const char *text = str(ev, "text");
  if (!text)
    return KX_ENOTFOUND;
  const char *p = text;
  if (self && self->user_id) {
    char mention[64];
    snprintf(mention, sizeof(mention), "<@%s>", self->user_id);
    const char *at = strstr(p, mention);
    if (at)
      p = at + strlen(mention);
  }
  while (*p == ' ')
    p++;
  size_t n = strcspn(p, " ");
  /* The groups come from the command table, never named here. */
  if (n > 0 && n < sizeof(s->command)) {
    snprintf(s->command, sizeof(s->command), "%.*s", (int)n, p);
    if (!cmd_group_exists(s->command))
      return KX_ENOTFOUND;
    snprintf(s->text, sizeof(s->text), "%s", p[n] ? p + n + 1 : "");
    req->kind = CMD_KIND_COMMAND;
    req->command = s->command;
    req->text = s->text;
    return 0;
  }
  return KX_ENOTFOUND;
}

static int event_request(const cJSON *p,
                         const struct slack_self *self,
                         struct cmd_request *req,
                         struct slack_req_strings *s)
{
  const cJSON *ev = obj(p, "event");
  const char *type = str(ev, "type");
  if (!type)
    return KX_EPROTO;
  const char *event_id = str(p, "event_id");
  if (event_id) {
    snprintf(s->dedup, sizeof(s->dedup), "slack-ev:%.120s", event_id);
    req->dedup_key = s->dedup;
  }
  req->team = str(p, "team_id");
  req->user = str(ev, "user");
  if (strcmp(type, "message") == 0) {
    const char *subtype = str(ev, "subtype");
    req->channel = str(ev, "channel");
    if (!subtype || strcmp(subtype, "thread_broadcast") == 0 ||
        strcmp(subtype, "file_share") == 0 || strcmp(subtype, "me_message") == 0) {
      if (is_self(ev, self))
        return KX_ENOTFOUND;
      req->kind = CMD_KIND_MESSAGE;
      req->text = str(ev, "text");
      req->message_ts = str(ev, "ts");
      req->thread_ts = str(ev, "thread_ts");
      req->event_time_ms = slack_ts_to_ms(req->message_ts);
      return (req->channel && req->message_ts && req->user) ? 0 : KX_EPROTO;
    }
    if (strcmp(subtype, "message_changed") == 0) {
      const cJSON *m = obj(ev, "message");
      if (!m)
        return KX_EPROTO;
      if (is_self(m, self))
        return KX_ENOTFOUND;
      req->kind = CMD_KIND_MESSAGE_CHANGED;
      req->user = str(m, "user");
      req->text = str(m, "text");
      req->message_ts = str(m, "ts");
      req->event_time_ms = slack_ts_to_ms(str(ev, "ts"));
      return (req->channel && req->message_ts) ? 0 : KX_EPROTO;
    }
    if (strcmp(subtype, "message_deleted") == 0) {
      req->kind = CMD_KIND_MESSAGE_DELETED;
      req->message_ts = str(ev, "deleted_ts");
      req->event_time_ms = slack_ts_to_ms(str(ev, "ts"));
      return (req->channel && req->message_ts) ? 0 : KX_EPROTO;
    }
    return KX_ENOTFOUND; /* joins, topic changes, bot messages … */
  }
  if (strcmp(type, "reaction_added") == 0 || strcmp(type, "reaction_removed") == 0) {
    const cJSON *item = obj(ev, "item");
    if (!item || !str(item, "type") || strcmp(str(item, "type"), "message") != 0)
      return KX_ENOTFOUND;
    req->kind = type[9] == 'a' ? CMD_KIND_REACTION_ADDED : CMD_KIND_REACTION_REMOVED;
    req->channel = str(item, "channel");
    req->message_ts = str(item, "ts");
    req->action_id = str(ev, "reaction");
    req->event_time_ms = slack_ts_to_ms(str(ev, "event_ts"));
    return (req->channel && req->message_ts && req->action_id) ? 0 : KX_EPROTO;
  }
  if (strcmp(type, "pin_added") == 0 || strcmp(type, "pin_removed") == 0) {
    const cJSON *item = obj(ev, "item");
    req->kind = type[4] == 'a' ? CMD_KIND_PIN_ADDED : CMD_KIND_PIN_REMOVED;
    req->channel = str(ev, "channel_id");
    if (!req->channel)
      req->channel = str(item, "channel");
    req->message_ts = str(obj(item, "message"), "ts");
    req->event_time_ms = slack_ts_to_ms(str(ev, "event_ts"));
    return (req->channel && req->message_ts) ? 0 : KX_ENOTFOUND;
  }
  if (strcmp(type, "app_home_opened") == 0) {
    /* The Messages tab opens too; only the Home tab is drawn. */
    const char *tab = str(ev, "tab");
    if (!tab || strcmp(tab, "home") != 0)
      return KX_ENOTFOUND;
    req->kind = CMD_KIND_HOME_OPENED;
    req->channel = str(ev, "channel");
    return req->user ? 0 : KX_EPROTO;
  }
  if (strcmp(type, "link_shared") == 0) {
    req->kind = CMD_KIND_LINK_SHARED;
    req->channel = str(ev, "channel");
    req->message_ts = str(ev, "message_ts");
    return (req->channel && req->message_ts &&
            cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(ev, "links")))
               ? 0
               : KX_EPROTO;
  }
  if (strcmp(type, "app_mention") == 0) {
    req->channel = str(ev, "channel");
    return mention_command(ev, self, req, s);
  }
  return KX_ENOTFOUND;
}

enum cmd_answer slack_answer_for(const struct slack_frame *f, const struct cmd_request *req)
{
  if (req->kind == CMD_KIND_VIEW_SUBMISSION)
    return CMD_ANSWER_ACK; /* response_action, in the ack */
  if (req->kind == CMD_KIND_COMMAND && f->accepts_response_payload)
    return CMD_ANSWER_ACK;
  if (req->response_url)
    return CMD_ANSWER_RESPONSE_URL;
  /* "@klaxon incident …" arrives as an event, which has no response_url: answer the asker
   * with an ephemeral message. */
  if (req->kind == CMD_KIND_COMMAND && req->channel && req->user)
    return CMD_ANSWER_EPHEMERAL;
  return CMD_ANSWER_ACK;
}

int slack_envelope_request(const struct slack_frame *f,
                           const struct slack_self *self,
                           int64_t now_ms,
                           struct cmd_request *req,
                           struct slack_req_strings *s)
{
  memset(req, 0, sizeof(*req));
  memset(s, 0, sizeof(*s));
  req->platform = CMD_PLATFORM_SLACK;
  req->now_ms = now_ms;
  req->payload = f->payload;
  if (!f->payload || !f->envelope_id)
    return KX_EPROTO;
  snprintf(s->dedup, sizeof(s->dedup), "slack-env:%.120s", f->envelope_id);
  req->dedup_key = s->dedup;
  int rc;
  if (strcmp(f->type_name, "slash_commands") == 0)
    rc = slash_request(f->payload, req, s);
  else if (strcmp(f->type_name, "interactive") == 0)
    rc = interactive_request(f->payload, req, s);
  else if (strcmp(f->type_name, "events_api") == 0)
    rc = event_request(f->payload, self, req, s);
  else
    return KX_ENOTFOUND;
  /* A user id is written into markup as a mention token: one that is not an id is refused. */
  if (rc == 0 && req->user && !md_id_ok(req->user))
    return KX_EPROTO;
  if (rc == 0)
    req->answer = slack_answer_for(f, req);
  return rc;
}
