/*
 * handoff_checklist.c — working days and the times derived from them, and the sections of the
 * handoff checklist and the daily digest (notes, incidents, action items, what is coming up,
 * the numbers, what paged). Each section appends markup, or nothing when it has nothing to
 * say.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "commands/handoff/handoff.h"
#include "commands/oncall/oncall_cmd.h"
#include "commands/paging/paging.h"
#include "lib/kx.h"
#include "lib/timeutil.h"
#include "storage/incident_actions.h"
#include "storage/incidents.h"
#include "storage/pages.h"
#include "storage/rota_changes.h"

/* ---- working days ---------------------------------------------------------------------------- */

bool handoff_working_day(const struct rota *r, struct kx_date d)
{
  int days = r->has_hours ? r->hours_days : 0x3e; /* Monday to Friday */
  return (days & (1 << date_weekday(d))) != 0 && rota_is_holiday(r, d) == 0;
}

static int at_handoff_time(const struct rota *r, struct kx_date d, int64_t *at)
{
  return tz_from_local(rota_zone(r), d.y, d.m, d.d, r->handoff_minute / 60, r->handoff_minute % 60,
                       0, at);
}

static int local_date(const struct rota *r, int64_t ms, struct kx_date *d)
{
  struct kx_local l;
  int rc = tz_to_local(rota_zone(r), ms, &l);
  if (rc == 0)
    *d = (struct kx_date){l.y, l.m, l.d};
  return rc;
}

int handoff_next_digest(const struct rota *r, int64_t after_ms, int64_t *at, struct kx_date *day)
{
  struct kx_date d;
  int rc = local_date(r, after_ms, &d);
  for (int i = 0; rc == 0 && i <= HANDOFF_SCAN_DAYS; i++, d = date_add_days(d, 1)) {
    if (!handoff_working_day(r, d))
      continue;
    int64_t t;
    rc = at_handoff_time(r, d, &t);
    if (rc == 0 && t > after_ms) {
      *at = t;
      if (day)
        *day = d;
      return 0;
    }
  }
  return rc ? rc : KX_ENOTFOUND;
}

int handoff_prev_digest(const struct rota *r, int64_t before_ms, int64_t *at)
{
  struct kx_date d;
  int rc = local_date(r, before_ms, &d);
  for (int i = 0; rc == 0 && i <= HANDOFF_SCAN_DAYS; i++, d = date_add_days(d, -1)) {
    if (!handoff_working_day(r, d))
      continue;
    int64_t t;
    rc = at_handoff_time(r, d, &t);
    if (rc == 0 && t < before_ms) {
      *at = t;
      return 0;
    }
  }
  return rc ? rc : KX_ENOTFOUND;
}

int handoff_reminder_at(const struct rota *r, int64_t start_ms, int64_t *at)
{
  struct kx_date d;
  int rc = local_date(r, start_ms, &d);
  if (rc)
    return rc;
  /* The start date's midnight: "before the shift" means an earlier day. */
  int64_t midnight;
  rc = tz_from_local(rota_zone(r), d.y, d.m, d.d, 0, 0, 0, &midnight);
  return rc ? rc : handoff_prev_digest(r, midnight, at);
}

/* ---- sections ---------------------------------------------------------------------------------
 */

static void more_line(struct buf *b, size_t shown, size_t total)
{
  if (total > shown)
    md_printf(b, "• … and %zu more\n", total - shown);
}

static int handoff_section_notes(struct cmd_ctx *ctx,
                                 const struct note *notes,
                                 size_t n,
                                 struct buf *b)
{
  if (n == 0)
    return 0;
  md_raw(b, "*Notes and maintenance*\n");
  size_t shown = n < HANDOFF_LIST_MAX ? n : HANDOFF_LIST_MAX;
  for (size_t i = 0; i < shown; i++) {
    md_raw(b, "• ");
    md_textn(b, notes[i].text, HANDOFF_NOTE_MAX);
    md_raw(b, " — ");
    if (notes[i].author && config_person(ctx->config, notes[i].author))
      md_person(b, notes[i].author);
    else if (notes[i].author)
      md_user(b, notes[i].author);
    md_raw(b, "\n");
  }
  more_line(b, shown, n);
  return 0;
}

/* Incidents concern a rota when they name it, or name none (company-wide). */
static bool concerns(const struct rota *r, const char *rota)
{
  return !rota || strcmp(rota, r->name) == 0;
}

