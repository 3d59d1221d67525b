#include "routes.h"

#include <stddef.h>

#include "teams.h"

const struct app_route_module app_route_modules[] = {
    /* Teams (issue 6) */
    {"teams", teams_init, teams_start, teams_close},
    {NULL, NULL, NULL, NULL},
};
