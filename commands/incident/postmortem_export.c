/*
 * postmortem_export.c — the postmortem sent where the team keeps its documents (issue 14):
 * Confluence Cloud (REST v2: POST /wiki/api/v2/pages in the storage format, then PUT
 * /wiki/api/v2/pages/{id} with the next version number on each re-export; the page id and version
 * come back through the outbox hook) and a generic webhook (POST {"incident": {…}, "markdown"}).
 * `/incident postmortem export`, and on its own when the postmortem is marked done. The draft is
 * the built-in layout (postmortem.c); everything in it is escaped for XHTML here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/out.h"
#include "commands/incident/incident_internal.h"
#include "commands/incident/postmortem.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/postmortem_exports.h"

/* ---- Markdown (the draft's own subset) to Confluence storage format ------------------------ */

/* Inline text: backslash escapes undone, **bold** kept, everything else XML-escaped. */
static int inline_xml(struct buf *out, const char *s, size_t len)
{
  struct buf t;
  buf_init(&t, POSTMORTEM_MAX);
  int rc = 0;
  bool bold = false;
  for (size_t i = 0; rc == 0 && i < len; i++) {
    if (s[i] == '\\' && i + 1 < len) {
      rc = buf_append(&t, &s[++i], 1);
    } else if (s[i] == '&' && len - i >= 4 &&
               (!strncmp(s + i, "&lt;", 4) || !strncmp(s + i, "&gt;", 4))) {
      /* postmortem_md_text's own escapes of < and >: the characters, escaped again below */
      rc = buf_append(&t, s[i + 1] == 'l' ? "<" : ">", 1);
      i += 3;
    } else if (s[i] == '*' && i + 1 < len && s[i + 1] == '*') {
      i++;
      if (t.len)
        rc = buf_xml(out, t.data);
      buf_reset(&t);
      if (rc == 0)
        rc = buf_puts(out, bold ? "</strong>" : "<strong>");
      bold = !bold;
    } else {
      rc = buf_append(&t, &s[i], 1);
    }
  }
  if (rc == 0 && t.len)
    rc = buf_xml(out, t.data);
  if (rc == 0 && bold)
    rc = buf_puts(out, "</strong>");
  buf_free(&t);
  return rc;
}

enum block { B_NONE, B_P, B_UL, B_TABLE };

static int close_block(struct buf *out, enum block *b)
{
  static const char *const end[] = {"", "</p>", "</ul>", "</tbody></table>"};
  int rc = buf_puts(out, end[*b]);
  *b = B_NONE;
  return rc;
}

/* One table row "| a | b |"; a separator row "|---|---|" is skipped. */
static int table_row(struct buf *out, const char *line, size_t len, bool head)
{
  if (strspn(line, "|-: ") >= len && memchr(line, '-', len))
    return 0;
  int rc = buf_puts(out, "<tr>");
  size_t i = 1;
  while (rc == 0 && i < len) {
    size_t j = i;
    while (j < len && !(line[j] == '|' && line[j - 1] != '\\'))
      j++;
    size_t a = i, z = j;
    while (a < z && line[a] == ' ')
      a++;
    while (z > a && line[z - 1] == ' ')
      z--;
    rc = buf_puts(out, head ? "<th>" : "<td>");
    if (rc == 0)
      rc = inline_xml(out, line + a, z - a);
    if (rc == 0)
      rc = buf_puts(out, head ? "</th>" : "</td>");
    i = j + 1;
  }
  return rc ? rc : buf_puts(out, "</tr>");
}

