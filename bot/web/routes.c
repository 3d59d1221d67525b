#include "bot/web/routes.h"

#include <stddef.h>

#include "bot/teams/teams.h"
#include "bot/web/alerts_http.h"
#include "bot/web/calendar_http.h"
#include "bot/web/health_http.h"
#include "bot/web/incident_http.h"

const struct app_route_module app_route_modules[] = {
    /* the operator's: GET /healthz (liveness, readiness) and GET /metrics */
    {"health", health_http_init, NULL, NULL},
    /* alerts (issue 5) */
    {"alerts", alerts_http_init, NULL, NULL},
    /* rotas: the iCalendar feeds (issue 4) */
    {"calendar", calendar_http_init, NULL, NULL},
    /* incidents (issue 3): GET /incidents/ID/postmortem.md */
    {"incidents", incident_http_init, NULL, NULL},
    /* Teams (issue 6) */
    {"teams", teams_init, teams_start, teams_close},
    {NULL, NULL, NULL, NULL},
};
