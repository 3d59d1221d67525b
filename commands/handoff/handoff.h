/*
 * handoff.h — the shift handoff and the reminders around it, all timed jobs on the bot's clock:
 *
 *   handoff         at each shift's start: the post in the handoff channel (outgoing and
 *                   incoming primary/secondary, shadow, manager, the checklist, a thread for
 *                   notes, the "I have the pager" button), DMs to the incoming and outgoing
 *                   people, the user group. EXACTLY ONCE per (rota, shift): the handoffs row
 *                   is written in the transaction that writes the post. A handoff due while
 *                   the bot was down runs when it comes back: within HANDOFF_CATCHUP_MS it is
 *                   posted, marked late; after that it is recorded as missed and not posted.
 *   handoff.ack     handoff.ack_timeout after the post: nobody pressed the button → the
 *                   manager is told (DM, and a reply in the handoff's thread).
 *   handoff.remind  the last working day before a shift, at the handoff time (the Friday
 *                   before a Monday handoff): a DM to the incoming primary.
 *   handoff.digest  every working day at the handoff time: a DM to the primary with what paged
 *                   since the last working day, open incidents and the action items they own.
 *
 * A working day is a business day of the rota (`hours:` days, else Monday to Friday) that is
 * not one of its holidays. The rules are written out in docs/oncall.md.
 *
 * The checklist is built from separate sections, each appending markup (a bold title and
 * bullets, nothing when it has nothing to say). Everything runs inside the caller's
 * transaction.
 */
#ifndef KX_HANDOFF_H
#define KX_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commands/core/command.h"
#include "commands/core/names.h" /* the job kinds, hooks and action_ids it uses */
#include "commands/oncall/rota.h"
#include "lib/buf.h"
#include "storage/notes.h"

#define HANDOFF_LATE_MS (5LL * 60 * 1000)            /* posted later than this: marked late */
#define HANDOFF_CATCHUP_MS (24LL * 3600 * 1000)      /* missed longer than this: not posted */
#define HANDOFF_DIGEST_STALE_MS (12LL * 3600 * 1000) /* a digest this late is not sent */
#define HANDOFF_DEFAULT_ACK_MS (30LL * 60 * 1000)
#define HANDOFF_REMIND_LATE_MS (12LL * 3600 * 1000) /* a missed reminder still worth sending */
#define HANDOFF_LIST_MAX 10  /* lines per checklist section before "… and N more" */
#define HANDOFF_SCAN_DAYS 15 /* how far the working-day walks look */
#define HANDOFF_NOTE_MAX 280 /* bytes of a note shown in the checklist */

/* Working days and the times derived from them (pure; 0 or KX_E*). */
bool handoff_working_day(const struct rota *r, struct kx_date d);
/* The first working day's handoff time strictly after after_ms; *day (may be NULL) its date. */
int handoff_next_digest(const struct rota *r, int64_t after_ms, int64_t *at, struct kx_date *day);
/* The last working day's handoff time strictly before before_ms. */
int handoff_prev_digest(const struct rota *r, int64_t before_ms, int64_t *at);
/* When the incoming primary of a shift starting at start_ms is reminded: the handoff time on
 * the last working day before the shift's start date. */
int handoff_reminder_at(const struct rota *r, int64_t start_ms, int64_t *at);

/* The checklist of a handoff into the shift [start, end) of index k: notes (not yet handed
 * over), open incidents, open action items, what is coming up in the shift (overrides,
 * absences, holidays), and the last shift's numbers. `notes` as notes_pending gave them. */
int handoff_checklist(struct cmd_ctx *ctx,
                      const struct rota *r,
                      int64_t k,
                      int64_t start_ms,
                      int64_t end_ms,
                      const struct note *notes,
                      size_t n_notes,
                      struct buf *out);
/* Open incidents (of the rota, or naming no rota) with links to their channels. */
int handoff_section_incidents(struct cmd_ctx *ctx, const struct rota *r, struct buf *out);
/* Open postmortem action items (drills left out); only those `owner` owns when it is not NULL
 * (the digest: the primary's own). */
/* The overdue action items of every incident (not drills), one line each: how many (>= 0), or
 * < 0. For the manager's daily digest (issue 14). */
int handoff_section_overdue(struct cmd_ctx *ctx, struct buf *b);
int handoff_section_actions(struct cmd_ctx *ctx,
                            const struct rota *r,
                            const char *owner,
                            struct buf *out);
/* The pages of the rota (or to `person`, may be NULL) created in [from, to), one line each. */
int handoff_section_pages(struct cmd_ctx *ctx,
                          const struct rota *r,
                          const char *person,
                          int64_t from_ms,
                          int64_t to_ms,
                          struct buf *out);

/* Table rows (registry.c). */
int handoff_job(struct cmd_ctx *ctx, const struct job *job);
int handoff_job_ack(struct cmd_ctx *ctx, const struct job *job);
int handoff_job_remind(struct cmd_ctx *ctx, const struct job *job);
int handoff_job_digest(struct cmd_ctx *ctx, const struct job *job);
int handoff_hook_posted(struct cmd_ctx *ctx,
                        const struct outbox_row *row,
                        const struct cmd_result *result);
int handoff_action_ack(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);
/* A reply in a handoff's thread becomes a note for the next handoff. */
int handoff_event_message(struct cmd_ctx *ctx,
                          const struct cmd_request *req,
                          struct cmd_reply *reply);
/* klaxon_handoffs_total{rota, result} for /metrics. */
int handoff_metrics(struct cmd_ctx *ctx, struct buf *out);
/* Make sure each rota's next handoff, reminder and digest are scheduled. */
int handoff_startup(struct cmd_ctx *ctx);

#endif
