/* test_ical.c — the rota's iCalendar feed: folding at 75 octets (UTF-8 safe), TEXT escaping,
 * CRLF, stable UIDs, one VEVENT per segment; and the file passes tests/e2e/ical_check.py. */
/* cmocka.h needs these first; keep clang-format from sorting it above them. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
// clang-format on

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands/oncall/ical.h"
#include "lib/kx.h"

#ifndef KLAXON_SRCDIR
#define KLAXON_SRCDIR "."
#endif
#define PYTHON "/usr/bin/python3"
#define CHECKER KLAXON_SRCDIR "/tests/e2e/ical_check.py"

extern char **environ;

static int64_t T(const char *rfc3339)
{
  int64_t ms = 0;
  if (time_parse_rfc3339(rfc3339, &ms) != 0)
    fail_msg("bad instant in the test: %s", rfc3339);
  return ms;
}

/* Every physical line: ends in CRLF, at most 75 octets, no bare CR/LF, and a continuation
 * line never starts with a UTF-8 continuation byte. Returns the number of lines. */
static size_t check_physical(const char *s, size_t len)
{
  size_t lines = 0, start = 0;
  assert_true(len >= 2 && s[len - 2] == '\r' && s[len - 1] == '\n');
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '\r') {
      if (i + 1 >= len || s[i + 1] != '\n')
        fail_msg("bare CR at %zu", i);
      size_t l = i - start;
      if (l > ICAL_FOLD_OCTETS)
        fail_msg("line %zu has %zu octets: %.*s", lines + 1, l, (int)l, s + start);
      if (l > 1 && s[start] == ' ' && ((unsigned char)s[start + 1] & 0xC0) == 0x80)
        fail_msg("line %zu starts inside a UTF-8 sequence", lines + 1);
      if (l > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0xC0)
        fail_msg("line %zu ends with a UTF-8 lead byte", lines + 1);
      lines++;
      start = i + 2;
      i++;
    } else if (s[i] == '\n') {
      fail_msg("bare LF at %zu", i);
    }
  }
  return lines;
}

/* Undo folding: drop every CRLF followed by a space. The caller frees. */
static char *unfold(const char *s)
{
  size_t n = strlen(s);
  char *o = malloc(n + 1), *p = o;
  assert_non_null(o);
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\r' && s[i + 1] == '\n' && s[i + 2] == ' ') {
      i += 2;
      continue;
    }
    *p++ = s[i];
  }
  *p = '\0';
  return o;
}

