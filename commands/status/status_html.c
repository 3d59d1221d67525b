/*
 * status_html.c — GET /status as one server-rendered HTML page: no script, no asset from another
 * host (the style is inline), readable on a phone; and the Atom feed of public updates.
 * Everything that came from a user or the config is escaped by status_esc().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/status/status_internal.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

int status_esc(struct buf *b, const char *s)
{
  return buf_xml(b, s); /* lib/buf.h: the one XML/HTML escaper */
}

static const char STYLE[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;"
    "color:#1b1f24;background:#f6f8fa;line-height:1.45}"
    "main{max-width:52rem;margin:0 auto;padding:1rem}"
    "h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}"
    "h3{font-size:1rem;margin:0}"
    ".banner{padding:1rem;border-radius:.4rem;color:#fff;font-weight:600;font-size:1.1rem}"
    ".s0{background:#1a7f37}.s1{background:#0550ae}.s2{background:#7d4e00}.s3{background:#bc4c00}"
    ".s4{background:#cf222e}"
    ".card{background:#fff;border:1px solid #d0d7de;border-radius:.4rem;padding:.75rem 1rem;"
    "margin:.5rem 0}"
    ".row{display:flex;justify-content:space-between;gap:.5rem;flex-wrap:wrap}"
    ".state{font-weight:600}.t0{color:#1a7f37}.t1{color:#0550ae}.t2{color:#7d4e00}"
    ".t3{color:#a40e26}.t4{color:#a40e26}"
    ".bars{display:flex;gap:1px;height:2rem;margin:.4rem 0 .2rem}"
    ".bars span{flex:1;border-radius:1px}.b0{background:#2da44e}.b1{background:#218bff}"
    ".b2{background:#d4a72c}.b3{background:#fb8500}.b4{background:#cf222e}.bn{background:#d0d7de}"
    ".muted{color:#57606a;font-size:.9rem}ul{padding-left:1.2rem}"
    "time{white-space:nowrap}footer{margin:2rem 0;color:#57606a;font-size:.9rem}"
    "a{color:#0550ae}";

static void when(struct buf *b, int64_t ms)
{
  char t[40];
  time_format_utc(ms, t, sizeof(t));
  buf_printf(b, "<time datetime=\"%s\">", t);
  t[16] = '\0'; /* "2026-11-24T15:00" */
  t[10] = ' ';
  buf_printf(b, "%s UTC</time>", t);
}

static void bars(struct cmd_ctx *ctx, struct buf *b, const char *component)
{
  int64_t today = ctx->now_ms / MS_PER_DAY, first = today - STATUS_HISTORY_DAYS + 1;
  struct status_day *days = NULL;
  size_t n = 0;
  if (status_days_list(ctx->db, component, first, today, &days, &n) != 0)
    n = 0;
  int64_t ok = 0, total = 0;
  size_t j = 0;
  struct buf row;
  buf_init(&row, STATUS_PAGE_MAX);
  for (int64_t day = first; day <= today; day++) {
    const struct status_day *d = j < n && days[j].day == day ? &days[j++] : NULL;
    int cls = d ? d->worst : -1;
    if (d && d->total) {
      ok += d->ok;
      total += d->total;
      if (d->ok < d->total && cls < STATUS_DEGRADED)
        cls = d->ok * 10 < d->total * 9 ? STATUS_MAJOR : STATUS_DEGRADED;
    }
    struct kx_date cd = date_from_days(day);
    char label[96];
    if (d && d->total)
      snprintf(label, sizeof(label), "%04d-%02d-%02d: %.2f%% of %lld checks passed", cd.y, cd.m,
               cd.d, 100.0 * (double)d->ok / (double)d->total, (long long)d->total);
    else
      snprintf(label, sizeof(label), "%04d-%02d-%02d: %s", cd.y, cd.m, cd.d,
               cls > 0 ? status_state_label(cls) : "no data");
    if (cls < 0)
      buf_printf(&row, "<span class=\"bn\" title=\"%s\"></span>", label);
    else
      buf_printf(&row, "<span class=\"b%d\" title=\"%s\"></span>", cls, label);
  }
  free(days);
  if (total)
    buf_printf(b, "<p class=\"muted\">%.2f%% uptime over the last %d days</p>",
               100.0 * (double)ok / (double)total, STATUS_HISTORY_DAYS);
  else
    buf_printf(b, "<p class=\"muted\">No checks recorded in the last %d days</p>",
               STATUS_HISTORY_DAYS);
  buf_printf(b, "<div class=\"bars\" role=\"img\" aria-label=\"%d days of history, oldest first\">",
             STATUS_HISTORY_DAYS);
  buf_append(b, row.data, row.len);
  buf_puts(b, "</div>");
  buf_free(&row);
}

static void components(struct cmd_ctx *ctx, struct buf *b, const struct status_data *d)
{
  const struct config *c = ctx->config;
  buf_puts(b, "<section aria-labelledby=\"h-components\"><h2 id=\"h-components\">Components</h2>");
  for (size_t i = 0; i < d->m.n; i++) {
    const struct status_component *k = &c->status_page.comp[i];
    int s = d->m.state[i];
    buf_puts(b, "<div class=\"card\"><div class=\"row\"><h3>");
    status_esc(b, k->name);
    if (k->group) {
      buf_puts(b, " <span class=\"muted\">(");
      status_esc(b, k->group);
      buf_puts(b, ")</span>");
    }
    buf_printf(b, "</h3><span class=\"state t%d\">%s</span></div>", s, status_state_label(s));
    if (k->description) {
      buf_puts(b, "<p class=\"muted\">");
      status_esc(b, k->description);
      buf_puts(b, "</p>");
    }
    if (s == STATUS_MAINTENANCE)
      buf_puts(b,
               "<p class=\"muted\">Under planned maintenance: alerts for this component are "
               "recorded, not paged, until the window ends.</p>");
    bars(ctx, b, k->name);
    buf_puts(b, "</div>");
  }
  if (d->m.n == 0)
    buf_puts(b, "<p class=\"muted\">No components are configured.</p>");
  buf_puts(b, "</section>");
}

static void incident(struct buf *b, const struct status_inc *x)
{
  buf_puts(b, "<article class=\"card\"><div class=\"row\"><h3>");
  status_esc(b, x->inc.title);
  buf_printf(b, "</h3><span class=\"state t%d\">%s</span></div>", x->impact,
             status_inc_status(&x->inc));
  if (x->nup == 0)
    buf_puts(b, "<p class=\"muted\">We are investigating.</p>");
  buf_puts(b, "<ul>");
  for (size_t i = 0; i < x->nup; i++) {
    buf_puts(b, "<li><strong>");
    status_esc(b, x->up[i].status);
    buf_puts(b, "</strong> — ");
    status_esc(b, x->up[i].body);
    buf_puts(b, " <span class=\"muted\">");
    when(b, x->up[i].at_ms);
    buf_puts(b, "</span></li>");
  }
  buf_puts(b, "</ul></article>");
}

static void incidents(struct buf *b, const struct status_data *d, bool open)
{
  size_t shown = 0;
  for (size_t i = 0; i < d->ninc; i++)
    if (incident_is_open(&d->inc[i].inc) == open) {
      if (shown++ == 0)
        buf_puts(b, open ? "<section aria-labelledby=\"h-open\"><h2 id=\"h-open\">Open "
                           "incidents</h2>"
                         : "<section aria-labelledby=\"h-past\"><h2 id=\"h-past\">Past "
                           "incidents</h2>");
      incident(b, &d->inc[i]);
    }
  if (shown)
    buf_puts(b, "</section>");
  else if (!open)
    buf_puts(b,
             "<section aria-labelledby=\"h-past\"><h2 id=\"h-past\">Past incidents</h2>"
             "<p class=\"muted\">No incidents reported.</p></section>");
}

static void windows(struct cmd_ctx *ctx, struct buf *b, const struct status_data *d)
{
  size_t shown = 0;
  for (size_t i = 0; i < d->nwin; i++) {
    const struct status_window *w = &d->win[i];
    const char *st = status_window_status(w, ctx->now_ms);
    if (strcmp(st, "completed") == 0)
      continue;
    if (shown++ == 0)
      buf_puts(b,
               "<section aria-labelledby=\"h-maint\"><h2 id=\"h-maint\">Scheduled "
               "maintenance</h2>");
    buf_puts(b, "<div class=\"card\"><div class=\"row\"><h3>");
    status_esc(b, w->component);
    buf_printf(b, "</h3><span class=\"state t1\">%s</span></div><p>",
               strcmp(st, "scheduled") == 0 ? "Scheduled" : "In progress");
    status_esc(b, w->text);
    buf_puts(b, "</p><p class=\"muted\">");
    when(b, w->from_ms);
    buf_puts(b, " to ");
    when(b, w->to_ms);
    buf_puts(b, "</p></div>");
  }
  if (shown)
    buf_puts(b, "</section>");
}

int status_render_html(struct cmd_ctx *ctx, struct buf *out)
{
  struct status_data d;
  int rc = status_data_load(ctx, &d);
  if (rc)
    return rc;
  const char *title = ctx->config->status_page.title ? ctx->config->status_page.title : "Status";
  buf_puts(out,
           "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<title>");
  status_esc(out, title);
  buf_puts(out,
           "</title><link rel=\"alternate\" type=\"application/atom+xml\" "
           "href=\"/status/history.atom\" title=\"Status updates\"><style>");
  buf_puts(out, STYLE);
  buf_puts(out, "</style></head><body><main><h1>");
  status_esc(out, title);
  buf_printf(out, "</h1><p class=\"banner s%d\" role=\"status\">%s</p>", d.m.overall,
             status_description(d.m.overall));
  incidents(out, &d, true);
  windows(ctx, out, &d);
  components(ctx, out, &d);
  incidents(out, &d, false);
  if (ctx->config->smtp.url)
    buf_puts(out,
             "<section aria-labelledby=\"h-sub\"><h2 id=\"h-sub\">Get updates by email</h2>"
             "<form method=\"post\" action=\"/status/subscribe\"><label for=\"email\">Email "
             "address</label> <input id=\"email\" name=\"email\" type=\"email\" required "
             "autocomplete=\"email\"> <button type=\"submit\">Subscribe</button></form>"
             "<p class=\"muted\">We send a confirmation link first; every mail has a "
             "one-click unsubscribe link.</p></section>");
  buf_puts(out, "<footer><p>Updated ");
  when(out, ctx->now_ms);
  buf_puts(out,
           ". <a href=\"/status/history.atom\">Atom feed</a> · "
           "<a href=\"/status/api/v2/summary.json\">JSON</a></p></footer>"
           "</main></body></html>\n");
  status_data_free(&d);
  return out->len ? 0 : KX_ENOMEM;
}

int status_render_atom(struct cmd_ctx *ctx, struct buf *out)
{
  struct status_data d;
  int rc = status_data_load(ctx, &d);
  if (rc)
    return rc;
  const char *title = ctx->config->status_page.title ? ctx->config->status_page.title : "Status";
  const char *base = ctx->config->status_page.public_url ? ctx->config->status_page.public_url
                     : ctx->public_url                   ? ctx->public_url
                                                         : "";
  char t[40];
  buf_puts(out,
           "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
           "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>");
  status_esc(out, title);
  buf_puts(out, " — history</title><id>urn:klaxon:status:");
  status_esc(out, base);
  buf_printf(out, "</id><updated>%s</updated><link rel=\"alternate\" href=\"",
             time_format_utc(ctx->now_ms, t, sizeof(t)));
  status_esc(out, base);
  buf_puts(out, "/status\"/>");
  for (size_t i = 0; i < d.ninc; i++) {
    const struct status_inc *x = &d.inc[i];
    for (size_t j = 0; j < x->nup; j++) {
      const struct status_update *u = &x->up[j];
      buf_printf(out, "<entry><id>urn:klaxon:status:update:%lld</id><title>", (long long)u->id);
      status_esc(out, x->inc.title);
      buf_puts(out, " — ");
      status_esc(out, u->status);
      buf_printf(out, "</title><updated>%s</updated><link href=\"",
                 time_format_utc(u->at_ms, t, sizeof(t)));
      status_esc(out, base);
      buf_puts(out, "/status\"/><content type=\"text\">");
      status_esc(out, u->body);
      buf_puts(out, "</content></entry>");
    }
  }
  buf_puts(out, "</feed>\n");
  status_data_free(&d);
  return 0;
}
