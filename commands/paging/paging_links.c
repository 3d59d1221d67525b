/*
 * paging_links.c — links that acknowledge (issue 11), sent in push notifications, SMS and
 * email pages: /pages/ack/<attempt>.<expiry>.<mac>, mac the feed token (lib/feed_token.h,
 * HMAC-SHA256 with the feed secret) of "ack:<attempt>:<page>:<person>:<expiry>". A link names
 * one attempt, so one page and one person; it works once (the attempt's link_used_at), only
 * while the page is open, and until its expiry on the real clock (LINK_TTL_S, whatever the
 * simulated time says). GET shows the page and one button; only POST acknowledges, so a link
 * preview or a mail scanner fetching the URL changes nothing. Every refusal is the same
 * sentence, so a guessed or altered link tells nothing about other pages.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands/paging/paging.h"
#include "lib/buf.h"
#include "lib/feed_token.h"
#include "lib/kx.h"
#include "lib/log.h"

#define LINK_TTL_S (24 * 3600LL)
#define LINK_PATH "/pages/ack/"

static int64_t real_now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec;
}

static int link_mac(const struct cmd_ctx *ctx,
                    const struct page_attempt *a,
                    int64_t exp,
                    char mac[FEED_TOKEN_LEN + 1])
{
  char what[256];
  snprintf(what, sizeof(what), "ack:%lld:%lld:%s:%lld", (long long)a->id, (long long)a->page_id,
           a->person, (long long)exp);
  return feed_token(ctx->feed_secret, what, mac);
}

char *paging_ack_link(struct cmd_ctx *ctx, int64_t attempt_id)
{
  if (!ctx->public_url || !*ctx->public_url || !ctx->feed_secret)
    return NULL;
  struct page_attempt a;
  if (page_attempts_get(ctx->db, attempt_id, &a) != 0)
    return NULL;
  int64_t exp = real_now_s() + LINK_TTL_S;
  char mac[FEED_TOKEN_LEN + 1];
  char *url = link_mac(ctx, &a, exp, mac) == 0
                  ? kx_asprintf("%s" LINK_PATH "%lld.%lld.%s", ctx->public_url,
                                (long long)attempt_id, (long long)exp, mac)
                  : NULL;
  page_attempt_clear(&a);
  return url;
}

/* The attempt a token names, when it is genuine and not expired (KX_ENOTFOUND otherwise). */
static int check_token(struct cmd_ctx *ctx, const char *token, struct page_attempt *a)
{
  long long id = 0, exp = 0;
  int used = 0;
  memset(a, 0, sizeof(*a));
  if (!token || strlen(token) > 96 || sscanf(token, "%lld.%lld.%n", &id, &exp, &used) != 2 ||
      !used || id <= 0 || strlen(token + used) != FEED_TOKEN_LEN)
    return KX_ENOTFOUND;
  if (exp < real_now_s())
    return KX_ENOTFOUND;
  int rc = page_attempts_get(ctx->db, id, a);
  if (rc)
    return rc == KX_ENOTFOUND ? KX_ENOTFOUND : rc;
  char what[256];
  snprintf(what, sizeof(what), "ack:%lld:%lld:%s:%lld", id, (long long)a->page_id, a->person, exp);
  if (!feed_token_ok(ctx->feed_secret, what, token + used)) {
    page_attempt_clear(a);
    return KX_ENOTFOUND;
  }
  return 0;
}

static void page_head(struct buf *b, const char *title)
{
  buf_puts(b,
           "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<meta name=\"referrer\" content=\"no-referrer\"><title>");
  buf_xml(b, title);
  buf_puts(b,
           "</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem "
           "auto;padding:0 1rem;line-height:1.5;color:#111;background:#fff}"
           "button{font-size:1.25rem;padding:.75rem 1.5rem;border-radius:.5rem;border:0;"
           "background:#b00020;color:#fff;cursor:pointer}</style></head><body><main>");
}

static void answer(struct cmd_reply *reply, int status, const char *title, const char *text)
{
  struct buf *b = &reply->text;
  buf_reset(b);
  page_head(b, title);
  buf_puts(b, "<h1>");
  buf_xml(b, title);
  buf_puts(b, "</h1><p>");
  buf_xml(b, text);
  buf_puts(b, "</p></main></body></html>\n");
  reply->http_status = status;
  reply->content_type = "text/html; charset=utf-8";
}

/* payload: {"token": "…", "method": "GET" | "POST"} from bot/web/page_link_http.c. */
int paging_action_link(struct cmd_ctx *ctx, const struct cmd_request *req, struct cmd_reply *reply)
{
  const cJSON *tok = cJSON_GetObjectItemCaseSensitive(req->payload, "token");
  const cJSON *method = cJSON_GetObjectItemCaseSensitive(req->payload, "method");
  bool post = cJSON_IsString(method) && strcmp(method->valuestring, "POST") == 0;
  struct page_attempt a;
  int rc = check_token(ctx, cJSON_IsString(tok) ? tok->valuestring : NULL, &a);
  if (rc == KX_ENOTFOUND) {
    LOG_WARN("paging", "ack_link_refused", "reason=\"not genuine or expired\"");
    answer(reply, 404, "This link does not work",
           "It is not a valid acknowledge link, or it has expired. Open the page in Slack or "
           "Teams, or reply to the SMS.");
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
  if (a.link_used_at || p.state != PAGE_OPEN) {
    answer(reply, 410, "This link was used",
           p.state == PAGE_RESOLVED ? "The page is resolved; nothing is left to acknowledge."
           : a.link_used_at         ? "This link has already been used; it works once."
                                    : "The page is already acknowledged.");
  } else if (!post) {
    struct buf *b = &reply->text;
    buf_reset(b);
    char title[64];
    snprintf(title, sizeof(title), "Page #%lld", (long long)p.id);
    page_head(b, title);
    buf_printf(b, "<h1>Page #%lld</h1><p><strong>", (long long)p.id);
    buf_xml(b, p.severity ? p.severity : "-");
    buf_puts(b, "</strong> ");
    buf_xml(b, p.title);
    buf_puts(b, "</p>");
    if (p.summary) {
      buf_puts(b, "<p>");
      buf_xml(b, p.summary);
      buf_puts(b, "</p>");
    }
    /* The form posts back to the same URL; the token is in the path. */
    buf_puts(b,
             "<form method=\"post\"><button type=\"submit\">Acknowledge</button></form>"
             "</main></body></html>\n");
    reply->content_type = "text/html; charset=utf-8";
  } else {
    rc = page_attempts_use_link(ctx->db, a.id, ctx->now_ms);
    if (rc == 0)
      rc = page_attempts_acked(ctx->db, a.id, ctx->now_ms);
    struct cmd_reply inner;
    cmd_reply_init(&inner);
    if (rc == 0)
      rc = paging_ack(ctx, p.id, a.person, &inner);
    cmd_reply_free(&inner);
    if (rc == 0) {
      LOG_INFO("paging", "acked_by_link", "page=%lld person=%s via=%s", (long long)p.id, a.person,
               a.via);
      answer(reply, 200, "Acknowledged", "You acknowledged the page. Thank you.");
    } else if (rc == KX_ESTATE) {
      answer(reply, 410, "This link was used", "The page is already acknowledged.");
      rc = 0;
    }
  }
  page_row_clear(&p);
  page_attempt_clear(&a);
  return rc;
}
