/*
 * libFuzzer target for the Teams input parsers: bot/teams_activity.c and bot/teams_auth.c.
 *
 * The first input byte picks what the rest is fed to:
 *   0  an activity body (teams_activity_parse)
 *   1  an Authorization header value (teams_auth_verify against a fixed JWKS)
 *   2  the claims of a token that is then correctly signed with the JWKS's key, so the claim
 *      checks are reached (a random signature never gets past the RSA check)
 *   3  the JOSE header of a correctly signed token (alg, kid, crit handling)
 *   4  an Outgoing Webhook request: header value, '\n', body (teams_hmac_verify)
 *   5  a JWKS document (teams_jwks_load)
 *   6  a message text to clean (teams_text_clean / teams_text_remove)
 *   7  an activity body taken all the way to a neutral request (teams_request_build, with and
 *      without teams_webhook_addressed), and the reply shapes built from its text
 *   8  a connector answer: status byte, then the body (teams_classify, teams_token_parse)
 * Build and run: tests/fuzz/run.sh (FUZZ_SECONDS, default 30).
 */
#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/teams/teams_activity.h"
#include "bot/teams/teams_auth.h"
#include "bot/teams/teams_connector.h"
#include "bot/teams/teams_request.h"
#include "commands/core/render_teams.h"
#include "lib/kx.h"

#define NOW_MS 1795532400000LL
#define SERVICE_URL "https://smba.trafficmanager.net/amer/"
#define APP_ID "eac5e5c6-ab14-4f50-80cb-49213fe51b1a"
#define HMAC_SECRET "zlomAlR6JWRW0Phh/uSo7b4FAeGj9nqqicX1X1EBzys="

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *key;
static struct teams_jwks *jwks;
static const struct teams_auth_expect expect = {
    .app_id = APP_ID, .service_url = SERVICE_URL, .channel_id = "msteams", .skew_ms = -1};

static char *b64url(const unsigned char *in, size_t len)
{
  char *out = malloc(4 * ((len + 2) / 3) + 1);
  if (!out)
    abort();
  int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
  while (n > 0 && out[n - 1] == '=')
    out[--n] = '\0';
  for (char *p = out; *p; p++) {
    if (*p == '+')
      *p = '-';
    if (*p == '/')
      *p = '_';
  }
  return out;
}

static char *bn_b64url(const char *name)
{
  BIGNUM *bn = NULL;
  unsigned char buf[512];
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1)
    abort();
  int len = BN_bn2bin(bn, buf);
  BN_free(bn);
  return b64url(buf, (size_t)len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
  if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) != 1 ||
      EVP_PKEY_keygen(ctx, &key) != 1)
    abort();
  EVP_PKEY_CTX_free(ctx);
  char *n = bn_b64url(OSSL_PKEY_PARAM_RSA_N);
  char *e = bn_b64url(OSSL_PKEY_PARAM_RSA_E);
  char json[2048];
  snprintf(json, sizeof(json),
           "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"k1\",\"n\":\"%s\",\"e\":\"%s\","
           "\"endorsements\":[\"msteams\"]}]}",
           n, e);
  free(n);
  free(e);
  jwks = teams_jwks_new();
  if (!jwks || teams_jwks_load(jwks, json, strlen(json), NOW_MS) != 0)
    abort();
  return 0;
}

/* "Bearer <b64(header)>.<b64(payload)>.<RS256 signature>" with the fixture key. */
static char *signed_token(const unsigned char *header,
                          size_t hlen,
                          const unsigned char *payload,
                          size_t plen)
{
  char *h = b64url(header, hlen);
  char *p = b64url(payload, plen);
  size_t in_len = strlen(h) + 1 + strlen(p);
  char *input = malloc(in_len + 1);
  if (!input)
    abort();
  snprintf(input, in_len + 1, "%s.%s", h, p);
  unsigned char sig[512];
  size_t sig_len = sizeof(sig);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
      EVP_DigestSign(md, sig, &sig_len, (unsigned char *)input, in_len) != 1)
    abort();
  EVP_MD_CTX_free(md);
  char *s = b64url(sig, sig_len);
  size_t total = 7 + in_len + 1 + strlen(s) + 1;
  char *out = malloc(total);
  if (!out)
    abort();
  snprintf(out, total, "Bearer %s.%s", input, s);
  free(h);
  free(p);
  free(input);
  free(s);
  return out;
}

