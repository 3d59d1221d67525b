/*
 * teams_manifest.h — the Teams app manifest's command menu (bots[0].commandLists), derived from
 * the command table: the rows flagged CMD_MENU, in table order, titled "group name" ("group"
 * alone for a default row whose name is optional, `[who] [ROTA]`), described by the row's help
 * and synopsis. `klaxon teams-manifest` writes deploy/teams/manifest.json with it, and a unit
 * test checks that file against the table, so the menu never names a command by hand.
 *
 * Both functions return a new object or string the caller frees (cJSON_Delete, free), or NULL
 * (out of memory, or a template that is not a manifest: the reason is logged).
 */
#ifndef KX_TEAMS_MANIFEST_H
#define KX_TEAMS_MANIFEST_H

#include <cjson/cJSON.h>

#define TEAMS_MENU_MAX 10       /* commands in one commandList (the manifest schema's cap) */
#define TEAMS_MENU_TITLE_MAX 32 /* characters of a command's title */
#define TEAMS_MENU_DESC_MAX 128 /* characters of its description */

/* [{"title": "incident declare", "description": "…"}, …] */
cJSON *teams_manifest_commands(void);
/* The manifest text template_json with bots[0].commandLists[0].commands replaced, formatted. */
char *teams_manifest_render(const char *template_json);

#endif
