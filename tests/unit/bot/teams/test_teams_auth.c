/*
 * Tests for bot/teams_auth.c: the Bot Framework JWT check against a JWKS, and the Outgoing
 * Webhook HMAC. The RSA keys are generated here, the JWKS is built from them, and every token
 * is signed here, so each refusal is the verifier's doing and not a fixture's.
 */
// cmocka must come after the headers above.
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <cjson/cJSON.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/teams/teams_auth.h"
#include "lib/kx.h"

#define APP_ID "eac5e5c6-ab14-4f50-80cb-49213fe51b1a"
#define SERVICE_URL "https://smba.trafficmanager.net/amer/"
#define ISSUER "https://api.botframework.com"
/* 2026-11-24T15:00:00Z */
#define NOW_S 1795532400LL
#define NOW_MS (NOW_S * 1000LL)

static EVP_PKEY *key1;     /* kid "k1", endorsed for msteams */
static EVP_PKEY *key2;     /* kid "k2" (webchat only) and "k3" (no endorsements) */
static EVP_PKEY *attacker; /* not in any JWKS */

static EVP_PKEY *gen_rsa(int bits)
{
  EVP_PKEY *pkey = NULL;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
  assert_non_null(ctx);
  assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
  assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits), 1);
  assert_int_equal(EVP_PKEY_keygen(ctx, &pkey), 1);
  EVP_PKEY_CTX_free(ctx);
  return pkey;
}

/* base64url without padding; the caller frees. */
static char *b64url(const unsigned char *data, size_t len)
{
  size_t cap = 4 * ((len + 2) / 3) + 1;
  char *out = malloc(cap);
  assert_non_null(out);
  int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
  assert_true(n >= 0);
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

static char *b64std(const unsigned char *data, size_t len)
{
  char *out = malloc(4 * ((len + 2) / 3) + 1);
  assert_non_null(out);
  assert_true(EVP_EncodeBlock((unsigned char *)out, data, (int)len) >= 0);
  return out;
}

static char *bn_param_b64url(EVP_PKEY *pkey, const char *name)
{
  BIGNUM *bn = NULL;
  assert_int_equal(EVP_PKEY_get_bn_param(pkey, name, &bn), 1);
  unsigned char buf[1024];
  int len = BN_bn2bin(bn, buf);
  BN_free(bn);
  return b64url(buf, (size_t)len);
}

/* A self-signed certificate for pkey, as the base64 DER a JWK's x5c carries. */
static char *self_signed_b64(EVP_PKEY *pkey)
{
  X509 *x = X509_new();
  assert_non_null(x);
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"test", -1, -1, 0);
  X509_set_issuer_name(x, name);
  assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
  unsigned char *der = NULL;
  int len = i2d_X509(x, &der);
  assert_true(len > 0);
  char *out = b64std(der, (size_t)len);
  OPENSSL_free(der);
  X509_free(x);
  return out;
}

/* Add a JWK for pkey to the array; endorsements is a NULL-terminated list, or NULL for none. */
static void add_jwk(cJSON *keys, EVP_PKEY *pkey, const char *kid, const char *const *endorsements)
{
  cJSON *k = cJSON_CreateObject();
  cJSON_AddStringToObject(k, "kty", "RSA");
  cJSON_AddStringToObject(k, "use", "sig");
  cJSON_AddStringToObject(k, "kid", kid);
  cJSON_AddStringToObject(k, "x5t", kid);
  char *n = bn_param_b64url(pkey, OSSL_PKEY_PARAM_RSA_N);
  char *e = bn_param_b64url(pkey, OSSL_PKEY_PARAM_RSA_E);
  cJSON_AddStringToObject(k, "n", n);
  cJSON_AddStringToObject(k, "e", e);
  free(n);
  free(e);
  if (endorsements) {
    cJSON *arr = cJSON_AddArrayToObject(k, "endorsements");
    for (size_t i = 0; endorsements[i]; i++)
      cJSON_AddItemToArray(arr, cJSON_CreateString(endorsements[i]));
  }
  cJSON_AddItemToArray(keys, k);
}

static const char *const TEAMS_ENDORSED[] = {"msteams", "webchat", "skype", NULL};
static const char *const WEBCHAT_ONLY[] = {"webchat", NULL};

/* The JWKS the tests load: k1 (msteams), k2 (webchat only), k3 (no endorsements). */
static char *standard_jwks(void)
{
  cJSON *root = cJSON_CreateObject();
  cJSON *keys = cJSON_AddArrayToObject(root, "keys");
  add_jwk(keys, key1, "k1", TEAMS_ENDORSED);
  add_jwk(keys, key2, "k2", WEBCHAT_ONLY);
  add_jwk(keys, key2, "k3", NULL);
  char *s = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  return s;
}

static struct teams_jwks *load_standard(void)
{
  struct teams_jwks *j = teams_jwks_new();
  assert_non_null(j);
  char *json = standard_jwks();
  assert_int_equal(teams_jwks_load(j, json, strlen(json), NOW_MS), 0);
  free(json);
  assert_int_equal(teams_jwks_count(j), 3);
  return j;
}

/* "Bearer header.payload.signature"; md NULL leaves the signature empty, and hmac_key makes
 * an HS256 signature with those bytes instead of RSA. */
static char *sign_token(const char *header,
                        const char *payload,
                        EVP_PKEY *pkey,
                        const EVP_MD *md,
                        const void *hmac_key,
                        size_t hmac_key_len)
{
  char *h = b64url((const unsigned char *)header, strlen(header));
  char *p = b64url((const unsigned char *)payload, strlen(payload));
  char *input = kx_asprintf("%s.%s", h, p);
  assert_non_null(input);
  unsigned char sig[1024];
  size_t sig_len = 0;
  if (hmac_key) {
    unsigned int n = 0;
    assert_non_null(HMAC(EVP_sha256(), hmac_key, (int)hmac_key_len, (unsigned char *)input,
                         strlen(input), sig, &n));
    sig_len = n;
  } else if (pkey && md) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    sig_len = sizeof(sig);
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, pkey), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len, (unsigned char *)input, strlen(input)), 1);
    EVP_MD_CTX_free(ctx);
  }
  char *s = b64url(sig, sig_len);
  char *out = kx_asprintf("Bearer %s.%s", input, s);
  free(h);
  free(p);
  free(input);
  free(s);
  return out;
}

