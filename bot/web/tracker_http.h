/*
 * tracker_http.h — the trackers' webhooks (issue 14): POST /trackers/github (GitHub's `issues`
 * event; `X-Hub-Signature-256: sha256=HMAC-SHA256(secret, raw body)`) and POST /trackers/jira
 * (Jira Cloud's `jira:issue_updated`; `X-Hub-Signature: sha256=…` under the webhook's secret).
 * The signature is checked, in constant time, against the secret of every rota whose tracker is
 * of that kind (the variable its `webhook_secret_env` names); no match: 401 and nothing stored.
 * A signed event that closes an issue (GitHub action "closed"; Jira status category "done")
 * closes its action item; other events are answered 200 and ignored; a signed body that is not
 * such an event is 400. Bodies over TRACKER_MAX_BODY are refused (413) before they are read.
 * Routes exist only when some rota has a tracker.
 */
#ifndef KX_TRACKER_HTTP_H
#define KX_TRACKER_HTTP_H

#define TRACKER_MAX_BODY ((size_t)1024 * 1024)

struct module_env;

int tracker_http_init(const struct module_env *env, void **state);

#endif
