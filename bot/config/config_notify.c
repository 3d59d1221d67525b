/*
 * config_notify.c — how a person is reached (issue 11): `phone` (E.164, written with or without
 * spaces, dashes, dots and parentheses, kept without them), `push` (an ntfy topic URL, or
 * {ntfy: URL} / {webhook: URL}) and `notify`, the person's own rules:
 *   notify: [{after: 0m, via: [chat, push]}, {after: 2m, via: sms}, {after: 5m, via: voice}]
 * Rules are kept in order of `after`; a method the person cannot be reached by (sms without a
 * phone, push without push, email without email) is a config error, not a silent skip at 03:00.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bot/config/config_load_internal.h"

static const struct {
  const char *name;
  unsigned via;
} VIAS[] = {{"chat", VIA_CHAT},
            {"email", VIA_EMAIL},
            {"push", VIA_PUSH},
            {"sms", VIA_SMS},
            {"voice", VIA_VOICE}};

unsigned cfg_via_named(const char *s)
{
  for (size_t i = 0; s && i < sizeof(VIAS) / sizeof(VIAS[0]); i++)
    if (strcmp(s, VIAS[i].name) == 0)
      return VIAS[i].via;
  return 0;
}

/* "+49 30 1234567" -> "+49301234567"; false unless it is + and 8 to 15 digits, the first not 0. */
bool cfg_phone_normalise(const char *s, char *out, size_t n)
{
  size_t k = 0;
  if (!s || *s != '+' || n < 17)
    return false;
  out[k++] = '+';
  for (const char *p = s + 1; *p; p++) {
    if (isdigit((unsigned char)*p)) {
      if (k >= 16)
        return false;
      out[k++] = *p;
    } else if (!strchr(" -.()", *p)) {
      return false;
    }
  }
  out[k] = '\0';
  return k >= 9 && out[1] != '0';
}

bool cfg_phone(struct cfg_loader *L, yaml_node_t *n, const char *path, char **out)
{
  const char *s = cfg_text(L, n, path);
  char e164[17];
  if (!s)
    return false;
  if (!cfg_phone_normalise(s, e164, sizeof(e164))) {
    cfg_problem(L, cfg_line(n),
                "%s: \"%s\" is not an E.164 phone number (+, the country code and the number, "
                "like +4930123456; spaces and dashes are allowed)",
                path, cfg_show(s).s);
    return false;
  }
  *out = cfg_dup(L, e164);
  return *out != NULL;
}

static const char *const PUSH_KEYS[] = {"ntfy", "webhook", NULL};

static void load_push(struct cfg_loader *L, yaml_node_t *n, const char *path, struct person *p)
{
  if (!n)
    return;
  if (n->type == YAML_SCALAR_NODE) {
    cfg_checked(L, n, path, &CFG_URL, &p->push);
    return;
  }
  struct cfg_obj o;
  if (!cfg_obj_open(L, n, path, PUSH_KEYS, &o))
    return;
  yaml_node_t *ntfy = cfg_get(&o, "ntfy"), *hook = cfg_get(&o, "webhook");
  if ((ntfy != NULL) == (hook != NULL)) {
    cfg_problem(L, cfg_line(n), "%s: give one of ntfy (a topic URL) or webhook (a URL)", path);
    return;
  }
  p->push_webhook = hook != NULL;
  cfg_checked(L, hook ? hook : ntfy, CFG_P("%s.%s", path, hook ? "webhook" : "ntfy"), &CFG_URL,
              &p->push);
}

static unsigned load_vias(struct cfg_loader *L, yaml_node_t *n, const char *path)
{
  unsigned via = 0;
  size_t len = 1;
  bool list = n && n->type == YAML_SEQUENCE_NODE;
  if (list && !cfg_list(L, n, path, &len))
    return 0;
  for (size_t i = 0; i < len && cfg_visit(L); i++) {
    yaml_node_t *item = list ? cfg_item(L, n, i) : n;
    const char *s = cfg_text(L, item, list ? CFG_P("%s[%zu]", path, i) : path);
    unsigned v = cfg_via_named(s);
    if (s && !v)
      cfg_problem(L, cfg_line(item), "%s: \"%s\" is not a method (chat, email, push, sms, voice)",
                  path, cfg_show(s).s);
    via |= v;
  }
  if (len == 0)
    cfg_problem(L, cfg_line(n), "%s is empty: name at least one method", path);
  return via;
}

static const char *const RULE_KEYS[] = {"after", "via", NULL};

/* What the person lacks for `via`, or NULL. */
static const char *missing_for(const struct person *p, unsigned via)
{
  if ((via & (VIA_SMS | VIA_VOICE)) && !p->phone)
    return "sms and voice need phone";
  if ((via & VIA_PUSH) && !p->push)
    return "push needs push (an ntfy topic or webhook URL)";
  if ((via & VIA_EMAIL) && !p->email)
    return "email needs email";
  return NULL;
}

static void load_notify(struct cfg_loader *L, yaml_node_t *n, const char *path, struct person *p)
{
  size_t len;
  if (!n || !cfg_list(L, n, path, &len))
    return;
  if (len == 0) {
    cfg_problem(L, cfg_line(n), "%s is empty: leave it out for the default (chat, then email)",
                path);
    return;
  }
  if (!(p->notify = calloc(len, sizeof(*p->notify)))) {
    cfg_oom(L);
    return;
  }
  p->n_notify = len;
  for (size_t i = 0; i < len && cfg_visit(L); i++) {
    struct cfg_path rp = cfg_pathf("%s[%zu]", path, i);
    struct cfg_obj o;
    yaml_node_t *item = cfg_item(L, n, i);
    if (!cfg_obj_open(L, item, rp.s, RULE_KEYS, &o))
      continue;
    struct notify_rule *r = &p->notify[i];
    cfg_duration(L, cfg_get(&o, "after"), CFG_P("%s.after", rp.s), &r->after_ms);
    r->via = load_vias(L, cfg_need(L, &o, rp.s, "via", "(chat, email, push, sms or voice)"),
                       CFG_P("%s.via", rp.s));
    const char *lack = missing_for(p, r->via);
    if (lack)
      cfg_problem(L, cfg_line(item), "%s: %s", rp.s, lack);
    if (i > 0 && r->after_ms < p->notify[i - 1].after_ms)
      cfg_problem(L, cfg_line(item), "%s.after comes before the rule above it; keep them in order",
                  rp.s);
  }
}

void cfg_load_person_reach(struct cfg_loader *L,
                           const struct cfg_obj *o,
                           const char *path,
                           struct person *p)
{
  cfg_phone(L, cfg_get(o, "phone"), CFG_P("%s.phone", path), &p->phone);
  load_push(L, cfg_get(o, "push"), CFG_P("%s.push", path), p);
  load_notify(L, cfg_get(o, "notify"), CFG_P("%s.notify", path), p);
}
