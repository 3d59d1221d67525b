#include "lib/twilio_sig.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/kx.h"

/* The URL plus every name and value: a form is capped at FORM_MAX_SIZE decoded bytes, and each
 * repeated name is counted once per value. */
#define SIG_DATA_MAX (FORM_MAX_SIZE * 2 + 8192)
#define URL_MAX 4096

/* qsort_r's comparison: indexes into the form's fields, by name and then by value. */
static int by_key_value(const void *a, const void *b, void *arg)
{
  const struct form *f = arg;
  const struct form_field *x = &f->v[*(const size_t *)a];
  const struct form_field *y = &f->v[*(const size_t *)b];
  int c = strcmp(x->key, y->key);
  return c ? c : strcmp(x->value, y->value);
}

/* url + sorted params into b. */
static int sig_data(struct buf *b, const char *url, const struct form *params)
{
  int rc = buf_puts(b, url);
  if (rc || !params || params->n == 0)
    return rc;
  size_t *idx = calloc(params->n, sizeof(size_t));
  if (!idx)
    return KX_ENOMEM;
  for (size_t i = 0; i < params->n; i++)
    idx[i] = i;
  qsort_r(idx, params->n, sizeof(size_t), by_key_value, (void *)params);
  const struct form_field *prev = NULL;
  for (size_t i = 0; i < params->n && !rc; i++) {
    const struct form_field *fl = &params->v[idx[i]];
    /* A value that repeats under one name counts once (the npm library dedupes with a Set). */
    if (prev && strcmp(fl->key, prev->key) == 0 && strcmp(fl->value, prev->value) == 0)
      continue;
    prev = fl;
    rc = buf_puts(b, fl->key);
    if (!rc)
      rc = buf_puts(b, fl->value);
  }
  free(idx);
  return rc;
}

int twilio_sig_compute(const char *auth_token,
                       const char *url,
                       const struct form *params,
                       char out[TWILIO_SIG_LEN + 1])
{
  out[0] = '\0';
  if (!auth_token || !*auth_token || !url || !*url)
    return KX_EINVAL;
  struct buf b;
  buf_init(&b, SIG_DATA_MAX);
  int rc = sig_data(&b, url, params);
  if (rc) {
    buf_free(&b);
    return rc;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  unsigned char *r = HMAC(EVP_sha1(), auth_token, (int)strlen(auth_token),
                          (const unsigned char *)b.data, b.len, mac, &mac_len);
  buf_free(&b);
  if (!r || mac_len != 20)
    return KX_ENOMEM;
  unsigned char enc[TWILIO_SIG_LEN + 4];
  int n = EVP_EncodeBlock(enc, mac, (int)mac_len);
  if (n != TWILIO_SIG_LEN)
    return KX_EINVAL;
  memcpy(out, enc, TWILIO_SIG_LEN + 1);
  return 0;
}

/* Split like twilio-node's splitUrl: scheme "x://", authority up to '/', '?' or '#'. Fills
 * *host_end (end of the host, before any port) and *auth_end; false without a scheme. */
static bool split_url(const char *url, size_t *scheme_len, size_t *host_end, size_t *auth_end)
{
  const char *sep = strstr(url, "://");
  if (!sep || sep == url)
    return false;
  for (const char *p = url; p < sep; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (p > url && ((*p >= '0' && *p <= '9') || *p == '+' || *p == '.' || *p == '-'))))
      return false;
  *scheme_len = (size_t)(sep - url) + 3;
  size_t a = *scheme_len;
  size_t e = a + strcspn(url + a, "/?#");
  *auth_end = e;
  /* The port's colon comes after any user info and after an IPv6 literal's ']'. */
  size_t hp = a;
  for (size_t i = a; i < e; i++)
    if (url[i] == '@')
      hp = i + 1;
  size_t from = hp;
  for (size_t i = hp; i < e; i++)
    if (url[i] == ']')
      from = i + 1;
  const char *colon = memchr(url + from, ':', e - from);
  *host_end = colon ? (size_t)(colon - url) : e;
  return true;
}

static bool same(const char *want, const char *given)
{
  size_t n = strlen(given);
  return n == TWILIO_SIG_LEN && CRYPTO_memcmp(want, given, TWILIO_SIG_LEN) == 0;
}

static bool try_url(const char *token, const char *url, const struct form *p, const char *given)
{
  char sig[TWILIO_SIG_LEN + 1];
  return twilio_sig_compute(token, url, p, sig) == 0 && same(sig, given);
}

bool twilio_sig_ok(const char *auth_token,
                   const char *full_url,
                   const struct form *params,
                   const char *header_value)
{
  if (!auth_token || !*auth_token || !full_url || !*full_url || !header_value || !*header_value)
    return false;
  size_t len = strlen(full_url);
  if (len > URL_MAX)
    return false;
  /* Evaluate every candidate: how many match must not change the time taken. */
  bool ok = try_url(auth_token, full_url, params, header_value);
  size_t scheme_len, host_end, auth_end;
  char alt[URL_MAX + 16];
  if (split_url(full_url, &scheme_len, &host_end, &auth_end)) {
    /* Without the port. */
    snprintf(alt, sizeof(alt), "%.*s%s", (int)host_end, full_url, full_url + auth_end);
    ok |= try_url(auth_token, alt, params, header_value);
    if (host_end == auth_end) {
      /* With the scheme's default port. */
      bool https = scheme_len == 8 && strncasecmp(full_url, "https://", 8) == 0;
      snprintf(alt, sizeof(alt), "%.*s%s%s", (int)host_end, full_url, https ? ":443" : ":80",
               full_url + host_end);
      ok |= try_url(auth_token, alt, params, header_value);
    }
  }
  return ok;
}
