/*
 * sender_lease.c — the outbox sender's lease and the rows it finds in doubt (issue 12; docs/ha.md
 * "The outbox lease").
 *
 * Several instances share one database; one sends the outbox: the one that holds the lease
 * "outbox" (storage/leases.h). This file keeps it: a timer renews it every LEASE_RENEW_MS while
 * held, and a standby tries to take it every LEASE_STANDBY_MS, which succeeds once the holder
 * has let it expire. The pump (sender.c) sends only while sender_lease_held(): the lease was
 * renewed less than LEASE_TTL_MS - LEASE_MARGIN_MS ago on this host's monotonic clock (which
 * also runs while the process is stopped, so a process that was frozen does not send on an old
 * renewal), and the last renewal did not fail.
 *
 * Each takeover bumps the epoch. A row started under an older epoch and still pending is in
 * doubt: its call may have reached the platform or not. A chat.postMessage names its row in
 * Slack message metadata, so it is looked for first (conversations.history with
 * include_all_metadata) and recorded as sent when found; everything else converges (chat.update,
 * topics, user groups …) and is simply sent again.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/clock.h"
#include "bot/dbtask.h"
#include "bot/sender_internal.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "lib/metrics.h"
#include "storage/leases.h"

#define DOUBT_EVENT_TYPE "klaxon_outbox"
#define DOUBT_HISTORY_LIMIT "200" /* recent messages looked at in the row's channel */

static void set_metrics(const struct sender *s)
{
  metrics_set("klaxon_outbox_lease_epoch", "", (double)(s->lease.valid_until ? s->lease.epoch : 0));
  metrics_set("klaxon_outbox_lease_held", "", sender_lease_held(s) ? 1 : 0);
}

/* Where this process's pids mean something: the host name and the pid namespace (containers
 * that share a host name, e.g. with host networking, have their own pids: a pid of another
 * namespace says nothing here). "host@4026531836", no ':' in it. */
static void pid_space(char *out, size_t size)
{
  char host[64] = "", ns[64] = "";
  if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
    snprintf(host, sizeof(host), "host");
  ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
  ns[n > 0 ? n : 0] = '\0';
  const char *digits = strchr(ns, '[');
  /* The boot too: two hosts (or VMs cloned) may share a host name and, for the first
   * namespace, its number. */
  char boot[40] = "0";
  FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
  if (f) {
    if (!fgets(boot, sizeof(boot), f))
      snprintf(boot, sizeof(boot), "0");
    fclose(f);
  }
  boot[8] = '\0';
  snprintf(out, size, "%s@%.8s-%.20s", host, boot, digits ? digits + 1 : "0");
  char *close = strchr(out, ']');
  if (close)
    *close = '\0';
  for (char *p = out; *p; p++)
    if (*p == ':')
      *p = '_';
}

/* Is the lease's holder a process of this host that is gone (killed, crashed, or this
 * process's former self in a container restarted with the same pid)? Then its lease need not
 * run out before it is taken over. A stopped (SIGSTOP) process still exists: it is waited for. */
