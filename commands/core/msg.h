/*
 * msg.h — a platform-neutral message (header, sections, fields, context, buttons) and the
 * markup its text is written in. Renderers turn it into Block Kit (render_slack.h) or an
 * Adaptive Card (render_teams.h); handlers never write platform syntax themselves.
 *
 * The markup is Slack's mrkdwn subset with klaxon's own mention forms:
 *   *bold*  _italic_  `code`  newlines  <https://url|label>  <#C0123>  <@p:alice> (a person by
 *   config id)  <@u:U0123> (a platform user id)  and &amp; &lt; &gt; for the three control chars.
 * Anything a user typed enters markup only through md_text(), which escapes &, < and >, so a
 * title containing <!channel> can never ping a channel on any platform.
 *
 * A struct msg owns everything in it; msg_free releases it (NULL-safe).
 */
#ifndef KX_MSG_H
#define KX_MSG_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

/* Caps from Slack's Block Kit limits (protocols/slack.md §4.2), applied by the builders so a
 * long user text is cut rather than refused by the platform. */
#define MSG_SECTION_MAX 3000
#define MSG_HEADER_MAX 150
#define MSG_FIELD_MAX 2000
#define MSG_BUTTON_LABEL_MAX 75
#define MSG_BUTTON_VALUE_MAX 2000
#define MSG_MAX_BLOCKS 50
#define MSG_MAX_FIELDS 10
#define MSG_MAX_BUTTONS 25
#define MSG_FALLBACK_MAX 4000

/* Markup builders: append to a struct buf (init it with md_init). */
void md_init(struct buf *b);
int md_text(struct buf *b, const char *user_text); /* escaped */
int md_textn(struct buf *b, const char *user_text, size_t n);
int md_raw(struct buf *b, const char *markup); /* trusted markup, not escaped */
int md_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int md_bold(struct buf *b, const char *user_text); /* *escaped* */
int md_person(struct buf *b, const char *person_id);
int md_user(struct buf *b, const char *platform_user_id);
/* A platform user id as Slack and Teams write them: 1..MD_ID_MAX of [A-Za-z0-9:_-]. Transports
 * refuse events whose user id is not one (an id is never trusted into markup); md_user() writes
 * any other id as plain escaped text. */
#define MD_ID_MAX 128
bool md_id_ok(const char *id);
int md_channel(struct buf *b, const char *channel_id);
int md_link(struct buf *b, const char *url, const char *label);
/* Escape &, <, > into a new string (caller frees); NULL on NULL or no memory. */
char *md_escape(const char *s);
/* Undo Slack's escaping of user text (&amp; &lt; &gt;) into a new string (caller frees). */
char *md_unescape(const char *s);

enum msg_block_kind { MSG_SECTION = 0, MSG_FIELDS, MSG_CONTEXT, MSG_DIVIDER, MSG_ACTIONS };

enum msg_style { MSG_STYLE_DEFAULT = 0, MSG_STYLE_PRIMARY, MSG_STYLE_DANGER };

struct msg_field {
  char *label; /* plain */
  char *value; /* markup */
};

struct msg_button {
  char *label;     /* plain */
  char *action_id; /* "page.ack" */
  char *value;     /* opaque to the platform: "42" */
  char *url;       /* a link button instead of an action, may be NULL */
  enum msg_style style;
};

struct msg_block {
  enum msg_block_kind kind;
  char *text; /* SECTION, CONTEXT: markup */
  struct msg_field *fields;
  size_t n_fields;
  struct msg_button *buttons;
  size_t n_buttons;
};

struct msg {
  char *fallback; /* PLAIN text for notifications (escaped by the renderers, never markup) */
  char *header;   /* plain text, may be NULL */
  struct msg_block *blocks;
  size_t n_blocks;
};

struct msg *msg_new(void);
void msg_free(struct msg *m);
int msg_set_fallback(struct msg *m, const char *plain);
int msg_set_header(struct msg *m, const char *plain);
/* Sections take the markup buffer's contents (the buffer is emptied). */
int msg_section_take(struct msg *m, struct buf *markup);
int msg_section(struct msg *m, const char *markup);
int msg_context(struct msg *m, const char *markup);
int msg_divider(struct msg *m);
/* Fields and buttons go into the last block of their kind, or a new one. */
int msg_field(struct msg *m, const char *label, const char *markup_value);
int msg_button(struct msg *m,
               const char *label,
               const char *action_id,
               const char *value,
               enum msg_style style);
int msg_link_button(struct msg *m, const char *label, const char *url);

/* Plain text from markup: mentions by name (through `name_of`, may be NULL), links as
 * "label (url)", entities decoded. Caller frees. */
char *md_to_plain(const char *markup,
                  const char *(*name_of)(void *arg, const char *person_id),
                  void *arg);

#endif
