#include "bot/web/incident_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/modules.h"
#include "bot/web/feed_auth.h"
#include "commands/incident/postmortem.h"
#include "lib/kx.h"
#include "lib/log.h"

char *incident_template_read(const struct config *c, char *problem, size_t size)
{
  if (problem && size)
    problem[0] = '\0';
  if (!c->postmortem.template_path)
    return NULL;
  FILE *f = fopen(c->postmortem.template_path, "rb");
  if (!f) {
    if (problem)
      snprintf(problem, size, "cannot open %s: %s", c->postmortem.template_path, strerror(errno));
    return NULL;
  }
  char *text = malloc(POSTMORTEM_TEMPLATE_MAX + 1);
  size_t n = text ? fread(text, 1, POSTMORTEM_TEMPLATE_MAX + 1, f) : 0;
  bool bad = !text || ferror(f) || n > POSTMORTEM_TEMPLATE_MAX || memchr(text, '\0', n);
  if (fclose(f) != 0)
    bad = true;
  if (bad) {
    if (problem)
      snprintf(problem, size, "%s is %s", c->postmortem.template_path,
               !text                         ? "too big for memory"
               : n > POSTMORTEM_TEMPLATE_MAX ? "larger than 256 KiB"
                                             : "not a text file");
    free(text);
    return NULL;
  }
  text[n] = '\0';
  return text;
}

static int postmortem_page(void *arg,
                           const struct httpd_request *req,
                           struct httpd_response *resp,
                           struct httpd_pending *later)
{
  (void)later;
  const struct module_env *env = arg;
  if (!feed_auth(env, req, resp))
    return HTTPD_DONE;
  /* /incidents/<id>/postmortem.md */
  const char *p = req->path + strlen("/incidents/");
  const char *slash = strchr(p, '/');
  if (!slash || strcmp(slash, "/postmortem.md") != 0) {
    httpd_error(resp, 404, "not found: try /incidents/ID/postmortem.md");
    return HTTPD_DONE;
  }
  char *end = NULL;
  errno = 0;
  long long id = (*p >= '0' && *p <= '9') ? strtoll(p, &end, 10) : 0;
  if (end != slash || id <= 0 || errno == ERANGE) {
    httpd_error(resp, 400, "the incident id must be a positive number");
    return HTTPD_DONE;
  }
  char problem[300];
  char *tmpl = incident_template_read(env->config, problem, sizeof(problem));
  if (problem[0]) {
    char q[400];
    LOG_WARN("incident", "template_unreadable", "problem=%s", log_quote(q, sizeof(q), problem));
  }
  struct cmd_ctx ctx = cmd_ctx_at(env->ctx, clock_now_ms());
  struct buf md;
  int rc = postmortem_render(&ctx, id, tmpl, &md);
  free(tmpl);
  if (rc == KX_ENOTFOUND) {
    httpd_error(resp, 404, "no such incident");
  } else if (rc) {
    httpd_error(resp, 500, "the postmortem could not be built; see the log");
  } else {
    httpd_text(resp, 200, "text/markdown; charset=utf-8", md.data);
  }
  buf_free(&md);
  return HTTPD_DONE;
}

int incident_http_init(const struct module_env *env, void **state)
{
  (void)state;
  if (!env->httpd)
    return 0;
  struct httpd_route r = {.method = "GET",
                          .path = "/incidents/",
                          .max_body = 0,
                          .fn = postmortem_page,
                          .arg = (void *)env};
  return httpd_route(env->httpd, &r);
}
