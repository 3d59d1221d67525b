/*
 * paging.c — a page from creation to its last update: who is notified first, the page
 * message, the copies (DMs, channel posts, emails) and keeping them current. Escalation lives
 * in paging_escalation.c, buttons and slash commands in paging_actions.c.
 */
#include "commands/paging/paging.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/core/render_slack.h"
#include "commands/oncall/oncall.h"
#include "commands/oncall/rota.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/alerts.h"

static const struct {
  const char *id, *label;
} REASONS[] = {
    {"fixed", "fixed"},
    {"false_positive", "false positive"},
    {"duplicate", "duplicate"},
    {"not_actionable", "not actionable"},
    {"alert_resolved", "the alert resolved"},
};

bool paging_reason_valid(const char *reason)
{
  for (size_t i = 0; reason && i < 4; i++)
    if (strcmp(REASONS[i].id, reason) == 0)
      return true;
  return false;
}

const char *paging_reason_label(const char *reason)
{
  for (size_t i = 0; reason && i < KX_ARRAY_SIZE(REASONS); i++)
    if (strcmp(REASONS[i].id, reason) == 0)
      return REASONS[i].label;
  return reason ? reason : "no reason given";
}

const char *paging_who(struct cmd_ctx *ctx, const struct cmd_request *req)
{
  const struct person *p = cmd_person_for_user(ctx, req->platform, req->user);
  return p ? p->id : req->user;
}

int paging_md_who(struct buf *b, struct cmd_ctx *ctx, const char *who)
{
  if (!who)
    return md_raw(b, "someone");
  if (config_person(ctx->config, who))
    return md_person(b, who);
  if (strcmp(who, "alertmanager") == 0 || strcmp(who, "webhook") == 0 ||
      strcmp(who, "pagerduty") == 0)
    return md_text(b, who);
  if (strncmp(who, "contact:", 8) == 0) { /* someone outside the team (contacts[]) */
    int rc = md_text(b, who + 8);
    return rc ? rc : md_raw(b, " (contact)");
  }
  return md_user(b, who);
}

/* ---- the message --------------------------------------------------------------------------- */

static void add_labels(struct buf *b, const char *labels_json)
{
  cJSON *labels = labels_json ? cJSON_Parse(labels_json) : NULL;
  const cJSON *l;
  int n = 0;
  cJSON_ArrayForEach (l, labels) {
    if (!cJSON_IsString(l) || !l->string)
      continue;
    if (n++ == 24) {
      md_raw(b, " …");
      break;
    }
    md_raw(b, n > 1 ? "  `" : "`");
    md_text(b, l->string);
    md_raw(b, "=");
    md_textn(b, l->valuestring, 120);
    md_raw(b, "`");
  }
  cJSON_Delete(labels);
}

static void status_text(struct cmd_ctx *ctx, const struct page_row *p, struct buf *b)
{
  char d[32];
  switch (p->state) {
    case PAGE_OPEN:
      if (p->held_until) {
        char at[40];
        md_printf(b, "Held until business hours (%s)",
                  time_format_utc(p->held_until, at, sizeof(at)));
      } else {
        md_raw(b, strcmp(p->kind, "post") == 0 ? "Firing" : "Open — not acknowledged");
      }
      break;
    case PAGE_ACKED:
      md_raw(b, "Acknowledged by ");
      paging_md_who(b, ctx, p->acked_by);
      cmd_md_phone(b, ctx->config, p->acked_by);
      md_printf(b, " after %s", time_format_duration(p->acked_at - p->created_at, d, sizeof(d)));
      break;
    case PAGE_RESOLVED:
      md_raw(b, "Resolved by ");
      paging_md_who(b, ctx, p->resolved_by);
      md_printf(b, " after %s", time_format_duration(p->resolved_at - p->created_at, d, sizeof(d)));
      if (p->reason) {
        md_raw(b, " (");
        md_text(b, paging_reason_label(p->reason));
        md_raw(b, ")");
      }
      break;
  }
}

