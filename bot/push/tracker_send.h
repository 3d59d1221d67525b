/*
 * tracker_send.h — the outbox sender for rows of platform "tracker" (issue 14): an action item
 * filed as an issue. The row's method is "github" or "jira"; its body
 *   {"kind": "github", "repo": "acme/platform", "token_env": "GITHUB_TOKEN", "issue": {…}}
 *   {"kind": "jira", "url": "https://acme.atlassian.net", "email_env": "JIRA_EMAIL",
 *    "token_env": "JIRA_TOKEN", "issue": {"fields": {…}}}
 * names the variables; the token (and Jira's email) are read from them only now, at send time,
 * never stored.
 * - GitHub REST: POST $KLAXON_GITHUB_API_URL (default https://api.github.com)
 *   /repos/{owner}/{repo}/issues, `Authorization: Bearer TOKEN`,
 *   `Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28`, a User-Agent.
 * - Jira Cloud REST v3: POST {url}/rest/api/3/issue, `Authorization: Basic base64(email:token)`,
 *   JSON in and out.
 * Results as for push rows (push_send.h): 2xx done with {"status", "body": the issue}; 429
 * rate-limited; 5xx and network errors retried; any other status refused for good as
 * "tracker_http_STATUS"; an unset variable refuses the row.
 */
#ifndef KX_TRACKER_SEND_H
#define KX_TRACKER_SEND_H

#include "bot/net/http_client.h"
#include "bot/sender.h"

#define GITHUB_API_URL "https://api.github.com"

int tracker_send_row(void *arg,
                     struct sender *s,
                     const struct outbox_row *row,
                     sender_done_fn done);

#endif
