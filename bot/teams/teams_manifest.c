#include "bot/teams/teams_manifest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/command.h"
#include "lib/buf.h"
#include "lib/log.h"

/* At most max bytes of s, cut before a UTF-8 continuation byte so no character is split. */
static void cut_utf8(char *s, size_t max)
{
  size_t n = strlen(s);
  if (n <= max)
    return;
  while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
    max--;
  s[max] = '\0';
}

static cJSON *menu_entry(const struct cmd_def *d)
{
  struct buf b;
  buf_init(&b, 1024);
  /* A default row whose usage brackets its name (`[who] [ROTA]`) is the group's own word. */
  if ((d->flags & CMD_DEFAULT) && d->usage[0] == '[')
    buf_printf(&b, "%s", d->group);
  else
    buf_printf(&b, "%s %s", d->group, d->name);
  char title[TEAMS_MENU_TITLE_MAX + 1];
  snprintf(title, sizeof(title), "%s", b.data ? b.data : "");
  cut_utf8(title, TEAMS_MENU_TITLE_MAX);
  buf_reset(&b);
  /* "Declare an incident …: incident declare [--drill] [--rota R] [SEV] TITLE", or the help
   * alone when both do not fit. */
  buf_printf(&b, "%c%s", toupper((unsigned char)d->help[0]), d->help + 1);
  size_t help_len = b.len;
  buf_printf(&b, ": %s ", d->group);
  cmd_synopsis(&b, d);
  char *desc = buf_take(&b);
  if (desc && strlen(desc) > TEAMS_MENU_DESC_MAX) {
    desc[help_len] = '\0';
    cut_utf8(desc, TEAMS_MENU_DESC_MAX);
  }
  cJSON *o = cJSON_CreateObject();
  if (!desc || !o || !cJSON_AddStringToObject(o, "title", title) ||
      !cJSON_AddStringToObject(o, "description", desc)) {
    cJSON_Delete(o);
    o = NULL;
  }
  free(desc);
  return o;
}

cJSON *teams_manifest_commands(void)
{
  cJSON *list = cJSON_CreateArray();
  for (const struct cmd_def *d = cmd_table; list && d->group; d++) {
    if (!(d->flags & CMD_MENU))
      continue;
    cJSON *o = menu_entry(d);
    if (!o) {
      cJSON_Delete(list);
      return NULL;
    }
    cJSON_AddItemToArray(list, o);
  }
  return list;
}

char *teams_manifest_render(const char *template_json)
{
  cJSON *m = cJSON_Parse(template_json);
  cJSON *bot = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "bots"), 0);
  cJSON *lists = cJSON_GetObjectItemCaseSensitive(bot, "commandLists");
  cJSON *first = cJSON_GetArrayItem(lists, 0);
  if (!cJSON_IsObject(first)) {
    LOG_ERROR("teams", "manifest_template_bad", "want=bots[0].commandLists[0]");
    cJSON_Delete(m);
    return NULL;
  }
  cJSON *commands = teams_manifest_commands();
  char *out = NULL;
  cJSON_DeleteItemFromObjectCaseSensitive(first, "commands");
  if (commands && cJSON_AddItemToObject(first, "commands", commands))
    out = cJSON_Print(m);
  else
    cJSON_Delete(commands); /* cJSON_AddItemToObject does not take it on failure */
  cJSON_Delete(m);
  return out;
}