static bool holder_dead(const struct sender_lease *l, const char *other)
{
  char host[96] = "";
  pid_space(host, sizeof(host));
  if (!other[0] || strcmp(other, l->holder) == 0)
    return false;
  size_t hl = strlen(host);
  if (strncmp(other, host, hl) != 0 || other[hl] != ':')
    return false;
  char *end = NULL;
  long pid = strtol(other + hl + 1, &end, 10);
  if (!end || *end != ':' || pid <= 0)
    return false;
  if (pid == (long)getpid())
    return true; /* our pid, another random part: a former process */
  return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Another holder's lease: when that holder is known dead, take it over now. */
static int take_from_dead(struct sender *s, int64_t *epoch)
{
  struct leases_state cur;
  if (leases_get(s->ctx->db, LEASES_OUTBOX, &cur) != 0 || !holder_dead(&s->lease, cur.holder))
    return KX_EEXISTS;
  int rc = leases_take_from(s->ctx->db, LEASES_OUTBOX, s->lease.holder, cur.holder, cur.epoch,
                            LEASE_TTL_MS, epoch);
  if (rc == 0)
    LOG_INFO("sender", "outbox_lease_holder_gone", "holder=%s epoch=%lld", cur.holder,
             (long long)cur.epoch);
  return rc;
}

static void renew(struct sender *s);

static void renew_task(void *arg)
{
  struct sender *s = arg;
  s->lease.queued = false;
  if (!s->lease.released)
    renew(s);
}

/* The renewal asks the database: a task (dbtask.h), one queued at a time. */
static void on_lease_timer(uv_timer_t *t)
{
  struct sender *s = t->data;
  if (dbtask_here()) {
    renew(s);
  } else if (!s->lease.queued) {
    s->lease.queued = true;
    dbtask_run(renew_task, s);
  }
}

static void renew(struct sender *s)
{
  struct sender_lease *l = &s->lease;
  uint64_t began = clock_mono_ms();
  int64_t epoch = l->epoch;
  /* Before taking the lease over: was the sender before us sending until a moment ago (its
   * lease cut short by a kill or a freeze), or did it let go (a clean stop) or fall silent long
   * ago? Only in the first case may Slack's budget be spent. */
  struct leases_state prev = {.expires_at = 0};
  int64_t db_now = 0;
  if (!l->valid_until && !(s->db_down && *s->db_down) &&
      leases_get(s->ctx->db, LEASES_OUTBOX, &prev) == 0)
    db_now = leases_clock_ms(s->ctx->db);
  /* A database known down is not asked (the call would wait for the connect timeout on the
   * loop): the renewal fails, and sending stops as below. */
  int rc = s->db_down && *s->db_down
               ? KX_EIO
               : leases_acquire(s->ctx->db, LEASES_OUTBOX, l->holder, LEASE_TTL_MS, &epoch);
  if (rc == KX_EEXISTS)
    rc = take_from_dead(s, &epoch);
  uint64_t next = LEASE_RENEW_MS;
  if (rc == 0) {
    bool taken = epoch != l->epoch || !l->valid_until;
    if (epoch != l->epoch) {
      LOG_INFO("sender", "outbox_lease_taken", "epoch=%lld holder=%s", (long long)epoch, l->holder);
      metrics_inc("klaxon_outbox_lease_takeovers_total", "", 1);
      /* Slack's limits are the workspace's, not this process's: a sender cut short a moment
       * ago may have spent the bursts, so this one starts with them spent. */
      if (epoch > 1 && prev.expires_at > 0 && db_now > 0 && prev.expires_at > db_now - 60000)
        sender_rate_start_spent(s);
    }
    l->epoch = epoch;
    l->valid_until = began + LEASE_TTL_MS - LEASE_MARGIN_MS;
    if (taken && !s->stopping)
      sender_kick(s);
  } else if (rc == KX_EEXISTS) {
    if (l->epoch)
      LOG_WARN("sender", "outbox_lease_lost", "epoch=%lld note=\"another instance holds it\"",
               (long long)l->epoch);
    l->epoch = 0;
    l->valid_until = 0;
    next = LEASE_STANDBY_MS;
  } else {
    /* The database did not answer: stop sending now, keep the epoch, and try to renew it soon
     * (nobody else can have it while its epoch is still ours). */
    if (l->valid_until)
      LOG_WARN("sender", "outbox_lease_renew_failed", "epoch=%lld err=%s", (long long)l->epoch,
               kx_err_name(rc));
    l->valid_until = 0;
    next = LEASE_RETRY_MS;
  }
  set_metrics(s);
  if (!s->stopping)
    uv_timer_start(&l->timer, on_lease_timer, next, 0);
}

void sender_lease_start(struct sender *s)
{
  struct sender_lease *l = &s->lease;
  char host[96] = "";
  pid_space(host, sizeof(host));
  snprintf(l->holder, sizeof(l->holder), "%s:%ld:%08x", host, (long)getpid(),
           (unsigned)rand() ^ (unsigned)clock_mono_ms());
  metrics_describe("klaxon_outbox_lease_epoch", METRIC_GAUGE,
                   "The outbox lease's epoch this instance sends under; 0 while another instance "
                   "(or none) holds it");
  metrics_describe("klaxon_outbox_lease_held", METRIC_GAUGE,
                   "1 while this instance holds the outbox lease and sends the outbox");
  metrics_describe("klaxon_outbox_lease_takeovers_total", METRIC_COUNTER,
                   "Times this instance took the outbox lease (a new epoch)");
  metrics_describe("klaxon_outbox_fenced_total", METRIC_COUNTER,
                   "Outbox writes refused because another instance took the lease over "
                   "(a late completion is dropped, the new holder decides)");
  metrics_describe("klaxon_outbox_in_doubt_total", METRIC_COUNTER,
                   "Rows left in flight by a former holder: found (a chat.postMessage already "
                   "in its channel, recorded as sent), unchecked (it could not be looked for) or "
                   "resent");
  metrics_set("klaxon_outbox_lease_epoch", "", 0);
  metrics_set("klaxon_outbox_lease_held", "", 0);
  uv_timer_init(s->loop, &l->timer);
  l->timer.data = s;
  s->open_handles++;
  uv_timer_start(&l->timer, on_lease_timer, 0, 0);
}

bool sender_lease_held(const struct sender *s)
{
  return s->lease.epoch && s->lease.valid_until && clock_mono_ms() < s->lease.valid_until;
}

void sender_lease_lost(struct sender *s, int64_t epoch, const char *why)
{
  metrics_inc("klaxon_outbox_fenced_total", "", 1);
  if (epoch != s->lease.epoch)
    return; /* an answer from an older term: the lease held now is not in question */
  if (s->lease.valid_until)
    LOG_WARN("sender", "outbox_lease_lost", "epoch=%lld why=%s", (long long)s->lease.epoch, why);
  s->lease.valid_until = 0;
  set_metrics(s);
  /* The timer finds out who holds it now (renewing at once if it is still ours). */
  if (!s->stopping)
    uv_timer_start(&s->lease.timer, on_lease_timer, LEASE_RETRY_MS, 0);
}

void sender_lease_release(struct sender *s)
{
  uv_timer_stop(&s->lease.timer);
  s->lease.released = true;
  if (!s->lease.epoch)
    return;
  if (leases_release(s->ctx->db, LEASES_OUTBOX, s->lease.holder, s->lease.epoch) == 0)
    LOG_INFO("sender", "outbox_lease_released", "epoch=%lld", (long long)s->lease.epoch);
  s->lease.epoch = 0;
  s->lease.valid_until = 0;
  set_metrics(s);
}

bool sender_row_in_doubt(const struct sender *s, const struct outbox_row *row)
{
  return row->sending_epoch > 0 && row->sending_epoch < s->lease.epoch;
}

char *sender_tag_body(const struct outbox_row *row)
{
  cJSON *body = cJSON_Parse(row->body);
  if (!cJSON_IsObject(body) || cJSON_HasObjectItem(body, "metadata")) {
    cJSON_Delete(body);
    return NULL;
  }
  cJSON *md = cJSON_AddObjectToObject(body, "metadata");
  cJSON *payload = md ? cJSON_AddObjectToObject(md, "event_payload") : NULL;
  char *text = NULL;
  if (payload && cJSON_AddStringToObject(md, "event_type", DOUBT_EVENT_TYPE) &&
      cJSON_AddNumberToObject(payload, "row", (double)row->id))
    text = cJSON_PrintUnformatted(body);
  cJSON_Delete(body);
  return text;
}

/* ---- the in-doubt check --------------------------------------------------------------------- */

struct check {
  struct sender *s;
  int64_t id;
  int64_t epoch; /* the lease's epoch when the check began (the row's in-flight epoch) */
  char channel[64];
};

static void doubt_count(const char *result)
{
  char labels[48];
  snprintf(labels, sizeof(labels), "result=\"%s\"", result);
  metrics_inc("klaxon_outbox_in_doubt_total", labels, 1);
}

/* The message in a conversations.history answer whose metadata names row `id`, or NULL. */
static const cJSON *find_row(const cJSON *history, int64_t id)
{
  const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(history, "messages");
  const cJSON *m;
  cJSON_ArrayForEach (m, msgs) {
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(m, "metadata");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(md, "event_type");
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(md, "event_payload");
    const cJSON *row = cJSON_GetObjectItemCaseSensitive(payload, "row");
    if (cJSON_IsString(type) && strcmp(type->valuestring, DOUBT_EVENT_TYPE) == 0 &&
        cJSON_IsNumber(row) && (int64_t)row->valuedouble == id &&
        cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "ts")))
      return m;
  }
  return NULL;
}

