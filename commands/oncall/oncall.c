#include "commands/oncall/oncall.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"

int oncall_changes_load(struct cmd_ctx *ctx,
                        const char *rota,
                        int64_t after_ms,
                        struct rota_change_row **rows,
                        struct rota_change **changes,
                        size_t *n)
{
  *rows = NULL;
  *changes = NULL;
  *n = 0;
  size_t count = 0;
  int rc = rota_changes_load(ctx->db, rota, after_ms, ROTA_MAX_CHANGES, rows, &count);
  if (rc)
    return rc;
  *changes = calloc(count ? count : 1, sizeof(**changes));
  if (!*changes) {
    rota_change_rows_free(*rows, count);
    *rows = NULL;
    return KX_ENOMEM;
  }
  for (size_t i = 0; i < count; i++) {
    struct rota_change *c = &(*changes)[i];
    c->kind = (*rows)[i].kind == ROTA_CHANGE_ABSENCE ? ROTA_ABSENCE : ROTA_OVERRIDE;
    c->from_ms = (*rows)[i].from_ms;
    c->to_ms = (*rows)[i].to_ms;
    c->person = (*rows)[i].person;
    c->secondary = (*rows)[i].secondary;
    c->id = (*rows)[i].id;
  }
  *n = count;
  return 0;
}

void oncall_changes_free(struct rota_change_row *rows, struct rota_change *changes, size_t n)
{
  rota_change_rows_free(rows, n);
  free(changes);
}

int oncall_at(struct cmd_ctx *ctx, const struct rota *r, int64_t at_ms, struct oncall_view *out)
{
  memset(out, 0, sizeof(*out));
  out->rota = r;
  /* Changes that ended before `at` cannot matter now; the "until" walk looks only forward. */
  int rc = oncall_changes_load(ctx, r->name, at_ms, &out->rows, &out->changes, &out->n_rows);
  if (rc)
    return rc;
  rc = rota_oncall_at(r, out->changes, out->n_rows, at_ms, &out->now);
  if (rc)
    oncall_view_free(out);
  return rc;
}

void oncall_view_free(struct oncall_view *v)
{
  oncall_changes_free(v->rows, v->changes, v->n_rows);
  v->rows = NULL;
  v->changes = NULL;
  v->n_rows = 0;
}

const struct person *oncall_primary(struct cmd_ctx *ctx, const struct oncall_view *v)
{
  return v->now.started ? config_person(ctx->config, v->now.primary.person) : NULL;
}

const struct person *oncall_secondary(struct cmd_ctx *ctx, const struct oncall_view *v)
{
  return v->now.started ? config_person(ctx->config, v->now.secondary.person) : NULL;
}

const struct person *oncall_manager(struct cmd_ctx *ctx, const struct oncall_view *v)
{
  return config_person(ctx->config, v->rota->manager);
}
