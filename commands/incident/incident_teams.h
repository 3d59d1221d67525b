/*
 * incident_teams.h — the Teams side of incidents (issue 6): an incident declared from Teams gets
 * its own thread in teams.incident_channel, named incident-YYYYMMDD[-N], and that thread is
 * where it talks and where its timeline is written. See incident_teams.c.
 */
#ifndef KX_INCIDENT_TEAMS_H
#define KX_INCIDENT_TEAMS_H

#include "commands/core/command.h"
#include "storage/incidents.h"

#define INCIDENT_TEAMS_HOOK_THREAD "incident.teams_thread"

/* Start the thread of one incident just declared from Teams, in the declaring handler's
 * transaction (nothing when Teams has no bot, or the thread was already claimed). */
int incident_teams_thread(struct cmd_ctx *ctx, struct incident *inc);
/* Start the thread of every open incident declared from Teams that has none yet (in the
 * caller's transaction; idempotent): the start-up task that finishes what a crash cut short. */
int incident_teams_threads(struct cmd_ctx *ctx);
/* The hook of the thread's root post: attach the new conversation to the incident. */
int incident_teams_hook_thread(struct cmd_ctx *ctx,
                               const struct outbox_row *row,
                               const struct cmd_result *result);

#endif
