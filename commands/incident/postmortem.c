#include "commands/incident/postmortem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/incident/incident_internal.h"
#include "lib/kx.h"
#include "lib/timeutil.h"
#include "storage/incident_actions.h"
#include "storage/incident_timeline.h"

/* The cap of the small parts (roles, participants, the times table …). */
#define PM_SMALL ((size_t)64 * 1024)

const char *const postmortem_placeholders[] = {
    "id",
    "title",
    "severity",
    "severity_history",
    "status",
    "drill",
    "drill_banner",
    "description",
    "summary",
    "channel",
    "timezone",
    "generated_at",
    "declared_at",
    "declared_at_utc",
    "declared_by",
    "detected_at",
    "impact_start",
    "impact_start_utc",
    "acknowledged_at",
    "acknowledged_at_utc",
    "acknowledged_by",
    "resolved_at",
    "resolved_at_utc",
    "resolved_by",
    "closed_at",
    "ttd",
    "tta",
    "ttr",
    "impact_duration",
    "commander",
    "scribe",
    "comms",
    "ops",
    "roles",
    "participants",
    "key_events",
    "timeline",
    "action_items",
    "postmortem_url",
    "times_table",
    NULL,
};

/* The built-in layout: the same placeholders a team's template may use. */
static const char builtin[] =
    "# Postmortem: incident #{{id}} — {{title}}\n"
    "\n"
    "{{drill_banner}}"
    "> A blameless draft by klaxon ({{generated_at}}). It is about systems and decisions, not "
    "people: fill in the sections marked *To write*.\n"
    "\n"
    "| | |\n"
    "|---|---|\n"
    "| Incident | #{{id}} |\n"
    "| Severity | {{severity}} |\n"
    "| Status | {{status}} |\n"
    "| Channel | {{channel}} |\n"
    "| Declared by | {{declared_by}} |\n"
    "\n"
    "## Summary\n"
    "\n"
    "{{summary}}\n"
    "\n"
    "{{description}}"
    "## Severity history\n"
    "\n"
    "{{severity_history}}\n"
    "\n"
    "## Times ({{timezone}} and UTC)\n"
    "\n"
    "{{times_table}}\n"
    "\n"
    "- Time to detect (TTD, impact start to declaration): {{ttd}}\n"
    "- Time to acknowledge (TTA, declaration to acknowledgement): {{tta}}\n"
    "- Time to resolve (TTR, declaration to resolution): {{ttr}}\n"
    "- Impact duration (impact start to resolution): {{impact_duration}}\n"
    "\n"
    "## Roles\n"
    "\n"
    "{{roles}}\n"
    "\n"
    "## Participants\n"
    "\n"
    "{{participants}}\n"
    "\n"
    "## Key events\n"
    "\n"
    "{{key_events}}\n"
    "\n"
    "## Timeline\n"
    "\n"
    "{{timeline}}\n"
    "\n"
    "## Impact\n"
    "\n"
    "*To write:* who was affected, how, and for how long.\n"
    "\n"
    "## Root cause\n"
    "\n"
    "*To write:* the conditions that made this possible, not who pressed which button.\n"
    "\n"
    "## What went well\n"
    "\n"
    "*To write.*\n"
    "\n"
    "## What went wrong\n"
    "\n"
    "*To write.*\n"
    "\n"
    "## Lessons learned\n"
    "\n"
    "*To write.*\n"
    "\n"
    "## Action items\n"
    "\n"
    "{{action_items}}\n";

/* ---- escaping ------------------------------------------------------------------------------ */

int postmortem_md_text(struct buf *b, const char *s)
{
  int rc = 0;
  bool line_start = true;
  for (; s && *s && rc == 0; s++) {
    char c = *s;
    /* & needs no escape: an entity people type renders as its character, never as a tag. */
    if (c == '<')
      rc = buf_puts(b, "&lt;");
    else if (c == '>')
      rc = buf_puts(b, "&gt;");
    else if (strchr("\\`*_[]|", c) || (line_start && (c == '#' || c == '-' || c == '+')))
      rc = buf_printf(b, "\\%c", c);
    else if (c == '\n')
      rc = buf_puts(b, "\n  "); /* continuation lines stay inside their list item */
    else if (c != '\r')
      rc = buf_append(b, &c, 1);
    line_start = c == '\n';
  }
  return rc;
}

/* ---- filling placeholders ------------------------------------------------------------------- */

