/*
 * config_export.c — issue 14's blocks about an incident's afterlife: `incident:` (archive_after)
 * and the postmortem's export (`postmortem.confluence`, `postmortem.webhook_url_env`).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/config/config_load_internal.h"

static const char *const INCIDENT_KEYS[] = {"archive_after", NULL};

/* incident: {archive_after: 7d}: a closed incident's channel is archived that long after. */
void cfg_load_incident(struct cfg_loader *L, yaml_node_t *n)
{
  struct cfg_obj o;
  if (!n || !cfg_obj_open(L, n, "incident", INCIDENT_KEYS, &o))
    return;
  yaml_node_t *a = cfg_get(&o, "archive_after");
  if (cfg_duration(L, a, "incident.archive_after", &L->c->incident.archive_after_ms) &&
      L->c->incident.archive_after_ms < 60 * 1000)
    cfg_problem(L, cfg_line(a), "incident.archive_after: at least 1m (or leave it out: never)");
}

static const char *const CONFLUENCE_KEYS[] = {"url",       "space_id",  "parent_id",
                                              "email_env", "token_env", NULL};

/* A Confluence id: digits only (space and page ids are numbers in REST v2). */
static void numeric_id(struct cfg_loader *L, yaml_node_t *n, const char *path, char **out)
{
  if (!cfg_str(L, n, path, out) || !*out)
    return;
  const char *p = *out;
  while (*p >= '0' && *p <= '9')
    p++;
  if (p == *out || *p || strlen(*out) > 32)
    cfg_problem(L, cfg_line(n), "%s: \"%s\" is not a Confluence id (digits, like 123456)", path,
                cfg_show(*out).s);
}

/* postmortem: {confluence: {url, space_id, parent_id, email_env, token_env}, webhook_url_env}. */
void cfg_load_postmortem_export(struct cfg_loader *L, const struct cfg_obj *pm)
{
  struct config *c = L->c;
  cfg_checked(L, cfg_get(pm, "webhook_url_env"), "postmortem.webhook_url_env", &CFG_ENV,
              &c->postmortem.webhook_url_env);
  yaml_node_t *n = cfg_get(pm, "confluence");
  struct cfg_obj o;
  if (!n || !cfg_obj_open(L, n, "postmortem.confluence", CONFLUENCE_KEYS, &o))
    return;
  const char *path = "postmortem.confluence";
  yaml_node_t *url =
      cfg_need(L, &o, path, "url", "(your site, like https://example.atlassian.net)");
  if (cfg_checked(L, url, "postmortem.confluence.url", &CFG_URL, &c->postmortem.confluence.url) &&
      c->postmortem.confluence.url) {
    char *u = c->postmortem.confluence.url;
    size_t len = strlen(u);
    while (len > 0 && u[len - 1] == '/')
      u[--len] = '\0';
    /* The API token goes in every request: https, or plain http to this machine only. */
    if (strncasecmp(u, "https://", 8) != 0 && strncasecmp(u, "http://127.0.0.1", 16) != 0 &&
        strncasecmp(u, "http://localhost", 16) != 0 && strncasecmp(u, "http://[::1]", 12) != 0)
      cfg_problem(L, cfg_line(url),
                  "postmortem.confluence.url: \"%s\" is not an https:// URL (the API token is "
                  "sent with every request)",
                  cfg_show(u).s);
  }
  numeric_id(L, cfg_need(L, &o, path, "space_id", "(the space's numeric id)"),
             "postmortem.confluence.space_id", &c->postmortem.confluence.space_id);
  if (cfg_get(&o, "parent_id"))
    numeric_id(L, cfg_get(&o, "parent_id"), "postmortem.confluence.parent_id",
               &c->postmortem.confluence.parent_id);
  cfg_checked(L, cfg_need(L, &o, path, "email_env", "(the variable holding the account's email)"),
              "postmortem.confluence.email_env", &CFG_ENV, &c->postmortem.confluence.email_env);
  cfg_checked(L, cfg_need(L, &o, path, "token_env", "(the variable holding an API token)"),
              "postmortem.confluence.token_env", &CFG_ENV, &c->postmortem.confluence.token_env);
}
