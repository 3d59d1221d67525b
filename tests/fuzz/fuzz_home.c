/* libFuzzer target (issue 16): a Socket Mode interactive or events_api payload as it reaches
 * the team's-view parsers — a view_submission's state values (every form field, dates and user
 * ids checked), a message shortcut's message, a link_shared event's links — and a Teams
 * Action.Execute's data (the card's inputs). The same bytes go through the Socket Mode frame
 * parser first, so a whole envelope is also a valid input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/slack/slack_envelope.h"
#include "commands/home/home_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fields[] = {"who",  "rota",     "from", "to",       "slot",
                                     "week", "severity", "text", "incident", "title"};

static void payload(const cJSON *p)
{
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    const char *v = home_state_get(p, fields[i]);
    (void)home_state_date_ok(v);
    (void)home_state_user_ok(v);
    (void)home_state_data(p, fields[i]);
  }
  (void)home_state_callback(p);
  (void)home_state_metadata(p);
  struct home_shortcut sc;
  (void)home_shortcut_parse(p, &sc);
  const char *urls[HOME_UNFURL_MAX];
  long long ids[HOME_UNFURL_MAX];
  (void)home_links_parse(p, "https://klaxon.example.com", urls, ids, HOME_UNFURL_MAX);
  (void)home_links_parse(p, "https://klaxon.example.com/", urls, ids, HOME_UNFURL_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cJSON *root = cJSON_ParseWithLength((const char *)data, size);
  if (root) {
    payload(root);
    cJSON_Delete(root);
  }
  struct slack_frame f;
  if (slack_frame_parse((const char *)data, size, &f) == 0) {
    if (f.payload)
      payload(f.payload);
    struct cmd_request req;
    struct slack_req_strings s;
    struct slack_self self = {"UBOT", "BBOT"};
    if (f.type == SLACK_FRAME_ENVELOPE)
      (void)slack_envelope_request(&f, &self, 0, &req, &s);
    slack_frame_free(&f);
  }
  return 0;
}
