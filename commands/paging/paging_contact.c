/*
 * paging_contact.c — an escalation step `contact:NAME`: someone outside the team (the hosting
 * provider, security) from the config's contacts[], who has no chat account with us and cannot
 * press our buttons. The one place that decides how a contact is reached: today an email with
 * the page (a copy of kind "email" is recorded, so the page's numbers count it), and a text
 * and a call to their phone through Twilio at once (attempts of "contact:NAME", which a reply
 * or a keypress acknowledges as).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/core/out.h"
#include "commands/paging/paging.h"
#include "lib/buf.h"
#include "lib/kx.h"
#include "lib/log.h"

static char *contact_text(struct cmd_ctx *ctx, const struct page_row *p, const char *name)
{
  struct buf b;
  buf_init(&b, (size_t)64 * 1024);
  buf_printf(&b, "Hello %s,\n\nthe on-call team escalates this page to you.\n\n", name);
  buf_printf(&b, "PAGE [%s] %s\n\n", p->severity ? p->severity : "-", p->title);
  if (p->summary)
    buf_printf(&b, "%s\n\n", p->summary);
  if (p->rota)
    buf_printf(&b, "Rota: %s\n", p->rota);
  if (p->runbook)
    buf_printf(&b, "Runbook: %s\n", p->runbook);
  if (p->incident_id)
    buf_printf(&b, "Incident: #%lld\n", (long long)p->incident_id);
  buf_printf(&b,
             "\nPage #%lld, sent by klaxon for the on-call team. Reply to this mail or call "
             "the team's on-call; the page is acknowledged in the team's chat.\n",
             (long long)p->id);
  (void)ctx;
  return buf_take(&b);
}

static int mail(struct cmd_ctx *ctx,
                const struct page_row *p,
                const struct outside_contact *k,
                int64_t step)
{
  struct page_copy_new c = {p->id, "email", NULL, k->email, step, p->version, false, ctx->now_ms};
  int rc = page_copies_add(ctx->db, &c, NULL);
  if (rc)
    return rc;
  char *subject = kx_asprintf("[klaxon] Page [%s] %s", p->severity ? p->severity : "-", p->title);
  char *text = contact_text(ctx, p, k->name);
  if (subject)
    for (char *s = subject; *s; s++)
      if ((unsigned char)*s < 0x20 || *s == 0x7f)
        *s = ' '; /* a subject is one header line */
  rc = subject && text ? out_email(ctx, k->email, subject, text, OUTBOX_URGENT) : KX_ENOMEM;
  free(subject);
  free(text);
  return rc;
}

int paging_notify_contact(struct cmd_ctx *ctx,
                          const struct page_row *p,
                          const struct outside_contact *contact,
                          int64_t step)
{
  if (!contact) {
    LOG_WARN("paging", "contact_unknown", "page=%lld step=%lld", (long long)p->id, (long long)step);
    return 0;
  }
  int used = 0, rc = 0;
  if (contact->email && ctx->config->smtp.url) {
    rc = mail(ctx, p, contact, step);
    if (rc)
      return rc;
    used++;
  }
  if (contact->phone && ctx->config->twilio.from) {
    /* A text and a call at once: someone outside the team has no rules of their own. Their
     * attempts are "contact:NAME"'s, so a reply "1" or a keypress acknowledges as them. */
    char id[160];
    snprintf(id, sizeof(id), "contact:%s", contact->name);
    struct person as = {.id = id, .name = contact->name, .phone = contact->phone};
    rc = paging_notify_via(ctx, p, &as, step, VIA_SMS);
    if (rc == 0)
      rc = paging_notify_via(ctx, p, &as, step, VIA_VOICE);
    if (rc)
      return rc;
    used += 2;
  }
  if (!used)
    LOG_WARN("paging", "contact_unreachable", "page=%lld contact=%s phone=%s", (long long)p->id,
             contact->name, contact->phone ? "yes" : "no");
  else
    LOG_INFO("paging", "contact_notified", "page=%lld contact=%s step=%lld", (long long)p->id,
             contact->name, (long long)step);
  return used;
}
