#include "commands/incident/incident_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands/core/msg.h"
#include "lib/kx.h"
#include "lib/timeutil.h"

static bool quoted(const char *raw)
{
  return raw && (raw[0] == '"' || strncmp(raw, "\xe2\x80\x9c", 3) == 0);
}

/* Trim blanks at both ends of a copy of n bytes of s. */
static char *trimmed_copy(const char *s, size_t n)
{
  while (n && isspace((unsigned char)*s)) {
    s++;
    n--;
  }
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  return kx_strndup(s, n);
}

static int bad_severity(const struct config *c, const char *word, struct buf *err)
{
  buf_puts(err, "There is no severity `");
  md_text(err, word);
  buf_puts(err, "`. The severities are:");
  for (size_t k = 0; k < c->n_severities; k++)
    buf_printf(err, " `%s`", c->severities[k].name);
  buf_puts(err, ".");
  return KX_EINVAL;
}

int incident_parse_declare(const struct config *c,
                           const struct cmd_args *args,
                           struct incident_declare_args *out,
                           struct buf *err)
{
  memset(out, 0, sizeof(*out));
  int i = 0;
  /* The dispatcher took the row's options (--drill, --rota R, --sev SEV) out of the words
   * before the title; they are checked against the config here. */
  out->drill = cmd_flag(args, "drill");
  const char *rota = cmd_opt(args, "rota");
  if (rota) {
    if (!config_rota(c, rota)) {
      buf_puts(err, "There is no rota called `");
      md_text(err, rota);
      buf_puts(err, "`.");
      return KX_EINVAL;
    }
    out->rota = rota;
  }
  const char *sev = NULL;
  for (int k = 0; k < args->opts.n; k++) {
    const char *name = args->opts.set[k].def->name;
    if (strcmp(name, "sev") == 0 || strcmp(name, "severity") == 0)
      sev = args->opts.set[k].value;
  }
  if (sev) {
    out->severity = config_severity(c, sev);
    if (!out->severity)
      return bad_severity(c, sev, err);
  }
  /* The first word names a severity only when it is typed bare: "P1" in quotes is a title. */
  if (!out->severity && i < args->argc && !quoted(args->rest[i])) {
    out->severity = config_severity(c, args->argv[i]);
    if (out->severity)
      i++;
  }
  if (i < args->argc) {
    if (i == args->argc - 1)
      out->title = kx_strdup(args->argv[i]); /* one word, or one quoted string without quotes */
    else
      out->title = trimmed_copy(args->rest[i], strlen(args->rest[i]));
    if (!out->title)
      return KX_ENOMEM;
    if (!out->title[0]) {
      free(out->title);
      out->title = NULL;
    }
  }
  return 0;
}

void incident_declare_args_free(struct incident_declare_args *a)
{
  free(a->title);
  a->title = NULL;
}

/* ---- Slack text to plain text --------------------------------------------------------- */

static int put_entity(struct buf *b, const char **p)
{
  static const struct {
    const char *ent;
    char c;
  } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
  for (size_t i = 0; i < KX_ARRAY_SIZE(ents); i++) {
    size_t n = strlen(ents[i].ent);
    if (strncmp(*p, ents[i].ent, n) == 0) {
      *p += n;
      return buf_append(b, &ents[i].c, 1);
    }
  }
  (*p)++;
  return buf_append(b, "&", 1);
}

/* Append the decoded text of s[0..n) (entities inside a label). */
static int put_decoded(struct buf *b, const char *s, size_t n)
{
  int rc = 0;
  const char *end = s + n;
  while (rc == 0 && s < end) {
    if (*s == '&') {
      const char *q = s;
      rc = put_entity(b, &q);
      s = q;
    } else {
      rc = buf_append(b, s++, 1);
    }
  }
  return rc;
}

