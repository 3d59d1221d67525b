/* commands/core/command_opts.c: the options a row declares, taken out of the words before the
 * arity check (flags, values, `--rota=R`, anywhere in the words or only before free text),
 * the refusals (an unknown option naming the valid ones, a missing value), the synopsis
 * rendered from the row, and arity counted on what remains, through cmd_dispatch(). */
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
#include "storage/outbox.h"

static int fn_unused(struct cmd_ctx *ctx,
                     const struct cmd_request *req,
                     const struct cmd_args *args,
                     struct cmd_reply *reply)
{
  (void)ctx;
  (void)req;
  (void)args;
  (void)reply;
  return 0;
}

static const struct cmd_opt_def opts[] = {
    {"rota", "R", "which rota"},
    {"secondary", NULL, "the secondary slot"},
    {"primary", NULL, NULL}, /* accepted, not shown */
    {NULL, NULL, NULL},
};

static const struct cmd_def row = {
    "test", "override", fn_unused, 3, -1, 0, opts, "override @user FROM TO", "a test row",
};
static const struct cmd_def row_first = {
    "test", "note", fn_unused, 1, -1, CMD_OPTS_FIRST, opts, "note TEXT", "free text follows",
};
static const struct cmd_def row_plain = {
    "test", "say", fn_unused, 0, -1, 0, NULL, "say TEXT", "no options",
};

struct split {
  int rc;
  struct cmd_args words;
  struct cmd_args args;
  struct buf err;
};

/* Split text with a row; free with split_free. */
static void split(struct split *s, const struct cmd_def *d, const char *text)
{
  memset(s, 0, sizeof(*s));
  buf_init(&s->err, 4096);
  assert_int_equal(cmd_args_parse(text, &s->words), 0);
  s->rc = cmd_opts_split(d, &s->words, 0, &s->args, &s->err);
}

static void split_free(struct split *s)
{
  cmd_args_free(&s->words);
  buf_free(&s->err);
}

static const char *err_text(const struct split *s)
{
  return s->err.data ? s->err.data : "";
}

static void test_flag(void **state)
{
  (void)state;
  struct split s;
  split(&s, &row, "--secondary @bob 2026-12-01 2026-12-02");
  assert_int_equal(s.rc, 0);
  assert_true(cmd_flag(&s.args, "secondary"));
  assert_false(cmd_flag(&s.args, "primary"));
  assert_null(cmd_opt(&s.args, "rota"));
  assert_int_equal(s.args.argc, 3);
  assert_string_equal(s.args.argv[0], "@bob");
  assert_ptr_equal(s.args.def, &row);
  split_free(&s);
  /* A flag takes no value. */
  split(&s, &row, "@bob a b --secondary=yes");
  assert_int_equal(s.rc, KX_EINVAL);
  assert_non_null(strstr(err_text(&s), "`--secondary` takes no value"));
  split_free(&s);
}

static void test_value_option(void **state)
{
  (void)state;
  struct split s;
  split(&s, &row, "@bob a b --rota web");
  assert_int_equal(s.rc, 0);
  assert_string_equal(cmd_opt(&s.args, "rota"), "web");
  assert_int_equal(s.args.argc, 3);
  assert_string_equal(s.args.argv[2], "b");
  split_free(&s);
  /* --rota=R, and the last one given wins. */
  split(&s, &row, "--rota=db @bob a b --rota=web");
  assert_int_equal(s.rc, 0);
  assert_string_equal(cmd_opt(&s.args, "rota"), "web");
  assert_int_equal(s.args.argc, 3);
  assert_int_equal(s.args.opts.n, 2);
  split_free(&s);
}

static void test_missing_value(void **state)
{
  (void)state;
  struct split s;
  split(&s, &row, "@bob a b --rota");
  assert_int_equal(s.rc, KX_EINVAL);
  assert_non_null(strstr(err_text(&s), "`--rota` needs a value"));
  assert_non_null(strstr(err_text(&s), "`/test override --rota R`"));
  split_free(&s);
  split(&s, &row, "@bob a b --rota=");
  assert_int_equal(s.rc, KX_EINVAL);
  assert_non_null(strstr(err_text(&s), "needs a value"));
  split_free(&s);
}

static void test_unknown_option(void **state)
{
  (void)state;
  struct split s;
  split(&s, &row, "@bob a b --frobnicate");
  assert_int_equal(s.rc, KX_EINVAL);
  const char *e = err_text(&s);
  assert_non_null(strstr(e, "I don't know the option `--frobnicate`"));
  /* It names the valid ones, the hidden alias left out. */
  assert_non_null(strstr(e, "`/test override` takes `--rota R` (which rota), `--secondary`"));
  assert_null(strstr(e, "--primary"));
  split_free(&s);
  /* What the user typed is escaped. */
  split(&s, &row, "--<!channel>");
  assert_int_equal(s.rc, KX_EINVAL);
  assert_null(strstr(err_text(&s), "<!channel>"));
  assert_non_null(strstr(err_text(&s), "&lt;!channel&gt;"));
  split_free(&s);
  /* A row without options keeps `--x` as a word. */
  split(&s, &row_plain, "hello --frobnicate");
  assert_int_equal(s.rc, 0);
  assert_int_equal(s.args.argc, 2);
  assert_string_equal(s.args.argv[1], "--frobnicate");
  split_free(&s);
}

