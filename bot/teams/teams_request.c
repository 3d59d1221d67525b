#include "bot/teams/teams_request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/core/command.h"
#include "lib/buf.h"
#include "lib/kx.h"

void teams_req_strings_free(struct teams_req_strings *s)
{
  if (!s)
    return;
  free(s->text);
  free(s->dedup);
  free(s->user);
  free(s->action_id);
  free(s->action_value);
  memset(s, 0, sizeof(*s));
}

/* ---- text ------------------------------------------------------------------------------------ */

/* A mention's display name may carry the characters that delimit our mention form. */
static int put_name(struct buf *b, const char *name)
{
  int rc = 0;
  for (const char *p = name ? name : ""; *p && rc == 0; p++) {
    if (*p == '|' || *p == '>' || *p == '<')
      continue;
    if (*p == '&')
      rc = buf_puts(b, "&amp;");
    else
      rc = buf_append(b, p, 1);
  }
  return rc;
}

static int put_escaped(struct buf *b, char c)
{
  switch (c) {
    case '&':
      return buf_puts(b, "&amp;");
    case '<':
      return buf_puts(b, "&lt;");
    case '>':
      return buf_puts(b, "&gt;");
    default:
      return buf_append(b, &c, 1);
  }
}

/* The mention of a.mentions[i] at p, if one starts there: its length, else 0. */
static size_t mention_at(const struct teams_mention *m, const char *p)
{
  if (m->text && *m->text && strncmp(p, m->text, strlen(m->text)) == 0)
    return strlen(m->text);
  if (!m->name || strncmp(p, "<at>", 4) != 0)
    return 0;
  size_t n = strlen(m->name);
  if (strncmp(p + 4, m->name, n) == 0 && strncmp(p + 4 + n, "</at>", 5) == 0)
    return n + 9;
  return 0;
}

static int put_mention(struct buf *b, const struct teams_mention *m, teams_aad_fn aad, void *arg)
{
  char *resolved = NULL;
  const char *id = m->aad_object_id;
  if (!id && aad && m->id)
    id = resolved = aad(arg, m->id);
  if (!id)
    id = m->id ? m->id : "";
  int rc = buf_puts(b, "<@");
  for (const char *p = id; *p && rc == 0; p++)
    if (*p != '|' && *p != '>' && *p != '<')
      rc = buf_append(b, p, 1);
  if (rc == 0 && m->name && *m->name) {
    rc = buf_puts(b, "|");
    if (rc == 0)
      rc = put_name(b, m->name);
  }
  if (rc == 0)
    rc = buf_puts(b, ">");
  free(resolved);
  return rc;
}

static char *teams_text_normalise(const struct teams_activity *a, teams_aad_fn aad, void *aad_arg)
{
  struct buf b;
  buf_init(&b, TEAMS_TEXT_MAX * 6 + 1024);
  const char *p = a->text ? a->text : "";
  int rc = buf_puts(&b, "");
  while (*p && rc == 0) {
    size_t used = 0;
    for (size_t i = 0; i < a->n_mentions && !used; i++) {
      used = mention_at(&a->mentions[i], p);
      if (used)
        rc = put_mention(&b, &a->mentions[i], aad, aad_arg);
    }
    if (used) {
      p += used;
      continue;
    }
    rc = put_escaped(&b, *p++);
  }
  if (rc) {
    buf_free(&b);
    return NULL;
  }
  return buf_take(&b);
}

void teams_webhook_addressed(struct teams_activity *a)
{
  if (a->bot_mentioned)
    return;
  a->bot_mentioned = 1;
  if (!a->text || a->n_mentions == 0)
    return;
  size_t n = mention_at(&a->mentions[0], a->text);
  if (!n)
    return;
  memmove(a->text, a->text + n, strlen(a->text + n) + 1);
  teams_text_clean(a->text);
  free(a->mentions[0].id);
  free(a->mentions[0].name);
  free(a->mentions[0].aad_object_id);
  free(a->mentions[0].text);
  memmove(&a->mentions[0], &a->mentions[1], (a->n_mentions - 1) * sizeof(a->mentions[0]));
  a->n_mentions--;
}

/* ---- commands -------------------------------------------------------------------------------- */

