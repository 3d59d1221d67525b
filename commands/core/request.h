/*
 * request.h — the one platform-neutral request every handler takes, and the reply it gives.
 *
 * A transport (Slack Socket Mode, Teams, the alert webhooks, the scheduler, the CLI) turns a
 * platform event into a struct cmd_request; cmd_dispatch() (command.h) runs the handler inside
 * one SQLite transaction; what must be said later is written to the outbox in that same
 * transaction; what must be said now goes in the struct cmd_reply, which the transport turns
 * into the platform's synchronous answer (a Socket Mode ack payload, an invoke response …).
 *
 * All strings in a request are borrowed from the transport for the duration of the call.
 * User mentions inside `text` are normalised by the transport to `<@ID>` or `<@ID|name>`,
 * where ID is the platform's user id (Slack U…, Teams aad object id), so handlers parse one form.
 */
#ifndef KX_REQUEST_H
#define KX_REQUEST_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"

enum cmd_platform {
  CMD_PLATFORM_SLACK = 0,
  CMD_PLATFORM_TEAMS,
  CMD_PLATFORM_HTTP, /* alert webhooks */
  CMD_PLATFORM_CLI,
  CMD_PLATFORM_TIMER
};

enum cmd_kind {
  CMD_KIND_COMMAND = 0,     /* a slash command (or a Teams "@klaxon incident …" message) */
  CMD_KIND_ACTION,          /* a button: action_id + action_value */
  CMD_KIND_VIEW_SUBMISSION, /* a modal's submit: view_callback + payload */
  CMD_KIND_MESSAGE,         /* a human message in a channel */
  CMD_KIND_MESSAGE_CHANGED, /* an edit: message_ts names the original, text the new text */
  CMD_KIND_MESSAGE_DELETED, /* message_ts names the deleted message */
  CMD_KIND_REACTION_ADDED,  /* reaction name in action_value, message_ts the message */
  CMD_KIND_REACTION_REMOVED,
  CMD_KIND_PIN_ADDED, /* message_ts the pinned message */
  CMD_KIND_PIN_REMOVED,
  CMD_KIND_OTHER,
  CMD_KIND_HOME_OPENED, /* issue 16: the App Home tab was opened (user) */
  CMD_KIND_LINK_SHARED  /* issue 16: links to unfurl; the event is in payload */
};

/* Where the reply goes when the transport's own answer cannot carry it. The dispatcher writes
 * it to the outbox in the request's transaction (out_answer), so every answer leaves the same
 * way: through the outbox or the transport's ack. */
enum cmd_answer {
  CMD_ANSWER_ACK = 0,   /* in the transport's answer (Socket Mode ack, invoke response), or none */
  CMD_ANSWER_EPHEMERAL, /* Slack: chat.postEphemeral to `user` in `channel` */
  CMD_ANSWER_RESPONSE_URL, /* Slack: POSTed to `response_url` */
  CMD_ANSWER_THREAD        /* Teams: a reply in conversation `channel`, to `reply_to_id` */
};

struct cmd_request {
  enum cmd_platform platform;
  enum cmd_answer answer;
  enum cmd_kind kind;
  int64_t now_ms;        /* the clock's now, stamped by the transport */
  const char *dedup_key; /* envelope or event id; NULL when there is none */
  const char *command;   /* "incident" or "oncall" (no slash) */
  const char *text;      /* everything after the command, as typed */
  const char *user;      /* platform user id of who did it */
  const char *user_name;
  const char *channel; /* where: Slack channel id, Teams conversation id */
  const char *channel_name;
  const char *team;
  const char *response_url;
  const char *trigger_id;
  const char *action_id; /* CMD_KIND_ACTION: "incident.lead"; REACTION: the emoji name */
  const char *action_value;
  const char *view_callback; /* CMD_KIND_VIEW_SUBMISSION: the view's callback_id */
  const char *message_ts;    /* the message the event is about (button's message, event ts) */
  const char *thread_ts;
  const char *service_url; /* Teams: where replies go */
  const char *reply_to_id; /* Teams: the card's activity id */
  int64_t event_time_ms;   /* when the platform says it happened (message ts), 0 if unknown */
  const cJSON *payload;    /* the raw platform payload, for what the fields above lack (Teams
                              Action.Execute: the action's data, the card's inputs in it) */
  bool personal;           /* Teams: a 1:1 chat with the bot (issue 16: the Home card) */
};

/* What to answer now. Text is mrkdwn-neutral markup built with msg.h helpers or plain text;
 * `blocks` (optional) is a ready Block Kit array for Slack; `card` an Adaptive Card for Teams.
 * The reply owns its contents; cmd_reply_free releases them. */
struct cmd_reply {
  struct buf text;
  cJSON *blocks;
  cJSON *card;
  bool in_channel;          /* visible to everyone in the channel (default: only to the caller) */
  cJSON *view_response;     /* view_submission: {"response_action": …} */
  bool handled;             /* set by dispatch when a handler ran */
  int http_status;          /* HTTP transport: the answer's status (0: 200) */
  const char *content_type; /* HTTP transport: a static string (NULL: JSON) */
};

void cmd_reply_init(struct cmd_reply *r);
void cmd_reply_free(struct cmd_reply *r);
/* Append to the reply's text (printf style). Returns 0 or KX_ENOMEM/KX_ETOOBIG. */
int cmd_reply_printf(struct cmd_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