static char *claims(
    const char *iss, const char *aud_json, long long nbf, long long exp, const char *surl)
{
  return kx_asprintf("{\"serviceurl\":\"%s\",\"nbf\":%lld,\"exp\":%lld,\"iss\":\"%s\",\"aud\":%s}",
                     surl, nbf, exp, iss, aud_json);
}

static char *good_claims(void)
{
  return claims(ISSUER, "\"" APP_ID "\"", NOW_S - 60, NOW_S + 3540, SERVICE_URL);
}

static char *rs256(const char *kid, const char *payload, EVP_PKEY *pkey)
{
  char *header =
      kx_asprintf("{\"alg\":\"RS256\",\"kid\":\"%s\",\"typ\":\"JWT\",\"x5t\":\"%s\"}", kid, kid);
  char *tok = sign_token(header, payload, pkey, EVP_sha256(), NULL, 0);
  free(header);
  return tok;
}

static const struct teams_auth_expect EXPECT = {.app_id = APP_ID,
                                                .issuer = NULL,
                                                .service_url = SERVICE_URL,
                                                .channel_id = "msteams",
                                                .skew_ms = -1};

/* Verify with the standard JWKS; checks the code and (when given) the reason. */
static void expect_verify(const char *header, int64_t now_ms, int want_rc, const char *want_reason)
{
  struct teams_jwks *j = load_standard();
  struct teams_auth_result r;
  int rc = teams_auth_verify(j, header, &EXPECT, now_ms, &r);
  if (rc != want_rc || (want_reason && strcmp(r.reason, want_reason) != 0))
    fail_msg("verify: got %s (%s), want %s (%s)", kx_err_name(rc), r.reason, kx_err_name(want_rc),
             want_reason ? want_reason : "*");
  teams_jwks_free(j);
}

static void check_payload(const char *payload, int64_t now_ms, int want_rc, const char *reason)
{
  char *tok = rs256("k1", payload, key1);
  expect_verify(tok, now_ms, want_rc, reason);
  free(tok);
}

/* ---- accepted ---------------------------------------------------------------------------- */

static void test_good_token(void **state)
{
  (void)state;
  struct teams_jwks *j = load_standard();
  char *payload = good_claims();
  char *tok = rs256("k1", payload, key1);
  struct teams_auth_result r;
  assert_int_equal(teams_auth_verify(j, tok, &EXPECT, NOW_MS, &r), 0);
  assert_string_equal(r.reason, "ok");
  assert_string_equal(r.kid, "k1");
  assert_int_equal(r.exp_ms, (NOW_S + 3540) * 1000LL);
  /* The defaults (issuer, channel, skew) give the same answer; the result is optional. */
  struct teams_auth_expect d = {.app_id = APP_ID, .service_url = SERVICE_URL, .skew_ms = -1};
  assert_int_equal(teams_auth_verify(j, tok, &d, NOW_MS, NULL), 0);
  /* The scheme is case-insensitive (RFC 7235); extra spaces before the token are fine. */
  char *lower = kx_asprintf("bearer   %s", tok + strlen("Bearer "));
  assert_int_equal(teams_auth_verify(j, lower, &EXPECT, NOW_MS, &r), 0);
  free(lower);
  free(tok);
  free(payload);
  teams_jwks_free(j);
}

static void test_audience_array(void **state)
{
  (void)state;
  char *p =
      claims(ISSUER, "[\"someone-else\",\"" APP_ID "\"]", NOW_S - 60, NOW_S + 60, SERVICE_URL);
  check_payload(p, NOW_MS, 0, "ok");
  free(p);
  p = claims(ISSUER, "[\"someone-else\",\"https://api.botframework.com\"]", NOW_S - 60, NOW_S + 60,
             SERVICE_URL);
  check_payload(p, NOW_MS, KX_EAUTH, "wrong audience");
  free(p);
  p = claims(ISSUER, "[]", NOW_S - 60, NOW_S + 60, SERVICE_URL);
  check_payload(p, NOW_MS, KX_EAUTH, "wrong audience");
  free(p);
}

/* ---- the real clock --------------------------------------------------------------------- */

#define FIVE_DAYS_S (5LL * 24 * 3600)

/* A good token valid from a minute before `at_s` for an hour. */
static char *token_at(long long at_s)
{
  char *p = claims(ISSUER, "\"" APP_ID "\"", at_s - 60, at_s + 3540, SERVICE_URL);
  char *tok = rs256("k1", p, key1);
  free(p);
  return tok;
}

/* The transport judges tokens on teams_auth_now_ms(), the real clock, whatever the bot's
 * simulated clock says: KLAXON_NOW five days back or ahead, at any scale. */
static void test_judged_on_the_real_clock(void **state)
{
  (void)state;
  int64_t real = (int64_t)clock_wall_ms();
  long long real_s = real / 1000;
  char *now_tok = token_at(real_s);
  char *past_tok = token_at(real_s - FIVE_DAYS_S);
  char *future_tok = token_at(real_s + FIVE_DAYS_S);

  /* The bot's clock five days back (KLAXON_NOW), running at 1x. */
  clock_set(real - FIVE_DAYS_S * 1000, 1.0);
  assert_true(clock_now_ms() < real - FIVE_DAYS_S * 1000 + 60000);
  int64_t t = teams_auth_now_ms();
  assert_true(t >= real && t < real + 60000);
  expect_verify(now_tok, teams_auth_now_ms(), 0, "ok");
  expect_verify(past_tok, teams_auth_now_ms(), KX_EAUTH, "expired");
  /* On the simulated clock the answers would be the other way round: what this guards. */
  expect_verify(now_tok, clock_now_ms(), KX_EAUTH, "not yet valid");
  expect_verify(past_tok, clock_now_ms(), 0, "ok");

  /* Five days ahead and 3600x faster. */
  clock_set(real + FIVE_DAYS_S * 1000, 3600.0);
  expect_verify(now_tok, teams_auth_now_ms(), 0, "ok");
  expect_verify(future_tok, teams_auth_now_ms(), KX_EAUTH, "not yet valid");
  expect_verify(future_tok, clock_now_ms(), 0, "ok");

  /* The key cache's age follows the same clock: a set loaded now is not stale because the
   * bot's clock pretends a week has passed. */
  struct teams_jwks *j = teams_jwks_new();
  char *json = standard_jwks();
  assert_int_equal(teams_jwks_load(j, json, strlen(json), teams_auth_now_ms()), 0);
  assert_int_equal(teams_jwks_refresh_due(j, teams_auth_now_ms(), 0), 0);
  assert_int_equal(teams_jwks_refresh_due(j, clock_now_ms(), 0), 1);
  free(json);
  teams_jwks_free(j);
  free(now_tok);
  free(past_tok);
  free(future_tok);
}

