/*
 * pages.h — pages (a person or a rota called for an alert or by hand), alert posts (a
 * channel message standing for a group of alerts) and every copy of them that was sent: a
 * DM to a person, a post in a channel, an email. A page moves open -> acked -> resolved (or
 * open -> resolved); `version` counts every change worth showing, so each copy can be
 * brought up to date with one chat.update (a copy remembers the version it shows and whether
 * an update of it is under way). Escalation progress is `next_step` (a global step index
 * across the policy's repeats) from `anchor_at`.
 *
 * At most one page is open per group_key (a partial unique index): a new page for a group
 * needs the old one resolved (pages_find_open() first). pages_add() of a second open page for a
 * group adds nothing and returns KX_EEXISTS with *id_out the open page: with several instances
 * another one may open it between the look and the add. Rows read out own their strings
 * (page_row_clear, page_copies_free). Errors: 0 or KX_E*; KX_ENOTFOUND for a missing row, KX_ESTATE
 * when a transition is not allowed from the page's state (acking a resolved page …).
 */
#ifndef KX_PAGES_H
#define KX_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

enum page_state { PAGE_OPEN = 0, PAGE_ACKED, PAGE_RESOLVED };

struct page_row {
  int64_t id;
  char *kind;      /* "page" | "post" (an alert group posted to a channel) | "test" */
  char *group_key; /* alert group, NULL for pages by hand */
  char *rota;
  char *policy;
  char *severity;
  char *title;
  char *summary;
  char *labels; /* JSON object text */
  char *runbook;
  char *source;     /* "alertmanager" | "webhook" | "manual" | "test" */
  char *channel;    /* kind "post": the channel */
  char *target;     /* a page to one person: the person id (or platform user id) */
  char *created_by; /* person id or platform user id; NULL for alerts */
  enum page_state state;
  int64_t version;
  int64_t created_at;
  int64_t started_at; /* the alert's startsAt (time to detect), 0 when unknown */
  int64_t anchor_at;  /* escalation steps count from here (creation, or release of a held page) */
  int64_t held_until; /* business-hours hold: 0 when not held */
  int64_t acked_at;
  char *acked_by;
  int64_t resolved_at;
  char *resolved_by;
  char *reason; /* fixed | false_positive | duplicate | not_actionable | alert_resolved */
  int64_t next_step;
  int64_t escalations;
  int64_t incident_id;
};

int pages_add(struct db *db, const struct page_row *p, int64_t *id_out);
int pages_get(struct db *db, int64_t id, struct page_row *out);
void page_row_clear(struct page_row *p);
/* The open (not resolved) page or post of a group. */
int pages_find_open(struct db *db, const char *group_key, int64_t *id_out);
/* Open pages (kind page/test), newest first, at most `limit`. */
int pages_list_open(struct db *db, size_t limit, struct page_row **out, size_t *n);
/* Pages (kind page) created in [from_ms, to_ms), oldest first, at most `limit` (the handoff
 * digest's "what paged overnight"). */
int pages_list_created(
    struct db *db, int64_t from_ms, int64_t to_ms, size_t limit, struct page_row **out, size_t *n);
void pages_free(struct page_row *rows, size_t n);

int pages_ack(struct db *db, int64_t id, const char *who, int64_t now_ms);
int pages_resolve(struct db *db, int64_t id, const char *who, const char *reason, int64_t now_ms);
int pages_set_reason(struct db *db, int64_t id, const char *reason);
int pages_bump(struct db *db, int64_t id); /* version + 1 */
int pages_set_step(struct db *db, int64_t id, int64_t next_step, bool escalated);
int pages_release(struct db *db, int64_t id, int64_t anchor_ms);
int pages_set_incident(struct db *db, int64_t id, int64_t incident_id);

/* ---- copies ---- */

struct page_copy {
  int64_t id;
  int64_t page_id;
  char *kind;    /* "dm" | "channel" | "email" */
  char *person;  /* person id (dm/email), NULL for channel copies */
  char *dest;    /* where it was sent: a user id, a channel id, an email address */
  int64_t step;  /* escalation step (global index); -1 for the first notification */
  char *channel; /* from the platform's answer (a DM's D… id) */
  char *ts;
  int64_t version;
  bool updating;
  bool after_hours;
  char *error;
  int64_t created_at;
};

struct page_copy_new {
  int64_t page_id;
  const char *kind;
  const char *person;
  const char *dest;
  int64_t step;
  int64_t version;
  bool after_hours;
  int64_t now_ms;
};

int page_copies_add(struct db *db, const struct page_copy_new *c, int64_t *id_out);
int page_copies_get(struct db *db, int64_t id, struct page_copy *out);
int page_copies_list(struct db *db, int64_t page_id, struct page_copy **out, size_t *n);
void page_copy_clear(struct page_copy *c);
void page_copies_free(struct page_copy *c, size_t n);
/* The message of a copy exists now: where and which version it shows. */
int page_copies_posted(
    struct db *db, int64_t id, const char *channel, const char *ts, int64_t version);
