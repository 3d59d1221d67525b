/*
 * ical.h — the iCalendar (RFC 5545) feed of one rota: a VCALENDAR with one VEVENT per
 * schedule segment (rota_schedule), overrides, absences and holidays applied. Pure: the
 * schedule's window and "now" (DTSTAMP) are arguments.
 *
 * Output goes into a struct buf the caller owns and initialised with its cap (buf_init); the
 * text is appended. Every line ends in CRLF and is folded at 75 octets, never inside a UTF-8
 * sequence. Times are UTC (DTSTART:20261123T080000Z), so no VTIMEZONE is shipped; calendar
 * clients show them in the reader's zone. X-WR-TIMEZONE names the rota's zone for clients
 * that use it. UIDs are stable across exports: rota name, segment start and the segment's
 * primary person (`platform-20261123T080000Z-alice@klaxon`), so re-importing updates events
 * instead of duplicating them.
 *
 * Errors: 0, or a negative KX_E* code: those of rota_schedule (KX_ECONFIG, KX_EINVAL,
 * KX_ETOOBIG, KX_ENOMEM), and KX_ETOOBIG when the buffer's cap is reached (buf frees its
 * contents then, see buf.h). On any other error the buffer is put back to its length on entry.
 */
#ifndef KX_ICAL_H
#define KX_ICAL_H

#include <stddef.h>
#include <stdint.h>

#include "commands/core/config.h"
#include "commands/oncall/rota.h"
#include "lib/buf.h"

#define ICAL_FOLD_OCTETS 75 /* longest physical line, CRLF not counted (RFC 5545 3.1) */
#define ICAL_LINE_MAX ((size_t)64 * 1024) /* longest unfolded content line we build */

/* cfg (may be NULL) gives display names: person->name, else the id. r is the rota to render;
 * changes/n as for rota_schedule; from_ms and n_shifts choose the window (whole shifts from
 * the one containing from_ms); now_ms stamps DTSTAMP. */
int ical_render_rota(const struct config *cfg,
                     const struct rota *r,
                     const struct rota_change *changes,
                     size_t n,
                     int64_t from_ms,
                     size_t n_shifts,
                     int64_t now_ms,
                     struct buf *out);

/* Building blocks, public for tests and for other feeds. */
/* Appends s escaped as an RFC 5545 TEXT value: backslash, semicolon, comma and newline
 * escaped; a CR before a LF dropped, a lone CR made a newline; control characters other than
 * TAB dropped; bytes that are not UTF-8 replaced by U+FFFD. NULL appends nothing. */
int ical_escape_text(struct buf *out, const char *s);
/* Appends one content line (len bytes, no CRLF in it), folded: at most 75 octets per
 * physical line, continuation lines begin with one space, each line ends with CRLF. */
int ical_put_line(struct buf *out, const char *line, size_t len);
/* "20261123T080000Z" (seconds precision, milliseconds dropped). buf >= 17. */
const char *ical_format_utc(int64_t ms, char *buf, size_t size);

#endif
