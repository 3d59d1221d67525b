/*
 * fuzz_ical.c — libFuzzer target for the HR calendar's feed (commands/oncall/absences.c): any
 * bytes as an iCalendar feed through libical and the absence expansion, against a small config
 * whose people the events may name. Never a crash, a leak or undefined behaviour; a refusal says
 * why; every absence found is of a config person and ends after it starts. Seeds:
 * tests/fuzz/seeds/fuzz_ical/ (the e2e test's feed, an RRULE without end, a broken VTIMEZONE).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/config/config_load.h"
#include "commands/oncall/absences.h"
#include "lib/kx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CONFIG[] =
    "timezone: Europe/Berlin\n"
    "people: [{id: alice, name: Alice Doe, email: alice@example.com}, {id: bob, slack: U0BOB00001,"
    " email: bob@example.com}]\n"
    "rotas: [{name: r, start: 2026-11-23, primary: [alice, bob]}]\n"
    "severities: [{name: P1}]\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct config *c;
  if (!c) {
    struct config_problems pr;
    c = config_load_string(CONFIG, strlen(CONFIG), "fuzz.yaml", &pr);
    config_problems_free(&pr);
    if (!c)
      __builtin_trap();
  }
  if (size > ((size_t)1 << 20))
    return 0;
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  struct absence_list l;
  char why[160];
  int rc = absences_parse(c, text, 1795500000000LL, &l, why, sizeof(why));
  /* A refused feed always says why. */
  if ((rc == KX_EPROTO || rc == KX_ETOOBIG) && !why[0])
    __builtin_trap();
  for (size_t i = 0; rc == 0 && i < l.n; i++)
    if (l.v[i].to_ms <= l.v[i].from_ms ||
        (strcmp(l.v[i].person, "alice") != 0 && strcmp(l.v[i].person, "bob") != 0))
      __builtin_trap();
  if (rc == 0)
    absence_list_free(&l);
  free(text);
  return 0;
}
