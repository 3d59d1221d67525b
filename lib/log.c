#include "lib/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/kx.h"

enum log_level log_threshold = LOG_LEVEL_INFO;
static enum log_format format = LOG_FORMAT_TEXT;
static FILE *out;
static long long (*clock_fn)(void);

/* A log line is capped; longer lines are cut, never allocated. */
#define LOG_LINE_MAX 4096

/* Repeated lines: at most LOG_BURST lines of one module and event per second (real time); the
 * rest are counted and reported in one line when the next second's first line of that event
 * comes. 2,000 idle connections once wrote a million `accept` lines in ten seconds. */
#define LOG_BURST 20
#define LOG_KEYS 32

struct log_key {
  char module[24], event[40];
  long long window; /* the real second it counts */
  unsigned lines, suppressed;
};
static struct log_key keys[LOG_KEYS];
static pthread_mutex_t keys_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether to write this line; *dropped is set to how many lines of this event were suppressed
 * in its previous window, to be reported now. */
static bool admit(const char *module, const char *event, unsigned *dropped)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  long long now = (long long)ts.tv_sec;
  *dropped = 0;
  pthread_mutex_lock(&keys_lock);
  struct log_key *k = NULL, *oldest = &keys[0];
  for (size_t i = 0; i < LOG_KEYS && !k; i++) {
    if (strncmp(keys[i].module, module, sizeof(keys[i].module) - 1) == 0 &&
        strncmp(keys[i].event, event, sizeof(keys[i].event) - 1) == 0)
      k = &keys[i];
    else if (keys[i].window < oldest->window)
      oldest = &keys[i];
  }
  if (!k) {
    k = oldest;
    memset(k, 0, sizeof(*k));
    snprintf(k->module, sizeof(k->module), "%s", module);
    snprintf(k->event, sizeof(k->event), "%s", event);
    k->window = now;
  }
  if (k->window != now) {
    *dropped = k->suppressed;
    k->window = now;
    k->lines = k->suppressed = 0;
  }
  bool ok = ++k->lines <= LOG_BURST;
  if (!ok)
    k->suppressed++;
  pthread_mutex_unlock(&keys_lock);
  return ok;
}

void log_set_level(enum log_level level)
{
  log_threshold = level;
}

int log_parse_level(const char *name, enum log_level *level)
{
  static const char *names[] = {"debug", "info", "warn", "error", "off"};
  for (size_t i = 0; i < KX_ARRAY_SIZE(names); i++) {
    if (name && strcasecmp(name, names[i]) == 0) {
      *level = (enum log_level)i;
      return 0;
    }
  }
  return KX_EINVAL;
}

void log_set_format(enum log_format f)
{
  format = f;
}

void log_set_output(FILE *f)
{
  out = f;
}

const char *log_quote(char *buf, size_t size, const char *s)
{
  size_t o = 0;
  if (size < 3)
    return "\"\"";
  buf[o++] = '"';
  for (; s && *s && o + 3 < size; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)c;
    } else if (c < 0x20) {
      buf[o++] = ' ';
    } else {
      buf[o++] = (char)c;
    }
  }
  buf[o++] = '"';
  buf[o] = '\0';
  return buf;
}

static void blank_after(char *p, size_t skip)
{
  p += skip;
  while (*p && *p != ' ' && *p != '"' && *p != '&' && *p != ',' && *p != '\'')
    *p++ = '*';
}

void log_redact(char *line)
{
  static const char *prefixes[] = {"xoxb-",   "xoxp-", "xoxa-",         "xoxo-",   "xoxs-",
                                   "xoxr-",   "xoxe-", "xapp-",         "ticket=", "Bearer ",
                                   "bearer ", "HMAC ", "client_secret="};
  for (size_t i = 0; i < KX_ARRAY_SIZE(prefixes); i++) {
    size_t n = strlen(prefixes[i]);
    for (char *p = strstr(line, prefixes[i]); p; p = strstr(p + n, prefixes[i]))
      blank_after(p, n);
  }
}

static void utc_stamp(char *buf, size_t size)
{
  long long ms;
  if (clock_fn) {
    ms = clock_fn();
  } else {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  }
  time_t secs = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, size - n, ".%03lldZ", ms % 1000);
}

