/*
 * paging_notify.c — reaching a person (issue 11): their own rules, in order (people[].notify;
 * without rules: chat at once, then email after 5 minutes), each method an attempt with a
 * delivery state (storage/pages.h). Rule 0 fires when the person is paged; rule i is the job
 * "page:<id>:notify:<person>:<step>:<i>" due at the time rule 0 fired plus its `after`, so
 * acknowledge and resolve cancel it with the page's other jobs. An attempt that ends in a dead
 * end (a DM refused for good, Twilio's 4xx, undelivered, no answer, voicemail, Slack's Do Not
 * Disturb, nowhere to send) starts the next rule at once. Every rule fires once per step:
 * the attempts' unique key makes a redelivered job or a repeated callback do nothing twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/core/links.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "commands/paging/paging.h"
#include "lib/buf.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "lib/timeutil.h"

#define DEFAULT_EMAIL_AFTER_MS (5 * 60 * 1000LL)
#define SMS_TITLE_MAX 120

static const struct notify_rule DEFAULT_RULES[] = {{0, VIA_CHAT},
                                                   {DEFAULT_EMAIL_AFTER_MS, VIA_EMAIL}};

static size_t rules_of(const struct person *who, const struct notify_rule **out)
{
  if (who->n_notify) {
    *out = who->notify;
    return who->n_notify;
  }
  *out = DEFAULT_RULES;
  return who->email ? 2 : 1;
}

static const char *via_name(unsigned via);

const char *paging_via_name(unsigned via)
{
  return via_name(via);
}

unsigned paging_via_named(const char *name)
{
  static const struct {
    const char *name;
    unsigned via;
  } NAMES[] = {{"chat", VIA_CHAT}, {"dm", VIA_CHAT},  {"email", VIA_EMAIL}, {"push", VIA_PUSH},
               {"sms", VIA_SMS},   {"text", VIA_SMS}, {"voice", VIA_VOICE}, {"call", VIA_VOICE}};
  for (size_t i = 0; name && i < sizeof(NAMES) / sizeof(NAMES[0]); i++)
    if (strcasecmp(name, NAMES[i].name) == 0)
      return NAMES[i].via;
  return 0;
}

static const char *via_name(unsigned via)
{
  switch (via) {
    case VIA_CHAT:
      return "chat";
    case VIA_EMAIL:
      return "email";
    case VIA_PUSH:
      return "push";
    case VIA_SMS:
      return "sms";
    case VIA_VOICE:
      return "voice";
    default:
      return "?";
  }
}

static bool dead_end(const char *state)
{
  static const char *const DEAD[] = {"failed",    "undelivered", "no-answer",   "busy", "canceled",
                                     "voicemail", "snoozed",     "unreachable", NULL};
  for (size_t i = 0; state && DEAD[i]; i++)
    if (strcmp(state, DEAD[i]) == 0)
      return true;
  return false;
}

static const double DELIVERY_BOUNDS[] = {1, 2, 5, 10, 15, 30, 60, 120, 300, 600};

/* Declared on first use: the counters belong to the attempts, wherever they run. */
static void declare_metrics(void)
{
  static bool done;
  if (done)
    return;
  done = true;
  metrics_describe("klaxon_notifications_total", METRIC_COUNTER,
                   "Attempts to reach a person and their outcomes, by method");
  metrics_histogram("klaxon_page_delivery_seconds",
                    "From an attempt to its delivery (SMS delivered, call answered, push sent)",
                    DELIVERY_BOUNDS, sizeof(DELIVERY_BOUNDS) / sizeof(DELIVERY_BOUNDS[0]));
}

void paging_notify_metrics(void)
{
  declare_metrics();
}

static void count(const char *via, const char *result)
{
  declare_metrics();
  char labels[96];
  snprintf(labels, sizeof(labels), "via=\"%s\",result=\"%s\"", via, result);
  metrics_inc("klaxon_notifications_total", labels, 1);
}

static void notify_key(char *buf, size_t n, int64_t page, const char *person, int64_t step, int r)
{
  snprintf(buf, n, "page:%lld:notify:%s:%lld:%d", (long long)page, person, (long long)step, r);
}