int postmortem_storage(const char *md, struct buf *out)
{
  enum block b = B_NONE;
  bool first_row = false;
  int rc = 0;
  for (const char *p = md; rc == 0 && *p;) {
    size_t len = strcspn(p, "\n");
    const char *line = p;
    p += len + (p[len] == '\n');
    int h = 0;
    while (h < 6 && (size_t)h < len && line[h] == '#')
      h++;
    if (len == 0) {
      rc = close_block(out, &b);
    } else if (h > 0 && (size_t)h < len && line[h] == ' ') {
      rc = close_block(out, &b);
      if (rc == 0)
        rc = buf_printf(out, "<h%d>", h);
      if (rc == 0)
        rc = inline_xml(out, line + h + 1, len - h - 1);
      if (rc == 0)
        rc = buf_printf(out, "</h%d>", h);
    } else if (len >= 2 && line[0] == '-' && line[1] == ' ') {
      if (b != B_UL) {
        rc = close_block(out, &b);
        rc = rc ? rc : buf_puts(out, "<ul>");
        b = B_UL;
      }
      if (rc == 0)
        rc = buf_puts(out, "<li>");
      if (rc == 0)
        rc = inline_xml(out, line + 2, len - 2);
      if (rc == 0)
        rc = buf_puts(out, "</li>");
    } else if (line[0] == '|') {
      if (b != B_TABLE) {
        rc = close_block(out, &b);
        rc = rc ? rc : buf_puts(out, "<table><tbody>");
        b = B_TABLE;
        first_row = true;
      }
      if (rc == 0)
        rc = table_row(out, line, len, first_row);
      first_row = false;
    } else if (line[0] == '>') {
      rc = close_block(out, &b);
      size_t skip = len > 1 && line[1] == ' ' ? 2 : 1;
      if (rc == 0)
        rc = buf_puts(out, "<blockquote><p>");
      if (rc == 0)
        rc = inline_xml(out, line + skip, len - skip);
      if (rc == 0)
        rc = buf_puts(out, "</p></blockquote>");
    } else {
      if (b != B_P) {
        rc = close_block(out, &b);
        rc = rc ? rc : buf_puts(out, "<p>");
        b = B_P;
      } else {
        rc = buf_puts(out, "<br/>");
      }
      if (rc == 0)
        rc = inline_xml(out, line, len);
    }
  }
  return rc ? rc : close_block(out, &b);
}

/* ---- the requests --------------------------------------------------------------------------- */

static char *page_title(const struct incident *inc)
{
  return kx_asprintf("Postmortem: incident #%lld — %s", (long long)inc->id, inc->title);
}

static int confluence(struct cmd_ctx *ctx,
                      const struct incident *inc,
                      const char *md,
                      const char **state)
{
  const struct config *c = ctx->config;
  struct postmortem_export ex;
  int rc = postmortem_exports_get(ctx->db, inc->id, &ex);
  if (rc && rc != KX_ENOTFOUND)
    return rc;
  bool create = rc == KX_ENOTFOUND;
  if (!create && !ex.page_id) {
    *state = "the Confluence page is still being created; try again in a moment";
    postmortem_export_clear(&ex);
    return 0;
  }
  if (create && (rc = postmortem_exports_begin(ctx->db, inc->id, ctx->now_ms)) != 0)
    return rc == KX_EEXISTS ? 0 : rc;
  struct buf xhtml;
  buf_init(&xhtml, POSTMORTEM_MAX * 2);
  rc = postmortem_storage(md, &xhtml);
  char *title = page_title(inc);
  cJSON *row = cJSON_CreateObject(), *j = cJSON_CreateObject(), *body = cJSON_CreateObject();
  if (rc == 0 && (!title || !row || !j || !body))
    rc = KX_ENOMEM;
  char url[600], ref[24];
  if (rc == 0) {
    if (create) {
      snprintf(url, sizeof(url), "%s/wiki/api/v2/pages", c->postmortem.confluence.url);
      cJSON_AddStringToObject(j, "spaceId", c->postmortem.confluence.space_id);
      if (c->postmortem.confluence.parent_id)
        cJSON_AddStringToObject(j, "parentId", c->postmortem.confluence.parent_id);
    } else {
      snprintf(url, sizeof(url), "%s/wiki/api/v2/pages/%s", c->postmortem.confluence.url,
               ex.page_id);
      cJSON_AddStringToObject(j, "id", ex.page_id);
    }
    cJSON_AddStringToObject(j, "status", "current");
    cJSON_AddStringToObject(j, "title", title);
    cJSON_AddStringToObject(body, "representation", "storage");
    cJSON_AddStringToObject(body, "value", xhtml.data ? xhtml.data : "");
    cJSON_AddItemToObject(j, "body", body);
    body = NULL;
    if (!create) {
      cJSON *v = cJSON_AddObjectToObject(j, "version");
      cJSON_AddNumberToObject(v, "number", (double)(ex.version + 1));
      cJSON_AddStringToObject(v, "message", "Re-exported by klaxon");
    }
    cJSON_AddStringToObject(row, "url", url);
    cJSON_AddStringToObject(row, "method", create ? "POST" : "PUT");
    cJSON_AddStringToObject(row, "email_env", c->postmortem.confluence.email_env);
    cJSON_AddStringToObject(row, "token_env", c->postmortem.confluence.token_env);
    cJSON_AddItemToObject(row, "json", j);
    j = NULL;
    snprintf(ref, sizeof(ref), "%lld", (long long)inc->id);
    rc = out_row(ctx, "export", create ? "confluence.create" : "confluence.update",
                 "export:confluence", row, OUTBOX_BULK, CMD_HOOK_POSTMORTEM_CONFLUENCE, ref, NULL);
    row = NULL;
  }
  cJSON_Delete(row);
  cJSON_Delete(j);
  cJSON_Delete(body);
  free(title);
  buf_free(&xhtml);
  if (rc == 0)
    *state = create ? "a Confluence page is being created" : "the Confluence page is being updated";
  postmortem_export_clear(&ex);
  return rc;
}