static void add_buttons(struct msg *m, const struct page_row *p)
{
  char v[64], esc[64];
  snprintf(v, sizeof(v), "%lld", (long long)p->id);
  snprintf(esc, sizeof(esc), "%lld:%lld", (long long)p->id, (long long)p->next_step);
  if (strcmp(p->kind, "post") == 0) {
    /* issue 11: a channel alert is acknowledged too; stats measure it against its severity. */
    if (p->state == PAGE_OPEN)
      msg_button(m, "Acknowledge", CMD_ACTION_PAGE_ACK, v, MSG_STYLE_PRIMARY);
    return;
  }
  if (p->state == PAGE_OPEN)
    msg_button(m, "Acknowledge", CMD_ACTION_PAGE_ACK, v, MSG_STYLE_PRIMARY);
  if (p->state != PAGE_RESOLVED) {
    if (strcmp(p->kind, "page") == 0 && p->rota)
      msg_button(m, "Escalate", CMD_ACTION_PAGE_ESCALATE, esc, 0);
    msg_button(m, "Resolve", CMD_ACTION_PAGE_RESOLVE, v, MSG_STYLE_DANGER);
    /* issue 3: an incident of its own (commands/incident.h) */
    if (strcmp(p->kind, "page") == 0 && !p->incident_id)
      msg_button(m, "Declare incident", CMD_ACTION_PAGE_DECLARE, v, 0);
  } else if (!p->reason) {
    static const char *const ids[] = {"fixed", "false_positive", "duplicate", "not_actionable"};
    static const char *const labels[] = {"Fixed", "False positive", "Duplicate", "Not actionable"};
    for (size_t i = 0; i < 4; i++) {
      char rv[80];
      snprintf(rv, sizeof(rv), "%lld:%s", (long long)p->id, ids[i]);
      msg_button(m, labels[i], CMD_ACTION_PAGE_REASON, rv, 0);
    }
  }
}

static struct msg *render(struct cmd_ctx *ctx, const struct page_row *p)
{
  struct msg *m = msg_new();
  if (!m)
    return NULL;
  bool post = strcmp(p->kind, "post") == 0, test = strcmp(p->kind, "test") == 0;
  char header[200];
  const char *sev = p->severity ? p->severity : "page";
  if (test)
    snprintf(header, sizeof(header), "Test page: %s", p->title);
  else if (p->state == PAGE_RESOLVED)
    snprintf(header, sizeof(header), "Resolved [%s] %s", sev, p->title);
  else
    snprintf(header, sizeof(header), "%s[%s] %s", post ? "" : "PAGE ", sev, p->title);
  msg_set_header(m, header);
  char *fallback =
      kx_asprintf("%s%s%s", header, p->summary ? " — " : "", p->summary ? p->summary : "");
  msg_set_fallback(m, fallback ? fallback : header);
  free(fallback);
  struct buf b;
  md_init(&b);
  if (p->summary && *p->summary) {
    md_textn(&b, p->summary, 2000);
    msg_section_take(m, &b);
  }
  status_text(ctx, p, &b);
  msg_field(m, "Status", b.data ? b.data : "");
  buf_reset(&b);
  if (p->severity) {
    md_text(&b, p->severity);
    msg_field(m, "Severity", b.data);
    buf_reset(&b);
  }
  if (p->rota) {
    md_text(&b, p->rota);
    msg_field(m, "Rota", b.data);
    buf_reset(&b);
  }
  int64_t total = 0, firing = 0;
  if (p->group_key && alerts_page_counts(ctx->db, p->id, &total, &firing) == 0 && total > 0) {
    md_printf(&b, "%lld firing of %lld", (long long)firing, (long long)total);
    msg_field(m, "Alerts", b.data);
    buf_reset(&b);
  }
  if (p->escalations > 0) {
    md_printf(&b, "%lld step%s", (long long)p->escalations, p->escalations == 1 ? "" : "s");
    msg_field(m, "Escalated", b.data);
    buf_reset(&b);
  }
  if (p->runbook &&
      (strncmp(p->runbook, "https://", 8) == 0 || strncmp(p->runbook, "http://", 7) == 0)) {
    md_raw(&b, ":book: ");
    md_link(&b, p->runbook, "Runbook");
    msg_section_take(m, &b);
  }
  const struct severity *sv = p->incident_id ? config_severity(ctx->config, p->severity) : NULL;
  if (sv && sv->bridge_url && p->state != PAGE_RESOLVED) {
    md_raw(&b, ":telephone_receiver: ");
    md_link(&b, sv->bridge_url, "Join the incident bridge");
    msg_section_take(m, &b);
  }
  if (p->labels && strcmp(p->labels, "{}") != 0) {
    add_labels(&b, p->labels);
    if (b.len)
      msg_context(m, b.data);
    buf_reset(&b);
  }
  md_printf(&b, "Page #%lld", (long long)p->id);
  if (p->incident_id)
    md_printf(&b, " · incident #%lld", (long long)p->incident_id);
  msg_context(m, b.data);
  buf_reset(&b);
  /* How far each method got (issue 11): "SMS delivered 03:02 · call answered 03:05". */
  char *line = paging_attempts_line(ctx, p->id);
  if (line) {
    md_text(&b, line);
    msg_context(m, b.data);
  }
  free(line);
  buf_free(&b);
  add_buttons(m, p);
  return m;
}

