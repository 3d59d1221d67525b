/*
 * config.h — the domain's types: people, rotas, severities, escalation policies, alert
 * routes and the settings that go with them. The YAML loader in bot/config_load.c fills a
 * struct config; everything here is read-only after loading and owned by the config
 * (config_free releases it all). Durations and instants are milliseconds.
 *
 * Lookups return NULL when the name is unknown. Person ids, rota names, severity and
 * policy names are unique (the loader refuses duplicates).
 */
#ifndef KX_CONFIG_H
#define KX_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/timeutil.h"

/* How a person is told of a page (issue 11): people[].notify rules name these. */
enum notify_via {
  VIA_CHAT = 1 << 0,  /* a Slack DM, or the Teams 1:1 chat */
  VIA_EMAIL = 1 << 1, /* people[].email */
  VIA_PUSH = 1 << 2,  /* people[].push: an ntfy topic or a webhook */
  VIA_SMS = 1 << 3,   /* people[].phone, through Twilio */
  VIA_VOICE = 1 << 4  /* a phone call through Twilio */
};
#define VIA_COUNT 5

/* One of a person's own rules: `after` the page reached them, notify `via` (a VIA_* set). */
struct notify_rule {
  int64_t after_ms;
  unsigned via;
};

struct person {
  char *id;    /* config id: "alice" */
  char *name;  /* display name; defaults to the id */
  char *slack; /* Slack user id, may be NULL (resolved from email at run time) */
  char *email;
  char *teams; /* AAD object id */
  char *phone; /* E.164 (+4930123456), normalised from what the config wrote */
  char *push;  /* an ntfy topic URL, or a webhook URL (push_webhook) */
  bool push_webhook;
  /* The person's rules in order of `after`; NULL: the default (chat, then email after 5m). */
  struct notify_rule *notify;
  size_t n_notify;
};

enum secondary_mode {
  SECONDARY_NONE = 0, /* no secondary */
  SECONDARY_NEXT,     /* the next person in primary */
  SECONDARY_LIST,     /* a list of its own, rotating like primary */
  SECONDARY_FIXED     /* one fixed person */
};

struct contact {
  char *role;   /* "crm" */
  char *person; /* person id */
};

/* rotas[].tracker (issue 14): where action items become issues. Variables' names only. */
struct tracker {
  enum tracker_kind { TRACKER_NONE = 0, TRACKER_GITHUB, TRACKER_JIRA } kind;
  char *repo;               /* github: owner/name */
  char *url;                /* jira: https://acme.atlassian.net */
  char *project;            /* jira: OPS */
  char *issue_type;         /* jira: Task (default) */
  char *email_env;          /* jira: the account's email */
  char *token_env;          /* github: a token; jira: an API token */
  char *webhook_secret_env; /* the webhook's HMAC secret (github: required) */
};

struct rota {
  char *name;
  char *timezone;       /* defaults to the config's timezone */
  int handoff_wday;     /* 0 = Sunday … 6; for daily shifts the day is ignored */
  int handoff_minute;   /* minutes after local midnight: 09:00 -> 540 */
  int shift_days;       /* 7 (default), 14, 1 … */
  struct kx_date start; /* week 1 starts at the handoff on this date */
  char **primary;
  size_t n_primary;
  enum secondary_mode secondary_mode;
  char **secondary; /* SECONDARY_LIST: the list; SECONDARY_FIXED: one entry */
  size_t n_secondary;
  char *manager; /* person id, may be NULL */
  char **shadow; /* trainees paired with primary[k mod n_shadow] */
  size_t n_shadow;
  struct kx_date *holidays;
  size_t n_holidays;
  bool has_hours;      /* business hours configured */
  int hours_days;      /* bit i set: weekday i (0 = Sunday) is a business day */
  int hours_start_min; /* 08:00 -> 480 */
  int hours_end_min;   /* 18:00 -> 1080 */
  struct contact *contacts;
  size_t n_contacts;
  char *usergroup;       /* Slack user group id kept equal to who is on call */
  char *handoff_channel; /* overrides slack.handoff_channel for this rota */
  int line;              /* where it was defined, for messages */

  struct tracker tracker; /* issue 14: where action items become issues */
};

struct severity {
  char *name;         /* "P0" */
  int rank;           /* 0 = most severe (the order in the config) */
  int64_t ack_ms;     /* acknowledge target, 0 = none */
  int64_t resolve_ms; /* resolve target, 0 = none */
  int64_t update_every_ms;
  bool page_primary;
  bool page_secondary;
  bool page_business_hours; /* `page: business_hours`: primary, but only inside business hours */
  bool stakeholders;
  char *policy;      /* escalation policy for pages of this severity, may be NULL */
  char *status_page; /* "auto" | "ask" | "never" (issue 13); NULL: ask */
  enum severity_mention {
    MENTION_NONE = 0,
    MENTION_HERE,   /* `mention: here`: @here in the incident's announcement */
    MENTION_CHANNEL /* `mention: channel`: @channel */
  } mention;
  char *bridge_url;         /* issue 14: the war room (a Zoom, Meet or Teams link), may be NULL */
  int64_t review_within_ms; /* issue 14: resolving emails a review invitation within this, 0 none */
  int64_t action_due_ms;    /* `action_due: 7d`: an action item's default due date, 0 = none */
};

