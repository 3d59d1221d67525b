#include "commands/core/command.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/core/msg.h"
#include "commands/core/out.h"
#include "commands/core/people.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/seen.h"

void cmd_reply_init(struct cmd_reply *r)
{
  memset(r, 0, sizeof(*r));
  buf_init(&r->text, (size_t)64 * 1024);
}

void cmd_reply_free(struct cmd_reply *r)
{
  buf_free(&r->text);
  cJSON_Delete(r->blocks);
  cJSON_Delete(r->card);
  cJSON_Delete(r->view_response);
  r->blocks = r->card = r->view_response = NULL;
}

int cmd_reply_printf(struct cmd_reply *r, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = buf_vprintf(&r->text, fmt, ap);
  va_end(ap);
  return rc;
}

/* ---- arguments ---------------------------------------------------------------------- */

int cmd_args_parse(const char *text, struct cmd_args *a)
{
  memset(a, 0, sizeof(*a));
  if (!text)
    text = "";
  size_t len = strlen(text);
  if (len > CMD_TEXT_MAX)
    return KX_ETOOBIG;
  a->storage_ = malloc(len + 1);
  if (!a->storage_)
    return KX_ENOMEM;
  char *o = a->storage_;
  const char *p = text;
  for (;;) {
    while (*p && isspace((unsigned char)*p))
      p++;
    if (!*p)
      break;
    if (a->argc == CMD_MAX_ARGS) {
      cmd_args_free(a);
      return KX_ETOOBIG;
    }
    a->rest[a->argc] = p;
    a->argv[a->argc++] = o;
    if (*p == '"' || *p == '\xe2') {
      /* "quoted words" and “typographic quotes” (what phones and Slack's editor produce). */
      const char *close;
      size_t skip;
      if (*p == '"') {
        close = strchr(p + 1, '"');
        skip = 1;
      } else if (strncmp(p, "\xe2\x80\x9c", 3) == 0) {
        close = strstr(p + 3, "\xe2\x80\x9d");
        skip = 3;
      } else {
        close = NULL;
        skip = 0;
      }
      if (close) {
        size_t n = (size_t)(close - p - (ptrdiff_t)skip);
        memcpy(o, p + skip, n);
        o += n;
        *o++ = '\0';
        p = close + skip;
        continue;
      }
    }
    while (*p && !isspace((unsigned char)*p)) {
      if (*p == '<') {
        const char *close = strchr(p, '>');
        if (close) {
          size_t n = (size_t)(close - p + 1);
          memcpy(o, p, n);
          o += n;
          p = close + 1;
          continue;
        }
      }
      *o++ = *p++;
    }
    *o++ = '\0';
  }
  a->rest[a->argc] = p;
  return 0;
}

void cmd_args_free(struct cmd_args *a)
{
  free(a->storage_);
  a->storage_ = NULL;
  a->argc = 0;
}

/* ---- tables -------------------------------------------------------------------------- */

const struct cmd_def *cmd_lookup(const char *group, const char *name)
{
  for (const struct cmd_def *d = cmd_table; d->group; d++) {
    if (strcmp(d->group, group) != 0)
      continue;
    if (name ? strcasecmp(d->name, name) == 0 : (d->flags & CMD_DEFAULT) != 0)
      return d;
  }
  return NULL;
}

/* A row's options: named, once each; the usage names the words only (options are rendered
 * from the array, so a `--` in the usage would say them twice). */
static int opts_check(const struct cmd_def *d)
{
  int bad = 0;
  if (d->usage && strstr(d->usage, "--")) {
    LOG_ERROR("cmd", "table_usage_names_option", "group=%s name=%s", d->group, d->name);
    bad = 1;
  }
  for (const struct cmd_opt_def *o = d->opts; o && o->name; o++) {
    if (!o->name[0] || strchr(o->name, '=') || strchr(o->name, ' ')) {
      LOG_ERROR("cmd", "table_bad_option", "group=%s name=%s", d->group, d->name);
      bad = 1;
    }
    for (const struct cmd_opt_def *p = o + 1; p->name; p++)
      if (strcmp(o->name, p->name) == 0) {
        LOG_ERROR("cmd", "table_duplicate", "group=%s name=%s option=%s", d->group, d->name,
                  o->name);
        bad = 1;
      }
  }
  return bad;
}