/* ---- claims ------------------------------------------------------------------------------ */

static void test_wrong_audience(void **state)
{
  (void)state;
  char *p = claims(ISSUER, "\"cd59cf47-aca1-41e0-8441-387faee8331e\"", NOW_S - 60, NOW_S + 60,
                   SERVICE_URL);
  check_payload(p, NOW_MS, KX_EAUTH, "wrong audience");
  free(p);
  /* A number where the app id should be, and no aud at all. */
  check_payload("{\"serviceurl\":\"" SERVICE_URL "\",\"exp\":1795532460,\"iss\":\"" ISSUER
                "\",\"aud\":12}",
                NOW_MS, KX_EAUTH, "wrong audience");
  check_payload("{\"serviceurl\":\"" SERVICE_URL "\",\"exp\":1795532460,\"iss\":\"" ISSUER "\"}",
                NOW_MS, KX_EAUTH, "wrong audience");
}

static void test_wrong_issuer(void **state)
{
  (void)state;
  char *p = claims("https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
                   "\"" APP_ID "\"", NOW_S - 60, NOW_S + 60, SERVICE_URL);
  check_payload(p, NOW_MS, KX_EAUTH, "wrong issuer");
  free(p);
  p = claims("https://api.botframework.com/", "\"" APP_ID "\"", NOW_S - 60, NOW_S + 60,
             SERVICE_URL);
  check_payload(p, NOW_MS, KX_EAUTH, "wrong issuer");
  free(p);
}

static void test_expiry_and_skew(void **state)
{
  (void)state;
  long long exp = NOW_S - 3600;
  char *p = claims(ISSUER, "\"" APP_ID "\"", exp - 3600, exp, SERVICE_URL);
  /* Before exp, and up to (not including) exp + 5 min, the token is accepted. */
  check_payload(p, exp * 1000 - 1, 0, "ok");
  check_payload(p, exp * 1000 + 4 * 60 * 1000, 0, "ok");
  check_payload(p, exp * 1000 + 5 * 60 * 1000 - 1, 0, "ok");
  check_payload(p, exp * 1000 + 5 * 60 * 1000, KX_EAUTH, "expired");
  check_payload(p, NOW_MS, KX_EAUTH, "expired");
  /* With skew 0 the token dies exactly at exp. */
  struct teams_jwks *j = load_standard();
  char *tok = rs256("k1", p, key1);
  struct teams_auth_expect e = EXPECT;
  e.skew_ms = 0;
  assert_int_equal(teams_auth_verify(j, tok, &e, exp * 1000 - 1, NULL), 0);
  assert_int_equal(teams_auth_verify(j, tok, &e, exp * 1000, NULL), KX_EAUTH);
  free(tok);
  teams_jwks_free(j);
  free(p);
}

static void test_exp_required_and_numeric(void **state)
{
  (void)state;
  check_payload("{\"serviceurl\":\"" SERVICE_URL "\",\"iss\":\"" ISSUER "\",\"aud\":\"" APP_ID
                "\"}",
                NOW_MS, KX_EAUTH, "no exp");
  check_payload("{\"serviceurl\":\"" SERVICE_URL "\",\"exp\":\"1795532460\",\"iss\":\"" ISSUER
                "\",\"aud\":\"" APP_ID "\"}",
                NOW_MS, KX_EAUTH, "bad exp");
  check_payload("{\"serviceurl\":\"" SERVICE_URL "\",\"exp\":1e300,\"iss\":\"" ISSUER
                "\",\"aud\":\"" APP_ID "\"}",
                NOW_MS, KX_EAUTH, "bad exp");
  /* Two exp claims: ambiguous, so refused even though the first is fine. */
  check_payload("{\"serviceurl\":\"" SERVICE_URL "\",\"exp\":1795536000,\"exp\":1,\"iss\":\"" ISSUER
                "\",\"aud\":\"" APP_ID "\"}",
                NOW_MS, KX_EAUTH, "bad exp");
  /* No nbf is fine (it is optional); a non-numeric nbf is not. */
  check_payload("{\"serviceurl\":\"" SERVICE_URL "\",\"exp\":1795536000,\"iss\":\"" ISSUER
                "\",\"aud\":\"" APP_ID "\"}",
                NOW_MS, 0, "ok");
  check_payload("{\"serviceurl\":\"" SERVICE_URL
                "\",\"exp\":1795536000,\"nbf\":null,\"iss\":\"" ISSUER "\",\"aud\":\"" APP_ID "\"}",
                NOW_MS, KX_EAUTH, "bad nbf");
}

static void test_nbf_in_future(void **state)
{
  (void)state;
  char *p = claims(ISSUER, "\"" APP_ID "\"", NOW_S + 600, NOW_S + 3600, SERVICE_URL);
  check_payload(p, NOW_MS, KX_EAUTH, "not yet valid");
  /* Five minutes before nbf the skew lets it through; a millisecond earlier it does not. */
  check_payload(p, (NOW_S + 300) * 1000, 0, "ok");
  check_payload(p, (NOW_S + 300) * 1000 - 1, KX_EAUTH, "not yet valid");
  free(p);
}

static void test_wrong_serviceurl(void **state)
{
  (void)state;
  char *p = claims(ISSUER, "\"" APP_ID "\"", NOW_S - 60, NOW_S + 60,
                   "https://smba.trafficmanager.net/emea/");
  check_payload(p, NOW_MS, KX_EAUTH, "wrong serviceurl");
  free(p);
  /* A trailing-slash difference is refused (exact comparison, as the SDK does). */
  p = claims(ISSUER, "\"" APP_ID "\"", NOW_S - 60, NOW_S + 60,
             "https://smba.trafficmanager.net/amer");
  check_payload(p, NOW_MS, KX_EAUTH, "wrong serviceurl");
  free(p);
  p = claims(ISSUER, "\"" APP_ID "\"", NOW_S - 60, NOW_S + 60,
             "HTTPS://smba.trafficmanager.net/amer/");
  check_payload(p, NOW_MS, KX_EAUTH, "wrong serviceurl");
  free(p);
  check_payload("{\"exp\":1795536000,\"iss\":\"" ISSUER "\",\"aud\":\"" APP_ID "\"}", NOW_MS,
                KX_EAUTH, "no serviceurl");
  /* The SDK's claim name is lower-case; "serviceUrl" is not it. */
  check_payload("{\"serviceUrl\":\"" SERVICE_URL "\",\"exp\":1795536000,\"iss\":\"" ISSUER
                "\",\"aud\":\"" APP_ID "\"}",
                NOW_MS, KX_EAUTH, "no serviceurl");
}

