#include "bot/teams/teams_auth.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/clock.h"
#include "lib/kx.h"

/* Caps that only this file needs. */
#define JWK_N_MAX 1024    /* modulus bytes: 8192 bits */
#define JWK_E_MAX 8       /* exponent bytes */
#define JWK_X5C_MAX 16384 /* one DER certificate */
#define JWT_SIG_MAX 1024  /* signature bytes: 8192-bit RSA */
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192
#define ENDORSEMENT_MAX 64  /* length of one endorsement string */
#define HMAC_SECRET_MAX 256 /* decoded Outgoing Webhook secret */
#define HMAC_SIG_LEN 32     /* SHA-256 */

struct teams_jwk {
  char *kid;
  EVP_PKEY *pkey;
  char **endorsements;
  size_t n_endorsements;
};

struct teams_jwks {
  struct teams_jwk *keys;
  size_t n;
  int64_t loaded_at;
  int64_t fetch_started_at;
};

/* ---- base64 ------------------------------------------------------------------------------ */

static int b64_value(unsigned char c, int url)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == (url ? '-' : '+'))
    return 62;
  if (c == (url ? '_' : '/'))
    return 63;
  return -1;
}

int teams_b64_decode(
    const char *in, size_t in_len, int url, unsigned char *out, size_t cap, size_t *out_len)
{
  if (!in || !out || !out_len)
    return KX_EINVAL;
  *out_len = 0;
  size_t data_len = in_len;
  if (!url) {
    /* Standard base64 carries its padding: the length is a multiple of 4 and at most two
     * '=' end it. */
    if (in_len % 4 != 0)
      return KX_EINVAL;
    if (data_len > 0 && in[data_len - 1] == '=')
      data_len--;
    if (data_len > 0 && in[data_len - 1] == '=')
      data_len--;
  }
  if (data_len % 4 == 1)
    return KX_EINVAL;
  size_t need = data_len / 4 * 3 + (data_len % 4 ? data_len % 4 - 1 : 0);
  if (need > cap)
    return KX_ETOOBIG;
  uint32_t acc = 0;
  int bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < data_len; i++) {
    int v = b64_value((unsigned char)in[i], url);
    if (v < 0)
      return KX_EINVAL;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  *out_len = o;
  return 0;
}

/* ---- JSON helpers ------------------------------------------------------------------------ */

/* The member `name` (case-sensitive) when it occurs exactly once; NULL when it is absent or
 * repeated. A repeated security-relevant member ("alg", "aud" …) is ambiguous, and parsers
 * disagree on which copy wins, so it counts as missing and the check fails closed. */
static const cJSON *unique_member(const cJSON *obj, const char *name, int *dup)
{
  const cJSON *found = NULL;
  const cJSON *it;
  if (dup)
    *dup = 0;
  cJSON_ArrayForEach (it, obj) {
    if (it->string && strcmp(it->string, name) == 0) {
      if (found) {
        if (dup)
          *dup = 1;
        return NULL;
      }
      found = it;
    }
  }
  return found;
}

static const char *unique_string(const cJSON *obj, const char *name)
{
  const cJSON *it = unique_member(obj, name, NULL);
  return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* Parse decoded bytes as one JSON object; NULL when they are not exactly that. */
static cJSON *parse_object(const unsigned char *data, size_t len)
{
  if (len == 0 || memchr(data, 0, len))
    return NULL;
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts((const char *)data, len, &end, 0);
  if (!root)
    return NULL;
  /* Only trailing whitespace may follow the object. */
  for (const char *p = end; p && p < (const char *)data + len; p++) {
    if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
      cJSON_Delete(root);
      return NULL;
    }
  }
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}

/* ---- JWKS -------------------------------------------------------------------------------- */

static void jwk_clear(struct teams_jwk *k)
{
  free(k->kid);
  EVP_PKEY_free(k->pkey);
  for (size_t i = 0; i < k->n_endorsements; i++)
    free(k->endorsements[i]);
  free(k->endorsements);
  memset(k, 0, sizeof(*k));
}

static void keys_free(struct teams_jwk *keys, size_t n)
{
  for (size_t i = 0; i < n; i++)
    jwk_clear(&keys[i]);
  free(keys);
}

