/*
 * teams_request.h — a verified Teams activity to the neutral struct cmd_request, and the
 * neutral reply back to Teams' shapes (a reply activity, an invoke response, an Outgoing
 * Webhook answer). Pure: no network, no clock, no database; who a `29:` user id is comes from
 * a resolver the transport passes in.
 *
 * What becomes what (protocols/teams.md §1.2, §2.2):
 * - A message whose text starts (after the bot's mention, which the parser removed) with
 *   `incident` or `oncall` (a leading `/` is accepted) → CMD_KIND_COMMAND with that command
 *   and the rest as text. In a channel or group chat only a message that mentions the bot is a
 *   command; in a personal chat every message is. Anything else addressed to the bot (`@klaxon`,
 *   `@klaxon help`, an unknown word) → TEAMS_ROUTE_HELP.
 * - A channel message that does not mention the bot (delivered with the RSC permission
 *   ChannelMessage.Read.Group) → CMD_KIND_MESSAGE, for the incident timeline.
 * - A card submit (message with `value` {action, value} and replyToId) and an Action.Execute
 *   (invoke adaptiveCard/action with value.action.data {action, value}) → CMD_KIND_ACTION with
 *   action_id / action_value, message_ts = the card's activity id (replyToId).
 * - messageUpdate / messageDelete (a channel message edited or deleted; Teams sends them to a
 *   bot that saw the message) → CMD_KIND_MESSAGE_CHANGED (text = the new text) /
 *   CMD_KIND_MESSAGE_DELETED, message_ts = the message's id.
 * - conversationUpdate / installationUpdate → TEAMS_ROUTE_EVENT (the transport stores them).
 * - Anything else → TEAMS_ROUTE_IGNORE.
 * Text is put in the form handlers parse for Slack: &, < and > escaped as &amp; &lt; &gt;,
 * other users' mentions as `<@AADID|Name>` (the Entra object id, which people[].teams names;
 * when it is unknown, the `29:` id stays and no person matches).
 *
 * Ownership: teams_request_build() fills `req` with pointers into `a` and into `strs`;
 * both must outlive the request. teams_req_strings_free() releases `strs` (safe on a zeroed
 * struct). Builders of JSON return trees or strings the caller frees; NULL when out of memory.
 */
#ifndef KX_TEAMS_REQUEST_H
#define KX_TEAMS_REQUEST_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "bot/teams/teams_activity.h"
#include "commands/core/request.h"

#define TEAMS_INVOKE_MESSAGE_TYPE "application/vnd.microsoft.activity.message"
/* An invoke response that replaces the clicked card with `value` (Universal Actions). */
#define TEAMS_INVOKE_CARD_TYPE "application/vnd.microsoft.card.adaptive"
#define TEAMS_DEDUP_MAX 512 /* the dedup key: "teams:" + conversation + ":" + activity id */

enum teams_route {
  TEAMS_ROUTE_IGNORE = 0,
  TEAMS_ROUTE_DISPATCH, /* req is filled: run it through cmd_dispatch */
  TEAMS_ROUTE_HELP,     /* addressed to the bot but not a command: answer with help */
  TEAMS_ROUTE_EVENT     /* conversationUpdate / installationUpdate */
};

/* The Entra object id of a `29:` user id, or NULL when unknown; the result is freed by the
 * caller. */
typedef char *(*teams_aad_fn)(void *arg, const char *user_id);

struct teams_req_strings {
  char *text;
  char *dedup;
  char *user;
  char *action_id;
  char *action_value;
};

/* Decide what the activity is and, for TEAMS_ROUTE_DISPATCH, fill req. `aad` may be NULL. */
enum teams_route teams_request_build(const struct teams_activity *a,
                                     int64_t now_ms,
                                     teams_aad_fn aad,
                                     void *aad_arg,
                                     struct cmd_request *req,
                                     struct teams_req_strings *strs);
void teams_req_strings_free(struct teams_req_strings *s);

/* An Outgoing Webhook message is always addressed to the webhook, whose mention leads the
 * text but need not carry the recipient's id: drop that leading mention and mark the activity
 * as addressed. */
void teams_webhook_addressed(struct teams_activity *a);

/* The HTTP body answering an adaptiveCard/action invoke:
 * {"statusCode":200,"type":"application/vnd.microsoft.activity.message","value":text}. */
char *teams_invoke_response(const char *text);
/* {"statusCode":200,"type":TEAMS_INVOKE_CARD_TYPE,"value":card} (a copy); caller frees. */
char *teams_invoke_card_response(const cJSON *card);

#endif
