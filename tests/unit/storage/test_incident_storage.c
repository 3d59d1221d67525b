/* storage/: incidents, incident roles, the timeline, action items and channel-name
 * reservations, on ":memory:". */
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

#include "lib/kx.h"
#include "storage/channel_names.h"
#include "storage/db.h"
#include "storage/incident_actions.h"
#include "storage/incident_roles.h"
#include "storage/incident_timeline.h"
#include "storage/incidents.h"

static int setup(void **state)
{
  int err = 0;
  struct db *db = db_open(":memory:", 0, &err);
  assert_non_null(db);
  *state = db;
  return 0;
}

static int teardown(void **state)
{
  db_close(*state);
  return 0;
}

static int64_t create(struct db *db, const char *title, const char *who, int64_t at, bool drill)
{
  struct incident_create n = {.title = title,
                              .severity = "P1",
                              .platform = "slack",
                              .declared_by = who,
                              .declared_by_user = "U0ALICE001",
                              .rota = "platform",
                              .drill = drill,
                              .declared_at = at};
  int64_t id = 0;
  assert_int_equal(incidents_create(db, &n, &id), 0);
  assert_true(id > 0);
  return id;
}

static void test_create_get_update(void **state)
{
  struct db *db = *state;
  int64_t id = create(db, "db down", "alice", 1000, false);
  struct incident x;
  assert_int_equal(incidents_get(db, id, &x), 0);
  assert_string_equal(x.title, "db down");
  assert_string_equal(x.status, INCIDENT_INVESTIGATING);
  assert_string_equal(x.platform, "slack");
  assert_int_equal(x.declared_at, 1000);
  assert_int_equal(x.impact_start_at, 1000); /* no impact start given: the declaration */
  assert_int_equal(x.last_update_at, 1000);
  assert_null(x.channel);
  assert_null(x.roles[INCIDENT_ROLE_COMMANDER]);
  assert_true(incident_is_open(&x));
  incident_clear(&x);
  assert_int_equal(incidents_set_text(db, id, INCIDENT_F_CHANNEL, "C123"), 0);
  assert_int_equal(incidents_set_time(db, id, INCIDENT_F_RESOLVED_AT, 5000), 0);
  assert_int_equal(incidents_set_text(db, id, INCIDENT_F_STATUS, NULL), KX_EINVAL);
  assert_int_equal(incidents_set_text(db, 999, INCIDENT_F_TITLE, "x"), KX_ENOTFOUND);
  assert_int_equal(incidents_set_time(db, 999, INCIDENT_F_CLOSED_AT, 1), KX_ENOTFOUND);
  assert_int_equal(incidents_set_time(db, id, (enum incident_time_field)99, 1), KX_EINVAL);
  assert_int_equal(incidents_get(db, 999, &x), KX_ENOTFOUND);
  assert_int_equal(incidents_by_channel(db, "C123", &x), 0);
  assert_int_equal(x.id, id);
  assert_int_equal(x.resolved_at, 5000);
  assert_false(incident_is_open(&x));
  incident_clear(&x);
  assert_int_equal(incidents_by_channel(db, "C999", &x), KX_ENOTFOUND);
  assert_int_equal(incidents_by_channel(db, NULL, &x), KX_ENOTFOUND);
  struct incident_create bad = {.title = NULL, .severity = "P1", .declared_at = 1};
  assert_int_equal(incidents_create(db, &bad, NULL), KX_EINVAL);
}

