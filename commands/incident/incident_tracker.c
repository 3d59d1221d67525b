/*
 * incident_tracker.c — action items as tracker issues (issue 14). A new item of an incident
 * whose rota has `tracker:` (else the first rota that has one) becomes an outbox row of platform
 * "tracker" (bot/push/tracker_send.c sends it with the token read from the environment then):
 * a GitHub issue (REST `POST /repos/{owner}/{repo}/issues`) or a Jira Cloud issue (REST v3
 * `POST /rest/api/3/issue`, the description in Atlassian Document Format). The hook stores the
 * issue's key and address and links it in the timeline and the channel (the postmortem lists
 * it with the item); the trackers' webhooks close the item (incident_action_tracker_closed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/out.h"
#include "commands/incident/incident_internal.h"
#include "commands/incident/incident_rows.h"
#include "commands/incident/tracker_parse.h"
#include "lib/kx.h"
#include "lib/log.h"
#include "storage/incident_actions.h"
#include "storage/incident_timeline.h"

static const struct rota *tracker_rota(const struct config *c, const char *rota)
{
  const struct rota *r = rota ? config_rota(c, rota) : NULL;
  if (r && r->tracker.kind != TRACKER_NONE)
    return r;
  for (size_t i = 0; i < c->n_rotas; i++)
    if (c->rotas[i].tracker.kind != TRACKER_NONE)
      return &c->rotas[i];
  return NULL;
}

/* ADF: a doc of paragraphs, one per line of text (Jira Cloud REST v3 wants no markup). */
static cJSON *adf(const char *const *lines, size_t n)
{
  cJSON *doc = cJSON_CreateObject();
  cJSON_AddStringToObject(doc, "type", "doc");
  cJSON_AddNumberToObject(doc, "version", 1);
  cJSON *content = cJSON_AddArrayToObject(doc, "content");
  for (size_t i = 0; content && i < n; i++) {
    if (!lines[i] || !*lines[i])
      continue;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "type", "paragraph");
    cJSON *pc = cJSON_AddArrayToObject(p, "content");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "type", "text");
    cJSON_AddStringToObject(t, "text", lines[i]);
    cJSON_AddItemToArray(pc, t);
    cJSON_AddItemToArray(content, p);
  }
  return doc;
}

int incident_tracker_open(struct cmd_ctx *ctx,
                          const struct incident *inc,
                          int64_t number,
                          const char *owner,
                          const char *text,
                          const char *due)
{
  const struct rota *r = tracker_rota(ctx->config, inc->rota);
  if (!r)
    return 0;
  const struct tracker *t = &r->tracker;
  char *title = kx_asprintf("%.200s", text);
  char *from = kx_asprintf("Action item %lld of incident #%lld: %.300s", (long long)number,
                           (long long)inc->id, inc->title);
  char *who = kx_asprintf("Owner: %s", owner ? incident_who_name(ctx, owner) : "nobody yet");
  char *when = due && *due ? kx_asprintf("Due: %s", due) : NULL;
  char *link = ctx->public_url && *ctx->public_url
                   ? kx_asprintf("Postmortem: %s/incidents/%lld/postmortem.md", ctx->public_url,
                                 (long long)inc->id)
                   : NULL;
  cJSON *body = cJSON_CreateObject();
  cJSON *issue = body ? cJSON_AddObjectToObject(body, "issue") : NULL;
  int rc = title && from && who && issue ? 0 : KX_ENOMEM;
  if (rc == 0 && t->kind == TRACKER_GITHUB) {
    cJSON_AddStringToObject(body, "kind", "github");
    cJSON_AddStringToObject(body, "repo", t->repo);
    cJSON_AddStringToObject(body, "token_env", t->token_env);
    cJSON_AddStringToObject(issue, "title", title);
    char *md = kx_asprintf(
        "%s\n\n%s\n%s%s%s%s%s\n\n_Filed by klaxon; closing this issue closes the "
        "action item._",
        text, from, who, when ? "\n" : "", when ? when : "", link ? "\n" : "", link ? link : "");
    if (md)
      cJSON_AddStringToObject(issue, "body", md);
    free(md);
    cJSON *labels = cJSON_AddArrayToObject(issue, "labels");
    if (labels)
      cJSON_AddItemToArray(labels, cJSON_CreateString("incident-follow-up"));
  } else if (rc == 0) {
    cJSON_AddStringToObject(body, "kind", "jira");
    cJSON_AddStringToObject(body, "url", t->url);
    cJSON_AddStringToObject(body, "email_env", t->email_env);
    cJSON_AddStringToObject(body, "token_env", t->token_env);
    cJSON *fields = cJSON_AddObjectToObject(issue, "fields");
    cJSON *project = cJSON_AddObjectToObject(fields, "project");
    cJSON_AddStringToObject(project, "key", t->project);
    cJSON_AddStringToObject(fields, "summary", title);
    cJSON *type = cJSON_AddObjectToObject(fields, "issuetype");
    cJSON_AddStringToObject(type, "name", t->issue_type ? t->issue_type : "Task");
    const char *lines[] = {text, from, who, when, link};
    cJSON_AddItemToObject(fields, "description", adf(lines, KX_ARRAY_SIZE(lines)));
    if (due && *due)
      cJSON_AddStringToObject(fields, "duedate", due);
    cJSON *labels = cJSON_AddArrayToObject(fields, "labels");
    if (labels)
      cJSON_AddItemToArray(labels, cJSON_CreateString("incident-follow-up"));
  }
  free(title);
  free(from);
  free(who);
  free(when);
  free(link);
  if (rc) {
    cJSON_Delete(body);
    return rc;
  }
  char ref[64];
  snprintf(ref, sizeof(ref), "%lld:%lld", (long long)inc->id, (long long)number);
  LOG_INFO("incident", "tracker_issue", "id=%lld number=%lld rota=%s tracker=%s",
           (long long)inc->id, (long long)number, r->name,
           t->kind == TRACKER_GITHUB ? "github" : "jira");
  return out_row(ctx, "tracker", t->kind == TRACKER_GITHUB ? "github" : "jira", "tracker", body,
                 OUTBOX_NORMAL, CMD_HOOK_TRACKER_ISSUE, ref, NULL);
}