static size_t count(const char *hay, const char *needle)
{
  size_t n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* ---- folding -------------------------------------------------------------------------- */

static void fold_roundtrip(const char *line)
{
  struct buf b;
  buf_init(&b, 1 << 20);
  assert_int_equal(ical_put_line(&b, line, strlen(line)), 0);
  check_physical(b.data, b.len);
  char *u = unfold(b.data);
  size_t ul = strlen(u);
  assert_true(ul >= 2 && u[ul - 2] == '\r' && u[ul - 1] == '\n');
  u[ul - 2] = '\0';
  assert_string_equal(u, line);
  free(u);
  buf_free(&b);
}

static void test_fold_ascii(void **state)
{
  (void)state;
  char line[300];
  struct buf b;
  buf_init(&b, 4096);
  /* exactly 75 octets: one line */
  memset(line, 'a', 75);
  line[75] = '\0';
  assert_int_equal(ical_put_line(&b, line, 75), 0);
  assert_int_equal(b.len, 77);
  assert_memory_equal(b.data + 75, "\r\n", 2);
  /* 76: 75, then CRLF SPACE and the last one */
  buf_reset(&b);
  line[75] = 'b';
  line[76] = '\0';
  assert_int_equal(ical_put_line(&b, line, 76), 0);
  assert_int_equal(b.len, 75 + 3 + 1 + 2);
  assert_memory_equal(b.data + 74, "a\r\n b\r\n", 7);
  /* 75 + 74 + 74 + 1: continuation lines carry 74 octets after the space */
  buf_reset(&b);
  memset(line, 'c', 224);
  line[224] = '\0';
  assert_int_equal(ical_put_line(&b, line, 224), 0);
  assert_int_equal(check_physical(b.data, b.len), 4);
  assert_int_equal(b.len, 224 + 3 * 3 + 2);
  buf_free(&b);
  fold_roundtrip("");
  fold_roundtrip("SUMMARY:short");
  fold_roundtrip(line);
}

static void test_fold_utf8(void **state)
{
  (void)state;
  /* Every alignment of 2-, 3- and 4-byte characters against the fold points. */
  const char *chars[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x9A\x80"}; /* é € 🚀 */
  char line[600];
  for (size_t c = 0; c < 3; c++) {
    for (size_t pre = 0; pre < 4; pre++) {
      size_t n = 0;
      for (size_t i = 0; i < pre; i++)
        line[n++] = 'x';
      while (n + 4 < 500) {
        memcpy(line + n, chars[c], strlen(chars[c]));
        n += strlen(chars[c]);
      }
      line[n] = '\0';
      fold_roundtrip(line);
    }
  }
  /* One known case: "DESCRIPTION:" (12) + 21 x "€" (63) = 75: fits; one more must move the
   * whole character to the next line, leaving 75 octets on the first. */
  struct buf b;
  buf_init(&b, 4096);
  size_t n = 0;
  memcpy(line, "DESCRIPTION:", 12);
  n = 12;
  for (int i = 0; i < 22; i++, n += 3)
    memcpy(line + n, "\xE2\x82\xAC", 3);
  assert_int_equal(ical_put_line(&b, line, n), 0);
  assert_memory_equal(b.data + 75, "\r\n \xE2\x82\xAC\r\n", 8);
  /* "ab" + 25 x "€" = 77: the cut at 75 would split the 25th euro; it moves to line two. */
  buf_reset(&b);
  memcpy(line, "ab", 2);
  for (int i = 0; i < 25; i++)
    memcpy(line + 2 + 3 * i, "\xE2\x82\xAC", 3);
  assert_int_equal(ical_put_line(&b, line, 77), 0);
  assert_memory_equal(b.data + 74, "\r\n \xE2\x82\xAC\r\n", 8);
  buf_free(&b);
}

/* ---- escaping --------------------------------------------------------------------------- */

static void test_escape_text(void **state)
{
  (void)state;
  struct {
    const char *in, *out;
  } cases[] = {
      {"plain", "plain"},
      {"a,b;c\\d", "a\\,b\\;c\\\\d"},
      {"line1\nline2", "line1\\nline2"},
      {"crlf\r\nend", "crlf\\nend"},
      {"lone\rcr", "lone\\ncr"},
      {"tab\tbell\a", "tab\tbell"},
      {"Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x9A\x80", "Zo\xC3\xAB \xE2\x82\xAC \xF0\x9F\x9A\x80"},
      {"bad\xFFutf8", "bad\xEF\xBF\xBDutf8"},
      {"cut\xE2\x82", "cut\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"overlong\xC0\xAF", "overlong\xEF\xBF\xBD\xEF\xBF\xBD"},
      {"", ""},
  };
  for (size_t i = 0; i < KX_ARRAY_SIZE(cases); i++) {
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(ical_escape_text(&b, cases[i].in), 0);
    assert_string_equal(b.data ? b.data : "", cases[i].out);
    buf_free(&b);
  }
  struct buf b;
  buf_init(&b, 16);
  assert_int_equal(ical_escape_text(&b, NULL), 0);
  assert_int_equal(b.len, 0);
  assert_int_equal(ical_escape_text(&b, "0123456789,0123456789"), KX_ETOOBIG);
  char when[24];
  assert_string_equal(ical_format_utc(T("2026-11-23T08:00:00.999Z"), when, sizeof(when)),
                      "20261123T080000Z");
}

/* ---- rendering ---------------------------------------------------------------------------- */

static char *P4[] = {"alice", "bob", "carol", "dave"};
static char *SHADOW[] = {"sam"};
static struct kx_date HOLIDAYS[] = {{2026, 4, 6}};
static struct person PEOPLE[] = {
    {.id = "alice", .name = "Alice Smith"},
    {.id = "bob", .name = "Bob"},
    {.id = "carol", .name = "Carol, \"the; fixer\""},
    {.id = "dave", .name = NULL},
    {.id = "sam", .name = "Zoë Ünlü-Østergaard 🚀 Ŝamuel Ķalniņš-Þórsdóttir Ωmega Ελληνικά ñandú"},
    {.id = "mia", .name = "Mia Manager"},
};

static struct rota platform(void)
{
  struct rota r = {0};
  r.name = "platform";
  r.timezone = "Europe/Berlin";
  r.handoff_wday = 1;
  r.handoff_minute = 9 * 60;
  r.shift_days = 7;
  r.start = (struct kx_date){2026, 1, 5};
  r.primary = P4;
  r.n_primary = 4;
  r.secondary_mode = SECONDARY_NEXT;
  r.manager = "mia";
  r.shadow = SHADOW;
  r.n_shadow = 1;
  r.holidays = HOLIDAYS;
  r.n_holidays = 1;
  return r;
}

static struct config cfg_with_people(void)
{
  struct config c = {0};
  c.people = PEOPLE;
  c.n_people = KX_ARRAY_SIZE(PEOPLE);
  return c;
}

/* Shift 12 is alice's (30 March), shift 13 bob's, moved to Tuesday 7 April by Easter Monday.
 * alice is away on 1 April, so dave covers her. carol, shift 13's secondary, overrides bob as
 * primary for Wednesday 8 April: for that day she holds both slots (the rules allow it). */
static const struct rota_change *changes(size_t *n)
{
  static struct rota_change ch[2];
  ch[0] = (struct rota_change){ROTA_OVERRIDE, 0, 0, "carol", false, 11};
  ch[0].from_ms = T("2026-04-08T00:00:00+02:00");
  ch[0].to_ms = T("2026-04-09T00:00:00+02:00");
  ch[1] = (struct rota_change){ROTA_ABSENCE, 0, 0, "alice", false, 12};
  ch[1].from_ms = T("2026-04-01T00:00:00+02:00");
  ch[1].to_ms = T("2026-04-02T00:00:00+02:00");
  *n = 2;
  return ch;
}

static char *render(int64_t now, size_t n_shifts, size_t *n_segments)
{
  struct rota r = platform();
  struct config c = cfg_with_people();
  size_t n;
  const struct rota_change *ch = changes(&n);
  struct buf b;
  buf_init(&b, 1 << 20);
  assert_int_equal(ical_render_rota(&c, &r, ch, n, T("2026-03-31T12:00:00Z"), n_shifts, now, &b),
                   0);
  if (n_segments) {
    struct rota_segment *seg;
    assert_int_equal(
        rota_schedule(&r, ch, n, T("2026-03-31T12:00:00Z"), n_shifts, &seg, n_segments), 0);
    rota_segments_free(seg);
  }
  check_physical(b.data, b.len);
  return buf_take(&b);
}

static void test_render_calendar(void **state)
{
  (void)state;
  size_t n_seg;
  char *ics = render(T("2026-03-31T12:34:56Z"), 3, &n_seg);
  char *u = unfold(ics);
  /* Shift 12: alice / cover by dave / alice; shift 13: bob / carol / bob; shift 14. */
  assert_int_equal(n_seg, 7);
  assert_int_equal(count(u, "\r\nBEGIN:VEVENT\r\n"), n_seg);
  assert_int_equal(count(u, "\r\nEND:VEVENT\r\n"), n_seg);
  assert_true(strncmp(u, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//klaxon//klaxon ", 54) == 0);
  assert_non_null(strstr(u, "\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n"));
  assert_non_null(strstr(u, "\r\nX-WR-CALNAME:On call: platform\r\n"));
  assert_non_null(strstr(u, "\r\nX-WR-TIMEZONE:Europe/Berlin\r\n"));
  assert_int_equal(count(u, "\r\nDTSTAMP:20260331T123456Z\r\n"), n_seg);
  size_t ul = strlen(u);
  assert_true(ul > 15 && strcmp(u + ul - 15, "END:VCALENDAR\r\n") == 0);
  /* The first event, whole. */
  const char *first =
      "BEGIN:VEVENT\r\n"
      "UID:platform-20260330T070000Z-alice@klaxon\r\n"
      "DTSTAMP:20260331T123456Z\r\n"
      "DTSTART:20260330T070000Z\r\n"
      "DTEND:20260331T220000Z\r\n"
      "SUMMARY:On call: Alice Smith (primary)\\, Bob (secondary)\r\n"
      "DESCRIPTION:Rota: platform\\nShift: #13\\nPrimary: Alice Smith\\nSecondary: Bob\\n"
      "Shadow: Zoë Ünlü-Østergaard 🚀 Ŝamuel Ķalniņš-Þórsdóttir Ωmega Ελληνικά ñandú\\n"
      "Manager: Mia Manager\r\n"
      "TRANSP:TRANSPARENT\r\n"
      "END:VEVENT\r\n";
  const char *at = strstr(u, "BEGIN:VEVENT\r\n");
  assert_non_null(at);
  assert_memory_equal(at, first, strlen(first));
  /* The cover segment, the override segment and the moved handoff say so. */
  assert_non_null(strstr(u, "UID:platform-20260331T220000Z-dave@klaxon\r\n"));
  assert_non_null(strstr(u, "SUMMARY:On call: dave (primary\\, covering)\\, Bob (secondary)\r\n"));
  assert_non_null(strstr(u, "Primary: dave (covering for Alice Smith\\, who is away)"));
  assert_non_null(strstr(u, "UID:platform-20260407T220000Z-carol@klaxon\r\n"));
  assert_non_null(strstr(u,
                         "SUMMARY:On call: Carol\\, \"the\\; fixer\" (primary\\, override)\\, "
                         "Carol\\, \"the\\; fixer\" (secondary)\r\n"));
  assert_non_null(strstr(u, "Primary: Carol\\, \"the\\; fixer\" (override #11\\, instead of Bob)"));
  assert_non_null(strstr(u,
                         "UID:platform-20260407T070000Z-bob@klaxon\r\nDTSTAMP:20260331T123456Z"
                         "\r\nDTSTART:20260407T070000Z\r\nDTEND:20260407T220000Z\r\n"));
  assert_non_null(strstr(u, "Handoff moved by a holiday from 2026-04-06 09:00 (Europe/Berlin)"));
  /* Folding happened (the shadow's name is long) and unfolding restores it. */
  assert_true(count(ics, "\r\n ") > 0);
  free(u);
  free(ics);
}

static char *uids(const char *ics)
{
  char *u = unfold(ics);
  struct buf b;
  buf_init(&b, 1 << 16);
  for (const char *p = strstr(u, "\r\nUID:"); p; p = strstr(p + 1, "\r\nUID:")) {
    const char *e = strstr(p + 2, "\r\n");
    assert_int_equal(buf_append(&b, p + 2, (size_t)(e - p - 2)), 0);
    assert_int_equal(buf_puts(&b, "\n"), 0);
  }
  free(u);
  return buf_take(&b);
}

static void test_uids_stable(void **state)
{
  (void)state;
  char *a = render(T("2026-03-31T12:00:00Z"), 5, NULL);
  char *b = render(T("2026-04-02T08:15:00Z"), 5, NULL);
  assert_string_not_equal(a, b); /* DTSTAMP differs */
  char *ua = uids(a), *ub = uids(b);
  assert_string_equal(ua, ub);
  /* unique within the feed */
  for (char *line = ua; *line;) {
    char *nl = strchr(line, '\n');
    *nl = '\0';
    assert_int_equal(count(ub, line), 1);
    line = nl + 1;
  }
  free(ua);
  free(ub);
  free(a);
  free(b);
}

static void test_render_errors(void **state)
{
  (void)state;
  struct rota r = platform();
  struct buf b;
  buf_init(&b, 1 << 20);
  assert_int_equal(buf_puts(&b, "kept"), 0);
  r.timezone = "Nowhere/Atlantis";
  assert_int_equal(ical_render_rota(NULL, &r, NULL, 0, T("2026-04-01T00:00:00Z"), 2, 0, &b),
                   KX_ECONFIG);
  assert_string_equal(b.data, "kept");
  r = platform();
  assert_int_equal(ical_render_rota(NULL, &r, NULL, 0, T("2026-04-01T00:00:00Z"),
                                    ROTA_MAX_SCHEDULE_SHIFTS + 1, 0, &b),
                   KX_ETOOBIG);
  assert_int_equal(ical_render_rota(NULL, &r, NULL, 0, T("2026-04-01T00:00:00Z"), 2, 0, NULL),
                   KX_EINVAL);
  /* No config: ids are the names. Zero shifts: a calendar without events. */
  buf_reset(&b);
  assert_int_equal(ical_render_rota(NULL, &r, NULL, 0, T("2026-04-01T00:00:00Z"), 1, 0, &b), 0);
  assert_non_null(strstr(b.data, "SUMMARY:On call: alice (primary)\\, bob (secondary)\r\n"));
  buf_reset(&b);
  assert_int_equal(ical_render_rota(NULL, &r, NULL, 0, T("2026-04-01T00:00:00Z"), 0, 0, &b), 0);
  assert_int_equal(count(b.data, "BEGIN:VEVENT"), 0);
  assert_non_null(strstr(b.data, "END:VCALENDAR\r\n"));
  buf_free(&b);
  /* The cap is honoured. */
  struct buf small;
  buf_init(&small, 300);
  assert_int_equal(ical_render_rota(NULL, &r, NULL, 0, T("2026-04-01T00:00:00Z"), 4, 0, &small),
                   KX_ETOOBIG);
  buf_free(&small);
}

/* ---- the checker, on a real file ---------------------------------------------------------- */

static int run_checker(const char *path, const char *events)
{
  char *argv[] = {PYTHON, CHECKER, (char *)path, "--events", (char *)events, NULL};
  pid_t pid;
  if (posix_spawn(&pid, PYTHON, NULL, NULL, argv, environ) != 0)
    return -1;
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

static void write_file(const char *path, const char *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
}

static void test_checker_on_file(void **state)
{
  (void)state;
  if (access(PYTHON, X_OK) != 0 || access(CHECKER, R_OK) != 0) {
    print_message("no %s or %s: skipped\n", PYTHON, CHECKER);
    skip();
  }
  size_t n_seg;
  char *ics = render(T("2026-03-31T12:00:00Z"), 6, &n_seg);
  /* ICAL_OUT=FILE keeps the calendar for a look (see the report); else a temporary file. */
  const char *keep = getenv("ICAL_OUT");
  char path[] = "/tmp/klaxon-ical-XXXXXX.ics";
  if (keep) {
    snprintf(path, sizeof(path), "%s", keep);
  } else {
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    close(fd);
  }
  write_file(path, ics, strlen(ics));
  char events[16];
  snprintf(events, sizeof(events), "%zu", n_seg);
  assert_int_equal(run_checker(path, events), 0);
  assert_int_equal(run_checker(path, "1"), 1); /* the checker can say no */
  /* LF line ends must be refused. */
  char *lf = strdup(ics);
  size_t j = 0;
  for (size_t i = 0; lf[i]; i++)
    if (lf[i] != '\r')
      lf[j++] = lf[i];
  write_file(path, lf, j);
  assert_int_equal(run_checker(path, events), 1);
  /* A line over 75 octets must be refused. */
  char *u = unfold(ics);
  write_file(path, u, strlen(u));
  assert_int_equal(run_checker(path, events), 1);
  if (!keep) {
    unlink(path);
  } else {
    write_file(path, ics, strlen(ics));
  }
  free(u);
  free(lf);
  free(ics);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fold_ascii),      cmocka_unit_test(test_fold_utf8),
      cmocka_unit_test(test_escape_text),     cmocka_unit_test(test_render_calendar),
      cmocka_unit_test(test_uids_stable),     cmocka_unit_test(test_render_errors),
      cmocka_unit_test(test_checker_on_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