static void test_roles(void **state)
{
  struct db *db = *state;
  int64_t id = create(db, "t", "alice", 1, false);
  assert_int_equal(incident_roles_set(db, id, INCIDENT_ROLE_COMMANDER, "alice", 2), 0);
  assert_int_equal(incident_roles_set(db, id, INCIDENT_ROLE_SCRIBE, "U0ZED", 2), 0);
  assert_int_equal(incident_roles_set(db, id, INCIDENT_ROLE_COMMANDER, "bob", 3), 0);
  struct incident x;
  assert_int_equal(incidents_get(db, id, &x), 0);
  assert_string_equal(x.roles[INCIDENT_ROLE_COMMANDER], "bob");
  assert_string_equal(x.roles[INCIDENT_ROLE_SCRIBE], "U0ZED");
  assert_null(x.roles[INCIDENT_ROLE_OPS]);
  incident_clear(&x);
  assert_int_equal(incident_roles_set(db, id, INCIDENT_ROLE_SCRIBE, NULL, 4), 0);
  assert_null(incident_roles_get(db, id, INCIDENT_ROLE_SCRIBE));
  char *c = incident_roles_get(db, id, INCIDENT_ROLE_COMMANDER);
  assert_string_equal(c, "bob");
  free(c);
  assert_int_equal(incident_roles_set(db, id, INCIDENT_N_ROLES, "x", 1), KX_EINVAL);
  assert_int_equal(incident_role_parse("IC"), INCIDENT_ROLE_COMMANDER);
  assert_int_equal(incident_role_parse("Communications"), INCIDENT_ROLE_COMMS);
  assert_int_equal(incident_role_parse("operations"), INCIDENT_ROLE_OPS);
  assert_int_equal(incident_role_parse("janitor"), -1);
  assert_int_equal(incident_role_parse(NULL), -1);
  assert_string_equal(incident_role_name(INCIDENT_ROLE_SCRIBE), "scribe");
}

