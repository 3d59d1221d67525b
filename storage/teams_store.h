/*
 * teams_store.h — what the Teams transport learns from validated activities and must keep:
 * the serviceUrl of each tenant (where replies and proactive posts go: protocols/teams.md
 * §1.2 "persist it per conversation/tenant"), the conversations and channels the bot has seen
 * (their tenant and team, and whether the bot is installed there), and the roster it has seen
 * (a Teams user's `29:` id to the Entra object id that config people[].teams names).
 *
 * Only the transport writes here, and only from activities whose JWT was verified: a
 * serviceUrl stored here is one the Bot Connector itself gave us, so sending our bearer token
 * there is safe (the config's teams.service_url is the only other place it may go).
 *
 * Strings returned are copies the caller frees; NULL when unknown (or on a database error,
 * which is logged). Writers return 0 or a KX_E* code.
 */
#ifndef KX_TEAMS_STORE_H
#define KX_TEAMS_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "storage/db.h"

/* The serviceUrl an activity of this tenant carried (the newest wins). */
int teams_store_set_service_url(struct db *db,
                                const char *tenant_id,
                                const char *service_url,
                                int64_t now_ms);
char *teams_store_service_url(struct db *db, const char *tenant_id);

/* A conversation (a channel, a group chat or a personal chat) by its base id (without
 * ";messageid=…"). NULL fields leave what is stored unchanged. */
struct teams_store_conversation {
  const char *id;
  const char *tenant_id;
  const char *team_id;
  const char *team_name;
  const char *name; /* the channel's name, when Teams told us */
  const char *type; /* "channel", "personal", "groupChat" */
  int installed;    /* 1: the bot is there; 0: removed; -1: unchanged */
};
int teams_store_set_conversation(struct db *db,
                                 const struct teams_store_conversation *c,
                                 int64_t now_ms);
/* The tenant a conversation (base id) belongs to, or NULL. */
char *teams_store_conversation_tenant(struct db *db, const char *conversation_id);
/* 1 installed, 0 removed, KX_ENOTFOUND unknown, < 0 error. */
int teams_store_installed(struct db *db, const char *conversation_id);
/* Mark every conversation of a team (the General channel's id is the team's) as removed. */
int teams_store_team_removed(struct db *db, const char *team_id, int64_t now_ms);

/* A user seen in an activity (from, membersAdded): their `29:` id and Entra object id. */
int teams_store_set_user(struct db *db,
                         const char *user_id,
                         const char *aad_object_id,
                         const char *name,
                         const char *tenant_id,
                         int64_t now_ms);
/* The Entra object id of a `29:` user id, or NULL. */
char *teams_store_user_aad(struct db *db, const char *user_id);
/* The `29:` id of an Entra object id (any case), or NULL. */
char *teams_store_user_by_aad(struct db *db, const char *aad_object_id);
char *teams_store_user_tenant(struct db *db, const char *user_id);
/* The bot's 1:1 conversation with a user ("a:…"), once created or seen. */
int teams_store_set_personal(struct db *db,
                             const char *user_id,
                             const char *conversation_id,
                             const char *tenant_id,
                             int64_t now_ms);
char *teams_store_personal(struct db *db, const char *user_id);
/* A team the bot is installed in (of this tenant when given), or NULL. */
char *teams_store_any_team(struct db *db, const char *tenant_id);

/* An incident's Teams thread: claimed once (KX_EEXISTS when it already was, so a thread is
 * never started twice), then marked started or failed (error given). */
int teams_store_thread_claim(struct db *db,
                             int64_t incident_id,
                             const char *channel,
                             int64_t now_ms);
int teams_store_thread_done(struct db *db, int64_t incident_id, const char *error, int64_t now_ms);

#endif