static void add_time(cJSON *o, const char *name, int64_t ms)
{
  if (ms > 0)
    cJSON_AddNumberToObject(o, name, (double)(ms / 1000));
  else
    cJSON_AddNullToObject(o, name);
}

static void add_text(cJSON *o, const char *name, const char *s)
{
  if (s)
    cJSON_AddStringToObject(o, name, s);
  else
    cJSON_AddNullToObject(o, name);
}

static int webhook(struct cmd_ctx *ctx, const struct incident *inc, const char *md)
{
  cJSON *row = cJSON_CreateObject(), *j = cJSON_CreateObject(), *i = cJSON_CreateObject();
  if (!row || !j || !i) {
    cJSON_Delete(row);
    cJSON_Delete(j);
    cJSON_Delete(i);
    return KX_ENOMEM;
  }
  cJSON_AddNumberToObject(i, "id", (double)inc->id);
  add_text(i, "title", inc->title);
  add_text(i, "severity", inc->severity);
  add_text(i, "status", inc->status);
  add_text(i, "commander", inc->roles[INCIDENT_ROLE_COMMANDER]);
  add_text(i, "resolution", inc->resolution);
  add_text(i, "postmortem_url", inc->postmortem_url);
  add_text(i, "channel", inc->channel);
  add_time(i, "declared_at", inc->declared_at);
  add_time(i, "impact_start_at", inc->impact_start_at);
  add_time(i, "resolved_at", inc->resolved_at);
  add_time(i, "postmortem_done_at", inc->postmortem_done_at);
  cJSON_AddItemToObject(j, "incident", i);
  cJSON_AddStringToObject(j, "markdown", md);
  cJSON_AddStringToObject(row, "url_env", ctx->config->postmortem.webhook_url_env);
  cJSON_AddStringToObject(row, "method", "POST");
  cJSON_AddItemToObject(row, "json", j);
  return out_row(ctx, "export", "webhook", "export:webhook", row, OUTBOX_BULK, NULL, NULL, NULL);
}

bool postmortem_export_configured(const struct config *c)
{
  return c->postmortem.confluence.url || c->postmortem.webhook_url_env;
}

int postmortem_export(struct cmd_ctx *ctx, const struct incident *inc, struct buf *said)
{
  const struct config *c = ctx->config;
  if (!postmortem_export_configured(c))
    return 0;
  struct buf md;
  int rc = postmortem_render(ctx, inc->id, NULL, &md);
  const char *state = NULL;
  if (rc == 0 && c->postmortem.confluence.url)
    rc = confluence(ctx, inc, md.data ? md.data : "", &state);
  if (rc == 0 && c->postmortem.webhook_url_env)
    rc = webhook(ctx, inc, md.data ? md.data : "");
  buf_free(&md);
  if (rc == 0 && said) {
    md_raw(said, "Exporting the postmortem of ");
    incident_md_ref(said, inc);
    md_raw(said, ":");
    if (state)
      md_printf(said, " %s", state);
    if (c->postmortem.webhook_url_env)
      md_printf(said, "%s sent to the webhook", state ? ";" : "");
    md_raw(said, ".");
  }
  LOG_INFO("incident", "postmortem_export", "id=%lld rc=%s", (long long)inc->id, kx_err_name(rc));
  return rc;
}

