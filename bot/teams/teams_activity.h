/*
 * teams_activity.h — a Bot Framework activity (the JSON Teams POSTs to /teams/messages or an
 * Outgoing Webhook) parsed into plain C fields.
 *
 * Ownership: teams_activity_parse() returns a struct the caller frees with
 * teams_activity_free() (NULL is a no-op). Every string in it is an owned copy, NULL when the
 * activity did not carry that field (or carried it with another JSON type). `value` is an
 * owned cJSON tree; `action_data` is borrowed from inside `value` and lives as long as it.
 *
 * What is interpreted (facts from shared/protocols/teams.md and the real recordings):
 * - `type` becomes an enum; an unknown type is TEAMS_ACTIVITY_OTHER, never an error (A2014).
 * - `kind` says what the activity asks for: a typed message, a card submit (a message that
 *   carries a non-null `value`: Action.Submit and messageBack — the latter may also carry
 *   text), an Adaptive Card Universal Action (invoke `adaptiveCard/action`, with
 *   value.action.verb/data), any other invoke, or a conversation/installation event.
 * - The bot's own mention is the `mention` entity whose mentioned.id equals recipient.id (the
 *   mention's display name can differ from recipient.name). Its `text` ("<at>Name</at>") is
 *   removed from `text` once per such entity; then a few HTML entities are decoded (&nbsp;
 *   &amp; &lt; &gt; &quot; &#39; &apos; and numeric &#NN; &#xHH;), a UTF-8 no-break space
 *   becomes a space, and leading/trailing white space is trimmed. Other users' mentions stay
 *   in the text and are listed in `mentions`. `raw_text` keeps the text as received.
 * - conversation.id "19:…@thread.skype;messageid=123" gives base_id "19:…@thread.skype" and
 *   thread_root_id "123" (NULL without ";messageid=").
 *
 * Errors: KX_EINVAL when the text is not a JSON object or has no string `type`, or a field
 * exceeds TEAMS_FIELD_MAX; KX_ETOOBIG when the body exceeds TEAMS_ACTIVITY_MAX_BYTES or the
 * text exceeds TEAMS_TEXT_MAX; KX_ENOMEM.
 */
#ifndef KX_TEAMS_ACTIVITY_H
#define KX_TEAMS_ACTIVITY_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define TEAMS_ACTIVITY_MAX_BYTES ((size_t)256 * 1024) /* a whole activity body */
#define TEAMS_TEXT_MAX ((size_t)40 * 1000)            /* the message text */
#define TEAMS_FIELD_MAX 2048  /* any other copied string (ids, names, urls) */
#define TEAMS_MENTIONS_MAX 32 /* other users' mentions kept */

enum teams_activity_type {
  TEAMS_ACTIVITY_OTHER = 0,
  TEAMS_ACTIVITY_MESSAGE,
  TEAMS_ACTIVITY_INVOKE,
  TEAMS_ACTIVITY_CONVERSATION_UPDATE,
  TEAMS_ACTIVITY_INSTALLATION_UPDATE
};

enum teams_activity_kind {
  TEAMS_KIND_OTHER = 0,   /* an unknown type, or a message with neither text nor value */
  TEAMS_KIND_TEXT,        /* a typed message: use `text` */
  TEAMS_KIND_CARD_SUBMIT, /* message + non-null `value` (Action.Submit / messageBack) */
  TEAMS_KIND_CARD_ACTION, /* invoke `adaptiveCard/action`: action_verb, action_data */
  TEAMS_KIND_INVOKE,      /* any other invoke: `name` (may be NULL), `value` */
  TEAMS_KIND_EVENT        /* conversationUpdate / installationUpdate */
};

struct teams_party {
  char *id;
  char *name;
  char *aad_object_id;
};

struct teams_conversation {
  char *id;                /* as received, e.g. "19:…@thread.skype;messageid=1571537152320" */
  char *base_id;           /* id without its ";…" suffix */
  char *thread_root_id;    /* the value of ";messageid=", or NULL */
  char *conversation_type; /* "personal", "groupChat", "channel" */
  int is_group;            /* 1 only when isGroup is true */
  char *tenant_id;
};

struct teams_channel_data {
  char *tenant_id;
  char *team_id;
  char *team_name;
  char *channel_id;
  char *channel_name;
  char *event_type; /* conversationUpdate: teamMemberAdded, channelCreated, teamRenamed, … */
};

struct teams_mention {
  char *id;            /* mentioned.id: "29:…" for a user */
  char *name;          /* mentioned.name */
  char *aad_object_id; /* mentioned.aadObjectId, when Teams gives it */
  char *text;          /* the entity's text as it appears in `text`: "<at>Name</at>" */
};

struct teams_activity {
  enum teams_activity_type type;
  enum teams_activity_kind kind;
  char *type_name; /* the `type` string as received */
  char *id;
  char *timestamp;
  int64_t timestamp_ms; /* -1 when absent or not RFC 3339 */
  char *service_url;
  char *channel_id; /* "msteams" */
  struct teams_party from;
  struct teams_party recipient;
  struct teams_conversation conversation;
  struct teams_channel_data channel_data;
  char *reply_to_id;
  char *name;   /* invoke name, e.g. "adaptiveCard/action" */
  char *action; /* installationUpdate: "add" / "remove" */
  cJSON *value; /* owned copy of `value`, or NULL */
  char *raw_text;
  char *text; /* the bot's mention removed, entities decoded, trimmed; NULL without text */
  int bot_mentioned;
  struct teams_mention mentions[TEAMS_MENTIONS_MAX]; /* other mentions, in order */
  size_t n_mentions;
  char *action_type;  /* CARD_ACTION: value.action.type, e.g. "Action.Execute" */
  char *action_verb;  /* CARD_ACTION: value.action.verb */
  cJSON *action_data; /* CARD_ACTION: value.action.data, borrowed from `value` */
  int bot_added;      /* conversationUpdate: recipient.id is in membersAdded */
  int bot_removed;    /* conversationUpdate: recipient.id is in membersRemoved */
  size_t n_members_added;
  size_t n_members_removed;
};

/* Parse `len` bytes of JSON (need not be NUL-terminated). On success *out owns the result. */
int teams_activity_parse(const char *json, size_t len, struct teams_activity **out);
void teams_activity_free(struct teams_activity *a);

/* "message", "invoke", … / "text", "card_submit", …; never NULL. */
const char *teams_activity_type_name(enum teams_activity_type type);
const char *teams_activity_kind_name(enum teams_activity_kind kind);

/* Remove the first occurrence of `needle` from `s` in place; 1 when removed. Exposed for the
 * text cleaning tests. */
int teams_text_remove(char *s, const char *needle);
/* Decode the minimal HTML entities (see above) in place, turn UTF-8 no-break spaces into
 * spaces and trim white space at both ends (in place, the result starts at s). */
void teams_text_clean(char *s);

#endif
