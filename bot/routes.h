/*
 * routes.h — the transport modules that join the app: each one's init registers its HTTP
 * routes (called once the HTTP server exists) and start (optional) begins its work once the
 * sender and scheduler exist. The list is in routes.c, one line per module.
 */
#ifndef KX_ROUTES_H
#define KX_ROUTES_H

struct app;

struct app_route_module
{
  const char *name;
  int (*init)(struct app *a);
  int (*start)(struct app *a);
};

extern const struct app_route_module app_route_modules[];

#endif
