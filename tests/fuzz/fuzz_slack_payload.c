/*
 * fuzz_slack_payload.c — libFuzzer target for what is inside a Socket Mode envelope: the
 * payload of events_api, interactive (block_actions, view_submission, view_closed, shortcuts)
 * and slash_commands envelopes, wrapped in a well-formed envelope so every input reaches
 * slack_envelope_request (bot/slack/slack_envelope.c) and, when that builds a request, the whole
 * dispatcher: cmd_dispatch with the example config (deploy/klaxon.example.yaml) on an in-memory
 * database, so the buttons' and the modals' handlers (incident_view_declare's state values and
 * private_metadata, the page buttons …) meet hostile payloads too. Never a crash, a leak or
 * undefined behaviour; a view_submission's answer is always an object.
 *
 * Input: byte 0 picks the envelope type (0 events_api, 1 interactive, 2 slash_commands) and
 * whether it accepts a response payload (bit 2); the rest is the payload's JSON.
 * Seeds: tests/fuzz/seeds/fuzz_slack_payload/ (the payloads of tests/fixtures/slack).
 */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/config/config_load.h"
#include "bot/slack/slack_envelope.h"
#include "commands/core/command.h"
#include "lib/log.h"
#include "storage/db.h"

#define RESET_EVERY 2000 /* a fresh database now and then: the rows of earlier inputs pile up */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config *config;
static struct db *db;
static unsigned runs;

static void setup(void)
{
  if (!config) {
    log_set_level(LOG_LEVEL_OFF);
    struct config_problems pr;
    config = config_load_file("deploy/klaxon.example.yaml", &pr);
    config_problems_free(&pr);
    if (!config)
      abort(); /* run from the repository's root (tests/fuzz/run.sh and regress.sh do) */
  }
  if (!db || ++runs % RESET_EVERY == 0) {
    db_close(db);
    int err = 0;
    db = db_open(":memory:", 0, &err);
    if (!db)
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const types[] = {"events_api", "interactive", "slash_commands"};
  if (size < 1)
    return 0;
  setup();
  cJSON *payload = cJSON_ParseWithLength((const char *)data + 1, size - 1);
  if (!payload)
    return 0;
  cJSON *env = cJSON_CreateObject();
  cJSON_AddStringToObject(env, "envelope_id", "fuzz-envelope-1");
  cJSON_AddStringToObject(env, "type", types[(data[0] & 3) % 3]);
  cJSON_AddBoolToObject(env, "accepts_response_payload", (data[0] & 4) != 0);
  cJSON_AddNumberToObject(env, "retry_attempt", 0);
  cJSON_AddItemToObject(env, "payload", payload);
  char *text = cJSON_PrintUnformatted(env);
  cJSON_Delete(env);
  if (!text)
    return 0;
  struct slack_frame f;
  if (slack_frame_parse(text, strlen(text), &f) != 0 || f.type != SLACK_FRAME_ENVELOPE)
    __builtin_trap(); /* a well-formed envelope is always one */
  struct cmd_request req;
  struct slack_req_strings s;
  struct slack_self self = {"U0KLAXBOT1", "B0KLAXBOT1"};
  int64_t now = 1795510800000; /* 2026-11-24T10:00:00+01:00 */
  if (slack_envelope_request(&f, &self, now, &req, &s) == 0) {
    (void)slack_answer_for(&f, &req);
    struct cmd_ctx ctx = {.db = db, .config = config, .now_ms = now};
    struct cmd_reply reply;
    cmd_reply_init(&reply);
    (void)cmd_dispatch(&ctx, &req, &reply);
    if (reply.view_response && !cJSON_IsObject(reply.view_response))
      __builtin_trap();
    cmd_reply_free(&reply);
    if (db_in_transaction(db))
      __builtin_trap(); /* every path commits or rolls back */
  }
  slack_frame_free(&f);
  free(text);
  return 0;
}
