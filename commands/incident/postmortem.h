/*
 * postmortem.h — the blameless postmortem draft of an incident, in Markdown: title, severity
 * history, the impact start, detection, acknowledgement and resolution times with TTD, TTA and
 * TTR, roles, participants, key events, the full timeline with local and UTC times, sections
 * for Impact, Root cause, What went well, What went wrong and Lessons learned, and the action
 * items. It is built from the database each time it is asked for, so it always has the latest
 * timeline and action items.
 *
 * A team's own template (config `postmortem.template`) replaces the built-in layout: the
 * caller (bot/, which may read files) passes its text. Placeholders are {{name}}; the names are
 * listed in docs/incidents.md and by postmortem_placeholders. Unknown placeholders are left as
 * they are, so a typo shows in the result. Everything people typed is escaped for Markdown.
 */
#ifndef KX_POSTMORTEM_H
#define KX_POSTMORTEM_H

#include <stddef.h>
#include <stdint.h>

#include "commands/core/command.h"
#include "lib/buf.h"

/* The largest template accepted (bytes), and the largest draft produced. */
#define POSTMORTEM_TEMPLATE_MAX ((size_t)256 * 1024)
#define POSTMORTEM_MAX ((size_t)4 * 1024 * 1024)

/* The draft of incident `id` into out (initialised by the callee with the cap above).
 * template_text NULL: the built-in layout. KX_ENOTFOUND for an unknown incident. */
int postmortem_render(struct cmd_ctx *ctx, int64_t id, const char *template_text, struct buf *out);

/* Fill {{name}} placeholders of `tmpl` from `value(arg, name)` (NULL: leave it as written). */
int postmortem_fill(const char *tmpl,
                    const char *(*value)(void *arg, const char *name),
                    void *arg,
                    struct buf *out);

/* The placeholder names, NULL-terminated. */
extern const char *const postmortem_placeholders[];

/* Markdown-escape plain text people typed (HTML's < and >, and the characters that would make
 * emphasis, code, links or tables). */
int postmortem_md_text(struct buf *b, const char *text);

/* The draft's Markdown (its own subset: headings, "- " lists, tables, "> " quotes, **bold**,
 * backslash escapes, &lt; &gt;) as Confluence storage format (XHTML) appended to out; all other
 * text is XML-escaped, so only these tags can appear: h1-h6 p br ul li table tbody tr th td
 * blockquote strong (postmortem_export.c, issue 14). */
int postmortem_storage(const char *md, struct buf *out);

#endif