int cmd_tables_check(void)
{
  int bad = 0;
  for (const struct cmd_def *d = cmd_table; d->group; d++) {
    if (!d->fn || !d->name || !d->usage || !d->help) {
      LOG_ERROR("cmd", "table_incomplete", "group=%s name=%s", d->group, d->name ? d->name : "?");
      bad = 1;
      continue;
    }
    if (opts_check(d))
      bad = 1;
    if (d->max_args >= 0 && d->max_args < d->min_args) {
      LOG_ERROR("cmd", "table_bad_arity", "group=%s name=%s", d->group, d->name);
      bad = 1;
    }
    for (const struct cmd_def *e = d + 1; e->group; e++) {
      if (strcmp(d->group, e->group) == 0 && d->name && e->name &&
          strcasecmp(d->name, e->name) == 0) {
        LOG_ERROR("cmd", "table_duplicate", "group=%s name=%s", d->group, d->name);
        bad = 1;
      }
    }
  }
  for (const struct cmd_action_def *a = cmd_actions; a->action_id; a++)
    for (const struct cmd_action_def *b = a + 1; b->action_id; b++)
      if (strcmp(a->action_id, b->action_id) == 0) {
        LOG_ERROR("cmd", "table_duplicate", "action=%s", a->action_id);
        bad = 1;
      }
  for (const struct cmd_view_def *a = cmd_views; a->callback_id; a++)
    for (const struct cmd_view_def *b = a + 1; b->callback_id; b++)
      if (strcmp(a->callback_id, b->callback_id) == 0) {
        LOG_ERROR("cmd", "table_duplicate", "view=%s", a->callback_id);
        bad = 1;
      }
  for (const struct cmd_job_def *a = cmd_jobs; a->kind; a++)
    for (const struct cmd_job_def *b = a + 1; b->kind; b++)
      if (strcmp(a->kind, b->kind) == 0) {
        LOG_ERROR("cmd", "table_duplicate", "job=%s", a->kind);
        bad = 1;
      }
  for (const struct cmd_hook_def *a = cmd_hooks; a->name; a++)
    for (const struct cmd_hook_def *b = a + 1; b->name; b++)
      if (strcmp(a->name, b->name) == 0) {
        LOG_ERROR("cmd", "table_duplicate", "hook=%s", a->name);
        bad = 1;
      }
  return bad ? KX_ECONFIG : 0;
}

bool cmd_group_exists(const char *group)
{
  if (!group)
    return false;
  for (const struct cmd_def *d = cmd_table; d->group; d++)
    if (strcmp(d->group, group) == 0)
      return true;
  return false;
}

const char *cmd_group_find(const char *word, size_t n)
{
  if (!word)
    return NULL;
  for (const struct cmd_def *d = cmd_table; d->group; d++)
    if (strlen(d->group) == n && strncasecmp(d->group, word, n) == 0)
      return d->group;
  return NULL;
}

size_t cmd_groups(const char **out, size_t max)
{
  size_t n = 0;
  for (const struct cmd_def *d = cmd_table; d->group; d++) {
    bool seen = false;
    for (const struct cmd_def *e = cmd_table; e < d && !seen; e++)
      seen = strcmp(e->group, d->group) == 0;
    if (seen)
      continue;
    if (n < max)
      out[n] = d->group;
    n++;
  }
  return n;
}

int cmd_help(const char *group, struct cmd_reply *reply)
{
  int rc = cmd_reply_printf(reply, "*/%s* — what I can do:\n", group);
  struct buf b;
  buf_init(&b, 1024);
  for (const struct cmd_def *d = cmd_table; rc == 0 && d->group; d++) {
    if (strcmp(d->group, group) != 0 || (d->flags & CMD_HIDDEN))
      continue;
    buf_reset(&b);
    rc = cmd_synopsis(&b, d);
    if (rc == 0)
      rc = cmd_reply_printf(reply, "• `/%s %s` — %s\n", group, b.data ? b.data : "", d->help);
  }
  buf_free(&b);
  return rc;
}

/* ---- dispatch -------------------------------------------------------------------------- */

/* State changes come only from people in the config (a Slack user outside `people` overrode a
 * rota and marked someone away): a generic check on the row's CMD_WRITE, on every button and
 * on every form, never left to each handler. Features then check roles where the rota or the
 * incident is known. */