int postmortem_fill(const char *tmpl,
                    const char *(*value)(void *arg, const char *name),
                    void *arg,
                    struct buf *out)
{
  int rc = buf_puts(out, "");
  const char *p = tmpl;
  while (rc == 0 && *p) {
    const char *open = strstr(p, "{{");
    if (!open) {
      rc = buf_puts(out, p);
      break;
    }
    rc = buf_append(out, p, (size_t)(open - p));
    const char *close = rc == 0 ? strstr(open + 2, "}}") : NULL;
    if (rc)
      break;
    char name[48];
    size_t n = close ? (size_t)(close - open - 2) : 0;
    const char *v = NULL;
    if (close && n > 0 && n < sizeof(name)) {
      /* {{ name }} with blanks is accepted too. */
      size_t a = 0, z = n;
      while (a < z && open[2 + a] == ' ')
        a++;
      while (z > a && open[2 + z - 1] == ' ')
        z--;
      memcpy(name, open + 2 + a, z - a);
      name[z - a] = '\0';
      v = value(arg, name);
    }
    if (v) {
      rc = buf_puts(out, v);
      p = close + 2;
    } else {
      rc = buf_puts(out, "{{");
      p = open + 2;
    }
  }
  return rc;
}

/* ---- the values ------------------------------------------------------------------------------ */

enum { V_MAX = 48 };

struct vars {
  const char *names[V_MAX];
  char *values[V_MAX];
  size_t n;
};

static const char *lookup(void *arg, const char *name)
{
  struct vars *v = arg;
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->names[i], name) == 0)
      return v->values[i];
  return NULL;
}

/* Takes `value` (malloc'd); a NULL value (no memory) fails. */
static int put(struct vars *v, const char *name, char *value)
{
  if (!value)
    return KX_ENOMEM;
  if (v->n == V_MAX) {
    free(value);
    return KX_ETOOBIG;
  }
  v->names[v->n] = name;
  v->values[v->n++] = value;
  return 0;
}

static int put_text(struct vars *v, const char *name, const char *plain)
{
  struct buf b;
  buf_init(&b, POSTMORTEM_MAX);
  if (postmortem_md_text(&b, plain ? plain : "") || buf_puts(&b, "")) {
    buf_free(&b);
    return KX_ENOMEM;
  }
  return put(v, name, buf_take(&b));
}

static int put_buf(struct vars *v, const char *name, struct buf *b)
{
  if (buf_puts(b, ""))
    return KX_ENOMEM;
  return put(v, name, buf_take(b));
}

static void vars_free(struct vars *v)
{
  for (size_t i = 0; i < v->n; i++)
    free(v->values[i]);
  v->n = 0;
}

static const char *zone_of(struct cmd_ctx *ctx)
{
  return ctx->config->timezone ? ctx->config->timezone : "UTC";
}

/* "2026-11-24 10:00:05 (UTC+01:00)" — seconds, no milliseconds. */
static const char *local_s(struct cmd_ctx *ctx, int64_t ms, char *buf, size_t size)
{
  struct kx_local l;
  if (!ms)
    return snprintf(buf, size, "—"), buf;
  if (tz_to_local(zone_of(ctx), ms, &l))
    return time_format_utc(ms - ms % 1000, buf, size);
  int off = l.offset_s / 60;
  snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d (UTC%c%02d:%02d)", l.y, l.m, l.d, l.hh, l.mm,
           l.ss, off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
  return buf;
}

static const char *utc_s(int64_t ms, char *buf, size_t size)
{
  if (!ms)
    return snprintf(buf, size, "—"), buf;
  return time_format_utc(ms - ms % 1000, buf, size);
}

static char *duration(int64_t from, int64_t to)
{
  char d[32];
  if (!from || !to)
    return kx_strdup("—");
  return kx_strdup(time_format_duration(to >= from ? to - from : 0, d, sizeof(d)));
}

static int put_time(
    struct vars *v, struct cmd_ctx *ctx, const char *name, const char *utc_name, int64_t ms)
{
  char t[64];
  int rc = put(v, name, kx_strdup(local_s(ctx, ms, t, sizeof(t))));
  if (rc == 0 && utc_name)
    rc = put(v, utc_name, kx_strdup(utc_s(ms, t, sizeof(t))));
  return rc;
}

static int put_who(struct vars *v, struct cmd_ctx *ctx, const char *name, const char *who)
{
  return put_text(v, name, who ? incident_who_name(ctx, who) : "—");
}