enum notify_kind {
  NOTIFY_PRIMARY = 0,
  NOTIFY_SECONDARY,
  NOTIFY_MANAGER,
  NOTIFY_PERSON,   /* target: person id */
  NOTIFY_CHANNEL,  /* target: channel id, `channel:C0…` */
  NOTIFY_EMAIL,    /* target: person id, `email:alice` */
  NOTIFY_CONTACT,  /* target: a top-level contact's name, `contact:hosting` */
  NOTIFY_PAGERDUTY /* target: a variable holding a routing key, `pagerduty:PD_KEY` (issue 14) */
};

/* contacts[]: people outside the team (the hosting provider, security), named by escalation
 * steps `contact:NAME`. */
struct outside_contact {
  char *name;
  char *phone; /* E.164, may be NULL */
  char *email; /* may be NULL */
};

struct policy_step {
  int64_t after_ms;
  enum notify_kind kind;
  char *target;
};

struct policy {
  char *name;
  struct policy_step *steps;
  size_t n_steps;
  int repeat; /* run the steps this many more times after the last */
};

struct label_match {
  char *key;
  char *value;
};

struct alert_route {
  struct label_match *match;
  size_t n_match;
  char *rota;
  char *policy;
  char *severity;
  char *channel;
  bool record;
  char **email; /* `email: [person id or address …]`: the alert is mailed (issue 11) */
  size_t n_email;
  bool digest;      /* `digest: next_business_day`: one mail at the next business-day start */
  char *hours_rota; /* whose business hours the digest follows (NULL: the first rota with hours) */
  int line;
};

struct runbook {
  char *alertname;
  char *url;
};

struct smtp_config {
  char *url; /* smtp://host:port or smtps://… ; NULL = email disabled */
  char *from;
  char *username_env; /* names of environment variables */
  char *password_env;
  bool starttls;
  char **stakeholders; /* email addresses told of pages whose severity has stakeholders: true */
  size_t n_stakeholders;
};

struct teams_config {
  bool enabled;
  char *app_id;
  char *tenant_id;
  char *app_password_env;
  char *openid_metadata_url;
  char *token_url;
  char *service_url;
  char *incident_channel;
  char *announce_channel;
  char *handoff_channel;
  char *outgoing_webhook_secret_env;
  char *workflow_webhook_url_env;
};

/* A component of the status page (issue 13): alerts whose labels all equal match's belong
 * to it. */
struct status_component {
  char *name;
  char *description; /* may be NULL */
  char *group;       /* may be NULL */
  char **match_keys, **match_values;
  size_t n_match;
};

/* A synthetic check: an HTTP GET or a TCP connect every every_ms. */
struct check_config {
  char *name;
  char *http; /* URL, or NULL for a tcp check */
  char *tcp;  /* "host:port", or NULL */
  int64_t every_ms, timeout_ms, slow_ms, tls_expiry_ms, down_after_ms;
  long expect_status; /* 0: any 2xx or 3xx */
  char *expect_body;  /* a substring the body must hold, may be NULL */
  char *component;    /* may be NULL */
  char *severity;     /* the alert's severity label (default "critical") */
  char *rota;         /* the alert's rota label, may be NULL */
};

/* A dead-man's switch: POST /heartbeat/NAME at least every every_ms (+ grace_ms). */
struct heartbeat_config {
  char *name;
  int64_t every_ms, grace_ms;
  char *component, *severity, *rota;
};

/* A maintenance window given in the config. */
struct maintenance_config {
  char *component;
  int64_t from_ms, to_ms;
  char *text;
};

struct config {
  char *path;
  char *timezone;
  char *storage_path;           /* storage.path: the SQLite file */
  bool storage_postgres;        /* storage.engine: postgres (false: sqlite, the default) */
  char *storage_url_env;        /* storage.url_env: the variable holding the libpq string */
  int64_t storage_retention_ms; /* storage.retention: history older than this is pruned */
  char *http_listen;            /* "127.0.0.1:8080"; NULL: no HTTP server */
  /* The variable holding the feed secret (lib/feed_token.h); NULL: KLAXON_FEED_SECRET, and
   * without it a random secret kept in the database. */
  char *http_feed_secret_env;
  /* Connections one remote address may hold open at once (default HTTPD_PER_CLIENT_MAX). */
  int http_max_connections_per_client;
  char *log_level;
  char *log_format; /* "text" | "json" */
  char *public_url; /* how people reach the HTTP server, for links; may be NULL */

