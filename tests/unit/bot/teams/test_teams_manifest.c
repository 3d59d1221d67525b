/* bot/teams/teams_manifest.c: the Teams app's command menu comes from the command table, and
 * deploy/teams/manifest.json holds exactly that menu (regenerate it with `klaxon
 * teams-manifest > deploy/teams/manifest.json`). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdlib.h>
#include <string.h>

#include "bot/teams/teams_manifest.h"
#include "commands/core/command.h"
#include "tests/unit/util.h"

static void test_menu_from_the_table(void **state)
{
  (void)state;
  cJSON *menu = teams_manifest_commands();
  assert_non_null(menu);
  int rows = 0;
  for (const struct cmd_def *d = cmd_table; d->group; d++)
    rows += (d->flags & CMD_MENU) != 0;
  assert_int_equal(cJSON_GetArraySize(menu), rows);
  assert_true(rows > 0 && rows <= TEAMS_MENU_MAX);
  const cJSON *c;
  bool declare = false, who = false;
  cJSON_ArrayForEach (c, menu) {
    const char *title = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "title"));
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "description"));
    assert_non_null(title);
    assert_non_null(desc);
    assert_true(strlen(title) <= TEAMS_MENU_TITLE_MAX);
    assert_true(strlen(desc) <= TEAMS_MENU_DESC_MAX);
    /* every title starts with a group of the table */
    assert_non_null(cmd_group_find(title, strcspn(title, " ")));
    if (strcmp(title, "incident declare") == 0) {
      declare = true;
      assert_non_null(strstr(desc, "incident declare [--drill] [--rota R] [SEV] TITLE"));
    }
    who = who || strcmp(title, "oncall") == 0; /* the default row `[who] [ROTA]` */
  }
  assert_true(declare);
  assert_true(who);
  cJSON_Delete(menu);
}

static void test_deploy_manifest_matches(void **state)
{
  (void)state;
  char *text = test_read_file("deploy/teams/manifest.json", NULL);
  assert_non_null(text);
  cJSON *m = cJSON_Parse(text);
  assert_non_null(m);
  cJSON *bot = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "bots"), 0);
  cJSON *list = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(bot, "commandLists"), 0);
  cJSON *have = cJSON_GetObjectItemCaseSensitive(list, "commands");
  cJSON *want = teams_manifest_commands();
  assert_non_null(have);
  if (!cJSON_Compare(have, want, true)) {
    char *a = cJSON_Print(have), *b = cJSON_Print(want);
    fail_msg(
        "deploy/teams/manifest.json's commands:\n%s\nthe table's:\n%s\nregenerate with "
        "`build/klaxon teams-manifest > deploy/teams/manifest.json`",
        a, b);
  }
  /* Rendering keeps the rest of the template. */
  char *out = teams_manifest_render(text);
  assert_non_null(out);
  cJSON *again = cJSON_Parse(out);
  assert_true(cJSON_Compare(again, m, true));
  assert_null(teams_manifest_render("{\"bots\": []}"));
  cJSON_Delete(again);
  free(out);
  cJSON_Delete(want);
  cJSON_Delete(m);
  free(text);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_menu_from_the_table),
      cmocka_unit_test(test_deploy_manifest_matches),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
