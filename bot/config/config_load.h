/*
 * config_load.h — the YAML loader: reads one klaxon config file (libyaml) into the domain's
 * struct config (commands/config.h) and checks it.
 *
 * Every problem found is reported with its line number and a plain sentence: an unknown key,
 * a bad duration, time zone or time, a duplicate name, a person a rota names who is not in
 * `people`, a severity or policy that does not exist, and so on. The loader does not stop at
 * the first problem: it reports all it can find.
 *
 * config_load_file/config_load_string return a config the caller frees with config_free(),
 * or NULL when there was any problem (problems->n > 0 then) — a config with problems is
 * never handed out. `problems` is always filled (possibly empty) and freed with
 * config_problems_free().
 */
#ifndef KX_CONFIG_LOAD_H
#define KX_CONFIG_LOAD_H

#include <stddef.h>

#include "commands/core/config.h"

struct config_problem {
  int line; /* 1-based; 0 when the problem is not tied to a line */
  char *message;
};

struct config_problems {
  struct config_problem *items;
  size_t n;
};

struct config *config_load_file(const char *path, struct config_problems *problems);
struct config *config_load_string(const char *yaml,
                                  size_t len,
                                  const char *name,
                                  struct config_problems *problems);
void config_problems_free(struct config_problems *problems);

#endif