/* ---- one attempt per method ------------------------------------------------------------------ */

struct fire {
  struct cmd_ctx *ctx;
  const struct page_row *p;
  const struct person *who;
  int64_t step;
  int rule;
};

static int add_attempt(const struct fire *f,
                       unsigned via,
                       const char *dest,
                       int64_t copy_id,
                       const char *state,
                       const char *error,
                       int64_t *id)
{
  struct page_attempt_new a = {f->p->id, f->who->id, f->step, f->rule, via_name(via),
                               dest,     copy_id,    state,   error,   f->ctx->now_ms};
  int rc = page_attempts_add(f->ctx->db, &a, id);
  if (rc == 0)
    count(via_name(via), state);
  return rc;
}

/* A method with nowhere to go: recorded, so the page and /oncall pages say why. */
static int unreachable(const struct fire *f, unsigned via, const char *why)
{
  LOG_WARN("paging", "method_unreachable", "page=%lld person=%s via=%s why=\"%s\"",
           (long long)f->p->id, f->who->id, via_name(via), why);
  int rc = add_attempt(f, via, NULL, 0, "unreachable", why, NULL);
  return rc == KX_EEXISTS ? 0 : rc;
}

static char *page_url(struct cmd_ctx *ctx, const char *path, int64_t attempt)
{
  if (!ctx->public_url || !*ctx->public_url)
    return NULL;
  return kx_asprintf("%s%s?attempt=%lld", ctx->public_url, path, (long long)attempt);
}

static int via_chat(const struct fire *f, bool *live)
{
  struct cmd_ctx *ctx = f->ctx;
  char *uid = cmd_person_slack(ctx, f->who);
  char *tid = !uid && ctx->config->teams.app_id ? cmd_person_teams(ctx, f->who) : NULL;
  if (!uid && !tid)
    return unreachable(f, VIA_CHAT, "no Slack or Teams id");
  int64_t copy = 0, id = 0;
  int rc = paging_post_copy(ctx, f->p, "dm", f->who->id, uid ? uid : tid, f->step,
                            paging_after_hours(ctx, f->p), &copy);
  if (rc == 0)
    rc = add_attempt(f, VIA_CHAT, uid ? uid : tid, copy, "queued", NULL, &id);
  if (rc == 0 && uid) {
    /* Do Not Disturb silences a bot's DM: ask, and move on at once when it is on. */
    cJSON *body = cJSON_CreateObject();
    if (body)
      cJSON_AddStringToObject(body, "user", uid);
    char ref[32];
    snprintf(ref, sizeof(ref), "%lld", (long long)id);
    rc = out_slack_call(ctx, "dnd.info", "dnd", body, OUTBOX_URGENT, CMD_HOOK_PAGE_DND, ref, NULL);
  }
  free(uid);
  free(tid);
  if (rc == 0)
    *live = true;
  return rc == KX_EEXISTS ? 0 : rc;
}

static int via_email(const struct fire *f, bool *live)
{
  if (!f->who->email)
    return unreachable(f, VIA_EMAIL, "no email address");
  if (!f->ctx->config->smtp.url)
    return unreachable(f, VIA_EMAIL, "email is off (no smtp.url)");
  int64_t id = 0;
  int rc = add_attempt(f, VIA_EMAIL, f->who->email, 0, "queued", NULL, &id);
  if (rc)
    return rc == KX_EEXISTS ? 0 : rc;
  char ref[32];
  snprintf(ref, sizeof(ref), "%lld", (long long)id);
  char *link = paging_ack_link(f->ctx, id);
  struct paging_email_opts o = {.after_hours = paging_after_hours(f->ctx, f->p),
                                .ack_link = link,
                                .hook = CMD_HOOK_PAGE_ATTEMPT,
                                .ref = ref};
  rc = paging_email_copy(f->ctx, f->p, f->who->id, f->who->email, f->step, &o);
  free(link);
  if (rc == 0)
    *live = true;
  return rc;
}

