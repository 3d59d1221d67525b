/*
 * paging_twilio.c — what comes back from Twilio (issue 11), each request already checked
 * against X-Twilio-Signature by bot/web/twilio_http.c, its form fields as a JSON object of
 * strings (plus "attempt" from the URL's query):
 *   - an SMS reply: "1"/"ack", "2"/"escalate", "3"/"resolve", optionally with the page number
 *     ("ack 12") when the person has several open pages; answered with TwiML <Message>;
 *   - a call: what to say (twice) and one digit to gather (1 acknowledge, 2 escalate); an
 *     answering machine hears it once but does not count as the person answering;
 *   - status callbacks of both: recorded on the attempt; a dead end moves to the next method.
 * Nothing here reveals a page to a number that was not paged about it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/paging/paging.h"
#include "lib/buf.h"
#include "lib/kx.h"
#include "lib/log.h"

#define TWIML_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
#define TWIML_TAIL "</Response>"

static const char *field(const struct cmd_request *req, const char *name)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(req->payload, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void twiml(struct cmd_reply *reply)
{
  reply->content_type = "text/xml; charset=utf-8";
}

static void message(struct cmd_reply *reply, const char *text)
{
  buf_reset(&reply->text);
  buf_puts(&reply->text, TWIML_HEAD "<Message>");
  buf_xml(&reply->text, text);
  buf_puts(&reply->text, "</Message>" TWIML_TAIL);
  twiml(reply);
}

/* Who a number is: a person's id, or "contact:NAME" for someone in contacts[]; false when
 * nobody klaxon pages has it. */
static bool who_by_phone(struct cmd_ctx *ctx, const char *from, char *out, size_t n)
{
  for (size_t i = 0; from && i < ctx->config->n_people; i++) {
    const struct person *p = &ctx->config->people[i];
    if (p->phone && strcmp(p->phone, from) == 0) {
      snprintf(out, n, "%s", p->id);
      return true;
    }
  }
  for (size_t i = 0; from && i < ctx->config->n_contacts; i++) {
    const struct outside_contact *k = &ctx->config->contacts[i];
    if (k->phone && strcmp(k->phone, from) == 0) {
      snprintf(out, n, "contact:%s", k->name);
      return true;
    }
  }
  return false;
}

/* The newest attempt of `via` to `person` about the page, 0 when none. */
static int64_t attempt_of(struct cmd_ctx *ctx, int64_t page, const char *person, const char *via)
{
  struct page_attempt *a = NULL;
  size_t n = 0;
  int64_t id = 0;
  if (page_attempts_list(ctx->db, page, &a, &n) == 0)
    for (size_t i = 0; i < n; i++)
      if (strcmp(a[i].person, person) == 0 && strcmp(a[i].via, via) == 0)
        id = a[i].id;
  page_attempts_free(a, n);
  return id;
}

enum sms_verb { SMS_NONE = 0, SMS_ACK, SMS_ESCALATE, SMS_RESOLVE };

/* "1", "ack", "ACK 12", " 3 ", "resolve #12": the verb and the page number (0 when none). */
int paging_sms_parse(const char *body, long long *page)
{
  static const struct {
    const char *word;
    enum sms_verb verb;
  } WORDS[] = {{"1", SMS_ACK},      {"ack", SMS_ACK},        {"acknowledge", SMS_ACK},
               {"2", SMS_ESCALATE}, {"esc", SMS_ESCALATE},   {"escalate", SMS_ESCALATE},
               {"3", SMS_RESOLVE},  {"resolve", SMS_RESOLVE}};
  char w[16], num[24];
  *page = 0;
  if (!body)
    return SMS_NONE;
  size_t i = 0, k = 0;
  while (body[i] && isspace((unsigned char)body[i]))
    i++;
  while (body[i] && !isspace((unsigned char)body[i]) && k + 1 < sizeof(w))
    w[k++] = (char)tolower((unsigned char)body[i++]);
  w[k] = '\0';
  if (body[i] && !isspace((unsigned char)body[i]))
    return SMS_NONE; /* a word longer than any verb */
  while (body[i] && isspace((unsigned char)body[i]))
    i++;
  if (body[i] == '#')
    i++;
  k = 0;
  while (body[i] && isdigit((unsigned char)body[i]) && k + 1 < sizeof(num))
    num[k++] = body[i++];
  num[k] = '\0';
  while (body[i] && isspace((unsigned char)body[i]))
    i++;
  if (body[i])
    return SMS_NONE; /* more than "verb [number]" */
  if (k)
    *page = strtoll(num, NULL, 10);
  for (size_t j = 0; j < sizeof(WORDS) / sizeof(WORDS[0]); j++)
    if (strcmp(w, WORDS[j].word) == 0)
      return WORDS[j].verb;
  return SMS_NONE;
}

