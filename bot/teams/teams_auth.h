/*
 * teams_auth.h — inbound authentication for Microsoft Teams: the Bot Framework JWT that the
 * Bot Connector puts in `Authorization: Bearer …`, checked against a cached JWKS, and the
 * `Authorization: HMAC …` signature of Teams Outgoing Webhooks.
 *
 * This module is pure: no sockets, no logging of its own, and a clock only in
 * teams_auth_now_ms(). The transport fetches the OpenID metadata and its jwks_uri over HTTP,
 * hands the JSON to teams_jwks_load(), and asks teams_jwks_refresh_due() when to fetch again
 * (every 24 h, and at most once a minute when a token names a kid the set does not have).
 * `now_ms` is the caller's, and the caller passes teams_auth_now_ms(): the real clock.
 *
 * Ownership: a struct teams_jwks is created by teams_jwks_new() and freed by
 * teams_jwks_free() (NULL is a no-op); it owns its keys (OpenSSL EVP_PKEYs) and strings.
 * teams_auth_verify() borrows everything it is given and allocates nothing that outlives it;
 * the result's reason is a static string, its kid a copy inside the struct.
 *
 * Errors (lib/kx.h): 0 accepted; KX_EINVAL malformed input (no such scheme, not three
 * base64url parts, not JSON, over a size cap, a NULL argument); KX_EAUTH a well-formed token
 * or signature that is refused (algorithm, signature, issuer, audience, time, serviceurl,
 * endorsement); KX_ENOTFOUND the token's kid is not in the set (refresh the JWKS if
 * teams_jwks_refresh_due() allows it and verify once more); KX_NOMEM.
 *
 * How the transport is meant to use it for POST /teams/messages (the serviceUrl to check the
 * token against lives in the body, so the body is parsed first but trusted only after this):
 *   teams_activity_parse(body) -> a                     (400 when it fails)
 *   rc = teams_auth_verify(jwks, authz, &{app_id, .service_url = a->service_url,
 *                          .channel_id = a->channel_id, .skew_ms = -1}, now, &res)
 *   if rc == KX_ENOTFOUND and teams_jwks_refresh_due(jwks, now, 1):
 *       teams_jwks_fetch_started(jwks, now); fetch metadata + jwks_uri; teams_jwks_load();
 *       verify once more (asynchronously, so hold the request until the fetch ends)
 *   rc != 0 -> 401/403 and LOG_WARN("teams", "auth_refused", "reason=%s kid=%s", …)
 *
 * Semantics chosen (see also the .c):
 * - Only RS256 is accepted. Microsoft's metadata advertises only RS256
 *   (id_token_signing_alg_values_supported); the SDK's RS384/RS512 allowance is not needed.
 *   `none`, HS*, ES*, PS* and RS384/RS512 are refused, and a header with `crit` is refused.
 * - The `serviceurl` claim must equal the activity's serviceUrl byte for byte (as the SDK
 *   does); a trailing-slash difference is refused, because that URL is where the bot later
 *   sends its own bearer token.
 * - The signing key must list the channel id in its `endorsements`. A key without an
 *   endorsements array is refused (the SDK skips the check then; Microsoft's keys carry it).
 * - `exp` is required; `nbf` is checked when present; both allow the skew.
 * - The auth scheme ("Bearer", "HMAC") is matched case-insensitively (RFC 7235).
 * - RSA keys must be 2048 to 8192 bits.
 */
#ifndef KX_TEAMS_AUTH_H
#define KX_TEAMS_AUTH_H

#include <stddef.h>
#include <stdint.h>

/* Caps on everything that comes from outside. */
#define TEAMS_AUTH_HEADER_MAX ((size_t)16 * 1024) /* the whole Authorization header value */
#define TEAMS_JWT_HEADER_MAX 2048                 /* decoded JOSE header */
#define TEAMS_JWT_PAYLOAD_MAX 8192                /* decoded claims */
#define TEAMS_JWKS_MAX_BYTES ((size_t)256 * 1024) /* the JWKS document */
#define TEAMS_JWKS_MAX_KEYS 64                    /* keys kept from one document */
#define TEAMS_JWK_MAX_ENDORSEMENTS 64             /* endorsements kept per key */
#define TEAMS_KID_MAX 128                         /* length of a kid */
#define TEAMS_HMAC_BODY_MAX ((size_t)256 * 1024)  /* an Outgoing Webhook body */
/* How far an Outgoing Webhook's `timestamp` may be from the real clock, either way (the
 * 5 minutes of clock skew Bot Framework tokens are allowed). */
#define TEAMS_WEBHOOK_FRESH_MS (5 * 60 * 1000)

#define TEAMS_DEFAULT_ISSUER "https://api.botframework.com"
#define TEAMS_DEFAULT_CHANNEL "msteams"
#define TEAMS_DEFAULT_SKEW_MS (5LL * 60 * 1000)
#define TEAMS_JWKS_MAX_AGE_MS (24LL * 60 * 60 * 1000) /* refresh the set at least daily */
#define TEAMS_JWKS_MISS_INTERVAL_MS (60LL * 1000)     /* unknown kid: at most one fetch a minute */

