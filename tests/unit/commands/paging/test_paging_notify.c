/* A person's own rules on a real in-memory database (commands/paging/paging_notify.c): which
 * outbox rows each rule writes and when, the attempts and their unique key, a dead end moving
 * to the next rule at once, acknowledge cancelling what is left, and the SMS reply parser. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/command.h"
#include "commands/paging/paging.h"
#include "lib/kx.h"
#include "storage/db_internal.h"
#include "storage/pages.h"
#include "tests/unit/fixture.h"

#define MIN (60 * 1000LL)

static const char CONFIG[] =
    "timezone: Europe/Berlin\n"
    "public_url: https://klaxon.example.com\n"
    "twilio: {account_sid_env: TW_SID, auth_token_env: TW_TOKEN, from: \"+15005550006\"}\n"
    "people:\n"
    "  - {id: alice, slack: U0ALICE001, phone: \"+49 151 1234567\", push: \"https://ntfy.sh/a\",\n"
    "     notify: [{after: 0m, via: [chat, push]}, {after: 2m, via: sms},"
    " {after: 5m, via: voice}]}\n"
    "  - {id: bob, slack: U0BOB00001}\n"
    "rotas:\n"
    "  - {name: platform, start: 2026-11-23, primary: [alice, bob]}\n"
    "severities:\n"
    "  - {name: P1, page: [primary]}\n";

static int setup(void **state)
{
  struct fx *f = fx_new(CONFIG, "2026-11-24T10:00:00+01:00");
  f->ctx.public_url = f->c->public_url;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fx_free(*state);
  return 0;
}

static int64_t rows(struct fx *f, const char *platform, const char *method)
{
  char sql[256];
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox WHERE platform = '%s' AND method = '%s'",
           platform, method);
  return fx_count(f, sql);
}

static int64_t page_alice(struct fx *f)
{
  struct page_new n = {.rota = "platform",
                       .severity = "P1",
                       .title = "DiskFull",
                       .source = "manual",
                       .started_at = 0};
  int64_t id = 0;
  assert_int_equal(db_begin(f->db), 0);
  assert_int_equal(paging_create(&f->ctx, &n, &id), 0);
  assert_int_equal(db_commit(f->db), 0);
  return id;
}

static int run_jobs_at(struct fx *f, int64_t at)
{
  f->ctx.now_ms = at;
  return cmd_run_jobs(&f->ctx, f->ctx.now_ms, 100);
}

static void test_rules_fire_in_order_once(void **state)
{
  struct fx *f = *state;
  int64_t t0 = f->ctx.now_ms;
  page_alice(f);
  /* Rule 0: the DM, Do Not Disturb asked, the push. */
  assert_int_equal(rows(f, "slack", "chat.postMessage"), 1);
  assert_int_equal(rows(f, "slack", "dnd.info"), 1);
  assert_int_equal(rows(f, "push", "publish"), 1);
  assert_int_equal(rows(f, "twilio", "Messages"), 0);
  assert_int_equal(fx_count(f, "SELECT due_at FROM jobs WHERE key = 'page:1:notify:alice:-1:1'"),
                   t0 + 2 * MIN);
  assert_int_equal(run_jobs_at(f, t0 + 2 * MIN - 1), 0);
  assert_int_equal(rows(f, "twilio", "Messages"), 0);
  assert_int_equal(run_jobs_at(f, t0 + 2 * MIN), 1);
  assert_int_equal(rows(f, "twilio", "Messages"), 1);
  /* The SMS row carries the form Twilio gets: To in E.164, the status callback. */
  assert_int_equal(fx_count(f,
                            "SELECT count(*) FROM outbox WHERE platform = 'twilio'"
                            " AND body LIKE '%\"To\":\"+491511234567\"%'"
                            " AND body LIKE '%https://klaxon.example.com/twilio/status?attempt=%'"
                            " AND body LIKE '%Reply 1 to acknowledge%'"),
                   1);
  /* The next rule is due 5 minutes after the first, not after the SMS. */
  assert_int_equal(fx_count(f, "SELECT due_at FROM jobs WHERE key = 'page:1:notify:alice:-1:2'"),
                   t0 + 5 * MIN);
  assert_int_equal(run_jobs_at(f, t0 + 5 * MIN), 1);
  assert_int_equal(rows(f, "twilio", "Calls"), 1);
  /* Each rule once, whatever runs again. */
  run_jobs_at(f, t0 + 60 * MIN);
  assert_int_equal(rows(f, "twilio", "Messages"), 1);
  assert_int_equal(rows(f, "twilio", "Calls"), 1);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM page_attempts"), 4);
  struct page_attempt_new again = {1, "alice",  -1,   1, "sms", "+491511234567",
                                   0, "queued", NULL, t0};
  assert_int_equal(page_attempts_add(f->db, &again, NULL), KX_EEXISTS);
}

