/* The command table and the dispatcher: tokenising, arity, help and usage, redeliveries,
 * refusals that roll back, a handler that breaks a constraint (a bug, not a refusal), and
 * `/oncall note` writing an escaped outbox row. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/config/config_load.h"
#include "commands/core/command.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/db_internal.h"
#include "storage/jobs.h"
#include "storage/outbox.h"

static const char config_yaml[] =
    "timezone: Europe/Berlin\n"
    "slack: {announce_channel: C0INCIDENT, handoff_channel: C0ONCALL01}\n"
    "people:\n"
    "  - {id: alice, slack: U0ALICE001}\n"
    "  - {id: bob, slack: U0BOB00001}\n"
    "rotas:\n"
    "  - {name: platform, handoff: monday 09:00, start: 2026-11-23, primary: [alice, bob]}\n"
    "severities:\n"
    "  - {name: P1, ack: 15m, resolve: 4h, page: [primary]}\n";

struct fixture {
  struct config *config;
  struct db *db;
  struct cmd_ctx ctx;
};

static int setup(void **state)
{
  struct fixture *f = calloc(1, sizeof(*f));
  struct config_problems problems;
  f->config = config_load_string(config_yaml, strlen(config_yaml), "test", &problems);
  for (size_t i = 0; i < problems.n; i++)
    fprintf(stderr, "%s\n", problems.items[i].message);
  config_problems_free(&problems);
  assert_non_null(f->config);
  int err;
  f->db = db_open(":memory:", 0, &err);
  assert_non_null(f->db);
  f->ctx.db = f->db;
  f->ctx.config = f->config;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  db_close(f->db);
  config_free(f->config);
  free(f);
  return 0;
}

static int run(struct fixture *f,
               const char *command,
               const char *text,
               const char *dedup,
               struct cmd_reply *reply)
{
  struct cmd_request req = {
      .platform = CMD_PLATFORM_SLACK,
      .kind = CMD_KIND_COMMAND,
      .now_ms = 1795000000000LL,
      .dedup_key = dedup,
      .command = command,
      .text = text,
      .user = "U0ALICE001",
      .channel = "C0INCIDENT",
  };
  cmd_reply_init(reply);
  return cmd_dispatch(&f->ctx, &req, reply);
}

static void test_args(void **state)
{
  (void)state;
  struct cmd_args a;
  assert_int_equal(cmd_args_parse("  declare P1 \"db down\"  <@U1|alice smith> x", &a), 0);
  assert_int_equal(a.argc, 5);
  assert_string_equal(a.argv[0], "declare");
  assert_string_equal(a.argv[2], "db down");
  assert_string_equal(a.argv[3], "<@U1|alice smith>");
  assert_string_equal(a.rest[1], "P1 \"db down\"  <@U1|alice smith> x");
  assert_string_equal(a.rest[4], "x");
  assert_string_equal(a.rest[5], "");
  cmd_args_free(&a);
  assert_int_equal(cmd_args_parse("note \xe2\x80\x9ctwo words\xe2\x80\x9d", &a), 0);
  assert_int_equal(a.argc, 2);
  assert_string_equal(a.argv[1], "two words");
  cmd_args_free(&a);
  assert_int_equal(cmd_args_parse("unterminated \"quote here", &a), 0);
  assert_int_equal(a.argc, 3);
  assert_string_equal(a.argv[1], "\"quote");
  cmd_args_free(&a);
  assert_int_equal(cmd_args_parse("", &a), 0);
  assert_int_equal(a.argc, 0);
  cmd_args_free(&a);
  assert_int_equal(cmd_args_parse(NULL, &a), 0);
  cmd_args_free(&a);
  char big[CMD_TEXT_MAX + 2];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(cmd_args_parse(big, &a), KX_ETOOBIG);
  char many[CMD_MAX_ARGS * 2 + 4];
  for (size_t i = 0; i < sizeof(many) - 1; i++)
    many[i] = (i % 2) ? ' ' : 'w';
  many[sizeof(many) - 1] = '\0';
  assert_int_equal(cmd_args_parse(many, &a), KX_ETOOBIG);
}

static void test_tables_check(void **state)
{
  (void)state;
  assert_int_equal(cmd_tables_check(), 0);
  assert_non_null(cmd_lookup("oncall", "help"));
  assert_non_null(cmd_lookup("oncall", "NOTE"));
  assert_null(cmd_lookup("oncall", "nonsense"));
  assert_true(cmd_group_exists("incident"));
  assert_true(cmd_group_exists("oncall"));
  assert_false(cmd_group_exists("nonsense"));
  assert_false(cmd_group_exists(""));
  assert_false(cmd_group_exists(NULL));
  assert_string_equal(cmd_group_find("Oncall who", 6), "oncall");
  assert_null(cmd_group_find("oncal", 5));
  assert_null(cmd_group_find(NULL, 0));
  assert_non_null(cmd_lookup("incident", NULL)); /* the default subcommand */
}

