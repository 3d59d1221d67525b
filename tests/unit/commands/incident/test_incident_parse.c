/* commands/incident_parse.c: `/incident declare`'s words (SEV detection, --drill, --rota,
 * quoting, mentions), Slack text to plain text, the times people type, channel names by date. */
/* cmocka.h needs these before it. */
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
#include "commands/incident/incident_parse.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

static const char CONFIG[] =
    "timezone: Europe/Berlin\n"
    "people:\n"
    "  - {id: alice, slack: U0ALICE001}\n"
    "rotas:\n"
    "  - {name: platform, start: 2026-11-23, primary: [alice]}\n"
    "  - {name: db, start: 2026-11-23, primary: [alice]}\n"
    "severities:\n"
    "  - {name: SEV1, page: [primary]}\n"
    "  - {name: SEV2}\n"
    "  - {name: Critical}\n";

static struct config *cfg;

static int setup(void **state)
{
  (void)state;
  struct config_problems pr;
  cfg = config_load_string(CONFIG, strlen(CONFIG), "test", &pr);
  for (size_t i = 0; i < pr.n; i++)
    fprintf(stderr, "config: %d %s\n", pr.items[i].line, pr.items[i].message);
  config_problems_free(&pr);
  return cfg ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  config_free(cfg);
  return 0;
}

struct parsed {
  int rc;
  struct incident_declare_args a;
  char err[512];
};

static struct parsed parse(const char *text)
{
  struct parsed p;
  memset(&p, 0, sizeof(p));
  struct cmd_args words;
  assert_int_equal(cmd_args_parse(text, &words), 0);
  struct buf err;
  buf_init(&err, 4096);
  /* As the dispatcher does: the declare row's options come out of the words first. */
  static struct cmd_args args;
  p.rc = cmd_opts_split(cmd_lookup("incident", "declare"), &words, 0, &args, &err);
  if (p.rc == 0)
    p.rc = incident_parse_declare(cfg, &args, &p.a, &err);
  snprintf(p.err, sizeof(p.err), "%s", err.data ? err.data : "");
  buf_free(&err);
  /* The title is a copy; the rota name points into the args, which go now: copy it. */
  static char rota[64];
  if (p.a.rota) {
    snprintf(rota, sizeof(rota), "%s", p.a.rota);
    p.a.rota = rota;
  }
  cmd_args_free(&words);
  return p;
}

static void test_severity_first_word(void **state)
{
  (void)state;
  struct parsed p = parse("SEV1 database is down");
  assert_int_equal(p.rc, 0);
  assert_non_null(p.a.severity);
  assert_string_equal(p.a.severity->name, "SEV1");
  assert_string_equal(p.a.title, "database is down");
  assert_false(p.a.drill);
  incident_declare_args_free(&p.a);
  /* any case */
  p = parse("critical  payments  failing ");
  assert_int_equal(p.rc, 0);
  assert_string_equal(p.a.severity->name, "Critical");
  assert_string_equal(p.a.title, "payments  failing");
  incident_declare_args_free(&p.a);
}

static void test_no_severity(void **state)
{
  (void)state;
  /* A first word that is no severity is part of the title. */
  struct parsed p = parse("SEV9 is not a severity");
  assert_int_equal(p.rc, 0);
  assert_null(p.a.severity);
  assert_string_equal(p.a.title, "SEV9 is not a severity");
  incident_declare_args_free(&p.a);
  /* Only the first word counts. */
  p = parse("login broken SEV1");
  assert_null(p.a.severity);
  assert_string_equal(p.a.title, "login broken SEV1");
  incident_declare_args_free(&p.a);
}

static void test_severity_alone_opens_the_form(void **state)
{
  (void)state;
  struct parsed p = parse("SEV2");
  assert_int_equal(p.rc, 0);
  assert_string_equal(p.a.severity->name, "SEV2");
  assert_null(p.a.title);
  p = parse("");
  assert_int_equal(p.rc, 0);
  assert_null(p.a.severity);
  assert_null(p.a.title);
  p = parse("--drill");
  assert_int_equal(p.rc, 0);
  assert_true(p.a.drill);
  assert_null(p.a.title);
}

static void test_drill_and_rota(void **state)
{
  (void)state;
  struct parsed p = parse("--drill SEV1 game day: primary db lost");
  assert_int_equal(p.rc, 0);
  assert_true(p.a.drill);
  assert_string_equal(p.a.severity->name, "SEV1");
  assert_string_equal(p.a.title, "game day: primary db lost");
  incident_declare_args_free(&p.a);
  p = parse("--rota db --drill replica lag");
  assert_int_equal(p.rc, 0);
  assert_true(p.a.drill);
  assert_string_equal(p.a.rota, "db");
  assert_null(p.a.severity);
  assert_string_equal(p.a.title, "replica lag");
  incident_declare_args_free(&p.a);
  p = parse("--sev sev2 --drill x");
  assert_int_equal(p.rc, 0);
  assert_string_equal(p.a.severity->name, "SEV2");
  assert_string_equal(p.a.title, "x");
  incident_declare_args_free(&p.a);
  /* A --drill after the title is part of the title. */
  p = parse("SEV1 broken --drill");
  assert_false(p.a.drill);
  assert_string_equal(p.a.title, "broken --drill");
  incident_declare_args_free(&p.a);
  /* `--` ends the options. */
  p = parse("-- --drill is a word here");
  assert_false(p.a.drill);
  assert_string_equal(p.a.title, "--drill is a word here");
  incident_declare_args_free(&p.a);
}