static void test_dead_end_moves_on_and_ack_cancels(void **state)
{
  struct fx *f = *state;
  int64_t t0 = f->ctx.now_ms;
  page_alice(f);
  int64_t push = fx_count(f, "SELECT id FROM page_attempts WHERE via = 'push'");
  /* The push service refused it for good: the SMS goes now, not at 2m. */
  f->ctx.now_ms = t0 + 10 * 1000;
  assert_int_equal(db_begin(f->db), 0);
  assert_int_equal(paging_attempt_update(&f->ctx, push, "failed", NULL, "http_410"), 0);
  assert_int_equal(db_commit(f->db), 0);
  assert_int_equal(rows(f, "twilio", "Messages"), 1);
  assert_int_equal(fx_count(f,
                            "SELECT count(*) FROM jobs WHERE state = 'pending'"
                            " AND key = 'page:1:notify:alice:-1:1'"),
                   0);
  /* A late "sent" does not take the failure back, nor start anything twice. */
  assert_int_equal(db_begin(f->db), 0);
  assert_int_equal(paging_attempt_update(&f->ctx, push, "sent", NULL, NULL), 0);
  /* Nor does a late "delivered" (a DM landing after dnd.info said snoozed): dead ends are final. */
  assert_int_equal(paging_attempt_update(&f->ctx, push, "delivered", NULL, NULL), 0);
  assert_int_equal(db_commit(f->db), 0);
  assert_int_equal(
      fx_count(f, "SELECT count(*) FROM page_attempts WHERE via = 'push' AND state = 'failed'"), 1);
  assert_int_equal(rows(f, "twilio", "Messages"), 1);
  /* Acknowledged: the call's rule never fires. */
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  assert_int_equal(db_begin(f->db), 0);
  assert_int_equal(paging_ack(&f->ctx, 1, "alice", &reply), 0);
  assert_int_equal(db_commit(f->db), 0);
  cmd_reply_free(&reply);
  run_jobs_at(f, t0 + 60 * MIN);
  assert_int_equal(rows(f, "twilio", "Calls"), 0);
  assert_int_equal(fx_count(f, "SELECT count(*) FROM jobs WHERE state = 'pending'"), 0);
}

static void test_attempts_line(void **state)
{
  struct fx *f = *state;
  page_alice(f);
  int64_t push = fx_count(f, "SELECT id FROM page_attempts WHERE via = 'push'");
  assert_int_equal(db_begin(f->db), 0);
  assert_int_equal(paging_attempt_update(&f->ctx, push, "sent", NULL, NULL), 0);
  assert_int_equal(db_commit(f->db), 0);
  char *line = paging_attempts_line(&f->ctx, 1);
  assert_non_null(line);
  assert_non_null(strstr(line, "push sent 10:00"));
  free(line);
}

static bool utf8_valid(const unsigned char *s)
{
  while (*s) {
    int n = *s < 0x80             ? 0
            : (*s & 0xE0) == 0xC0 ? 1
            : (*s & 0xF0) == 0xE0 ? 2
            : (*s & 0xF8) == 0xF0 ? 3
                                  : -1;
    if (n < 0)
      return false;
    s++;
    for (int i = 0; i < n; i++, s++)
      if ((*s & 0xC0) != 0x80)
        return false;
  }
  return true;
}

/* A long title is cut for the SMS on a character boundary, never inside "é". */
static void test_sms_title_cut_on_a_character(void **state)
{
  struct fx *f = *state;
  char title[300];
  memset(title, 'a', 119);
  strcpy(title + 119, "\xc3\xa9 and the rest of a very long title");
  struct page_new n = {.kind = "test",
                       .person = config_person(f->c, "alice"),
                       .title = title,
                       .source = "notify-test",
                       .only_via = VIA_SMS};
  int64_t id = 0;
  assert_int_equal(db_begin(f->db), 0);
  assert_int_equal(paging_create(&f->ctx, &n, &id), 0);
  assert_int_equal(db_commit(f->db), 0);
  struct db_stmt *st = db_prepare(f->db, "SELECT body FROM outbox WHERE platform = 'twilio'");
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  cJSON *body = cJSON_Parse(db_col_text_ref(st, 0));
  db_finalize(st);
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(body, "Body");
  assert_true(cJSON_IsString(text));
  assert_true(utf8_valid((const unsigned char *)text->valuestring));
  assert_non_null(strstr(text->valuestring, "aaa…"));
  assert_null(strstr(text->valuestring, "rest of"));
  cJSON_Delete(body);
  /* A test of one method schedules nothing after it. */
  assert_int_equal(fx_count(f, "SELECT count(*) FROM jobs WHERE state = 'pending'"), 0);
}

static void test_sms_replies(void **state)
{
  (void)state;
  static const struct {
    const char *text;
    int verb;
    long long page;
  } CASES[] = {
      {"1", 1, 0},           {" ack ", 1, 0},
      {"ACK 12", 1, 12},     {"ack #12", 1, 12},
      {"acknowledge", 1, 0}, {"2", 2, 0},
      {"escalate 7", 2, 7},  {"3", 3, 0},
      {"resolve 9", 3, 9},   {"", 0, 0},
      {"yes", 0, 0},         {"ack 12 please", 0, 0},
      {"1 2 3", 0, 0},       {"acknowledgement", 0, 0},
      {"ack12", 0, 0},       {"4", 0, 0},
  };
  for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
    long long page = -1;
    int verb = paging_sms_parse(CASES[i].text, &page);
    if (verb != CASES[i].verb || (verb && page != CASES[i].page))
      fail_msg("\"%s\": verb %d page %lld, want %d %lld", CASES[i].text, verb, page, CASES[i].verb,
               CASES[i].page);
  }
  long long page;
  assert_int_equal(paging_sms_parse(NULL, &page), 0);
  assert_int_equal(paging_via_named("call"), VIA_VOICE);
  assert_int_equal(paging_via_named("TEXT"), VIA_SMS);
  assert_int_equal(paging_via_named("fax"), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_rules_fire_in_order_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dead_end_moves_on_and_ack_cancels, setup, teardown),
      cmocka_unit_test_setup_teardown(test_attempts_line, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sms_title_cut_on_a_character, setup, teardown),
      cmocka_unit_test(test_sms_replies),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