int handoff_section_incidents(struct cmd_ctx *ctx, const struct rota *r, struct buf *b)
{
  struct incident *list = NULL;
  size_t n = 0;
  int rc = incidents_list(ctx->db, INCIDENTS_OPEN, 0, 0, &list, &n);
  if (rc)
    return rc;
  size_t total = 0, shown = 0;
  for (size_t i = 0; i < n; i++)
    total += concerns(r, list[i].rota);
  if (total)
    md_raw(b, "*Open incidents*\n");
  char t[40];
  for (size_t i = 0; i < n && shown < HANDOFF_LIST_MAX; i++) {
    const struct incident *x = &list[i];
    if (!concerns(r, x->rota))
      continue;
    md_printf(b, "• #%lld ", (long long)x->id);
    md_bold(b, x->severity ? x->severity : "?");
    md_raw(b, " ");
    md_textn(b, x->title ? x->title : "", 200);
    md_raw(b, " — ");
    md_text(b, x->status ? x->status : "open");
    md_printf(b, " since %s", oncall_fmt_time(r, x->declared_at, t, sizeof(t)));
    if (x->channel && !out_is_teams(x->channel)) {
      md_raw(b, ", ");
      md_channel(b, x->channel);
    }
    if (x->drill)
      md_raw(b, " _(drill)_");
    md_raw(b, "\n");
    shown++;
  }
  more_line(b, shown, total);
  incidents_free(list, n);
  return 0;
}

/* One item's line: "• #1.2 text — owner (incident)". */
static void action_line(struct cmd_ctx *ctx, const struct incident_action *a, struct buf *b)
{
  md_printf(b, "• #%lld.%lld ", (long long)a->incident_id, (long long)a->number);
  md_textn(b, a->text ? a->text : "", 200);
  md_raw(b, " — ");
  if (a->owner && config_person(ctx->config, a->owner))
    md_person(b, a->owner);
  else if (a->owner)
    md_user(b, a->owner);
  else
    md_raw(b, "_no owner_");
  md_raw(b, " (");
  md_textn(b, a->incident_title ? a->incident_title : "incident", 100);
  md_raw(b, ")");
  if (a->due_date && a->due_at > ctx->now_ms)
    md_printf(b, " _due %s_", a->due_date);
  else if (a->due_date)
    md_printf(b, " *due %s*", a->due_date);
  md_raw(b, "\n");
}

int handoff_section_actions(struct cmd_ctx *ctx,
                            const struct rota *r,
                            const char *owner,
                            struct buf *b)
{
  (void)r;
  struct incident_action *items = NULL;
  size_t n = 0;
  int rc = incident_actions_list(ctx->db, 0, true, &items, &n);
  if (rc)
    return rc;
  /* Overdue items first, in their own list (issue 14), then the other open ones. */
  for (int overdue = 1; overdue >= 0; overdue--) {
    size_t total = 0, shown = 0;
    for (size_t i = 0; i < n; i++) {
      const struct incident_action *a = &items[i];
      bool late = a->due_at > 0 && a->due_at <= ctx->now_ms;
      total += !a->incident_drill && (!owner || kx_streq(a->owner, owner)) && late == overdue;
    }
    if (total && overdue)
      md_raw(b, owner ? "*Your overdue action items*\n" : "*Overdue action items*\n");
    else if (total)
      md_raw(b, owner ? "*Your open action items*\n" : "*Open action items*\n");
    for (size_t i = 0; i < n && shown < HANDOFF_LIST_MAX; i++) {
      const struct incident_action *a = &items[i];
      bool late = a->due_at > 0 && a->due_at <= ctx->now_ms;
      if (a->incident_drill || (owner && !kx_streq(a->owner, owner)) || late != overdue)
        continue;
      action_line(ctx, a, b);
      shown++;
    }
    more_line(b, shown, total);
  }
  incident_actions_free(items, n);
  return 0;
}

int handoff_section_overdue(struct cmd_ctx *ctx, struct buf *b)
{
  struct incident_action *items = NULL;
  size_t n = 0;
  int rc = incident_actions_list(ctx->db, 0, true, &items, &n);
  if (rc)
    return rc;
  size_t total = 0, shown = 0;
  for (size_t i = 0; i < n; i++) {
    const struct incident_action *a = &items[i];
    if (a->incident_drill || a->due_at <= 0 || a->due_at > ctx->now_ms)
      continue;
    total++;
    if (shown < HANDOFF_LIST_MAX) {
      action_line(ctx, a, b);
      shown++;
    }
  }
  more_line(b, shown, total);
  incident_actions_free(items, n);
  return (int)(total > INT32_MAX ? INT32_MAX : total);
}

