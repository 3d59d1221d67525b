/*
 * rota_internal.h — checks shared by the rota arithmetic's files (rota.c, rota_local.c); never
 * included outside commands/oncall/.
 */
#ifndef KX_ROTA_INTERNAL_H
#define KX_ROTA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "commands/oncall/rota.h"

/* A real calendar date between 1970 and 9999. */
bool rota__date_ok(struct kx_date d);
/* 0, or KX_ECONFIG when rota_problem() finds the rota unusable. */
int rota__check(const struct rota *r);
/* 0, or KX_EINVAL for an instant outside [1970, 9999]. */
int rota__check_instant(int64_t ms);

#endif