static int known_or_refused(struct cmd_ctx *ctx,
                            const struct cmd_request *req,
                            struct cmd_reply *reply)
{
  /* Alert webhooks, the CLI and timers act for the system, not for a person. */
  if (req->platform != CMD_PLATFORM_SLACK && req->platform != CMD_PLATFORM_TEAMS)
    return 0;
  if (cmd_person_for_user(ctx, req->platform, req->user))
    return 0;
  LOG_WARN("cmd", "unknown_user_refused", "kind=%d", (int)req->kind);
  cmd_reply_printf(reply,
                   "I don't know you yet: only people in klaxon's `people` list can change "
                   "things here. Ask whoever runs klaxon to add you (your Slack or Teams id, or "
                   "your email).");
  return KX_EAUTH;
}

static int run_command(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  struct cmd_args words;
  int rc = cmd_args_parse(req->text, &words);
  if (rc == KX_ETOOBIG) {
    cmd_reply_printf(reply, "That is too long for me (at most %d characters and %d words).",
                     CMD_TEXT_MAX, CMD_MAX_ARGS);
    return KX_EINVAL;
  }
  if (rc)
    return rc;
  const struct cmd_def *d = words.argc ? cmd_lookup(req->command, words.argv[0]) : NULL;
  int shift = 1;
  if (!d && words.argc == 0) {
    d = cmd_lookup(req->command, NULL);
    shift = 0;
  }
  if (!d) {
    char *esc = md_escape(words.argc ? words.argv[0] : "");
    if (words.argc)
      cmd_reply_printf(reply, "I don't know `/%s %s`.\n", req->command, esc ? esc : "");
    free(esc);
    cmd_help(req->command, reply);
    cmd_args_free(&words);
    return KX_EINVAL;
  }
  /* The handler sees the words after the subcommand, its row's options taken out. */
  struct cmd_counter *count = &cmd_counters[d - cmd_table];
  count->calls++;
  struct cmd_args args;
  rc = cmd_opts_split(d, &words, shift, &args, &reply->text);
  if (rc == 0 && (args.argc < d->min_args || (d->max_args >= 0 && args.argc > d->max_args))) {
    cmd_usage(reply, d);
    rc = KX_EINVAL;
  }
  if (rc) {
    cmd_args_free(&words);
    return rc;
  }
  rc = (d->flags & CMD_WRITE) ? known_or_refused(ctx, req, reply) : 0;
  if (rc == 0)
    rc = d->fn(ctx, req, &args, reply);
  if (rc)
    count->failures++;
  cmd_args_free(&words);
  return rc;
}

static int run_action(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  for (const struct cmd_action_def *a = cmd_actions; a->action_id; a++)
    if (req->action_id && strcmp(a->action_id, req->action_id) == 0) {
      int rc = known_or_refused(ctx, req, reply);
      return rc ? rc : a->fn(ctx, req, reply);
    }
  LOG_WARN("cmd", "unknown_action", "action_id=%s", req->action_id ? req->action_id : "-");
  return 0;
}

static int run_view(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  for (const struct cmd_view_def *v = cmd_views; v->callback_id; v++)
    if (req->view_callback && strcmp(v->callback_id, req->view_callback) == 0) {
      int rc = known_or_refused(ctx, req, reply);
      return rc ? rc : v->fn(ctx, req, reply);
    }
  LOG_WARN("cmd", "unknown_view", "callback_id=%s", req->view_callback ? req->view_callback : "-");
  return 0;
}

static int run_events(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  for (const struct cmd_event_def *e = cmd_events; e->fn; e++) {
    if (e->kind != req->kind)
      continue;
    int rc = e->fn(ctx, req, reply);
    if (rc)
      return rc;
  }
  return 0;
}

/* The codes a handler returns, after putting the sentence in the reply, to refuse what the user
 * asked: nothing is changed, and the delivery counts as handled. Every other code is a failure
 * on our side. KX_EEXISTS is not a refusal (storage says "already there" and the handler decides
 * what that means to the user), nor is KX_ECONSTRAINT (a write nobody expected to collide: a
 * bug). */
static int is_user_error(int rc)
{
  return rc == KX_EINVAL || rc == KX_ENOTFOUND || rc == KX_ESTATE || rc == KX_EAUTH;
}

struct cmd_ctx cmd_ctx_at(const struct cmd_ctx *env, int64_t now_ms)
{
  struct cmd_ctx run = *env;
  run.now_ms = now_ms;
  return run;
}

