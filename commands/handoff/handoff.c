/*
 * handoff.c — the handoff itself: the job at each shift's start (posted exactly once, late when
 * the bot was down, recorded as missed after a day), its post and DMs, the "I have the pager"
 * button, the thread for notes, and the start-up task that keeps each rota's next handoff,
 * reminder and digest scheduled. The reminder, the digest and the manager notice are in
 * handoff_jobs.c; the checklist in handoff_checklist.c.
 */
#include "commands/handoff/handoff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/handoff/handoff_internal.h"
#include "commands/oncall/oncall.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/handoffs.h"
#include "storage/notes.h"

/* ---- keys and scheduling --------------------------------------------------------------------- */

static void handoff_key(char *buf, size_t size, const char *kind, const char *rota, int64_t k)
{
  snprintf(buf, size, "%s:%s:%lld", kind, rota, (long long)k);
}

int64_t handoff_key_index(const char *key)
{
  const char *colon = key ? strrchr(key, ':') : NULL;
  if (!colon)
    return -1;
  char *end;
  long long k = strtoll(colon + 1, &end, 10);
  return (end != colon + 1 && *end == '\0' && k >= 0) ? k : -1;
}

static int handoff_schedule_reminder(struct cmd_ctx *ctx,
                                     const struct rota *r,
                                     int64_t k,
                                     int64_t start)
{
  int64_t at;
  if (start <= ctx->now_ms || handoff_reminder_at(r, start, &at) != 0)
    return 0;
  if (at < ctx->now_ms) {
    /* Started after the reminder time (the first start, or a long outage): remind now, unless
     * the shift is so close that the handoff itself will do. */
    if (start - ctx->now_ms < HANDOFF_REMIND_LATE_MS)
      return 0;
    at = ctx->now_ms;
  }
  char key[200];
  handoff_key(key, sizeof(key), CMD_JOB_HANDOFF_REMIND, r->name, k);
  int rc = jobs_schedule(ctx->db, CMD_JOB_HANDOFF_REMIND, key, at, r->name, ctx->now_ms);
  return rc == KX_EEXISTS ? 0 : rc;
}

/* The first handoff after `after_ms` (and its reminder). */
static int schedule_next(struct cmd_ctx *ctx, const struct rota *r, int64_t after_ms)
{
  int64_t at, k;
  int rc = rota_next_handoff(r, after_ms, &at, &k);
  if (rc) {
    LOG_WARN("handoff", "no_next_handoff", "rota=%s err=%s", r->name, kx_err_name(rc));
    return rc == KX_EDB || rc == KX_ENOMEM ? rc : 0;
  }
  char key[200];
  handoff_key(key, sizeof(key), CMD_JOB_HANDOFF, r->name, k);
  struct job j;
  int done = 0;
  rc = jobs_get(ctx->db, key, &j, &done);
  if (rc == KX_ENOTFOUND) {
    rc = jobs_schedule(ctx->db, CMD_JOB_HANDOFF, key, at, r->name, ctx->now_ms);
  } else if (rc == 0) {
    /* A pending handoff whose time moved (the config changed): move the job. */
    if (!done && j.due_at != at)
      rc = jobs_upsert(ctx->db, CMD_JOB_HANDOFF, key, at, r->name, ctx->now_ms);
    job_clear(&j);
  }
  if (rc == 0)
    rc = handoff_schedule_reminder(ctx, r, k, at);
  return rc;
}

int handoff_schedule_digest(struct cmd_ctx *ctx, const struct rota *r, int64_t after_ms)
{
  int64_t at;
  struct kx_date d;
  if (handoff_next_digest(r, after_ms, &at, &d) != 0) {
    LOG_WARN("handoff", "no_working_day", "rota=%s", r->name);
    return 0;
  }
  char key[200];
  snprintf(key, sizeof(key), "%s:%s:%04d-%02d-%02d", CMD_JOB_HANDOFF_DIGEST, r->name, d.y, d.m,
           d.d);
  int rc = jobs_schedule(ctx->db, CMD_JOB_HANDOFF_DIGEST, key, at, r->name, ctx->now_ms);
  return rc == KX_EEXISTS ? 0 : rc;
}

