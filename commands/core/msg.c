#include "commands/core/msg.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"

/* A markup buffer is capped well above a section's size; builders cut at render time. */
#define MD_BUF_CAP ((size_t)64 * 1024)

void md_init(struct buf *b)
{
  buf_init(b, MD_BUF_CAP);
}

int md_textn(struct buf *b, const char *s, size_t n)
{
  int rc = 0;
  size_t start = 0;
  for (size_t i = 0; i < n && s[i] && rc == 0; i++) {
    const char *ent = s[i] == '&' ? "&amp;" : s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;" : NULL;
    if (!ent)
      continue;
    rc = buf_append(b, s + start, i - start);
    if (rc == 0)
      rc = buf_puts(b, ent);
    start = i + 1;
  }
  if (rc == 0) {
    size_t end = start;
    while (end < n && s[end])
      end++;
    rc = buf_append(b, s + start, end - start);
  }
  return rc;
}

int md_text(struct buf *b, const char *s)
{
  return s ? md_textn(b, s, strlen(s)) : 0;
}

int md_raw(struct buf *b, const char *markup)
{
  return markup ? buf_puts(b, markup) : 0;
}

int md_printf(struct buf *b, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int rc = buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

int md_bold(struct buf *b, const char *s)
{
  int rc = buf_puts(b, "*");
  if (rc == 0)
    rc = md_text(b, s);
  if (rc == 0)
    rc = buf_puts(b, "*");
  return rc;
}

int md_person(struct buf *b, const char *person_id)
{
  return buf_printf(b, "<@p:%s>", person_id ? person_id : "?");
}

bool md_id_ok(const char *id)
{
  if (!id || !*id)
    return false;
  size_t n = 0;
  for (const char *c = id; *c; c++, n++) {
    bool ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == ':' || *c == '_' || *c == '-';
    if (!ok || n >= MD_ID_MAX)
      return false;
  }
  return true;
}

int md_user(struct buf *b, const char *user_id)
{
  /* Transports refuse such ids at parse time; a token is written only for a well-formed one,
   * so an id can never close the token and inject a mention or a link. */
  if (!md_id_ok(user_id))
    return md_text(b, user_id ? user_id : "?");
  return buf_printf(b, "<@u:%s>", user_id);
}

int md_channel(struct buf *b, const char *channel_id)
{
  return buf_printf(b, "<#%s>", channel_id ? channel_id : "?");
}

int md_link(struct buf *b, const char *url, const char *label)
{
  /* A URL cannot carry the control characters: drop any that a config or alert smuggled in. */
  int rc = buf_puts(b, "<");
  for (const char *p = url; rc == 0 && p && *p; p++) {
    if (*p == '<' || *p == '>' || *p == '|' || (unsigned char)*p <= ' ')
      continue;
    /* Slack decodes entities inside links, and sends & in URLs as &amp; itself. */
    rc = (*p == '&') ? buf_puts(b, "&amp;") : buf_append(b, p, 1);
  }
  if (rc == 0 && label) {
    rc = buf_puts(b, "|");
    for (const char *p = label; rc == 0 && *p; p++) {
      if (*p == '>' || *p == '|')
        continue;
      rc = (*p == '<')   ? buf_puts(b, "&lt;")
           : (*p == '&') ? buf_puts(b, "&amp;")
                         : buf_append(b, p, 1);
    }
  }
  if (rc == 0)
    rc = buf_puts(b, ">");
  return rc;
}

char *md_escape(const char *s)
{
  if (!s)
    return NULL;
  struct buf b;
  md_init(&b);
  if (md_text(&b, s)) {
    buf_free(&b);
    return NULL;
  }
  return buf_take(&b);
}

char *md_unescape(const char *s)
{
  if (!s)
    return NULL;
  size_t n = strlen(s);
  char *out = malloc(n + 1);
  if (!out)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    if (strncmp(s + i, "&amp;", 5) == 0) {
      out[o++] = '&';
      i += 5;
    } else if (strncmp(s + i, "&lt;", 4) == 0) {
      out[o++] = '<';
      i += 4;
    } else if (strncmp(s + i, "&gt;", 4) == 0) {
      out[o++] = '>';
      i += 4;
    } else {
      out[o++] = s[i++];
    }
  }
  out[o] = '\0';
  return out;
}

struct msg *msg_new(void)
{
  return calloc(1, sizeof(struct msg));
}

static void block_clear(struct msg_block *b)
{
  free(b->text);
  for (size_t i = 0; i < b->n_fields; i++) {
    free(b->fields[i].label);
    free(b->fields[i].value);
  }
  free(b->fields);
  for (size_t i = 0; i < b->n_buttons; i++) {
    free(b->buttons[i].label);
    free(b->buttons[i].action_id);
    free(b->buttons[i].value);
    free(b->buttons[i].url);
  }
  free(b->buttons);
}

void msg_free(struct msg *m)
{
  if (!m)
    return;
  for (size_t i = 0; i < m->n_blocks; i++)
    block_clear(&m->blocks[i]);
  free(m->blocks);
  free(m->fallback);
  free(m->header);
  free(m);
}

static int set_str(char **dst, const char *src)
{
  char *copy = kx_strdup(src);
  if (src && !copy)
    return KX_ENOMEM;
  free(*dst);
  *dst = copy;
  return 0;
}

int msg_set_fallback(struct msg *m, const char *plain)
{
  return set_str(&m->fallback, plain);
}

int msg_set_header(struct msg *m, const char *plain)
{
  return set_str(&m->header, plain);
}

