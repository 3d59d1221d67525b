#include "bot/web/report_http.h"

#include <stdbool.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/modules.h"
#include "bot/web/feed_auth.h"
#include "commands/report/report.h"
#include "lib/kx.h"
#include "lib/log.h"

#define REPORT_PREFIX "/reports/"
#define REPORT_SUFFIX ".html"

static int on_report(void *arg,
                     const struct httpd_request *req,
                     struct httpd_response *resp,
                     struct httpd_pending *later)
{
  (void)later;
  const struct module_env *env = arg;
  if (!feed_auth(env, req, resp))
    return HTTPD_DONE;
  const char *name = req->path + strlen(REPORT_PREFIX);
  char month[8] = "";
  int y, m;
  bool ok = strlen(name) == 7 + strlen(REPORT_SUFFIX) && strcmp(name + 7, REPORT_SUFFIX) == 0;
  if (ok) {
    memcpy(month, name, 7);
    ok = report_parse_month(month, &y, &m) == 0;
  }
  if (!ok) {
    httpd_error(resp, 404, "not found: reports are at /reports/YYYY-MM.html");
    return HTTPD_DONE;
  }
  struct cmd_ctx ctx = cmd_ctx_at(env->ctx, clock_now_ms());
  struct report r;
  int rc = report_compute(&ctx, y, m, &r);
  struct buf b;
  buf_init(&b, REPORT_HTML_MAX);
  if (rc == 0)
    rc = report_html(&ctx, &r, &b);
  if (rc) {
    LOG_ERROR("report", "render_failed", "month=%s err=%s", month, kx_err_name(rc));
    httpd_error(resp, 500, "the report could not be made");
  } else {
    httpd_text(resp, 200, "text/html; charset=utf-8", b.data);
    httpd_add_header(resp, "Content-Security-Policy",
                     "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    httpd_add_header(resp, "Cache-Control", "private, max-age=300");
  }
  report_free(&r);
  buf_free(&b);
  return HTTPD_DONE;
}

int report_http_init(const struct module_env *env, void **state)
{
  (void)state;
  if (!env->httpd)
    return 0;
  struct httpd_route route = {
      .method = "GET", .path = REPORT_PREFIX, .max_body = 0, .fn = on_report, .arg = (void *)env};
  return httpd_route(env->httpd, &route);
}
