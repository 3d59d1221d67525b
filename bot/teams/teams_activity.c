#include "bot/teams/teams_activity.h"

#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

#define MEMBERS_MAX 1000 /* membersAdded/membersRemoved entries looked at */

/* Parsing state: the first error sticks, and every later copy becomes a no-op. */
struct pctx {
  int rc;
};

static const cJSON *member(const cJSON *obj, const char *name)
{
  return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
}

static const char *string_member(const cJSON *obj, const char *name)
{
  const cJSON *it = member(obj, name);
  return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* An owned copy of obj.name when it is a string within the field cap; NULL otherwise. */
static char *copy_field(struct pctx *c, const cJSON *obj, const char *name)
{
  const char *s = string_member(obj, name);
  if (c->rc || !s)
    return NULL;
  if (strnlen(s, TEAMS_FIELD_MAX + 1) > TEAMS_FIELD_MAX) {
    c->rc = KX_EINVAL;
    return NULL;
  }
  char *copy = kx_strdup(s);
  if (!copy)
    c->rc = KX_ENOMEM;
  return copy;
}

static char *copy_n(struct pctx *c, const char *s, size_t n)
{
  if (c->rc)
    return NULL;
  char *copy = kx_strndup(s, n);
  if (!copy)
    c->rc = KX_ENOMEM;
  return copy;
}

const char *teams_activity_type_name(enum teams_activity_type type)
{
  switch (type) {
    case TEAMS_ACTIVITY_MESSAGE:
      return "message";
    case TEAMS_ACTIVITY_INVOKE:
      return "invoke";
    case TEAMS_ACTIVITY_CONVERSATION_UPDATE:
      return "conversationUpdate";
    case TEAMS_ACTIVITY_INSTALLATION_UPDATE:
      return "installationUpdate";
    case TEAMS_ACTIVITY_OTHER:
      break;
  }
  return "other";
}

const char *teams_activity_kind_name(enum teams_activity_kind kind)
{
  switch (kind) {
    case TEAMS_KIND_TEXT:
      return "text";
    case TEAMS_KIND_CARD_SUBMIT:
      return "card_submit";
    case TEAMS_KIND_CARD_ACTION:
      return "card_action";
    case TEAMS_KIND_INVOKE:
      return "invoke";
    case TEAMS_KIND_EVENT:
      return "event";
    case TEAMS_KIND_OTHER:
      break;
  }
  return "other";
}

static enum teams_activity_type type_from_name(const char *s)
{
  static const struct {
    const char *name;
    enum teams_activity_type type;
  } types[] = {
      {"message", TEAMS_ACTIVITY_MESSAGE},
      {"invoke", TEAMS_ACTIVITY_INVOKE},
      {"conversationUpdate", TEAMS_ACTIVITY_CONVERSATION_UPDATE},
      {"installationUpdate", TEAMS_ACTIVITY_INSTALLATION_UPDATE},
  };
  for (size_t i = 0; i < KX_ARRAY_SIZE(types); i++) {
    if (strcmp(s, types[i].name) == 0)
      return types[i].type;
  }
  return TEAMS_ACTIVITY_OTHER;
}

/* ---- text cleaning ----------------------------------------------------------------------- */

int teams_text_remove(char *s, const char *needle)
{
  if (!s || !needle || !*needle)
    return 0;
  char *at = strstr(s, needle);
  if (!at)
    return 0;
  size_t n = strlen(needle);
  memmove(at, at + n, strlen(at + n) + 1);
  return 1;
}

static size_t utf8_put(unsigned long cp, char *out)
{
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* A numeric entity at s ("&#65;" or "&#x41;"): its length, the code point in *cp; 0 when s
 * is not one, or names NUL, a surrogate or something beyond Unicode. An encoded code point
 * is never longer than the entity that named it, so decoding in place is safe. */
static size_t numeric_entity(const char *s, unsigned long *cp)
{
  size_t i = 2;
  int hex = 0;
  if (s[0] != '&' || s[1] != '#')
    return 0;
  if (s[2] == 'x' || s[2] == 'X') {
    hex = 1;
    i = 3;
  }
  unsigned long v = 0;
  size_t digits = 0;
  for (; digits < 8; i++, digits++) {
    char ch = s[i];
    int d;
    if (ch >= '0' && ch <= '9') {
      d = ch - '0';
    } else if (hex && ch >= 'a' && ch <= 'f') {
      d = ch - 'a' + 10;
    } else if (hex && ch >= 'A' && ch <= 'F') {
      d = ch - 'A' + 10;
    } else {
      break;
    }
    v = v * (hex ? 16 : 10) + (unsigned long)d;
  }
  if (digits == 0 || s[i] != ';')
    return 0;
  if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
    return 0;
  *cp = v;
  return i + 1;
}

static int is_space(unsigned char ch)
{
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

void teams_text_clean(char *s)
{
  static const struct {
    const char *name;
    char ch;
  } named[] = {{"&nbsp;", ' '}, {"&amp;", '&'},  {"&lt;", '<'},   {"&gt;", '>'},
               {"&quot;", '"'}, {"&#39;", '\''}, {"&apos;", '\''}};
  if (!s)
    return;
  char *w = s;
  for (const char *r = s; *r;) {
    if ((unsigned char)r[0] == 0xC2 && (unsigned char)r[1] == 0xA0) {
      *w++ = ' ';
      r += 2;
      continue;
    }
    if (*r == '&') {
      size_t n = 0;
      for (size_t i = 0; i < KX_ARRAY_SIZE(named) && !n; i++) {
        size_t len = strlen(named[i].name);
        if (strncmp(r, named[i].name, len) == 0) {
          *w++ = named[i].ch;
          n = len;
        }
      }
      unsigned long cp;
      if (!n && (n = numeric_entity(r, &cp)) > 0)
        w += utf8_put(cp, w);
      if (n) {
        r += n;
        continue;
      }
    }
    *w++ = *r++;
  }
  *w = '\0';
  /* Trim both ends. */
  size_t len = strlen(s);
  while (len > 0 && is_space((unsigned char)s[len - 1]))
    s[--len] = '\0';
  size_t lead = 0;
  while (lead < len && is_space((unsigned char)s[lead]))
    lead++;
  if (lead)
    memmove(s, s + lead, len - lead + 1);
}

/* ---- the activity ------------------------------------------------------------------------ */

static void party_parse(struct pctx *c, const cJSON *obj, struct teams_party *p)
{
  p->id = copy_field(c, obj, "id");
  p->name = copy_field(c, obj, "name");
  p->aad_object_id = copy_field(c, obj, "aadObjectId");
}

static void conversation_parse(struct pctx *c, const cJSON *obj, struct teams_conversation *cv)
{
  cv->id = copy_field(c, obj, "id");
  cv->conversation_type = copy_field(c, obj, "conversationType");
  cv->tenant_id = copy_field(c, obj, "tenantId");
  cv->is_group = cJSON_IsTrue(member(obj, "isGroup"));
  if (!cv->id)
    return;
  cv->base_id = copy_n(c, cv->id, strcspn(cv->id, ";"));
  const char *m = strstr(cv->id, ";messageid=");
  if (m) {
    m += strlen(";messageid=");
    size_t n = strcspn(m, ";");
    if (n > 0)
      cv->thread_root_id = copy_n(c, m, n);
  }
}

static void channel_data_parse(struct pctx *c, const cJSON *cd, struct teams_channel_data *d)
{
  d->tenant_id = copy_field(c, member(cd, "tenant"), "id");
  d->team_id = copy_field(c, member(cd, "team"), "id");
  d->team_name = copy_field(c, member(cd, "team"), "name");
  d->channel_id = copy_field(c, member(cd, "channel"), "id");
  d->channel_name = copy_field(c, member(cd, "channel"), "name");
  d->event_type = copy_field(c, cd, "eventType");
  /* Outgoing Webhook requests and older activities name the team and channel only in the
   * legacy fields. */
  if (!d->team_id)
    d->team_id = copy_field(c, cd, "teamsTeamId");
  if (!d->channel_id)
    d->channel_id = copy_field(c, cd, "teamsChannelId");
}

/* Scan membersAdded/membersRemoved: how many, and whether the bot is among them. */
static void members_scan(const cJSON *arr, const char *bot_id, size_t *count, int *has_bot)
{
  const cJSON *it;
  size_t n = 0;
  if (!cJSON_IsArray(arr))
    return;
  cJSON_ArrayForEach (it, arr) {
    if (n == MEMBERS_MAX)
      break;
    n++;
    const char *id = string_member(it, "id");
    if (bot_id && id && strcmp(id, bot_id) == 0)
      *has_bot = 1;
  }
  *count = n;
}

/* Remove the bot's mentions from a->text and collect the others. */
static void mentions_apply(struct pctx *c, const cJSON *entities, struct teams_activity *a)
{
  const cJSON *e;
  if (!cJSON_IsArray(entities))
    return;
  cJSON_ArrayForEach (e, entities) {
    const char *type = string_member(e, "type");
    const cJSON *who = member(e, "mentioned");
    const char *id = string_member(who, "id");
    if (c->rc || !type || strcmp(type, "mention") != 0 || !id)
      continue;
    if (a->recipient.id && strcmp(id, a->recipient.id) == 0) {
      a->bot_mentioned = 1;
      const char *etext = string_member(e, "text");
      const char *name = string_member(who, "name");
      if (!a->text)
        continue;
      if (etext) {
        teams_text_remove(a->text, etext);
      } else if (name && strlen(name) <= TEAMS_FIELD_MAX) {
        /* No entity text: fall back to the form Teams uses. */
        char *tag = kx_asprintf("<at>%s</at>", name);
        if (!tag)
          c->rc = KX_ENOMEM;
        teams_text_remove(a->text, tag);
        free(tag);
      }
    } else if (a->n_mentions < TEAMS_MENTIONS_MAX) {
      struct teams_mention *m = &a->mentions[a->n_mentions++];
      m->id = copy_field(c, who, "id");
      m->name = copy_field(c, who, "name");
      m->aad_object_id = copy_field(c, who, "aadObjectId");
      m->text = copy_field(c, e, "text");
    }
  }
}

static void action_parse(struct pctx *c, struct teams_activity *a)
{
  const cJSON *action = member(a->value, "action");
  a->action_type = copy_field(c, action, "type");
  a->action_verb = copy_field(c, action, "verb");
  const cJSON *data = member(action, "data");
  a->action_data = (cJSON *)data;
}

static void classify(struct teams_activity *a)
{
  switch (a->type) {
    case TEAMS_ACTIVITY_MESSAGE:
      if (a->value && !cJSON_IsNull(a->value)) {
        a->kind = TEAMS_KIND_CARD_SUBMIT;
      } else if (a->raw_text) {
        a->kind = TEAMS_KIND_TEXT;
      } else {
        a->kind = TEAMS_KIND_OTHER;
      }
      break;
    case TEAMS_ACTIVITY_INVOKE:
      a->kind = a->name && strcmp(a->name, "adaptiveCard/action") == 0 ? TEAMS_KIND_CARD_ACTION
                                                                       : TEAMS_KIND_INVOKE;
      break;
    case TEAMS_ACTIVITY_CONVERSATION_UPDATE:
    case TEAMS_ACTIVITY_INSTALLATION_UPDATE:
      a->kind = TEAMS_KIND_EVENT;
      break;
    case TEAMS_ACTIVITY_OTHER:
      a->kind = TEAMS_KIND_OTHER;
      break;
  }
}

static int text_parse(struct pctx *c, const cJSON *root, struct teams_activity *a)
{
  const char *text = string_member(root, "text");
  if (!text)
    return 0;
  if (strnlen(text, TEAMS_TEXT_MAX + 1) > TEAMS_TEXT_MAX)
    return KX_ETOOBIG;
  a->raw_text = copy_n(c, text, strlen(text));
  a->text = copy_n(c, text, strlen(text));
  mentions_apply(c, member(root, "entities"), a);
  teams_text_clean(a->text);
  return c->rc;
}

static int activity_fill(cJSON *root, struct teams_activity *a)
{
  struct pctx c = {0};
  const char *type = string_member(root, "type");
  if (!type)
    return KX_EINVAL;
  a->type = type_from_name(type);
  a->type_name = copy_field(&c, root, "type");
  a->id = copy_field(&c, root, "id");
  a->timestamp = copy_field(&c, root, "timestamp");
  a->timestamp_ms = -1;
  if (a->timestamp && time_parse_rfc3339(a->timestamp, &a->timestamp_ms) != 0)
    a->timestamp_ms = -1;
  a->service_url = copy_field(&c, root, "serviceUrl");
  a->channel_id = copy_field(&c, root, "channelId");
  party_parse(&c, member(root, "from"), &a->from);
  party_parse(&c, member(root, "recipient"), &a->recipient);
  conversation_parse(&c, member(root, "conversation"), &a->conversation);
  channel_data_parse(&c, member(root, "channelData"), &a->channel_data);
  a->reply_to_id = copy_field(&c, root, "replyToId");
  a->name = copy_field(&c, root, "name");
  a->action = copy_field(&c, root, "action");
  if (c.rc)
    return c.rc;
  int rc = text_parse(&c, root, a);
  if (rc)
    return rc;
  /* The value subtree is moved out of the parsed document rather than copied. */
  cJSON *value = cJSON_GetObjectItemCaseSensitive(root, "value");
  if (value)
    a->value = cJSON_DetachItemViaPointer(root, value);
  members_scan(member(root, "membersAdded"), a->recipient.id, &a->n_members_added, &a->bot_added);
  members_scan(member(root, "membersRemoved"), a->recipient.id, &a->n_members_removed,
               &a->bot_removed);
  classify(a);
  if (a->kind == TEAMS_KIND_CARD_ACTION)
    action_parse(&c, a);
  /* from.id is written into markup as a mention token: one that is not an id is refused. */
  if (c.rc == 0 && a->from.id && !md_id_ok(a->from.id))
    return KX_EINVAL;
  return c.rc;
}

int teams_activity_parse(const char *json, size_t len, struct teams_activity **out)
{
  if (!out)
    return KX_EINVAL;
  *out = NULL;
  if (!json)
    return KX_EINVAL;
  if (len > TEAMS_ACTIVITY_MAX_BYTES)
    return KX_ETOOBIG;
  cJSON *root = cJSON_ParseWithLength(json, len);
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return KX_EINVAL;
  }
  struct teams_activity *a = calloc(1, sizeof(*a));
  if (!a) {
    cJSON_Delete(root);
    return KX_ENOMEM;
  }
  int rc = activity_fill(root, a);
  cJSON_Delete(root);
  if (rc) {
    teams_activity_free(a);
    return rc;
  }
  *out = a;
  return 0;
}

static void party_free(struct teams_party *p)
{
  free(p->id);
  free(p->name);
  free(p->aad_object_id);
}

void teams_activity_free(struct teams_activity *a)
{
  if (!a)
    return;
  free(a->type_name);
  free(a->id);
  free(a->timestamp);
  free(a->service_url);
  free(a->channel_id);
  party_free(&a->from);
  party_free(&a->recipient);
  free(a->conversation.id);
  free(a->conversation.base_id);
  free(a->conversation.thread_root_id);
  free(a->conversation.conversation_type);
  free(a->conversation.tenant_id);
  free(a->channel_data.tenant_id);
  free(a->channel_data.team_id);
  free(a->channel_data.team_name);
  free(a->channel_data.channel_id);
  free(a->channel_data.channel_name);
  free(a->channel_data.event_type);
  free(a->reply_to_id);
  free(a->name);
  free(a->action);
  cJSON_Delete(a->value);
  free(a->raw_text);
  free(a->text);
  for (size_t i = 0; i < a->n_mentions; i++) {
    free(a->mentions[i].id);
    free(a->mentions[i].name);
    free(a->mentions[i].aad_object_id);
    free(a->mentions[i].text);
  }
  free(a->action_type);
  free(a->action_verb);
  free(a);
}