/* The page in a line: "[P1] Checkout 5xx above 2% (page 12)". */
static void headline(struct buf *b, const struct page_row *p, size_t title_max)
{
  size_t len = strlen(p->title), cut = len > title_max ? title_max : len;
  /* Cut on a character, not inside one: an SMS must stay valid UTF-8. */
  while (cut < len && cut > 0 && ((unsigned char)p->title[cut] & 0xC0) == 0x80)
    cut--;
  buf_printf(b, "%s[%s] %.*s%s", strcmp(p->kind, "test") == 0 ? "TEST " : "",
             p->severity ? p->severity : "-", (int)cut, p->title, cut < len ? "…" : "");
}

static int via_push(const struct fire *f, bool *live)
{
  struct cmd_ctx *ctx = f->ctx;
  const struct page_row *p = f->p;
  if (!f->who->push)
    return unreachable(f, VIA_PUSH, "no push URL");
  int64_t id = 0;
  int rc = add_attempt(f, VIA_PUSH, f->who->push, 0, "queued", NULL, &id);
  if (rc)
    return rc == KX_EEXISTS ? 0 : rc;
  char *link = paging_ack_link(ctx, id);
  struct buf title, text;
  buf_init(&title, 512);
  buf_init(&text, 4096);
  headline(&title, p, 200);
  buf_printf(&text, "%s%sPage #%lld%s%s", p->summary ? p->summary : "", p->summary ? "\n" : "",
             (long long)p->id, p->rota ? " · rota " : "", p->rota ? p->rota : "");
  cJSON *body = cJSON_CreateObject();
  cJSON *headers = body ? cJSON_AddObjectToObject(body, "headers") : NULL;
  if (!headers) {
    rc = KX_ENOMEM;
  } else if (f->who->push_webhook) {
    /* A generic webhook: one documented JSON object (docs/paging.md). */
    cJSON *event = cJSON_CreateObject();
    if (event) {
      cJSON_AddStringToObject(event, "event", "klaxon.page");
      cJSON_AddNumberToObject(event, "page_id", (double)p->id);
      cJSON_AddStringToObject(event, "person", f->who->id);
      cJSON_AddStringToObject(event, "title", p->title);
      cJSON_AddStringToObject(event, "severity", p->severity ? p->severity : "");
      cJSON_AddStringToObject(event, "summary", p->summary ? p->summary : "");
      cJSON_AddStringToObject(event, "rota", p->rota ? p->rota : "");
      cJSON_AddBoolToObject(event, "test", strcmp(p->kind, "test") == 0);
      if (link)
        cJSON_AddStringToObject(event, "ack_url", link);
      else
        cJSON_AddNullToObject(event, "ack_url");
    }
    char *json = event ? cJSON_PrintUnformatted(event) : NULL;
    cJSON_Delete(event);
    cJSON_AddStringToObject(headers, "Content-Type", "application/json");
    cJSON_AddStringToObject(body, "body", json ? json : "{}");
    free(json);
  } else {
    /* ntfy: the message as the body, the rest as headers (docs.ntfy.sh/publish). */
    cJSON_AddStringToObject(headers, "Title", title.data ? title.data : "klaxon page");
    cJSON_AddStringToObject(headers, "Priority", strcmp(p->kind, "test") == 0 ? "3" : "5");
    cJSON_AddStringToObject(headers, "Tags", "rotating_light");
    if (link) {
      char *action = kx_asprintf("http, Acknowledge, %s, method=POST, clear=true", link);
      if (action)
        cJSON_AddStringToObject(headers, "Actions", action);
      free(action);
      cJSON_AddStringToObject(headers, "Click", link);
    }
    cJSON_AddStringToObject(body, "body", text.data ? text.data : "");
  }
  if (rc == 0) {
    cJSON_AddStringToObject(body, "url", f->who->push);
    char ref[32], queue[96];
    snprintf(ref, sizeof(ref), "%lld", (long long)id);
    snprintf(queue, sizeof(queue), "push:%s", f->who->id);
    rc = out_row(ctx, "push", "publish", queue, body, OUTBOX_URGENT, CMD_HOOK_PAGE_ATTEMPT, ref,
                 NULL);
    body = NULL;
  }
  cJSON_Delete(body);
  buf_free(&title);
  buf_free(&text);
  free(link);
  if (rc == 0)
    *live = true;
  return rc;
}

