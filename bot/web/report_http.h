/*
 * report_http.h — GET /reports/YYYY-MM.html: the monthly report as an HTML page (the same as
 * `klaxon report --month YYYY-MM --html`), behind the read-only feeds' token (feed_auth.h,
 * the same check as the calendar feed). A malformed month is a 404.
 */
#ifndef KX_REPORT_HTTP_H
#define KX_REPORT_HTTP_H

struct module_env;

int report_http_init(const struct module_env *env, void **state);

#endif
