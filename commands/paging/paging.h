/*
 * paging.h — pages and their escalation: who is called, the page message (a DM with Block
 * Kit and the buttons Acknowledge, Escalate, Resolve, Declare incident), keeping every copy
 * of it up to date, and the escalation policy's steps as jobs.
 *
 * Everything here runs inside the caller's transaction (a dispatched request, a job or an
 * outbox hook): state goes to storage/pages.h, messages to the outbox, due times to the jobs
 * table. Rules (docs/alerts.md):
 *   - a page notifies at once the targets of its severity (page: [primary, secondary]); with
 *     `page: business_hours` outside the rota's business hours it is held until they begin
 *     (job page.release) unless someone escalates it by hand;
 *   - the policy's steps fire at anchor + offset(g), g a global step index over the repeats
 *     (paging_step_offset); a step whose person already has the page in this round is skipped;
 *   - acknowledge and resolve cancel every pending job of the page ("page:<id>:…");
 *   - Escalate fires the next step now; a button carries the step it escalates to, so a
 *     double click or a stale button does nothing twice.
 * Errors: 0 or KX_E*; user refusals are KX_EINVAL/KX_ESTATE with a sentence in the reply.
 */
#ifndef KX_PAGING_H
#define KX_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "commands/core/command.h"
#include "commands/core/names.h" /* the job kinds, hooks and action_ids it uses */
#include "storage/pages.h"

/* Resolve reasons a person can give; "alert_resolved" is set when the alerts resolve. */
#define PAGING_REASONS "fixed, false_positive, duplicate, not_actionable"
bool paging_reason_valid(const char *reason);
const char *paging_reason_label(const char *reason); /* "false positive"; never NULL */

struct page_new {
  const char *kind;            /* "page" (default), "post" (an alert group in a channel), "test" */
  const char *group_key;       /* alert group; NULL by hand */
  const char *rota;            /* page the rota's on-call (with severity and policy) … */
  const char *severity;        /* a config severity name; NULL: none */
  const char *policy;          /* NULL: the severity's policy, if any */
  const struct person *person; /* … or one person */
  const char *user;            /* … or a platform user id that is no config person */
  const char *channel;         /* kind "post": where */
  const char *title;
  const char *summary;
  const char *labels; /* JSON object text */
  const char *runbook;
  const char *source; /* "alertmanager", "webhook", "manual", "test" */
  const char *created_by;
  int64_t started_at;
};

/* Create the page and notify (or hold it), schedule its escalation. */
int paging_create(struct cmd_ctx *ctx, const struct page_new *p, int64_t *id_out);
/* Bring every copy of the page up to date (the page's version has changed). */
int paging_refresh(struct cmd_ctx *ctx, int64_t page_id);
/* Acknowledge / resolve on behalf of `who` (person id or platform user id). KX_ESTATE when
 * the page is already acked (ack) or resolved; the reply says so. */
int paging_ack(struct cmd_ctx *ctx, int64_t page_id, const char *who, struct cmd_reply *reply);
int paging_resolve(struct cmd_ctx *ctx,
                   int64_t page_id,
                   const char *who,
                   const char *reason,
                   struct cmd_reply *reply);
/* Fire the escalation step `step` now (it must be the page's next step). */
int paging_escalate(
    struct cmd_ctx *ctx, int64_t page_id, int64_t step, const char *who, struct cmd_reply *reply);

/* Escalation arithmetic (pure). A policy of n steps repeated r times has n * (r + 1) steps;
 * step g is steps[g % n] of round g / n; a round lasts the last step's `after` plus the gap
 * before the last step (for a one-step policy: its `after`), at least a minute. */
int64_t paging_steps_total(const struct policy *p);
int64_t paging_round_ms(const struct policy *p);
int64_t paging_step_offset(const struct policy *p, int64_t g);
/* The policy a page escalates by: its own, else the implicit [primary, secondary, manager]
 * (by hand only) when it has a rota, else NULL. *automatic says whether steps are timed. */
const struct policy *paging_policy(struct cmd_ctx *ctx, const struct page_row *p, bool *automatic);