static int via_twilio(const struct fire *f, unsigned via, bool *live)
{
  struct cmd_ctx *ctx = f->ctx;
  const struct page_row *p = f->p;
  if (!f->who->phone)
    return unreachable(f, via, "no phone number");
  if (!ctx->config->twilio.from)
    return unreachable(f, via, "Twilio is not configured (twilio.from)");
  if (via == VIA_VOICE && (!ctx->public_url || !*ctx->public_url))
    return unreachable(f, via, "a call needs public_url (Twilio fetches what to say there)");
  int64_t id = 0;
  int rc = add_attempt(f, via, f->who->phone, 0, "queued", NULL, &id);
  if (rc)
    return rc == KX_EEXISTS ? 0 : rc;
  cJSON *body = cJSON_CreateObject();
  if (!body)
    return KX_ENOMEM;
  cJSON_AddStringToObject(body, "To", f->who->phone);
  cJSON_AddStringToObject(body, "From", ctx->config->twilio.from);
  char *status = page_url(ctx, "/twilio/status", id);
  if (status)
    cJSON_AddStringToObject(body, "StatusCallback", status);
  if (via == VIA_SMS) {
    struct buf b;
    buf_init(&b, 1024);
    headline(&b, p, SMS_TITLE_MAX);
    char *link = paging_ack_link(ctx, id);
    if (link)
      buf_printf(&b, " %s", link);
    buf_printf(&b, " Reply 1 to acknowledge, 2 to escalate, 3 to resolve (page %lld).",
               (long long)p->id);
    free(link);
    cJSON_AddStringToObject(body, "Body", b.data ? b.data : "klaxon page");
    buf_free(&b);
  } else {
    char *url = page_url(ctx, "/twilio/voice", id);
    cJSON_AddStringToObject(body, "Url", url ? url : "");
    free(url);
    /* An answering machine is told, but it does not count as the person answering. */
    cJSON_AddStringToObject(body, "MachineDetection", "Enable");
  }
  free(status);
  char ref[32], queue[96];
  snprintf(ref, sizeof(ref), "%lld", (long long)id);
  snprintf(queue, sizeof(queue), "twilio:%s", f->who->id);
  rc = out_row(ctx, "twilio", via == VIA_SMS ? "Messages" : "Calls", queue, body, OUTBOX_URGENT,
               CMD_HOOK_PAGE_ATTEMPT, ref, NULL);
  if (rc == 0)
    *live = true;
  return rc;
}

/* ---- rules ------------------------------------------------------------------------------------
 */

static int fire_rule(struct cmd_ctx *ctx,
                     const struct page_row *p,
                     const struct person *who,
                     int64_t step,
                     int r,
                     int64_t start_ms);

static int schedule_rule(struct cmd_ctx *ctx,
                         const struct page_row *p,
                         const struct person *who,
                         int64_t step,
                         int r,
                         int64_t due)
{
  char key[160], ref[160];
  notify_key(key, sizeof(key), p->id, who->id, step, r);
  snprintf(ref, sizeof(ref), "%lld|%lld|%d|%s", (long long)p->id, (long long)step, r, who->id);
  int rc = jobs_schedule(ctx->db, CMD_JOB_PAGE_NOTIFY, key, due < ctx->now_ms ? ctx->now_ms : due,
                         ref, ctx->now_ms);
  return rc == KX_EEXISTS ? 0 : rc;
}