static void test_option_between_words(void **state)
{
  (void)state;
  struct split s;
  split(&s, &row, "@bob --rota web 2026-12-01 --secondary 2026-12-02");
  assert_int_equal(s.rc, 0);
  assert_int_equal(s.args.argc, 3);
  assert_string_equal(s.args.argv[0], "@bob");
  assert_string_equal(s.args.argv[1], "2026-12-01");
  assert_string_equal(s.args.argv[2], "2026-12-02");
  assert_string_equal(s.args.rest[2], "2026-12-02");
  assert_string_equal(cmd_opt(&s.args, "rota"), "web");
  assert_true(cmd_flag(&s.args, "secondary"));
  split_free(&s);
  /* `--` ends the options; a quoted "--rota" is a word. */
  split(&s, &row, "@bob -- --rota \"--secondary\"");
  assert_int_equal(s.rc, 0);
  assert_int_equal(s.args.argc, 3);
  assert_string_equal(s.args.argv[1], "--rota");
  assert_string_equal(s.args.argv[2], "--secondary");
  assert_int_equal(s.args.opts.n, 0);
  split_free(&s);
}

static void test_options_first(void **state)
{
  (void)state;
  /* Before free text only: a `--word` in the text is text. */
  struct split s;
  split(&s, &row_first, "--rota web deploy with --secondary later");
  assert_int_equal(s.rc, 0);
  assert_string_equal(cmd_opt(&s.args, "rota"), "web");
  assert_false(cmd_flag(&s.args, "secondary"));
  assert_int_equal(s.args.argc, 4);
  assert_string_equal(s.args.rest[0], "deploy with --secondary later");
  split_free(&s);
}

static void test_synopsis_and_usage(void **state)
{
  (void)state;
  struct buf b;
  buf_init(&b, 1024);
  assert_int_equal(cmd_synopsis(&b, &row), 0);
  assert_string_equal(b.data, "override @user FROM TO [--rota R] [--secondary]");
  buf_reset(&b);
  assert_int_equal(cmd_synopsis(&b, &row_first), 0);
  assert_string_equal(b.data, "note [--rota R] [--secondary] TEXT");
  buf_reset(&b);
  assert_int_equal(cmd_synopsis(&b, &row_plain), 0);
  assert_string_equal(b.data, "say TEXT");
  buf_free(&b);
  struct cmd_reply r;
  cmd_reply_init(&r);
  assert_int_equal(cmd_usage(&r, &row), 0);
  assert_string_equal(
      r.text.data, "Usage: `/test override @user FROM TO [--rota R] [--secondary]` — a test row");
  cmd_reply_free(&r);
  /* The real table's rows say what the README says. */
  buf_init(&b, 1024);
  assert_int_equal(cmd_synopsis(&b, cmd_lookup("incident", "declare")), 0);
  assert_string_equal(b.data, "declare [--drill] [--rota R] [SEV] TITLE");
  buf_reset(&b);
  assert_int_equal(cmd_synopsis(&b, cmd_lookup("oncall", "note")), 0);
  assert_string_equal(b.data, "note [--rota R] TEXT");
  buf_free(&b);
}

/* ---- through the dispatcher: arity on what remains ----------------------------------------- */

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

static char *oncall(struct fixture *f, const char *text)
{
  struct cmd_request req = {
      .platform = CMD_PLATFORM_SLACK,
      .kind = CMD_KIND_COMMAND,
      .now_ms = 1795000000000LL,
      .command = "oncall",
      .text = text,
      .user = "U0ALICE001",
      .channel = "C0INCIDENT",
  };
  struct cmd_reply r;
  cmd_reply_init(&r);
  assert_int_equal(cmd_dispatch(&f->ctx, &req, &r), 0);
  char *t = strdup(r.text.data ? r.text.data : "");
  cmd_reply_free(&r);
  return t;
}

static void expect(char *t, const char *want)
{
  if (!strstr(t, want))
    fail_msg("expected \"%s\" in:\n%s", want, t);
  free(t);
}

static void test_arity_after_options(void **state)
{
  struct fixture *f = *state;
  /* `--rota platform` is not the ID cancel needs, nor the TEXT of a note. */
  expect(oncall(f, "cancel --rota platform"), "Usage: `/oncall cancel ID [--rota R]` — ");
  expect(oncall(f, "note --rota platform"), "Usage: `/oncall note [--rota R] TEXT` — ");
  /* Too many words once the options are out. */
  expect(oncall(f, "cancel 1 2 --rota platform"), "Usage: `/oncall cancel ID [--rota R]`");
  /* Options do not count towards the maximum. */
  expect(oncall(f, "cancel 99 --rota platform"), "99");
  /* An unknown option is refused before anything runs; nothing is written. */
  expect(oncall(f, "override @bob 2026-12-01 2026-12-02 --frobnicate"),
         "I don't know the option `--frobnicate`. `/oncall override` takes `--rota R`");
  expect(oncall(f, "note --frobnicate hello"), "I don't know the option `--frobnicate`");
  /* A note's text may hold `--words`. */
  expect(oncall(f, "note --rota platform keep --secondary in mind"), "Noted");
  assert_int_equal(outbox_depth(f->db), 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_flag),
      cmocka_unit_test(test_value_option),
      cmocka_unit_test(test_missing_value),
      cmocka_unit_test(test_unknown_option),
      cmocka_unit_test(test_option_between_words),
      cmocka_unit_test(test_options_first),
      cmocka_unit_test(test_synopsis_and_usage),
      cmocka_unit_test_setup_teardown(test_arity_after_options, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
