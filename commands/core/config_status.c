/*
 * config_status.c — freeing and finding the status page's components, the checks, the
 * heartbeats and the maintenance windows of a config (issue 13). The loader is
 * bot/config/config_status.c.
 */
#include <stdlib.h>
#include <string.h>

#include "commands/core/config.h"

static void free_strs(char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

void config_status_free(struct config *c)
{
  if (!c)
    return;
  for (size_t i = 0; c->status_page.comp && i < c->status_page.n_components; i++) {
    struct status_component *k = &c->status_page.comp[i];
    free(k->name);
    free(k->description);
    free(k->group);
    free_strs(k->match_keys, k->n_match);
    free_strs(k->match_values, k->n_match);
  }
  free(c->status_page.comp);
  free(c->status_page.public_url);
  for (size_t i = 0; i < c->n_checks; i++) {
    struct check_config *k = &c->checks[i];
    free(k->name);
    free(k->http);
    free(k->tcp);
    free(k->expect_body);
    free(k->component);
    free(k->severity);
    free(k->rota);
  }
  free(c->checks);
  for (size_t i = 0; i < c->n_heartbeats; i++) {
    struct heartbeat_config *k = &c->heartbeats[i];
    free(k->name);
    free(k->component);
    free(k->severity);
    free(k->rota);
  }
  free(c->heartbeats);
  for (size_t i = 0; i < c->n_maintenance; i++) {
    free(c->maintenance[i].component);
    free(c->maintenance[i].text);
  }
  free(c->maintenance);
}

const struct check_config *config_check(const struct config *c, const char *name)
{
  for (size_t i = 0; name && i < c->n_checks; i++)
    if (strcmp(c->checks[i].name, name) == 0)
      return &c->checks[i];
  return NULL;
}

const struct heartbeat_config *config_heartbeat(const struct config *c, const char *name)
{
  for (size_t i = 0; name && i < c->n_heartbeats; i++)
    if (strcmp(c->heartbeats[i].name, name) == 0)
      return &c->heartbeats[i];
  return NULL;
}

const struct status_component *config_component(const struct config *c, const char *name)
{
  for (size_t i = 0; name && c->status_page.comp && i < c->status_page.n_components; i++)
    if (strcmp(c->status_page.comp[i].name, name) == 0)
      return &c->status_page.comp[i];
  return NULL;
}