struct teams_jwks *teams_jwks_new(void)
{
  struct teams_jwks *j = calloc(1, sizeof(*j));
  if (!j)
    return NULL;
  j->loaded_at = -1;
  j->fetch_started_at = -1;
  return j;
}

void teams_jwks_free(struct teams_jwks *jwks)
{
  if (!jwks)
    return;
  keys_free(jwks->keys, jwks->n);
  free(jwks);
}

static EVP_PKEY *rsa_from_n_e(const char *n64, const char *e64)
{
  unsigned char n[JWK_N_MAX], e[JWK_E_MAX];
  size_t nlen, elen;
  if (teams_b64_decode(n64, strlen(n64), 1, n, sizeof(n), &nlen) != 0 || nlen == 0)
    return NULL;
  if (teams_b64_decode(e64, strlen(e64), 1, e, sizeof(e), &elen) != 0 || elen == 0)
    return NULL;
  EVP_PKEY *pkey = NULL;
  BIGNUM *bn_n = BN_bin2bn(n, (int)nlen, NULL);
  BIGNUM *bn_e = BN_bin2bn(e, (int)elen, NULL);
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = NULL;
  if (!bn_n || !bn_e || !bld)
    goto done;
  if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
      !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
    goto done;
  params = OSSL_PARAM_BLD_to_param(bld);
  ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0)
    goto done;
  if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    pkey = NULL;
done:
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return pkey;
}

static EVP_PKEY *rsa_from_x5c(const char *cert64)
{
  unsigned char *der = malloc(JWK_X5C_MAX);
  size_t len;
  EVP_PKEY *pkey = NULL;
  if (!der)
    return NULL;
  if (teams_b64_decode(cert64, strlen(cert64), 0, der, JWK_X5C_MAX, &len) == 0) {
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x && p == der + len)
      pkey = X509_get_pubkey(x);
    X509_free(x);
  }
  free(der);
  if (pkey && !EVP_PKEY_is_a(pkey, "RSA")) {
    EVP_PKEY_free(pkey);
    pkey = NULL;
  }
  return pkey;
}

static int jwk_endorsements(const cJSON *arr, struct teams_jwk *k)
{
  if (!cJSON_IsArray(arr))
    return 0;
  int n = cJSON_GetArraySize(arr);
  if (n <= 0)
    return 0;
  if (n > TEAMS_JWK_MAX_ENDORSEMENTS)
    n = TEAMS_JWK_MAX_ENDORSEMENTS;
  k->endorsements = calloc((size_t)n, sizeof(char *));
  if (!k->endorsements)
    return KX_ENOMEM;
  const cJSON *it;
  cJSON_ArrayForEach (it, arr) {
    if ((int)k->n_endorsements == n)
      break;
    if (!cJSON_IsString(it) || strlen(it->valuestring) > ENDORSEMENT_MAX)
      continue;
    k->endorsements[k->n_endorsements] = kx_strdup(it->valuestring);
    if (!k->endorsements[k->n_endorsements])
      return KX_ENOMEM;
    k->n_endorsements++;
  }
  return 0;
}

/* Build one key from a JWK object. 1 when kept, 0 when skipped, <0 on error. */
static int jwk_parse(const cJSON *obj, struct teams_jwk *k)
{
  const char *kty = unique_string(obj, "kty");
  const char *kid = unique_string(obj, "kid");
  const char *use = unique_string(obj, "use");
  const char *n = unique_string(obj, "n");
  const char *e = unique_string(obj, "e");
  const cJSON *x5c = unique_member(obj, "x5c", NULL);
  if (!kty || strcmp(kty, "RSA") != 0)
    return 0;
  if (!kid || !*kid || strlen(kid) > TEAMS_KID_MAX)
    return 0;
  if (use && strcmp(use, "sig") != 0)
    return 0;
  EVP_PKEY *pkey = NULL;
  if (n && e) {
    pkey = rsa_from_n_e(n, e);
  } else if (cJSON_IsArray(x5c) && cJSON_IsString(cJSON_GetArrayItem(x5c, 0))) {
    pkey = rsa_from_x5c(cJSON_GetArrayItem(x5c, 0)->valuestring);
  }
  if (!pkey)
    return 0;
  int bits = EVP_PKEY_get_bits(pkey);
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    EVP_PKEY_free(pkey);
    return 0;
  }
  k->pkey = pkey;
  k->kid = kx_strdup(kid);
  if (!k->kid)
    return KX_ENOMEM;
  int rc = jwk_endorsements(unique_member(obj, "endorsements", NULL), k);
  return rc < 0 ? rc : 1;
}