/* ---- copies -------------------------------------------------------------------------------- */

static int ref_of(char *buf, size_t n, int64_t id)
{
  return snprintf(buf, n, "%lld", (long long)id);
}

static cJSON *slack_body(struct cmd_ctx *ctx, const struct page_row *p, const char *dest)
{
  struct msg *m = render(ctx, p);
  if (!m)
    return NULL;
  struct cmd_people pp;
  cmd_people_open(&pp, ctx);
  cJSON *body = render_slack_message(m, dest, &pp.rp);
  cmd_people_close(&pp);
  msg_free(m);
  return body;
}

int paging_post_copy(struct cmd_ctx *ctx,
                     const struct page_row *p,
                     const char *kind,
                     const char *person,
                     const char *dest,
                     int64_t step,
                     bool after_hours,
                     int64_t *copy_out)
{
  int64_t copy = 0;
  struct page_copy_new c = {p->id, kind, person, dest, step, p->version, after_hours, ctx->now_ms};
  int rc = page_copies_add(ctx->db, &c, &copy);
  if (rc)
    return rc;
  if (copy_out)
    *copy_out = copy;
  char ref[32];
  ref_of(ref, sizeof(ref), copy);
  if (out_is_teams(dest)) {
    /* Teams (issue 6): the same message as an Adaptive Card, in a channel or a 1:1 chat. */
    struct msg *m = render(ctx, p);
    rc = m ? out_post(ctx, dest, m, OUTBOX_URGENT, CMD_HOOK_PAGE_POSTED, ref, NULL) : KX_ENOMEM;
    msg_free(m);
    return rc;
  }
  cJSON *body = slack_body(ctx, p, dest);
  return out_slack_call(ctx, "chat.postMessage", dest, body, OUTBOX_URGENT, CMD_HOOK_PAGE_POSTED,
                        ref, NULL);
}

char *paging_plain_page(struct cmd_ctx *ctx, const struct page_row *p, const char *ack_link)
{
  struct buf b;
  buf_init(&b, (size_t)64 * 1024);
  buf_printf(&b, "%s [%s] %s\n\n", strcmp(p->kind, "test") == 0 ? "TEST PAGE" : "PAGE",
             p->severity ? p->severity : "-", p->title);
  if (p->summary)
    buf_printf(&b, "%s\n\n", p->summary);
  if (p->rota)
    buf_printf(&b, "Rota: %s\n", p->rota);
  if (p->runbook)
    buf_printf(&b, "Runbook: %s\n", p->runbook);
  if (p->labels && strcmp(p->labels, "{}") != 0)
    buf_printf(&b, "Labels: %s\n", p->labels);
  buf_printf(&b, "\nPage #%lld. Acknowledge it in Slack", (long long)p->id);
  if (ack_link && *ack_link)
    buf_printf(&b, " or here: %s", ack_link);
  buf_printf(&b, ".\n");
  (void)ctx;
  return buf_take(&b);
}

/* An email to an address (an `email:` step, a stakeholder, a person's email rule); `hook`/`ref`
 * (may be NULL) hear the relay's answer, `ack_link` (may be NULL) goes into the text. */
