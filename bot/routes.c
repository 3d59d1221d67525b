#include "routes.h"

#include <stddef.h>

const struct app_route_module app_route_modules[] = {
    {NULL, NULL, NULL},
};