/* Send the row again, in flight already: mark it under this epoch, then call. */
static void resend(struct sender *s, int64_t id, const char *result, int64_t epoch)
{
  doubt_count(result);
  struct outbox_row row;
  memset(&row, 0, sizeof(row));
  /* The check took a round trip or two: send only under the epoch it began in (its completion
   * is fenced by that one), and only while the lease still holds. */
  int rc = epoch != s->lease.epoch || !sender_lease_held(s) ? KX_EFENCED : 0;
  if (rc == 0)
    rc = outbox_get(s->ctx->db, id, &row);
  if (rc == 0)
    rc = sender_begin_row(s, &row);
  outbox_row_clear(&row);
  if (rc == 0)
    return;
  LOG_WARN("sender", "in_doubt_resend_failed", "id=%lld err=%s", (long long)id, kx_err_name(rc));
  /* Fenced, or the row is no longer pending (done meanwhile): nothing to record here and no
   * backoff to keep; anything else is tried again later. */
  bool drop = rc == KX_EFENCED || rc == KX_ENOTFOUND;
  sender_complete(s, id, drop ? KX_EFENCED : KX_ERETRY, kx_err_name(rc), 0, NULL);
}

static void on_history(void *arg, const struct slack_result *r)
{
  struct check *c = arg;
  struct sender *s = c->s;
  int64_t id = c->id, epoch = c->epoch;
  char channel[64];
  snprintf(channel, sizeof(channel), "%s", c->channel);
  free(c);
  if (r->err == 0) {
    const cJSON *m = find_row(r->json, id);
    if (!m) {
      LOG_INFO("sender", "in_doubt_not_found", "id=%lld channel=%s note=\"sent again\"",
               (long long)id, channel);
      resend(s, id, "resent", epoch);
      return;
    }
    /* It arrived: record it as chat.postMessage would have answered. */
    const char *ts = cJSON_GetObjectItemCaseSensitive(m, "ts")->valuestring;
    LOG_INFO("sender", "in_doubt_found", "id=%lld channel=%s ts=%s", (long long)id, channel, ts);
    doubt_count("found");
    cJSON *answer = cJSON_CreateObject();
    if (answer && cJSON_AddTrueToObject(answer, "ok") &&
        cJSON_AddStringToObject(answer, "channel", channel) &&
        cJSON_AddStringToObject(answer, "ts", ts)) {
      cJSON *copy = cJSON_Duplicate(m, 1);
      if (copy && !cJSON_AddItemToObject(answer, "message", copy))
        cJSON_Delete(copy);
      sender_complete(s, id, 0, NULL, 0, answer);
    } else {
      sender_complete(s, id, KX_ERETRY, "nomem", 0, NULL);
    }
    cJSON_Delete(answer);
    return;
  }
  if (r->err == KX_EPLATFORM && !slack_error_fatal_auth(r->error)) {
    /* Not to be looked for here (not_in_channel of a public channel posted to with
     * chat:write.public, a DM named by user id, missing_scope): send it again. */
    LOG_WARN("sender", "in_doubt_unchecked", "id=%lld channel=%s error=%s note=\"sent again\"",
             (long long)id, channel, r->error ? r->error : "-");
    resend(s, id, "unchecked", epoch);
    return;
  }
  /* A 429, a 5xx, a timeout, a refused token: look again later, with the row's backoff. */
  sender_complete(s, id, r->err == KX_EPLATFORM ? KX_ERETRY : r->err, r->error, r->retry_after_s,
                  NULL);
}