static void test_help_and_unknown(void **state)
{
  struct fixture *f = *state;
  struct cmd_reply r;
  assert_int_equal(run(f, "oncall", "help", NULL, &r), 0);
  assert_non_null(strstr(r.text.data, "/oncall note"));
  cmd_reply_free(&r);
  assert_int_equal(run(f, "incident", "", NULL, &r), 0);
  assert_non_null(strstr(r.text.data, "/incident"));
  cmd_reply_free(&r);
  assert_int_equal(run(f, "oncall", "frobnicate <!channel>", NULL, &r), 0);
  assert_non_null(strstr(r.text.data, "I don't know `/oncall frobnicate`"));
  assert_non_null(strstr(r.text.data, "/oncall note"));
  cmd_reply_free(&r);
  /* What the user typed is escaped in the answer. */
  assert_int_equal(run(f, "oncall", "<!channel>", NULL, &r), 0);
  assert_null(strstr(r.text.data, "<!channel>"));
  assert_non_null(strstr(r.text.data, "&lt;!channel&gt;"));
  cmd_reply_free(&r);
}

static void test_arity_and_too_long(void **state)
{
  struct fixture *f = *state;
  struct cmd_reply r;
  assert_int_equal(run(f, "oncall", "note", NULL, &r), 0);
  assert_non_null(strstr(r.text.data, "Usage: `/oncall note"));
  cmd_reply_free(&r);
  assert_int_equal(outbox_depth(f->db), 0);
  char *big = malloc(100 * 1024 + 1);
  memset(big, 'a', 100 * 1024);
  big[100 * 1024] = '\0';
  memcpy(big, "note ", 5);
  assert_int_equal(run(f, "oncall", big, NULL, &r), 0);
  assert_non_null(strstr(r.text.data, "too long"));
  cmd_reply_free(&r);
  free(big);
  assert_int_equal(outbox_depth(f->db), 0);
}

