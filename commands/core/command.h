/*
 * command.h — the command table and the dispatcher (after redis's command table).
 *
 * Every slash subcommand (`/incident declare`, `/oncall note` …) is one row of cmd_table:
 * name, handler, arity, flags, options, usage and help. The dispatcher tokenises the text, takes
 * the row's declared options (`--rota R`, `--drill`) out of the words, checks the arity of what
 * remains once (handlers never do), opens one SQLite transaction, drops a redelivery (dedup_key
 * seen before), runs the handler, and commits. Usage lines are rendered from the row
 * (cmd_usage), never written by hand. A handler changes state and writes the outbox
 * through storage/ only; it never touches the network, and its time is req->now_ms.
 *
 * The same file declares the other tables a transport may reach: buttons (actions), modal
 * submissions (views), channel events (messages, edits, reactions, pins), timed jobs, outbox
 * result hooks and start-up tasks. cmd_tables_check() refuses duplicates at boot.
 *
 * Handlers: return 0 when done. To refuse (bad arguments, no such incident, not allowed now, not
 * allowed for this person), put the sentence in the reply and return exactly one of KX_EINVAL,
 * KX_ENOTFOUND, KX_ESTATE or KX_EAUTH: the dispatcher rolls the handler's changes back, keeps
 * the dedup mark, and dispatch returns 0. Any other code is a failure on our side; in
 * particular KX_EEXISTS (storage's "already there") must be turned into an answer by the
 * handler, and KX_ECONSTRAINT (an unexpected constraint violation) is a bug.
 *
 * Return values of cmd_dispatch(): 0 — done (the reply says what to tell the user, including a
 * refusal). KX_EDUPLICATE — a redelivery (dedup_key seen before): nothing done, the reply is
 * empty, transports answer nothing new. Any other < 0 — a KX_E* error that was not the user's
 * fault (KX_ECONSTRAINT included, logged at error level with the command as a bug); the
 * transaction was rolled back and the reply holds an apology. Transports treat it as not done:
 * Slack events are left unacked so they come again, the alert webhook answers 500.
 */
#ifndef KX_COMMAND_H
#define KX_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commands/core/config.h"
#include "commands/core/request.h"
#include "storage/db.h"
#include "storage/jobs.h"
#include "storage/outbox.h"

/* Caps on what a user can type (named once, here). */
#define CMD_TEXT_MAX 4000
#define CMD_MAX_ARGS 64

struct cmd_ctx {
  struct db *db;
  const struct config *config;
  int64_t now_ms;
  const char *public_url;  /* base URL of the HTTP server for links, may be NULL */
  const char *feed_secret; /* opens the read-only feeds (lib/feed_token.h), may be NULL */
};

/* One option a row accepts: `--rota R` (a value) or `--drill` (a flag). A row's options are
 * a const array ending with a zeroed entry. */
struct cmd_opt_def {
  const char *name;  /* "rota", typed `--rota` */
  const char *value; /* "R": takes a value (`--rota R` or `--rota=R`); NULL: a flag */
  const char *help;  /* one line; NULL: accepted but not in the synopsis (an alias) */
};

/* The options a user gave, in the order given. */
struct cmd_opts {
  int n;
  struct cmd_opt {
    const struct cmd_opt_def *def;
    const char *value; /* NULL for a flag; points into the words */
  } set[CMD_MAX_ARGS];
};

struct cmd_def;

struct cmd_args {
  int argc;                           /* words after the subcommand, options taken out */
  char *argv[CMD_MAX_ARGS];           /* unquoted words */
  const char *rest[CMD_MAX_ARGS + 1]; /* rest[i]: the raw text from word i to the end (it may
                                         hold options typed after word i) */
  struct cmd_opts opts;               /* the row's options the user gave */
  const struct cmd_def *def;          /* the row that runs (for cmd_usage), NULL outside one */
  char *storage_;
};

typedef int (*cmd_fn)(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply);

enum cmd_flags {
  CMD_WRITE = 1 << 0,      /* changes state */
  CMD_HIDDEN = 1 << 1,     /* not listed in help */
  CMD_DEFAULT = 1 << 2,    /* runs when no subcommand is given */
  CMD_OPTS_FIRST = 1 << 3, /* options only before the first other word: free text follows, and
                              a `--word` in it is text */
  CMD_MENU = 1 << 4 /* offered in the Teams app's command menu (bot/teams/teams_manifest.h) */
};

struct cmd_def {
  const char *group; /* "incident" */
  const char *name;  /* "declare" */
  cmd_fn fn;
  int min_args; /* words after the name */
  int max_args; /* -1: no limit */
  unsigned flags;
  const struct cmd_opt_def *opts; /* the options it takes, or NULL: `--x` words are words */
  const char *usage;              /* "declare [SEV] TITLE": the words, without the options */
  const char *help;               /* one line */
};

/* Statistics of one row, updated by the dispatcher: cmd_counters[d - cmd_table]. */
struct cmd_counter {
  uint64_t calls;
  uint64_t failures;
};

/* A button press, a modal submission, or a channel event. */
typedef int (*cmd_event_fn)(struct cmd_ctx *ctx,
                            const struct cmd_request *req,
                            struct cmd_reply *reply);

struct cmd_action_def {
  const char *action_id; /* exact, after the transport strips the "#N" suffix */
  cmd_event_fn fn;
};

struct cmd_view_def {
  const char *callback_id;
  cmd_event_fn fn;
};

