/*
 * config_tracker.c — a rota's `tracker:` (issue 14): where its incidents' action items become
 * issues. One of
 *   tracker: {github: {repo: owner/name, token_env: GITHUB_TOKEN, webhook_secret_env: GH_HOOK}}
 *   tracker: {jira: {url: https://acme.atlassian.net, project: OPS, issue_type: Task,
 *                    email_env: JIRA_EMAIL, token_env: JIRA_TOKEN, webhook_secret_env: JIRA_HOOK}}
 * Secrets are named by variable and read when used, never stored.
 */
#include <ctype.h>
#include <string.h>

#include "bot/config/config_load_internal.h"
#include "lib/kx.h"

static const char *const TRACKER_KEYS[] = {"github", "jira", NULL};
static const char *const GITHUB_KEYS[] = {"repo", "token_env", "webhook_secret_env", NULL};
static const char *const JIRA_KEYS[] = {
    "url", "project", "issue_type", "email_env", "token_env", "webhook_secret_env", NULL};

static bool repo_ok(const char *s)
{
  const char *slash = strchr(s, '/');
  if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/') || strlen(s) > 140)
    return false;
  for (const char *p = s; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("-_./", *p))
      return false;
  return true;
}

static bool project_ok(const char *s)
{
  if (!isupper((unsigned char)s[0]) || strlen(s) > 32)
    return false;
  for (const char *p = s; *p; p++)
    if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
      return false;
  return true;
}

static void env_key(
    struct cfg_loader *L, const struct cfg_obj *o, const char *path, const char *key, char **out)
{
  yaml_node_t *n = cfg_need(L, o, path, key, "(the name of an environment variable)");
  cfg_checked(L, n, CFG_P("%s.%s", path, key), &CFG_ENV, out);
}

void cfg_load_tracker(struct cfg_loader *L, yaml_node_t *n, const char *at, struct tracker *t)
{
  struct cfg_path path = cfg_pathf("%s.tracker", at);
  struct cfg_obj o, k;
  if (!n || !cfg_obj_open(L, n, path.s, TRACKER_KEYS, &o))
    return;
  yaml_node_t *gh = cfg_get(&o, "github"), *jira = cfg_get(&o, "jira");
  bool empty =
      n->type != YAML_MAPPING_NODE || n->data.mapping.pairs.top == n->data.mapping.pairs.start;
  if (gh && jira) {
    cfg_problem(L, cfg_line(n), "%s: give one of github or jira", path.s);
    return;
  }
  if (!gh && !jira) { /* an unknown key has been reported already */
    if (empty)
      cfg_problem(L, cfg_line(n), "%s: give one of github or jira", path.s);
    return;
  }
  if (gh) {
    struct cfg_path p = cfg_pathf("%s.github", path.s);
    if (!cfg_obj_open(L, gh, p.s, GITHUB_KEYS, &k))
      return;
    t->kind = TRACKER_GITHUB;
    yaml_node_t *repo = cfg_need(L, &k, p.s, "repo", "(like acme/platform)");
    if (cfg_str(L, repo, CFG_P("%s.repo", p.s), &t->repo) && !repo_ok(t->repo))
      cfg_problem(L, cfg_line(repo), "%s.repo: \"%s\" is not owner/name", p.s, cfg_show(t->repo).s);
    env_key(L, &k, p.s, "token_env", &t->token_env);
    env_key(L, &k, p.s, "webhook_secret_env", &t->webhook_secret_env);
    return;
  }
  struct cfg_path p = cfg_pathf("%s.jira", path.s);
  if (!cfg_obj_open(L, jira, p.s, JIRA_KEYS, &k))
    return;
  t->kind = TRACKER_JIRA;
  cfg_checked(L, cfg_need(L, &k, p.s, "url", "(like https://acme.atlassian.net)"),
              CFG_P("%s.url", p.s), &CFG_URL, &t->url);
  yaml_node_t *proj = cfg_need(L, &k, p.s, "project", "(a project key like OPS)");
  if (cfg_str(L, proj, CFG_P("%s.project", p.s), &t->project) && !project_ok(t->project))
    cfg_problem(L, cfg_line(proj), "%s.project: \"%s\" is not a Jira project key (like OPS)", p.s,
                cfg_show(t->project).s);
  if (!cfg_str(L, cfg_get(&k, "issue_type"), CFG_P("%s.issue_type", p.s), &t->issue_type))
    t->issue_type = kx_strdup("Task");
  env_key(L, &k, p.s, "email_env", &t->email_env);
  env_key(L, &k, p.s, "token_env", &t->token_env);
  if (cfg_get(&k, "webhook_secret_env"))
    env_key(L, &k, p.s, "webhook_secret_env", &t->webhook_secret_env);
}