static int fire_rule(struct cmd_ctx *ctx,
                     const struct page_row *p,
                     const struct person *who,
                     int64_t step,
                     int r,
                     int64_t start_ms)
{
  const struct notify_rule *rules;
  int n = (int)rules_of(who, &rules);
  if (r < 0 || r >= n || p->state != PAGE_OPEN)
    return 0;
  int fired = page_attempts_fired(ctx->db, p->id, who->id, step, r);
  if (fired != 0)
    return fired < 0 ? fired : 0;
  struct fire f = {ctx, p, who, step, r};
  bool live = false;
  int rc = 0;
  for (unsigned via = VIA_CHAT; rc == 0 && via <= VIA_VOICE; via <<= 1) {
    if (!(rules[r].via & via))
      continue;
    rc = via == VIA_CHAT    ? via_chat(&f, &live)
         : via == VIA_EMAIL ? via_email(&f, &live)
         : via == VIA_PUSH  ? via_push(&f, &live)
                            : via_twilio(&f, via, &live);
  }
  if (rc)
    return rc;
  LOG_INFO("paging", "notified", "page=%lld person=%s step=%lld rule=%d live=%d", (long long)p->id,
           who->id, (long long)step, r, live ? 1 : 0);
  if (r + 1 >= n)
    return 0;
  if (!live) {
    /* Nothing of this rule can reach them: the next one now, not in `after`. */
    char key[160];
    notify_key(key, sizeof(key), p->id, who->id, step, r + 1);
    jobs_cancel(ctx->db, key, ctx->now_ms);
    return fire_rule(ctx, p, who, step, r + 1, start_ms);
  }
  return schedule_rule(ctx, p, who, step, r + 1, start_ms + rules[r + 1].after_ms);
}

int paging_notify_via(struct cmd_ctx *ctx,
                      const struct page_row *p,
                      const struct person *who,
                      int64_t step,
                      unsigned via)
{
  struct fire f = {ctx, p, who, step, 0};
  bool live = false;
  return via == VIA_CHAT    ? via_chat(&f, &live)
         : via == VIA_EMAIL ? via_email(&f, &live)
         : via == VIA_PUSH  ? via_push(&f, &live)
                            : via_twilio(&f, via, &live);
}

int paging_notify_person(struct cmd_ctx *ctx,
                         const struct page_row *p,
                         const struct person *who,
                         int64_t step)
{
  if (p->state != PAGE_OPEN) {
    /* An acknowledged page shown to someone (the manager brought in by a missed resolve
     * target): they are told in chat; nobody is woken for a page someone already has. */
    struct fire f = {ctx, p, who, step, 0};
    bool live = false;
    return via_chat(&f, &live);
  }
  return fire_rule(ctx, p, who, step, 0, ctx->now_ms);
}

static int started_at(
    struct cmd_ctx *ctx, int64_t page, const char *person, int64_t step, int64_t *out)
{
  struct page_attempt *a = NULL;
  size_t n = 0;
  int rc = page_attempts_list(ctx->db, page, &a, &n);
  *out = ctx->now_ms;
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (a[i].step == step && strcmp(a[i].person, person) == 0 && a[i].created_at < *out)
      *out = a[i].created_at;
  page_attempts_free(a, n);
  return rc;
}

int paging_job_notify(struct cmd_ctx *ctx, const struct job *job)
{
  long long page = 0, step = 0;
  int r = 0, used = 0;
  if (!job->ref || sscanf(job->ref, "%lld|%lld|%d|%n", &page, &step, &r, &used) != 3 || !used)
    return 0;
  const struct person *who = config_person(ctx->config, job->ref + used);
  if (!who) {
    LOG_WARN("paging", "notify_person_gone", "ref=%s", job->ref);
    return 0;
  }
  struct page_row p;
  int rc = pages_get(ctx->db, page, &p);
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  int64_t start;
  rc = started_at(ctx, page, who->id, step, &start);
  if (rc == 0)
    rc = fire_rule(ctx, &p, who, step, r, start);
  page_row_clear(&p);
  return rc;
}

/* ---- what came back -----------------------------------------------------------------------------
 */