static int kid_in(const struct teams_jwk *keys, size_t n, const char *kid)
{
  for (size_t i = 0; i < n; i++) {
    if (strcmp(keys[i].kid, kid) == 0)
      return 1;
  }
  return 0;
}

int teams_jwks_load(struct teams_jwks *jwks, const char *json, size_t len, int64_t now_ms)
{
  if (!jwks || !json)
    return KX_EINVAL;
  if (len > TEAMS_JWKS_MAX_BYTES)
    return KX_ETOOBIG;
  cJSON *root = parse_object((const unsigned char *)json, len);
  if (!root)
    return KX_EINVAL;
  const cJSON *arr = unique_member(root, "keys", NULL);
  if (!cJSON_IsArray(arr)) {
    cJSON_Delete(root);
    return KX_EINVAL;
  }
  struct teams_jwk *keys = calloc(TEAMS_JWKS_MAX_KEYS, sizeof(*keys));
  size_t n = 0;
  int rc = keys ? 0 : KX_ENOMEM;
  const cJSON *it;
  cJSON_ArrayForEach (it, arr) {
    if (rc < 0 || n == TEAMS_JWKS_MAX_KEYS)
      break;
    if (!cJSON_IsObject(it))
      continue;
    int kept = jwk_parse(it, &keys[n]);
    if (kept < 0)
      rc = kept;
    /* A second key with a kid already seen is dropped: one kid names one key. */
    if (kept == 1 && kid_in(keys, n, keys[n].kid))
      kept = 0;
    if (kept == 1) {
      n++;
    } else {
      jwk_clear(&keys[n]);
    }
  }
  cJSON_Delete(root);
  if (rc == 0 && n == 0)
    rc = KX_EINVAL;
  if (rc < 0) {
    keys_free(keys, n);
    return rc;
  }
  keys_free(jwks->keys, jwks->n);
  jwks->keys = keys;
  jwks->n = n;
  jwks->loaded_at = now_ms;
  return 0;
}

static const struct teams_jwk *find_key(const struct teams_jwks *jwks, const char *kid)
{
  if (!jwks || !kid)
    return NULL;
  for (size_t i = 0; i < jwks->n; i++) {
    if (strcmp(jwks->keys[i].kid, kid) == 0)
      return &jwks->keys[i];
  }
  return NULL;
}

int teams_jwks_has_kid(const struct teams_jwks *jwks, const char *kid)
{
  return find_key(jwks, kid) != NULL;
}

size_t teams_jwks_count(const struct teams_jwks *jwks)
{
  return jwks ? jwks->n : 0;
}

int64_t teams_jwks_loaded_at(const struct teams_jwks *jwks)
{
  return jwks ? jwks->loaded_at : -1;
}

int teams_jwks_refresh_due(const struct teams_jwks *jwks, int64_t now_ms, int unknown_kid)
{
  if (!jwks)
    return 0;
  int recently =
      jwks->fetch_started_at >= 0 && now_ms - jwks->fetch_started_at < TEAMS_JWKS_MISS_INTERVAL_MS;
  /* Even the scheduled refresh waits out the minute, so a failing fetch is not retried in a
   * tight loop; the keys already held stay in use meanwhile. */
  if (recently)
    return 0;
  if (jwks->loaded_at < 0)
    return 1;
  if (now_ms - jwks->loaded_at >= TEAMS_JWKS_MAX_AGE_MS)
    return 1;
  return unknown_kid ? 1 : 0;
}

void teams_jwks_fetch_started(struct teams_jwks *jwks, int64_t now_ms)
{
  if (jwks)
    jwks->fetch_started_at = now_ms;
}

