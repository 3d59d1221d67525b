/*
 * alerts.h — alerts in: the Alertmanager webhook (version 4) and the generic JSON alert are
 * parsed into one batch shape, each alert is routed by `alerts.routes` (the first route whose
 * labels all match: rota -> a page, channel -> a post in that channel, record -> stored
 * only; no route: stored only), stored (de-duplicated by fingerprint, or dedup_key), and
 * grouped: one page (or channel post) per Alertmanager group and route. New alerts of an
 * open group update its messages instead of paging again; when every alert of a page has
 * resolved the page resolves (its copies are updated, its escalation stops).
 *
 * The HTTP transport (bot/alerts_http.c) parses and validates with alerts_parse() so a
 * malformed body is refused before anything is stored, then dispatches the same JSON as a
 * CMD_PLATFORM_HTTP action "alerts.alertmanager" / "alerts.webhook"; the handler parses it
 * again inside the transaction and ingests it.
 * A batch borrows from the cJSON tree it was parsed from, except what alert_batch_free frees.
 */
#ifndef KX_ALERTS_H
#define KX_ALERTS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commands/core/command.h"
#include "commands/core/names.h" /* the job kinds, hooks and action_ids it uses */

#define ALERTS_MAX_PER_REQUEST 20000 /* alerts in one webhook body (1 MiB holds ~5,000) */
#define ALERTS_MAX_LABELS 128        /* labels or annotations on one alert */
#define ALERTS_MAX_VALUE 4096        /* bytes of one label/annotation value */

enum alert_source { ALERT_SRC_ALERTMANAGER = 0, ALERT_SRC_WEBHOOK, ALERT_SRC_PAGERDUTY };

struct alert_item {
  bool firing;
  const cJSON *labels;      /* object of strings */
  const cJSON *annotations; /* object of strings, may be NULL */
  char fingerprint[80];
  int64_t starts_at, ends_at; /* 0 when unknown */
};

struct alert_batch {
  enum alert_source source;
  char group_key[512];
  struct alert_item *items;
  size_t n;
  cJSON *owned; /* labels/annotations built for the generic webhook */
};

/* Parse and validate; KX_EPROTO with a sentence in why (size >= 128) when the body is not
 * an Alertmanager v4 payload / a generic alert, KX_ETOOBIG over the caps, KX_ENOMEM. */
int alerts_parse(
    enum alert_source src, const cJSON *root, struct alert_batch *out, char *why, size_t n);
void alert_batch_free(struct alert_batch *b);

/* PagerDuty Events API v2 (alerts_pagerduty.c, issue 14). alerts_pd_check: is the event one
 * PagerDuty would accept (0), else KX_EPROTO with each problem as a sentence added to `errors`
 * (a JSON array, may be NULL) and the first in why. alerts_parse_pagerduty: the checked event
 * (with "routing_key_env" and "dedup_key" set by the transport) as one alert. The group of an
 * event is "pd:" and a hash of the variable's name and the dedup_key. */
enum pd_action { PD_NONE = 0, PD_TRIGGER, PD_ACKNOWLEDGE, PD_RESOLVE };
int alerts_pd_action(const cJSON *root);
int alerts_pd_check(const cJSON *root, cJSON *errors, char *why, size_t n);
int alerts_parse_pagerduty(const cJSON *root, struct alert_batch *b, char *why, size_t n);
void alerts_pd_group(const char *key_env, const char *dedup_key, char *out, size_t n);
/* event_action acknowledge: the open page of that dedup_key (and routing key) is acknowledged
 * by "pagerduty"; none, or one already acknowledged, is not an error (PagerDuty drops it). */
int alerts_pd_acknowledge(struct cmd_ctx *ctx,
                          const struct cmd_request *req,
                          struct cmd_reply *reply);
const char *alerts_source_name(enum alert_source src);
/* A PagerDuty resolve: the alert's labels as its trigger stored them (nothing when unknown). */
int alerts_pd_known_labels(struct cmd_ctx *ctx,
                           struct alert_batch *b); /* "alertmanager", "webhook" … */

/* The index of the first route of the config matching the labels, or -1. */
int alerts_route(const struct config *c, const cJSON *labels);

struct alerts_result {
  size_t received, stored_new, repeats, resolved;
  size_t pages_created, posts_created, pages_resolved;
};
/* Store, group, page (in the caller's transaction). */
int alerts_ingest(struct cmd_ctx *ctx, const struct alert_batch *b, struct alerts_result *res);

/* The action handler for both webhooks (rows in registry.c). The reply's text is a JSON
 * summary for the HTTP answer. */
/* alerts_email.c (issue 11): a new firing alert on a route with `email:` — mailed now, or
 * queued for the route's next-business-day digest (job CMD_JOB_ALERTS_DIGEST). */
int alerts_email(struct cmd_ctx *ctx,
                 int route,
                 const struct alert_item *it,
                 const char *severity,
                 const char *labels_json);
int alerts_job_digest(struct cmd_ctx *ctx, const struct job *job);
int alerts_action_ingest(struct cmd_ctx *ctx,
                         const struct cmd_request *req,
                         struct cmd_reply *reply);

#endif
