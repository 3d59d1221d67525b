#include "commands/incident/tracker_parse.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lib/kx.h"

static const cJSON *at(const cJSON *o, const char *const *path)
{
  for (; o && *path; path++)
    o = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, *path) : NULL;
  return o;
}

static const char *str_at(const cJSON *o, const char *const *path)
{
  const cJSON *x = at(o, path);
  return cJSON_IsString(x) ? x->valuestring : NULL;
}

static bool printable(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
      return false;
  return true;
}

static int github(const cJSON *root,
                  const char *event_name,
                  char *key,
                  size_t key_size,
                  char *repo,
                  size_t repo_size)
{
  static const char *const ACTION[] = {"action", NULL};
  static const char *const NUMBER[] = {"issue", "number", NULL};
  static const char *const REPO[] = {"repository", "full_name", NULL};
  if (!event_name || strcmp(event_name, "issues") != 0)
    return 0; /* ping, push …: not ours */
  const char *action = str_at(root, ACTION);
  const cJSON *num = at(root, NUMBER);
  const char *full = str_at(root, REPO);
  if (!action || !cJSON_IsNumber(num) || !full || !*full || !printable(full))
    return KX_EINVAL;
  if (strcmp(action, "closed") != 0)
    return 0;
  double n = num->valuedouble;
  if (n < 1 || n > 1e12 || n != (double)(long long)n)
    return KX_EINVAL;
  int w = snprintf(key, key_size, "%s#%lld", full, (long long)n);
  if (w < 0 || (size_t)w >= key_size)
    return KX_EINVAL;
  w = snprintf(repo, repo_size, "%s", full);
  return w < 0 || (size_t)w >= repo_size ? KX_EINVAL : 1;
}

static int jira(const cJSON *root, char *key, size_t key_size, char *repo, size_t repo_size)
{
  static const char *const EVENT[] = {"webhookEvent", NULL};
  static const char *const KEY[] = {"issue", "key", NULL};
  static const char *const CAT[] = {"issue", "fields", "status", "statusCategory", "key", NULL};
  static const char *const SELF[] = {"issue", "self", NULL};
  const char *ev = str_at(root, EVENT);
  if (!ev)
    return KX_EINVAL;
  if (strcmp(ev, "jira:issue_updated") != 0)
    return 0;
  const char *k = str_at(root, KEY);
  if (!k || !*k || !printable(k) || strlen(k) >= key_size)
    return KX_EINVAL;
  const char *cat = str_at(root, CAT);
  if (!cat || strcmp(cat, "done") != 0)
    return 0;
  snprintf(key, key_size, "%s", k);
  const char *self = str_at(root, SELF);
  snprintf(repo, repo_size, "%s", self && printable(self) ? self : "");
  return 1;
}

int tracker_webhook_parse(enum tracker_kind kind,
                          const char *event_name,
                          const char *body,
                          size_t len,
                          char *key,
                          size_t key_size,
                          char *repo,
                          size_t repo_size)
{
  if (!body || !key || key_size < 2 || !repo || repo_size < 2)
    return KX_EINVAL;
  key[0] = repo[0] = '\0';
  cJSON *root = cJSON_ParseWithLength(body, len);
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return KX_EINVAL;
  }
  int rc = kind == TRACKER_GITHUB ? github(root, event_name, key, key_size, repo, repo_size)
           : kind == TRACKER_JIRA ? jira(root, key, key_size, repo, repo_size)
                                  : KX_EINVAL;
  cJSON_Delete(root);
  if (rc != 1)
    key[0] = repo[0] = '\0';
  return rc;
}