int64_t teams_auth_now_ms(void)
{
  return (int64_t)clock_wall_ms();
}

/* ---- JWT --------------------------------------------------------------------------------- */

/* The parts of a token, decoded into fixed buffers (no allocation for hostile input). */
struct jwt_parts {
  const char *signing_input; /* "header.payload", as received */
  size_t signing_len;
  unsigned char header[TEAMS_JWT_HEADER_MAX];
  size_t header_len;
  unsigned char payload[TEAMS_JWT_PAYLOAD_MAX];
  size_t payload_len;
  unsigned char sig[JWT_SIG_MAX];
  size_t sig_len;
};

static int set_reason(struct teams_auth_result *out, int rc, const char *reason)
{
  if (out)
    out->reason = reason;
  return rc;
}

/* The credentials after "<scheme> " (case-insensitive scheme, one or more spaces), or NULL. */
static const char *after_scheme(const char *header, const char *scheme)
{
  size_t n = strlen(scheme);
  if (strncasecmp(header, scheme, n) != 0 || header[n] != ' ')
    return NULL;
  const char *p = header + n;
  while (*p == ' ')
    p++;
  return p;
}

static int split_token(const char *token, struct jwt_parts *p, struct teams_auth_result *out)
{
  const char *dot1 = strchr(token, '.');
  const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
  if (!dot1 || !dot2 || strchr(dot2 + 1, '.'))
    return set_reason(out, KX_EINVAL, "token is not three parts");
  size_t tok_len = strlen(token);
  /* Trailing whitespace is not part of a token; anything else is refused by the decoder. */
  while (tok_len > 0 && (token[tok_len - 1] == ' ' || token[tok_len - 1] == '\t'))
    tok_len--;
  const char *end = token + tok_len;
  if (end <= dot2 + 1)
    return set_reason(out, KX_EINVAL, "empty signature");
  p->signing_input = token;
  p->signing_len = (size_t)(dot2 - token);
  int rc = teams_b64_decode(token, (size_t)(dot1 - token), 1, p->header, sizeof(p->header),
                            &p->header_len);
  if (rc == KX_ETOOBIG)
    return set_reason(out, KX_EINVAL, "header too large");
  if (rc < 0)
    return set_reason(out, KX_EINVAL, "header is not base64url");
  rc = teams_b64_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), 1, p->payload, sizeof(p->payload),
                        &p->payload_len);
  if (rc == KX_ETOOBIG)
    return set_reason(out, KX_EINVAL, "payload too large");
  if (rc < 0)
    return set_reason(out, KX_EINVAL, "payload is not base64url");
  rc = teams_b64_decode(dot2 + 1, (size_t)(end - dot2 - 1), 1, p->sig, sizeof(p->sig), &p->sig_len);
  if (rc == KX_ETOOBIG)
    return set_reason(out, KX_EINVAL, "signature too large");
  if (rc < 0)
    return set_reason(out, KX_EINVAL, "signature is not base64url");
  if (p->header_len == 0 || p->payload_len == 0 || p->sig_len == 0)
    return set_reason(out, KX_EINVAL, "empty part");
  return 0;
}

/* Check the JOSE header and find the key. On success *key is set. */
static int check_header(const struct jwt_parts *p,
                        const struct teams_jwks *jwks,
                        const struct teams_jwk **key,
                        struct teams_auth_result *out)
{
  cJSON *h = parse_object(p->header, p->header_len);
  if (!h)
    return set_reason(out, KX_EINVAL, "header is not a JSON object");
  int rc = 0;
  int dup = 0;
  const cJSON *alg = unique_member(h, "alg", &dup);
  const char *kid = unique_string(h, "kid");
  if (dup || !cJSON_IsString(alg)) {
    rc = set_reason(out, KX_EAUTH, "no alg");
  } else if (strcmp(alg->valuestring, "RS256") != 0) {
    /* Only RS256: this refuses "none", the HS256-with-the-public-key confusion and every
     * algorithm Microsoft does not advertise. */
    rc = set_reason(out, KX_EAUTH, "algorithm not allowed");
  } else if (cJSON_GetObjectItemCaseSensitive(h, "crit")) {
    rc = set_reason(out, KX_EAUTH, "critical header extension");
  } else if (!kid || !*kid) {
    rc = set_reason(out, KX_EAUTH, "no kid");
  } else if (strlen(kid) > TEAMS_KID_MAX) {
    rc = set_reason(out, KX_EINVAL, "kid too long");
  } else {
    if (out)
      (void)snprintf(out->kid, sizeof(out->kid), "%s", kid);
    *key = find_key(jwks, kid);
    if (!*key)
      rc = set_reason(out, KX_ENOTFOUND, "unknown kid");
  }
  cJSON_Delete(h);
  return rc;
}

