/*
 * config_load_internal.h — shared by the two halves of the YAML config loader, and by
 * nothing else: config_load.c (reading the file, libyaml, problems, typed values, name
 * indexes), config_values.c (what ids, URLs and addresses look like), config_schema.c (the
 * keys of klaxon's config, their defaults and checks) and config_rota.c (the rotas section).
 *
 * The loader state (struct cfg_loader) owns nothing of the config: every string stored in
 * the config is a copy made here and freed by config_free(). Name indexes (struct cfg_names)
 * point at strings the config owns, so they live no longer than the config.
 * Functions that read a value report every problem themselves (with the node's line) and
 * return false / NULL; callers just skip what failed and go on, so one run finds all problems.
 */
#ifndef KX_CONFIG_LOAD_INTERNAL_H
#define KX_CONFIG_LOAD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "bot/config/config_load.h"

/* Caps on what comes from the file; each is named here and nowhere else. */
#define CONFIG_MAX_BYTES 1048576  /* the file: 1 MiB */
#define CONFIG_MAX_ITEMS 10000    /* entries in one list or map */
#define CONFIG_MAX_VISITS 1000000 /* values visited in all, an alias counted each time */
#define CONFIG_MAX_TEXT 4096      /* one value's length */
#define CONFIG_MAX_PROBLEMS 200   /* problems listed; the rest are counted */
#define CONFIG_MAX_MERGE_DEPTH 8  /* `<<:` merges inside merged maps */
#define CFG_PATH_MAX 192

/* A formatted path for a message, e.g. CFG_P("rotas[%zu].primary", i); valid until the end of
 * the full expression it is in. */
#define CFG_P(...) (cfg_pathf(__VA_ARGS__).s)
#define CFG_OBJ_MAX_KEYS 32

/* A name (person id, rota, severity …) where it was defined; pos keeps config order. */
struct cfg_name {
  const char *name;
  int line;
  size_t pos;
};

struct cfg_names {
  struct cfg_name *v;
  size_t n, alloc;
  bool nocase; /* severities compare ignoring case */
};

struct cfg_loader {
  yaml_document_t *doc;
  struct config *c;
  struct config_problems *pr;
  size_t dropped; /* problems past CONFIG_MAX_PROBLEMS */
  size_t visits;
  bool stop; /* the visit budget is spent: walk no further */
  bool nomem;
  struct cfg_names people, slack_ids, emails, rotas, severities, policies;
  /* A section that is missing (when required) or not a list: references to its names
   * are not checked, so one mistake does not turn into a hundred. */
  bool people_broken, rotas_broken, severities_broken, policies_broken;
  bool smtp_given;           /* an smtp block is there (email: steps need one) */
  struct cfg_names contacts; /* contacts[].name (issue 11), read before the policies */
  bool contacts_broken;
};

/* A map with a fixed set of keys, opened with cfg_obj_open: val[i] is keys[i]'s value. */
struct cfg_obj {
  const char *const *keys; /* NULL-terminated */
  yaml_node_t *val[CFG_OBJ_MAX_KEYS];
  yaml_node_t *node;
};

/* A value as shown inside a message: quoted by the caller, cut at 60 characters,
 * control characters replaced. */
struct cfg_shown {
  char s[96];
};

struct cfg_path {
  char s[CFG_PATH_MAX];
};

/* A check for a text value: ok() says whether it is acceptable; the message is
 * `PATH: "VALUE" is not WHAT`, or `PATH is not WHAT` when secret (the value is never shown). */
struct cfg_check {
  bool (*ok)(const char *s);
  const char *what;
  bool secret;
};

extern const struct cfg_check CFG_TIMEZONE, CFG_CHANNEL, CFG_USERGROUP, CFG_SLACK_USER, CFG_EMAIL,
    CFG_ENV, CFG_URL, CFG_SMTP_URL, CFG_PERSON_ID, CFG_ROTA_NAME, CFG_LISTEN, CFG_TEAMS_CHANNEL,
    CFG_GUID;

