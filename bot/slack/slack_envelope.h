/*
 * slack_envelope.h — Socket Mode frames: parsing, and turning an envelope's payload into the
 * neutral struct cmd_request. Pure (no I/O), so it is unit-tested and fuzzed on its own.
 *
 * A struct slack_frame owns its parsed JSON; the request built from it borrows strings from
 * the frame and from the struct slack_req_strings given alongside, so both must outlive it.
 */
#ifndef KX_SLACK_ENVELOPE_H
#define KX_SLACK_ENVELOPE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "commands/core/request.h"

/* A frame larger than this is refused before parsing (Slack's largest are ~70 KB). */
#define SLACK_FRAME_MAX ((size_t)1024 * 1024)

enum slack_frame_type {
  SLACK_FRAME_HELLO = 0,
  SLACK_FRAME_DISCONNECT,
  SLACK_FRAME_ENVELOPE,
  SLACK_FRAME_UNKNOWN /* valid JSON of a type we do not know: ignored */
};

struct slack_frame {
  enum slack_frame_type type;
  cJSON *root;
  const char *type_name;   /* the "type" field */
  const char *envelope_id; /* ENVELOPE (may be NULL on a broken one) */
  bool accepts_response_payload;
  int retry_attempt;
  const char *retry_reason;
  const char *reason;              /* DISCONNECT */
  int num_connections;             /* HELLO */
  int approximate_connection_time; /* HELLO, seconds, 0 when absent */
  const cJSON *payload;
};

/* 0, KX_EPROTO (not JSON, not an object, no type), KX_ETOOBIG. */
int slack_frame_parse(const char *data, size_t len, struct slack_frame *out);
void slack_frame_free(struct slack_frame *f);

/* Derived strings the request points into. */
struct slack_req_strings {
  char command[32];
  char action_id[256];
  char dedup[160];
  char text[4096 + 64]; /* app_mention text without the bot's mention */
};

/* What the bot itself is, so its own messages are not taken for people's. */
struct slack_self {
  const char *user_id; /* auth.test user_id */
  const char *bot_id;  /* auth.test bot_id */
};

/* Build the request for an envelope (frame->type == SLACK_FRAME_ENVELOPE).
 * 0: a request to dispatch. KX_ENOTFOUND: nothing to do (the bot's own message, an event we do
 * not handle) — ack it. KX_EPROTO: malformed (no payload, wrong shapes) — ack it and log. */
int slack_envelope_request(const struct slack_frame *f,
                           const struct slack_self *self,
                           int64_t now_ms,
                           struct cmd_request *req,
                           struct slack_req_strings *s);

/* "1610241741.000200" -> ms; 0 when not a Slack ts. */
int64_t slack_ts_to_ms(const char *ts);

/* How the reply to `req` reaches the user (request.h): in the ack where Slack accepts a
 * payload (slash commands, view submissions), else to the response_url (buttons), else as an
 * ephemeral message (a command by mention, an event). Set by slack_envelope_request. */
enum cmd_answer slack_answer_for(const struct slack_frame *f, const struct cmd_request *req);

#endif