static int check_signature(const struct jwt_parts *p, EVP_PKEY *pkey)
{
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (!md)
    return KX_ENOMEM;
  int ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
           EVP_DigestVerify(md, p->sig, p->sig_len, (const unsigned char *)p->signing_input,
                            p->signing_len) == 1;
  EVP_MD_CTX_free(md);
  return ok ? 0 : KX_EAUTH;
}

/* A NumericDate claim in ms. 0 when present and sane, 1 when absent, <0 when unusable. */
static int numeric_date(const cJSON *payload, const char *name, int64_t *ms)
{
  int dup = 0;
  const cJSON *it = unique_member(payload, name, &dup);
  if (!it && !dup)
    return 1;
  if (!it || !cJSON_IsNumber(it))
    return KX_EAUTH;
  double v = it->valuedouble;
  /* Seconds since 1970, before the year 10000: anything else is not a date. */
  if (!isfinite(v) || v < 0 || v > 253402300799.0)
    return KX_EAUTH;
  *ms = (int64_t)(v * 1000.0);
  return 0;
}

static int audience_matches(const cJSON *payload, const char *app_id)
{
  int dup = 0;
  const cJSON *aud = unique_member(payload, "aud", &dup);
  if (cJSON_IsString(aud))
    return strcmp(aud->valuestring, app_id) == 0;
  if (!cJSON_IsArray(aud))
    return 0;
  const cJSON *it;
  cJSON_ArrayForEach (it, aud) {
    if (cJSON_IsString(it) && strcmp(it->valuestring, app_id) == 0)
      return 1;
  }
  return 0;
}

static int check_claims(const struct jwt_parts *p,
                        const struct teams_auth_expect *expect,
                        int64_t now_ms,
                        struct teams_auth_result *out)
{
  cJSON *c = parse_object(p->payload, p->payload_len);
  if (!c)
    return set_reason(out, KX_EINVAL, "payload is not a JSON object");
  const char *issuer = expect->issuer ? expect->issuer : TEAMS_DEFAULT_ISSUER;
  int64_t skew = expect->skew_ms < 0 ? TEAMS_DEFAULT_SKEW_MS : expect->skew_ms;
  int64_t exp_ms = 0, nbf_ms = 0;
  int exp_rc = numeric_date(c, "exp", &exp_ms);
  int nbf_rc = numeric_date(c, "nbf", &nbf_ms);
  const char *iss = unique_string(c, "iss");
  const char *surl = unique_string(c, "serviceurl");
  int rc = 0;
  if (exp_rc == 0 && out)
    out->exp_ms = exp_ms;
  if (!iss || strcmp(iss, issuer) != 0) {
    rc = set_reason(out, KX_EAUTH, "wrong issuer");
  } else if (!audience_matches(c, expect->app_id)) {
    rc = set_reason(out, KX_EAUTH, "wrong audience");
  } else if (exp_rc != 0) {
    rc = set_reason(out, KX_EAUTH, exp_rc == 1 ? "no exp" : "bad exp");
  } else if (now_ms >= exp_ms + skew) {
    rc = set_reason(out, KX_EAUTH, "expired");
  } else if (nbf_rc < 0) {
    rc = set_reason(out, KX_EAUTH, "bad nbf");
  } else if (nbf_rc == 0 && now_ms + skew < nbf_ms) {
    rc = set_reason(out, KX_EAUTH, "not yet valid");
  } else if (!surl) {
    rc = set_reason(out, KX_EAUTH, "no serviceurl");
  } else if (strcmp(surl, expect->service_url) != 0) {
    rc = set_reason(out, KX_EAUTH, "wrong serviceurl");
  }
  cJSON_Delete(c);
  return rc;
}