/* Ask for the channel's latest messages (with their metadata); on_history decides. */
static int ask_history(struct check *c)
{
  cJSON *args = cJSON_CreateObject();
  char *form = NULL;
  if (args && cJSON_AddStringToObject(args, "channel", c->channel) &&
      cJSON_AddStringToObject(args, "include_all_metadata", "true") &&
      cJSON_AddStringToObject(args, "limit", DOUBT_HISTORY_LIMIT))
    form = slack_form_encode(args);
  int rc = form ? slack_api_form(c->s->slack, "conversations.history", SLACK_TOKEN_BOT, form,
                                 on_history, c)
                : KX_ENOMEM;
  free(form);
  cJSON_Delete(args);
  return rc;
}

/* A page DM is posted to a user id; its history is the IM channel's, which conversations.open
 * names (scope im:write; the history needs im:history). */
static void on_open(void *arg, const struct slack_result *r)
{
  struct check *c = arg;
  const cJSON *ch = r->err == 0 ? cJSON_GetObjectItemCaseSensitive(r->json, "channel") : NULL;
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(ch, "id");
  if (cJSON_IsString(id) && id->valuestring[0]) {
    snprintf(c->channel, sizeof(c->channel), "%.60s", id->valuestring);
    if (ask_history(c) == 0)
      return;
  }
  on_history(c, r->err ? r : &(struct slack_result){.err = KX_EPLATFORM, .error = "no_im"});
}

