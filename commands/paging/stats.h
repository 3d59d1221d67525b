/*
 * stats.h — the numbers a team steers by, over a window of days ending now: MTTA, MTTR,
 * MTTD, incidents by severity, pages per rota and per person (after-hours pages apart),
 * escalations, the false-positive rate and the action-item completion rate, each beside its
 * target from the config's `targets:`. Computed from the database only (pages here,
 * incidents from storage/incidents.h), so `/incident stats` and `klaxon stats` agree.
 * A report owns its arrays (stats_report_free).
 */
#ifndef KX_STATS_H
#define KX_STATS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "commands/core/command.h"
#include "lib/buf.h"
#include "storage/pages.h"

#define STATS_MAX_DAYS 3650

struct stats_severity {
  char *severity;
  int64_t count;
};

/* Per severity with an `ack` target (stats_targets.c): pages and alert posts measured against
 * it. A page meets the target when acknowledged (or resolved) within `ack` of its start, misses
 * it when not; one still open inside its target is not counted yet. */
struct stats_ack_target {
  char *severity;
  int64_t target_ms;
  int64_t measured, met, missed;
  int64_t acked, ack_ms_sum;                   /* MTTA of this severity: ack_ms_sum / acked */
  int64_t posts, posts_acked, post_ack_ms_sum; /* channel posts acknowledged by the button */
  int64_t posts_met;                           /* … within the target */
};

struct stats_report {
  int days;
  int64_t from_ms, to_ms;
  struct page_stats pages;
  struct page_count *by_rota;
  size_t n_rota;
  struct page_count *by_person;
  size_t n_person;
  /* incidents (-1: nothing to measure) */
  int64_t incidents;
  struct stats_severity *by_severity;
  size_t n_severity;
  int64_t mttr_ms;            /* incidents: declared -> resolved */
  int64_t mttd_ms;            /* incidents from alerts: the alert's startsAt -> declared */
  int64_t mtta_ms;            /* pages: created -> acknowledged */
  int64_t page_resolve_ms;    /* pages: created -> resolved */
  double false_positive_rate; /* < 0: no page resolved with a reason */
  int64_t actions_total, actions_done;
  struct stats_ack_target *ack_targets; /* config order; only severities with pages */
  size_t n_ack_targets;
};

/* stats_targets.c, called by stats.c */
int stats_targets_compute(struct cmd_ctx *ctx, struct stats_report *r);
void stats_targets_free(struct stats_report *r);
void stats_targets_markup(const struct stats_report *r, struct buf *b);
void stats_targets_json(const struct stats_report *r, cJSON *o);

int stats_compute(struct cmd_ctx *ctx, int days, struct stats_report *out);
void stats_report_free(struct stats_report *r);
/* For people: Slack markup (bold, bullets). */
int stats_markup(struct cmd_ctx *ctx, const struct stats_report *r, struct buf *out);
/* For scripts: a JSON object (the caller deletes it). */
cJSON *stats_json(struct cmd_ctx *ctx, const struct stats_report *r);

/* `/incident stats [7d|30d|90d]` */
int stats_cmd(struct cmd_ctx *ctx,
              const struct cmd_request *req,
              const struct cmd_args *args,
              struct cmd_reply *reply);

#endif
