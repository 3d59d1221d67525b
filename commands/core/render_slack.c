#include "commands/core/render_slack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"

/* Cut at max_len bytes without splitting a UTF-8 sequence or an entity/mention, then add "…". */
static void cut(struct buf *b, size_t max_len)
{
  if (!max_len || b->len <= max_len)
    return;
  size_t n = max_len - 3; /* room for the ellipsis (3 bytes in UTF-8) */
  while (n > 0 && ((unsigned char)b->data[n] & 0xC0) == 0x80)
    n--;
  /* Do not leave half a <…> or &…; behind. */
  for (size_t i = n; i > 0 && n - i < 256; i--) {
    char c = b->data[i - 1];
    if (c == '>' || c == ';')
      break;
    if (c == '<' || c == '&') {
      n = i - 1;
      break;
    }
  }
  b->len = n;
  b->data[n] = '\0';
  buf_puts(b, "\xE2\x80\xA6");
}

char *render_slack_mrkdwn(const char *markup, const struct render_people *people, size_t max_len)
{
  struct buf b;
  md_init(&b);
  const char *p = markup ? markup : "";
  int rc = 0;
  while (*p && rc == 0) {
    if (p[0] == '<' && p[1] == '@' && (p[2] == 'p' || p[2] == 'u') && p[3] == ':') {
      const char *end = strchr(p, '>');
      if (!end)
        break;
      char id[256];
      size_t len = (size_t)(end - p - 4);
      if (len >= sizeof(id))
        len = sizeof(id) - 1;
      memcpy(id, p + 4, len);
      id[len] = '\0';
      char *bar = strchr(id, '|');
      if (bar)
        *bar = '\0';
      if (p[2] == 'u') {
        rc = buf_printf(&b, "<@%s>", id);
      } else {
        const char *sid = people && people->slack_id ? people->slack_id(people->arg, id) : NULL;
        const char *name = people && people->name ? people->name(people->arg, id) : NULL;
        if (sid) {
          rc = buf_printf(&b, "<@%s>", sid);
        } else {
          rc = md_bold(&b, name ? name : id);
        }
      }
      p = end + 1;
    } else {
      rc = buf_append(&b, p++, 1);
    }
  }
  if (rc) {
    buf_free(&b);
    return NULL;
  }
  cut(&b, max_len);
  return buf_take(&b);
}

static cJSON *text_obj(const char *type, const char *text)
{
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  cJSON_AddStringToObject(o, "type", type);
  cJSON_AddStringToObject(o, "text", text);
  if (strcmp(type, "plain_text") == 0)
    cJSON_AddBoolToObject(o, "emoji", 1);
  return o;
}

static char *plain_cut(const char *s, size_t max_len)
{
  struct buf b;
  buf_init(&b, max_len + 16);
  if (buf_append(&b, s, strlen(s) > max_len ? max_len + 1 : strlen(s))) {
    buf_free(&b);
    return kx_strdup("");
  }
  cut(&b, max_len);
  return buf_take(&b);
}

static int add_section(cJSON *blocks,
                       const char *type,
                       const char *markup,
                       const struct render_people *people)
{
  char *text = render_slack_mrkdwn(markup, people, MSG_SECTION_MAX);
  if (!text)
    return KX_ENOMEM;
  cJSON *block = cJSON_CreateObject();
  cJSON_AddStringToObject(block, "type", type);
  if (strcmp(type, "context") == 0) {
    cJSON *elements = cJSON_AddArrayToObject(block, "elements");
    cJSON_AddItemToArray(elements, text_obj("mrkdwn", text[0] ? text : " "));
  } else {
    cJSON_AddItemToObject(block, "text", text_obj("mrkdwn", text[0] ? text : " "));
  }
  free(text);
  cJSON_AddItemToArray(blocks, block);
  return 0;
}

static void add_fields(cJSON *blocks,
                       const struct msg_block *mb,
                       const struct render_people *people)
{
  cJSON *block = cJSON_CreateObject();
  cJSON_AddStringToObject(block, "type", "section");
  cJSON *fields = cJSON_AddArrayToObject(block, "fields");
  for (size_t i = 0; i < mb->n_fields; i++) {
    struct buf b;
    md_init(&b);
    md_bold(&b, mb->fields[i].label);
    md_raw(&b, "\n");
    md_raw(&b, mb->fields[i].value);
    char *text = render_slack_mrkdwn(b.data ? b.data : "", people, MSG_FIELD_MAX);
    buf_free(&b);
    if (text)
      cJSON_AddItemToArray(fields, text_obj("mrkdwn", text));
    free(text);
  }
  cJSON_AddItemToArray(blocks, block);
}

