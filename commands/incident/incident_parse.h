/*
 * incident_parse.h — the pure parts of `/incident`: reading `declare`'s words (options, the
 * severity, the title), turning what Slack sends (mrkdwn with <@U…> mentions and &amp;
 * escapes) into plain text, and reading the times people type. No database, no clock: the
 * caller passes the config and `now`, so these are unit-tested on their own.
 */
#ifndef KX_INCIDENT_PARSE_H
#define KX_INCIDENT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "commands/core/command.h"
#include "commands/core/config.h"
#include "lib/buf.h"

struct incident_declare_args {
  bool drill;
  const struct severity *severity; /* NULL: not given (the default applies) */
  const char *rota;                /* points into the args; NULL: not given */
  char *title;                     /* raw (still Slack-escaped) text, malloc'd; NULL: none,
                                      so the modal opens */
};

/* `declare [--drill] [--rota R] [SEV] TITLE`, its options already taken out of args by the
 * dispatcher (cmd_opts_split with the row). The severity is the first word after the
 * options when it names a configured severity (any case) and is not quoted; the title is the
 * rest as typed (a title that is one quoted string loses its quotes). 0, or KX_EINVAL with a
 * sentence (markup) in `err`. */
int incident_parse_declare(const struct config *c,
                           const struct cmd_args *args,
                           struct incident_declare_args *out,
                           struct buf *err);
void incident_declare_args_free(struct incident_declare_args *a);

/* incident_plain reads at most this many bytes of its input (Slack messages can be 40,000
 * characters; the timeline keeps 4,000). */
#define INCIDENT_PLAIN_MAX_IN ((size_t)16 * 1024)

/* A display name for a platform user id, or NULL (then the id is shown). */
typedef const char *(*incident_name_fn)(void *arg, const char *user_id);

/* Slack's text to plain text: <@U1|bob> and <@U1> to "@bob" (the name through name_of),
 * <#C1|ops> to "#ops", <!channel> to "@channel", <!subteam^S1|@team> to "@team",
 * <https://x|label> to "label (https://x)", &amp; &lt; &gt; decoded, control characters
 * dropped; with single_line, newlines and tabs become spaces. Leading and trailing blanks
 * are trimmed. NULL only when out of memory. */
char *incident_plain(const char *slack_text, incident_name_fn name_of, void *arg, bool single_line);

/* Text typed into a modal's plain-text input (not escaped by Slack): control characters
 * dropped (newlines kept unless single_line), blanks trimmed. NULL only when out of memory. */
char *incident_clean(const char *text, bool single_line);

/* Cut a plain text at `max` bytes without splitting a UTF-8 sequence (in place); true when
 * it was cut. */
bool incident_cut(char *s, size_t max);

/* A time people type, in `zone`: RFC 3339 ("2026-11-24T09:40:00Z"), "2026-11-24 09:40",
 * "09:40" (today, or yesterday when that is still to come), "now", "-45m" / "45m ago" /
 * "1h30m ago". 0 or KX_EINVAL. */
int incident_parse_time(const char *zone, const char *text, int64_t now_ms, int64_t *out_ms);

/* incident-YYYYMMDD for the date of `at_ms` in `zone`; out >= 32 bytes. */
int incident_channel_base(const char *zone, int64_t at_ms, char *out, size_t size);

#endif
