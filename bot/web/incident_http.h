/*
 * incident_http.h — GET /incidents/ID/postmortem.md: the postmortem draft of an incident as
 * text/markdown (200), 404 for an unknown incident or path, 400 for an id that is not a number.
 * The route has no authentication of its own, like /metrics: serve klaxon's HTTP port on an
 * internal address or behind a proxy that asks who is reading.
 *
 * incident_template_read loads the config's postmortem.template for the renderer (the CLI uses
 * it too): NULL when none is configured, or when it cannot be read (then `problem` says why and
 * the built-in layout is used).
 */
#ifndef KX_INCIDENT_HTTP_H
#define KX_INCIDENT_HTTP_H

#include <stddef.h>

#include "commands/core/config.h"

struct module_env;

int incident_http_init(const struct module_env *env, void **state);
char *incident_template_read(const struct config *c, char *problem, size_t size);

#endif