static void test_bad_options(void **state)
{
  (void)state;
  struct parsed p = parse("--rota nope title");
  assert_int_equal(p.rc, KX_EINVAL);
  assert_non_null(strstr(p.err, "no rota called `nope`"));
  p = parse("--sev SEV7 title");
  assert_int_equal(p.rc, KX_EINVAL);
  assert_non_null(strstr(p.err, "`SEV1` `SEV2` `Critical`"));
  p = parse("--frobnicate title");
  assert_int_equal(p.rc, KX_EINVAL);
  assert_non_null(strstr(p.err, "--frobnicate"));
  p = parse("--rota");
  assert_int_equal(p.rc, KX_EINVAL);
  assert_non_null(strstr(p.err, "needs a value"));
  /* The option name a user typed is escaped in the answer. */
  p = parse("--<!channel> title");
  assert_int_equal(p.rc, KX_EINVAL);
  assert_null(strstr(p.err, "<!channel>"));
  assert_non_null(strstr(p.err, "&lt;!channel&gt;"));
}

static void test_quoting(void **state)
{
  (void)state;
  /* A quoted first word is never a severity. */
  struct parsed p = parse("\"SEV1\"");
  assert_int_equal(p.rc, 0);
  assert_null(p.a.severity);
  assert_string_equal(p.a.title, "SEV1");
  incident_declare_args_free(&p.a);
  p = parse("SEV2 \"quoted whole title\"");
  assert_string_equal(p.a.severity->name, "SEV2");
  assert_string_equal(p.a.title, "quoted whole title");
  incident_declare_args_free(&p.a);
  /* Typographic quotes, as phones type them. */
  p = parse("\xe2\x80\x9cSEV1 lookalike\xe2\x80\x9d");
  assert_null(p.a.severity);
  assert_string_equal(p.a.title, "SEV1 lookalike");
  incident_declare_args_free(&p.a);
  /* Quotes inside a longer title are kept as typed. */
  p = parse("SEV1 the \"cart\" service");
  assert_string_equal(p.a.title, "the \"cart\" service");
  incident_declare_args_free(&p.a);
}

static void test_mentions_stay_in_the_title(void **state)
{
  (void)state;
  struct parsed p = parse("SEV1 <@U0ALICE001|alice> sees <!channel> errors");
  assert_int_equal(p.rc, 0);
  assert_string_equal(p.a.title, "<@U0ALICE001|alice> sees <!channel> errors");
  incident_declare_args_free(&p.a);
}

static const char *names(void *arg, const char *id)
{
  (void)arg;
  return strcmp(id, "U0BOB00001") == 0 ? "Bob Roe" : NULL;
}

static void plain_is(const char *in, bool line, const char *want)
{
  char *got = incident_plain(in, names, NULL, line);
  assert_non_null(got);
  assert_string_equal(got, want);
  free(got);
}

static void test_plain(void **state)
{
  (void)state;
  plain_is("<@U0ALICE001|alice> and <@U0BOB00001> and <@U0NOBODY1>", true,
           "@alice and @Bob Roe and @U0NOBODY1");
  plain_is("<!channel> <!here> <!everyone> <!subteam^S1|@oncall> <!subteam^S2>", true,
           "@channel @here @everyone @oncall @subteam");
  plain_is("see <#C0123|ops> and <#C0456>", true, "see #ops and #C0456");
  plain_is("<https://x.example/a?b=1&amp;c=2|the graph> <https://y.example>", true,
           "the graph (https://x.example/a?b=1&c=2) https://y.example");
  plain_is("<mailto:a@b.example|a@b.example>", true, "a@b.example");
  plain_is("a &lt;b&gt; &amp; c &amp;amp;", true, "a <b> & c &amp;");
  plain_is("  two\nlines\ttab  ", true, "two lines tab");
  plain_is("two\nlines", false, "two\nlines");
  plain_is("bell\x07 and \x1b[31mred", true, "bell and [31mred");
  plain_is("a < b > c", true, "a < b > c");
  plain_is("<unclosed", true, "<unclosed");
  plain_is("<>", true, "<>");
  plain_is("", true, "");
  char *n = incident_plain(NULL, NULL, NULL, true);
  assert_string_equal(n, "");
  free(n);
}

static void test_plain_caps_huge_input(void **state)
{
  (void)state;
  /* A 100 KB message (Slack allows 40,000 characters, a fake peer anything) gives a text, cut,
   * never a failure that would make Slack redeliver the event forever. */
  size_t n = 100 * 1024;
  char *big = malloc(n + 1);
  assert_non_null(big);
  for (size_t i = 0; i < n; i += 4)
    memcpy(big + i, "\xc3\xa9<@", 4); /* é and half-mentions */
  big[n] = '\0';
  char *out = incident_plain(big, names, NULL, false);
  assert_non_null(out);
  assert_true(strlen(out) <= INCIDENT_PLAIN_MAX_IN * 8);
  assert_true(strlen(out) > 1000);
  free(out);
  free(big);
}