int64_t handoff_ack_timeout(const struct cmd_ctx *ctx)
{
  int64_t ms = ctx->config->handoff.handoff_ack_ms;
  return ms > 0 ? ms : HANDOFF_DEFAULT_ACK_MS;
}

/* ---- the post ---------------------------------------------------------------------------------
 */

static void md_who(struct buf *b, const char *person)
{
  if (person)
    md_person(b, person);
  else
    md_raw(b, "_nobody_");
}

static void field_person(struct cmd_ctx *ctx, struct msg *m, const char *label, const char *person)
{
  struct buf b;
  md_init(&b);
  md_who(&b, person);
  cmd_md_phone(&b, ctx->config, person); /* whoever reads it can call them */
  msg_field(m, label, b.data ? b.data : "");
  buf_free(&b);
}

static void status_block(struct cmd_ctx *ctx,
                         const struct rota *r,
                         const struct handoff_row *h,
                         struct msg *m)
{
  char t[40], d[32];
  struct buf b;
  md_init(&b);
  if (h->acked_at) {
    md_raw(&b, ":white_check_mark: ");
    md_who(&b, h->acked_by);
    md_printf(&b, " has the pager (since %s).", oncall_fmt_time(r, h->acked_at, t, sizeof(t)));
    msg_context(m, b.data);
  } else {
    if (h->manager_told_at) {
      md_printf(&b, ":warning: Nobody took the pager within %s; ",
                time_format_duration(handoff_ack_timeout(ctx), d, sizeof(d)));
      if (h->manager) {
        md_raw(&b, "the manager ");
        md_person(&b, h->manager);
        md_printf(&b, " was told at %s.", oncall_fmt_time(r, h->manager_told_at, t, sizeof(t)));
      } else {
        md_raw(&b, "this rota has no manager to tell.");
      }
      msg_context(m, b.data);
    }
    char v[32];
    snprintf(v, sizeof(v), "%lld", (long long)h->id);
    msg_button(m, "I have the pager", CMD_ACTION_HANDOFF_ACK, v, MSG_STYLE_PRIMARY);
  }
  buf_free(&b);
}

/* The checklist, one section block per checklist section (a line starting with '*' begins
 * one), so a long section is cut on its own instead of swallowing the ones after it. */
static void checklist_blocks(struct msg *m, const char *checklist)
{
  struct buf b;
  md_init(&b);
  md_raw(&b, "*Checklist*\n");
  const char *p = checklist ? checklist : "";
  while (*p) {
    const char *end = p;
    while ((end = strchr(end, '\n')) && end[1] && end[1] != '*')
      end++;
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (b.len > sizeof("*Checklist*\n") - 1 && *p == '*') {
      msg_section_take(m, &b);
      md_init(&b);
    }
    buf_append(&b, p, n);
    p += n;
    if (*p == '\n')
      p++;
  }
  if (b.len)
    msg_section_take(m, &b);
  buf_free(&b);
}

struct msg *handoff_message(struct cmd_ctx *ctx, const struct rota *r, const struct handoff_row *h)
{
  struct msg *m = msg_new();
  if (!m)
    return NULL;
  char t1[40], t2[40], title[200];
  snprintf(title, sizeof(title), "On-call handoff: %s", r->name);
  msg_set_header(m, title);
  struct buf b;
  md_init(&b);
  struct rota_shift s;
  if (rota_shift_by_index(r, h->shift_index, &s) == 0) {
    md_printf(&b, "*Shift #%lld*: %s → %s (", (long long)h->shift_index + 1,
              oncall_fmt_time(r, s.start_ms, t1, sizeof(t1)),
              oncall_fmt_time(r, s.end_ms, t2, sizeof(t2)));
    md_text(&b, rota_zone(r));
    md_raw(&b, ")");
    if (s.late_handoff)
      md_printf(&b, "\n_The handoff moved from %s because of a holiday or the weekend._",
                oncall_fmt_time(r, s.nominal_start_ms, t1, sizeof(t1)));
  }
  if (h->late)
    md_printf(&b, "\n:warning: *Late*: I was not running at %s; posted at %s.",
              oncall_fmt_time(r, h->due_at, t1, sizeof(t1)),
              oncall_fmt_time(r, h->created_at, t2, sizeof(t2)));
  msg_section_take(m, &b);
  field_person(ctx, m, "Outgoing primary", h->out_primary);
  field_person(ctx, m, "Incoming primary", h->in_primary);
  if (r->secondary_mode != SECONDARY_NONE || h->in_secondary || h->out_secondary) {
    field_person(ctx, m, "Outgoing secondary", h->out_secondary);
    field_person(ctx, m, "Incoming secondary", h->in_secondary);
  }
  if (h->in_shadow)
    field_person(ctx, m, "Shadow", h->in_shadow);
  if (h->manager)
    field_person(ctx, m, "Manager", h->manager);
  checklist_blocks(m, h->checklist);
  msg_context(m,
              ":thread: Notes for this shift: reply in this post's thread, or `/oncall note TEXT`; "
              "they go into the next handoff.");
  status_block(ctx, r, h, m);
  const struct person *in = config_person(ctx->config, h->in_primary);
  const struct person *out = config_person(ctx->config, h->out_primary);
  char fallback[400];
  snprintf(fallback, sizeof(fallback), "On-call handoff for %s: %s takes over from %s%s", r->name,
           in ? cmd_person_name(in) : "nobody", out ? cmd_person_name(out) : "nobody",
           h->late ? " (late)" : "");
  msg_set_fallback(m, fallback);
  buf_free(&b);
  return m;
}