static int entry_line(struct buf *b,
                      struct cmd_ctx *ctx,
                      const struct timeline_entry *e,
                      bool mark_key)
{
  char l[64], u[64];
  int rc = buf_printf(b, "- %s · %s — ", local_s(ctx, e->at_ms, l, sizeof(l)),
                      utc_s(e->at_ms, u, sizeof(u)));
  if (rc == 0 && mark_key && e->key)
    rc = buf_puts(b, "\xF0\x9F\x93\x8C ");
  if (rc == 0 && e->who) {
    rc = buf_puts(b, "**");
    if (rc == 0)
      rc = postmortem_md_text(b, incident_who_name(ctx, e->who));
    if (rc == 0)
      rc = buf_puts(b, "**: ");
  }
  if (rc == 0)
    rc = postmortem_md_text(b, e->text);
  if (rc == 0 && e->edited_at)
    rc = buf_puts(b, " *(edited)*");
  if (rc == 0)
    rc = buf_puts(b, "\n");
  return rc;
}

static int timeline_vars(struct vars *v, struct cmd_ctx *ctx, const struct incident *inc)
{
  struct timeline_entry *all = NULL;
  size_t n = 0;
  int rc = timeline_list(ctx->db, inc->id, 0, 0, &all, &n);
  if (rc)
    return rc;
  struct buf key, full, sev;
  buf_init(&key, POSTMORTEM_MAX);
  buf_init(&full, POSTMORTEM_MAX);
  buf_init(&sev, PM_SMALL);
  char l[64];
  /* The severity it was declared with: the "from" of the first change, else the present one. */
  const char *first = inc->severity;
  char from[64] = "";
  for (size_t i = 0; i < n; i++) {
    if (strcmp(all[i].kind, "severity") == 0 && sscanf(all[i].text, "Severity %63s", from) == 1) {
      first = from;
      break;
    }
  }
  rc = buf_printf(&sev, "- %s — declared %s", local_s(ctx, inc->declared_at, l, sizeof(l)), first);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (all[i].key)
      rc = entry_line(&key, ctx, &all[i], false);
    if (rc == 0)
      rc = entry_line(&full, ctx, &all[i], true);
    if (rc == 0 && strcmp(all[i].kind, "severity") == 0) {
      rc = buf_printf(&sev, "\n- %s — ", local_s(ctx, all[i].at_ms, l, sizeof(l)));
      if (rc == 0)
        rc = postmortem_md_text(&sev, all[i].text);
      if (rc == 0 && all[i].who) {
        rc = buf_puts(&sev, " (");
        if (rc == 0)
          rc = postmortem_md_text(&sev, incident_who_name(ctx, all[i].who));
        if (rc == 0)
          rc = buf_puts(&sev, ")");
      }
    }
  }
  timeline_free(all, n);
  if (rc == 0 && key.len == 0)
    rc = buf_puts(&key, "*None marked.* React with :pushpin: or pin a message.\n");
  if (rc == 0 && full.len == 0)
    rc = buf_puts(&full, "*Empty.*\n");
  /* Lists end without their last newline: the template decides the spacing. */
  if (rc == 0 && key.len && key.data[key.len - 1] == '\n')
    key.data[--key.len] = '\0';
  if (rc == 0 && full.len && full.data[full.len - 1] == '\n')
    full.data[--full.len] = '\0';
  if (rc == 0)
    rc = put_buf(v, "key_events", &key);
  if (rc == 0)
    rc = put_buf(v, "timeline", &full);
  if (rc == 0)
    rc = put_buf(v, "severity_history", &sev);
  buf_free(&key);
  buf_free(&full);
  buf_free(&sev);
  return rc;
}