int paging_email_copy(struct cmd_ctx *ctx,
                      const struct page_row *p,
                      const char *person,
                      const char *address,
                      int64_t step,
                      const struct paging_email_opts *o)
{
  if (!ctx->config->smtp.url) {
    LOG_WARN("paging", "email_disabled", "page=%lld to=%s", (long long)p->id, address);
    return KX_ENOTFOUND;
  }
  struct page_copy_new c = {
      p->id, "email", person, address, step, p->version, o && o->after_hours, ctx->now_ms};
  int64_t copy = 0;
  int rc = page_copies_add(ctx->db, &c, &copy);
  if (rc)
    return rc;
  if (o && o->copy_out)
    *o->copy_out = copy;
  char *subject =
      kx_asprintf("[klaxon] %s [%s] %s", strcmp(p->kind, "test") == 0 ? "Test page" : "Page",
                  p->severity ? p->severity : "-", p->title);
  char *text = paging_plain_page(ctx, p, o ? o->ack_link : NULL);
  rc = out_email_hook(ctx, address, subject ? subject : "[klaxon] page", text ? text : "",
                      OUTBOX_URGENT, o ? o->hook : NULL, o ? o->ref : NULL);
  free(subject);
  free(text);
  return rc;
}

static int email_copy(struct cmd_ctx *ctx,
                      const struct page_row *p,
                      const char *person,
                      const char *address,
                      int64_t step,
                      bool after_hours)
{
  struct paging_email_opts o = {.after_hours = after_hours};
  int rc = paging_email_copy(ctx, p, person, address, step, &o);
  return rc == KX_ENOTFOUND ? 0 : rc;
}

bool paging_after_hours(struct cmd_ctx *ctx, const struct page_row *p)
{
  const struct rota *r = config_rota(ctx->config, p->rota);
  return r ? !rota_in_business_hours(r, ctx->now_ms) : false;
}

/* A person is reached by their own rules (paging_notify.c): chat, push, SMS, voice, email. */
static int notify_person(struct cmd_ctx *ctx,
                         const struct page_row *p,
                         const struct person *who,
                         int64_t step)
{
  return paging_notify_person(ctx, p, who, step);
}

int paging_notify(struct cmd_ctx *ctx,
                  const struct page_row *p,
                  const struct person *who,
                  int64_t step)
{
  return notify_person(ctx, p, who, step);
}

/* The rota's shadow gets the pages the primary gets (never a step of its own). Step g as the
 * primary's copy; a shadow who already has this round's copy, or is the primary, is skipped. */
static int notify_shadow(struct cmd_ctx *ctx,
                         const struct page_row *p,
                         const struct oncall_view *v,
                         const struct person *primary,
                         int64_t g,
                         int64_t round_first)
{
  const struct person *sh = v->now.shadow ? config_person(ctx->config, v->now.shadow) : NULL;
  if (!sh || (primary && strcmp(primary->id, sh->id) == 0))
    return 0;
  if (page_copies_has_person(ctx->db, p->id, sh->id, round_first == 0 ? -1 : round_first, g) == 1)
    return 0;
  LOG_INFO("paging", "shadow", "page=%lld person=%s step=%lld", (long long)p->id, sh->id,
           (long long)g);
  return notify_person(ctx, p, sh, g);
}

