#include "bot/modules.h"

#include <stddef.h>

#include "bot/slack/slack.h"
#include "bot/teams/teams.h"
#include "bot/web/alerts_http.h"
#include "bot/web/calendar_http.h"
#include "bot/web/health_http.h"
#include "bot/web/incident_http.h"
#include "bot/web/status_http.h"

const struct module app_modules[] = {
    /* the operator's: GET /healthz (liveness, readiness) and GET /metrics */
    {"health", health_http_init, NULL, NULL, NULL, NULL, NULL},
    /* alerts (issue 5) */
    {"alerts", alerts_http_init, NULL, NULL, NULL, NULL, NULL},
    /* rotas: the iCalendar feeds (issue 4) */
    {"calendar", calendar_http_init, NULL, NULL, NULL, NULL, NULL},
    /* incidents (issue 3): GET /incidents/ID/postmortem.md */
    {"incidents", incident_http_init, NULL, NULL, NULL, NULL, NULL},
    /* the status page, checks and heartbeats (issue 13) */
    {"status", status_http_init, status_http_start, NULL, status_http_halt, status_http_close,
     NULL},
    /* Teams (issue 6) */
    {"teams", teams_init, teams_start, NULL, NULL, teams_close, NULL},
    /* Slack: Socket Mode, acks, auth.test (issue 1). Last: it starts taking requests only once
     * everything else has started (a module that fails to start stops the bot before). */
    {"slack", slack_init, slack_start, slack_stop, slack_halt, slack_close, slack_status},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};