/* A DM to a person id (skipped quietly when unknown or without a Slack id). */
int handoff_dm(
    struct cmd_ctx *ctx, const char *person, const char *markup, const char *plain, int prio)
{
  const struct person *p = config_person(ctx->config, person);
  if (!p)
    return 0;
  struct msg *m = msg_new();
  if (!m)
    return KX_ENOMEM;
  int rc = msg_set_fallback(m, plain);
  if (rc == 0)
    rc = msg_section(m, markup);
  if (rc == 0) {
    rc = out_dm(ctx, p, m, prio, NULL, NULL);
    if (rc == KX_ENOTFOUND)
      rc = 0;
  }
  msg_free(m);
  return rc;
}

static void where_line(struct cmd_ctx *ctx, const struct rota *r, struct buf *b)
{
  const char *ch = r->handoff_channel ? r->handoff_channel : ctx->config->slack.handoff_channel;
  if (ch && !out_is_teams(ch)) {
    md_raw(b, " in ");
    md_channel(b, ch);
  }
}

static int handoff_dms(struct cmd_ctx *ctx,
                       const struct rota *r,
                       const struct handoff_row *h,
                       int64_t end_ms)
{
  char t[40];
  const char *late = h->late ? " _(late: I was not running at the handoff time)_" : "";
  struct buf b;
  md_init(&b);
  int rc = 0;
  if (h->in_primary && !kx_streq(h->in_primary, h->out_primary)) {
    md_raw(&b, ":pager: You are now the *primary* on-call for *");
    md_text(&b, r->name);
    md_printf(&b, "* until %s%s. Secondary: ", oncall_fmt_time(r, end_ms, t, sizeof(t)), late);
    md_who(&b, h->in_secondary);
    if (h->manager) {
      md_raw(&b, ", manager: ");
      md_person(&b, h->manager);
    }
    md_raw(&b, ".\nPlease press *I have the pager* on the handoff post");
    where_line(ctx, r, &b);
    md_raw(&b, ".");
    rc = handoff_dm(ctx, h->in_primary, b.data, "You are now the primary on-call", OUTBOX_NORMAL);
    buf_reset(&b);
  }
  if (rc == 0 && h->in_secondary && !kx_streq(h->in_secondary, h->out_secondary) &&
      !kx_streq(h->in_secondary, h->in_primary)) {
    md_raw(&b, ":pager: You are now the *secondary* on-call for *");
    md_text(&b, r->name);
    md_printf(&b, "* until %s%s. Primary: ", oncall_fmt_time(r, end_ms, t, sizeof(t)), late);
    md_who(&b, h->in_primary);
    md_raw(&b, ".");
    rc = handoff_dm(ctx, h->in_secondary, b.data, "You are now the secondary on-call",
                    OUTBOX_NORMAL);
    buf_reset(&b);
  }
  if (rc == 0 && h->in_shadow) {
    md_raw(&b, ":eyes: You are shadowing ");
    md_who(&b, h->in_primary);
    md_raw(&b, " on *");
    md_text(&b, r->name);
    md_printf(&b, "* until %s: you get the same pages and handoffs.%s",
              oncall_fmt_time(r, end_ms, t, sizeof(t)), late);
    rc = handoff_dm(ctx, h->in_shadow, b.data, "You are shadowing this shift", OUTBOX_NORMAL);
    buf_reset(&b);
  }
  if (rc == 0 && h->out_primary && !kx_streq(h->out_primary, h->in_primary)) {
    md_raw(&b, ":wave: Your shift as primary on-call for *");
    md_text(&b, r->name);
    md_raw(&b, "* is over: ");
    md_who(&b, h->in_primary);
    md_printf(&b,
              " has it now. Thank you!%s Anything they should know: reply in the handoff "
              "thread or `/oncall note TEXT`.",
              late);
    rc = handoff_dm(ctx, h->out_primary, b.data, "Your on-call shift is over", OUTBOX_NORMAL);
    buf_reset(&b);
  }
  if (rc == 0 && h->out_secondary && !kx_streq(h->out_secondary, h->in_secondary) &&
      !kx_streq(h->out_secondary, h->in_primary) && !kx_streq(h->out_secondary, h->out_primary)) {
    md_raw(&b, ":wave: Your shift as secondary on-call for *");
    md_text(&b, r->name);
    md_raw(&b, "* is over: ");
    md_who(&b, h->in_secondary);
    md_raw(&b, " has it now. Thank you!");
    rc = handoff_dm(ctx, h->out_secondary, b.data, "Your on-call shift is over", OUTBOX_NORMAL);
  }
  buf_free(&b);
  return rc;
}

