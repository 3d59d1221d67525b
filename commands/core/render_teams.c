#include "commands/core/render_teams.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/kx.h"

/* Slack renders :shortcodes: as emoji, Teams shows them as typed: the ones klaxon's messages
 * use become the characters themselves. Sorted by name (bsearch). */
struct emoji {
  const char *name;
  const char *utf8;
};

static const struct emoji EMOJI[] = {
    {"alarm_clock", "\u23F0"},
    {"arrow_double_up", "\u23EB"},
    {"arrow_down", "\u2B07\uFE0F"},
    {"bell", "\U0001F514"},
    {"book", "\U0001F4D6"},
    {"bust_in_silhouette", "\U0001F464"},
    {"busts_in_silhouette", "\U0001F465"},
    {"calendar", "\U0001F4C5"},
    {"clipboard", "\U0001F4CB"},
    {"eyes", "\U0001F440"},
    {"fire", "\U0001F525"},
    {"heavy_check_mark", "\u2714\uFE0F"},
    {"hourglass", "\u231B"},
    {"information_source", "\u2139\uFE0F"},
    {"large_green_circle", "\U0001F7E2"},
    {"leftwards_arrow_with_hook", "\u21A9\uFE0F"},
    {"lock", "\U0001F512"},
    {"loudspeaker", "\U0001F4E2"},
    {"mega", "\U0001F4E3"},
    {"memo", "\U0001F4DD"},
    {"notebook", "\U0001F4D3"},
    {"pager", "\U0001F4DF"},
    {"pushpin", "\U0001F4CC"},
    {"red_circle", "\U0001F534"},
    {"repeat", "\U0001F501"},
    {"rotating_light", "\U0001F6A8"},
    {"sunrise", "\U0001F305"},
    {"tada", "\U0001F389"},
    {"test_tube", "\U0001F9EA"},
    {"thread", "\U0001F9F5"},
    {"traffic_light", "\U0001F6A5"},
    {"warning", "\u26A0\uFE0F"},
    {"wave", "\U0001F44B"},
    {"white_check_mark", "\u2705"},
    {"white_square", "\u2B1C"},
    {"x", "\u274C"},
};

static int emoji_cmp(const void *key, const void *elem)
{
  const struct emoji *e = elem;
  return strcmp(key, e->name);
}