int paging_fire_step(struct cmd_ctx *ctx, const struct page_row *p, int64_t g, bool by_hand)
{
  bool automatic;
  const struct policy *pol = paging_policy(ctx, p, &automatic);
  if (!pol || g < 0 || g >= paging_steps_total(pol))
    return 0;
  const struct policy_step *s = &pol->steps[g % (int64_t)pol->n_steps];
  int64_t round_first = (g / (int64_t)pol->n_steps) * (int64_t)pol->n_steps;
  const struct person *who = NULL;
  const struct rota *r = config_rota(ctx->config, p->rota);
  struct oncall_view v;
  bool have_view = false;
  if (s->kind == NOTIFY_PRIMARY || s->kind == NOTIFY_SECONDARY || s->kind == NOTIFY_MANAGER) {
    if (!r || oncall_at(ctx, r, ctx->now_ms, &v) != 0) {
      LOG_WARN("paging", "step_no_rota", "page=%lld step=%lld", (long long)p->id, (long long)g);
      return 0;
    }
    have_view = true;
    who = s->kind == NOTIFY_PRIMARY     ? oncall_primary(ctx, &v)
          : s->kind == NOTIFY_SECONDARY ? oncall_secondary(ctx, &v)
                                        : oncall_manager(ctx, &v);
  } else if (s->kind == NOTIFY_PERSON || s->kind == NOTIFY_EMAIL) {
    who = config_person(ctx->config, s->target);
  }
  int rc = 0, notified = 0;
  if (s->kind == NOTIFY_PAGERDUTY) {
    rc = paging_pd_step(ctx, p, g, s->target);
    notified = rc > 0;
    rc = rc < 0 ? rc : 0;
  } else if (s->kind == NOTIFY_CHANNEL) {
    rc = paging_post_copy(ctx, p, "channel", NULL, s->target, g, paging_after_hours(ctx, p), NULL);
    notified = rc == 0;
  } else if (s->kind == NOTIFY_CONTACT) {
    rc = paging_notify_contact(ctx, p, config_contact(ctx->config, s->target), g);
    notified = rc > 0;
    rc = rc < 0 ? rc : 0;
  } else if (!who) {
    LOG_WARN("paging", "step_nobody", "page=%lld step=%lld kind=%d", (long long)p->id, (long long)g,
             (int)s->kind);
  } else if (!by_hand && page_copies_has_person(ctx->db, p->id, who->id,
                                                round_first == 0 ? -1 : round_first, g) == 1) {
    LOG_INFO("paging", "step_already_notified", "page=%lld step=%lld person=%s", (long long)p->id,
             (long long)g, who->id);
  } else if (s->kind == NOTIFY_EMAIL) {
    rc = who->email ? email_copy(ctx, p, who->id, who->email, g, paging_after_hours(ctx, p)) : 0;
    notified = rc == 0;
  } else {
    rc = notify_person(ctx, p, who, g);
    notified = rc == 0;
    if (rc == 0 && s->kind == NOTIFY_PRIMARY && have_view)
      rc = notify_shadow(ctx, p, &v, who, g, round_first);
  }
  if (have_view)
    oncall_view_free(&v);
  return rc ? rc : notified;
}

/* A page with nobody to take it (the primary slot empty: the rota not started, everyone
 * away) is never only a log line: the rota's manager is paged and the announce channel told. */
static int nobody_to_page(struct cmd_ctx *ctx,
                          const struct page_row *p,
                          struct oncall_view *v,
                          int64_t step)
{
  const struct person *m = oncall_manager(ctx, v);
  LOG_WARN("paging", "nobody_on_call", "page=%lld rota=%s manager=%s", (long long)p->id,
           p->rota ? p->rota : "-", m ? m->id : "-");
  struct msg *msg = msg_new();
  struct buf b;
  md_init(&b);
  md_printf(&b, ":rotating_light: Page #%lld ", (long long)p->id);
  if (p->severity) {
    md_raw(&b, "[");
    md_text(&b, p->severity);
    md_raw(&b, "] ");
  }
  md_bold(&b, p->title);
  md_raw(&b, ": nobody is on call in ");
  md_text(&b, p->rota ? p->rota : "its rota");
  md_raw(&b, " to take it");
  if (m) {
    md_raw(&b, "; paging the manager, ");
    md_person(&b, m->id);
  }
  md_raw(&b, ".");
  char *fb = kx_asprintf("Page #%lld: nobody is on call to take it", (long long)p->id);
  int rc = msg ? 0 : KX_ENOMEM;
  if (rc == 0) {
    msg_set_fallback(msg, fb ? fb : "nobody is on call");
    rc = msg_section_take(msg, &b);
  }
  if (rc == 0)
    rc = out_announce(ctx, OUT_ANNOUNCE, NULL, msg, OUTBOX_URGENT, NULL, NULL);
  free(fb);
  msg_free(msg);
  buf_free(&b);
  if (rc < 0)
    return rc;
  return m ? notify_person(ctx, p, m, step) : 0;
}

