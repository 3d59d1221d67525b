/*
 * incident.h — the incident lifecycle, platform-neutral: declare (a record, a channel named
 * incident-YYYYMMDD in the config's zone, invites, topic, the summary with buttons, the
 * announcement and the stakeholder notices), roles, the timeline, status updates and their
 * reminders, the manager brought in when the resolve target passes, resolve/reopen/close, the
 * postmortem and its reminders, action items and drills. docs/incidents.md is the user's view.
 *
 * The slash commands, buttons, modal, channel events, jobs and outbox hooks are rows in
 * commands/registry.c; the functions here are what other features call:
 *   - the paging feature's "Declare incident" button and the Teams transport call
 *     incident_declare();
 *   - pages, acknowledgements and escalations are added to a timeline with
 *     incident_timeline_add();
 *   - the Teams transport, having started the incident's Teams thread, hands its conversation
 *     id to incident_attach_channel(): from then on the incident "talks" there (out_post routes
 *     Teams ids to Teams).
 * Every function runs inside the caller's transaction (a handler's, a job's or a hook's) and
 * writes only the database and the outbox. Returns 0, KX_EINVAL/KX_ENOTFOUND/KX_ESTATE with a
 * sentence in the reply for a refusal, or another negative KX_E* code.
 */
#ifndef KX_INCIDENT_H
#define KX_INCIDENT_H

#include <stdbool.h>
#include <stdint.h>

#include "commands/core/command.h"

/* Caps on what people type (bytes of plain text). */
#define INCIDENT_TITLE_MAX 200
#define INCIDENT_TEXT_MAX 3000
/* The same person declaring the same title again within this window gets the first incident
 * back (a repeated command, a double submit), not a second one. */
#define INCIDENT_REPEAT_WINDOW_MS (10LL * 60 * 1000)

struct incident_new {
  const char *title;              /* plain text (not markup); required */
  const char *severity;           /* a configured name (any case); NULL: default_severity */
  const char *description;        /* plain text, may be NULL */
  const char *declared_by_person; /* config person id, may be NULL */
  const char *declared_by_user;   /* platform user id, may be NULL */
  enum cmd_platform platform;     /* SLACK (and HTTP/TIMER/CLI): a Slack channel is created;
                                     TEAMS: the Teams transport attaches its thread */
  const char *origin_channel;     /* where it was declared, may be NULL */
  bool drill;
  int64_t impact_start_ms; /* 0: none (the declaration); an alert's startsAt otherwise */
  int64_t alert_id;        /* 0: none */
  const char *rota;        /* whose on-call is invited; NULL: the first rota of the config */
  bool from_page;          /* declared from a page: that page is the on-call's, no second one */
};

/* Declare an incident. The reply tells the declarer what happened (or why not). A repeat of
 * the same declaration (INCIDENT_REPEAT_WINDOW_MS) returns the existing id and changes
 * nothing. *id_out (may be NULL) gets the incident's id. */
int incident_declare(struct cmd_ctx *ctx,
                     const struct incident_new *n,
                     int64_t *id_out,
                     struct cmd_reply *reply);

/* Add an entry to an incident's timeline. `kind` is a short word ("page", "ack",
 * "escalation", "note" …), `who` a config person id or platform user id (NULL: klaxon),
 * `text` plain text, `at_ms` when it happened, `key` for a key event (leads the postmortem).
 * KX_ENOTFOUND for an unknown incident. */
int incident_timeline_add(struct cmd_ctx *ctx,
                          int64_t incident_id,
                          const char *kind,
                          const char *who,
                          const char *text,
                          int64_t at_ms,
                          bool key);

/* The incident's conversation exists (a Teams thread): remember it and post the summary there.
 * KX_EEXISTS when the incident already has a channel. */
int incident_attach_channel(struct cmd_ctx *ctx,
                            int64_t incident_id,
                            const char *channel,
                            const char *name);

/* The open incident talking in `channel`, or 0. */
int64_t incident_in_channel(struct cmd_ctx *ctx, const char *channel);

#endif