static void test_missing_endorsement(void **state)
{
  (void)state;
  char *p = good_claims();
  char *tok = rs256("k2", p, key2); /* k2 is endorsed for webchat only */
  expect_verify(tok, NOW_MS, KX_EAUTH, "key not endorsed for channel");
  free(tok);
  tok = rs256("k3", p, key2); /* k3 has no endorsements at all */
  expect_verify(tok, NOW_MS, KX_EAUTH, "key not endorsed for channel");
  /* The same k2 token is fine for a webchat activity: the check follows the channel id. */
  struct teams_jwks *j = load_standard();
  free(tok);
  tok = rs256("k2", p, key2);
  struct teams_auth_expect e = EXPECT;
  e.channel_id = "webchat";
  assert_int_equal(teams_auth_verify(j, tok, &e, NOW_MS, NULL), 0);
  teams_jwks_free(j);
  free(tok);
  free(p);
}

/* ---- keys -------------------------------------------------------------------------------- */

static void test_unknown_kid_then_refresh(void **state)
{
  (void)state;
  struct teams_jwks *j = load_standard();
  char *p = good_claims();
  char *tok = rs256("rotated", p, attacker);
  struct teams_auth_result r;
  assert_int_equal(teams_auth_verify(j, tok, &EXPECT, NOW_MS, &r), KX_ENOTFOUND);
  assert_string_equal(r.reason, "unknown kid");
  assert_string_equal(r.kid, "rotated");
  /* The transport may refresh now (loaded a while ago, never fetched since)… */
  assert_int_equal(teams_jwks_refresh_due(j, NOW_MS + 5000, 1), 1);
  assert_int_equal(teams_jwks_refresh_due(j, NOW_MS + 5000, 0), 0);
  teams_jwks_fetch_started(j, NOW_MS + 5000);
  /* …but not again within the minute, even for another unknown kid. */
  assert_int_equal(teams_jwks_refresh_due(j, NOW_MS + 64999, 1), 0);
  assert_int_equal(teams_jwks_refresh_due(j, NOW_MS + 65000, 1), 1);
  /* The new set (rotation: the old key dropped) makes the token good and k1 unknown. */
  cJSON *root = cJSON_CreateObject();
  add_jwk(cJSON_AddArrayToObject(root, "keys"), attacker, "rotated", TEAMS_ENDORSED);
  char *json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  assert_int_equal(teams_jwks_load(j, json, strlen(json), NOW_MS + 6000), 0);
  assert_int_equal(teams_jwks_loaded_at(j), NOW_MS + 6000);
  assert_int_equal(teams_auth_verify(j, tok, &EXPECT, NOW_MS, &r), 0);
  assert_false(teams_jwks_has_kid(j, "k1"));
  free(tok);
  tok = rs256("k1", p, key1);
  assert_int_equal(teams_auth_verify(j, tok, &EXPECT, NOW_MS, &r), KX_ENOTFOUND);
  free(json);
  free(tok);
  free(p);
  teams_jwks_free(j);
}

static void test_refresh_schedule(void **state)
{
  (void)state;
  struct teams_jwks *j = teams_jwks_new();
  assert_int_equal(teams_jwks_loaded_at(j), -1);
  assert_int_equal(teams_jwks_refresh_due(j, NOW_MS, 0), 1); /* never loaded */
  teams_jwks_fetch_started(j, NOW_MS);
  assert_int_equal(teams_jwks_refresh_due(j, NOW_MS + 1000, 0), 0);  /* fetch in flight */
  assert_int_equal(teams_jwks_refresh_due(j, NOW_MS + 60000, 0), 1); /* it failed; retry */
  char *json = standard_jwks();
  assert_int_equal(teams_jwks_load(j, json, strlen(json), NOW_MS + 61000), 0);
  teams_jwks_fetch_started(j, NOW_MS + 60000);
  int64_t day = 24LL * 3600 * 1000;
  assert_int_equal(teams_jwks_refresh_due(j, NOW_MS + 61000 + day - 1, 0), 0);
  assert_int_equal(teams_jwks_refresh_due(j, NOW_MS + 61000 + day, 0), 1);
  free(json);
  teams_jwks_free(j);
  assert_int_equal(teams_jwks_refresh_due(NULL, NOW_MS, 1), 0);
  teams_jwks_free(NULL);
}

static void test_signed_by_other_key(void **state)
{
  (void)state;
  /* The attacker names k1 but signs with their own key. */
  char *p = good_claims();
  char *tok = rs256("k1", p, attacker);
  expect_verify(tok, NOW_MS, KX_EAUTH, "bad signature");
  free(tok);
  free(p);
}

static void test_tampered_payload(void **state)
{
  (void)state;
  char *p = good_claims();
  char *tok = rs256("k1", p, key1);
  /* Swap the payload for one with another audience, keeping header and signature. */
  char *other = claims(ISSUER, "\"evil-app\"", NOW_S - 60, NOW_S + 3540, SERVICE_URL);
  char *other64 = b64url((unsigned char *)other, strlen(other));
  char *dot1 = strchr(tok, '.');
  char *dot2 = strchr(dot1 + 1, '.');
  *dot1 = '\0';
  char *forged = kx_asprintf("%s.%s%s", tok, other64, dot2);
  expect_verify(forged, NOW_MS, KX_EAUTH, "bad signature");
  free(forged);
  free(other64);
  free(other);
  free(tok);
  free(p);
}

static void test_tampered_signature(void **state)
{
  (void)state;
  char *p = good_claims();
  char *tok = rs256("k1", p, key1);
  char *sig = strrchr(tok, '.') + 1;
  size_t mid = strlen(sig) / 2;
  sig[mid] = sig[mid] == 'A' ? 'B' : 'A';
  expect_verify(tok, NOW_MS, KX_EAUTH, "bad signature");
  /* A truncated signature is refused too. */
  sig[mid] = '\0';
  expect_verify(tok, NOW_MS, KX_EAUTH, "bad signature");
  free(tok);
  free(p);
}

