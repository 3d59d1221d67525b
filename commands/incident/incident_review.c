/*
 * incident_review.c — the blameless review meeting (issue 14). Resolving an incident whose
 * severity has `review_within: 2d` emails an iCalendar invitation (RFC 5545/5546: METHOD:REQUEST,
 * one VEVENT, 30 minutes, UID stable per incident) to the commander, the roles and everyone
 * who spoke in the channel (the timeline), each through the outbox as a multipart email whose
 * calendar part is `text/calendar; method=REQUEST`. The meeting is the first half-hour at least
 * an hour after the resolution that lies wholly in the business hours of the incident's rota
 * (or the first rota) and ends within the window; escaping and folding are ical.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/links.h"
#include "commands/core/out.h"
#include "commands/incident/incident_internal.h"
#include "commands/oncall/ical.h"
#include "commands/oncall/rota.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/incident_timeline.h"

#define REVIEW_MS (30 * 60 * 1000LL)
#define REVIEW_LEAD_MS (60 * 60 * 1000LL) /* not sooner than an hour after the resolution */
#define REVIEW_MAX_ATTENDEES 64

#ifndef KLAXON_VERSION
#define KLAXON_VERSION "0"
#endif

/* The first 30-minute slot (on :00 or :30) from `from` wholly inside business hours; 0 and *out,
 * or KX_ENOTFOUND when none starts before `until`. */
static int review_slot(const struct rota *r, int64_t from, int64_t until, int64_t *out)
{
  int64_t t = (from + REVIEW_MS - 1) / REVIEW_MS * REVIEW_MS;
  for (int i = 0; i < 4 * 48 * 30 && t + REVIEW_MS <= until; i++) {
    int64_t s;
    if (rota_next_business_start(r, t, &s) != 0)
      return KX_ENOTFOUND;
    s = (s + REVIEW_MS - 1) / REVIEW_MS * REVIEW_MS;
    if (s + REVIEW_MS > until)
      return KX_ENOTFOUND;
    if (rota_in_business_hours(r, s) && rota_in_business_hours(r, s + REVIEW_MS - 60000)) {
      *out = s;
      return 0;
    }
    t = s + REVIEW_MS;
  }
  return KX_ENOTFOUND;
}

static const struct person *person_of(struct cmd_ctx *ctx, const char *who)
{
  if (!who)
    return NULL;
  const struct person *p = config_person(ctx->config, who);
  if (!p)
    p = config_person_by_slack(ctx->config, who);
  if (!p)
    p = config_person_by_teams(ctx->config, who);
  return p && p->email ? p : NULL;
}

static void add_person(const struct person **list, size_t *n, const struct person *p)
{
  if (!p || *n >= REVIEW_MAX_ATTENDEES)
    return;
  for (size_t i = 0; i < *n; i++)
    if (list[i] == p)
      return;
  list[(*n)++] = p;
}

/* A parameter value (CN): quoted, without DQUOTE or control characters (RFC 5545 3.2). */
static int put_param(struct buf *b, const char *s)
{
  int rc = buf_puts(b, "\"");
  for (const unsigned char *p = (const unsigned char *)s; rc == 0 && *p; p++)
    if (*p != '"' && *p >= 0x20 && *p != 0x7F)
      rc = buf_append(b, p, 1);
  return rc ? rc : buf_puts(b, "\"");
}

/* One property: NAME[params]:value, folded. `text` is escaped as TEXT; `raw` is written as is. */
static int prop(
    struct buf *out, struct buf *line, const char *name, const char *text, const char *raw)
{
  buf_reset(line);
  int rc = buf_printf(line, "%s:", name);
  if (rc == 0)
    rc = text ? ical_escape_text(line, text) : buf_puts(line, raw ? raw : "");
  return rc ? rc : ical_put_line(out, line->data, line->len);
}

static int attendee(struct buf *out, struct buf *line, const struct person *p)
{
  buf_reset(line);
  int rc = buf_puts(line, "ATTENDEE;CN=");
  if (rc == 0)
    rc = put_param(line, p->name ? p->name : p->id);
  if (rc == 0)
    rc = buf_printf(line, ";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:%s",
                    p->email);
  return rc ? rc : ical_put_line(out, line->data, line->len);
}

/* How many times it was resolved before this one: a later invitation (after a reopen) is the
 * same event (UID) with the next SEQUENCE, so calendars move it instead of adding another. */
static int sequence(struct cmd_ctx *ctx, int64_t id)
{
  struct timeline_entry *t = NULL;
  size_t n = 0, resolved = 0;
  if (timeline_list(ctx->db, id, TIMELINE_KEY_ONLY, 0, &t, &n) != 0)
    return 0;
  for (size_t i = 0; i < n; i++)
    resolved += strcmp(t[i].kind, "resolved") == 0;
  timeline_free(t, n);
  return resolved > 1 ? (int)resolved - 1 : 0;
}