static int people_vars(struct vars *v, struct cmd_ctx *ctx, const struct incident *inc)
{
  static const char *const titles[INCIDENT_N_ROLES] = {"Incident commander", "Scribe",
                                                       "Communications", "Operations"};
  static const char *const names[INCIDENT_N_ROLES] = {"commander", "scribe", "comms", "ops"};
  struct buf roles;
  buf_init(&roles, PM_SMALL);
  int rc = 0;
  for (int r = 0; rc == 0 && r < INCIDENT_N_ROLES; r++) {
    rc = put_who(v, ctx, names[r], inc->roles[r]);
    if (rc == 0)
      rc = buf_printf(&roles, "%s- %s: ", r ? "\n" : "", titles[r]);
    if (rc == 0)
      rc = postmortem_md_text(&roles, inc->roles[r] ? incident_who_name(ctx, inc->roles[r]) : "—");
  }
  if (rc == 0)
    rc = put_buf(v, "roles", &roles);
  buf_free(&roles);
  char **who = NULL;
  size_t n = 0;
  if (rc == 0)
    rc = timeline_people(ctx->db, inc->id, &who, &n);
  struct buf p;
  buf_init(&p, PM_SMALL);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    if (i)
      rc = buf_puts(&p, ", ");
    if (rc == 0)
      rc = postmortem_md_text(&p, incident_who_name(ctx, who[i]));
  }
  /* Role holders who never spoke are participants too. */
  for (int r = 0; rc == 0 && r < INCIDENT_N_ROLES; r++) {
    bool listed = !inc->roles[r];
    for (size_t i = 0; !listed && i < n; i++)
      listed = strcmp(who[i], inc->roles[r]) == 0;
    for (int q = 0; !listed && q < r; q++)
      listed = kx_streq(inc->roles[q], inc->roles[r]);
    if (!listed) {
      rc = buf_puts(&p, p.len ? ", " : "");
      if (rc == 0)
        rc = postmortem_md_text(&p, incident_who_name(ctx, inc->roles[r]));
    }
  }
  timeline_people_free(who, n);
  if (rc == 0 && p.len == 0)
    rc = buf_puts(&p, "—");
  if (rc == 0)
    rc = put_buf(v, "participants", &p);
  buf_free(&p);
  return rc;
}

static int action_vars(struct vars *v, struct cmd_ctx *ctx, const struct incident *inc)
{
  struct incident_action *items = NULL;
  size_t n = 0;
  int rc = incident_actions_list(ctx->db, inc->id, false, &items, &n);
  if (rc)
    return rc;
  struct buf b;
  buf_init(&b, POSTMORTEM_MAX);
  char t[64];
  for (size_t i = 0; rc == 0 && i < n; i++) {
    rc = buf_printf(&b, "%s- [%c] %lld. ", i ? "\n" : "", items[i].done_at ? 'x' : ' ',
                    (long long)items[i].number);
    if (rc == 0)
      rc = postmortem_md_text(&b, items[i].text);
    if (rc == 0)
      rc = buf_puts(&b, " — owner: ");
    if (rc == 0)
      rc = postmortem_md_text(&b, items[i].owner ? incident_who_name(ctx, items[i].owner) : "—");
    if (rc == 0)
      rc = items[i].done_at
               ? buf_printf(&b, " (done %s)", local_s(ctx, items[i].done_at, t, sizeof(t)))
               : buf_puts(&b, " (open)");
    if (rc == 0 && items[i].tracker_key) { /* issue 14: the tracker's issue */
      rc = buf_puts(&b, " — ");
      if (rc == 0 && items[i].tracker_url)
        rc = buf_printf(&b, "[%s](%s)", items[i].tracker_key, items[i].tracker_url);
      else if (rc == 0)
        rc = postmortem_md_text(&b, items[i].tracker_key);
    }
  }
  if (rc == 0 && n == 0)
    rc = buf_puts(&b, "*None yet:* `/incident action add @owner TEXT`.");
  if (rc == 0)
    rc = put_buf(v, "action_items", &b);
  buf_free(&b);
  incident_actions_free(items, n);
  return rc;
}

static int times_table(struct vars *v, struct cmd_ctx *ctx, const struct incident *inc)
{
  static const char *const labels[] = {"Impact started", "Detected (declared)", "Acknowledged",
                                       "Resolved", "Closed"};
  const int64_t at[] = {inc->impact_start_at, inc->declared_at, inc->acknowledged_at,
                        inc->resolved_at, inc->closed_at};
  struct buf b;
  buf_init(&b, PM_SMALL);
  char l[64], u[64];
  int rc = buf_printf(&b, "| Event | %s | UTC |\n|---|---|---|", zone_of(ctx));
  for (size_t i = 0; rc == 0 && i < KX_ARRAY_SIZE(labels); i++)
    rc = buf_printf(&b, "\n| %s | %s | %s |", labels[i], local_s(ctx, at[i], l, sizeof(l)),
                    utc_s(at[i], u, sizeof(u)));
  if (rc == 0)
    rc = put_buf(v, "times_table", &b);
  buf_free(&b);
  return rc;
}