static void test_clean_and_cut(void **state)
{
  (void)state;
  char *c = incident_clean("  a\r\nb\x01 c  ", true);
  assert_string_equal(c, "a b c");
  free(c);
  c = incident_clean("keep <!channel> &amp; as typed", false);
  assert_string_equal(c, "keep <!channel> &amp; as typed");
  free(c);
  char s[] = "ab\xc3\xa9"; /* "abé": é is two bytes */
  assert_true(incident_cut(s, 3));
  assert_string_equal(s, "ab");
  char t[] = "abc";
  assert_false(incident_cut(t, 3));
}

static int64_t at(const char *rfc3339)
{
  int64_t ms;
  assert_int_equal(time_parse_rfc3339(rfc3339, &ms), 0);
  return ms;
}

static void test_times(void **state)
{
  (void)state;
  int64_t now = at("2026-11-24T10:00:00+01:00");
  int64_t got;
  assert_int_equal(incident_parse_time("Europe/Berlin", "09:40", now, &got), 0);
  assert_int_equal(got, at("2026-11-24T09:40:00+01:00"));
  /* A time still to come today means yesterday. */
  assert_int_equal(incident_parse_time("Europe/Berlin", "23:10", now, &got), 0);
  assert_int_equal(got, at("2026-11-23T23:10:00+01:00"));
  assert_int_equal(incident_parse_time("Europe/Berlin", "2026-11-20 07:05", now, &got), 0);
  assert_int_equal(got, at("2026-11-20T07:05:00+01:00"));
  assert_int_equal(incident_parse_time("Europe/Berlin", "2026-11-20T07:05:30", now, &got), 0);
  assert_int_equal(got, at("2026-11-20T07:05:30+01:00"));
  assert_int_equal(incident_parse_time("Europe/Berlin", "2026-11-24T08:00:00Z", now, &got), 0);
  assert_int_equal(got, at("2026-11-24T09:00:00+01:00"));
  assert_int_equal(incident_parse_time("Europe/Berlin", "45m ago", now, &got), 0);
  assert_int_equal(got, now - 45 * MS_PER_MIN);
  assert_int_equal(incident_parse_time("Europe/Berlin", "-1h30m", now, &got), 0);
  assert_int_equal(got, now - 90 * MS_PER_MIN);
  assert_int_equal(incident_parse_time("Europe/Berlin", " now ", now, &got), 0);
  assert_int_equal(got, now);
  /* Summer time in the zone: 09:40 in July is UTC+2. */
  int64_t july = at("2026-07-01T12:00:00Z");
  assert_int_equal(incident_parse_time("Europe/Berlin", "09:40", july, &got), 0);
  assert_int_equal(got, at("2026-07-01T07:40:00Z"));
  const char *bad[] = {"",    "25:00", "9h",       "yesterday",     "2026-13-01 10:00", "10:60",
                       "ago", "-",     "12:00:61", "2026-11-24 10", "x45m ago"};
  for (size_t i = 0; i < KX_ARRAY_SIZE(bad); i++)
    assert_int_equal(incident_parse_time("Europe/Berlin", bad[i], now, &got), KX_EINVAL);
  char huge[200];
  memset(huge, '1', sizeof(huge) - 1);
  huge[sizeof(huge) - 1] = '\0';
  assert_int_equal(incident_parse_time("Europe/Berlin", huge, now, &got), KX_EINVAL);
}

static void test_channel_base_uses_the_zone(void **state)
{
  (void)state;
  char name[32];
  /* 23:30 UTC on the 24th is already the 25th in Berlin, still the 24th in New York. */
  int64_t t = at("2026-11-24T23:30:00Z");
  assert_int_equal(incident_channel_base("Europe/Berlin", t, name, sizeof(name)), 0);
  assert_string_equal(name, "incident-20261125");
  assert_int_equal(incident_channel_base("America/New_York", t, name, sizeof(name)), 0);
  assert_string_equal(name, "incident-20261124");
  assert_int_equal(
      incident_channel_base("Europe/Berlin", at("2026-11-24T22:59:59Z"), name, sizeof(name)), 0);
  assert_string_equal(name, "incident-20261124");
  assert_int_equal(incident_channel_base("UTC", t, name, 8), KX_ETOOBIG);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_severity_first_word),
      cmocka_unit_test(test_no_severity),
      cmocka_unit_test(test_severity_alone_opens_the_form),
      cmocka_unit_test(test_drill_and_rota),
      cmocka_unit_test(test_bad_options),
      cmocka_unit_test(test_quoting),
      cmocka_unit_test(test_mentions_stay_in_the_title),
      cmocka_unit_test(test_plain),
      cmocka_unit_test(test_plain_caps_huge_input),
      cmocka_unit_test(test_clean_and_cut),
      cmocka_unit_test(test_times),
      cmocka_unit_test(test_channel_base_uses_the_zone),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