/* After a rollback: the answer (and, for a refusal, the dedup mark) in a transaction of their
 * own. */
static int answer_alone(struct cmd_ctx *ctx,
                        const struct cmd_request *req,
                        const struct cmd_reply *reply,
                        bool mark_seen)
{
  bool mark = mark_seen && req->dedup_key;
  if (!mark && (req->answer == CMD_ANSWER_ACK || (reply->text.len == 0 && !reply->card)))
    return 0;
  int rc = db_begin(ctx->db);
  if (rc)
    return rc;
  if (mark)
    rc = seen_mark(ctx->db, req->dedup_key, req->now_ms);
  if (rc == 0)
    rc = out_answer(ctx, req, reply);
  if (rc == 0)
    rc = db_commit(ctx->db);
  if (rc) {
    db_rollback(ctx->db);
    LOG_WARN("cmd", "answer_not_stored", "kind=%d err=%s", req->kind, kx_err_name(rc));
  }
  return rc;
}

int cmd_dispatch(const struct cmd_ctx *env, const struct cmd_request *req, struct cmd_reply *reply)
{
  struct cmd_ctx run = cmd_ctx_at(env, req->now_ms);
  struct cmd_ctx *ctx = &run;
  int rc = db_begin(ctx->db);
  if (rc) {
    cmd_reply_printf(reply, "Sorry, I could not reach my database just now; please try again.");
    return rc;
  }
  if (req->dedup_key) {
    rc = seen_mark(ctx->db, req->dedup_key, req->now_ms);
    if (rc == KX_EEXISTS) {
      db_rollback(ctx->db);
      return KX_EDUPLICATE;
    }
    if (rc)
      goto fail;
  }
  switch (req->kind) {
    case CMD_KIND_COMMAND:
      rc = run_command(ctx, req, reply);
      break;
    case CMD_KIND_ACTION:
      rc = run_action(ctx, req, reply);
      break;
    case CMD_KIND_VIEW_SUBMISSION:
      rc = run_view(ctx, req, reply);
      break;
    default:
      rc = run_events(ctx, req, reply);
      break;
  }
  reply->handled = true;
  if (rc && is_user_error(rc)) {
    /* Refused: nothing changed, but the delivery was handled; keep the dedup mark and the
     * answer only. */
    db_rollback(ctx->db);
    (void)answer_alone(ctx, req, reply, true);
    return 0;
  }
  if (rc == 0)
    rc = out_answer(ctx, req, reply);
  if (rc)
    goto fail;
  rc = db_commit(ctx->db);
  if (rc)
    goto fail;
  return 0;
fail:
  db_rollback(ctx->db);
  if (rc == KX_ECONSTRAINT)
    LOG_ERROR("cmd", "handler_bug",
              "kind=%d command=%s action=%s view=%s err=%s note=\"a handler broke a database "
              "constraint; rolled back\"",
              req->kind, req->command ? req->command : "-", req->action_id ? req->action_id : "-",
              req->view_callback ? req->view_callback : "-", kx_err_name(rc));
  else
    LOG_ERROR("cmd", "dispatch_failed", "kind=%d command=%s err=%s", req->kind,
              req->command ? req->command : "-", kx_err_name(rc));
  buf_reset(&reply->text);
  cmd_reply_printf(reply,
                   "Sorry, something went wrong on my side and nothing was changed (%s). "
                   "Please try again.",
                   kx_strerror(rc));
  /* The apology still leaves the usual way, if the database takes it. */
  (void)answer_alone(ctx, req, reply, false);
  return rc;
}

/* ---- jobs, hooks, start-up ------------------------------------------------------------- */

static const struct cmd_job_def *job_def(const char *kind)
{
  for (const struct cmd_job_def *j = cmd_jobs; j->kind; j++)
    if (strcmp(j->kind, kind) == 0)
      return j;
  return NULL;
}

