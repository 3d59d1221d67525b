/*
 * config_contacts.c — contacts[]: people outside the team (the hosting provider, security)
 * whom an escalation step `contact:NAME` reaches, each {name, phone, email}; read before the
 * escalation policies so each step's name is checked where it is written. Phone numbers are
 * E.164 (cfg_phone: +, a country code, 8 to 15 digits), the form SMS and voice providers take.
 */
#include <stdlib.h>
#include <string.h>

#include "bot/config/config_load_internal.h"

static const char *const CONTACT_KEYS[] = {"name", "phone", "email", NULL};

static bool contact_name_ok(const char *s)
{
  return CFG_PERSON_ID.ok(s);
}

static void load_contact(struct cfg_loader *L,
                         yaml_node_t *n,
                         size_t pos,
                         struct outside_contact *k)
{
  struct cfg_path at = cfg_pathf("contacts[%zu]", pos);
  struct cfg_obj o;
  if (!cfg_obj_open(L, n, at.s, CONTACT_KEYS, &o))
    return;
  yaml_node_t *name = cfg_need(L, &o, at.s, "name", "(like hosting)");
  const char *s = cfg_text(L, name, CFG_P("%s.name", at.s));
  if (s && !contact_name_ok(s))
    cfg_problem(L, cfg_line(name), "%s.name: \"%s\" is not %s", at.s, cfg_show(s).s,
                CFG_PERSON_ID.what);
  if (s && (k->name = cfg_dup(L, s)))
    cfg_names_add(L, &L->contacts, k->name, cfg_line(name), pos);
  cfg_phone(L, cfg_get(&o, "phone"), CFG_P("%s.phone", at.s), &k->phone);
  cfg_checked(L, cfg_get(&o, "email"), CFG_P("%s.email", at.s), &CFG_EMAIL, &k->email);
  if (!cfg_get(&o, "phone") && !cfg_get(&o, "email"))
    cfg_problem(L, cfg_line(n), "%s: give phone (E.164) or email, or both, to reach %s", at.s,
                k->name ? CFG_P("contact \"%s\"", cfg_show(k->name).s) : "this contact");
}

void cfg_load_contacts(struct cfg_loader *L, yaml_node_t *n)
{
  struct config *c = L->c;
  size_t len;
  if (!n)
    return;
  L->contacts_broken = true;
  if (!cfg_list(L, n, "contacts", &len) || len == 0)
    return;
  if (!(c->contacts = calloc(len, sizeof(*c->contacts)))) {
    cfg_oom(L);
    return;
  }
  c->n_contacts = len;
  for (size_t i = 0; i < len && cfg_visit(L); i++)
    load_contact(L, cfg_item(L, n, i), i, &c->contacts[i]);
  L->contacts_broken = false;
  cfg_names_check(L, &L->contacts, "contact name");
}
