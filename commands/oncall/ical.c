/* ical.c — a rota as an RFC 5545 calendar. See ical.h and docs/rota-rules.md. */
#include "commands/oncall/ical.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"

#ifndef KLAXON_VERSION
#define KLAXON_VERSION "0"
#endif

const char *ical_format_utc(int64_t ms, char *buf, size_t size)
{
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t sod = secs - days * 86400;
  struct kx_date d = date_from_days(days);
  (void)snprintf(buf, size, "%04d%02d%02dT%02d%02d%02dZ", d.y, d.m, d.d, (int)(sod / 3600),
                 (int)(sod / 60 % 60), (int)(sod % 60));
  return buf;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not valid UTF-8. */
static size_t utf8_len(const unsigned char *s)
{
  if (s[0] < 0x80)
    return 1;
  size_t n;
  unsigned min;
  if ((s[0] & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
  } else if ((s[0] & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
  } else if ((s[0] & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  unsigned cp = s[0] & (0x7F >> n);
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0; /* also stops at the terminating NUL */
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

int ical_escape_text(struct buf *out, const char *s)
{
  int rc = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (p && *p && !rc) {
    size_t n = utf8_len(p);
    if (n == 0) {
      rc = buf_puts(out, "\xEF\xBF\xBD"); /* U+FFFD */
      p++;
      continue;
    }
    if (n > 1) {
      rc = buf_append(out, p, n);
      p += n;
      continue;
    }
    switch (*p) {
      case '\\':
        rc = buf_puts(out, "\\\\");
        break;
      case ';':
        rc = buf_puts(out, "\\;");
        break;
      case ',':
        rc = buf_puts(out, "\\,");
        break;
      case '\n':
        rc = buf_puts(out, "\\n");
        break;
      case '\r':
        if (p[1] != '\n')
          rc = buf_puts(out, "\\n");
        break;
      default:
        if ((*p >= 0x20 && *p != 0x7F) || *p == '\t')
          rc = buf_append(out, p, 1);
        break;
    }
    p++;
  }
  return rc;
}

int ical_put_line(struct buf *out, const char *line, size_t len)
{
  size_t pos = 0, limit = ICAL_FOLD_OCTETS;
  int rc = 0;
  while (!rc && len - pos > limit) {
    size_t cut = pos + limit;
    /* Back up to the start of a UTF-8 sequence (at most 3 continuation bytes). */
    while (cut > pos + limit - 3 && ((unsigned char)line[cut] & 0xC0) == 0x80)
      cut--;
    rc = buf_append(out, line + pos, cut - pos);
    if (!rc)
      rc = buf_append(out, "\r\n ", 3);
    pos = cut;
    limit = ICAL_FOLD_OCTETS - 1; /* the leading space counts */
  }
  if (!rc)
    rc = buf_append(out, line + pos, len - pos);
  if (!rc)
    rc = buf_append(out, "\r\n", 2);
  return rc;
}

/* ---- rendering -------------------------------------------------------------------------- */

struct render {
  const struct config *cfg;
  const struct rota *r;
  struct buf *out;
  struct buf line; /* the content line being built */
};

static const char *display(const struct config *cfg, const char *id)
{
  const struct person *p = cfg && id ? config_person(cfg, id) : NULL;
  if (p && p->name && *p->name)
    return p->name;
  return id;
}

/* Emit the line built so far, then start the next one. */
static int flush(struct render *x)
{
  int rc = x->line.data ? ical_put_line(x->out, x->line.data, x->line.len) : KX_EINVAL;
  buf_reset(&x->line);
  return rc;
}

static int prop_text(struct render *x, const char *name, const char *text)
{
  int rc = buf_printf(&x->line, "%s:", name);
  if (!rc)
    rc = ical_escape_text(&x->line, text);
  return rc ? rc : flush(x);
}

static int prop_raw(struct render *x, const char *name, const char *value)
{
  int rc = buf_printf(&x->line, "%s:%s", name, value);
  return rc ? rc : flush(x);
}

/* Keeps a UID made of names stable and safe: letters, digits, '.', '_' and '-' only. */
static int put_uid_part(struct buf *b, const char *s)
{
  int rc = 0;
  for (const char *p = s; *p && !rc; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    rc = buf_append(b, ok ? &c : "-", 1);
  }
  return rc;
}

static const char *role_note(enum rota_source src)
{
  switch (src) {
    case ROTA_SRC_OVERRIDE:
      return ", override";
    case ROTA_SRC_COVER:
      return ", covering";
    default:
      return "";
  }
}

/* "On call: Alice (primary), Bob (secondary)" */
static int summary(struct render *x, const struct rota_segment *s, struct buf *t)
{
  int rc = buf_printf(t, "On call: %s (primary%s)",
                      s->primary.person ? display(x->cfg, s->primary.person) : "nobody",
                      role_note(s->primary.source));
  if (!rc && s->secondary.source != ROTA_SRC_NONE)
    rc = buf_printf(t, ", %s (secondary%s)",
                    s->secondary.person ? display(x->cfg, s->secondary.person) : "nobody",
                    role_note(s->secondary.source));
  return rc;
}

static int describe_slot(struct render *x,
                         const char *label,
                         const struct rota_slot *sl,
                         struct buf *t)
{
  const char *sched = sl->scheduled ? display(x->cfg, sl->scheduled) : "nobody";
  switch (sl->source) {
    case ROTA_SRC_SCHEDULE:
      return buf_printf(t, "%s: %s\n", label, display(x->cfg, sl->person));
    case ROTA_SRC_OVERRIDE:
      return buf_printf(t, "%s: %s (override #%lld%s%s)\n", label, display(x->cfg, sl->person),
                        (long long)sl->change_id, sl->scheduled ? ", instead of " : "",
                        sl->scheduled ? sched : "");
    case ROTA_SRC_COVER:
      return buf_printf(t, "%s: %s (covering for %s, who is away)\n", label,
                        display(x->cfg, sl->person), sched);
    case ROTA_SRC_UNCOVERED:
      return buf_printf(t, "%s: nobody (%s is away and nobody could cover)\n", label, sched);
    default:
      return 0;
  }
}

static int description(struct render *x, const struct rota_segment *s, struct buf *t)
{
  int rc = buf_printf(t, "Rota: %s\nShift: #%lld\n", x->r->name ? x->r->name : "",
                      (long long)s->shift_index + 1);
  if (!rc)
    rc = describe_slot(x, "Primary", &s->primary, t);
  if (!rc)
    rc = describe_slot(x, "Secondary", &s->secondary, t);
  if (!rc && s->shadow)
    rc = buf_printf(t, "Shadow: %s\n", display(x->cfg, s->shadow));
  if (!rc && s->manager)
    rc = buf_printf(t, "Manager: %s\n", display(x->cfg, s->manager));
  if (!rc && s->late_handoff) {
    struct kx_local l;
    rc = tz_to_local(rota_zone(x->r), s->nominal_start_ms, &l);
    struct kx_date nominal = {l.y, l.m, l.d};
    if (!rc)
      rc = buf_printf(t, "Handoff moved by %s from %04d-%02d-%02d %02d:%02d (%s)\n",
                      rota_is_holiday(x->r, nominal) ? "a holiday" : "the weekend", l.y, l.m, l.d,
                      l.hh, l.mm, rota_zone(x->r));
  }
  if (!rc && t->len && t->data[t->len - 1] == '\n')
    t->data[--t->len] = '\0';
  return rc;
}

static int event(struct render *x, const struct rota_segment *s, const char *stamp)
{
  char when[24];
  struct buf t;
  buf_init(&t, ICAL_LINE_MAX);
  int rc = prop_raw(x, "BEGIN", "VEVENT");
  /* UID: rota-START-person@klaxon */
  if (!rc)
    rc = buf_puts(&x->line, "UID:");
  if (!rc)
    rc = put_uid_part(&x->line, x->r->name ? x->r->name : "rota");
  if (!rc)
    rc = buf_printf(&x->line, "-%s-", ical_format_utc(s->start_ms, when, sizeof(when)));
  if (!rc)
    rc = put_uid_part(&x->line, s->primary.person ? s->primary.person : "nobody");
  if (!rc)
    rc = buf_puts(&x->line, "@klaxon");
  if (!rc)
    rc = flush(x);
  if (!rc)
    rc = prop_raw(x, "DTSTAMP", stamp);
  if (!rc)
    rc = prop_raw(x, "DTSTART", ical_format_utc(s->start_ms, when, sizeof(when)));
  if (!rc)
    rc = prop_raw(x, "DTEND", ical_format_utc(s->end_ms, when, sizeof(when)));
  if (!rc)
    rc = summary(x, s, &t);
  if (!rc)
    rc = prop_text(x, "SUMMARY", t.data);
  buf_reset(&t);
  if (!rc)
    rc = description(x, s, &t);
  if (!rc)
    rc = prop_text(x, "DESCRIPTION", t.data);
  if (!rc)
    rc = prop_raw(x, "TRANSP", "TRANSPARENT"); /* being on call is not "busy" */
  if (!rc)
    rc = prop_raw(x, "END", "VEVENT");
  buf_free(&t);
  return rc;
}

static int header(struct render *x)
{
  char name[256];
  (void)snprintf(name, sizeof(name), "On call: %s", x->r->name ? x->r->name : "rota");
  int rc = prop_raw(x, "BEGIN", "VCALENDAR");
  if (!rc)
    rc = prop_raw(x, "VERSION", "2.0");
  if (!rc)
    rc = prop_raw(x, "PRODID", "-//klaxon//klaxon " KLAXON_VERSION "//EN");
  if (!rc)
    rc = prop_raw(x, "CALSCALE", "GREGORIAN");
  if (!rc)
    rc = prop_raw(x, "METHOD", "PUBLISH");
  if (!rc)
    rc = prop_text(x, "X-WR-CALNAME", name);
  if (!rc)
    rc = prop_text(x, "X-WR-TIMEZONE", rota_zone(x->r));
  if (!rc)
    rc = prop_raw(x, "X-PUBLISHED-TTL", "PT1H");
  return rc;
}

int ical_render_rota(const struct config *cfg,
                     const struct rota *r,
                     const struct rota_change *changes,
                     size_t n,
                     int64_t from_ms,
                     size_t n_shifts,
                     int64_t now_ms,
                     struct buf *out)
{
  if (!out)
    return KX_EINVAL;
  struct rota_segment *seg = NULL;
  size_t n_seg = 0;
  int rc = rota_schedule(r, changes, n, from_ms, n_shifts, &seg, &n_seg);
  if (rc)
    return rc;
  size_t mark = out->len;
  struct render x = {cfg, r, out, {0}};
  buf_init(&x.line, ICAL_LINE_MAX);
  char stamp[24];
  ical_format_utc(now_ms, stamp, sizeof(stamp));
  rc = header(&x);
  for (size_t i = 0; i < n_seg && !rc; i++)
    rc = event(&x, &seg[i], stamp);
  if (!rc)
    rc = prop_raw(&x, "END", "VCALENDAR");
  buf_free(&x.line);
  rota_segments_free(seg);
  if (rc && out->data) {
    out->len = mark;
    out->data[mark] = '\0';
  }
  return rc;
}