/* "incident declare P1 x" -> group "incident", rest "declare P1 x"; NULL when not a command.
 * The groups come from the command table. */
static const char *command_group(const char *text, const char **rest)
{
  const char *p = text;
  while (*p && isspace((unsigned char)*p))
    p++;
  if (*p == '/')
    p++;
  size_t n = 0;
  while (p[n] && !isspace((unsigned char)p[n]))
    n++;
  const char *group = cmd_group_find(p, n);
  if (!group)
    return NULL;
  const char *r = p + n;
  while (*r && isspace((unsigned char)*r))
    r++;
  *rest = r;
  return group;
}

static bool is_personal(const struct teams_activity *a)
{
  return a->conversation.conversation_type &&
         strcmp(a->conversation.conversation_type, "personal") == 0;
}

static void fill_common(const struct teams_activity *a,
                        int64_t now_ms,
                        struct cmd_request *req,
                        struct teams_req_strings *strs)
{
  req->platform = CMD_PLATFORM_TEAMS;
  req->now_ms = now_ms;
  req->dedup_key = strs->dedup;
  req->user = strs->user;
  req->user_name = a->from.name;
  req->channel = a->conversation.id;
  req->channel_name = a->channel_data.channel_name;
  req->team = a->channel_data.team_id;
  req->message_ts = a->id;
  req->thread_ts = a->conversation.thread_root_id;
  req->service_url = a->service_url;
  req->reply_to_id = a->id;
  req->event_time_ms = a->timestamp_ms > 0 ? a->timestamp_ms : 0;
  req->personal = is_personal(a);
}

/* value {"action": "page.ack", "value": "42"} as the renderer puts it in a button's data. */
static int action_fields(const cJSON *data, const char *verb, struct teams_req_strings *strs)
{
  const cJSON *action =
      cJSON_IsObject(data) ? cJSON_GetObjectItemCaseSensitive(data, "action") : NULL;
  const cJSON *value =
      cJSON_IsObject(data) ? cJSON_GetObjectItemCaseSensitive(data, "value") : NULL;
  const char *id =
      action && cJSON_IsString(action) && *action->valuestring ? action->valuestring : verb;
  if (!id || !*id || strlen(id) > TEAMS_FIELD_MAX)
    return KX_EINVAL;
  strs->action_id = kx_strdup(id);
  if (value && cJSON_IsString(value)) {
    if (strlen(value->valuestring) > TEAMS_FIELD_MAX)
      return KX_EINVAL;
    strs->action_value = kx_strdup(value->valuestring);
  } else if (value && cJSON_IsNumber(value)) {
    strs->action_value = kx_asprintf("%.0f", value->valuedouble);
  } else {
    strs->action_value = kx_strdup("");
  }
  return strs->action_id && strs->action_value ? 0 : KX_ENOMEM;
}