/* ---- algorithms -------------------------------------------------------------------------- */

static void test_alg_none(void **state)
{
  (void)state;
  char *p = good_claims();
  /* The classic form: alg none and an empty signature. */
  char *tok = sign_token("{\"alg\":\"none\",\"kid\":\"k1\"}", p, NULL, NULL, NULL, 0);
  assert_non_null(strstr(tok, "."));
  assert_int_equal(tok[strlen(tok) - 1], '.');
  expect_verify(tok, NOW_MS, KX_EINVAL, "empty signature");
  free(tok);
  /* alg none with some signature bytes: refused on the algorithm. */
  tok = sign_token("{\"alg\":\"none\",\"kid\":\"k1\"}", p, key1, EVP_sha256(), NULL, 0);
  expect_verify(tok, NOW_MS, KX_EAUTH, "algorithm not allowed");
  free(tok);
  tok = sign_token("{\"alg\":\"None\",\"kid\":\"k1\"}", p, key1, EVP_sha256(), NULL, 0);
  expect_verify(tok, NOW_MS, KX_EAUTH, "algorithm not allowed");
  free(tok);
  /* No alg, and alg given twice (first RS256, then none). */
  tok = sign_token("{\"kid\":\"k1\"}", p, key1, EVP_sha256(), NULL, 0);
  expect_verify(tok, NOW_MS, KX_EAUTH, "no alg");
  free(tok);
  tok = sign_token("{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"k1\"}", p, key1, EVP_sha256(),
                   NULL, 0);
  expect_verify(tok, NOW_MS, KX_EAUTH, "no alg");
  free(tok);
  free(p);
}

static void test_hs256_with_public_key(void **state)
{
  (void)state;
  /* The confusion attack: HS256 "signed" with the RSA public key's bytes, hoping the
   * verifier feeds the key it holds to HMAC. Try both the PEM and the DER forms. */
  char *p = good_claims();
  BIO *bio = BIO_new(BIO_s_mem());
  assert_int_equal(PEM_write_bio_PUBKEY(bio, key1), 1);
  char *pem = NULL;
  long pem_len = BIO_get_mem_data(bio, &pem);
  char *tok = sign_token("{\"alg\":\"HS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}", p, NULL, NULL, pem,
                         (size_t)pem_len);
  expect_verify(tok, NOW_MS, KX_EAUTH, "algorithm not allowed");
  free(tok);
  unsigned char *der = NULL;
  int der_len = i2d_PUBKEY(key1, &der);
  tok = sign_token("{\"alg\":\"HS256\",\"kid\":\"k1\"}", p, NULL, NULL, der, (size_t)der_len);
  expect_verify(tok, NOW_MS, KX_EAUTH, "algorithm not allowed");
  free(tok);
  OPENSSL_free(der);
  BIO_free(bio);
  free(p);
}

static void test_other_rsa_algs_refused(void **state)
{
  (void)state;
  char *p = good_claims();
  /* Properly signed RS384/RS512 tokens: refused by choice (only RS256 is advertised). */
  char *tok = sign_token("{\"alg\":\"RS384\",\"kid\":\"k1\"}", p, key1, EVP_sha384(), NULL, 0);
  expect_verify(tok, NOW_MS, KX_EAUTH, "algorithm not allowed");
  free(tok);
  tok = sign_token("{\"alg\":\"RS512\",\"kid\":\"k1\"}", p, key1, EVP_sha512(), NULL, 0);
  expect_verify(tok, NOW_MS, KX_EAUTH, "algorithm not allowed");
  free(tok);
  /* A header claiming RS256 over an RS384 signature fails on the signature. */
  tok = sign_token("{\"alg\":\"RS256\",\"kid\":\"k1\"}", p, key1, EVP_sha384(), NULL, 0);
  expect_verify(tok, NOW_MS, KX_EAUTH, "bad signature");
  free(tok);
  /* A critical extension we do not understand. */
  tok = sign_token("{\"alg\":\"RS256\",\"kid\":\"k1\",\"crit\":[\"exp\"]}", p, key1, EVP_sha256(),
                   NULL, 0);
  expect_verify(tok, NOW_MS, KX_EAUTH, "critical header extension");
  free(tok);
  tok = sign_token("{\"alg\":\"RS256\"}", p, key1, EVP_sha256(), NULL, 0);
  expect_verify(tok, NOW_MS, KX_EAUTH, "no kid");
  free(tok);
  free(p);
}

/* ---- malformed --------------------------------------------------------------------------- */

