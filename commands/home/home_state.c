#include "commands/home/home_state.h"

#include <ctype.h>
#include <string.h>

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