/* Incidents of the rota (or company-wide) declared in [from, to), drills left out, by
 * severity in the config's order. */
static int incidents_by_severity(
    struct cmd_ctx *ctx, const struct rota *r, int64_t from_ms, int64_t to_ms, struct buf *b)
{
  struct incident *list = NULL;
  size_t n = 0;
  int rc = incidents_list(ctx->db, INCIDENTS_NO_DRILLS, from_ms, to_ms, &list, &n);
  if (rc)
    return rc;
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += concerns(r, list[i].rota);
  md_printf(b, "• Incidents: %zu", total);
  const struct config *c = ctx->config;
  bool first = true;
  for (size_t s = 0; total && s < c->n_severities; s++) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
      k += concerns(r, list[i].rota) && list[i].severity &&
           strcasecmp(list[i].severity, c->severities[s].name) == 0;
    if (!k)
      continue;
    md_raw(b, first ? " (" : ", ");
    md_text(b, c->severities[s].name);
    md_printf(b, " %zu", k);
    first = false;
  }
  md_raw(b, first ? "\n" : ")\n");
  incidents_free(list, n);
  return 0;
}

static int handoff_section_upcoming(
    struct cmd_ctx *ctx, const struct rota *r, int64_t from_ms, int64_t to_ms, struct buf *b)
{
  struct rota_change_row *rows = NULL;
  size_t n = 0;
  int rc = rota_changes_load(ctx->db, r->name, from_ms, ROTA_MAX_CHANGES, &rows, &n);
  if (rc)
    return rc;
  char t1[40], t2[40];
  size_t shown = 0, total = 0;
  struct kx_date d0, d1;
  bool dates = local_date(r, from_ms, &d0) == 0 && local_date(r, to_ms - 1, &d1) == 0;
  for (size_t i = 0; i < n; i++)
    total += rows[i].from_ms < to_ms;
  for (size_t i = 0; dates && i < r->n_holidays; i++)
    total += date_cmp(r->holidays[i], d0) >= 0 && date_cmp(r->holidays[i], d1) <= 0;
  if (total)
    md_raw(b, "*Coming up this shift*\n");
  for (size_t i = 0; i < n && shown < HANDOFF_LIST_MAX; i++) {
    const struct rota_change_row *c = &rows[i];
    if (c->from_ms >= to_ms)
      continue;
    md_raw(b, "• ");
    md_person(b, c->person);
    if (c->kind == ROTA_CHANGE_ABSENCE)
      md_raw(b, " is away");
    else
      md_printf(b, " holds %s", c->secondary ? "secondary" : "primary");
    md_printf(b, " %s → %s (#%lld)\n", oncall_fmt_time(r, c->from_ms, t1, sizeof(t1)),
              oncall_fmt_time(r, c->to_ms, t2, sizeof(t2)), (long long)c->id);
    shown++;
  }
  for (size_t i = 0; dates && i < r->n_holidays && shown < HANDOFF_LIST_MAX; i++) {
    struct kx_date h = r->holidays[i];
    if (date_cmp(h, d0) < 0 || date_cmp(h, d1) > 0)
      continue;
    md_printf(b, "• Holiday: %04d-%02d-%02d\n", h.y, h.m, h.d);
    shown++;
  }
  more_line(b, shown, total);
  rota_change_rows_free(rows, n);
  return 0;
}

/* Pages of the rota, or paged to `person`, created in [from, to). */
static int rota_pages(struct cmd_ctx *ctx,
                      const struct rota *r,
                      const char *person,
                      int64_t from_ms,
                      int64_t to_ms,
                      struct page_row **out,
                      size_t *n)
{
  int rc = pages_list_created(ctx->db, from_ms, to_ms, 10000, out, n);
  if (rc)
    return rc;
  size_t kept = 0;
  for (size_t i = 0; i < *n; i++) {
    struct page_row *p = &(*out)[i];
    bool mine = (p->rota && strcmp(p->rota, r->name) == 0) ||
                (!p->rota && person && p->target && strcmp(p->target, person) == 0);
    if (mine)
      (*out)[kept++] = *p;
    else
      page_row_clear(p);
  }
  *n = kept;
  return 0;
}