/* ---- Confluence's answer ------------------------------------------------------------------- */

int incident_hook_postmortem_confluence(struct cmd_ctx *ctx,
                                        const struct outbox_row *row,
                                        const struct cmd_result *result)
{
  char *end = NULL;
  long long id = row->ref ? strtoll(row->ref, &end, 10) : 0;
  if (!end || *end || id <= 0)
    return 0;
  struct incident inc;
  int rc = incidents_get(ctx->db, id, &inc);
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  const cJSON *page = cJSON_GetObjectItemCaseSensitive(result->response, "body");
  const cJSON *pid = cJSON_GetObjectItemCaseSensitive(page, "id");
  const cJSON *ver = cJSON_GetObjectItemCaseSensitive(page, "version");
  const cJSON *num = cJSON_GetObjectItemCaseSensitive(ver, "number");
  const cJSON *links = cJSON_GetObjectItemCaseSensitive(page, "_links");
  const cJSON *base = cJSON_GetObjectItemCaseSensitive(links, "base");
  const cJSON *webui = cJSON_GetObjectItemCaseSensitive(links, "webui");
  struct buf b;
  md_init(&b);
  if (!result->ok || !cJSON_IsString(pid) || !cJSON_IsNumber(num) || num->valuedouble < 1) {
    rc = postmortem_exports_abandon(ctx->db, id);
    md_printf(&b,
              ":warning: Confluence did not take the postmortem (%s). Check "
              "`postmortem.confluence` and its credentials, then `/incident postmortem export`.",
              result->error ? result->error : "an answer without a page");
    LOG_WARN("incident", "confluence_refused", "id=%lld error=%s", id,
             result->error ? result->error : "-");
    rc = rc ? rc : incident_say(ctx, &inc, &b, "The postmortem export failed", OUTBOX_BULK);
    incident_clear(&inc);
    return rc;
  }
  char *url = NULL;
  if (cJSON_IsString(webui) && webui->valuestring[0] == '/') {
    const char *site = cJSON_IsString(base) && strncmp(base->valuestring, "https://", 8) == 0
                           ? base->valuestring
                           : NULL;
    url =
        site ? kx_asprintf("%s%s", site, webui->valuestring)
             : kx_asprintf("%s/wiki%s", ctx->config->postmortem.confluence.url, webui->valuestring);
  }
  int64_t v = (int64_t)num->valuedouble;
  rc = postmortem_exports_set(ctx->db, id, pid->valuestring, v, url, ctx->now_ms);
  if (rc == 0) {
    md_raw(&b, ":page_facing_up: The postmortem is in Confluence");
    if (url) {
      md_raw(&b, ": ");
      md_link(&b, url, NULL);
    }
    md_printf(&b, " (version %lld).", (long long)v);
    rc = incident_say(ctx, &inc, &b, "The postmortem is in Confluence", OUTBOX_BULK);
  }
  free(url);
  incident_clear(&inc);
  return rc;
}

int incident_cmd_postmortem_export(struct cmd_ctx *ctx,
                                   const struct incident *inc,
                                   struct cmd_reply *reply)
{
  if (!postmortem_export_configured(ctx->config)) {
    cmd_reply_printf(reply,
                     "No export is configured: set `postmortem.confluence` (Confluence "
                     "Cloud) or `postmortem.webhook_url_env` (any URL) in the config.");
    return KX_ESTATE;
  }
  struct buf b;
  md_init(&b);
  int rc = postmortem_export(ctx, inc, &b);
  if (rc == 0)
    rc = incident_reply_markup(reply, &b);
  else
    buf_free(&b);
  return rc;
}