/* Who held the slots just before `at` and holds them from `at` (copied into *h's strings). */
struct people_at {
  struct oncall_view in, out;
  bool have_out;
};

static int people_at(struct cmd_ctx *ctx, const struct rota *r, int64_t at, struct people_at *p)
{
  memset(p, 0, sizeof(*p));
  int rc = oncall_at(ctx, r, at, &p->in);
  if (rc)
    return rc;
  rc = oncall_at(ctx, r, at - 1, &p->out);
  if (rc) {
    oncall_view_free(&p->in);
    return rc;
  }
  p->have_out = p->out.now.started;
  return 0;
}

static void people_free(struct people_at *p)
{
  oncall_view_free(&p->in);
  oncall_view_free(&p->out);
}

static void fill_new(struct handoff_new *n, const struct rota *r, const struct people_at *p)
{
  n->in_primary = p->in.now.primary.person;
  n->in_secondary = p->in.now.secondary.person;
  n->in_shadow = p->in.now.shadow;
  n->manager = r->manager;
  n->out_primary = p->have_out ? p->out.now.primary.person : NULL;
  n->out_secondary = p->have_out ? p->out.now.secondary.person : NULL;
}

static int record_missed(struct cmd_ctx *ctx, const struct rota *r, const struct rota_shift *s)
{
  struct people_at p;
  int rc = people_at(ctx, r, s->start_ms, &p);
  if (rc)
    return rc;
  struct handoff_new n = {.rota = r->name,
                          .shift_index = s->index,
                          .due_at = s->start_ms,
                          .state = HANDOFF_MISSED,
                          .now_ms = ctx->now_ms};
  fill_new(&n, r, &p);
  rc = handoffs_add(ctx->db, &n, NULL);
  char t[40];
  if (rc == 0)
    LOG_WARN("handoff", "missed",
             "rota=%s shift=%lld due=%s note=\"down for more than a day: "
             "recorded, not posted\"",
             r->name, (long long)s->index, time_format_utc(s->start_ms, t, sizeof(t)));
  people_free(&p);
  return rc == KX_EEXISTS ? 0 : rc;
}