static int move_on(struct cmd_ctx *ctx, const struct page_attempt *a)
{
  const struct person *who = config_person(ctx->config, a->person);
  if (!who)
    return 0;
  struct page_row p;
  int rc = pages_get(ctx->db, a->page_id, &p);
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  int64_t start;
  rc = started_at(ctx, a->page_id, who->id, a->step, &start);
  /* A test of one method (/oncall notify test) says how it went; it never moves on. */
  bool one_method = strcmp(p.kind, "test") == 0 && strcmp(p.source, "notify-test") == 0;
  if (rc == 0 && p.state == PAGE_OPEN && !one_method) {
    LOG_INFO("paging", "next_method_now", "page=%lld person=%s after=%s rule=%d", (long long)p.id,
             who->id, a->via, a->rule + 1);
    char key[160];
    notify_key(key, sizeof(key), p.id, who->id, a->step, a->rule + 1);
    jobs_cancel(ctx->db, key, ctx->now_ms);
    rc = fire_rule(ctx, &p, who, a->step, a->rule + 1, start);
  }
  page_row_clear(&p);
  return rc;
}

static void observe_delivery(const struct page_attempt *a, int64_t now_ms, const char *state)
{
  if (a->delivered_at || (strcmp(state, "delivered") != 0 && strcmp(state, "answered") != 0))
    return;
  char labels[48];
  declare_metrics();
  snprintf(labels, sizeof(labels), "via=\"%s\"", a->via);
  metrics_observe("klaxon_page_delivery_seconds", labels, (double)(now_ms - a->created_at) / 1e3);
}

int paging_attempt_update(
    struct cmd_ctx *ctx, int64_t id, const char *state, const char *provider_id, const char *error)
{
  struct page_attempt a;
  int rc = page_attempts_get(ctx->db, id, &a);
  if (rc)
    return rc;
  bool was_dead = dead_end(a.state);
  bool same = strcmp(a.state, state) == 0;
  /* A late "sent" after "delivered" (callbacks can cross) does not take a state back. */
  bool backwards = (strcmp(a.state, "delivered") == 0 || strcmp(a.state, "answered") == 0 ||
                    strcmp(a.state, "completed") == 0 || was_dead) &&
                   (strcmp(state, "queued") == 0 || strcmp(state, "sent") == 0 ||
                    strcmp(state, "sending") == 0 || strcmp(state, "ringing") == 0 ||
                    strcmp(state, "initiated") == 0 || strcmp(state, "in-progress") == 0);
  /* A call that was answered and then completed stays "answered". */
  if (strcmp(a.state, "answered") == 0 && strcmp(state, "completed") == 0)
    backwards = true;
  /* A dead end is final: the next method has started. The DM's own post can land after
   * dnd.info said the person is snoozed (two queues): it stays "snoozed". */
  if (was_dead)
    backwards = true;
  if (!same && !backwards) {
    observe_delivery(&a, ctx->now_ms, state);
    rc = page_attempts_set_state(ctx->db, id, state, provider_id, error, ctx->now_ms);
    if (rc == 0)
      count(a.via, state);
    if (rc == 0 && !was_dead && dead_end(state))
      rc = move_on(ctx, &a);
    /* The page's messages show how far each method got: a DM posted shows itself; every
     * other delivery, and every dead end, is news. */
    bool news =
        dead_end(state) || (strcmp(a.via, "chat") != 0 &&
                            (strcmp(state, "delivered") == 0 || strcmp(state, "answered") == 0));
    if (rc == 0 && news) {
      rc = pages_bump(ctx->db, a.page_id);
      if (rc == 0)
        rc = paging_refresh(ctx, a.page_id);
    }
  } else if (provider_id && !a.provider_id) {
    rc = page_attempts_set_state(ctx->db, id, a.state, provider_id, NULL, ctx->now_ms);
  }
  page_attempt_clear(&a);
  return rc;
}

static int64_t ref_num(const struct outbox_row *row)
{
  return row->ref ? strtoll(row->ref, NULL, 10) : 0;
}