static void add_actions(cJSON *blocks, const struct msg_block *mb, size_t index)
{
  cJSON *block = cJSON_CreateObject();
  char block_id[32];
  snprintf(block_id, sizeof(block_id), "actions_%zu", index);
  cJSON_AddStringToObject(block, "type", "actions");
  cJSON_AddStringToObject(block, "block_id", block_id);
  cJSON *elements = cJSON_AddArrayToObject(block, "elements");
  for (size_t i = 0; i < mb->n_buttons; i++) {
    const struct msg_button *x = &mb->buttons[i];
    cJSON *btn = cJSON_CreateObject();
    cJSON_AddStringToObject(btn, "type", "button");
    cJSON_AddItemToObject(btn, "text", text_obj("plain_text", x->label));
    /* action_id must be unique within the block: suffix "#index"; the transport strips it. */
    char action_id[256];
    snprintf(action_id, sizeof(action_id), "%s#%zu", x->action_id ? x->action_id : "link", i);
    cJSON_AddStringToObject(btn, "action_id", action_id);
    if (x->value)
      cJSON_AddStringToObject(btn, "value", x->value);
    if (x->url)
      cJSON_AddStringToObject(btn, "url", x->url);
    if (x->style == MSG_STYLE_PRIMARY)
      cJSON_AddStringToObject(btn, "style", "primary");
    if (x->style == MSG_STYLE_DANGER)
      cJSON_AddStringToObject(btn, "style", "danger");
    cJSON_AddItemToArray(elements, btn);
  }
  cJSON_AddItemToArray(blocks, block);
}

cJSON *render_slack_blocks(const struct msg *m, const struct render_people *people)
{
  cJSON *blocks = cJSON_CreateArray();
  if (!blocks)
    return NULL;
  if (m->header) {
    char *h = plain_cut(m->header, MSG_HEADER_MAX);
    cJSON *block = cJSON_CreateObject();
    cJSON_AddStringToObject(block, "type", "header");
    cJSON_AddItemToObject(block, "text", text_obj("plain_text", h));
    free(h);
    cJSON_AddItemToArray(blocks, block);
  }
  for (size_t i = 0; i < m->n_blocks && cJSON_GetArraySize(blocks) < MSG_MAX_BLOCKS; i++) {
    const struct msg_block *mb = &m->blocks[i];
    switch (mb->kind) {
      case MSG_SECTION:
        add_section(blocks, "section", mb->text, people);
        break;
      case MSG_CONTEXT:
        add_section(blocks, "context", mb->text, people);
        break;
      case MSG_DIVIDER: {
        cJSON *block = cJSON_CreateObject();
        cJSON_AddStringToObject(block, "type", "divider");
        cJSON_AddItemToArray(blocks, block);
        break;
      }
      case MSG_FIELDS:
        add_fields(blocks, mb, people);
        break;
      case MSG_ACTIONS:
        add_actions(blocks, mb, i);
        break;
    }
  }
  return blocks;
}

cJSON *render_slack_message(const struct msg *m,
                            const char *channel,
                            const struct render_people *people)
{
  cJSON *body = cJSON_CreateObject();
  if (!body)
    return NULL;
  cJSON_AddStringToObject(body, "channel", channel);
  /* The fallback is shown in notifications. It is plain text (often with what a user typed),
   * and Slack parses `text` as mrkdwn: escape it, or a title with <!channel> pings everyone. */
  const char *fb = m->fallback ? m->fallback : m->header ? m->header : "";
  char *escaped = md_escape(fb);
  char *text = escaped ? render_slack_mrkdwn(escaped, people, MSG_FALLBACK_MAX) : NULL;
  free(escaped);
  cJSON_AddStringToObject(body, "text", text ? text : "");
  free(text);
  cJSON *blocks = render_slack_blocks(m, people);
  if (blocks)
    cJSON_AddItemToObject(body, "blocks", blocks);
  return body;
}