static int paging_notify_initial(struct cmd_ctx *ctx, const struct page_row *p)
{
  if (p->target) {
    const struct person *who = config_person(ctx->config, p->target);
    if (who)
      return notify_person(ctx, p, who, -1);
    return paging_post_copy(ctx, p, "dm", NULL, p->target, -1, false, NULL); /* a user id */
  }
  const struct rota *r = config_rota(ctx->config, p->rota);
  if (!r)
    return 0;
  const struct severity *sev = config_severity(ctx->config, p->severity);
  bool primary = !sev || sev->page_primary || sev->page_business_hours;
  bool secondary = sev && sev->page_secondary;
  struct oncall_view v;
  int rc = oncall_at(ctx, r, ctx->now_ms, &v);
  if (rc)
    return rc;
  const struct person *a = primary ? oncall_primary(ctx, &v) : NULL;
  const struct person *b = secondary ? oncall_secondary(ctx, &v) : NULL;
  if (primary && !a && !(secondary && b))
    rc = nobody_to_page(ctx, p, &v, -1);
  if (a)
    rc = notify_person(ctx, p, a, -1);
  if (rc == 0 && primary)
    rc = notify_shadow(ctx, p, &v, a, -1, 0);
  if (rc == 0 && b && (!a || strcmp(a->id, b->id) != 0))
    rc = notify_person(ctx, p, b, -1);
  oncall_view_free(&v);
  return rc;
}

/* Severities with stakeholders: true tell the stakeholder channel and list. */
static int tell_stakeholders(struct cmd_ctx *ctx, const struct page_row *p)
{
  const struct severity *sev = config_severity(ctx->config, p->severity);
  /* A page an incident's declaration made: the incident tells its stakeholders itself. */
  if (!sev || !sev->stakeholders || strcmp(p->kind, "page") != 0 || kx_streq(p->source, "incident"))
    return 0;
  struct msg *m = msg_new();
  struct buf b;
  md_init(&b);
  md_raw(&b, ":rotating_light: ");
  md_bold(&b, p->severity);
  md_raw(&b, " page: ");
  md_text(&b, p->title);
  if (p->rota) {
    md_raw(&b, " — the ");
    md_text(&b, p->rota);
    md_raw(&b, " on-call is being paged.");
  }
  char *fb = kx_asprintf("%s page: %s", p->severity, p->title);
  msg_set_fallback(m, fb ? fb : p->title);
  free(fb);
  int rc = m ? msg_section_take(m, &b) : KX_ENOMEM;
  if (rc == 0)
    rc = out_announce(ctx, OUT_STAKEHOLDERS, NULL, m, OUTBOX_NORMAL, NULL, NULL);
  msg_free(m);
  buf_free(&b);
  if (rc < 0)
    return rc;
  for (size_t i = 0; i < ctx->config->smtp.n_stakeholders; i++) {
    const char *s = ctx->config->smtp.stakeholders[i];
    const struct person *who = config_person(ctx->config, s);
    const char *addr = who ? who->email : s;
    if (!addr)
      continue;
    rc = email_copy(ctx, p, who ? who->id : NULL, addr, -2, false);
    if (rc)
      return rc;
  }
  return 0;
}

/* Steps due at once (after: 0m) are part of the page itself: they are counted into
 * next_step before anything is sent, so the first message already carries the right
 * Escalate button. Returns how many there are. */
static int64_t steps_due_now(struct cmd_ctx *ctx, const struct page_row *p)
{
  bool automatic;
  const struct policy *pol = paging_policy(ctx, p, &automatic);
  int64_t g = 0, total = paging_steps_total(pol);
  while (automatic && g < total && p->anchor_at + paging_step_offset(pol, g) <= ctx->now_ms)
    g++;
  return g;
}

int paging_start(struct cmd_ctx *ctx, const struct page_row *p, int64_t first, int64_t upto)
{
  int rc = paging_notify_initial(ctx, p);
  if (rc == 0)
    rc = paging_schedule_ack_target(ctx, p);
  for (int64_t g = first; rc == 0 && g < upto; g++) {
    int n = paging_fire_step(ctx, p, g, false);
    if (n < 0)
      rc = n;
  }
  return rc ? rc : paging_schedule_step(ctx, p, upto);
}