/* One <…> control sequence (body is the text between < and >). */
static int put_control(
    struct buf *b, const char *body, size_t n, incident_name_fn name_of, void *arg)
{
  const char *bar = memchr(body, '|', n);
  size_t id_len = bar ? (size_t)(bar - body) : n;
  const char *label = bar ? bar + 1 : NULL;
  size_t label_len = bar ? n - id_len - 1 : 0;
  if (body[0] == '@') {
    /* <@U123|bob> or <@U123> */
    if (label && label_len) {
      buf_puts(b, "@");
      return put_decoded(b, label, label_len);
    }
    char id[64];
    snprintf(id, sizeof(id), "%.*s", (int)(id_len > 1 ? id_len - 1 : 0), body + 1);
    const char *name = name_of ? name_of(arg, id) : NULL;
    return buf_printf(b, "@%s", name ? name : id);
  }
  if (body[0] == '#') {
    if (label && label_len) {
      buf_puts(b, "#");
      return put_decoded(b, label, label_len);
    }
    return buf_printf(b, "#%.*s", (int)(id_len - 1), body + 1);
  }
  if (body[0] == '!') {
    /* <!channel>, <!here>, <!subteam^S1|@team>, <!date^…|fallback> */
    if (label && label_len) {
      if (label[0] != '@' && strncmp(body, "!subteam", 8) == 0)
        buf_puts(b, "@");
      return put_decoded(b, label, label_len);
    }
    size_t word = strcspn(body + 1, "^|");
    if (word > id_len - 1)
      word = id_len - 1;
    return buf_printf(b, "@%.*s", (int)word, body + 1);
  }
  /* A link: <https://x|label>, <mailto:a@b|a@b>, <https://x>. */
  const char *url = body;
  size_t url_len = id_len;
  if (strncmp(url, "mailto:", 7) == 0) {
    url += 7;
    url_len -= 7;
  }
  if (label && label_len && (label_len != url_len || strncmp(label, url, url_len) != 0)) {
    int rc = put_decoded(b, label, label_len);
    if (rc == 0)
      rc = buf_puts(b, " (");
    if (rc == 0)
      rc = put_decoded(b, url, url_len);
    if (rc == 0)
      rc = buf_puts(b, ")");
    return rc;
  }
  return put_decoded(b, url, url_len);
}

/* Slack's control sequences start with @, # or !, or are links (scheme:…); a bare "<" in the
 * text (which Slack would have escaped) is kept as it is. */
static bool is_control(const char *body, const char *end)
{
  if (*body == '@' || *body == '#' || *body == '!')
    return true;
  const char *colon = memchr(body, ':', (size_t)(end - body));
  if (!colon || colon == body)
    return false;
  for (const char *p = body; p < colon; p++)
    if (!isalnum((unsigned char)*p) && *p != '+' && *p != '-' && *p != '.')
      return false;
  return true;
}

char *incident_plain(const char *s, incident_name_fn name_of, void *arg, bool single_line)
{
  struct buf b;
  /* Each input byte gives at most a few output bytes (a mention becomes a name of at most
   * 64 + the id), so this cap is never reached for an input cut at INCIDENT_PLAIN_MAX_IN. */
  buf_init(&b, INCIDENT_PLAIN_MAX_IN * 8 + 1024);
  if (!s)
    s = "";
  size_t len = strnlen(s, INCIDENT_PLAIN_MAX_IN);
  while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80 && s[len] != '\0')
    len--; /* do not split a UTF-8 sequence */
  char *copy = kx_strndup(s, len);
  if (!copy)
    return NULL;
  const char *start = copy;
  s = copy;
  int rc = buf_puts(&b, "");
  while (rc == 0 && *s) {
    unsigned char c = (unsigned char)*s;
    if (c == '<') {
      const char *close = strchr(s + 1, '>');
      const char *open = strchr(s + 1, '<');
      if (close && close > s + 1 && (!open || open > close) && is_control(s + 1, close)) {
        rc = put_control(&b, s + 1, (size_t)(close - s - 1), name_of, arg);
        s = close + 1;
        continue;
      }
      rc = buf_append(&b, s++, 1);
    } else if (c == '&') {
      rc = put_entity(&b, &s);
    } else if (c == '\n' || c == '\t' || c == '\r') {
      if (c != '\r' || single_line)
        rc = buf_append(&b, single_line ? " " : s, 1);
      s++;
    } else if (c < 0x20 || c == 0x7f) {
      s++; /* other control characters never reach a message, a topic or an email header */
    } else {
      rc = buf_append(&b, s++, 1);
    }
  }
  free((void *)start);
  if (rc) {
    buf_free(&b);
    return NULL;
  }
  char *out = trimmed_copy(b.data, b.len);
  buf_free(&b);
  return out;
}