static void test_note_and_redelivery(void **state)
{
  struct fixture *f = *state;
  struct cmd_reply r;
  assert_int_equal(run(f, "oncall", "note deploy freeze <!channel> & co", "slack-env:1", &r), 0);
  assert_non_null(strstr(r.text.data, "Noted"));
  cmd_reply_free(&r);
  assert_int_equal(outbox_depth(f->db), 1);
  /* The same envelope again: nothing done twice, and nothing new said. */
  assert_int_equal(run(f, "oncall", "note deploy freeze <!channel> & co", "slack-env:1", &r),
                   KX_EDUPLICATE);
  assert_int_equal(r.text.len, 0);
  cmd_reply_free(&r);
  assert_int_equal(outbox_depth(f->db), 1);
  struct outbox_row *rows;
  size_t n;
  assert_int_equal(outbox_ready(f->db, 10, NULL, 0, &rows, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(rows[0].method, "chat.postMessage");
  assert_string_equal(rows[0].queue, "C0ONCALL01");
  assert_null(strstr(rows[0].body, "<!channel>"));
  assert_non_null(strstr(rows[0].body, "&lt;!channel&gt; &amp; co"));
  assert_non_null(strstr(rows[0].body, "<@U0ALICE001>"));
  outbox_rows_free(rows, n);
  /* A refusal with a dedup key is remembered too (and rolls back anything else). */
  assert_int_equal(run(f, "oncall", "note --rota nope x", "slack-env:2", &r), 0);
  assert_non_null(strstr(r.text.data, "no rota called"));
  cmd_reply_free(&r);
  assert_int_equal(run(f, "oncall", "note --rota nope x", "slack-env:2", &r), KX_EDUPLICATE);
  cmd_reply_free(&r);
  assert_int_equal(outbox_depth(f->db), 1);
  /* A note for one rota. */
  assert_int_equal(run(f, "oncall", "note --rota platform db upgrade", "slack-env:3", &r), 0);
  cmd_reply_free(&r);
  assert_int_equal(outbox_depth(f->db), 2);
}

/* The whole of what the dispatcher logged while fn ran (the log goes to a temporary file). */
static char *logged(struct fixture *f,
                    int (*fn)(struct fixture *, struct cmd_reply *),
                    struct cmd_reply *r,
                    int *rc)
{
  FILE *tmp = tmpfile();
  assert_non_null(tmp);
  log_set_output(tmp);
  *rc = fn(f, r);
  log_set_output(NULL);
  assert_int_equal(fflush(tmp), 0);
  long n = ftell(tmp);
  assert_true(n >= 0);
  char *text = calloc(1, (size_t)n + 1);
  rewind(tmp);
  assert_int_equal(fread(text, 1, (size_t)n, tmp), (size_t)n);
  fclose(tmp);
  return text;
}

static int second_note(struct fixture *f, struct cmd_reply *r)
{
  return run(f, "oncall", "note a second one", "slack-env:8", r);
}

static void test_constraint_is_a_bug(void **state)
{
  struct fixture *f = *state;
  struct cmd_reply r;
  assert_int_equal(run(f, "oncall", "note the first one", "slack-env:7", &r), 0);
  cmd_reply_free(&r);
  assert_int_equal(outbox_depth(f->db), 1);
  /* A UNIQUE index the handler knows nothing about: its next note breaks it. */
  assert_int_equal(db_exec(f->db, "CREATE UNIQUE INDEX test_one_note ON notes(author)"), 0);
  const struct cmd_def *d = cmd_lookup("oncall", "note");
  const struct cmd_counter *count = &cmd_counters[d - cmd_table]; /* the row's statistics */
  uint64_t failures = count->failures;
  int rc;
  char *log = logged(f, second_note, &r, &rc);
  assert_int_equal(rc, KX_ECONSTRAINT);
  /* The user hears an apology, as for any failure on our side, not a refusal. */
  assert_non_null(strstr(r.text.data, "Sorry, something went wrong on my side"));
  cmd_reply_free(&r);
  /* Logged at error level, as a bug, with the command. */
  assert_non_null(strstr(log, " ERROR cmd handler_bug "));
  assert_non_null(strstr(log, "command=oncall"));
  assert_non_null(strstr(log, "err=CONSTRAINT"));
  free(log);
  assert_int_equal(count->failures, failures + 1);
  /* Rolled back: no outbox row from the failed note. */
  assert_int_equal(outbox_depth(f->db), 1);
  /* Not a refusal: the dedup mark was not kept, so the delivery runs again once mended. */
  assert_int_equal(db_exec(f->db, "DROP INDEX test_one_note"), 0);
  assert_int_equal(second_note(f, &r), 0);
  assert_non_null(strstr(r.text.data, "Noted"));
  cmd_reply_free(&r);
  assert_int_equal(outbox_depth(f->db), 2);
  assert_int_equal(second_note(f, &r), KX_EDUPLICATE);
  cmd_reply_free(&r);
}

/* Two instances list the same due jobs. Here the other instance claims job b while this one
 * runs job a (a TEMP trigger plays it: it marks b done when a is claimed). This instance's claim
 * of b then finds it done: b is skipped, not run, not counted, and above all not re-armed as a
 * failed job would be (that would run it a second time a minute later). */
static void test_job_taken_by_another_instance(void **state)
{
  struct fixture *f = *state;
  assert_int_equal(jobs_schedule(f->db, "test_noop", "test:a", 10, NULL, 0), 0);
  assert_int_equal(jobs_schedule(f->db, "test_noop", "test:b", 20, NULL, 0), 0);
  assert_int_equal(db_exec(f->db,
                           "CREATE TEMP TRIGGER other_instance AFTER UPDATE OF state ON jobs"
                           " WHEN NEW.key = 'test:a' AND NEW.state = 'done' BEGIN"
                           " UPDATE jobs SET state = 'done', done_at = 5 WHERE key = 'test:b';"
                           " END"),
                   0);
  FILE *tmp = tmpfile();
  assert_non_null(tmp);
  log_set_output(tmp);
  log_set_level(LOG_LEVEL_DEBUG);
  int ran = cmd_run_jobs(&f->ctx, 100, 10);
  log_set_level(LOG_LEVEL_INFO);
  log_set_output(NULL);
  assert_int_equal(ran, 1);
  assert_int_equal(jobs_pending(f->db, "test:a"), 0);
  assert_int_equal(jobs_pending(f->db, "test:b"), 0);
  struct job j;
  int done = 0;
  assert_int_equal(jobs_get(f->db, "test:b", &j, &done), 0);
  assert_int_equal(done, 1);
  assert_int_equal(j.due_at, 20); /* not moved a minute on */
  job_clear(&j);
  assert_int_equal(fflush(tmp), 0);
  long n = ftell(tmp);
  char *log = calloc(1, (size_t)n + 1);
  rewind(tmp);
  assert_int_equal(fread(log, 1, (size_t)n, tmp), (size_t)n);
  fclose(tmp);
  assert_null(strstr(log, "job_failed"));
  assert_non_null(strstr(log, "job_taken kind=test_noop key=test:b"));
  free(log);
}

static void test_unknown_action_is_harmless(void **state)
{
  struct fixture *f = *state;
  struct cmd_request req = {
      .kind = CMD_KIND_ACTION, .action_id = "no.such.button", .user = "U1", .now_ms = 1};
  struct cmd_reply r;
  cmd_reply_init(&r);
  assert_int_equal(cmd_dispatch(&f->ctx, &req, &r), 0);
  cmd_reply_free(&r);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_args),
      cmocka_unit_test(test_tables_check),
      cmocka_unit_test_setup_teardown(test_help_and_unknown, setup, teardown),
      cmocka_unit_test_setup_teardown(test_arity_and_too_long, setup, teardown),
      cmocka_unit_test_setup_teardown(test_note_and_redelivery, setup, teardown),
      cmocka_unit_test_setup_teardown(test_constraint_is_a_bug, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_action_is_harmless, setup, teardown),
      cmocka_unit_test_setup_teardown(test_job_taken_by_another_instance, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
