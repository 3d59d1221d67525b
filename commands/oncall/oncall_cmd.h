/*
 * oncall_cmd.h — the /oncall commands (who is on call, schedule, override, away, swap, the list
 * of changes and cancel), keeping each rota's Slack user group equal to who is on call, and
 * resolving people given by email (users.lookupByEmail). The rules are in docs/oncall.md and
 * docs/rota-rules.md.
 *
 * Everything here runs inside the caller's transaction (a dispatched request, a job, an outbox
 * hook or a start-up task): state through storage/, messages through the outbox. Handlers
 * answer refusals with a sentence in the reply and KX_EINVAL/KX_ENOTFOUND (nothing changes).
 * The helpers below are shared with commands/handoff*.c.
 */
#ifndef KX_ONCALL_CMD_H
#define KX_ONCALL_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commands/core/command.h"
#include "commands/core/names.h" /* the job kinds, hooks and action_ids it uses */
#include "commands/oncall/rota.h"
#include "lib/buf.h"
#include "storage/rota_changes.h"

/* Caps on what a user can ask for. */
#define ONCALL_SCHEDULE_DEFAULT 4
#define ONCALL_SCHEDULE_MAX 12                          /* shifts in one /oncall schedule */
#define ONCALL_CHANGE_MAX_MS (366LL * 24 * 3600 * 1000) /* longest override or absence */
#define ONCALL_LIST_MAX 50                              /* /oncall changes */
#define ONCALL_MAX_POSITIONAL 8

/* "Mon 2026-11-30 09:00" in the rota's zone. buf >= 32. */
const char *oncall_fmt_time(const struct rota *r, int64_t ms, char *buf, size_t size);
/* The rota's own Slack handoff channel, or NULL for the config's (out_announce decides). */
const char *oncall_handoff_channel(const struct rota *r);
/* 1 when the person is in the rota (primary, secondary or shadow list), else 0. */
int oncall_rota_has(const struct rota *r, const char *person);

/* What an /oncall subcommand was given: --rota R and --secondary (taken out of the words by
 * the dispatcher, as the row declares them), and the other words, where a date followed by a
 * time ("2026-12-01 14:00") is one word and "to"/"until"/"-" are skipped. */
struct oncall_opts {
  const char *rota;
  bool secondary;
  int n;
  const char *pos[ONCALL_MAX_POSITIONAL];
  char joined[ONCALL_MAX_POSITIONAL][48];
};
int oncall_opts_parse(const struct cmd_args *args, struct oncall_opts *o, struct cmd_reply *reply);
/* The rota a command means: --rota, else the only one, else the only one `person` (may be NULL)
 * is in; otherwise a sentence asking for --rota and NULL. */
const struct rota *oncall_pick_rota(struct cmd_ctx *ctx,
                                    const char *name,
                                    const char *person,
                                    struct cmd_reply *reply);

/* Bring the rota's user group up to date with who is on call now (usergroups.users.update
 * when it differs from what was last sent) and move the rota's sync job to the next instant
 * someone changes hands. */
int oncall_sync_rota(struct cmd_ctx *ctx, const struct rota *r);

/* Who holds what in [from, to), before and after a change: DMs to everyone whose holdings
 * changed (except `actor`), then a sync. `before`/`after` are the rota's changes. Returns how
 * many people were told, or < 0. `told` (may be NULL) gets their mentions as markup. */
struct oncall_window {
  int64_t from, to;
};
int oncall_notify_changed(struct cmd_ctx *ctx,
                          const struct rota *r,
                          const struct rota_change *before,
                          size_t n_before,
                          const struct rota_change *after,
                          size_t n_after,
                          const struct oncall_window *windows,
                          size_t n_windows,
                          const char *what_markup,
                          const char *actor,
                          struct buf *told);

/* The iCalendar feed of a rota (GET /calendar/R.ics, `klaxon export-ical`): whole shifts from
 * ONCALL_ICAL_PAST_DAYS before now to `weeks` ahead (1..ONCALL_ICAL_MAX_WEEKS), stored
 * overrides and absences applied (none when ctx->db is NULL), appended to out. */
#define ONCALL_ICAL_PAST_DAYS 28
#define ONCALL_ICAL_WEEKS 26
#define ONCALL_ICAL_MAX_WEEKS 520
#define ONCALL_ICAL_MAX_BYTES ((size_t)8 * 1024 * 1024)
int oncall_ical(struct cmd_ctx *ctx, const struct rota *r, int weeks, struct buf *out);
/* How many shifts cover `days` days of the rota (at least 1, at most the schedule cap). */
size_t oncall_shifts_for_days(const struct rota *r, int64_t days);
/* The rota's changes that matter from `after_ms` on; none (and 0) when ctx->db is NULL. */
int oncall_changes_load_opt(struct cmd_ctx *ctx,
                            const struct rota *r,
                            int64_t after_ms,
                            struct rota_change_row **rows,
                            struct rota_change **changes,
                            size_t *n);

/* Slash subcommands (rows in registry.c). */
int oncall_cmd_who(struct cmd_ctx *ctx,
                   const struct cmd_request *req,
                   const struct cmd_args *args,
                   struct cmd_reply *reply);
int oncall_cmd_schedule(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        const struct cmd_args *args,
                        struct cmd_reply *reply);
int oncall_cmd_override(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        const struct cmd_args *args,
                        struct cmd_reply *reply);
int oncall_cmd_away(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const struct cmd_args *args,
                    struct cmd_reply *reply);
int oncall_cmd_swap(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const struct cmd_args *args,
                    struct cmd_reply *reply);
int oncall_cmd_changes(struct cmd_ctx *ctx,
                       const struct cmd_request *req,
                       const struct cmd_args *args,
                       struct cmd_reply *reply);
int oncall_cmd_cancel(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply);
int oncall_cmd_whoami(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply);
int oncall_cmd_help(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const struct cmd_args *args,
                    struct cmd_reply *reply);

/* Jobs, hooks and start-up (rows in registry.c). */
int oncall_job_sync(struct cmd_ctx *ctx, const struct job *job);
int oncall_hook_lookup(struct cmd_ctx *ctx,
                       const struct outbox_row *row,
                       const struct cmd_result *result);
int oncall_hook_usergroup(struct cmd_ctx *ctx,
                          const struct outbox_row *row,
                          const struct cmd_result *result);
/* Look up every person given by email only (users.lookupByEmail through the outbox; the hook
 * stores the id) and sync every rota. */
int oncall_startup(struct cmd_ctx *ctx);

/* Changes made by klaxon itself (the HR calendar, issue 14), told and announced exactly as
 * /oncall away and /oncall cancel tell them. `what` gets the sentence, `told` who was DMed. */
struct oncall_absence {
  const char *person;
  int64_t from_ms, to_ms;
  const char *actor;  /* who made it: "hr-calendar" */
  const char *reason; /* stored with the change: "hr:<event uid>" */
  const char *why;    /* shown after the sentence, markup; may be NULL */
};
int oncall_absence_add(struct cmd_ctx *ctx,
                       const struct rota *r,
                       const struct oncall_absence *a,
                       struct buf *told,
                       int64_t *id_out);
int oncall_change_remove(struct cmd_ctx *ctx,
                         const struct rota *r,
                         const struct rota_change_row *c,
                         const char *actor,
                         struct buf *what,
                         struct buf *told);

#endif
