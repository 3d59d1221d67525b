/*
 * log.h — one line per event: time, level, module, event, then key=value fields.
 *
 *   LOG_INFO("slack", "connected", "num_connections=%d", n);
 *   -> 2026-11-24T15:00:00.123Z INFO slack connected num_connections=1
 *
 * With log_set_format(LOG_FORMAT_JSON) the same call prints
 *   {"ts":"…","level":"info","module":"slack","event":"connected","num_connections":"1"}
 * Field values containing spaces must be double-quoted by the caller (log_quote helps).
 * The level is checked before anything is formatted. Every line passes through a redactor
 * that blanks Slack tokens (xox?-, xapp-), `ticket=` values and `Bearer` credentials, so a
 * secret that reaches a log call by accident is still not written.
 * Lines go to stderr (or the file given to log_set_output); no allocation on the hot path.
 */
#ifndef KX_LOG_H
#define KX_LOG_H

#include <stdio.h>

enum log_level {
  LOG_LEVEL_DEBUG = 0,
  LOG_LEVEL_INFO,
  LOG_LEVEL_WARN,
  LOG_LEVEL_ERROR,
  LOG_LEVEL_OFF
};

enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };

extern enum log_level log_threshold;

void log_set_level(enum log_level level);
int log_parse_level(const char *name, enum log_level *out); /* 0 or KX_EINVAL */
void log_set_format(enum log_format format);
void log_set_output(FILE *f);

void log_emit(enum log_level level, const char *module, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Copy s into buf as a double-quoted, escaped token suitable for a field value. */
const char *log_quote(char *buf, size_t size, const char *s);

/* Overwrite secrets in a NUL-terminated buffer in place (exposed for tests). */
void log_redact(char *line);

#define LOG_AT(level, module, event, ...)          \
  do {                                             \
    if ((level) >= log_threshold)                  \
      log_emit(level, module, event, __VA_ARGS__); \
  } while (0)

#define LOG_DEBUG(module, event, ...) LOG_AT(LOG_LEVEL_DEBUG, module, event, __VA_ARGS__)
#define LOG_INFO(module, event, ...) LOG_AT(LOG_LEVEL_INFO, module, event, __VA_ARGS__)
#define LOG_WARN(module, event, ...) LOG_AT(LOG_LEVEL_WARN, module, event, __VA_ARGS__)
#define LOG_ERROR(module, event, ...) LOG_AT(LOG_LEVEL_ERROR, module, event, __VA_ARGS__)

#endif