static int post_handoff(struct cmd_ctx *ctx,
                        const struct rota *r,
                        const struct rota_shift *s,
                        bool late)
{
  struct people_at p;
  int rc = people_at(ctx, r, s->start_ms, &p);
  if (rc)
    return rc;
  struct note *notes = NULL;
  size_t n_notes = 0;
  struct buf checklist;
  md_init(&checklist);
  rc = notes_pending(ctx->db, r->name, &notes, &n_notes);
  if (rc == 0)
    rc = handoff_checklist(ctx, r, s->index, s->start_ms, s->end_ms, notes, n_notes, &checklist);
  struct handoff_new n = {.rota = r->name,
                          .shift_index = s->index,
                          .due_at = s->start_ms,
                          .state = HANDOFF_POSTED,
                          .late = late,
                          .checklist = checklist.data,
                          .now_ms = ctx->now_ms};
  fill_new(&n, r, &p);
  int64_t id = 0;
  if (rc == 0)
    rc = handoffs_add(ctx->db, &n, &id);
  notes_free(notes, n_notes);
  buf_free(&checklist);
  people_free(&p);
  if (rc == KX_EEXISTS)
    return 0; /* already done: never twice */
  if (rc == 0)
    rc = notes_mark_handed(ctx->db, r->name, ctx->now_ms);
  struct handoff_row h;
  if (rc == 0)
    rc = handoffs_get(ctx->db, id, &h);
  if (rc)
    return rc;
  struct msg *m = handoff_message(ctx, r, &h);
  char ref[32];
  snprintf(ref, sizeof(ref), "%lld", (long long)id);
  int written = m ? out_announce(ctx, OUT_HANDOFF, r->handoff_channel, m, OUTBOX_NORMAL,
                                 CMD_HOOK_HANDOFF_POSTED, ref)
                  : KX_ENOMEM;
  msg_free(m);
  rc = written < 0 ? written : 0;
  if (written == 0)
    LOG_WARN("handoff", "no_channel", "rota=%s note=\"no handoff channel is configured\"", r->name);
  if (rc == 0)
    rc = handoff_dms(ctx, r, &h, s->end_ms);
  if (rc == 0) {
    char key[200];
    handoff_key(key, sizeof(key), CMD_JOB_HANDOFF_ACK, r->name, s->index);
    rc = jobs_schedule(ctx->db, CMD_JOB_HANDOFF_ACK, key, ctx->now_ms + handoff_ack_timeout(ctx),
                       ref, ctx->now_ms);
    rc = rc == KX_EEXISTS ? 0 : rc;
  }
  if (rc == 0)
    rc = oncall_sync_rota(ctx, r);
  if (rc == 0)
    LOG_INFO("handoff", "posted", "rota=%s shift=%lld id=%lld late=%d in=%s out=%s", r->name,
             (long long)s->index, (long long)id, late, h.in_primary ? h.in_primary : "-",
             h.out_primary ? h.out_primary : "-");
  handoff_row_clear(&h);
  return rc;
}

int handoff_job(struct cmd_ctx *ctx, const struct job *job)
{
  const struct rota *r = config_rota(ctx->config, job->ref);
  int64_t k = handoff_key_index(job->key);
  if (!r || k < 0) {
    LOG_INFO("handoff", "job_dropped", "key=%s note=\"no such rota any more\"", job->key);
    return 0;
  }
  struct rota_shift s;
  int rc = rota_shift_by_index(r, k, &s);
  if (rc) {
    LOG_WARN("handoff", "shift_unknown", "rota=%s shift=%lld err=%s", r->name, (long long)k,
             kx_err_name(rc));
    return 0;
  }
  if (s.start_ms == s.end_ms)
    return schedule_next(ctx, r, s.start_ms); /* skipped by holidays */
  if (ctx->now_ms < s.start_ms) {
    /* The handoff moved later (the config changed while this was pending). */
    return jobs_upsert(ctx->db, CMD_JOB_HANDOFF, job->key, s.start_ms, r->name, ctx->now_ms);
  }
  struct handoff_row done;
  rc = handoffs_by_shift(ctx->db, r->name, k, &done);
  handoff_row_clear(&done);
  if (rc == 0) {
    LOG_INFO("handoff", "already_done", "rota=%s shift=%lld", r->name, (long long)k);
  } else if (rc == KX_ENOTFOUND) {
    int64_t age = ctx->now_ms - s.start_ms;
    rc = age > HANDOFF_CATCHUP_MS ? record_missed(ctx, r, &s)
                                  : post_handoff(ctx, r, &s, age > HANDOFF_LATE_MS);
  }
  return rc ? rc : schedule_next(ctx, r, s.start_ms);
}

/* ---- after the post lands: the thread for notes ---------------------------------------------- */

