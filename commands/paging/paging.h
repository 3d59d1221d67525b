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
  unsigned only_via; /* a test of one method (VIA_*) of `person`: no rules, no escalation */
};

/* Create the page and notify (or hold it), schedule its escalation. KX_EEXISTS, with *id_out
 * the group's open page and nothing done, when the group has one (another instance opened it). */
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
/* The page's messages (paging.c): a copy in a DM or channel (copy_out may be NULL); an email
 * (KX_ENOTFOUND when email is off); the page as plain text with an acknowledge link. */
int paging_post_copy(struct cmd_ctx *ctx,
                     const struct page_row *p,
                     const char *kind,
                     const char *person,
                     const char *dest,
                     int64_t step,
                     bool after_hours,
                     int64_t *copy_out);
struct paging_email_opts {
  bool after_hours;
  const char *ack_link;
  const char *hook, *ref;
  int64_t *copy_out;
};
int paging_email_copy(struct cmd_ctx *ctx,
                      const struct page_row *p,
                      const char *person,
                      const char *address,
                      int64_t step,
                      const struct paging_email_opts *o);
char *paging_plain_page(struct cmd_ctx *ctx, const struct page_row *p, const char *ack_link);
bool paging_after_hours(struct cmd_ctx *ctx, const struct page_row *p);

/* ---- reaching people (paging_notify.c, issue 11) ----
 * A person is reached by their own rules (people[].notify; default: chat, then email after
 * 5m): rule 0 at once, rule i as the job "page:<id>:notify:<person>:<step>:<i>" at the time
 * the person was first notified plus its `after`. Each method of a rule is an attempt
 * (storage/pages.h); an attempt that ends in a dead end (failed, undelivered, unanswered, DND,
 * nowhere to send) starts the next rule at once. Acknowledge and resolve cancel the jobs with
 * the page's other jobs. */
int paging_notify_person(struct cmd_ctx *ctx,
                         const struct page_row *p,
                         const struct person *who,
                         int64_t step);
/* One method only, as the person's rule 0 at `step`, nothing scheduled after it (a test, a
 * contact). */
int paging_notify_via(struct cmd_ctx *ctx,
                      const struct page_row *p,
                      const struct person *who,
                      int64_t step,
                      unsigned via);
/* The VIA_* bit of "chat", "email", "push", "sms", "voice" (also "call", "text"); 0 when none. */
unsigned paging_via_named(const char *name);
const char *paging_via_name(unsigned via);
/* SMS replies: "1"/"ack", "2"/"escalate", "3"/"resolve", each with an optional page number
 * ("ack 12", "ack #12"); *page 0 when none. 0 (SMS_NONE) for anything else. */
int paging_sms_parse(const char *body, long long *page);
/* /oncall notify [test METHOD]: your methods and rules, or a test page by one of them. */
int paging_cmd_notify(struct cmd_ctx *ctx,
                      const struct cmd_request *req,
                      const struct cmd_args *args,
                      struct cmd_reply *reply);
/* Record a new state of attempt `id` (a provider's status callback, a hook); a dead end starts
 * the person's next rule. provider_id and error may be NULL. */
int paging_attempt_update(
    struct cmd_ctx *ctx, int64_t id, const char *state, const char *provider_id, const char *error);
/* A one-time acknowledge link for attempt `id` (NULL without public_url or a feed secret). */
char *paging_ack_link(struct cmd_ctx *ctx, int64_t attempt_id);
/* "SMS delivered 03:02 · call answered 03:05 · acknowledged by voice" (NULL when none). */
char *paging_attempts_line(struct cmd_ctx *ctx, int64_t page_id);
int paging_job_notify(struct cmd_ctx *ctx, const struct job *job);
/* Declares klaxon_notifications_total and klaxon_page_delivery_seconds (idempotent). */
void paging_notify_metrics(void);
int paging_hook_attempt(struct cmd_ctx *ctx,
                        const struct outbox_row *row,
                        const struct cmd_result *r);
int paging_hook_dnd(struct cmd_ctx *ctx, const struct outbox_row *row, const struct cmd_result *r);
/* From the HTTP transport, the request already authenticated (payload: the form's fields as a
 * JSON object of strings, plus "attempt" from the query): answered with TwiML or HTML in
 * reply->text (reply->content_type, reply->http_status). paging_twilio.c, paging_links.c. */
int paging_action_twilio_sms(struct cmd_ctx *ctx,
                             const struct cmd_request *req,
                             struct cmd_reply *reply);
int paging_action_twilio_voice(struct cmd_ctx *ctx,
                               const struct cmd_request *req,
                               struct cmd_reply *reply);
int paging_action_twilio_status(struct cmd_ctx *ctx,
                                const struct cmd_request *req,
                                struct cmd_reply *reply);
int paging_action_link(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply);

/* Escalation steps `pagerduty:KEY_ENV` (paging_pagerduty.c, issue 14): trigger a PagerDuty
 * incident for the page (1 when triggered, 0 when this step already did); and follow the
 * page's acknowledge ("acknowledge") or resolve ("resolve") there, once per routing key. */
int paging_pd_step(struct cmd_ctx *ctx,
                   const struct page_row *p,
                   int64_t step,
                   const char *key_env);
int paging_pd_follow(struct cmd_ctx *ctx, int64_t page_id, const char *action);

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
 * contact has one and smtp is set), and a text and a call to their phone (twilio). Returns how many
 * ways were used (0: none could be) or < 0. */
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