static int act(struct cmd_ctx *ctx,
               enum sms_verb verb,
               int64_t page,
               const char *who,
               const char *via,
               struct cmd_reply *out)
{
  struct cmd_reply inner;
  cmd_reply_init(&inner);
  int rc = 0;
  struct page_row p;
  rc = pages_get(ctx->db, page, &p);
  if (rc) {
    cmd_reply_free(&inner);
    return rc;
  }
  if (verb == SMS_ACK) {
    int64_t a = attempt_of(ctx, page, who, via);
    if (a && p.state == PAGE_OPEN)
      rc = page_attempts_acked(ctx->db, a, ctx->now_ms);
    if (rc == 0)
      rc = paging_ack(ctx, page, who, &inner);
  } else if (verb == SMS_ESCALATE) {
    rc = paging_escalate(ctx, page, p.next_step, who, &inner);
  } else {
    rc = paging_resolve(ctx, page, who, NULL, &inner);
  }
  char text[400];
  if (rc == 0)
    snprintf(text, sizeof(text), "Page %lld %s: %.200s", (long long)page,
             verb == SMS_ACK        ? "acknowledged"
             : verb == SMS_ESCALATE ? "escalated"
                                    : "resolved",
             p.title);
  else
    snprintf(text, sizeof(text), "Page %lld: %.300s", (long long)page,
             inner.text.len ? inner.text.data : "not changed");
  page_row_clear(&p);
  cmd_reply_free(&inner);
  if (rc && rc != KX_ESTATE && rc != KX_ENOTFOUND)
    return rc;
  message(out, text);
  return rc == 0 ? 0 : KX_ESTATE;
}

int paging_action_twilio_sms(struct cmd_ctx *ctx,
                             const struct cmd_request *req,
                             struct cmd_reply *reply)
{
  const char *from = field(req, "From");
  char who[160];
  if (!who_by_phone(ctx, from, who, sizeof(who))) {
    /* Not a number klaxon pages: say nothing, to anyone. */
    LOG_WARN("paging", "sms_from_stranger", "from_known=0");
    buf_reset(&reply->text);
    buf_puts(&reply->text, TWIML_HEAD TWIML_TAIL);
    twiml(reply);
    return 0;
  }
  long long want = 0;
  enum sms_verb verb = (enum sms_verb)paging_sms_parse(field(req, "Body"), &want);
  if (verb == SMS_NONE) {
    message(reply,
            "Reply 1 to acknowledge, 2 to escalate, 3 to resolve; add the page number "
            "when you have several (ack 12).");
    return 0;
  }
  struct page_attempt *open = NULL;
  size_t n = 0;
  int rc = page_attempts_open_for(ctx->db, who, &open, &n);
  if (rc)
    return rc;
  int64_t page = 0;
  for (size_t i = 0; i < n; i++)
    if (want ? open[i].page_id == want : n == 1)
      page = open[i].page_id;
  if (!page) {
    struct buf b;
    buf_init(&b, 512);
    if (want)
      buf_printf(&b, "You have no open page %lld.", want);
    else if (n == 0)
      buf_puts(&b, "You have no open pages.");
    else {
      buf_printf(&b, "You have %zu open pages:", n);
      for (size_t i = 0; i < n && i < 10; i++)
        buf_printf(&b, "%s %lld", i ? "," : "", (long long)open[i].page_id);
      buf_printf(&b, ". Reply with the number, like \"ack %lld\".", (long long)open[0].page_id);
    }
    message(reply, b.data ? b.data : "");
    buf_free(&b);
    page_attempts_free(open, n);
    return 0;
  }
  page_attempts_free(open, n);
  LOG_INFO("paging", "sms_reply", "person=%s page=%lld verb=%d", who, (long long)page, (int)verb);
  rc = act(ctx, verb, page, who, "sms", reply);
  return rc == KX_ESTATE ? 0 : rc;
}

/* ---- calls ------------------------------------------------------------------------------------
 */

static void say_page(struct buf *b, const struct page_row *p)
{
  buf_puts(b, "<Say>");
  buf_printf(b, "This is klaxon. %s page %lld, severity ",
             strcmp(p->kind, "test") == 0 ? "Test" : "A", (long long)p->id);
  buf_xml(b, p->severity ? p->severity : "none");
  buf_puts(b, ". ");
  buf_xml(b, p->title);
  buf_puts(b, ".</Say>");
}