int handoff_hook_posted(struct cmd_ctx *ctx,
                        const struct outbox_row *row,
                        const struct cmd_result *result)
{
  int64_t id = row->ref ? strtoll(row->ref, NULL, 10) : 0;
  if (!result->ok) {
    LOG_WARN("handoff", "post_failed", "id=%lld platform=%s error=%s", (long long)id,
             row->platform ? row->platform : "-", result->error ? result->error : "-");
    return 0;
  }
  if (!row->platform || strcmp(row->platform, "slack") != 0)
    return 0;
  const cJSON *ch = cJSON_GetObjectItemCaseSensitive(result->response, "channel");
  const cJSON *ts = cJSON_GetObjectItemCaseSensitive(result->response, "ts");
  if (!cJSON_IsString(ch) || !cJSON_IsString(ts))
    return 0;
  int rc = handoffs_set_message(ctx->db, id, ch->valuestring, ts->valuestring);
  if (rc == KX_ENOTFOUND)
    return 0;
  struct handoff_row h;
  if (rc == 0)
    rc = handoffs_get(ctx->db, id, &h);
  if (rc)
    return rc;
  struct msg *m = msg_new();
  if (!m)
    rc = KX_ENOMEM;
  if (rc == 0) {
    msg_set_fallback(m, "Notes for this shift go in this thread");
    msg_section(m,
                ":memo: *Notes for this shift go here.* Ongoing issues, maintenance, anything "
                "the next on-call should know: reply in this thread and I will put it in the "
                "next handoff.");
    rc = out_post_thread(ctx, ch->valuestring, ts->valuestring, m, OUTBOX_NORMAL);
  }
  msg_free(m);
  /* Pressed or timed out before the post's ts was known: bring the post up to date now. */
  const struct rota *r = config_rota(ctx->config, h.rota);
  if (rc == 0 && r && (h.acked_at || h.manager_told_at)) {
    m = handoff_message(ctx, r, &h);
    rc = m ? out_update(ctx, h.channel, h.ts, m, OUTBOX_NORMAL) : KX_ENOMEM;
    msg_free(m);
  }
  handoff_row_clear(&h);
  return rc;
}

/* ---- "I have the pager" ------------------------------------------------------------------------
 */

static bool holds_primary_now(struct cmd_ctx *ctx, const struct rota *r, const char *person)
{
  struct oncall_view v;
  if (oncall_at(ctx, r, ctx->now_ms, &v) != 0)
    return false;
  bool yes = v.now.started && kx_streq(v.now.primary.person, person);
  oncall_view_free(&v);
  return yes;
}

static int redraw(
    struct cmd_ctx *ctx, const struct rota *r, int64_t id, const char *channel, const char *ts)
{
  struct handoff_row h;
  int rc = handoffs_get(ctx->db, id, &h);
  if (rc)
    return rc;
  const char *c = h.channel ? h.channel : channel;
  const char *t = h.ts ? h.ts : ts;
  if (c && t) {
    struct msg *m = handoff_message(ctx, r, &h);
    rc = m ? out_update(ctx, c, t, m, OUTBOX_URGENT) : KX_ENOMEM;
    msg_free(m);
  }
  handoff_row_clear(&h);
  return rc;
}

