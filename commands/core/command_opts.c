/*
 * command_opts.c — the options a row of the command table declares (`--rota R`, `--drill`):
 * taking them out of the words before the arity check, looking them up for the handler, and the
 * synopsis and usage line rendered from the row. See commands/core/command.h.
 */
#include <stdlib.h>
#include <string.h>

#include "commands/core/command.h"
#include "commands/core/msg.h"
#include "lib/kx.h"

static bool quoted(const char *raw)
{
  return raw && (raw[0] == '"' || strncmp(raw, "\xe2\x80\x9c", 3) == 0);
}

static const struct cmd_opt_def *opt_find(const struct cmd_opt_def *opts,
                                          const char *name,
                                          size_t n)
{
  for (const struct cmd_opt_def *o = opts; o && o->name; o++)
    if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
      return o;
  return NULL;
}

/* "`--rota R` (which rota), `--secondary` (…)": the options a user may type, aliases left
 * out. */
static void list_opts(struct buf *b, const struct cmd_opt_def *opts)
{
  int n = 0;
  for (const struct cmd_opt_def *o = opts; o && o->name; o++) {
    if (!o->help)
      continue;
    buf_printf(b, "%s`--%s%s%s` (%s)", n++ ? ", " : "", o->name, o->value ? " " : "",
               o->value ? o->value : "", o->help);
  }
}

static int unknown_opt(const struct cmd_def *d, const char *word, struct buf *err)
{
  buf_puts(err, "I don't know the option `");
  md_text(err, word);
  buf_printf(err, "`. `/%s %s` takes ", d->group, d->name);
  list_opts(err, d->opts);
  buf_puts(err, ".");
  return KX_EINVAL;
}

/* One `--name`, `--name=V` or `--name V` at in->argv[*i]; *i moves past a separate value. */
static int take_opt(const struct cmd_def *d,
                    const struct cmd_args *in,
                    int *i,
                    struct cmd_opts *opts,
                    struct buf *err)
{
  const char *word = in->argv[*i];
  const char *name = word + 2;
  const char *eq = strchr(name, '=');
  size_t n = eq ? (size_t)(eq - name) : strlen(name);
  const struct cmd_opt_def *o = opt_find(d->opts, name, n);
  if (!o)
    return unknown_opt(d, word, err);
  const char *value = NULL;
  if (!o->value && eq) {
    buf_printf(err, "`--%s` takes no value.", o->name);
    return KX_EINVAL;
  }
  if (o->value) {
    if (eq) {
      value = eq + 1;
    } else if (*i + 1 < in->argc) {
      value = in->argv[++*i];
    }
    if (!value || !*value) {
      buf_printf(err, "`--%s` needs a value: `/%s %s --%s %s`.", o->name, d->group, d->name,
                 o->name, o->value);
      return KX_EINVAL;
    }
  }
  opts->set[opts->n].def = o;
  opts->set[opts->n].value = value;
  opts->n++;
  return 0;
}

int cmd_opts_split(const struct cmd_def *d,
                   const struct cmd_args *in,
                   int first,
                   struct cmd_args *out,
                   struct buf *err)
{
  memset(out, 0, sizeof(*out));
  out->def = d;
  bool options = d->opts && d->opts[0].name;
  for (int i = first; i < in->argc; i++) {
    const char *w = in->argv[i];
    if (options && !quoted(in->rest[i]) && strncmp(w, "--", 2) == 0) {
      if (w[2] == '\0') {
        options = false; /* `--` ends the options; what follows is words */
        continue;
      }
      int rc = take_opt(d, in, &i, &out->opts, err);
      if (rc)
        return rc;
      continue;
    }
    if (d->flags & CMD_OPTS_FIRST)
      options = false;
    out->argv[out->argc] = in->argv[i];
    out->rest[out->argc] = in->rest[i];
    out->argc++;
  }
  out->rest[out->argc] = in->rest[in->argc];
  return 0;
}

const char *cmd_opt(const struct cmd_args *args, const char *name)
{
  const char *value = NULL;
  for (int i = 0; i < args->opts.n; i++)
    if (strcmp(args->opts.set[i].def->name, name) == 0)
      value = args->opts.set[i].value;
  return value;
}

bool cmd_flag(const struct cmd_args *args, const char *name)
{
  for (int i = 0; i < args->opts.n; i++)
    if (strcmp(args->opts.set[i].def->name, name) == 0)
      return true;
  return false;
}

static int synopsis_opts(struct buf *b, const struct cmd_opt_def *opts)
{
  int rc = 0;
  for (const struct cmd_opt_def *o = opts; rc == 0 && o && o->name; o++) {
    if (o->help)
      rc = buf_printf(b, " [--%s%s%s]", o->name, o->value ? " " : "", o->value ? o->value : "");
  }
  return rc;
}

int cmd_synopsis(struct buf *b, const struct cmd_def *d)
{
  /* The usage names the subcommand first ("note TEXT", "[who] [ROTA]"); options that must come
   * first follow that word, the others go last. */
  const char *u = d->usage;
  if (d->flags & CMD_OPTS_FIRST) {
    size_t n = strcspn(u, " ");
    int rc = buf_append(b, u, n);
    if (rc == 0)
      rc = synopsis_opts(b, d->opts);
    return rc ? rc : buf_puts(b, u + n);
  }
  int rc = buf_puts(b, u);
  return rc ? rc : synopsis_opts(b, d->opts);
}

int cmd_usage(struct cmd_reply *reply, const struct cmd_def *d)
{
  if (!d) /* a handler run outside the dispatcher has no row */
    return cmd_reply_printf(reply, "Usage: see `help`.");
  struct buf b;
  buf_init(&b, 1024);
  int rc = cmd_synopsis(&b, d);
  if (rc == 0)
    rc = cmd_reply_printf(reply, "Usage: `/%s %s` — %s", d->group, b.data ? b.data : "", d->help);
  buf_free(&b);
  return rc;
}