static struct msg_block *add_block(struct msg *m, enum msg_block_kind kind)
{
  if (m->n_blocks >= MSG_MAX_BLOCKS)
    return NULL;
  struct msg_block *grown = realloc(m->blocks, (m->n_blocks + 1) * sizeof(*grown));
  if (!grown)
    return NULL;
  m->blocks = grown;
  struct msg_block *b = &m->blocks[m->n_blocks++];
  memset(b, 0, sizeof(*b));
  b->kind = kind;
  return b;
}

int msg_section_take(struct msg *m, struct buf *markup)
{
  struct msg_block *b = add_block(m, MSG_SECTION);
  if (!b) {
    buf_free(markup);
    return KX_ETOOBIG;
  }
  b->text = buf_take(markup);
  return b->text ? 0 : KX_ENOMEM;
}

static int text_block(struct msg *m, enum msg_block_kind kind, const char *markup)
{
  struct msg_block *b = add_block(m, kind);
  if (!b)
    return KX_ETOOBIG;
  b->text = kx_strdup(markup ? markup : "");
  return b->text ? 0 : KX_ENOMEM;
}

int msg_section(struct msg *m, const char *markup)
{
  return text_block(m, MSG_SECTION, markup);
}

int msg_context(struct msg *m, const char *markup)
{
  return text_block(m, MSG_CONTEXT, markup);
}

int msg_divider(struct msg *m)
{
  return add_block(m, MSG_DIVIDER) ? 0 : KX_ETOOBIG;
}

static struct msg_block *last_of(struct msg *m, enum msg_block_kind kind)
{
  if (m->n_blocks && m->blocks[m->n_blocks - 1].kind == kind)
    return &m->blocks[m->n_blocks - 1];
  return add_block(m, kind);
}

int msg_field(struct msg *m, const char *label, const char *value)
{
  struct msg_block *b = last_of(m, MSG_FIELDS);
  if (b && b->n_fields >= MSG_MAX_FIELDS)
    b = add_block(m, MSG_FIELDS);
  if (!b)
    return KX_ETOOBIG;
  struct msg_field *grown = realloc(b->fields, (b->n_fields + 1) * sizeof(*grown));
  if (!grown)
    return KX_ENOMEM;
  b->fields = grown;
  struct msg_field *f = &b->fields[b->n_fields];
  f->label = kx_strdup(label ? label : "");
  f->value = kx_strdup(value ? value : "");
  if (!f->label || !f->value) {
    free(f->label);
    free(f->value);
    return KX_ENOMEM;
  }
  b->n_fields++;
  return 0;
}

static int add_button(struct msg *m,
                      const char *label,
                      const char *action_id,
                      const char *value,
                      const char *url,
                      enum msg_style style)
{
  struct msg_block *b = last_of(m, MSG_ACTIONS);
  if (!b || b->n_buttons >= MSG_MAX_BUTTONS)
    return KX_ETOOBIG;
  struct msg_button *grown = realloc(b->buttons, (b->n_buttons + 1) * sizeof(*grown));
  if (!grown)
    return KX_ENOMEM;
  b->buttons = grown;
  struct msg_button *x = &b->buttons[b->n_buttons];
  memset(x, 0, sizeof(*x));
  x->label = kx_strndup(label, MSG_BUTTON_LABEL_MAX);
  x->action_id = kx_strdup(action_id);
  x->value = kx_strndup(value, MSG_BUTTON_VALUE_MAX);
  x->url = kx_strdup(url);
  x->style = style;
  if (!x->label || (action_id && !x->action_id) || (value && !x->value) || (url && !x->url)) {
    free(x->label);
    free(x->action_id);
    free(x->value);
    free(x->url);
    return KX_ENOMEM;
  }
  b->n_buttons++;
  return 0;
}

int msg_button(struct msg *m,
               const char *label,
               const char *action_id,
               const char *value,
               enum msg_style style)
{
  return add_button(m, label, action_id, value, NULL, style);
}

int msg_link_button(struct msg *m, const char *label, const char *url)
{
  return add_button(m, label, NULL, NULL, url, MSG_STYLE_DEFAULT);
}

char *md_to_plain(const char *markup,
                  const char *(*name_of)(void *arg, const char *person_id),
                  void *arg)
{
  struct buf b;
  md_init(&b);
  const char *p = markup ? markup : "";
  int rc = 0;
  while (*p && rc == 0) {
    if (*p == '<') {
      const char *end = strchr(p, '>');
      if (!end) {
        rc = buf_append(&b, p, strlen(p));
        break;
      }
      size_t len = (size_t)(end - p - 1);
      char inner[1024];
      if (len >= sizeof(inner))
        len = sizeof(inner) - 1;
      memcpy(inner, p + 1, len);
      inner[len] = '\0';
      if (strncmp(inner, "@p:", 3) == 0) {
        const char *name = name_of ? name_of(arg, inner + 3) : NULL;
        rc = buf_puts(&b, name ? name : inner + 3);
      } else if (strncmp(inner, "@u:", 3) == 0) {
        rc = buf_printf(&b, "@%s", inner + 3);
      } else if (inner[0] == '#') {
        rc = buf_printf(&b, "#%s", inner + 1);
      } else {
        char *bar = strchr(inner, '|');
        if (bar) {
          *bar = '\0';
          char *label = md_unescape(bar + 1);
          rc = label ? buf_printf(&b, "%s (%s)", label, inner) : KX_ENOMEM;
          free(label);
        } else {
          rc = buf_puts(&b, inner);
        }
      }
      p = end + 1;
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