/* Append `s` to buf as a JSON string body (without quotes). */
static size_t json_append(char *buf, size_t o, size_t size, const char *s, size_t len)
{
  for (size_t i = 0; i < len && o + 7 < size; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)c;
    } else if (c < 0x20) {
      o += (size_t)snprintf(buf + o, size - o, "\\u%04x", c);
    } else {
      buf[o++] = (char)c;
    }
  }
  return o;
}

/* Turn `k=v k2="v 2"` into JSON members appended to buf. */
static size_t fields_to_json(char *buf, size_t o, size_t size, const char *f)
{
  while (*f && o + 16 < size) {
    while (*f == ' ')
      f++;
    const char *eq = strchr(f, '=');
    if (!*f || !eq)
      break;
    const char *key = f;
    size_t klen = (size_t)(eq - f);
    const char *v = eq + 1;
    const char *vend;
    int quoted = (*v == '"');
    if (quoted) {
      v++;
      vend = v;
      while (*vend && *vend != '"')
        vend += (*vend == '\\' && vend[1]) ? 2 : 1;
    } else {
      vend = strchr(v, ' ');
      if (!vend)
        vend = v + strlen(v);
    }
    buf[o++] = ',';
    buf[o++] = '"';
    o = json_append(buf, o, size, key, klen);
    buf[o++] = '"';
    buf[o++] = ':';
    buf[o++] = '"';
    if (quoted) {
      /* The value is already escaped the way JSON wants (\" and \\). */
      size_t n = (size_t)(vend - v);
      if (o + n + 4 < size) {
        memcpy(buf + o, v, n);
        o += n;
      }
    } else {
      o = json_append(buf, o, size, v, (size_t)(vend - v));
    }
    buf[o++] = '"';
    f = (*vend == '"') ? vend + 1 : vend;
  }
  return o;
}

/* Control characters (CR, LF, ESC … and DEL) in a formatted line become \xNN, in place within
 * size: whatever a field carries (a JWT kid, a header, a user's text) cannot start a line of its
 * own or drive a terminal. Done here, in the writer, so no call site can forget it. */
static void escape_controls(char *s, size_t size)
{
  size_t n = strlen(s), extra = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f)
      extra += 3;
  }
  if (extra == 0)
    return;
  /* Drop what would no longer fit, at a whole character, before expanding from the end. */
  while (n + extra >= size && n > 0) {
    unsigned char c = (unsigned char)s[--n];
    if (c < 0x20 || c == 0x7f)
      extra -= 3;
  }
  if (n + extra >= size) { /* cannot happen (extra counts only what is left); for the compiler */
    s[0] = '\0';
    return;
  }
  s[n + extra] = '\0';
  for (size_t i = n, o = n + extra; i-- > 0;) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f) {
      static const char hex[] = "0123456789abcdef";
      s[--o] = hex[c & 15];
      s[--o] = hex[c >> 4];
      s[--o] = 'x';
      s[--o] = '\\';
    } else {
      s[--o] = (char)c;
    }
  }
}

void log_emit(enum log_level level, const char *module, const char *event, const char *fmt, ...)
{
  static const char *upper[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};
  static const char *lower[] = {"debug", "info", "warn", "error", "off"};
  char stamp[40], fields[LOG_LINE_MAX], line[LOG_LINE_MAX + 256];
  unsigned dropped = 0;
  if (!admit(module, event, &dropped))
    return;
  if (dropped)
    log_emit(LOG_LEVEL_WARN, "log", "suppressed", "module=%s event=%s lines=%u", module, event,
             dropped);
  fields[0] = '\0';
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fields, sizeof(fields), fmt, ap);
    va_end(ap);
    escape_controls(fields, sizeof(fields));
  }
  utc_stamp(stamp, sizeof(stamp));
  size_t o;
  if (format == LOG_FORMAT_JSON) {
    o = (size_t)snprintf(line, sizeof(line),
                         "{\"ts\":\"%s\",\"level\":\"%s\",\"module\":\"%s\",\"event\":\"", stamp,
                         lower[level], module);
    o = json_append(line, o, sizeof(line), event, strlen(event));
    line[o++] = '"';
    o = fields_to_json(line, o, sizeof(line) - 4, fields);
    line[o++] = '}';
    line[o] = '\0';
  } else {
    snprintf(line, sizeof(line), "%s %s %s %s%s%s", stamp, upper[level], module, event,
             fields[0] ? " " : "", fields);
  }
  log_redact(line);
  FILE *f = out ? out : stderr;
  fputs(line, f);
  fputc('\n', f);
  fflush(f);
}
