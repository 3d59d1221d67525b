/*
 * fuzz_tracker.c — libFuzzer target for the trackers' webhooks (issue 14): tracker_webhook_parse
 * (commands/incident/tracker_parse.c), what POST /trackers/github and /trackers/jira hand a
 * signed body to, and hub_sig_ok (lib/hub_sig.c) on the same bytes. The first byte picks the
 * tracker (even: GitHub with X-GitHub-Event "issues", odd: Jira). Any bytes in: a key, "ignored"
 * or a refusal out, never a crash, a leak or undefined behaviour. Seeds:
 * tests/fuzz/seeds/fuzz_tracker/ (GitHub's `issues` closed and opened, a ping, Jira's
 * jira:issue_updated done and in progress).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "commands/incident/tracker_parse.h"
#include "lib/hub_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  enum tracker_kind kind = data[0] % 2 ? TRACKER_JIRA : TRACKER_GITHUB;
  char *body = malloc(size); /* NUL-terminated as httpd gives it */
  if (!body)
    return 0;
  memcpy(body, data + 1, size - 1);
  body[size - 1] = '\0';
  char key[TRACKER_KEY_MAX + 8], where[600];
  int rc =
      tracker_webhook_parse(kind, "issues", body, size - 1, key, sizeof(key), where, sizeof(where));
  if (rc == 1 && (!key[0] || strlen(key) >= sizeof(key)))
    abort();
  if (rc != 1 && key[0])
    abort();
  (void)hub_sig_ok("fuzz-secret", body, size - 1, body);
  free(body);
  return 0;
}
