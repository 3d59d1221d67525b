/*
 * import_internal.h — what the importers in commands/import/ share: JSON look-ups (borrowed
 * strings, NULL when absent or not a string) and look-ups in a result being built. Only files in
 * this folder include it.
 */
#ifndef KX_IMPORT_INTERNAL_H
#define KX_IMPORT_INTERNAL_H

#include <cjson/cJSON.h>

#include "commands/import/import.h"

const char *imp_jstr(const cJSON *o, const char *k);
char *imp_dup(const char *s);
const cJSON *imp_jarr(const cJSON *o, const char *k, int cap, int *bad);
const char *imp_person_for(const struct imp_result *r, const char *vendor_id);
int imp_id_taken(const struct imp_result *r, const char *id);
char *imp_unique_id(const struct imp_result *r, char *base);
int imp_rota_taken(const struct imp_result *r, const char *name);
const char *imp_rota_for(const struct imp_result *r, const char *sched_id);
int imp_add_step(struct imp_policy *p, int after, const char *notify);
const struct imp_policy *imp_policy_for(const struct imp_result *r, const char *vendor_id);
/* Add a person from an export's user (reported and left out without an email, or with one
 * another user has); the new person is r->people[r->n_people - 1]. */
int imp_add_person(struct imp_result *r,
                   const char *vendor_id,
                   const char *name,
                   const char *email);
/* A rota name from text, unique in r (caller frees). */
char *imp_rota_name(const struct imp_result *r, const char *text);
/* A policy name from text, unique among r's policies so far (caller frees). */
char *imp_policy_name(const struct imp_result *r, const char *text);
/* After a rota is mapped: move a start before 1971 forward by whole cycles (said), and check
 * that klaxon's arithmetic can use it. KX_ENOTFOUND (said) when it cannot: leave it out. */
int imp_rota_settle(struct imp_result *r, struct imp_rota *o);

#endif
