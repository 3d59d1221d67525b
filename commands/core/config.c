#include "commands/core/config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void free_list(char **list, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(list[i]);
  free(list);
}

static void free_rota(struct rota *r)
{
  free(r->name);
  free(r->timezone);
  free_list(r->primary, r->n_primary);
  free_list(r->secondary, r->n_secondary);
  free(r->manager);
  free_list(r->shadow, r->n_shadow);
  free(r->holidays);
  for (size_t i = 0; i < r->n_contacts; i++) {
    free(r->contacts[i].role);
    free(r->contacts[i].person);
  }
  free(r->contacts);
  free(r->usergroup);
  free(r->handoff_channel);
  free(r->tracker.repo); /* issue 14 */
  free(r->tracker.url);
  free(r->tracker.project);
  free(r->tracker.issue_type);
  free(r->tracker.email_env);
  free(r->tracker.token_env);
  free(r->tracker.webhook_secret_env);
}

static void free_teams(struct teams_config *t)
{
  free(t->app_id);
  free(t->tenant_id);
  free(t->app_password_env);
  free(t->openid_metadata_url);
  free(t->token_url);
  free(t->service_url);
  free(t->incident_channel);
  free(t->announce_channel);
  free(t->handoff_channel);
  free(t->outgoing_webhook_secret_env);
  free(t->workflow_webhook_url_env);
}

static void free_routes(struct config *c)
{
  for (size_t i = 0; i < c->alerts.n_routes; i++) {
    struct alert_route *r = &c->alerts.routes[i];
    for (size_t j = 0; j < r->n_match; j++) {
      free(r->match[j].key);
      free(r->match[j].value);
    }
    free(r->match);
    free(r->rota);
    free(r->policy);
    free(r->severity);
    free(r->channel);
    for (size_t j = 0; j < r->n_email; j++)
      free(r->email[j]);
    free(r->email);
    free(r->hours_rota);
  }
  free(c->alerts.routes);
  free(c->alerts.token_env);
  for (size_t i = 0; i < c->alerts.n_pagerduty_keys_env; i++)
    free(c->alerts.pagerduty_keys_env[i]);
  free(c->alerts.pagerduty_keys_env);
}

void config_free(struct config *c)
{
  if (!c)
    return;
  free(c->path);
  free(c->timezone);
  free(c->storage_path);
  free(c->http_listen);
  free(c->http_feed_secret_env);
  free(c->storage_url_env);
  free(c->log_level);
  free(c->log_format);
  free(c->public_url);
  free(c->slack.announce_channel);
  free(c->slack.handoff_channel);
  free(c->slack.stakeholder_channel);
  free(c->slack.app_token_env);
  free(c->slack.bot_token_env);
  for (size_t i = 0; i < c->n_people; i++) {
    struct person *p = &c->people[i];
    free(p->id);
    free(p->name);
    free(p->slack);
    free(p->email);
    free(p->teams);
    free(p->phone);
    free(p->push);
    free(p->notify);
  }
  free(c->people);
  for (size_t i = 0; i < c->n_rotas; i++)
    free_rota(&c->rotas[i]);
  free(c->rotas);
  for (size_t i = 0; i < c->n_severities; i++) {
    free(c->severities[i].name);
    free(c->severities[i].policy);
    free(c->severities[i].status_page);
    free(c->severities[i].bridge_url);
  }
  free(c->severities);
  free(c->default_severity);
  for (size_t i = 0; i < c->n_policies; i++) {
    for (size_t j = 0; j < c->policies[i].n_steps; j++)
      free(c->policies[i].steps[j].target);
    free(c->policies[i].steps);
    free(c->policies[i].name);
  }
  free(c->policies);
  free_routes(c);
  for (size_t i = 0; i < c->n_contacts; i++) {
    free(c->contacts[i].name);
    free(c->contacts[i].phone);
    free(c->contacts[i].email);
  }
  free(c->contacts);
  for (size_t i = 0; i < c->n_runbooks; i++) {
    free(c->runbooks[i].alertname);
    free(c->runbooks[i].url);
  }
  free(c->runbooks);
  free(c->postmortem.template_path);
  free(c->postmortem.confluence.url);
  free(c->postmortem.confluence.space_id);
  free(c->postmortem.confluence.parent_id);
  free(c->postmortem.confluence.email_env);
  free(c->postmortem.confluence.token_env);
  free(c->postmortem.webhook_url_env);
  free(c->twilio.account_sid_env);
  free(c->twilio.auth_token_env);
  free(c->twilio.from);
  for (size_t i = 0; i < c->operator.n_email; i++)
    free(c->operator.email[i]);
  free(c->operator.email);
  free(c->operator.teams_channel);
  free(c->operator.slack_channel);
  free(c->absences.ical_url);
  free(c->absences.ical_url_env);
  free(c->smtp.url);
  free(c->smtp.from);
  free(c->smtp.username_env);
  free(c->smtp.password_env);
  free_list(c->smtp.stakeholders, c->smtp.n_stakeholders);
  free_teams(&c->teams);
  free(c->status_page.title);
  free_list(c->status_page.components, c->status_page.n_components);
  config_status_free(c); /* issue 13: commands/core/config_status.c */
  free(c);
}

const struct person *config_person(const struct config *c, const char *id)
{
  for (size_t i = 0; id && i < c->n_people; i++)
    if (strcmp(c->people[i].id, id) == 0)
      return &c->people[i];
  return NULL;
}

const struct person *config_person_by_slack(const struct config *c, const char *slack_id)
{
  for (size_t i = 0; slack_id && i < c->n_people; i++)
    if (c->people[i].slack && strcmp(c->people[i].slack, slack_id) == 0)
      return &c->people[i];
  return NULL;
}

const struct person *config_person_by_teams(const struct config *c, const char *aad_id)
{
  for (size_t i = 0; aad_id && i < c->n_people; i++)
    if (c->people[i].teams && strcasecmp(c->people[i].teams, aad_id) == 0)
      return &c->people[i];
  return NULL;
}

const struct rota *config_rota(const struct config *c, const char *name)
{
  for (size_t i = 0; name && i < c->n_rotas; i++)
    if (strcmp(c->rotas[i].name, name) == 0)
      return &c->rotas[i];
  return NULL;
}

const struct severity *config_severity(const struct config *c, const char *name)
{
  for (size_t i = 0; name && i < c->n_severities; i++)
    if (strcasecmp(c->severities[i].name, name) == 0)
      return &c->severities[i];
  return NULL;
}

const struct policy *config_policy(const struct config *c, const char *name)
{
  for (size_t i = 0; name && i < c->n_policies; i++)
    if (strcmp(c->policies[i].name, name) == 0)
      return &c->policies[i];
  return NULL;
}

const struct outside_contact *config_contact(const struct config *c, const char *name)
{
  for (size_t i = 0; name && i < c->n_contacts; i++)
    if (strcmp(c->contacts[i].name, name) == 0)
      return &c->contacts[i];
  return NULL;
}

const char *config_runbook(const struct config *c, const char *alertname)
{
  for (size_t i = 0; alertname && i < c->n_runbooks; i++)
    if (strcmp(c->runbooks[i].alertname, alertname) == 0)
      return c->runbooks[i].url;
  return NULL;
}
