#include "routes.h"

#include <stddef.h>

#include "alerts_http.h"
#include "calendar_http.h"
#include "incident_http.h"

const struct app_route_module app_route_modules[] = {
    /* alerts (issue 5) */
    {"alerts", alerts_http_init, NULL},
    /* rotas: the iCalendar feeds (issue 4) */
    {"calendar", calendar_http_init, NULL},
    /* incidents (issue 3): GET /incidents/ID/postmortem.md */
    {"incidents", incident_http_init, NULL},
    {NULL, NULL, NULL},
};