static void verify_signed(const unsigned char *header,
                          size_t hlen,
                          const unsigned char *payload,
                          size_t plen)
{
  /* Keep the token under the header cap, where the interesting checks are. */
  if (hlen > 4096 || plen > 8192)
    return;
  char *tok = signed_token(header, hlen, payload, plen);
  struct teams_auth_result r;
  int rc = teams_auth_verify(jwks, tok, &expect, NOW_MS, &r);
  /* Whatever the input, a verdict always comes with a reason. */
  if (!r.reason || (rc == 0 && strcmp(r.reason, "ok") != 0))
    abort();
  free(tok);
}

static char *fake_aad(void *arg, const char *user_id)
{
  (void)arg;
  return strncmp(user_id, "29:a", 4) == 0 ? strdup("00000000-0000-0000-0000-0000000000aa") : NULL;
}

static char *cstr(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);
  if (!s)
    abort();
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char good_header[] = "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}";
  static const char good_claims[] =
      "{\"serviceurl\":\"" SERVICE_URL
      "\",\"nbf\":1795532340,\"exp\":1795536000,"
      "\"iss\":\"https://api.botframework.com\",\"aud\":\"" APP_ID "\"}";
  if (size < 1)
    return 0;
  uint8_t mode = data[0] % 9;
  data++;
  size--;
  switch (mode) {
    case 0: {
      struct teams_activity *a = NULL;
      if (teams_activity_parse((const char *)data, size, &a) == 0) {
        if (!a || !a->type_name)
          abort();
        if (a->text && strlen(a->text) > TEAMS_TEXT_MAX)
          abort();
        teams_activity_free(a);
      }
      break;
    }
    case 1: {
      char *h = cstr(data, size);
      struct teams_auth_result r;
      if (teams_auth_verify(jwks, h, &expect, NOW_MS, &r) == 0)
        abort(); /* unsigned: never ok */
      free(h);
      break;
    }
    case 2:
      verify_signed((const unsigned char *)good_header, strlen(good_header), data, size);
      break;
    case 3:
      verify_signed(data, size, (const unsigned char *)good_claims, strlen(good_claims));
      break;
    case 4: {
      const uint8_t *nl = memchr(data, '\n', size);
      if (!nl)
        break;
      char *h = cstr(data, (size_t)(nl - data));
      (void)teams_hmac_verify(h, nl + 1, size - (size_t)(nl - data) - 1, HMAC_SECRET);
      free(h);
      break;
    }
    case 5: {
      struct teams_jwks *j = teams_jwks_new();
      if (teams_jwks_load(j, (const char *)data, size, NOW_MS) == 0 && teams_jwks_count(j) == 0)
        abort();
      teams_jwks_free(j);
      break;
    }
    case 6: {
      char *s = cstr(data, size);
      size_t before = strlen(s);
      teams_text_clean(s);
      if (strlen(s) > before)
        abort();
      (void)teams_text_remove(s, "<at>Bot</at>");
      free(s);
      break;
    }
    case 7: {
      struct teams_activity *a = NULL;
      if (teams_activity_parse((const char *)data, size, &a) != 0)
        break;
      for (int pass = 0; pass < 2; pass++) {
        struct cmd_request req;
        struct teams_req_strings strs;
        enum teams_route r = teams_request_build(a, NOW_MS, fake_aad, NULL, &req, &strs);
        if (r == TEAMS_ROUTE_DISPATCH) {
          /* A dispatched request always has its identity, its dedup key and its kind's fields. */
          if (!req.user || !req.dedup_key || !req.channel)
            abort();
          if (req.kind == CMD_KIND_COMMAND && (!req.command || !req.text))
            abort();
          if (req.kind == CMD_KIND_ACTION &&
              (!req.action_id || !req.action_value || !req.message_ts))
            abort();
          /* Escaped: no raw '<' survives except in our own <@…> mentions. */
          for (const char *p = req.text ? req.text : ""; (p = strchr(p, '<')); p++)
            if (p[1] != '@')
              abort();
          cJSON *row =
              render_teams_reply_row(req.channel, req.reply_to_id,
                                     render_teams_reply_activity(req.text, NULL, req.reply_to_id));
          cJSON_Delete(row);
        }
        teams_req_strings_free(&strs);
        teams_webhook_addressed(a);
      }
      teams_activity_free(a);
      break;
    }
    case 8: {
      if (size < 1)
        break;
      char *body = cstr(data + 1, size - 1);
      char err[80];
      int rc = teams_classify(100 + data[0] * 2, body, err, sizeof(err));
      if (rc != 0 && rc != KX_ERATELIMITED && rc != KX_ERETRY && rc != KX_EPLATFORM)
        abort();
      char *tok = NULL;
      int64_t life = 0;
      if (teams_token_parse(body, &tok, &life) == 0 && (!tok || life <= 0))
        abort();
      free(tok);
      free(body);
      break;
    }
    default:
      break;
  }
  return 0;
}
