/*
 * test_out_answer.c — every answer leaves through the outbox or the ack: the dispatcher writes
 * the reply a transport cannot carry (an ephemeral message, a response_url POST, a Teams
 * reply) in the request's transaction, and an apology or a refusal in one of its own.
 */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <cjson/cJSON.h>

#include "commands/core/out.h"
#include "lib/kx.h"
#include "storage/outbox.h"
#include "tests/unit/fixture.h"

static const char CONFIG[] =
    "timezone: Europe/Berlin\n"
    "people:\n"
    "  - {id: alice, slack: U0ALICE001, teams: 00000000-0000-0000-0000-0000000a11ce}\n"
    "rotas:\n"
    "  - {name: ops, start: 2026-11-23, primary: [alice]}\n"
    "severities: [{name: P1}]\n";

static struct cmd_request request(struct fx *f, enum cmd_answer answer, const char *text)
{
  struct cmd_request r = {
      .platform = CMD_PLATFORM_SLACK,
      .answer = answer,
      .kind = CMD_KIND_COMMAND,
      .now_ms = f->t0,
      .command = "oncall",
      .text = text,
      .user = "U0ALICE001",
      .channel = "C0OPS00001",
  };
  return r;
}

/* The body of the only outbox row with this method (fails the test otherwise). */
static cJSON *only_row(struct fx *f, const char *method, char *queue, size_t qsize)
{
  struct db_stmt *st =
      db_prepare(f->db, "SELECT body, queue, priority FROM outbox WHERE method = ?");
  assert_non_null(st);
  assert_int_equal(db_bind_text(st, 1, method), 0);
  assert_int_equal(db_step(st), DB_ROW);
  cJSON *body = cJSON_Parse(db_col_text_ref(st, 0));
  snprintf(queue, qsize, "%s", db_col_text_ref(st, 1));
  assert_int_equal(db_col_int(st, 2), OUTBOX_URGENT);
  assert_int_equal(db_step(st), DB_DONE);
  db_finalize(st);
  assert_non_null(body);
  return body;
}

static const char *field(const cJSON *o, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_ephemeral_written_with_the_handler(void **state)
{
  (void)state;
  struct fx *f = fx_new(CONFIG, "2026-11-24T10:00:00+01:00");
  struct cmd_request r = request(f, CMD_ANSWER_EPHEMERAL, "help");
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  assert_int_equal(cmd_dispatch(&f->ctx, &r, &reply), 0);
  assert_true(reply.text.len > 0);
  char queue[256];
  cJSON *body = only_row(f, "chat.postEphemeral", queue, sizeof(queue));
  assert_string_equal(field(body, "channel"), "C0OPS00001");
  assert_string_equal(field(body, "user"), "U0ALICE001");
  assert_non_null(strstr(field(body, "text"), "/oncall"));
  /* not the channel's queue: an answer must not wait behind the channel's posts */
  assert_string_equal(queue, "answer:C0OPS00001:U0ALICE001");
  cJSON_Delete(body);
  cmd_reply_free(&reply);
  fx_free(f);
}

static void test_response_url_answer(void **state)
{
  (void)state;
  struct fx *f = fx_new(CONFIG, "2026-11-24T10:00:00+01:00");
  struct cmd_request r = request(f, CMD_ANSWER_RESPONSE_URL, "help");
  r.response_url = "https://hooks.slack.com/actions/T0/1/abc";
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  assert_int_equal(cmd_dispatch(&f->ctx, &r, &reply), 0);
  char queue[256];
  cJSON *body = only_row(f, "response_url", queue, sizeof(queue));
  assert_string_equal(field(body, "url"), r.response_url);
  assert_string_equal(field(body, "response_type"), "ephemeral");
  assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(body, "replace_original")));
  assert_string_equal(queue, r.response_url);
  cJSON_Delete(body);
  cmd_reply_free(&reply);
  fx_free(f);
}