int cmd_run_jobs(const struct cmd_ctx *env, int64_t now_ms, size_t limit)
{
  struct cmd_ctx run = cmd_ctx_at(env, now_ms);
  struct cmd_ctx *ctx = &run;
  struct job *jobs = NULL;
  size_t n = 0;
  int rc = jobs_due(ctx->db, ctx->now_ms, limit, &jobs, &n);
  if (rc)
    return rc;
  int ran = 0;
  for (size_t i = 0; i < n; i++) {
    const struct cmd_job_def *def = job_def(jobs[i].kind);
    if (db_begin(ctx->db))
      break;
    rc = jobs_claim(ctx->db, jobs[i].id, ctx->now_ms);
    if (rc == KX_ENOTFOUND) {
      /* Another instance ran it (or it was cancelled) since jobs_due(): nothing to do, and
       * above all no re-arm below, which would run it a second time. */
      db_rollback(ctx->db);
      LOG_DEBUG("cmd", "job_taken", "kind=%s key=%s", jobs[i].kind, jobs[i].key);
      continue;
    }
    if (rc == 0 && def)
      rc = def->fn(ctx, &jobs[i]);
    if (!def)
      LOG_ERROR("cmd", "unknown_job_kind", "kind=%s key=%s", jobs[i].kind, jobs[i].key);
    if (rc == 0)
      rc = db_commit(ctx->db);
    if (rc) {
      db_rollback(ctx->db);
      LOG_ERROR("cmd", "job_failed", "kind=%s key=%s err=%s", jobs[i].kind, jobs[i].key,
                kx_err_name(rc));
      /* A job that fails is not lost: it stays pending. Re-arm it a minute later on the bot's
       * clock so one bad job cannot spin the scheduler — only while it is still pending: a job
       * another instance cancelled meanwhile, or whose commit did reach the database before
       * the connection broke, is not brought back. */
      if (db_begin(ctx->db) == 0) {
        if (jobs_retry_later(ctx->db, jobs[i].id, ctx->now_ms + 60000) == 0)
          db_commit(ctx->db);
        else
          db_rollback(ctx->db);
      }
      continue;
    }
    LOG_DEBUG("cmd", "job_done", "kind=%s key=%s", jobs[i].kind, jobs[i].key);
    ran++;
  }
  jobs_free(jobs, n);
  return ran;
}

int cmd_outbox_result(const struct cmd_ctx *env,
                      int64_t now_ms,
                      const struct outbox_row *row,
                      const struct cmd_result *result)
{
  struct cmd_ctx run = cmd_ctx_at(env, now_ms);
  struct cmd_ctx *ctx = &run;
  int rc = db_begin(ctx->db);
  if (rc)
    return rc;
  if (result->ok) {
    char *text = result->response ? cJSON_PrintUnformatted(result->response) : NULL;
    rc = outbox_done_fenced(ctx->db, row->id, result->epoch, text, ctx->now_ms);
    free(text);
  } else {
    rc = outbox_failed_fenced(ctx->db, row->id, result->epoch,
                              result->error ? result->error : "unknown", ctx->now_ms);
  }
  if (rc == 0 && row->hook) {
    const struct cmd_hook_def *h = cmd_hooks;
    while (h->name && strcmp(h->name, row->hook) != 0)
      h++;
    if (h->name) {
      rc = h->fn(ctx, row, result);
    } else {
      LOG_ERROR("cmd", "unknown_hook", "hook=%s id=%lld", row->hook, (long long)row->id);
    }
  }
  if (rc == 0)
    rc = db_commit(ctx->db);
  if (rc == KX_EFENCED) {
    db_rollback(ctx->db); /* another sender holds the outbox now: it decides about the row */
    LOG_WARN("cmd", "outbox_result_fenced", "id=%lld epoch=%lld", (long long)row->id,
             (long long)result->epoch);
  } else if (rc) {
    db_rollback(ctx->db);
    LOG_ERROR("cmd", "outbox_result_failed", "id=%lld hook=%s err=%s", (long long)row->id,
              row->hook ? row->hook : "-", kx_err_name(rc));
  }
  return rc;
}

int cmd_startup(const struct cmd_ctx *env, int64_t now_ms)
{
  struct cmd_ctx run = cmd_ctx_at(env, now_ms);
  struct cmd_ctx *ctx = &run;
  for (const struct cmd_startup_def *s = cmd_startups; s->name; s++) {
    int rc = db_begin(ctx->db);
    if (rc)
      return rc;
    rc = s->fn(ctx);
    if (rc == 0)
      rc = db_commit(ctx->db);
    if (rc) {
      db_rollback(ctx->db);
      LOG_ERROR("cmd", "startup_failed", "task=%s err=%s", s->name, kx_err_name(rc));
      return rc;
    }
  }
  return 0;
}
