/*
 * home_state.h — reading a submitted form (a view_submission payload's view.state.values) and
 * checking its fields: pure functions over outside input, fuzzed in tests/fuzz/fuzz_home_state.c.
 * Strings returned point into the payload (borrowed); the payload must outlive them.
 */
#ifndef KX_HOME_STATE_H
#define KX_HOME_STATE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#define HOME_FIELD_MAX 3000 /* longest text a form field may carry */

/* The value of the input block `block` (whose element's action_id is the same name): a
 * plain_text_input's value, a users_select's selected_user, a datepicker's selected_date, a
 * static_select's or radio_buttons' selected option value. NULL when absent, empty, of another
 * shape, or longer than HOME_FIELD_MAX. */
const char *home_state_get(const cJSON *payload, const char *block);
/* Teams: the string `field` of an Action.Execute's data (inputs arrive there by id), under the
 * same rules. */
const char *home_state_data(const cJSON *data, const char *field);
/* The view's callback_id and private_metadata, or NULL. */
const char *home_state_callback(const cJSON *payload);
const char *home_state_metadata(const cJSON *payload);
/* True for "YYYY-MM-DD" naming a real calendar date. */
bool home_state_date_ok(const char *s);
/* True for a Slack user id (U… or W…, letters and digits). */
bool home_state_user_ok(const char *s);

/* A message shortcut's message (payload.type "message_action"): where it is, who wrote it,
 * what it says. Borrowed from the payload. */
#define HOME_SHORTCUT_TEXT_MAX 4000 /* longer texts are cut when copied (home_shortcuts.c) */
struct home_shortcut {
  const char *channel;
  const char *ts;     /* the message's ts */
  const char *author; /* its user (NULL for a bot's message) */
  const char *text;   /* "" when it has none */
};
/* 0, or KX_EPROTO when the payload lacks the channel or the message ts, or they are not ids. */
int home_shortcut_parse(const cJSON *payload, struct home_shortcut *out);

/* Incident links of a link_shared event (payload.event.links[].url): those under `base` (the
 * config's public_url, no trailing slash needed) of the form BASE/incidents/ID or
 * BASE/incidents/ID/…; each URL (borrowed) and its incident id, at most `max`. Returns how many. */
#define HOME_UNFURL_MAX 10
size_t home_links_parse(
    const cJSON *payload, const char *base, const char **urls, long long *ids, size_t max);

#endif
