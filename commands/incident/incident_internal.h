/*
 * incident_internal.h — what the incident_*.c files share: loading the incident a request is
 * about, people as "who" strings, the summary message, the topic, announcements, stakeholder
 * notices, the timed jobs, and the handlers listed in commands/registry.c.
 * Not for other features: they use incident.h and storage/incidents.h.
 */
#ifndef KX_INCIDENT_INTERNAL_H
#define KX_INCIDENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commands/core/command.h"
#include "commands/core/msg.h"
#include "commands/incident/incident.h"
#include "commands/incident/incident_rows.h"
#include "storage/incidents.h"

/* A "who": a config person id, else the platform user id. buf >= 64. NULL when user is. */
const char *incident_who(
    struct cmd_ctx *ctx, enum cmd_platform platform, const char *user, char *buf, size_t size);
/* Mention a who in markup (<@p:alice> or <@u:U1>); "nobody" for NULL. */
int incident_md_who(struct buf *b, struct cmd_ctx *ctx, const char *who);
/* A display name for plain text ("Alice Doe", or the user id). Never NULL. */
const char *incident_who_name(struct cmd_ctx *ctx, const char *who);
/* The Slack user id behind a who, or NULL (caller frees). */
char *incident_who_slack(struct cmd_ctx *ctx, const char *who);
/* A person named in an argument ("me", @name, <@U1>, an id) as a who, or NULL. */
const char *incident_arg_who(
    struct cmd_ctx *ctx, const struct cmd_request *req, const char *arg, char *buf, size_t size);
int incident_unknown_person(struct cmd_reply *reply, const char *arg, const struct cmd_def *def);
/* What a user typed, as plain text (mentions by name, Slack's escapes undone). */
char *incident_typed(struct cmd_ctx *ctx,
                     const struct cmd_request *req,
                     const char *raw,
                     bool line);
int incident_too_long(struct cmd_reply *reply, const char *what, size_t max); /* KX_EINVAL */
/* Append the markup to the reply and free it. */
int incident_reply_markup(struct cmd_reply *reply, struct buf *b);

/* The incident a command in `req->channel` is about. KX_EINVAL with a sentence naming the
 * right channel(s) when the channel is not an incident's; `what` is the command ("sev"). */
int incident_current(struct cmd_ctx *ctx,
                     const struct cmd_request *req,
                     struct cmd_reply *reply,
                     const char *what,
                     struct incident *out);
/* A refusal unless the incident is open (not resolved, not closed). */
int incident_need_open(const struct incident *inc, struct cmd_reply *reply, const char *what);

/* Times for people: "2026-11-24 10:03 (UTC+01:00)" in the config's zone; buf >= 48. */
const char *incident_local_time(struct cmd_ctx *ctx, int64_t ms, char *buf, size_t size);
/* "#12" or "DRILL #12" prefixes and the channel as markup (<#C…> or the name). */
int incident_md_ref(struct buf *b, const struct incident *inc);
int incident_md_channel(struct buf *b, const struct incident *inc);

/* The summary message (fields, buttons) and the topic line. */
struct msg *incident_summary_msg(struct cmd_ctx *ctx, const struct incident *inc);
/* Bring the channel's topic and summary message up to date with the incident (re-read). */
int incident_refresh(struct cmd_ctx *ctx, int64_t id, bool topic);

/* Post markup in the incident's channel (nothing when it has none yet). `fallback` is plain. */
int incident_say(struct cmd_ctx *ctx,
                 const struct incident *inc,
                 struct buf *markup,
                 const char *fallback,
                 int priority);
/* Post to slack.announce_channel (and Teams) — the same markup. */
int incident_announce(struct cmd_ctx *ctx,
                      const struct incident *inc,
                      struct buf *markup,
                      const char *fallback);
/* Severities with stakeholders: true (and not a drill): the stakeholder channel and the
 * smtp.stakeholders addresses. `headline` and `detail` are plain text. */
int incident_stakeholders(struct cmd_ctx *ctx,
                          const struct incident *inc,
                          const char *headline,
                          const char *detail);