int paging_create(struct cmd_ctx *ctx, const struct page_new *n, int64_t *id_out)
{
  const struct severity *sev = config_severity(ctx->config, n->severity);
  const struct rota *r = config_rota(ctx->config, n->rota);
  const char *policy = n->policy ? n->policy : (sev ? sev->policy : NULL);
  struct page_row row = {
      .kind = (char *)(n->kind ? n->kind : "page"),
      .group_key = (char *)n->group_key,
      .rota = r ? r->name : NULL,
      .policy = r ? (char *)policy : NULL,
      .severity = sev ? sev->name : (char *)n->severity,
      .title = (char *)(n->title && *n->title ? n->title : "(no title)"),
      .summary = (char *)n->summary,
      .labels = (char *)n->labels,
      .runbook = (char *)n->runbook,
      .source = (char *)(n->source ? n->source : "manual"),
      .channel = (char *)n->channel,
      .target = (char *)(n->person ? n->person->id : n->user),
      .created_by = (char *)n->created_by,
      .created_at = ctx->now_ms,
      .started_at = n->started_at,
      .anchor_at = ctx->now_ms,
  };
  bool post = strcmp(row.kind, "post") == 0;
  if (post && !n->channel)
    return KX_EINVAL;
  if (!post && !r && !row.target)
    return KX_EINVAL;
  if (!post && r && sev && sev->page_business_hours && !sev->page_primary &&
      !rota_in_business_hours(r, ctx->now_ms)) {
    int64_t start = 0;
    if (rota_next_business_start(r, ctx->now_ms, &start) == 0 && start > ctx->now_ms)
      row.held_until = start;
  }
  int64_t upto = row.held_until ? 0 : steps_due_now(ctx, &row);
  row.next_step = upto;
  int64_t id = 0;
  int rc = pages_add(ctx->db, &row, &id);
  if (rc == KX_EEXISTS && id_out)
    *id_out = id;
  if (rc)
    return rc;
  struct page_row p;
  rc = pages_get(ctx->db, id, &p);
  if (rc)
    return rc;
  if (post) {
    rc = paging_post_copy(ctx, &p, "channel", NULL, n->channel, -1, false, NULL);
  } else if (p.held_until) {
    char key[64], ref[32];
    snprintf(key, sizeof(key), "page:%lld:release", (long long)id);
    ref_of(ref, sizeof(ref), id);
    rc = jobs_schedule(ctx->db, CMD_JOB_PAGE_RELEASE, key, p.held_until, ref, ctx->now_ms);
    LOG_INFO("paging", "held", "page=%lld until=%lld", (long long)id, (long long)p.held_until);
  } else if (n->only_via && n->person) {
    /* /oncall notify test METHOD: that one method, nothing after it (paging_notify.c). */
    rc = paging_notify_via(ctx, &p, n->person, -1, n->only_via);
  } else {
    rc = paging_start(ctx, &p, 0, upto);
  }
  if (rc == 0)
    rc = tell_stakeholders(ctx, &p);
  LOG_INFO("paging", "created", "page=%lld kind=%s rota=%s severity=%s", (long long)id, p.kind,
           p.rota ? p.rota : "-", p.severity ? p.severity : "-");
  page_row_clear(&p);
  if (rc == 0 && id_out)
    *id_out = id;
  return rc;
}

/* ---- keeping copies current ---------------------------------------------------------------- */