struct teams_jwks;

/* The clock every Teams security check is judged on: token nbf/exp, the JWKS cache's age and
 * the connector's own access-token lifetime. It is the real clock (CLOCK_REALTIME), never the
 * bot's simulated one: KLAXON_NOW and KLAXON_TIME_SCALE move business time only, and a token
 * Microsoft signed a second ago must be accepted whatever date a demo pretends it is. The skew
 * allowance (TEAMS_DEFAULT_SKEW_MS) covers the difference between our clock and Microsoft's. */
int64_t teams_auth_now_ms(void);

/* A new, empty key set; NULL when out of memory. */
struct teams_jwks *teams_jwks_new(void);
void teams_jwks_free(struct teams_jwks *jwks);

/* Parse a JWKS document ({"keys":[{kty,kid,n,e,x5c?,endorsements?}, …]}) and, on success,
 * replace the whole set with it and record now_ms as its load time. RSA keys with use absent
 * or "sig" are kept (n/e, or x5c[0] when n/e are absent); other keys are skipped. On any
 * error the previous set stays as it was. KX_EINVAL when the document is not JSON, has no
 * `keys` array or yields no usable key; KX_ETOOBIG over TEAMS_JWKS_MAX_BYTES. */
int teams_jwks_load(struct teams_jwks *jwks, const char *json, size_t len, int64_t now_ms);

/* 1 when the set holds a key with this kid, else 0 (NULL arguments give 0). */
int teams_jwks_has_kid(const struct teams_jwks *jwks, const char *kid);
/* Number of keys in the set. */
size_t teams_jwks_count(const struct teams_jwks *jwks);
/* When the current set was loaded; -1 before the first successful load. */
int64_t teams_jwks_loaded_at(const struct teams_jwks *jwks);

/* Whether the transport should fetch the JWKS now. 1 when nothing was ever loaded, when the
 * set is older than TEAMS_JWKS_MAX_AGE_MS, or when `unknown_kid` is set (verify returned
 * KX_ENOTFOUND) and no fetch was started in the last TEAMS_JWKS_MISS_INTERVAL_MS. Call
 * teams_jwks_fetch_started() whenever a fetch begins, so a failing or useless fetch is not
 * repeated in a loop. */
int teams_jwks_refresh_due(const struct teams_jwks *jwks, int64_t now_ms, int unknown_kid);
void teams_jwks_fetch_started(struct teams_jwks *jwks, int64_t now_ms);

struct teams_auth_expect {
  const char *app_id;      /* required: the `aud` to accept (the bot's Microsoft App ID) */
  const char *issuer;      /* NULL: TEAMS_DEFAULT_ISSUER */
  const char *service_url; /* required: the activity's serviceUrl */
  const char *channel_id;  /* NULL: TEAMS_DEFAULT_CHANNEL; must be in the key's endorsements */
  int64_t skew_ms;         /* < 0: TEAMS_DEFAULT_SKEW_MS; 0 means no skew */
};

struct teams_auth_result {
  const char *reason;          /* static text for the log: "ok", "expired", "wrong audience" … */
  char kid[TEAMS_KID_MAX + 1]; /* the token's kid when it could be read, else "" */
  int64_t exp_ms;              /* the token's exp in ms, -1 when not read */
};

/* Check `Authorization: Bearer <JWT>` (the header's value). All checks in the header
 * comment; `out` (may be NULL) always gets a reason. The token itself is never copied into
 * `out`, so the result can be logged whole. */
int teams_auth_verify(const struct teams_jwks *jwks,
                      const char *authorization_header,
                      const struct teams_auth_expect *expect,
                      int64_t now_ms,
                      struct teams_auth_result *out);

/* Check an Outgoing Webhook request: `HMAC <base64>` must be the HMAC-SHA256 of the raw
 * body under the base64-decoded shared secret, compared in constant time. 0 when it is;
 * KX_EAUTH when the signature differs; KX_EINVAL for a missing or other scheme, a signature
 * that is not base64 of 32 bytes, an empty or oversized body, or a secret that is not
 * base64. */
int teams_hmac_verify(const char *authorization_header,
                      const void *body,
                      size_t len,
                      const char *base64_secret);

/* Base64 decoding shared by the Teams modules and their tests. `url` selects the base64url
 * alphabet without padding (JWT); otherwise the standard alphabet with mandatory padding.
 * Decodes into out (capacity cap); KX_EINVAL on any invalid character or length,
 * KX_ETOOBIG when the result would exceed cap. *out_len gets the decoded size. */
int teams_b64_decode(
    const char *in, size_t in_len, int url, unsigned char *out, size_t cap, size_t *out_len);

#endif