/* The announcement (and stakeholder notice) of a new incident, once. */
int incident_announce_new(struct cmd_ctx *ctx, const struct incident *inc);

/* Invite people (whos) into the incident's Slack channel; the Slack-less are skipped. */
int incident_invite(struct cmd_ctx *ctx,
                    const struct incident *inc,
                    const char *const *whos,
                    size_t n);
/* Who the severity pages now, from the incident's rota (primary, secondary as configured). */
/* incident_page.c: page the on-call the severity's `page:` names (issue 11). */
int incident_page_oncall(struct cmd_ctx *ctx, const struct incident *inc);
/* The incident acknowledged or resolved: so are the pages its declaration made. */
int incident_pages_follow(struct cmd_ctx *ctx, int64_t incident_id, const char *who, bool resolve);
size_t incident_paged(struct cmd_ctx *ctx,
                      const struct incident *inc,
                      const struct severity *sev,
                      char whos[][64],
                      size_t max);

/* Jobs: the status-update reminder and the resolve target follow the severity. */
int incident_schedule_update(struct cmd_ctx *ctx, const struct incident *inc, int64_t from_ms);
int incident_schedule_resolve_target(struct cmd_ctx *ctx, const struct incident *inc);
int incident_cancel_open_jobs(struct cmd_ctx *ctx, int64_t id);

/* The longest wait between two attempts to create a channel Slack refused. */
#define INCIDENT_CHANNEL_RETRY_MAX_MS (30LL * 60 * 1000)
/* Postmortem reminders after the first: daily. */
#define INCIDENT_POSTMORTEM_REPEAT_MS (24LL * 60 * 60 * 1000)
/* `/incident timeline` shows this many entries. */
#define INCIDENT_TIMELINE_SHOWN 15
/* The longest action item (bytes). */
#define INCIDENT_ACTION_MAX ((size_t)INCIDENT_TITLE_MAX * 2)
/* issue 14: reminders of an overdue action item, one a day after the due day */
#define INCIDENT_ACTION_OVERDUE_MAX 3

/* Action items (incident_items.c, incident_due.c, issue 14). */
int incident_action_mark_done(struct cmd_ctx *ctx,
                              const struct incident *inc,
                              long long number,
                              const char *me,
                              struct cmd_reply *reply);
/* Item `number`'s due date from `--due` (typed, may be NULL) or the severity's action_due, and
 * its first reminder job; `shown` gets "2026-12-10" or "" when there is none. KX_EINVAL with a
 * sentence in reply for a bad date. */
int incident_action_set_due(struct cmd_ctx *ctx,
                            const struct incident *inc,
                            int64_t number,
                            const char *owner,
                            const char *typed,
                            char *shown,
                            size_t shown_size,
                            struct cmd_reply *reply);

/* A tracker issue for a new action item when the incident's rota has `tracker:` (issue 14). */
int incident_tracker_open(struct cmd_ctx *ctx,
                          const struct incident *inc,
                          int64_t number,
                          const char *owner,
                          const char *text,
                          const char *due);

/* incident_archive.c (issue 14): incident.archive_after. Closing schedules the archive
 * (once per incident); reopening cancels it. */
int incident_schedule_archive(struct cmd_ctx *ctx, const struct incident *inc);
int incident_cancel_archive(struct cmd_ctx *ctx, int64_t id);

/* incident_review.c (issue 14): resolving a severity with review_within emails the review
 * invitation (iCalendar) to the commander, the roles and the participants. */
int incident_review_invite(struct cmd_ctx *ctx, const struct incident *inc);

/* postmortem_export.c (issue 14): the postmortem to Confluence and/or a webhook. `said` (may be
 * NULL) gets a sentence about what was sent. */
bool postmortem_export_configured(const struct config *c);
int postmortem_export(struct cmd_ctx *ctx, const struct incident *inc, struct buf *said);
int incident_cmd_postmortem_export(struct cmd_ctx *ctx,
                                   const struct incident *inc,
                                   struct cmd_reply *reply);

#endif
