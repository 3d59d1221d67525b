/*
 * config_values.c — what a config value must look like: Slack and Teams ids, URLs, email
 * addresses, listen addresses, environment variable names, times of day. Pure checks on
 * text; the loader reports a failed check with the value's line.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/config/config_load_internal.h"
#include "lib/timeutil.h"

bool cfg_parse_hhmm(const char *s, size_t len, bool allow_24, int *minutes)
{
  if (len != 4 && len != 5)
    return false;
  size_t hl = len - 3;
  if (s[hl] != ':')
    return false;
  for (size_t i = 0; i < len; i++)
    if (i != hl && !isdigit((unsigned char)s[i]))
      return false;
  int h = hl == 1 ? s[0] - '0' : (s[0] - '0') * 10 + (s[1] - '0');
  int m = (s[hl + 1] - '0') * 10 + (s[hl + 2] - '0');
  if (m > 59 || h > 24 || (h == 24 && (!allow_24 || m != 0)))
    return false;
  *minutes = h * 60 + m;
  return true;
}

static bool all_chars(const char *s, const char *extra, bool lower, bool upper, bool digit)
{
  if (!*s)
    return false;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    bool ok = (lower && islower(*p)) || (upper && isupper(*p)) || (digit && isdigit(*p)) ||
              (extra && *p < 0x80 && strchr(extra, *p));
    if (!ok)
      return false;
  }
  return true;
}

static bool slack_id(const char *s, const char *first)
{
  return strlen(s) >= 3 && strlen(s) <= 32 && strchr(first, s[0]) &&
         all_chars(s + 1, NULL, false, true, true);
}

static bool is_channel(const char *s)
{
  return slack_id(s, "CGD");
}

static bool is_usergroup(const char *s)
{
  return slack_id(s, "S");
}

static bool is_slack_user(const char *s)
{
  return slack_id(s, "UW");
}

static bool is_tz(const char *s)
{
  return tz_valid(s) != 0;
}

static bool is_email(const char *s)
{
  const char *at = strchr(s, '@');
  if (!at || at == s || !at[1] || strchr(at + 1, '@'))
    return false;
  for (const char *p = s; *p; p++)
    if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
      return false;
  return strchr(at + 1, '.') != NULL || strcmp(at + 1, "localhost") == 0;
}

static bool is_env(const char *s)
{
  return !isdigit((unsigned char)s[0]) && strlen(s) <= 128 && all_chars(s, "_", true, true, true);
}

static bool is_hostname(const char *s, size_t len)
{
  if (len == 0 || len > 253 || s[0] == '-' || s[0] == '.')
    return false;
  for (size_t i = 0; i < len; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
      return false;
  return true;
}

/* "scheme://host[:port][/…]" with one of the given schemes; no spaces or control characters. */
static bool url_with(const char *s, const char *const *schemes)
{
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p <= 0x20 || *p == 0x7f)
      return false;
  for (size_t i = 0; schemes[i]; i++) {
    size_t n = strlen(schemes[i]);
    if (strncasecmp(s, schemes[i], n) != 0)
      continue;
    const char *host = s + n, *end = host + strcspn(host, "/?#");
    const char *colon = memchr(host, ':', (size_t)(end - host));
    if (host[0] == '[')
      return strchr(host, ']') != NULL; /* an IPv6 literal */
    return is_hostname(host, (size_t)((colon ? colon : end) - host));
  }
  return false;
}

static bool is_url(const char *s)
{
  static const char *const schemes[] = {"http://", "https://", NULL};
  return url_with(s, schemes);
}

static bool is_smtp_url(const char *s)
{
  static const char *const schemes[] = {"smtp://", "smtps://", NULL};
  return url_with(s, schemes);
}

static bool is_person_id(const char *s)
{
  return strlen(s) <= 64 && all_chars(s, "_.-", true, false, true);
}

static bool is_rota_name(const char *s)
{
  return strlen(s) <= 64 && all_chars(s, "_-", true, false, true);
}

/* host:port with an IPv4 address, a [bracketed] IPv6 address or a name; port 1-65535. */
static bool is_listen(const char *s)
{
  const char *colon = strrchr(s, ':');
  char host[256];
  if (!colon || !colon[1] || strlen(colon + 1) > 5 || !all_chars(colon + 1, NULL, 0, 0, true))
    return false;
  long port = strtol(colon + 1, NULL, 10);
  size_t hl = (size_t)(colon - s);
  if (port < 1 || port > 65535 || hl == 0 || hl >= sizeof(host))
    return false;
  memcpy(host, s, hl);
  host[hl] = '\0';
  unsigned char addr[16];
  if (host[0] == '[') {
    if (hl < 3 || host[hl - 1] != ']')
      return false;
    host[hl - 1] = '\0';
    return inet_pton(AF_INET6, host + 1, addr) == 1;
  }
  if (all_chars(host, ".", false, false, true))
    return inet_pton(AF_INET, host, addr) == 1;
  return is_hostname(host, hl);
}

/* "19:…@thread.tacv2" / "@thread.skype": a Teams channel's conversation id. */
static bool is_teams_channel(const char *s)
{
  return strncmp(s, "19:", 3) == 0 && strstr(s, "@thread.") != NULL && !strpbrk(s, " \t\r\n");
}

static bool is_guid(const char *s)
{
  if (strlen(s) != 36)
    return false;
  for (int i = 0; i < 36; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
      return false;
  }
  return true;
}

const struct cfg_check
    CFG_TIMEZONE = {is_tz, "a known time zone (an IANA name like Europe/Berlin or UTC)", false},
    CFG_CHANNEL = {is_channel,
                   "a Slack channel id (C, G or D and capitals or digits, like C0INCIDENT; the id, "
                   "not the #name)",
                   false},
    CFG_USERGROUP = {is_usergroup,
                     "a Slack user group id (S and capitals or digits, like S0PLATFORM)", false},
    CFG_SLACK_USER = {is_slack_user,
                      "a Slack user id (U or W and capitals or digits, like U0ALICE001)", false},
    CFG_EMAIL = {is_email, "an email address", false},
    CFG_ENV = {is_env,
               "an environment variable name (write the variable's name, like SLACK_BOT_TOKEN, "
               "never the secret itself)",
               true},
    CFG_URL = {is_url, "an http:// or https:// URL", false},
    CFG_SMTP_URL = {is_smtp_url, "an smtp:// or smtps:// URL (like smtp://mail.example.com:587)",
                    false},
    CFG_PERSON_ID = {is_person_id, "a valid person id (a-z, 0-9, _ . -; at most 64)", false},
    CFG_ROTA_NAME = {is_rota_name,
                     "a valid rota name (a-z, 0-9, _ -; at most 64; it is used in URLs)", false},
    CFG_LISTEN = {is_listen, "host:port (like 127.0.0.1:8080, [::1]:8080 or localhost:8080)",
                  false},
    CFG_TEAMS_CHANNEL = {is_teams_channel, "a Teams channel id (like 19:abc…@thread.tacv2)", false},
    CFG_GUID = {is_guid, "a GUID (like 00000000-0000-0000-0000-000000000000)", false};