void cfg_problem(struct cfg_loader *L, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cfg_oom(struct cfg_loader *L);
char *cfg_dup(struct cfg_loader *L, const char *s); /* NULL (reported) when out of memory */
/* Room for n elements of size bytes in arr, which has *alloc (new room is zeroed). Returns
 * the array to use from now on, or NULL (reported) when out of memory; arr is then unchanged. */
void *cfg_grow(struct cfg_loader *L, void *arr, size_t *alloc, size_t n, size_t size);

int cfg_line(const yaml_node_t *n); /* 1-based; 0 for NULL */

/* config_notify.c: people[].phone, push and notify; the VIA_* bit of a method's name (0 when
 * none); a phone number in E.164 without separators (out: 17 bytes). */
void cfg_load_person_reach(struct cfg_loader *L,
                           const struct cfg_obj *o,
                           const char *path,
                           struct person *p);
unsigned cfg_via_named(const char *s);
bool cfg_phone_normalise(const char *s, char *out, size_t n);
/* A phone number (E.164, separators dropped) into *out; false (reported) when it is not one. */
bool cfg_phone(struct cfg_loader *L, yaml_node_t *n, const char *path, char **out);
struct cfg_shown cfg_show(const char *s);
struct cfg_path cfg_pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool cfg_is_null(const yaml_node_t *n); /* empty, ~ or null */
bool cfg_visit(struct cfg_loader *L);   /* counts one value; false once over budget */

/* Maps and lists: a NULL node (a key that is not there) is "nothing to do": false, no report.
 * cfg_pairs calls fn for each key of a map, explicit keys first, then those from `<<`
 * merges (merged = true; a merged key the map already has is the caller's to skip). */
typedef void (*cfg_pair_fn)(struct cfg_loader *L,
                            const char *key,
                            yaml_node_t *knode,
                            yaml_node_t *val,
                            bool merged,
                            void *ctx);
bool cfg_pairs(struct cfg_loader *L, yaml_node_t *map, const char *path, cfg_pair_fn fn, void *ctx);
/* Opens a map with known keys: reports a non-map, unknown keys (with a suggestion) and
 * duplicate keys. False when n is absent or not a map. */
bool cfg_obj_open(struct cfg_loader *L,
                  yaml_node_t *n,
                  const char *path,
                  const char *const *keys,
                  struct cfg_obj *o);
yaml_node_t *cfg_get(const struct cfg_obj *o, const char *key); /* NULL when absent */
/* The value of a required key, or NULL after reporting it missing ("PATH.KEY is missing HINT"). */
yaml_node_t *cfg_need(struct cfg_loader *L,
                      const struct cfg_obj *o,
                      const char *path,
                      const char *key,
                      const char *hint);

/* Lists: false (reported) when n is not a list or has more than CONFIG_MAX_ITEMS items. */
bool cfg_list(struct cfg_loader *L, yaml_node_t *n, const char *path, size_t *len);
yaml_node_t *cfg_item(struct cfg_loader *L, yaml_node_t *list, size_t i);

/* "9:00" / "09:00" (and "24:00" when allow_24) as minutes after midnight; config_values.c. */
bool cfg_parse_hhmm(const char *s, size_t len, bool allow_24, int *minutes);

/* Typed values. Each takes n == NULL as "absent" (returns false, reports nothing) and leaves
 * *out unchanged when the value is wrong. */
const char *cfg_text(struct cfg_loader *L, yaml_node_t *n, const char *path);
bool cfg_str(struct cfg_loader *L, yaml_node_t *n, const char *path, char **out);
bool cfg_checked(struct cfg_loader *L,
                 yaml_node_t *n,
                 const char *path,
                 const struct cfg_check *check,
                 char **out);
bool cfg_duration(struct cfg_loader *L, yaml_node_t *n, const char *path, int64_t *out);
bool cfg_bool(struct cfg_loader *L, yaml_node_t *n, const char *path, bool *out);

/* Name indexes: add while loading, then cfg_names_check sorts and reports duplicates
 * (`duplicate WHAT "x" (first defined on line N)`); cfg_names_find works after that. */
/* pos: where the named thing is in its config array (also the order of definition). */
bool cfg_names_add(
    struct cfg_loader *L, struct cfg_names *ns, const char *name, int line, size_t pos);
void cfg_names_check(struct cfg_loader *L, struct cfg_names *ns, const char *what);
const struct cfg_name *cfg_names_find(const struct cfg_names *ns, const char *name);
bool cfg_names_has(const struct cfg_names *ns, const char *name); /* linear, before the check */
void cfg_names_free(struct cfg_names *ns);

/* config_schema.c: fill L->c from the document's root map. */
void cfg_load_root(struct cfg_loader *L, yaml_node_t *root);
/* A person a rota, contact or step names must be in people (else: `WHO: ROLE names "x", who
 * is not in people`). */
void cfg_need_person(
    struct cfg_loader *L, yaml_node_t *n, const char *id, const char *who, const char *role);
/* A list of person ids into (*out, *n_out), each checked with cfg_need_person. */
void cfg_person_list(struct cfg_loader *L,
                     yaml_node_t *n,
                     const char *path,
                     const char *who,
                     const char *role,
                     bool empty_ok,
                     char ***out,
                     size_t *n_out);

/* config_rota.c: the rotas section (after people, so names can be checked). */
void cfg_load_rotas(struct cfg_loader *L, yaml_node_t *n);

/* config_paging.c: the escalation_policies, severities and alerts sections. */
void cfg_load_policies(struct cfg_loader *L, yaml_node_t *n);
void cfg_load_severities(struct cfg_loader *L, yaml_node_t *n, yaml_node_t *dflt);
void cfg_load_alerts(struct cfg_loader *L, yaml_node_t *n);
/* config_twilio.c: the twilio block (issue 11). */
void cfg_load_twilio(struct cfg_loader *L, yaml_node_t *n);
void cfg_load_absences(struct cfg_loader *L, yaml_node_t *n); /* config_absences.c */
/* config_export.c (issue 14): incident.archive_after; the postmortem's export. */
void cfg_load_incident(struct cfg_loader *L, yaml_node_t *n);
void cfg_load_postmortem_export(struct cfg_loader *L, const struct cfg_obj *postmortem);
/* config_contacts.c: contacts[]. */
void cfg_load_contacts(struct cfg_loader *L, yaml_node_t *n);
/* config_operator.c: the operator block (issue 15), after smtp and teams. */
void cfg_load_operator(struct cfg_loader *L, yaml_node_t *n);

/* config_status.c: status_page, and (after severities and rotas) checks, heartbeats,
 * maintenance (issue 13). */
void cfg_load_status_page(struct cfg_loader *L, yaml_node_t *n);
void cfg_load_checks(struct cfg_loader *L,
                     yaml_node_t *checks,
                     yaml_node_t *heartbeats,
                     yaml_node_t *maintenance);
/* rotas[].tracker (issue 14, config_tracker.c) */
void cfg_load_tracker(struct cfg_loader *L, yaml_node_t *n, const char *at, struct tracker *t);

#endif