static int endorsed(const struct teams_jwk *key, const char *channel)
{
  for (size_t i = 0; i < key->n_endorsements; i++) {
    if (strcmp(key->endorsements[i], channel) == 0)
      return 1;
  }
  return 0;
}

int teams_auth_verify(const struct teams_jwks *jwks,
                      const char *authorization_header,
                      const struct teams_auth_expect *expect,
                      int64_t now_ms,
                      struct teams_auth_result *out)
{
  if (out) {
    out->reason = "";
    out->kid[0] = '\0';
    out->exp_ms = -1;
  }
  if (!jwks || !expect || !expect->app_id || !*expect->app_id || !expect->service_url)
    return set_reason(out, KX_EINVAL, "verifier not configured");
  if (!authorization_header || !*authorization_header)
    return set_reason(out, KX_EINVAL, "no authorization header");
  if (strnlen(authorization_header, TEAMS_AUTH_HEADER_MAX + 1) > TEAMS_AUTH_HEADER_MAX)
    return set_reason(out, KX_EINVAL, "authorization header too long");
  const char *token = after_scheme(authorization_header, "Bearer");
  if (!token)
    return set_reason(out, KX_EINVAL, "not a Bearer token");

  struct jwt_parts *p = malloc(sizeof(*p));
  if (!p)
    return set_reason(out, KX_ENOMEM, "out of memory");
  const struct teams_jwk *key = NULL;
  int rc = split_token(token, p, out);
  if (rc == 0)
    rc = check_header(p, jwks, &key, out);
  if (rc == 0) {
    rc = check_signature(p, key->pkey);
    if (rc < 0)
      set_reason(out, rc, rc == KX_EAUTH ? "bad signature" : "out of memory");
  }
  if (rc == 0)
    rc = check_claims(p, expect, now_ms, out);
  if (rc == 0) {
    const char *channel = expect->channel_id ? expect->channel_id : TEAMS_DEFAULT_CHANNEL;
    if (!endorsed(key, channel))
      rc = set_reason(out, KX_EAUTH, "key not endorsed for channel");
  }
  free(p);
  return rc == 0 ? set_reason(out, 0, "ok") : rc;
}

/* ---- Outgoing Webhook HMAC -------------------------------------------------------------- */

int teams_hmac_verify(const char *authorization_header,
                      const void *body,
                      size_t len,
                      const char *base64_secret)
{
  if (!authorization_header || !base64_secret || !body || len == 0)
    return KX_EINVAL;
  if (len > TEAMS_HMAC_BODY_MAX)
    return KX_EINVAL;
  size_t hlen = strnlen(authorization_header, TEAMS_AUTH_HEADER_MAX + 1);
  if (hlen > TEAMS_AUTH_HEADER_MAX)
    return KX_EINVAL;
  const char *sig64 = after_scheme(authorization_header, "HMAC");
  if (!sig64)
    return KX_EINVAL;
  size_t sig64_len = strlen(sig64);
  while (sig64_len > 0 && sig64[sig64_len - 1] == ' ')
    sig64_len--;

  unsigned char given[HMAC_SIG_LEN + 2];
  size_t given_len;
  if (teams_b64_decode(sig64, sig64_len, 0, given, sizeof(given), &given_len) != 0 ||
      given_len != HMAC_SIG_LEN)
    return KX_EINVAL;
  unsigned char key[HMAC_SECRET_MAX];
  size_t key_len;
  if (teams_b64_decode(base64_secret, strlen(base64_secret), 0, key, sizeof(key), &key_len) != 0 ||
      key_len == 0)
    return KX_EINVAL;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  unsigned char *r = HMAC(EVP_sha256(), key, (int)key_len, body, len, mac, &mac_len);
  OPENSSL_cleanse(key, sizeof(key));
  if (!r || mac_len != HMAC_SIG_LEN)
    return KX_ENOMEM;
  return kx_ct_equal(mac, mac_len, given, given_len) ? 0 : KX_EAUTH;
}