int page_copies_failed(struct db *db, int64_t id, const char *error);
int page_copies_updating(struct db *db, int64_t id, bool updating, int64_t version);
/* 1 when `person` already has a dm/email copy of the page, or an attempt to reach them (issue
 * 11), with step in [from, to], else 0. */
int page_copies_has_person(
    struct db *db, int64_t page_id, const char *person, int64_t from, int64_t to);

/* ---- numbers ---- */

struct page_stats {
  int64_t pages; /* kind page, created in the window */
  int64_t acked;
  int64_t ack_ms_sum;
  int64_t resolved;
  int64_t resolve_ms_sum;
  int64_t escalated;   /* pages with at least one escalation */
  int64_t escalations; /* escalation steps fired */
  int64_t with_reason; /* resolved with a reason given by a person */
  int64_t false_positive;
  int64_t held;     /* pages held for business hours */
  int64_t attempts; /* attempts to reach people (SMS, calls, push, DMs, email) for them */
};
int pages_stats(struct db *db, int64_t from_ms, int64_t to_ms, struct page_stats *out);

/* Notifications of people (dm/email copies of kind page), grouped by rota or by person. */
struct page_count {
  char *name; /* rota name or person id */
  int64_t total;
  int64_t after_hours;
};
enum page_count_by { PAGE_COUNT_ROTA = 0, PAGE_COUNT_PERSON };
int pages_count_by(struct db *db,
                   enum page_count_by by,
                   int64_t from_ms,
                   int64_t to_ms,
                   struct page_count **out,
                   size_t *n);
void page_counts_free(struct page_count *c, size_t n);

/* For /metrics: per rota, pages created/acked/resolved/escalated (all time). */
struct page_rota_totals {
  char *rota;
  int64_t created, acked, resolved, escalated;
};
int pages_rota_totals(struct db *db, struct page_rota_totals **out, size_t *n);
void page_rota_totals_free(struct page_rota_totals *t, size_t n);
/* Ack durations (ms) of every acked page, for the histogram; caller frees *out. */
int pages_ack_durations(struct db *db, int64_t **out, size_t *n);

/* ---- attempts (issue 11) ----
 * Every attempt to reach a person: one per (page, person, step, rule, method). States: queued
 * (written), sent (the provider took it), delivered (SMS delivered, DM posted, push accepted),
 * answered (a call picked up by a person), failed / undelivered / no-answer / busy / voicemail
 * / snoozed (Slack DND) / unreachable (no destination): a dead end, the next rule starts. */
struct page_attempt {
  int64_t id;
  int64_t page_id;
  char *person;    /* person id, or "contact:NAME" */
  int64_t step;    /* escalation step (-1: the page's first targets) */
  int rule;        /* index into the person's rules */
  char *via;       /* chat | email | push | sms | voice */
  char *dest;      /* user id, address, URL or phone number; NULL when there was none */
  int64_t copy_id; /* the page copy (chat, email), 0 when none */
  char *provider_id;
  char *state;
  char *error;
  int64_t created_at, updated_at, delivered_at, acked_at, link_used_at;
};

struct page_attempt_new {
  int64_t page_id;
  const char *person;
  int64_t step;
  int rule;
  const char *via;
  const char *dest;
  int64_t copy_id;
  const char *state;
  const char *error;
  int64_t now_ms;
};

/* KX_EEXISTS when this rule's method already fired for the person at this step. */
int page_attempts_add(struct db *db, const struct page_attempt_new *a, int64_t *id_out);
int page_attempts_get(struct db *db, int64_t id, struct page_attempt *out);
int page_attempts_by_copy(struct db *db, int64_t copy_id, struct page_attempt *out);
int page_attempts_list(struct db *db, int64_t page_id, struct page_attempt **out, size_t *n);
/* The person's newest attempt of each page that is not resolved, newest page first. */
int page_attempts_open_for(struct db *db, const char *person, struct page_attempt **out, size_t *n);
void page_attempt_clear(struct page_attempt *a);
void page_attempts_free(struct page_attempt *a, size_t n);
/* provider_id and error may be NULL (kept); "delivered"/"answered" stamp delivered_at once. */
int page_attempts_set_state(struct db *db,
                            int64_t id,
                            const char *state,
                            const char *provider_id,
                            const char *error,
                            int64_t now_ms);
int page_attempts_acked(struct db *db, int64_t id, int64_t now_ms);
/* An acknowledge link works once: KX_ESTATE when it was used before. */
int page_attempts_use_link(struct db *db, int64_t id, int64_t now_ms);
/* 1 when any method of `rule` already fired for the person at `step`, else 0. */
int page_attempts_fired(struct db *db, int64_t page_id, const char *person, int64_t step, int rule);

#endif
