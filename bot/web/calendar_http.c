#include "bot/web/calendar_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/modules.h"
#include "bot/web/feed_auth.h"
#include "commands/oncall/oncall_cmd.h"
#include "lib/kx.h"
#include "lib/log.h"

#define CALENDAR_PREFIX "/calendar/"
#define CALENDAR_SUFFIX ".ics"

/* ?weeks=N, or the default; -1 when it is given and bad. */
static int weeks_param(const char *query)
{
  const char *p = query ? strstr(query, "weeks=") : NULL;
  if (!p || (p != query && p[-1] != '&'))
    return ONCALL_ICAL_WEEKS;
  p += 6;
  char *end;
  long v = strtol(p, &end, 10);
  if (end == p || (*end && *end != '&') || v < 1 || v > ONCALL_ICAL_MAX_WEEKS)
    return -1;
  return (int)v;
}

static int on_calendar(void *arg,
                       const struct httpd_request *req,
                       struct httpd_response *resp,
                       struct httpd_pending *later)
{
  (void)later;
  const struct module_env *env = arg;
  if (!feed_auth(env, req, resp))
    return HTTPD_DONE;
  const char *name = req->path + strlen(CALENDAR_PREFIX);
  size_t n = strlen(name), sl = strlen(CALENDAR_SUFFIX);
  char rota[128];
  if (n <= sl || n - sl >= sizeof(rota) || strcmp(name + n - sl, CALENDAR_SUFFIX) != 0) {
    httpd_error(resp, 404, "not found: calendars are at /calendar/<rota>.ics");
    return HTTPD_DONE;
  }
  memcpy(rota, name, n - sl);
  rota[n - sl] = '\0';
  const struct rota *r = config_rota(env->config, rota);
  if (!r) {
    httpd_error(resp, 404, "there is no such rota");
    return HTTPD_DONE;
  }
  int weeks = weeks_param(req->query);
  if (weeks < 0) {
    httpd_error(resp, 400, "weeks must be a number from 1 to 520");
    return HTTPD_DONE;
  }
  struct cmd_ctx ctx = cmd_ctx_at(env->ctx, clock_now_ms());
  struct buf b;
  buf_init(&b, ONCALL_ICAL_MAX_BYTES);
  int rc = oncall_ical(&ctx, r, weeks, &b);
  if (rc) {
    LOG_ERROR("calendar", "render_failed", "rota=%s err=%s", r->name, kx_err_name(rc));
    httpd_error(resp, 500, "the calendar could not be made");
  } else {
    httpd_text(resp, 200, "text/calendar; charset=utf-8", b.data);
    char disp[200];
    snprintf(disp, sizeof(disp), "inline; filename=\"%s.ics\"", r->name);
    httpd_add_header(resp, "Content-Disposition", disp);
    httpd_add_header(resp, "Cache-Control", "max-age=300");
  }
  buf_free(&b);
  return HTTPD_DONE;
}

int calendar_http_init(const struct module_env *env, void **state)
{
  (void)state;
  if (!env->httpd)
    return 0;
  struct httpd_route route = {.method = "GET",
                              .path = CALENDAR_PREFIX,
                              .max_body = 0,
                              .fn = on_calendar,
                              .arg = (void *)env};
  return httpd_route(env->httpd, &route);
}