/* What Twilio, the push service or the mail relay said of a row. */
int paging_hook_attempt(struct cmd_ctx *ctx,
                        const struct outbox_row *row,
                        const struct cmd_result *r)
{
  int64_t id = ref_num(row);
  if (!r->ok) {
    LOG_WARN("paging", "attempt_failed", "attempt=%lld platform=%s error=\"%s\"", (long long)id,
             row->platform, r->error ? r->error : "-");
    int rc = paging_attempt_update(ctx, id, "failed", NULL, r->error ? r->error : "failed");
    return rc == KX_ENOTFOUND ? 0 : rc;
  }
  const char *state = "sent", *sid = NULL;
  if (strcmp(row->platform, "twilio") == 0) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(r->response, "sid");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(r->response, "status");
    sid = cJSON_IsString(s) ? s->valuestring : NULL;
    if (cJSON_IsString(st) && strcmp(st->valuestring, "queued") != 0)
      state = st->valuestring;
  }
  int rc = paging_attempt_update(ctx, id, state, sid, NULL);
  return rc == KX_ENOTFOUND ? 0 : rc;
}

/* dnd.info: {"dnd_enabled", "next_dnd_start_ts", "next_dnd_end_ts", "snooze_enabled"}. */
int paging_hook_dnd(struct cmd_ctx *ctx, const struct outbox_row *row, const struct cmd_result *r)
{
  if (!r->ok || !r->response)
    return 0; /* not knowing is not a reason to skip the DM */
  const cJSON *snooze = cJSON_GetObjectItemCaseSensitive(r->response, "snooze_enabled");
  const cJSON *dnd = cJSON_GetObjectItemCaseSensitive(r->response, "dnd_enabled");
  const cJSON *from = cJSON_GetObjectItemCaseSensitive(r->response, "next_dnd_start_ts");
  const cJSON *to = cJSON_GetObjectItemCaseSensitive(r->response, "next_dnd_end_ts");
  double now_s = (double)ctx->now_ms / 1000.0;
  bool quiet =
      cJSON_IsTrue(snooze) || (cJSON_IsTrue(dnd) && cJSON_IsNumber(from) && cJSON_IsNumber(to) &&
                               from->valuedouble <= now_s && now_s < to->valuedouble);
  if (!quiet)
    return 0;
  int64_t id = ref_num(row);
  LOG_INFO("paging", "dnd_on", "attempt=%lld: the DM does not count", (long long)id);
  int rc = paging_attempt_update(ctx, id, "snoozed", NULL, "Slack Do Not Disturb");
  return rc == KX_ENOTFOUND ? 0 : rc;
}

/* ---- how far it got, in a line ------------------------------------------------------------------
 */

static const char *shown_via(const char *via)
{
  return strcmp(via, "sms") == 0         ? "SMS"
         : strcmp(via, "voice") == 0     ? "call"
         : strcmp(via, "push") == 0      ? "push"
         : strcmp(via, "email") == 0     ? "email"
         : strcmp(via, "pagerduty") == 0 ? "PagerDuty"
                                         : "DM";
}

char *paging_attempts_line(struct cmd_ctx *ctx, int64_t page_id)
{
  struct page_attempt *a = NULL;
  size_t n = 0;
  if (page_attempts_list(ctx->db, page_id, &a, &n) != 0 || n == 0) {
    page_attempts_free(a, n);
    return NULL;
  }
  struct buf b;
  buf_init(&b, 2048);
  const char *zone = ctx->config->timezone ? ctx->config->timezone : "UTC";
  for (size_t i = 0; i < n; i++) {
    if (strcmp(a[i].state, "queued") == 0)
      continue;
    char t[40];
    time_format_zone(a[i].updated_at, zone, t, sizeof(t));
    buf_printf(&b, "%s%s %s %.5s", b.len ? " · " : "", shown_via(a[i].via), a[i].state,
               strlen(t) >= 16 ? t + 11 : t);
    if (a[i].acked_at)
      buf_printf(&b, " · acknowledged by %s",
                 strcmp(a[i].via, "voice") == 0 ? "voice"
                 : strcmp(a[i].via, "sms") == 0 ? "SMS"
                                                : "link");
  }
  page_attempts_free(a, n);
  if (!b.len) {
    buf_free(&b);
    return NULL;
  }
  return buf_take(&b);
}