enum teams_route teams_request_build(const struct teams_activity *a,
                                     int64_t now_ms,
                                     teams_aad_fn aad,
                                     void *aad_arg,
                                     struct cmd_request *req,
                                     struct teams_req_strings *strs)
{
  memset(req, 0, sizeof(*req));
  memset(strs, 0, sizeof(*strs));
  if (a->kind == TEAMS_KIND_EVENT)
    return TEAMS_ROUTE_EVENT;
  /* An edit or a deletion of a channel message (the timeline follows them): the activity's id
   * is the message's. */
  bool edit = a->type_name && strcmp(a->type_name, "messageUpdate") == 0;
  bool gone = a->type_name && strcmp(a->type_name, "messageDelete") == 0;
  if ((a->kind == TEAMS_KIND_OTHER && !edit && !gone) || !a->id || !a->conversation.id)
    return TEAMS_ROUTE_IGNORE;
  /* Our own posts never come back to us, but a misrouted one must not loop. */
  if (a->from.id && a->recipient.id && strcmp(a->from.id, a->recipient.id) == 0)
    return TEAMS_ROUTE_IGNORE;
  const char *user = a->from.aad_object_id ? a->from.aad_object_id : a->from.id;
  if (!user)
    return TEAMS_ROUTE_IGNORE;
  char dedup[TEAMS_DEDUP_MAX];
  int n = snprintf(dedup, sizeof(dedup), "teams:%s:%s", a->conversation.base_id, a->id);
  if (n < 0 || (size_t)n >= sizeof(dedup))
    return TEAMS_ROUTE_IGNORE;
  strs->dedup = kx_strdup(dedup);
  strs->user = kx_strdup(user);
  if (!strs->dedup || !strs->user)
    goto fail;
  fill_common(a, now_ms, req, strs);
  if (edit || gone) {
    /* The dedup key must differ from the message's own (and between two edits). */
    free(strs->dedup);
    strs->dedup = kx_asprintf("%s:%s:%lld", dedup, edit ? "edit" : "delete",
                              (long long)(a->timestamp_ms > 0 ? a->timestamp_ms : now_ms));
    strs->text = edit ? teams_text_normalise(a, aad, aad_arg) : NULL;
    if (!strs->dedup || (edit && !strs->text))
      goto fail;
    req->dedup_key = strs->dedup;
    req->kind = edit ? CMD_KIND_MESSAGE_CHANGED : CMD_KIND_MESSAGE_DELETED;
    req->text = strs->text;
    return TEAMS_ROUTE_DISPATCH;
  }
  switch (a->kind) {
    case TEAMS_KIND_CARD_SUBMIT:
      if (action_fields(a->value, NULL, strs))
        goto fail;
      req->kind = CMD_KIND_ACTION;
      break;
    case TEAMS_KIND_CARD_ACTION:
      if (action_fields(a->action_data, a->action_verb, strs))
        goto fail;
      req->kind = CMD_KIND_ACTION;
      req->payload = a->action_data; /* a form card's inputs travel in its data */
      break;
    case TEAMS_KIND_INVOKE: {
      /* A plain `msteams.type: invoke` button carries our data as its value. */
      const cJSON *act =
          cJSON_IsObject(a->value) ? cJSON_GetObjectItemCaseSensitive(a->value, "action") : NULL;
      if (a->name || !cJSON_IsString(act) || action_fields(a->value, NULL, strs))
        goto fail;
      req->kind = CMD_KIND_ACTION;
      break;
    }
    case TEAMS_KIND_TEXT: {
      strs->text = teams_text_normalise(a, aad, aad_arg);
      if (!strs->text)
        goto fail;
      bool addressed = a->bot_mentioned || is_personal(a);
      if (!addressed) {
        /* Without the mention, only the RSC permission delivers a message: the thread talks. */
        req->kind = CMD_KIND_MESSAGE;
        req->text = strs->text;
        return TEAMS_ROUTE_DISPATCH;
      }
      const char *rest = NULL;
      const char *group = command_group(strs->text, &rest);
      if (!group)
        return TEAMS_ROUTE_HELP;
      req->kind = CMD_KIND_COMMAND;
      req->command = group;
      req->text = rest;
      return TEAMS_ROUTE_DISPATCH;
    }
    default:
      goto fail;
  }
  req->action_id = strs->action_id;
  req->action_value = strs->action_value;
  req->message_ts = a->reply_to_id;
  req->reply_to_id = a->reply_to_id;
  if (!req->message_ts)
    goto fail;
  return TEAMS_ROUTE_DISPATCH;
fail:
  teams_req_strings_free(strs);
  memset(req, 0, sizeof(*req));
  return TEAMS_ROUTE_IGNORE;
}

/* ---- replies --------------------------------------------------------------------------------- */

char *teams_invoke_response(const char *text)
{
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  cJSON_AddNumberToObject(o, "statusCode", 200);
  cJSON_AddStringToObject(o, "type", TEAMS_INVOKE_MESSAGE_TYPE);
  cJSON_AddStringToObject(o, "value", text && *text ? text : "Done.");
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

char *teams_invoke_card_response(const cJSON *card)
{
  cJSON *o = cJSON_CreateObject();
  cJSON *copy = cJSON_Duplicate(card, 1);
  if (!o || !copy) {
    cJSON_Delete(o);
    cJSON_Delete(copy);
    return NULL;
  }
  cJSON_AddNumberToObject(o, "statusCode", 200);
  cJSON_AddStringToObject(o, "type", TEAMS_INVOKE_CARD_TYPE);
  cJSON_AddItemToObject(o, "value", copy);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}