  struct {
    char *announce_channel;
    char *handoff_channel;
    char *stakeholder_channel;
    char *app_token_env; /* default SLACK_APP_TOKEN */
    char *bot_token_env; /* default SLACK_BOT_TOKEN */
    /* Socket Mode ping period (default 10s), and how long without a pong or any other frame
     * before the socket is dead (default 20s). */
    int64_t ping_interval_ms, pong_timeout_ms;
  } slack;

  struct person *people;
  size_t n_people;
  struct rota *rotas;
  size_t n_rotas;
  struct severity *severities;
  size_t n_severities;
  char *default_severity;
  struct policy *policies;
  size_t n_policies;

  struct {
    char *token_env;
    struct alert_route *routes;
    size_t n_routes;
    /* PagerDuty Events API v2 in (issue 14): the variables holding accepted routing keys. */
    char **pagerduty_keys_env;
    size_t n_pagerduty_keys_env;
  } alerts;

  struct runbook *runbooks;
  size_t n_runbooks;

  struct outside_contact *contacts;
  size_t n_contacts;

  struct {
    int64_t mtta_ms;
    int64_t mttr_ms;
    double false_positive_rate; /* 0.05 for 5%; < 0 when unset */
    double page_success;        /* pages acknowledged by a person, of all pages; < 0 unset */
  } targets;

  struct {
    char *template_path;
    int64_t due_ms; /* default 24h */
    /* issue 14: the export. Confluence Cloud (REST v2); the credentials' variables are read
     * when a request is sent, never stored. All NULL when absent. */
    struct {
      char *url; /* https://example.atlassian.net (the site; /wiki/api/v2/pages is added) */
      char *space_id, *parent_id, *email_env, *token_env;
    } confluence;
    char *webhook_url_env; /* the variable holding a URL the postmortem is POSTed to as JSON */
  } postmortem;

  struct {
    int64_t archive_after_ms; /* issue 14: a closed incident's channel is archived after this */
  } incident;

  struct {
    int64_t handoff_ack_ms; /* "I have the pager" not pressed: tell the manager; default 30m */
  } handoff;

  struct smtp_config smtp;
  struct teams_config teams;

  /* Twilio (issue 11): names of the variables holding the Account SID and the Auth Token, and
   * the number calls and texts come from (E.164). All NULL when the block is absent. */
  struct {
    char *account_sid_env, *auth_token_env, *from;
  } twilio;

  /* The HR calendar (issue 14): absences from an iCalendar feed. */
  struct {
    char *ical_url;     /* or … */
    char *ical_url_env; /* … the variable holding it */
    int64_t every_ms;   /* fetched this often (default 1h) */
    int64_t notice_ms;  /* shorter notice on a shift warns the manager (default 14d) */
  } absences;

  struct {
    char *title;       /* may be NULL */
    char **components; /* component names, in config order */
    size_t n_components;
    struct status_component *comp; /* n_components entries, same order (issue 13) */
    char *public_url;              /* the page's own address (links in mail and the feed) */
  } status_page;

  /* Synthetic checks, heartbeats and maintenance windows (issue 13, commands/status/). */
  struct check_config *checks;
  size_t n_checks;
  struct heartbeat_config *heartbeats;
  size_t n_heartbeats;
  struct maintenance_config *maintenance;
  size_t n_maintenance;

  /* Who runs klaxon (issue 15): told when Slack or Teams refuses klaxon's credentials, when
   * they are accepted again, and when Slack turns the app's Socket Mode off, through the
   * channels that still work (bot/operator.c). All empty when the block is absent. */
  struct {
    char **email; /* addresses (needs smtp) */
    size_t n_email;
    char *teams_channel; /* a Teams channel id (needs the teams bot), or NULL */
    char *slack_channel; /* a Slack channel id, or NULL */
  } operator;
};

void config_free(struct config *c); /* NULL-safe; frees everything the config owns */
/* The status page, checks, heartbeats and maintenance (config_status.c; config_free calls it). */
void config_status_free(struct config *c);
const struct check_config *config_check(const struct config *c, const char *name);
const struct heartbeat_config *config_heartbeat(const struct config *c, const char *name);
const struct status_component *config_component(const struct config *c, const char *name);

const struct person *config_person(const struct config *c, const char *id);
const struct person *config_person_by_slack(const struct config *c, const char *slack_id);
const struct person *config_person_by_teams(const struct config *c, const char *aad_id);
const struct rota *config_rota(const struct config *c, const char *name);
const struct severity *config_severity(const struct config *c, const char *name); /* any case */
const struct policy *config_policy(const struct config *c, const char *name);
const struct outside_contact *config_contact(const struct config *c, const char *name);
const char *config_runbook(const struct config *c, const char *alertname);

#endif
