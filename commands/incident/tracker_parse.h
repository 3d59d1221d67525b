/*
 * tracker_parse.h — what the trackers' webhooks say (issue 14), read from the raw JSON body:
 * - GitHub (`X-GitHub-Event: issues`): action "closed" on issue N of repository owner/name:
 *   key "owner/name#N".
 * - Jira Cloud (`webhookEvent: "jira:issue_updated"`): the status is in the "done"
 *   category (issue.fields.status.statusCategory.key): key "OPS-12".
 * Returns 1 with the key when an issue was closed, 0 for any other event (ignored), KX_EINVAL
 * for a body that is not such an event's JSON. Never trusts sizes: keys longer than the buffer
 * are refused.
 */
#ifndef KX_TRACKER_PARSE_H
#define KX_TRACKER_PARSE_H

#include <stddef.h>

#include "commands/core/config.h"

#define TRACKER_KEY_MAX 200

int tracker_webhook_parse(enum tracker_kind kind,
                          const char *event_name,
                          const char *body,
                          size_t len,
                          char *key,
                          size_t key_size,
                          char *repo,
                          size_t repo_size);

#endif
