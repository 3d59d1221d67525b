/*
 * config_operator.c — the operator block (issue 15): who runs klaxon, and how to reach them when
 * a platform refuses klaxon's credentials: {email: [addresses], teams_channel, slack_channel}.
 * Read after smtp and teams, so each way is checked against what can carry it: email needs the
 * smtp block, teams_channel the Teams bot (app_id). At least one is given.
 */
#include <stdlib.h>

#include "bot/config/config_load_internal.h"

static const char *const OPERATOR_KEYS[] = {"email", "teams_channel", "slack_channel", NULL};

static void load_emails(struct cfg_loader *L, yaml_node_t *n)
{
  size_t len;
  if (!n)
    return;
  if (!L->smtp_given)
    cfg_problem(L, cfg_line(n), "operator.email: mail needs an smtp block to send with");
  /* one address or a list of them */
  if (n->type == YAML_SCALAR_NODE) {
    if (!(L->c->operator.email = calloc(1, sizeof(char *))))
      return cfg_oom(L);
    if (cfg_checked(L, n, "operator.email", &CFG_EMAIL, &L->c->operator.email[0]))
      L->c->operator.n_email = 1;
    return;
  }
  if (!cfg_list(L, n, "operator.email", &len))
    return;
  if (len == 0) {
    cfg_problem(L, cfg_line(n), "operator.email is an empty list; give at least one address");
    return;
  }
  if (!(L->c->operator.email = calloc(len, sizeof(char *))))
    return cfg_oom(L);
  for (size_t i = 0; i < len && cfg_visit(L); i++)
    if (cfg_checked(L, cfg_item(L, n, i), CFG_P("operator.email[%zu]", i), &CFG_EMAIL,
                    &L->c->operator.email[L->c->operator.n_email]))
      L->c->operator.n_email++;
}

void cfg_load_operator(struct cfg_loader *L, yaml_node_t *n)
{
  struct cfg_obj o;
  if (!n)
    return;
  if (!cfg_obj_open(L, n, "operator", OPERATOR_KEYS, &o))
    return;
  load_emails(L, cfg_get(&o, "email"));
  yaml_node_t *teams = cfg_get(&o, "teams_channel");
  cfg_checked(L, teams, "operator.teams_channel", &CFG_TEAMS_CHANNEL,
              &L->c->operator.teams_channel);
  if (teams && !L->c->teams.app_id)
    cfg_problem(L, cfg_line(teams),
                "operator.teams_channel: posting to a Teams channel needs the Teams bot "
                "(teams.app_id and teams.app_password_env)");
  cfg_checked(L, cfg_get(&o, "slack_channel"), "operator.slack_channel", &CFG_CHANNEL,
              &L->c->operator.slack_channel);
  if (!cfg_get(&o, "email") && !teams && !cfg_get(&o, "slack_channel"))
    cfg_problem(L, cfg_line(n),
                "operator: give email, teams_channel or slack_channel (or several) to reach "
                "whoever runs klaxon");
}