char *incident_clean(const char *s, bool single_line)
{
  if (!s)
    s = "";
  size_t n = strlen(s);
  char *out = malloc(n + 1);
  if (!out)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\n' || c == '\t')
      out[o++] = (char)(single_line ? ' ' : c);
    else if (c >= 0x20 && c != 0x7f)
      out[o++] = (char)c;
  }
  char *t = trimmed_copy(out, o);
  free(out);
  return t;
}

bool incident_cut(char *s, size_t max)
{
  size_t n = strlen(s);
  if (n <= max)
    return false;
  while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
    max--;
  s[max] = '\0';
  return true;
}

/* ---- times ------------------------------------------------------------------------------ */

/* One or two digits into *v; returns the characters read (0: none). */
static int digits(const char *s, int *v)
{
  int n = 0;
  *v = 0;
  while (n < 2 && s[n] >= '0' && s[n] <= '9')
    *v = *v * 10 + (s[n++] - '0');
  return n;
}

/* "9:40", "09:40", "09:40:30" */
static int parse_hhmm(const char *s, int *hh, int *mm, int *ss)
{
  int n = digits(s, hh);
  *ss = 0;
  if (!n || s[n] != ':')
    return KX_EINVAL;
  s += n + 1;
  if (digits(s, mm) != 2)
    return KX_EINVAL;
  s += 2;
  if (*s == ':') {
    if (digits(s + 1, ss) != 2)
      return KX_EINVAL;
    s += 3;
  }
  if (*s)
    return KX_EINVAL;
  return (*hh < 24 && *mm < 60 && *ss < 60) ? 0 : KX_EINVAL;
}

int incident_parse_time(const char *zone, const char *text, int64_t now_ms, int64_t *out_ms)
{
  if (!zone || !text)
    return KX_EINVAL;
  char s[64];
  while (isspace((unsigned char)*text))
    text++;
  size_t n = strlen(text);
  while (n && isspace((unsigned char)text[n - 1]))
    n--;
  if (n == 0 || n >= sizeof(s))
    return KX_EINVAL;
  memcpy(s, text, n);
  s[n] = '\0';
  if (strcasecmp(s, "now") == 0) {
    *out_ms = now_ms;
    return 0;
  }
  /* Durations back from now: "-45m", "45m ago". */
  int64_t d;
  if (s[0] == '-' && time_parse_duration(s + 1, &d) == 0) {
    *out_ms = now_ms - d;
    return 0;
  }
  if (n > 4 && strcasecmp(s + n - 4, " ago") == 0) {
    s[n - 4] = '\0';
    if (time_parse_duration(s, &d) != 0)
      return KX_EINVAL;
    *out_ms = now_ms - d;
    return 0;
  }
  int hh, mm, ss;
  struct kx_local now;
  if (parse_hhmm(s, &hh, &mm, &ss) == 0) {
    if (tz_to_local(zone, now_ms, &now))
      return KX_EINVAL;
    int64_t at;
    if (tz_from_local(zone, now.y, now.m, now.d, hh, mm, ss, &at))
      return KX_EINVAL;
    if (at > now_ms) {
      struct kx_date y = date_add_days((struct kx_date){now.y, now.m, now.d}, -1);
      if (tz_from_local(zone, y.y, y.m, y.d, hh, mm, ss, &at))
        return KX_EINVAL;
    }
    *out_ms = at;
    return 0;
  }
  /* "2026-11-24 09:40" or "2026-11-24T09:40" without an offset: local. */
  if (n >= 16 && n <= 19 && (s[10] == ' ' || s[10] == 'T' || s[10] == 't')) {
    char date[11];
    memcpy(date, s, 10);
    date[10] = '\0';
    struct kx_date dt;
    if (date_parse(date, &dt) == 0 && parse_hhmm(s + 11, &hh, &mm, &ss) == 0)
      return tz_from_local(zone, dt.y, dt.m, dt.d, hh, mm, ss, out_ms) ? KX_EINVAL : 0;
  }
  return time_parse_rfc3339(s, out_ms) ? KX_EINVAL : 0;
}

int incident_channel_base(const char *zone, int64_t at_ms, char *out, size_t size)
{
  struct kx_local l;
  int rc = tz_to_local(zone ? zone : "UTC", at_ms, &l);
  if (rc)
    return rc;
  int n = snprintf(out, size, "incident-%04d%02d%02d", l.y, l.m, l.d);
  return (n > 0 && (size_t)n < size) ? 0 : KX_ETOOBIG;
}
