/*
 * render_teams.h — struct msg to a Microsoft Teams Adaptive Card and Teams markdown.
 *
 * Markup becomes Teams' markdown subset (**bold**, _italic_, [label](url)); person mentions
 * become the person's name in bold (a Teams @mention needs an entity the connector matches; a
 * bold name carries the same information without it). Buttons become Action.Execute (Universal
 * Actions, answered in the invoke's HTTP response) with an Action.Submit fallback for clients
 * that lack them: the transport handles both (protocols/teams.md §2). Returned trees belong to
 * the caller.
 */
#ifndef KX_RENDER_TEAMS_H
#define KX_RENDER_TEAMS_H

#include <cjson/cJSON.h>

#include "commands/core/msg.h"
#include "commands/core/render_slack.h"

/* Adaptive Card schema version we emit. */
#define TEAMS_CARD_VERSION "1.5"

char *render_teams_markdown(const char *markup, const struct render_people *people);
/* {"type":"AdaptiveCard","version":…,"body":[…],"actions":[…]} */
cJSON *render_teams_card(const struct msg *m, const struct render_people *people);
/* A message activity carrying the card: {"type":"message","text":fallback,"attachments":[…]} */
cJSON *render_teams_activity(const struct msg *m, const struct render_people *people);

/* {"type":"message","text":markdown,"textFormat":"markdown"[,"replyToId"][,"attachments"]}.
 * `card` (may be NULL) is copied into an Adaptive Card attachment. */
cJSON *render_teams_reply_activity(const char *markdown,
                                   const cJSON *card,
                                   const char *reply_to_id);
/* The outbox body of a reply: {"conversation":…, "reply_to_id":…, "activity":…}; takes
 * `activity` (deleted on failure). */
cJSON *render_teams_reply_row(const char *conversation_id,
                              const char *reply_to_id,
                              cJSON *activity);
#endif