/* Internal to commands/paging*.c: notify the targets of step g (g < 0: the severity's first
 * targets); returns how many were notified or < 0. */
int paging_fire_step(struct cmd_ctx *ctx, const struct page_row *p, int64_t g, bool by_hand);
int paging_schedule_step(struct cmd_ctx *ctx, const struct page_row *p, int64_t g);
/* Notify the first targets, fire steps [first, upto) (those due at once) and schedule upto. */
int paging_start(struct cmd_ctx *ctx, const struct page_row *p, int64_t first, int64_t upto);
/* A copy of the page for one person outside the policy's steps (the manager brought in by a
 * missed resolve target, a shadow); step as recorded on the copy. */
int paging_notify(struct cmd_ctx *ctx,
                  const struct page_row *p,
                  const struct person *who,
                  int64_t step);
/* paging_targets.c: the severity's ack target (a page still open at anchor + ack escalates to
 * the next step at once, job "page:<id>:ack-target") and resolve target (a page acknowledged
 * and not resolved at created + resolve brings the manager in, "page:<id>:resolve-target"). */
#define PAGING_STEP_MANAGER_TARGET (-3) /* the step recorded on the manager's copy */
int paging_schedule_ack_target(struct cmd_ctx *ctx, const struct page_row *p);
int paging_schedule_resolve_target(struct cmd_ctx *ctx, int64_t page_id);
int paging_job_ack_target(struct cmd_ctx *ctx, const struct job *job);
int paging_job_resolve_target(struct cmd_ctx *ctx, const struct job *job);
/* paging_contact.c: an escalation step `contact:NAME` (someone outside the team, from the
 * config's contacts[]). Every way of reaching a contact starts here: today an email (when the
 * contact has one and smtp is set); calls and texts join here. Returns how many ways were
 * used (0: none could be) or < 0. */
int paging_notify_contact(struct cmd_ctx *ctx,
                          const struct page_row *p,
                          const struct outside_contact *contact,
                          int64_t step);
/* "who" for people: a person id, or a platform user id for someone not in the config. */
const char *paging_who(struct cmd_ctx *ctx, const struct cmd_request *req);
/* Append `who` as markup (a person mention or a user mention). */
int paging_md_who(struct buf *b, struct cmd_ctx *ctx, const char *who);

/* Table rows (registry.c). */
int paging_job_step(struct cmd_ctx *ctx, const struct job *job);
int paging_job_release(struct cmd_ctx *ctx, const struct job *job);
int paging_hook_posted(struct cmd_ctx *ctx,
                       const struct outbox_row *row,
                       const struct cmd_result *r);
int paging_hook_updated(struct cmd_ctx *ctx,
                        const struct outbox_row *row,
                        const struct cmd_result *r);
int paging_action_ack(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);
int paging_action_escalate(struct cmd_ctx *ctx,
                           const struct cmd_request *req,
                           struct cmd_reply *reply);
int paging_action_resolve(struct cmd_ctx *ctx,
                          const struct cmd_request *req,
                          struct cmd_reply *reply);
/* "Declare incident": an incident from the page (its title, severity, the alert's start as
 * the impact start), linked to the page; later acknowledgements go into its timeline. */
int paging_action_declare(struct cmd_ctx *ctx,
                          const struct cmd_request *req,
                          struct cmd_reply *reply);
int paging_action_reason(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         struct cmd_reply *reply);
int paging_cmd_page(struct cmd_ctx *ctx,
                    const struct cmd_request *req,
                    const struct cmd_args *args,
                    struct cmd_reply *reply);
int paging_cmd_test_page(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         const struct cmd_args *args,
                         struct cmd_reply *reply);
int paging_cmd_pages(struct cmd_ctx *ctx,
                     const struct cmd_request *req,
                     const struct cmd_args *args,
                     struct cmd_reply *reply);
int paging_cmd_escalate(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        const struct cmd_args *args,
                        struct cmd_reply *reply);
int paging_metrics(struct cmd_ctx *ctx, struct buf *out);

#endif