/* ":name:" at p (a known shortcode): its emoji and how many bytes it spans, else NULL. */
static const char *emoji_at(const char *p, size_t *used)
{
  size_t n = 1;
  while (n < 40 && ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') || p[n] == '_'))
    n++;
  if (n < 2 || n >= 40 || p[n] != ':')
    return NULL;
  char name[40];
  memcpy(name, p + 1, n - 1);
  name[n - 1] = '\0';
  const struct emoji *hit = bsearch(name, EMOJI, KX_ARRAY_SIZE(EMOJI), sizeof(EMOJI[0]), emoji_cmp);
  if (!hit)
    return NULL;
  *used = n + 1;
  return hit->utf8;
}

char *render_teams_markdown(const char *markup, const struct render_people *people)
{
  struct buf b;
  md_init(&b);
  const char *p = markup ? markup : "";
  int rc = 0;
  const char *emoji;
  size_t used = 0;
  while (*p && rc == 0) {
    if (*p == '<') {
      const char *end = strchr(p, '>');
      if (!end) {
        rc = buf_puts(&b, "<");
        p++;
        continue;
      }
      char inner[1024];
      size_t len = (size_t)(end - p - 1);
      if (len >= sizeof(inner))
        len = sizeof(inner) - 1;
      memcpy(inner, p + 1, len);
      inner[len] = '\0';
      p = end + 1;
      if (strncmp(inner, "@p:", 3) == 0) {
        const char *name = people && people->name ? people->name(people->arg, inner + 3) : NULL;
        rc = buf_printf(&b, "**%s**", name ? name : inner + 3);
      } else if (strncmp(inner, "@u:", 3) == 0) {
        char *bar = strchr(inner, '|');
        rc = buf_printf(&b, "**%s**", bar ? bar + 1 : inner + 3);
      } else if (inner[0] == '!') {
        /* Slack's <!here>/<!channel>: Teams has no such mention for a bot; plain text. */
        rc = buf_printf(&b, "@%s", inner + 1);
      } else if (inner[0] == '#') {
        char *bar = strchr(inner, '|');
        rc = buf_printf(&b, "#%s", bar ? bar + 1 : inner + 1);
      } else {
        char *bar = strchr(inner, '|');
        if (bar) {
          *bar = '\0';
          char *label = md_unescape(bar + 1);
          char *url = md_unescape(inner);
          rc = buf_printf(&b, "[%s](%s)", label ? label : inner, url ? url : inner);
          free(label);
          free(url);
        } else {
          rc = buf_puts(&b, inner);
        }
      }
    } else if (*p == '*') {
      /* mrkdwn *bold* → markdown **bold** (a lone * stays as it is). */
      const char *close = strchr(p + 1, '*');
      if (close && close > p + 1 && !memchr(p + 1, '\n', (size_t)(close - p - 1))) {
        rc = buf_puts(&b, "**");
        if (rc == 0)
          rc = buf_append(&b, p + 1, (size_t)(close - p - 1));
        if (rc == 0)
          rc = buf_puts(&b, "**");
        p = close + 1;
      } else {
        rc = buf_append(&b, p++, 1);
      }
    } else if (*p == '&') {
      if (strncmp(p, "&amp;", 5) == 0) {
        rc = buf_puts(&b, "&");
        p += 5;
      } else if (strncmp(p, "&lt;", 4) == 0) {
        rc = buf_puts(&b, "<");
        p += 4;
      } else if (strncmp(p, "&gt;", 4) == 0) {
        rc = buf_puts(&b, ">");
        p += 4;
      } else {
        rc = buf_append(&b, p++, 1);
      }
    } else if (*p == ':' && (emoji = emoji_at(p, &used)) != NULL) {
      rc = buf_puts(&b, emoji);
      p += used;
    } else if (*p == '\n') {
      /* Adaptive Card TextBlocks need a blank line (or "\n\n") for a visible line break. */
      rc = buf_puts(&b, "\n\n");
      p++;
    } else {
      rc = buf_append(&b, p++, 1);
    }
  }
  if (rc) {
    buf_free(&b);
    return NULL;
  }
  return buf_take(&b);
}

static cJSON *text_block(const char *text, const char *size, const char *weight, bool subtle)
{
  cJSON *t = cJSON_CreateObject();
  cJSON_AddStringToObject(t, "type", "TextBlock");
  cJSON_AddStringToObject(t, "text", text);
  cJSON_AddBoolToObject(t, "wrap", 1);
  if (size)
    cJSON_AddStringToObject(t, "size", size);
  if (weight)
    cJSON_AddStringToObject(t, "weight", weight);
  if (subtle)
    cJSON_AddBoolToObject(t, "isSubtle", 1);
  return t;
}

static cJSON *submit_data(const struct msg_button *x)
{
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "action", x->action_id ? x->action_id : "");
  cJSON_AddStringToObject(d, "value", x->value ? x->value : "");
  return d;
}

static cJSON *action(const struct msg_button *x)
{
  cJSON *a = cJSON_CreateObject();
  if (x->url) {
    cJSON_AddStringToObject(a, "type", "Action.OpenUrl");
    cJSON_AddStringToObject(a, "title", x->label);
    cJSON_AddStringToObject(a, "url", x->url);
    return a;
  }
  cJSON_AddStringToObject(a, "type", "Action.Execute");
  cJSON_AddStringToObject(a, "title", x->label);
  cJSON_AddStringToObject(a, "verb", x->action_id ? x->action_id : "");
  cJSON_AddItemToObject(a, "data", submit_data(x));
  if (x->style == MSG_STYLE_PRIMARY)
    cJSON_AddStringToObject(a, "style", "positive");
  if (x->style == MSG_STYLE_DANGER)
    cJSON_AddStringToObject(a, "style", "destructive");
  cJSON *fb = cJSON_CreateObject();
  cJSON_AddStringToObject(fb, "type", "Action.Submit");
  cJSON_AddStringToObject(fb, "title", x->label);
  cJSON_AddItemToObject(fb, "data", submit_data(x));
  cJSON_AddItemToObject(a, "fallback", fb);
  return a;
}