int handoff_action_ack(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  char *end = NULL;
  long long id = req->action_value ? strtoll(req->action_value, &end, 10) : 0;
  struct handoff_row h;
  int rc = (id > 0 && end && *end == '\0') ? handoffs_get(ctx->db, id, &h) : KX_ENOTFOUND;
  if (rc == KX_ENOTFOUND) {
    cmd_reply_printf(reply, "I don't know that handoff any more.");
    return 0;
  }
  if (rc)
    return rc;
  const struct rota *r = config_rota(ctx->config, h.rota);
  const struct person *who = cmd_person_for_user(ctx, req->platform, req->user);
  char t[40];
  if (!r) {
    cmd_reply_printf(reply, "That rota is not in my config any more.");
  } else if (h.acked_at) {
    cmd_reply_printf(reply, "<@p:%s> has had the pager since %s.", h.acked_by ? h.acked_by : "?",
                     oncall_fmt_time(r, h.acked_at, t, sizeof(t)));
  } else if (!who || (!kx_streq(who->id, h.in_primary) && !holds_primary_now(ctx, r, who->id))) {
    if (h.in_primary)
      cmd_reply_printf(reply, "This button is for <@p:%s>, the incoming primary.", h.in_primary);
    else
      cmd_reply_printf(reply, "This button is for the incoming primary.");
  } else {
    rc = handoffs_ack(ctx->db, h.id, who->id, ctx->now_ms);
    if (rc == KX_ESTATE) {
      cmd_reply_printf(reply, "Someone has just taken the pager.");
      rc = 0;
    } else if (rc == 0) {
      char key[200];
      handoff_key(key, sizeof(key), CMD_JOB_HANDOFF_ACK, r->name, h.shift_index);
      rc = jobs_cancel(ctx->db, key, ctx->now_ms);
      rc = rc == KX_ENOTFOUND || rc > 0 ? 0 : rc;
      if (rc == 0)
        rc = redraw(ctx, r, h.id, req->channel, req->message_ts);
      if (rc == 0)
        cmd_reply_printf(reply, "Thanks: you have the pager for *%s*. Good luck!", r->name);
      LOG_INFO("handoff", "pager_taken", "rota=%s shift=%lld person=%s", r->name,
               (long long)h.shift_index, who->id);
    }
  }
  handoff_row_clear(&h);
  return rc;
}

/* ---- replies in the handoff's thread become notes ------------------------------------------- */

int handoff_event_message(struct cmd_ctx *ctx,
                          const struct cmd_request *req,
                          struct cmd_reply *reply)
{
  (void)reply;
  if (req->platform != CMD_PLATFORM_SLACK || !req->thread_ts || !req->channel || !req->text ||
      !req->text[0] || kx_streq(req->thread_ts, req->message_ts))
    return 0;
  struct handoff_row h;
  int rc = handoffs_by_message(ctx->db, req->channel, req->thread_ts, &h);
  if (rc == KX_ENOTFOUND)
    return 0;
  if (rc)
    return rc;
  const struct person *p = cmd_person_for_user(ctx, req->platform, req->user);
  char *text = md_unescape(req->text);
  rc =
      text ? notes_add(ctx->db, h.rota, p ? p->id : req->user, text, ctx->now_ms, NULL) : KX_ENOMEM;
  free(text);
  if (rc == 0 && req->message_ts) {
    /* A :memo: on the reply says it was taken. */
    cJSON *body = cJSON_CreateObject();
    if (body) {
      cJSON_AddStringToObject(body, "channel", req->channel);
      cJSON_AddStringToObject(body, "timestamp", req->message_ts);
      cJSON_AddStringToObject(body, "name", "memo");
    }
    rc = out_slack_call(ctx, "reactions.add", req->channel, body, OUTBOX_BULK, NULL, NULL, NULL);
  }
  if (rc == 0)
    LOG_INFO("handoff", "thread_note", "rota=%s user=%s", h.rota, req->user ? req->user : "-");
  handoff_row_clear(&h);
  return rc;
}

/* ---- start-up ----------------------------------------------------------------------------------
 */

static int startup_rota(struct cmd_ctx *ctx, const struct rota *r)
{
  if (rota_problem(r)) {
    LOG_WARN("handoff", "rota_unusable", "rota=%s", r->name);
    return 0;
  }
  struct rota_shift cur;
  bool started = rota_shift_at(r, ctx->now_ms, &cur) == 0;
  int rc = 0;
  bool catching_up = false;
  if (started) {
    /* This shift's handoff still pending: the bot was down at that time; the job runs now
     * and schedules what follows. */
    char key[200];
    handoff_key(key, sizeof(key), CMD_JOB_HANDOFF, r->name, cur.index);
    rc = jobs_pending(ctx->db, key);
    if (rc < 0)
      return rc;
    catching_up = rc == 1;
    rc = 0;
  }
  if (!catching_up)
    rc = schedule_next(ctx, r, ctx->now_ms);
  if (rc == 0)
    rc = handoff_schedule_digest(ctx, r, ctx->now_ms);
  return rc;
}

int handoff_startup(struct cmd_ctx *ctx)
{
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < ctx->config->n_rotas; i++)
    rc = startup_rota(ctx, &ctx->config->rotas[i]);
  return rc;
}