static void test_malformed(void **state)
{
  (void)state;
  char *p = good_claims();
  char *good = rs256("k1", p, key1);
  char *h64 = b64url((const unsigned char *)"{\"alg\":\"RS256\",\"kid\":\"k1\"}", 26);
  char *sig = strrchr(good, '.');
  /* Two parts. */
  char *two = kx_asprintf("Bearer %s.%s", h64, h64);
  expect_verify(two, NOW_MS, KX_EINVAL, "token is not three parts");
  /* Four parts. */
  char *four = kx_asprintf("%s.xyz", good);
  expect_verify(four, NOW_MS, KX_EINVAL, "token is not three parts");
  /* Not base64url: '*' in the header, '+' (standard alphabet), '=' padding, bad length. */
  char *bad = kx_asprintf("Bearer e*J.%s", strchr(good, '.') + 1);
  expect_verify(bad, NOW_MS, KX_EINVAL, "header is not base64url");
  free(bad);
  bad = kx_asprintf("Bearer %s.ab+c%s", h64, sig);
  expect_verify(bad, NOW_MS, KX_EINVAL, "payload is not base64url");
  free(bad);
  bad = kx_asprintf("Bearer %s.%s.ab==", h64, h64);
  expect_verify(bad, NOW_MS, KX_EINVAL, "signature is not base64url");
  free(bad);
  bad = kx_asprintf("Bearer %s.abcde%s", h64, sig); /* 5 chars: 1 mod 4 */
  expect_verify(bad, NOW_MS, KX_EINVAL, "payload is not base64url");
  free(bad);
  /* A header that is base64url but not JSON, or JSON but not an object. */
  char *nj = b64url((const unsigned char *)"alg=RS256", 9);
  bad = kx_asprintf("Bearer %s%s", nj, strchr(good, '.'));
  expect_verify(bad, NOW_MS, KX_EINVAL, "header is not a JSON object");
  free(bad);
  free(nj);
  nj = b64url((const unsigned char *)"[\"RS256\"]", 9);
  bad = kx_asprintf("Bearer %s%s", nj, strchr(good, '.'));
  expect_verify(bad, NOW_MS, KX_EINVAL, "header is not a JSON object");
  free(bad);
  free(nj);
  /* JSON followed by junk, and JSON with an embedded NUL. */
  nj = b64url((const unsigned char *)"{\"alg\":\"RS256\",\"kid\":\"k1\"}x", 27);
  bad = kx_asprintf("Bearer %s%s", nj, strchr(good, '.'));
  expect_verify(bad, NOW_MS, KX_EINVAL, "header is not a JSON object");
  free(bad);
  free(nj);
  nj = b64url((const unsigned char *)"{\"alg\":\"RS256\",\"kid\":\"k1\"}\0{}", 29);
  bad = kx_asprintf("Bearer %s%s", nj, strchr(good, '.'));
  expect_verify(bad, NOW_MS, KX_EINVAL, "header is not a JSON object");
  free(bad);
  free(nj);
  /* A correctly signed payload that is not JSON. */
  char *notjson =
      sign_token("{\"alg\":\"RS256\",\"kid\":\"k1\"}", "not json", key1, EVP_sha256(), NULL, 0);
  expect_verify(notjson, NOW_MS, KX_EINVAL, "payload is not a JSON object");
  /* Empty parts and empty tokens. */
  expect_verify("Bearer ..", NOW_MS, KX_EINVAL, NULL);
  expect_verify("Bearer ", NOW_MS, KX_EINVAL, NULL);
  expect_verify("", NOW_MS, KX_EINVAL, "no authorization header");
  free(notjson);
  free(two);
  free(four);
  free(h64);
  free(good);
  free(p);
}

static void test_scheme(void **state)
{
  (void)state;
  char *p = good_claims();
  char *tok = rs256("k1", p, key1);
  const char *jwt = tok + strlen("Bearer ");
  expect_verify(jwt, NOW_MS, KX_EINVAL, "not a Bearer token");
  char *h = kx_asprintf("Basic %s", jwt);
  expect_verify(h, NOW_MS, KX_EINVAL, "not a Bearer token");
  free(h);
  h = kx_asprintf("Bearer%s", jwt);
  expect_verify(h, NOW_MS, KX_EINVAL, "not a Bearer token");
  free(h);
  h = kx_asprintf("HMAC %s", jwt);
  expect_verify(h, NOW_MS, KX_EINVAL, "not a Bearer token");
  free(h);
  struct teams_jwks *j = load_standard();
  assert_int_equal(teams_auth_verify(j, NULL, &EXPECT, NOW_MS, NULL), KX_EINVAL);
  assert_int_equal(teams_auth_verify(NULL, tok, &EXPECT, NOW_MS, NULL), KX_EINVAL);
  assert_int_equal(teams_auth_verify(j, tok, NULL, NOW_MS, NULL), KX_EINVAL);
  struct teams_auth_expect e = EXPECT;
  e.service_url = NULL; /* the activity had no serviceUrl */
  assert_int_equal(teams_auth_verify(j, tok, &e, NOW_MS, NULL), KX_EINVAL);
  e = EXPECT;
  e.app_id = "";
  assert_int_equal(teams_auth_verify(j, tok, &e, NOW_MS, NULL), KX_EINVAL);
  teams_jwks_free(j);
  free(tok);
  free(p);
}

static void test_huge_header(void **state)
{
  (void)state;
  size_t n = TEAMS_AUTH_HEADER_MAX + 10;
  char *h = malloc(n + 1);
  memcpy(h, "Bearer ", 7);
  memset(h + 7, 'A', n - 7);
  h[n] = '\0';
  h[203] = '.';
  h[TEAMS_AUTH_HEADER_MAX - 200] = '.';
  expect_verify(h, NOW_MS, KX_EINVAL, "authorization header too long");
  /* Under the header cap but over the decoded payload cap. */
  h[TEAMS_AUTH_HEADER_MAX - 100] = '\0';
  expect_verify(h, NOW_MS, KX_EINVAL, "payload too large");
  /* A kid longer than any key's kid. */
  char longkid[TEAMS_KID_MAX + 2];
  memset(longkid, 'k', sizeof(longkid) - 1);
  longkid[sizeof(longkid) - 1] = '\0';
  char *p = good_claims();
  char *tok = rs256(longkid, p, key1);
  expect_verify(tok, NOW_MS, KX_EINVAL, "kid too long");
  free(tok);
  free(p);
  free(h);
}

/* ---- JWKS loading ------------------------------------------------------------------------ */

static void test_jwks_load_errors_keep_old_set(void **state)
{
  (void)state;
  struct teams_jwks *j = load_standard();
  const char *bad[] = {
      "",
      "not json",
      "[]",
      "{\"keys\":{}}",
      "{\"keys\":[]}",
      /* Only unusable keys: EC, RSA without kid, encryption use, bad n, no n/e/x5c. */
      "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"e\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"},"
      "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
      "{\"kty\":\"RSA\",\"kid\":\"x\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
      "{\"kty\":\"RSA\",\"kid\":\"y\",\"n\":\"***\",\"e\":\"AQAB\"},"
      "{\"kty\":\"RSA\",\"kid\":\"z\"}]}",
  };
  for (size_t i = 0; i < KX_ARRAY_SIZE(bad); i++) {
    int rc = teams_jwks_load(j, bad[i], strlen(bad[i]), NOW_MS + 1);
    if (rc != KX_EINVAL)
      fail_msg("case %zu: got %s", i, kx_err_name(rc));
    assert_int_equal(teams_jwks_count(j), 3);
    assert_true(teams_jwks_has_kid(j, "k1"));
    assert_int_equal(teams_jwks_loaded_at(j), NOW_MS);
  }
  /* Too large a document. */
  size_t big = TEAMS_JWKS_MAX_BYTES + 1;
  char *huge = malloc(big);
  memset(huge, ' ', big);
  assert_int_equal(teams_jwks_load(j, huge, big, NOW_MS), KX_ETOOBIG);
  free(huge);
  assert_int_equal(teams_jwks_load(j, NULL, 0, NOW_MS), KX_EINVAL);
  assert_int_equal(teams_jwks_load(NULL, "{}", 2, NOW_MS), KX_EINVAL);
  assert_int_equal(teams_jwks_count(j), 3);
  assert_false(teams_jwks_has_kid(j, NULL));
  assert_false(teams_jwks_has_kid(NULL, "k1"));
  teams_jwks_free(j);
}

