#include "commands/home/home_state.h"

#include <ctype.h>
#include <string.h>

#include "commands/core/msg.h"
#include "lib/kx.h"

static const cJSON *item(const cJSON *o, const char *key)
{
  return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

static const char *string(const cJSON *v)
{
  if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > HOME_FIELD_MAX)
    return NULL;
  return v->valuestring;
}

const char *home_state_get(const cJSON *payload, const char *block)
{
  const cJSON *values = item(item(item(payload, "view"), "state"), "values");
  const cJSON *entry = item(item(values, block), block);
  if (!cJSON_IsObject(entry))
    return NULL;
  static const char *const keys[] = {"value", "selected_user", "selected_date",
                                     "selected_conversation", "selected_channel"};
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    const char *s = string(item(entry, keys[i]));
    if (s)
      return s;
  }
  return string(item(item(entry, "selected_option"), "value"));
}

const char *home_state_data(const cJSON *data, const char *field)
{
  return string(item(data, field));
}

const char *home_state_callback(const cJSON *payload)
{
  return string(item(item(payload, "view"), "callback_id"));
}

const char *home_state_metadata(const cJSON *payload)
{
  return string(item(item(payload, "view"), "private_metadata"));
}

bool home_state_date_ok(const char *s)
{
  if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
    return false;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
      return false;
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  int m = (s[5] - '0') * 10 + (s[6] - '0');
  int d = (s[8] - '0') * 10 + (s[9] - '0');
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || m < 1 || m > 12 || d < 1)
    return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= days[m - 1] + (m == 2 && leap);
}

bool home_state_user_ok(const char *s)
{
  if (!s || (s[0] != 'U' && s[0] != 'W'))
    return false;
  size_t n = strlen(s);
  if (n < 3 || n > 32)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i]))
      return false;
  return true;
}

static bool ts_ok(const char *ts)
{
  if (!ts || !isdigit((unsigned char)ts[0]) || strlen(ts) > 32)
    return false;
  for (const char *p = ts; *p; p++)
    if (!isdigit((unsigned char)*p) && *p != '.')
      return false;
  return true;
}

int home_shortcut_parse(const cJSON *payload, struct home_shortcut *out)
{
  memset(out, 0, sizeof(*out));
  const cJSON *msg = item(payload, "message");
  out->channel = string(item(item(payload, "channel"), "id"));
  out->ts = string(item(msg, "ts"));
  if (!out->ts)
    out->ts = string(item(payload, "message_ts"));
  out->author = string(item(msg, "user"));
  const cJSON *text = item(msg, "text");
  out->text = cJSON_IsString(text) ? text->valuestring : "";
  if (out->author && !md_id_ok(out->author))
    out->author = NULL;
  if (!out->channel || !md_id_ok(out->channel) || !ts_ok(out->ts))
    return KX_EPROTO;
  return 0;
}

/* BASE/incidents/ID[/…|?…|#…] -> ID, else 0. */
static long long incident_link(const char *url, const char *base)
{
  size_t n = strlen(base);
  while (n > 0 && base[n - 1] == '/')
    n--;
  if (n == 0 || strncmp(url, base, n) != 0 || strncmp(url + n, "/incidents/", 11) != 0)
    return 0;
  const char *p = url + n + 11;
  long long id = 0;
  int digits = 0;
  for (; isdigit((unsigned char)*p) && digits < 15; p++, digits++)
    id = id * 10 + (*p - '0');
  if (!digits || (*p && *p != '/' && *p != '?' && *p != '#'))
    return 0;
  return id;
}

size_t home_links_parse(
    const cJSON *payload, const char *base, const char **urls, long long *ids, size_t max)
{
  const cJSON *links = item(item(payload, "event"), "links");
  size_t k = 0;
  const cJSON *l;
  if (!base || !cJSON_IsArray(links))
    return 0;
  cJSON_ArrayForEach (l, links) {
    if (k >= max)
      break;
    const char *url = string(item(l, "url"));
    long long id = url ? incident_link(url, base) : 0;
    if (id > 0) {
      urls[k] = url;
      ids[k] = id;
      k++;
    }
  }
  return k;
}