static int handoff_section_numbers(
    struct cmd_ctx *ctx, const struct rota *r, int64_t from_ms, int64_t to_ms, struct buf *b)
{
  struct page_row *pages = NULL;
  size_t n = 0;
  int rc = rota_pages(ctx, r, NULL, from_ms, to_ms, &pages, &n);
  if (rc)
    return rc;
  int64_t acked = 0, ack_sum = 0, escalated = 0, open = 0;
  for (size_t i = 0; i < n; i++) {
    if (pages[i].acked_at) {
      acked++;
      ack_sum += pages[i].acked_at - pages[i].created_at;
    }
    escalated += pages[i].escalations > 0;
    open += pages[i].state != PAGE_RESOLVED;
  }
  char t1[40], t2[40], d[32];
  md_printf(b, "*Last shift's numbers* (%s → %s)\n", oncall_fmt_time(r, from_ms, t1, sizeof(t1)),
            oncall_fmt_time(r, to_ms, t2, sizeof(t2)));
  md_printf(b, "• Pages: %zu", n);
  if (n) {
    md_printf(b, " (%lld acknowledged, %lld escalated, %lld still open)", (long long)acked,
              (long long)escalated, (long long)open);
  }
  md_raw(b, "\n");
  if (acked)
    md_printf(b, "• Mean time to acknowledge: %s\n",
              time_format_duration(ack_sum / acked, d, sizeof(d)));
  pages_free(pages, n);
  return incidents_by_severity(ctx, r, from_ms, to_ms, b);
}

static void page_line(struct cmd_ctx *ctx,
                      const struct rota *r,
                      const struct page_row *p,
                      struct buf *b)
{
  char t[40], d[32];
  md_printf(b, "• %s ", oncall_fmt_time(r, p->created_at, t, sizeof(t)));
  md_textn(b, p->title ? p->title : "(no title)", 200);
  if (p->severity) {
    md_raw(b, " (");
    md_text(b, p->severity);
    md_raw(b, ")");
  }
  md_raw(b, " — ");
  if (p->state == PAGE_OPEN) {
    md_raw(b, "*not acknowledged*");
  } else if (p->acked_at) {
    md_raw(b, "acknowledged by ");
    paging_md_who(b, ctx, p->acked_by);
    md_printf(b, " after %s", time_format_duration(p->acked_at - p->created_at, d, sizeof(d)));
  } else {
    md_raw(b, "resolved");
  }
  if (p->state == PAGE_RESOLVED && p->acked_at)
    md_raw(b, ", resolved");
  md_raw(b, "\n");
}

int handoff_section_pages(struct cmd_ctx *ctx,
                          const struct rota *r,
                          const char *person,
                          int64_t from_ms,
                          int64_t to_ms,
                          struct buf *b)
{
  struct page_row *pages = NULL;
  size_t n = 0;
  int rc = rota_pages(ctx, r, person, from_ms, to_ms, &pages, &n);
  if (rc)
    return rc;
  char t[40];
  md_printf(b, "*Paged since %s*\n", oncall_fmt_time(r, from_ms, t, sizeof(t)));
  if (n == 0)
    md_raw(b, "• nothing :sleeping:\n");
  size_t shown = n < HANDOFF_LIST_MAX ? n : HANDOFF_LIST_MAX;
  for (size_t i = 0; i < shown; i++)
    page_line(ctx, r, &pages[i], b);
  more_line(b, shown, n);
  pages_free(pages, n);
  return 0;
}

/* The start of the last non-skipped shift before shift k, or -1. */
static int64_t previous_start(const struct rota *r, int64_t k)
{
  for (int64_t j = k - 1; j >= 0 && j >= k - 60; j--) {
    struct rota_shift s;
    if (rota_shift_by_index(r, j, &s) != 0)
      return -1;
    if (s.start_ms < s.end_ms)
      return s.start_ms;
  }
  return -1;
}

int handoff_checklist(struct cmd_ctx *ctx,
                      const struct rota *r,
                      int64_t k,
                      int64_t start_ms,
                      int64_t end_ms,
                      const struct note *notes,
                      size_t n_notes,
                      struct buf *out)
{
  int rc = handoff_section_incidents(ctx, r, out);
  if (rc == 0)
    rc = handoff_section_notes(ctx, notes, n_notes, out);
  if (rc == 0)
    rc = handoff_section_actions(ctx, r, NULL, out);
  if (rc == 0)
    rc = handoff_section_upcoming(ctx, r, start_ms, end_ms, out);
  int64_t prev = previous_start(r, k);
  if (rc == 0 && prev >= 0)
    rc = handoff_section_numbers(ctx, r, prev, start_ms, out);
  if (rc == 0 && out->len == 0)
    rc = md_raw(out, "_Nothing to hand over: no notes, nothing coming up._\n");
  return rc;
}
