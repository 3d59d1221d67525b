/* libFuzzer target: a Socket Mode frame, as bytes from the socket, through the frame parser
 * and the envelope → request conversion; then the request's text through the command
 * tokeniser and the markup renderers (what a slash command's text meets first). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/slack/slack_envelope.h"
#include "commands/core/command.h"
#include "commands/core/msg.h"
#include "commands/core/render_slack.h"
#include "commands/core/render_teams.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct slack_frame f;
  if (slack_frame_parse((const char *)data, size, &f) == 0) {
    struct cmd_request req;
    struct slack_req_strings s;
    struct slack_self self = {"UBOT", "BBOT"};
    if (f.type == SLACK_FRAME_ENVELOPE && slack_envelope_request(&f, &self, 0, &req, &s) == 0 &&
        req.text) {
      struct cmd_args args;
      if (cmd_args_parse(req.text, &args) == 0)
        cmd_args_free(&args);
    }
    slack_frame_free(&f);
  }
  /* The raw bytes as markup and as user text. */
  char *text = strndup((const char *)data, size);
  if (text) {
    char *a = render_slack_mrkdwn(text, NULL, 3000);
    char *b = render_teams_markdown(text, NULL);
    char *c = md_escape(text);
    char *d = md_to_plain(text, NULL, NULL);
    free(a);
    free(b);
    free(c);
    free(d);
    free(text);
  }
  return 0;
}
