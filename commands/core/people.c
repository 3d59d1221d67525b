#include "commands/core/people.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/core/msg.h"
#include "lib/kx.h"
#include "storage/people.h"
#include "storage/teams_store.h"

const char *cmd_person_name(const struct person *p)
{
  return p ? (p->name ? p->name : p->id) : "someone";
}

const struct person *cmd_person_for_user(struct cmd_ctx *ctx,
                                         enum cmd_platform platform,
                                         const char *user_id)
{
  if (!user_id)
    return NULL;
  if (platform == CMD_PLATFORM_TEAMS)
    return config_person_by_teams(ctx->config, user_id);
  const struct person *p = config_person_by_slack(ctx->config, user_id);
  if (p || !ctx->db)
    return p;
  char *id = people_by_slack(ctx->db, user_id);
  p = id ? config_person(ctx->config, id) : NULL;
  free(id);
  return p;
}

int cmd_mention_id(const char *arg, char *out, size_t size)
{
  if (!arg || strncmp(arg, "<@", 2) != 0)
    return KX_EINVAL;
  const char *start = arg + 2;
  if (strncmp(start, "u:", 2) == 0)
    start += 2;
  size_t n = strcspn(start, "|>");
  if (n == 0 || n >= size || start[n] == '\0')
    return KX_EINVAL;
  memcpy(out, start, n);
  out[n] = '\0';
  return 0;
}

const struct person *cmd_person_arg(struct cmd_ctx *ctx,
                                    enum cmd_platform platform,
                                    const char *arg)
{
  char id[256];
  if (!arg)
    return NULL;
  if (cmd_mention_id(arg, id, sizeof(id)) == 0) {
    if (strncmp(id, "p:", 2) == 0)
      return config_person(ctx->config, id + 2);
    return cmd_person_for_user(ctx, platform, id);
  }
  if (arg[0] == '@')
    arg++;
  const struct person *p = config_person(ctx->config, arg);
  if (p)
    return p;
  /* A display name or an email typed out in full also identifies someone. */
  for (size_t i = 0; i < ctx->config->n_people; i++) {
    const struct person *q = &ctx->config->people[i];
    if ((q->name && strcasecmp(q->name, arg) == 0) || (q->email && strcasecmp(q->email, arg) == 0))
      return q;
  }
  return NULL;
}

char *cmd_person_slack(struct cmd_ctx *ctx, const struct person *p)
{
  if (!p)
    return NULL;
  if (p->slack)
    return strdup(p->slack);
  return ctx->db ? people_slack(ctx->db, p->id) : NULL;
}

char *cmd_person_teams(struct cmd_ctx *ctx, const struct person *p)
{
  if (!p || !p->teams)
    return NULL;
  char *uid = ctx->db ? teams_store_user_by_aad(ctx->db, p->teams) : NULL;
  if (uid)
    return uid;
  return kx_asprintf("aad:%s", p->teams);
}

static const char *keep(struct cmd_people *pp, char *s)
{
  if (!s)
    return NULL;
  if (pp->n_owned == CMD_PEOPLE_CACHE) {
    free(s);
    return NULL;
  }
  pp->owned[pp->n_owned++] = s;
  return s;
}

static const char *rp_slack(void *arg, const char *person_id)
{
  struct cmd_people *pp = arg;
  const struct person *p = config_person(pp->ctx->config, person_id);
  if (!p)
    return NULL;
  if (p->slack)
    return p->slack;
  return keep(pp, cmd_person_slack(pp->ctx, p));
}

static const char *rp_name(void *arg, const char *person_id)
{
  struct cmd_people *pp = arg;
  const struct person *p = config_person(pp->ctx->config, person_id);
  return p ? cmd_person_name(p) : NULL;
}

void cmd_people_open(struct cmd_people *pp, struct cmd_ctx *ctx)
{
  memset(pp, 0, sizeof(*pp));
  pp->ctx = ctx;
  pp->rp.slack_id = rp_slack;
  pp->rp.name = rp_name;
  pp->rp.arg = pp;
}

void cmd_people_close(struct cmd_people *pp)
{
  for (size_t i = 0; i < pp->n_owned; i++)
    free(pp->owned[i]);
  pp->n_owned = 0;
}

int cmd_md_phone(struct buf *b, const struct config *c, const char *person_id)
{
  const struct person *p = person_id ? config_person(c, person_id) : NULL;
  if (!p || !p->phone)
    return 0;
  int rc = md_raw(b, " · ");
  return rc ? rc : md_text(b, p->phone);
}