static cJSON *render_teams_card(const struct msg *m, const struct render_people *people)
{
  cJSON *card = cJSON_CreateObject();
  if (!card)
    return NULL;
  cJSON_AddStringToObject(card, "type", "AdaptiveCard");
  cJSON_AddStringToObject(card, "$schema", "http://adaptivecards.io/schemas/adaptive-card.json");
  cJSON_AddStringToObject(card, "version", TEAMS_CARD_VERSION);
  cJSON *body = cJSON_AddArrayToObject(card, "body");
  cJSON *actions = NULL;
  if (m->header)
    cJSON_AddItemToArray(body, text_block(m->header, "Large", "Bolder", false));
  for (size_t i = 0; i < m->n_blocks; i++) {
    const struct msg_block *mb = &m->blocks[i];
    if (mb->kind == MSG_SECTION || mb->kind == MSG_CONTEXT) {
      char *t = render_teams_markdown(mb->text, people);
      if (t)
        cJSON_AddItemToArray(body, text_block(t, mb->kind == MSG_CONTEXT ? "Small" : NULL, NULL,
                                              mb->kind == MSG_CONTEXT));
      free(t);
    } else if (mb->kind == MSG_FIELDS) {
      cJSON *fs = cJSON_CreateObject();
      cJSON_AddStringToObject(fs, "type", "FactSet");
      cJSON *facts = cJSON_AddArrayToObject(fs, "facts");
      for (size_t j = 0; j < mb->n_fields; j++) {
        cJSON *f = cJSON_CreateObject();
        char *v = render_teams_markdown(mb->fields[j].value, people);
        cJSON_AddStringToObject(f, "title", mb->fields[j].label);
        cJSON_AddStringToObject(f, "value", v ? v : "");
        free(v);
        cJSON_AddItemToArray(facts, f);
      }
      cJSON_AddItemToArray(body, fs);
    } else if (mb->kind == MSG_DIVIDER) {
      cJSON *sep = text_block(" ", NULL, NULL, false);
      cJSON_AddBoolToObject(sep, "separator", 1);
      cJSON_AddItemToArray(body, sep);
    } else if (mb->kind == MSG_ACTIONS) {
      if (!actions)
        actions = cJSON_AddArrayToObject(card, "actions");
      for (size_t j = 0; j < mb->n_buttons; j++)
        cJSON_AddItemToArray(actions, action(&mb->buttons[j]));
    }
  }
  return card;
}

cJSON *render_teams_activity(const struct msg *m, const struct render_people *people)
{
  cJSON *act = cJSON_CreateObject();
  if (!act)
    return NULL;
  cJSON_AddStringToObject(act, "type", "message");
  /* The fallback is plain text: shown in notifications and by clients without cards. */
  const char *fb = m->fallback ? m->fallback : m->header ? m->header : "";
  cJSON_AddStringToObject(act, "text", fb);
  cJSON_AddStringToObject(act, "textFormat", "plain");
  cJSON *atts = cJSON_AddArrayToObject(act, "attachments");
  cJSON *att = cJSON_CreateObject();
  cJSON_AddStringToObject(att, "contentType", "application/vnd.microsoft.card.adaptive");
  cJSON_AddItemToObject(att, "content", render_teams_card(m, people));
  cJSON_AddItemToArray(atts, att);
  return act;
}

cJSON *render_teams_reply_activity(const char *markdown, const cJSON *card, const char *reply_to_id)
{
  cJSON *act = cJSON_CreateObject();
  if (!act)
    return NULL;
  bool ok = cJSON_AddStringToObject(act, "type", "message") != NULL;
  if (markdown && *markdown) {
    ok = ok && cJSON_AddStringToObject(act, "text", markdown) != NULL;
    ok = ok && cJSON_AddStringToObject(act, "textFormat", "markdown") != NULL;
  }
  if (reply_to_id)
    ok = ok && cJSON_AddStringToObject(act, "replyToId", reply_to_id) != NULL;
  if (card) {
    cJSON *atts = cJSON_AddArrayToObject(act, "attachments");
    cJSON *att = cJSON_CreateObject();
    cJSON *copy = cJSON_Duplicate(card, 1);
    if (!atts || !att || !copy) {
      cJSON_Delete(att);
      cJSON_Delete(copy);
      ok = false;
    } else {
      cJSON_AddStringToObject(att, "contentType", "application/vnd.microsoft.card.adaptive");
      cJSON_AddItemToObject(att, "content", copy);
      cJSON_AddItemToArray(atts, att);
    }
  }
  if (!ok) {
    cJSON_Delete(act);
    return NULL;
  }
  return act;
}

cJSON *render_teams_reply_row(const char *conversation_id, const char *reply_to_id, cJSON *activity)
{
  cJSON *row = activity ? cJSON_CreateObject() : NULL;
  if (!row || !conversation_id || !cJSON_AddStringToObject(row, "conversation", conversation_id) ||
      (reply_to_id && !cJSON_AddStringToObject(row, "reply_to_id", reply_to_id))) {
    cJSON_Delete(row);
    cJSON_Delete(activity);
    return NULL;
  }
  cJSON_AddItemToObject(row, "activity", activity);
  return row;
}