int incident_hook_tracker_issue(struct cmd_ctx *ctx,
                                const struct outbox_row *row,
                                const struct cmd_result *result)
{
  long long id = 0, number = 0;
  if (!row->ref || sscanf(row->ref, "%lld:%lld", &id, &number) != 2)
    return 0;
  if (!result->ok || !result->response) {
    LOG_WARN("incident", "tracker_issue_failed", "id=%lld number=%lld error=%s", id, number,
             result->error ? result->error : "-");
    return 0;
  }
  /* The sender's answer: {"status": 201, "body": <the tracker's JSON>}. */
  const cJSON *r = cJSON_GetObjectItemCaseSensitive(result->response, "body");
  if (!cJSON_IsObject(r))
    r = result->response;
  char key[TRACKER_KEY_MAX + 8], url[600];
  key[0] = url[0] = '\0';
  const cJSON *num = cJSON_GetObjectItemCaseSensitive(r, "number");
  const cJSON *html = cJSON_GetObjectItemCaseSensitive(r, "html_url");
  const cJSON *jkey = cJSON_GetObjectItemCaseSensitive(r, "key");
  bool github = strcmp(row->method, "github") == 0;
  cJSON *body = row->body ? cJSON_Parse(row->body) : NULL;
  const cJSON *repo = cJSON_GetObjectItemCaseSensitive(body, "repo");
  const cJSON *base = cJSON_GetObjectItemCaseSensitive(body, "url");
  if (github && cJSON_IsNumber(num) && cJSON_IsString(repo)) {
    snprintf(key, sizeof(key), "%s#%lld", repo->valuestring, (long long)num->valuedouble);
    if (cJSON_IsString(html) && strncmp(html->valuestring, "http", 4) == 0)
      snprintf(url, sizeof(url), "%s", html->valuestring);
  } else if (!github && cJSON_IsString(jkey) && cJSON_IsString(base)) {
    snprintf(key, sizeof(key), "%.*s", TRACKER_KEY_MAX, jkey->valuestring);
    size_t bl = strlen(base->valuestring);
    snprintf(url, sizeof(url), "%.*s/browse/%s",
             (int)(bl && base->valuestring[bl - 1] == '/' ? bl - 1 : bl), base->valuestring, key);
  }
  cJSON_Delete(body);
  if (!*key) {
    LOG_WARN("incident", "tracker_issue_unreadable", "id=%lld number=%lld", id, number);
    return 0;
  }
  int rc = incident_actions_set_tracker(ctx->db, id, number, key, *url ? url : NULL);
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  struct incident inc;
  rc = incidents_get(ctx->db, id, &inc);
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  char *t = kx_asprintf("Action item %lld: %s issue %s%s%s", number, github ? "GitHub" : "Jira",
                        key, *url ? " " : "", url);
  struct timeline_new e = {inc.id,      "action",    github ? "github" : "jira",
                           t ? t : key, ctx->now_ms, false,
                           NULL,        ctx->now_ms};
  rc = timeline_add(ctx->db, &e, NULL);
  free(t);
  if (rc == 0) {
    struct buf b;
    md_init(&b);
    md_printf(&b, ":link: Action item *%lld* is tracked in ", number);
    if (*url)
      md_link(&b, url, key);
    else
      md_text(&b, key);
    md_raw(&b, ".");
    rc = incident_say(ctx, &inc, &b, "Action item tracked", OUTBOX_NORMAL);
  }
  LOG_INFO("incident", "tracker_linked", "id=%lld number=%lld key=%s", id, number, key);
  incident_clear(&inc);
  return rc;
}

int incident_action_tracker_closed(struct cmd_ctx *ctx,
                                   const struct cmd_request *req,
                                   struct cmd_reply *reply)
{
  const cJSON *k = cJSON_GetObjectItemCaseSensitive(req->payload, "key");
  const cJSON *who = cJSON_GetObjectItemCaseSensitive(req->payload, "tracker");
  if (!cJSON_IsString(k) || !cJSON_IsString(who))
    return KX_EINVAL;
  int64_t id = 0, number = 0;
  int rc = incident_actions_by_tracker(ctx->db, k->valuestring, &id, &number);
  if (rc == KX_ENOTFOUND) {
    LOG_INFO("incident", "tracker_closed_unknown", "key=%s", k->valuestring);
    return 0;
  }
  if (rc)
    return rc;
  struct incident inc;
  rc = incidents_get(ctx->db, id, &inc);
  if (rc)
    return rc == KX_ENOTFOUND ? 0 : rc;
  rc = incident_action_mark_done(ctx, &inc, number, who->valuestring, reply);
  LOG_INFO("incident", "tracker_closed", "key=%s id=%lld number=%lld rc=%d", k->valuestring,
           (long long)id, (long long)number, rc);
  incident_clear(&inc);
  return rc == KX_EINVAL ? 0 : rc; /* already done: nothing to do */
}