static void test_teams_thread_answer(void **state)
{
  (void)state;
  struct fx *f = fx_new(CONFIG, "2026-11-24T10:00:00+01:00");
  struct cmd_request r = request(f, CMD_ANSWER_THREAD, "help");
  r.platform = CMD_PLATFORM_TEAMS;
  r.user = "00000000-0000-0000-0000-0000000a11ce";
  r.channel = "19:ops@thread.tacv2;messageid=1700000000000";
  r.reply_to_id = "1700000000000";
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  assert_int_equal(cmd_dispatch(&f->ctx, &r, &reply), 0);
  char queue[256];
  cJSON *body = only_row(f, "teams.reply", queue, sizeof(queue));
  assert_string_equal(field(body, "conversation"), r.channel);
  assert_string_equal(field(body, "reply_to_id"), "1700000000000");
  const cJSON *act = cJSON_GetObjectItemCaseSensitive(body, "activity");
  assert_string_equal(field(act, "type"), "message");
  assert_string_equal(field(act, "textFormat"), "markdown");
  assert_string_equal(field(act, "replyToId"), "1700000000000");
  assert_string_equal(queue, "19:ops@thread.tacv2");
  assert_int_equal(fx_count(f, "SELECT count(*) FROM outbox WHERE platform = 'teams'"), 1);
  cJSON_Delete(body);
  cmd_reply_free(&reply);
  fx_free(f);
}

static void test_ack_writes_nothing(void **state)
{
  (void)state;
  struct fx *f = fx_new(CONFIG, "2026-11-24T10:00:00+01:00");
  struct cmd_request r = request(f, CMD_ANSWER_ACK, "help");
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  assert_int_equal(cmd_dispatch(&f->ctx, &r, &reply), 0);
  assert_true(reply.text.len > 0); /* the transport's ack carries it */
  assert_int_equal(fx_count(f, "SELECT count(*) FROM outbox"), 0);
  cmd_reply_free(&reply);
  fx_free(f);
}

static void test_refusal_still_answered(void **state)
{
  (void)state;
  struct fx *f = fx_new(CONFIG, "2026-11-24T10:00:00+01:00");
  struct cmd_request r = request(f, CMD_ANSWER_EPHEMERAL, "frobnicate now");
  r.dedup_key = "slack-env:refused-1";
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  assert_int_equal(cmd_dispatch(&f->ctx, &r, &reply), 0);
  char queue[256];
  cJSON *body = only_row(f, "chat.postEphemeral", queue, sizeof(queue));
  assert_non_null(strstr(field(body, "text"), "frobnicate"));
  cJSON_Delete(body);
  /* The delivery is remembered: a redelivery is dropped and answers nothing more. */
  struct cmd_reply again;
  cmd_reply_init(&again);
  assert_true(cmd_dispatch(&f->ctx, &r, &again) < 0);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM outbox"), 1);
  cmd_reply_free(&again);
  cmd_reply_free(&reply);
  fx_free(f);
}

static void test_empty_reply_or_missing_place_writes_nothing(void **state)
{
  (void)state;
  struct fx *f = fx_new(CONFIG, "2026-11-24T10:00:00+01:00");
  struct cmd_request r = request(f, CMD_ANSWER_EPHEMERAL, "help");
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  assert_int_equal(out_answer(&f->ctx, &r, &reply), 0); /* nothing to say */
  cmd_reply_printf(&reply, "hello");
  r.channel = NULL; /* nowhere to say it */
  assert_int_equal(out_answer(&f->ctx, &r, &reply), 0);
  r.answer = CMD_ANSWER_RESPONSE_URL; /* no response_url */
  assert_int_equal(out_answer(&f->ctx, &r, &reply), 0);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM outbox"), 0);
  cmd_reply_free(&reply);
  fx_free(f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ephemeral_written_with_the_handler),
      cmocka_unit_test(test_response_url_answer),
      cmocka_unit_test(test_teams_thread_answer),
      cmocka_unit_test(test_ack_writes_nothing),
      cmocka_unit_test(test_refusal_still_answered),
      cmocka_unit_test(test_empty_reply_or_missing_place_writes_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