static void test_jwks_skips_weak_and_duplicate_keys(void **state)
{
  (void)state;
  EVP_PKEY *weak = gen_rsa(1024);
  cJSON *root = cJSON_CreateObject();
  cJSON *keys = cJSON_AddArrayToObject(root, "keys");
  add_jwk(keys, weak, "weak", TEAMS_ENDORSED);
  add_jwk(keys, key1, "k1", TEAMS_ENDORSED);
  add_jwk(keys, attacker, "k1", TEAMS_ENDORSED); /* a second k1: dropped, the first wins */
  cJSON_AddItemToArray(keys, cJSON_CreateString("not a key"));
  char *json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  struct teams_jwks *j = teams_jwks_new();
  assert_int_equal(teams_jwks_load(j, json, strlen(json), NOW_MS), 0);
  assert_int_equal(teams_jwks_count(j), 1);
  assert_false(teams_jwks_has_kid(j, "weak"));
  char *p = good_claims();
  char *tok = rs256("weak", p, weak);
  assert_int_equal(teams_auth_verify(j, tok, &EXPECT, NOW_MS, NULL), KX_ENOTFOUND);
  free(tok);
  tok = rs256("k1", p, key1);
  assert_int_equal(teams_auth_verify(j, tok, &EXPECT, NOW_MS, NULL), 0);
  free(tok);
  tok = rs256("k1", p, attacker);
  assert_int_equal(teams_auth_verify(j, tok, &EXPECT, NOW_MS, NULL), KX_EAUTH);
  free(tok);
  free(p);
  free(json);
  teams_jwks_free(j);
  EVP_PKEY_free(weak);
}

static void test_jwks_x5c_only(void **state)
{
  (void)state;
  /* A key given only by its certificate chain (no n/e). */
  char *cert = self_signed_b64(key1);
  char *json = kx_asprintf(
      "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"cert\",\"x5c\":[\"%s\"],"
      "\"endorsements\":[\"msteams\"]}]}",
      cert);
  struct teams_jwks *j = teams_jwks_new();
  assert_int_equal(teams_jwks_load(j, json, strlen(json), NOW_MS), 0);
  assert_true(teams_jwks_has_kid(j, "cert"));
  char *p = good_claims();
  char *tok = rs256("cert", p, key1);
  assert_int_equal(teams_auth_verify(j, tok, &EXPECT, NOW_MS, NULL), 0);
  free(tok);
  tok = rs256("cert", p, attacker);
  assert_int_equal(teams_auth_verify(j, tok, &EXPECT, NOW_MS, NULL), KX_EAUTH);
  free(tok);
  /* A broken certificate is not a key. */
  free(json);
  const char *broken =
      "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"c2\",\"x5c\":[\"MIIBIjANBgkqhkiG\"]}]}";
  assert_int_equal(teams_jwks_load(j, broken, strlen(broken), NOW_MS), KX_EINVAL);
  assert_true(teams_jwks_has_kid(j, "cert"));
  free(p);
  free(cert);
  teams_jwks_free(j);
}

/* ---- base64 ------------------------------------------------------------------------------ */

static void test_b64(void **state)
{
  (void)state;
  unsigned char out[16];
  size_t n;
  assert_int_equal(teams_b64_decode("aGVsbG8", 7, 1, out, sizeof(out), &n), 0);
  assert_int_equal(n, 5);
  assert_memory_equal(out, "hello", 5);
  assert_int_equal(teams_b64_decode("aGVsbG8=", 8, 0, out, sizeof(out), &n), 0);
  assert_int_equal(n, 5);
  assert_int_equal(teams_b64_decode("aGVsbG8", 7, 0, out, sizeof(out), &n), KX_EINVAL);
  assert_int_equal(teams_b64_decode("aGVsbG8=", 8, 1, out, sizeof(out), &n), KX_EINVAL);
  assert_int_equal(teams_b64_decode("-_-_", 4, 1, out, sizeof(out), &n), 0);
  assert_int_equal(n, 3);
  assert_memory_equal(out, "\xfb\xff\xbf", 3);
  assert_int_equal(teams_b64_decode("-_-_", 4, 0, out, sizeof(out), &n), KX_EINVAL);
  assert_int_equal(teams_b64_decode("+/+/", 4, 0, out, sizeof(out), &n), 0);
  assert_int_equal(teams_b64_decode("+/+/", 4, 1, out, sizeof(out), &n), KX_EINVAL);
  assert_int_equal(teams_b64_decode("", 0, 1, out, sizeof(out), &n), 0);
  assert_int_equal(n, 0);
  assert_int_equal(teams_b64_decode("a", 1, 1, out, sizeof(out), &n), KX_EINVAL);
  assert_int_equal(teams_b64_decode("a===", 4, 0, out, sizeof(out), &n), KX_EINVAL);
  assert_int_equal(teams_b64_decode("aGVsbG8gd29ybGQhISE", 19, 1, out, 4, &n), KX_ETOOBIG);
  assert_int_equal(teams_b64_decode(NULL, 0, 1, out, 4, &n), KX_EINVAL);
}

/* ---- HMAC -------------------------------------------------------------------------------- */

/* Computed independently:
 *   printf '%s' "$BODY" | openssl dgst -sha256 -mac HMAC \
 *     -macopt hexkey:ce5a2602547a256456d0f861fee4a8edbe0501e1a3f67aaa89c5f55f5101cf2b -binary |
 * base64 and the same with Python's hmac module. The secret is that key in base64, as Teams shows
 * it. */
#define HMAC_SECRET "zlomAlR6JWRW0Phh/uSo7b4FAeGj9nqqicX1X1EBzys="
#define HMAC_BODY                                                                              \
  "{\"type\":\"message\",\"id\":\"1485983408511\",\"timestamp\":\"2017-02-01T21:10:07.437Z\"," \
  "\"text\":\"<at>klaxon</at> incident declare db down\",\"channelData\":{\"teamsChannelId\":" \
  "\"19:5f4b2a0cd4dc4bc58d6d1a2ab1edb4a1@thread.skype\"}}"
