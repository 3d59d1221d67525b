#include "routes.h"

#include <stddef.h>

#include "alerts_http.h"
#include "calendar_http.h"
#include "incident_http.h"
#include "teams.h"

const struct app_route_module app_route_modules[] = {
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
