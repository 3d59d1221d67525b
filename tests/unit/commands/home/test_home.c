/* The App Home (commands/home/home.c, home_view.c) through cmd_dispatch on a database in
 * memory: opening the tab writes one views.publish row with the Home; the refresh job writes
 * none while nothing changed and one after an override; a person of no rota and one klaxon does
 * not know; the refresh chain is one job however often the tab is opened. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

#include "commands/core/command.h"
#include "commands/core/names.h"
#include "commands/home/home.h"
#include "lib/kx.h"
#include "storage/jobs.h"
#include "storage/rota_changes.h"
#include "tests/unit/fixture.h"

static const char CONFIG[] =
    "timezone: Europe/Berlin\n"
    "people:\n"
    "  - {id: alice, slack: U0ALICE001}\n"
    "  - {id: bob, slack: U0BOB00001}\n"
    "  - {id: carol, slack: U0CAROL001}\n"
    "  - {id: erin, slack: U0ERIN0001}\n"
    "rotas:\n"
    "  - {name: platform, start: 2026-11-23, primary: [alice, bob, carol], secondary: next,\n"
    "     manager: erin}\n"
    "severities:\n"
    "  - {name: P1, page: [primary]}\n";

static int setup(void **state)
{
  *state = fx_new(CONFIG, "2026-11-24T10:00:00+01:00");
  return 0;
}

static int teardown(void **state)
{
  fx_free(*state);
  return 0;
}

static int open_home(struct fx *f, const char *user, const char *event_id)
{
  struct cmd_request req = {.platform = CMD_PLATFORM_SLACK,
                            .kind = CMD_KIND_HOME_OPENED,
                            .now_ms = f->ctx.now_ms,
                            .dedup_key = event_id,
                            .user = user};
  struct cmd_reply reply;
  cmd_reply_init(&reply);
  int rc = cmd_dispatch(&f->ctx, &req, &reply);
  cmd_reply_free(&reply);
  return rc;
}

static int64_t publishes(struct fx *f)
{
  return fx_count(f, "SELECT count(*) FROM outbox WHERE method = 'views.publish'");
}

/* The text of the newest views.publish row. */
static char *last_view(struct fx *f)
{
  struct db_stmt *st =
      db_stmt(f->db,
              "SELECT body FROM outbox WHERE method = 'views.publish' ORDER BY id DESC"
              " LIMIT 1");
  assert_non_null(st);
  assert_int_equal(db_step(st), DB_ROW);
  char *body = db_col_text(st, 0);
  db_reset(st);
  return body;
}

static void test_open_publishes_the_home(void **state)
{
  struct fx *f = *state;
  assert_int_equal(open_home(f, "U0ALICE001", "ev-1"), 0);
  assert_int_equal(publishes(f), 1);
  char *body = last_view(f);
  assert_non_null(strstr(body, "\"user_id\":\"U0ALICE001\""));
  assert_non_null(strstr(body, "\"type\":\"home\""));
  assert_non_null(strstr(body, "On call now"));
  assert_non_null(strstr(body, "<@U0ALICE001>, secondary <@U0BOB00001>"));
  assert_non_null(strstr(body, CMD_ACTION_HOME_OVERRIDE));
  free(body);
  /* the same event again (a redelivery) does nothing */
  assert_int_equal(open_home(f, "U0ALICE001", "ev-1"), KX_EDUPLICATE);
  assert_int_equal(publishes(f), 1);
  /* a second opening draws again (Slack may have lost it), and keeps one refresh chain */
  assert_int_equal(open_home(f, "U0ALICE001", "ev-2"), 0);
  assert_int_equal(publishes(f), 2);
  assert_int_equal(
      fx_count(f, "SELECT count(*) FROM jobs WHERE kind = 'home.refresh' AND state = 'pending'"),
      1);
}

static void test_refresh_writes_only_changes(void **state)
{
  struct fx *f = *state;
  assert_int_equal(open_home(f, "U0CAROL001", "ev-1"), 0);
  assert_int_equal(publishes(f), 1);
  struct job j = {.kind = CMD_JOB_HOME_REFRESH};
  assert_int_equal(home_job_refresh(&f->ctx, &j), 0);
  assert_int_equal(publishes(f), 1); /* nothing changed */
  /* carol takes alice's primary today: her Home changes, so it is written again */
  struct rota_change_new c = {.rota = "platform",
                              .kind = ROTA_CHANGE_OVERRIDE,
                              .person = "carol",
                              .from_ms = f->t0 - 3600000,
                              .to_ms = f->t0 + 3600000,
                              .created_by = "carol",
                              .now_ms = f->t0};
  assert_int_equal(rota_changes_add(f->db, &c, NULL), 0);
  assert_int_equal(home_job_refresh(&f->ctx, &j), 0);
  assert_int_equal(publishes(f), 2);
  char *body = last_view(f);
  assert_non_null(strstr(body, "*platform*: <@U0CAROL001>"));
  free(body);
}

static void test_people_outside(void **state)
{
  struct fx *f = *state;
  assert_int_equal(open_home(f, "U0ERIN0001", "ev-1"), 0); /* manager, in no slot */
  char *body = last_view(f);
  assert_non_null(strstr(body, "None in the coming weeks"));
  free(body);
  assert_int_equal(open_home(f, "U0NOBODY01", "ev-2"), 0);
  body = last_view(f);
  assert_non_null(strstr(body, "does not know you yet"));
  free(body);
  /* not a Slack user id: nothing is published */
  assert_int_equal(open_home(f, "29:teams-id", "ev-3"), 0);
  assert_int_equal(publishes(f), 2);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_open_publishes_the_home, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refresh_writes_only_changes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_people_outside, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