int sender_doubt_start(struct sender *s, const struct outbox_row *row)
{
  if (strcmp(row->platform, "slack") != 0 || strcmp(row->method, "chat.postMessage") != 0 ||
      !s->slack) {
    doubt_count("resent"); /* converging calls, and other platforms: sent again */
    return sender_begin_row(s, row);
  }
  cJSON *body = cJSON_Parse(row->body);
  const cJSON *ch = cJSON_GetObjectItemCaseSensitive(body, "channel");
  struct check *c = calloc(1, sizeof(*c));
  cJSON *args = cJSON_CreateObject();
  int rc = KX_ENOMEM;
  if (c && args && cJSON_IsString(ch) && ch->valuestring[0]) {
    c->s = s;
    c->id = row->id;
    c->epoch = s->lease.epoch;
    snprintf(c->channel, sizeof(c->channel), "%.60s", ch->valuestring);
    char *form = NULL;
    LOG_INFO("sender", "in_doubt_check", "id=%lld channel=%s epoch=%lld", (long long)row->id,
             c->channel, (long long)row->sending_epoch);
    bool user = c->channel[0] == 'U' || c->channel[0] == 'W';
    if (user && cJSON_AddStringToObject(args, "users", c->channel))
      form = slack_form_encode(args);
    if (user)
      rc = form ? slack_api_form(s->slack, "conversations.open", SLACK_TOKEN_BOT, form, on_open, c)
                : KX_ENOMEM;
    else
      rc = ask_history(c);
    free(form);
  } else if (c && args) {
    rc = KX_EINVAL; /* no channel to look in */
  }
  cJSON_Delete(args);
  cJSON_Delete(body);
  if (rc == 0)
    return 0; /* on_history owns c now */
  free(c);
  if (rc == KX_EINVAL) {
    doubt_count("unchecked");
    return sender_begin_row(s, row);
  }
  return rc;
}