static int update_copy(struct cmd_ctx *ctx, const struct page_row *p, const struct page_copy *c)
{
  if (strcmp(c->kind, "email") == 0 || !c->channel || !c->ts || c->updating)
    return 0;
  if (c->version >= p->version)
    return 0;
  char ref[32];
  ref_of(ref, sizeof(ref), c->id);
  if (out_is_teams(c->channel)) {
    /* Teams (issue 6): the card is replaced in place (PUT …/activities/{id}). */
    struct msg *m = render(ctx, p);
    int rc =
        m ? out_update_hook(ctx, c->channel, c->ts, m, OUTBOX_URGENT, CMD_HOOK_PAGE_UPDATED, ref)
          : KX_ENOMEM;
    msg_free(m);
    return rc ? rc : page_copies_updating(ctx->db, c->id, true, p->version);
  }
  cJSON *body = slack_body(ctx, p, c->channel);
  if (!body)
    return KX_ENOMEM;
  cJSON_AddStringToObject(body, "ts", c->ts);
  int rc = out_slack_call(ctx, "chat.update", c->channel, body, OUTBOX_URGENT,
                          CMD_HOOK_PAGE_UPDATED, ref, NULL);
  if (rc == 0)
    rc = page_copies_updating(ctx->db, c->id, true, p->version);
  return rc;
}

int paging_refresh(struct cmd_ctx *ctx, int64_t page_id)
{
  struct page_row p;
  int rc = pages_get(ctx->db, page_id, &p);
  if (rc)
    return rc;
  struct page_copy *copies = NULL;
  size_t n = 0;
  rc = page_copies_list(ctx->db, page_id, &copies, &n);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = update_copy(ctx, &p, &copies[i]);
  page_copies_free(copies, n);
  page_row_clear(&p);
  return rc;
}

static int64_t ref_id(const struct outbox_row *row)
{
  return row->ref ? strtoll(row->ref, NULL, 10) : 0;
}

/* After a post or an update lands: remember where, and catch up with later changes. */
static int copy_landed(struct cmd_ctx *ctx, int64_t copy_id, const struct cmd_result *r, bool post)
{
  struct page_copy c;
  int rc = page_copies_get(ctx->db, copy_id, &c);
  if (rc == KX_ENOTFOUND)
    return 0;
  if (rc)
    return rc;
  /* A DM of a person's rules is an attempt (issue 11): posted is delivered; refused for good
   * (user_not_found, account_inactive …) moves to their next method at once. */
  struct page_attempt a;
  int64_t attempt = post && page_attempts_by_copy(ctx->db, c.id, &a) == 0 ? a.id : 0;
  if (attempt)
    page_attempt_clear(&a);
  if (!r->ok) {
    LOG_WARN("paging", post ? "copy_post_failed" : "copy_update_failed",
             "copy=%lld page=%lld error=%s", (long long)c.id, (long long)c.page_id,
             r->error ? r->error : "-");
    rc = page_copies_failed(ctx->db, c.id, r->error ? r->error : "unknown");
    page_copy_clear(&c);
    if (rc == 0 && attempt)
      rc = paging_attempt_update(ctx, attempt, "failed", NULL, r->error ? r->error : "unknown");
    return rc;
  }
  if (attempt) {
    rc = paging_attempt_update(ctx, attempt, "delivered", NULL, NULL);
    if (rc) {
      page_copy_clear(&c);
      return rc;
    }
  }
  if (post) {
    const cJSON *ch = cJSON_GetObjectItemCaseSensitive(r->response, "channel");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(r->response, "ts");
    if (cJSON_IsString(ch) && cJSON_IsString(ts))
      rc = page_copies_posted(ctx->db, c.id, ch->valuestring, ts->valuestring, c.version);
  } else {
    rc = page_copies_updating(ctx->db, c.id, false, c.version);
  }
  page_copy_clear(&c);
  if (rc)
    return rc;
  struct page_row p;
  rc = page_copies_get(ctx->db, copy_id, &c);
  if (rc)
    return rc;
  rc = pages_get(ctx->db, c.page_id, &p);
  if (rc == 0)
    rc = update_copy(ctx, &p, &c);
  page_row_clear(&p);
  page_copy_clear(&c);
  return rc;
}

int paging_hook_posted(struct cmd_ctx *ctx,
                       const struct outbox_row *row,
                       const struct cmd_result *r)
{
  return copy_landed(ctx, ref_id(row), r, true);
}

int paging_hook_updated(struct cmd_ctx *ctx,
                        const struct outbox_row *row,
                        const struct cmd_result *r)
{
  return copy_landed(ctx, ref_id(row), r, false);
}