#define HMAC_SIG "W3xtvgztm3HzmqwQM2GJqKHQJLgr2y69d68tuDLqWwg="

static void test_hmac_vector(void **state)
{
  (void)state;
  const char *body = HMAC_BODY;
  assert_int_equal(teams_hmac_verify("HMAC " HMAC_SIG, body, strlen(body), HMAC_SECRET), 0);
  assert_int_equal(teams_hmac_verify("hmac " HMAC_SIG, body, strlen(body), HMAC_SECRET), 0);
  /* One byte more or less of body, or another secret, and it no longer matches. */
  assert_int_equal(teams_hmac_verify("HMAC " HMAC_SIG, body, strlen(body) - 1, HMAC_SECRET),
                   KX_EAUTH);
  assert_int_equal(teams_hmac_verify("HMAC " HMAC_SIG, body, strlen(body),
                                     "vqF0En+Z0ucuRTM/01o2GuhMH3hKKk/N2bOmlM31zaA="),
                   KX_EAUTH);
  /* The secret must be used decoded: HMAC keyed with the base64 text itself differs. */
  unsigned char mac[32];
  unsigned int mac_len;
  HMAC(EVP_sha256(), HMAC_SECRET, (int)strlen(HMAC_SECRET), (const unsigned char *)body,
       strlen(body), mac, &mac_len);
  char *sig = b64std(mac, mac_len);
  char *h = kx_asprintf("HMAC %s", sig);
  assert_int_equal(teams_hmac_verify(h, body, strlen(body), HMAC_SECRET), KX_EAUTH);
  free(h);
  free(sig);
}

static void test_hmac_refusals(void **state)
{
  (void)state;
  const char *body = HMAC_BODY;
  size_t len = strlen(body);
  /* Wrong signature: the right length, one character changed. */
  char wrong[] = "HMAC " HMAC_SIG;
  wrong[10] = wrong[10] == 'A' ? 'B' : 'A';
  assert_int_equal(teams_hmac_verify(wrong, body, len, HMAC_SECRET), KX_EAUTH);
  /* Wrong scheme, or none. */
  assert_int_equal(teams_hmac_verify("Bearer " HMAC_SIG, body, len, HMAC_SECRET), KX_EINVAL);
  assert_int_equal(teams_hmac_verify(HMAC_SIG, body, len, HMAC_SECRET), KX_EINVAL);
  assert_int_equal(teams_hmac_verify("HMAC" HMAC_SIG, body, len, HMAC_SECRET), KX_EINVAL);
  assert_int_equal(teams_hmac_verify("", body, len, HMAC_SECRET), KX_EINVAL);
  assert_int_equal(teams_hmac_verify(NULL, body, len, HMAC_SECRET), KX_EINVAL);
  /* Empty body (refused like Microsoft's sample does), NULL body, oversized body. */
  assert_int_equal(teams_hmac_verify("HMAC " HMAC_SIG, "", 0, HMAC_SECRET), KX_EINVAL);
  assert_int_equal(teams_hmac_verify("HMAC " HMAC_SIG, NULL, len, HMAC_SECRET), KX_EINVAL);
  char *big = calloc(1, TEAMS_HMAC_BODY_MAX + 1);
  assert_int_equal(teams_hmac_verify("HMAC " HMAC_SIG, big, TEAMS_HMAC_BODY_MAX + 1, HMAC_SECRET),
                   KX_EINVAL);
  free(big);
  /* A signature that is not base64, or not 32 bytes. */
  assert_int_equal(teams_hmac_verify("HMAC !!!!", body, len, HMAC_SECRET), KX_EINVAL);
  assert_int_equal(teams_hmac_verify("HMAC W3xtvgztm3Hzmqw=", body, len, HMAC_SECRET), KX_EINVAL);
  assert_int_equal(teams_hmac_verify("HMAC ", body, len, HMAC_SECRET), KX_EINVAL);
  /* A secret that is not base64, or empty. */
  assert_int_equal(teams_hmac_verify("HMAC " HMAC_SIG, body, len, "not base64!"), KX_EINVAL);
  assert_int_equal(teams_hmac_verify("HMAC " HMAC_SIG, body, len, ""), KX_EINVAL);
  assert_int_equal(teams_hmac_verify("HMAC " HMAC_SIG, body, len, NULL), KX_EINVAL);
}

static int group_setup(void **state)
{
  (void)state;
  key1 = gen_rsa(2048);
  key2 = gen_rsa(2048);
  attacker = gen_rsa(2048);
  return 0;
}

static int group_teardown(void **state)
{
  (void)state;
  EVP_PKEY_free(key1);
  EVP_PKEY_free(key2);
  EVP_PKEY_free(attacker);
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_token),
      cmocka_unit_test(test_audience_array),
      cmocka_unit_test(test_judged_on_the_real_clock),
      cmocka_unit_test(test_wrong_audience),
      cmocka_unit_test(test_wrong_issuer),
      cmocka_unit_test(test_expiry_and_skew),
      cmocka_unit_test(test_exp_required_and_numeric),
      cmocka_unit_test(test_nbf_in_future),
      cmocka_unit_test(test_wrong_serviceurl),
      cmocka_unit_test(test_missing_endorsement),
      cmocka_unit_test(test_unknown_kid_then_refresh),
      cmocka_unit_test(test_refresh_schedule),
      cmocka_unit_test(test_signed_by_other_key),
      cmocka_unit_test(test_tampered_payload),
      cmocka_unit_test(test_tampered_signature),
      cmocka_unit_test(test_alg_none),
      cmocka_unit_test(test_hs256_with_public_key),
      cmocka_unit_test(test_other_rsa_algs_refused),
      cmocka_unit_test(test_malformed),
      cmocka_unit_test(test_scheme),
      cmocka_unit_test(test_huge_header),
      cmocka_unit_test(test_jwks_load_errors_keep_old_set),
      cmocka_unit_test(test_jwks_skips_weak_and_duplicate_keys),
      cmocka_unit_test(test_jwks_x5c_only),
      cmocka_unit_test(test_b64),
      cmocka_unit_test(test_hmac_vector),
      cmocka_unit_test(test_hmac_refusals),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