static void test_list_and_repeat(void **state)
{
  struct db *db = *state;
  int64_t a = create(db, "one", "alice", 1000, false);
  int64_t b = create(db, "two", "bob", 2000, true);
  int64_t c = create(db, "three", NULL, 3000, false);
  assert_int_equal(incidents_set_time(db, a, INCIDENT_F_RESOLVED_AT, 1500), 0);
  struct incident *list;
  size_t n;
  assert_int_equal(incidents_list(db, 0, 0, 0, &list, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(list[0].id, a);
  assert_true(list[1].drill);
  incidents_free(list, n);
  assert_int_equal(incidents_list(db, INCIDENTS_OPEN, 0, 0, &list, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(list[0].id, b);
  incidents_free(list, n);
  assert_int_equal(incidents_list(db, INCIDENTS_NO_DRILLS, 0, 0, &list, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(list[1].id, c);
  incidents_free(list, n);
  assert_int_equal(incidents_list(db, 0, 1500, 3000, &list, &n), 0);
  assert_int_equal(n, 1);
  assert_int_equal(list[0].id, b);
  incidents_free(list, n);
  int64_t id = 0;
  assert_int_equal(incidents_find_repeat(db, "bob", "two", 1000, &id), 0);
  assert_int_equal(id, b);
  assert_int_equal(incidents_find_repeat(db, "bob", "two", 2001, &id), KX_ENOTFOUND);
  assert_int_equal(incidents_find_repeat(db, "alice", "one", 0, &id), KX_ENOTFOUND); /* resolved */
  assert_int_equal(incidents_find_repeat(db, NULL, "three", 0, &id), 0);
  assert_int_equal(id, c);
}

static void test_timeline(void **state)
{
  struct db *db = *state;
  int64_t id = create(db, "t", "alice", 1, false);
  struct timeline_new e = {id, "declared", "alice", "Declared", 100, true, NULL, 100};
  assert_int_equal(timeline_add(db, &e, NULL), 0);
  struct timeline_new m1 = {id, "message", "bob", "first", 300, false, "1.000001", 300};
  struct timeline_new m0 = {id, "message", "carol", "earlier", 200, false, "0.000001", 301};
  assert_int_equal(timeline_add(db, &m1, NULL), 0);
  assert_int_equal(timeline_add(db, &m0, NULL), 0);
  /* A redelivered message is stored once. */
  assert_int_equal(timeline_add(db, &m1, NULL), KX_EEXISTS);
  /* klaxon's own entries have no source and may repeat. */
  assert_int_equal(timeline_add(db, &e, NULL), 0);
  assert_int_equal(timeline_count(db, id), 4);
  assert_int_equal(timeline_edit(db, id, "1.000001", "first, edited", 400), 0);
  assert_int_equal(timeline_edit(db, id, "9.999999", "x", 400), KX_ENOTFOUND);
  assert_int_equal(timeline_mark(db, id, "0.000001", TIMELINE_REACTION_ADDED), 0);
  assert_int_equal(timeline_mark(db, id, "0.000001", TIMELINE_REACTION_ADDED), 0);
  assert_int_equal(timeline_mark(db, id, "0.000001", TIMELINE_REACTION_REMOVED), 0);
  assert_int_equal(timeline_mark(db, id, "9.999999", TIMELINE_PINNED), KX_ENOTFOUND);
  struct timeline_entry *list;
  size_t n;
  assert_int_equal(timeline_list(db, id, 0, 0, &list, &n), 0);
  assert_int_equal(n, 4);
  assert_string_equal(list[0].kind, "declared");
  assert_string_equal(list[1].kind, "declared");
  assert_string_equal(list[2].text, "earlier"); /* ordered by the message's own time */
  assert_true(list[2].key);                     /* one 📌 left */
  assert_int_equal(list[2].reactions, 1);
  assert_string_equal(list[3].text, "first, edited");
  assert_int_equal(list[3].edited_at, 400);
  assert_false(list[3].key);
  timeline_free(list, n);
  /* Key events only, and the latest N (still oldest first). */
  assert_int_equal(timeline_list(db, id, TIMELINE_KEY_ONLY, 0, &list, &n), 0);
  assert_int_equal(n, 3); /* the two declarations and the 📌 one */
  timeline_free(list, n);
  assert_int_equal(timeline_list(db, id, TIMELINE_LATEST, 2, &list, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(list[0].text, "earlier");
  assert_string_equal(list[1].text, "first, edited");
  timeline_free(list, n);
  /* Pins count until unpinned; a deletion hides the entry and its text for good. */
  assert_int_equal(timeline_mark(db, id, "1.000001", TIMELINE_PINNED), 0);
  assert_int_equal(timeline_list(db, id, TIMELINE_KEY_ONLY, 0, &list, &n), 0);
  assert_int_equal(n, 4);
  timeline_free(list, n);
  assert_int_equal(timeline_mark(db, id, "1.000001", TIMELINE_UNPINNED), 0);
  assert_int_equal(timeline_list(db, id, TIMELINE_KEY_ONLY, 0, &list, &n), 0);
  assert_int_equal(n, 3);
  timeline_free(list, n);
  assert_int_equal(timeline_delete(db, id, "0.000001", 500), 0);
  assert_int_equal(timeline_delete(db, id, "0.000001", 500), KX_ENOTFOUND);
  assert_int_equal(timeline_edit(db, id, "0.000001", "back", 600), KX_ENOTFOUND);
  assert_int_equal(timeline_add(db, &m0, NULL), KX_EEXISTS); /* a late redelivery stays deleted */
  assert_int_equal(timeline_count(db, id), 3);
  /* People in order of first appearance; the deleted message's author is gone. */
  char **people;
  assert_int_equal(timeline_people(db, id, &people, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(people[0], "alice");
  assert_string_equal(people[1], "bob");
  timeline_people_free(people, n);
  assert_int_equal(timeline_hide_kind(db, id, "declared", 700), 2);
  assert_int_equal(timeline_count(db, id), 1);
  struct timeline_new bad = {id, NULL, NULL, "x", 1, false, NULL, 1};
  assert_int_equal(timeline_add(db, &bad, NULL), KX_EINVAL);
}

static void test_actions(void **state)
{
  struct db *db = *state;
  int64_t a = create(db, "a", "alice", 1000, false);
  int64_t b = create(db, "b", "alice", 2000, true);
  int64_t n1, n2, n3;
  assert_int_equal(incident_actions_add(db, a, "bob", "add an alert", "alice", 10, &n1), 0);
  assert_int_equal(incident_actions_add(db, a, "carol", "write the runbook", "alice", 11, &n2), 0);
  assert_int_equal(incident_actions_add(db, b, "bob", "drill item", "alice", 12, &n3), 0);
  assert_int_equal(n1, 1);
  assert_int_equal(n2, 2);
  assert_int_equal(n3, 1); /* numbered per incident */
  assert_int_equal(incident_actions_add(db, a, "bob", "", "alice", 13, NULL), KX_EINVAL);
  assert_int_equal(incident_actions_done(db, a, 2, "carol", 20), 0);
  assert_int_equal(incident_actions_done(db, a, 2, "carol", 21), KX_EEXISTS);
  assert_int_equal(incident_actions_done(db, a, 7, "carol", 21), KX_ENOTFOUND);
  struct incident_action *items;
  size_t n;
  assert_int_equal(incident_actions_list(db, a, false, &items, &n), 0);
  assert_int_equal(n, 2);
  assert_string_equal(items[1].text, "write the runbook");
  assert_int_equal(items[1].done_at, 20);
  assert_string_equal(items[1].done_by, "carol");
  assert_string_equal(items[0].incident_title, "a");
  incident_actions_free(items, n);
  assert_int_equal(incident_actions_list(db, 0, true, &items, &n), 0);
  assert_int_equal(n, 2); /* a's open one and b's */
  assert_int_equal(items[0].incident_id, a);
  assert_true(items[1].incident_drill);
  incident_actions_free(items, n);
  int64_t total, done;
  assert_int_equal(incident_actions_count(db, 0, 0, &total, &done), 0);
  assert_int_equal(total, 2); /* the drill's item is not counted */
  assert_int_equal(done, 1);
  assert_int_equal(incident_actions_count(db, 1500, 3000, &total, &done), 0);
  assert_int_equal(total, 0);
}

static void test_channel_names(void **state)
{
  struct db *db = *state;
  char name[CHANNEL_NAME_MAX + 1];
  assert_int_equal(channel_names_reserve(db, "incident-20261124", 1, 1, name, sizeof(name)), 0);
  assert_string_equal(name, "incident-20261124");
  assert_int_equal(channel_names_reserve(db, "incident-20261124", 2, 1, name, sizeof(name)), 0);
  assert_string_equal(name, "incident-20261124-2");
  /* Slack says the next one is taken: it is never handed out again. */
  assert_int_equal(channel_names_reserve(db, "incident-20261124", 3, 1, name, sizeof(name)), 0);
  assert_string_equal(name, "incident-20261124-3");
  assert_int_equal(channel_names_set_state(db, name, CHANNEL_NAME_TAKEN), 0);
  assert_int_equal(channel_names_state(db, name), CHANNEL_NAME_TAKEN);
  assert_int_equal(channel_names_reserve(db, "incident-20261124", 3, 1, name, sizeof(name)), 0);
  assert_string_equal(name, "incident-20261124-4");
  assert_int_equal(channel_names_set_state(db, "nope", CHANNEL_NAME_CREATED), KX_ENOTFOUND);
  assert_int_equal(channel_names_state(db, "nope"), KX_ENOTFOUND);
  /* Another day starts again at the base. */
  assert_int_equal(channel_names_reserve(db, "incident-20261125", 4, 1, name, sizeof(name)), 0);
  assert_string_equal(name, "incident-20261125");
  /* Caps: a base so long that a suffix would pass 80 characters. */
  char base[81];
  memset(base, 'a', 80);
  base[80] = '\0';
  assert_int_equal(channel_names_reserve(db, base, 5, 1, name, sizeof(name)), 0);
  assert_int_equal(channel_names_reserve(db, base, 6, 1, name, sizeof(name)), KX_ETOOBIG);
  assert_int_equal(channel_names_reserve(db, "", 6, 1, name, sizeof(name)), KX_EINVAL);
  assert_int_equal(channel_names_reserve(db, "x", 6, 1, name, 10), KX_EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_create_get_update, setup, teardown),
      cmocka_unit_test_setup_teardown(test_roles, setup, teardown),
      cmocka_unit_test_setup_teardown(test_list_and_repeat, setup, teardown),
      cmocka_unit_test_setup_teardown(test_timeline, setup, teardown),
      cmocka_unit_test_setup_teardown(test_actions, setup, teardown),
      cmocka_unit_test_setup_teardown(test_channel_names, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