struct cmd_event_def {
  enum cmd_kind kind; /* MESSAGE, MESSAGE_CHANGED, REACTION_ADDED … */
  cmd_event_fn fn;    /* every handler of the kind runs, in table order */
};

typedef int (*cmd_job_fn)(struct cmd_ctx *ctx, const struct job *job);

struct cmd_job_def {
  const char *kind;
  cmd_job_fn fn;
};

/* The platform's answer to an outbox row, given to the row's hook. */
struct cmd_result {
  bool ok;
  const char *error;     /* Slack's error name, or a KX name for transport failures */
  const cJSON *response; /* the parsed answer, may be NULL */
  /* The sender's outbox lease epoch (storage/leases.h): the result is recorded only while it is
   * still the lease's (KX_EFENCED otherwise, and nothing is recorded, the hook does not run).
   * 0 records it unfenced (tests, tools). */
  int64_t epoch;
};

typedef int (*cmd_hook_fn)(struct cmd_ctx *ctx,
                           const struct outbox_row *row,
                           const struct cmd_result *result);

struct cmd_hook_def {
  const char *name;
  cmd_hook_fn fn;
};

typedef int (*cmd_startup_fn)(struct cmd_ctx *ctx);

struct cmd_startup_def {
  const char *name;
  cmd_startup_fn fn;
};

/* Domain series for /metrics, computed from the database at scrape time (Prometheus text). */
typedef int (*cmd_metrics_fn)(struct cmd_ctx *ctx, struct buf *out);

struct cmd_metrics_def {
  const char *name;
  cmd_metrics_fn fn;
};

/* The tables (commands/registry.c). Each ends with a zeroed row. */
extern const struct cmd_def cmd_table[];
extern struct cmd_counter cmd_counters[]; /* one per row of cmd_table, the zeroed row included */
extern const struct cmd_action_def cmd_actions[];
extern const struct cmd_view_def cmd_views[];
extern const struct cmd_event_def cmd_events[];
extern const struct cmd_job_def cmd_jobs[];
extern const struct cmd_hook_def cmd_hooks[];
extern const struct cmd_startup_def cmd_startups[];
extern const struct cmd_metrics_def cmd_metrics[];

/* Duplicate names, missing handlers or bad arity in any table: logged, KX_ECONFIG. */
int cmd_tables_check(void);

/* Run one request. See the top of this file for the return values. */
int cmd_dispatch(const struct cmd_ctx *env, const struct cmd_request *req, struct cmd_reply *reply);
/* Run the jobs due at now_ms (each in its own transaction); returns how many ran or < 0. */
int cmd_run_jobs(const struct cmd_ctx *env, int64_t now_ms, size_t limit);
/* Record an outbox row's final result and run its hook, in one transaction, at now_ms. A
 * result with ok false and an error marks the row failed. */
int cmd_outbox_result(const struct cmd_ctx *env,
                      int64_t now_ms,
                      const struct outbox_row *row,
                      const struct cmd_result *result);
/* Start-up tasks (each in its own transaction), at now_ms. */
int cmd_startup(const struct cmd_ctx *env, int64_t now_ms);
/* One `now`: a copy of the environment stamped with the instant of one run (a request, a job
 * pass, a completion, a scrape). The four functions above make their own; the environment a
 * transport holds is set once and never written. */
struct cmd_ctx cmd_ctx_at(const struct cmd_ctx *env, int64_t now_ms);

/* Split text into args (quotes group words; <…> tokens stay whole). */
int cmd_args_parse(const char *text, struct cmd_args *args);
void cmd_args_free(struct cmd_args *args);
/* Take the row's options out of the words from in->argv[first] on: out gets the other words
 * (pointing into in's storage; out->storage_ is NULL, so free only in), out->opts the options
 * and out->def the row. A row without options keeps every word. 0, or KX_EINVAL with a
 * sentence for the user in err (an unknown option, naming the valid ones; a value missing). */
int cmd_opts_split(const struct cmd_def *d,
                   const struct cmd_args *in,
                   int first,
                   struct cmd_args *out,
                   struct buf *err);
/* The value of the last `--name V` given, or NULL. */
const char *cmd_opt(const struct cmd_args *args, const char *name);
/* True when `--name` was given. */
bool cmd_flag(const struct cmd_args *args, const char *name);
/* The row's synopsis, "override @user FROM TO [--rota R] [--secondary]", into b. */
int cmd_synopsis(struct buf *b, const struct cmd_def *d);
/* "Usage: `/oncall override …` — help" into the reply: the one usage line, from the row. */
int cmd_usage(struct cmd_reply *reply, const struct cmd_def *d);
/* Usage for one group ("/incident"), as markup into the reply. */
int cmd_help(const char *group, struct cmd_reply *reply);
/* True when some row of cmd_table has this group ("incident", "oncall"): transports derive
 * the slash commands they accept from the table instead of naming them. NULL: false. */
bool cmd_group_exists(const char *group);
/* The table's own spelling of the group named by the n bytes at word (case-insensitive), or
 * NULL. The result lives as long as the table. */
const char *cmd_group_find(const char *word, size_t n);
/* The table's groups, each once, in the order of their first rows, into out (at most max);
 * returns how many there are (which may be more than max). */
size_t cmd_groups(const char **out, size_t max);
const struct cmd_def *cmd_lookup(const char *group, const char *name);

#endif
