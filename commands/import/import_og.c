/*
 * import_og.c — Opsgenie exports. Not mapped yet: the importer refuses them with a sentence
 * rather than guess at shapes we have no documented examples of in the fixtures.
 */
#include <string.h>

#include "commands/import/import.h"
#include "lib/kx.h"

int imp_opsgenie(const struct cJSON *root, struct imp_result *r)
{
  (void)root;
  memset(r, 0, sizeof *r);
  r->error = "the Opsgenie import is not available yet (PagerDuty is); see docs/migrating.md";
  return KX_EUNSUPPORTED;
}
