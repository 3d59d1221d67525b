/*
 * oncall.h — who is on call, with the stored overrides and absences applied: the one place
 * every feature asks (paging, incident invites, the handoff, /oncall, the CLI).
 *
 * A struct oncall_view owns the changes it loaded; the person ids in `now` point into them or
 * into the config, so keep the view until you are done with them, then oncall_view_free.
 */
#ifndef KX_ONCALL_H
#define KX_ONCALL_H

#include "commands/core/command.h"
#include "commands/oncall/rota.h"
#include "storage/rota_changes.h"

struct oncall_view {
  const struct rota *rota;
  struct rota_oncall now;
  struct rota_change_row *rows; /* what was loaded, owned */
  size_t n_rows;
  struct rota_change *changes; /* the same, as the rota module takes them */
};

/* Load a rota's active changes ending after `after_ms` into rows + changes (the caller frees
 * both with oncall_changes_free). */
int oncall_changes_load(struct cmd_ctx *ctx,
                        const char *rota,
                        int64_t after_ms,
                        struct rota_change_row **rows,
                        struct rota_change **changes,
                        size_t *n);
void oncall_changes_free(struct rota_change_row *rows, struct rota_change *changes, size_t n);

/* 0, or KX_E*; a rota that has not started yet gives 0 with now.started false. */
int oncall_at(struct cmd_ctx *ctx, const struct rota *r, int64_t at_ms, struct oncall_view *out);
void oncall_view_free(struct oncall_view *v);
/* The config person holding the slot, or NULL (nobody, or not a known person). */
const struct person *oncall_primary(struct cmd_ctx *ctx, const struct oncall_view *v);
const struct person *oncall_secondary(struct cmd_ctx *ctx, const struct oncall_view *v);
const struct person *oncall_manager(struct cmd_ctx *ctx, const struct oncall_view *v);

#endif