int paging_action_twilio_voice(struct cmd_ctx *ctx,
                               const struct cmd_request *req,
                               struct cmd_reply *reply)
{
  const char *attempt = field(req, "attempt");
  struct page_attempt a;
  int rc = page_attempts_get(ctx->db, attempt ? strtoll(attempt, NULL, 10) : 0, &a);
  struct buf *b = &reply->text;
  buf_reset(b);
  twiml(reply);
  if (rc == KX_ENOTFOUND || (rc == 0 && strcmp(a.via, "voice") != 0)) {
    buf_puts(b, TWIML_HEAD "<Hangup/>" TWIML_TAIL);
    page_attempt_clear(&a);
    return 0;
  }
  if (rc)
    return rc;
  struct page_row p;
  rc = pages_get(ctx->db, a.page_id, &p);
  if (rc) {
    page_attempt_clear(&a);
    return rc;
  }
  const char *answered_by = field(req, "AnsweredBy");
  const char *digits = field(req, "Digits");
  buf_puts(b, TWIML_HEAD);
  if (p.state != PAGE_OPEN) {
    buf_printf(b, "<Say>Page %lld is already %s. Goodbye.</Say><Hangup/>", (long long)p.id,
               p.state == PAGE_ACKED ? "acknowledged" : "resolved");
  } else if (answered_by &&
             (strncmp(answered_by, "machine", 7) == 0 || strcmp(answered_by, "fax") == 0)) {
    /* Voicemail hears the page once; it is no acknowledgement, and the next method starts. */
    say_page(b, &p);
    buf_puts(b, "<Hangup/>");
    rc = paging_attempt_update(ctx, a.id, "voicemail", field(req, "CallSid"), answered_by);
  } else if (digits && (strcmp(digits, "1") == 0 || strcmp(digits, "2") == 0)) {
    enum sms_verb verb = digits[0] == '1' ? SMS_ACK : SMS_ESCALATE;
    struct cmd_reply inner;
    cmd_reply_init(&inner);
    rc = act(ctx, verb, p.id, a.person, "voice", &inner);
    cmd_reply_free(&inner);
    if (rc == 0)
      buf_printf(b, "<Say>Page %lld %s. Thank you. Goodbye.</Say><Hangup/>", (long long)p.id,
                 verb == SMS_ACK ? "acknowledged" : "escalated");
    else if (rc == KX_ESTATE)
      buf_puts(b, "<Say>Nothing was changed. Goodbye.</Say><Hangup/>");
    if (rc == KX_ESTATE)
      rc = 0;
  } else {
    /* A person (or a call without detection): the page twice, then one key. */
    if (!digits)
      rc = paging_attempt_update(ctx, a.id, "answered", field(req, "CallSid"), NULL);
    char *self = kx_asprintf("%s/twilio/voice?attempt=%lld", ctx->public_url ? ctx->public_url : "",
                             (long long)a.id);
    buf_puts(b, "<Gather numDigits=\"1\" timeout=\"10\" method=\"POST\" action=\"");
    buf_xml(b, self ? self : "");
    buf_puts(b, "\">");
    say_page(b, &p);
    buf_puts(b, "<Pause length=\"1\"/>");
    say_page(b, &p);
    buf_puts(b,
             "<Say>Press 1 to acknowledge, 2 to escalate.</Say></Gather>"
             "<Say>No key was pressed. The page is not acknowledged. Goodbye.</Say>"
             "<Hangup/>");
    free(self);
  }
  buf_puts(b, TWIML_TAIL);
  page_row_clear(&p);
  page_attempt_clear(&a);
  return rc;
}

/* ---- status callbacks ---------------------------------------------------------------------------
 */

int paging_action_twilio_status(struct cmd_ctx *ctx,
                                const struct cmd_request *req,
                                struct cmd_reply *reply)
{
  const char *attempt = field(req, "attempt");
  const char *msg = field(req, "MessageStatus");
  const char *call = field(req, "CallStatus");
  const char *sid = field(req, "MessageSid") ? field(req, "MessageSid") : field(req, "CallSid");
  const char *code = field(req, "ErrorCode");
  buf_reset(&reply->text);
  buf_puts(&reply->text, TWIML_HEAD TWIML_TAIL);
  twiml(reply);
  struct page_attempt a;
  int rc = page_attempts_get(ctx->db, attempt ? strtoll(attempt, NULL, 10) : 0, &a);
  if (rc == KX_ENOTFOUND || (!msg && !call))
    return 0;
  if (rc)
    return rc;
  if (a.provider_id && sid && strcmp(a.provider_id, sid) != 0) {
    LOG_WARN("paging", "twilio_status_mismatch", "attempt=%lld", (long long)a.id);
    page_attempt_clear(&a);
    return 0;
  }
  const char *state = msg ? msg : call;
  /* A call picked up is "answered" by the voice webhook; "completed" then says nothing new. */
  if (call && strcmp(call, "in-progress") == 0)
    state = "sent";
  char err[64] = "";
  if (code && *code && strcmp(code, "0") != 0)
    snprintf(err, sizeof(err), "twilio_%s", code);
  LOG_INFO("paging", "twilio_status", "attempt=%lld via=%s status=%s%s%s", (long long)a.id, a.via,
           state, err[0] ? " error=" : "", err);
  rc = paging_attempt_update(ctx, a.id, state, sid, err[0] ? err : NULL);
  page_attempt_clear(&a);
  return rc;
}
