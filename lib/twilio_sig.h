/*
 * twilio_sig.h — Twilio's request signature (X-Twilio-Signature), as Twilio's helper libraries
 * compute it: base64(HMAC-SHA1(auth_token, URL + for each POST parameter sorted by name:
 * name + value)). The URL is the full URL Twilio requested, query string included, exactly as
 * configured (not re-encoded). A name that repeats contributes name + value once per distinct
 * value, values sorted (the npm library's toFormUrlEncodedParam). The query's parameters are
 * signed as part of the URL only, never as POST parameters.
 *
 * twilio_sig_ok accepts the URL as given, without its port and with the scheme's default port
 * (":443" / ":80") added, as twilio-node's validateRequest does (Twilio may sign either form
 * behind a proxy); it does not try twilio-node's re-encoded query variants. No allocation
 * survives a call; the token is never logged.
 */
#ifndef KX_TWILIO_SIG_H
#define KX_TWILIO_SIG_H

#include <stdbool.h>

#include "lib/form.h"

#define TWILIO_SIG_LEN 28 /* base64 of a 20-byte SHA-1 MAC */

/* The signature of a request to `url` with POST `params` (NULL: none) into out (NUL-ended).
 * 0; KX_EINVAL without a token or URL; KX_ENOMEM; KX_ETOOBIG past the form's caps. */
int twilio_sig_compute(const char *auth_token,
                       const char *url,
                       const struct form *params,
                       char out[TWILIO_SIG_LEN + 1]);
/* Whether header_value is the signature of the request (constant-time compare). False when any
 * argument is NULL or empty. */
bool twilio_sig_ok(const char *auth_token,
                   const char *full_url,
                   const struct form *params,
                   const char *header_value);

#endif