static int incident_vars(struct vars *v, struct cmd_ctx *ctx, const struct incident *inc)
{
  char t[64];
  int rc = put(v, "id", kx_asprintf("%lld", (long long)inc->id));
  if (rc == 0)
    rc = put_text(v, "title", inc->title);
  if (rc == 0)
    rc = put_text(v, "severity", inc->severity);
  if (rc == 0)
    rc = put_text(v, "status", inc->status);
  if (rc == 0)
    rc = put(v, "drill", kx_strdup(inc->drill ? "yes" : "no"));
  if (rc == 0)
    rc = put(v, "drill_banner",
             kx_strdup(inc->drill ? "> **DRILL** — a practice incident; it is "
                                    "left out of the statistics.\n\n"
                                  : ""));
  if (rc == 0 && inc->description) {
    struct buf b;
    buf_init(&b, POSTMORTEM_MAX);
    rc = buf_puts(&b, "## Description\n\n");
    if (rc == 0)
      rc = postmortem_md_text(&b, inc->description);
    if (rc == 0)
      rc = buf_puts(&b, "\n\n");
    if (rc == 0)
      rc = put_buf(v, "description", &b);
    buf_free(&b);
  } else if (rc == 0) {
    rc = put(v, "description", kx_strdup(""));
  }
  if (rc == 0)
    rc = inc->resolution
             ? put_text(v, "summary", inc->resolution)
             : put(v, "summary", kx_strdup("*To write:* what happened, in two sentences."));
  if (rc == 0)
    rc = put_text(v, "channel",
                  inc->channel_name ? inc->channel_name : (inc->channel ? inc->channel : "—"));
  if (rc == 0 && inc->channel_name) {
    /* "#incident-…" reads better than the escaped "\#": a channel name has no markup in it. */
    free(v->values[v->n - 1]);
    v->values[v->n - 1] = kx_asprintf("#%s", inc->channel_name);
    if (!v->values[v->n - 1])
      rc = KX_ENOMEM;
  }
  if (rc == 0)
    rc = put(v, "timezone", kx_strdup(zone_of(ctx)));
  if (rc == 0)
    rc = put(v, "generated_at", kx_strdup(local_s(ctx, ctx->now_ms, t, sizeof(t))));
  if (rc == 0)
    rc = put_time(v, ctx, "declared_at", "declared_at_utc", inc->declared_at);
  if (rc == 0)
    rc = put_time(v, ctx, "detected_at", NULL, inc->declared_at);
  if (rc == 0)
    rc = put_time(v, ctx, "impact_start", "impact_start_utc", inc->impact_start_at);
  if (rc == 0)
    rc = put_time(v, ctx, "acknowledged_at", "acknowledged_at_utc", inc->acknowledged_at);
  if (rc == 0)
    rc = put_time(v, ctx, "resolved_at", "resolved_at_utc", inc->resolved_at);
  if (rc == 0)
    rc = put_time(v, ctx, "closed_at", NULL, inc->closed_at);
  if (rc == 0)
    rc = put_who(v, ctx, "declared_by", inc->declared_by);
  if (rc == 0)
    rc = put_who(v, ctx, "acknowledged_by", inc->acknowledged_by);
  if (rc == 0)
    rc = put_who(v, ctx, "resolved_by", inc->resolved_by);
  if (rc == 0)
    rc = put(v, "ttd", duration(inc->impact_start_at, inc->declared_at));
  if (rc == 0)
    rc = put(v, "tta", duration(inc->declared_at, inc->acknowledged_at));
  if (rc == 0)
    rc = put(v, "ttr", duration(inc->declared_at, inc->resolved_at));
  if (rc == 0)
    rc = put(v, "impact_duration", duration(inc->impact_start_at, inc->resolved_at));
  if (rc == 0)
    rc = put_text(v, "postmortem_url", inc->postmortem_url ? inc->postmortem_url : "");
  return rc;
}

int postmortem_render(struct cmd_ctx *ctx, int64_t id, const char *template_text, struct buf *out)
{
  buf_init(out, POSTMORTEM_MAX);
  struct incident inc;
  int rc = incidents_get(ctx->db, id, &inc);
  if (rc)
    return rc;
  struct vars v;
  memset(&v, 0, sizeof(v));
  rc = incident_vars(&v, ctx, &inc);
  if (rc == 0)
    rc = times_table(&v, ctx, &inc);
  if (rc == 0)
    rc = people_vars(&v, ctx, &inc);
  if (rc == 0)
    rc = timeline_vars(&v, ctx, &inc);
  if (rc == 0)
    rc = action_vars(&v, ctx, &inc);
  if (rc == 0)
    rc = postmortem_fill(template_text ? template_text : builtin, lookup, &v, out);
  if (rc)
    buf_free(out);
  vars_free(&v);
  incident_clear(&inc);
  return rc;
}
