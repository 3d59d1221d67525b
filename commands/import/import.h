/*
 * import.h — `klaxon import`: a vendor's export (PagerDuty REST v2 list responses) turned into
 * klaxon's YAML, with a line for everything that could not be carried over, and a comparison of
 * who is on call in the vendor's rendered final schedule and in the generated rota.
 *
 * Pure: no files, no network, no clock. The caller parses the JSON (cJSON) and owns the tree;
 * imp_pagerduty() fills a struct imp_result the caller frees with imp_result_free() (NULL-safe).
 * Every string in the result is the result's own copy.
 *
 * Errors: 0 or a negative KX_E* code, with a sentence in result->error (static or owned).
 *   KX_EINVAL   not the vendor's shape (unknown keys, a list that is not a list …)
 *   KX_ETOOBIG  more than the caps below (a schedule with 10,000 layers …)
 *   KX_ENOTFOUND nothing usable: no person or no schedule could be carried over
 *   KX_ENOMEM   out of memory
 */
#ifndef KX_IMPORT_H
#define KX_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "commands/core/config.h"
#include "lib/buf.h"

struct cJSON;

/* Caps on what an export may hold (named once, here). */
#define IMP_MAX_INPUT_BYTES (16u << 20) /* the whole export, all files together */
#define IMP_MAX_ITEMS 2000              /* users, schedules, policies or services per list */
#define IMP_MAX_LAYERS 50               /* layers of one schedule */
#define IMP_MAX_LAYER_USERS 500         /* users of one layer */
#define IMP_MAX_RULES 50                /* rules of one escalation policy */
#define IMP_MAX_TARGETS 50              /* targets of one rule */
#define IMP_MAX_ENTRIES 5000            /* rendered final-schedule entries of one schedule */
#define IMP_COMPARE_MAX_MS (8LL * 7 * 24 * 60 * 60 * 1000) /* compare at most 8 weeks */
#define IMP_MAX_NAME 200                                   /* bytes of a person's name kept */
#define IMP_MAX_REPORT_BYTES (4u << 20)
#define IMP_MAX_YAML_BYTES (8u << 20)

struct imp_person {
  char *id; /* klaxon id: the email's local part or a slug of the name */
  char *vendor_id;
  char *name;
  char *email;
  char *phone; /* E.164, or NULL */
};

/* One rendered entry of the vendor's final schedule: `person` (klaxon id, NULL: nobody we know,
 * `vendor_user` says who) is on call during [from, to). */
struct imp_entry {
  int64_t from_ms, to_ms;
  char *person;
  char *vendor_user;
};

struct imp_rota {
  char *name;
  char *vendor_id;
  char *vendor_name;
  char *timezone;
  int handoff_wday, handoff_minute, shift_days;
  struct kx_date start;
  char **primary;
  size_t n_primary;
  char **secondary; /* a list rotating like primary (NULL/0: none) */
  size_t n_secondary;
  struct imp_entry *entries; /* the vendor's final schedule, for the comparison */
  size_t n_entries;
};

struct imp_step {
  int after_min;
  char *notify; /* primary, secondary, manager or a person id */
};

struct imp_policy {
  char *name;
  char *vendor_id;
  char *rota; /* the rota its schedule targets page (NULL: none) */
  int repeat;
  struct imp_step *steps;
  size_t n_steps;
};

struct imp_route {
  char *service;
  const char *label; /* static: "routing_key_env" (PagerDuty) or "team" (Opsgenie) */
  char *key_env;     /* the label's value: PD_KEY_<SERVICE>, or the team's slug */
  char *rota;
  char *policy; /* may be NULL */
};

struct imp_result {
  char *timezone; /* the top-level zone */
  struct imp_person *people;
  size_t n_people;
  struct imp_rota *rotas;
  size_t n_rotas;
  struct imp_policy *policies;
  size_t n_policies;
  struct imp_route *routes;
  size_t n_routes;
  struct buf report; /* one line per thing not carried over, each ending in '\n' */
  const char *error; /* why it was refused (static) */
};

/* PagerDuty: root holds "users", "schedules" (or one "schedule"), "escalation_policies",
 * "services" — the REST v2 list responses' arrays. */
int imp_pagerduty(const struct cJSON *root, struct imp_result *out);
/* Opsgenie: root holds "users", "schedules" (with their rotations), "escalations", "teams" — the
 * v2 list responses' "data" arrays. */
int imp_opsgenie(const struct cJSON *root, struct imp_result *out);
void imp_result_free(struct imp_result *r);
void imp_rota_free(struct imp_rota *o); /* its parts; the struct itself is the caller's */

/* klaxon's YAML for the result, appended to `yaml` (comments say where things came from). */
int imp_yaml(const struct imp_result *r, const char *vendor, struct buf *yaml);

/* A struct rota over rr's strings (borrowed: valid while rr is) for the rota arithmetic. */
void imp_rota_view(const struct imp_rota *rr, struct rota *out);

/* One difference between the vendor's final schedule and the generated rota. */
struct imp_diff {
  int64_t from_ms, to_ms;
  const char *theirs; /* person id or vendor user id; NULL: nobody */
  const char *ours;   /* person id; NULL: nobody */
};
/* Compare over the entries' span (from the first entry's start, at most IMP_COMPARE_MAX_MS).
 * *out is malloc'd (caller frees; NULL when none); span_* get the compared span. */
int imp_compare(const struct imp_rota *rr,
                struct imp_diff **out,
                size_t *n_out,
                int64_t *span_from,
                int64_t *span_to);

/* Helpers shared by the mappers (import_util.c). */
int imp_report(struct imp_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A klaxon id/name from text: lower case, [a-z0-9_.-] (allow_dot) or [a-z0-9_-], runs of other
 * characters become '-', at most 48 characters; "x" when nothing is left. Caller frees. */
char *imp_slug(const char *text, int allow_dot);

#endif