static int render_ics(struct cmd_ctx *ctx,
                      const struct incident *inc,
                      int64_t start,
                      const struct person **who,
                      size_t n,
                      struct buf *out)
{
  char t0[20], t1[20], stamp[20], uid[96];
  struct buf line, text;
  buf_init(&line, ICAL_LINE_MAX);
  buf_init(&text, ICAL_LINE_MAX);
  snprintf(uid, sizeof(uid), "klaxon-incident-%lld-review@klaxon", (long long)inc->id);
  int rc =
      buf_puts(out, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//klaxon//klaxon " KLAXON_VERSION
                    "//EN\r\nCALSCALE:GREGORIAN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n");
  if (rc == 0)
    rc = prop(out, &line, "UID", NULL, uid);
  if (rc == 0)
    rc = prop(out, &line, "DTSTAMP", NULL, ical_format_utc(ctx->now_ms, stamp, sizeof(stamp)));
  if (rc == 0)
    rc = prop(out, &line, "DTSTART", NULL, ical_format_utc(start, t0, sizeof(t0)));
  if (rc == 0)
    rc = prop(out, &line, "DTEND", NULL, ical_format_utc(start + REVIEW_MS, t1, sizeof(t1)));
  if (rc == 0)
    rc = buf_printf(&text, "Blameless review: %s", inc->title);
  if (rc == 0)
    rc = prop(out, &line, "SUMMARY", text.data, NULL);
  buf_reset(&text);
  char path[64];
  snprintf(path, sizeof(path), "/incidents/%lld/postmortem.md", (long long)inc->id);
  char *draft = links_feed_url(ctx, path);
  if (rc == 0)
    rc = buf_printf(&text,
                    "A blameless review of incident #%lld (%s): %s\n%s%s\nThe postmortem draft: "
                    "%s",
                    (long long)inc->id, inc->severity, inc->title,
                    inc->resolution ? "Resolved: " : "", inc->resolution ? inc->resolution : "",
                    draft ? draft : "");
  free(draft);
  if (rc == 0)
    rc = prop(out, &line, "DESCRIPTION", text.data, NULL);
  if (rc == 0) {
    buf_reset(&line);
    rc = buf_printf(&line, "ORGANIZER;CN=klaxon:mailto:%s", ctx->config->smtp.from);
    rc = rc ? rc : ical_put_line(out, line.data, line.len);
  }
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = attendee(out, &line, who[i]);
  if (rc == 0)
    rc = buf_printf(out,
                    "SEQUENCE:%d\r\nSTATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n"
                    "END:VCALENDAR\r\n",
                    sequence(ctx, inc->id));
  buf_free(&line);
  buf_free(&text);
  return rc;
}

int incident_review_invite(struct cmd_ctx *ctx, const struct incident *inc)
{
  const struct severity *sev = config_severity(ctx->config, inc->severity);
  const struct rota *r = inc->rota ? config_rota(ctx->config, inc->rota) : NULL;
  if (!r && ctx->config->n_rotas)
    r = &ctx->config->rotas[0];
  if (!sev || sev->review_within_ms <= 0 || !r || !ctx->config->smtp.url || !ctx->config->smtp.from)
    return 0;
  int64_t start = 0;
  if (review_slot(r, ctx->now_ms + REVIEW_LEAD_MS, ctx->now_ms + sev->review_within_ms, &start)) {
    LOG_WARN("incident", "review_no_slot", "id=%lld rota=%s", (long long)inc->id, r->name);
    struct buf b;
    md_init(&b);
    md_raw(&b,
           ":calendar: No business hours of the rota fall within the review window, so "
           "no review meeting was booked; plan it by hand.");
    return incident_say(ctx, inc, &b, "No review meeting booked", OUTBOX_BULK);
  }
  const struct person *who[REVIEW_MAX_ATTENDEES];
  size_t n = 0;
  add_person(who, &n, person_of(ctx, inc->roles[INCIDENT_ROLE_COMMANDER]));
  for (int i = 0; i < INCIDENT_N_ROLES; i++)
    add_person(who, &n, person_of(ctx, inc->roles[i]));
  char **people = NULL;
  size_t np = 0;
  int rc = timeline_people(ctx->db, inc->id, &people, &np);
  if (rc)
    return rc;
  for (size_t i = 0; i < np; i++)
    add_person(who, &n, person_of(ctx, people[i]));
  timeline_people_free(people, np);
  if (n == 0)
    return 0;
  struct buf ics;
  buf_init(&ics, 256 * 1024);
  rc = render_ics(ctx, inc, start, who, n, &ics);
  char when[48];
  incident_local_time(ctx, start, when, sizeof(when));
  char *subject = kx_asprintf("Invitation: Blameless review: %s", inc->title);
  char *text = kx_asprintf(
      "A 30-minute blameless review of incident #%lld (%s) %s, at %s.\n"
      "The invitation is attached; accept it in your calendar.\n",
      (long long)inc->id, inc->severity, inc->title, when);
  if (rc == 0 && (!subject || !text))
    rc = KX_ENOMEM;
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = out_email_attach(ctx, who[i]->email, subject, text, "invite.ics",
                          "text/calendar; method=REQUEST", ics.data, OUTBOX_BULK);
  free(subject);
  free(text);
  buf_free(&ics);
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_printf(&b,
              ":calendar: A 30-minute blameless review is booked for %s; the invitation "
              "went by email to ",
              when);
    for (size_t i = 0; i < n; i++) {
      md_raw(&b, i == 0 ? "" : i + 1 == n ? " and " : ", ");
      md_text(&b, who[i]->name ? who[i]->name : who[i]->id);
    }
    md_raw(&b, ".");
    rc = incident_say(ctx, inc, &b, "Review meeting booked", OUTBOX_BULK);
  }
  LOG_INFO("incident", "review_invited", "id=%lld attendees=%zu rc=%s", (long long)inc->id, n,
           kx_err_name(rc));
  return rc;
}
