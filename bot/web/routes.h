/*
 * routes.h — the transport modules that join the app: each one's init registers its HTTP
 * routes (called once the HTTP server exists) and start (optional) begins its work once the
 * sender and scheduler exist; close (optional) frees the module's state after the loop has
 * stopped (every handle closed, every HTTP call ended). The list is in routes.c, one line per
 * module. An init or start that returns KX_ECONFIG stops the bot with the configuration exit
 * code (after saying why on stderr).
 */
#ifndef KX_ROUTES_H
#define KX_ROUTES_H

struct app;

struct app_route_module {
  const char *name;
  int (*init)(struct app *a);
  int (*start)(struct app *a);
  void (*close)(struct app *a);
};

extern const struct app_route_module app_route_modules[];

#endif
