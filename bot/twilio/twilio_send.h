/*
 * twilio_send.h — the outbox sender for rows of platform "twilio": Twilio's REST API, the
 * Messages and Calls resources (issue 11).
 *
 *   method "Messages"  POST {api}/2010-04-01/Accounts/{AccountSid}/Messages.json
 *   method "Calls"     POST {api}/2010-04-01/Accounts/{AccountSid}/Calls.json
 *
 * {api} is $KLAXON_TWILIO_API_URL (default https://api.twilio.com), read once at start. The
 * row's body is a JSON object whose string members are the form fields, sent as they are,
 * form-encoded: To, Body | Url (or Twiml), StatusCallback, StatusCallbackEvent,
 * StatusCallbackMethod, MachineDetection, Timeout … . `From` may be left out: the config's
 * twilio.from is used. A member that is not a string (a number, an array) refuses the row.
 * HTTP basic auth AccountSid:AuthToken; the token is never logged.
 *
 * Results (the sender's done callback): 2xx → 0 with Twilio's resource as the response (the
 * hook reads "sid" and "status"; a 2xx whose body is not JSON gives an empty object); 429 →
 * KX_ERATELIMITED (Retry-After honoured); 5xx, timeouts and network errors → KX_ERETRY
 * (backoff, forever, as for Slack rows); any other status → KX_EPLATFORM, permanent, with the
 * error "twilio_CODE: MESSAGE" from Twilio's error JSON ({"code": 21211, "message": …}), or
 * "twilio_http_STATUS" when the body has no code. A row that cannot be sent (bad JSON, unknown
 * method) is refused synchronously with KX_EINVAL / KX_EUNSUPPORTED (the sender fails it).
 *
 * Ownership: twilio_send_new copies its strings (the token is wiped at free);
 * twilio_send_free (NULL-safe) releases it once no call is in flight.
 */
#ifndef KX_TWILIO_SEND_H
#define KX_TWILIO_SEND_H

#include <stddef.h>

#include "bot/net/http_client.h"
#include "bot/sender.h"

#define TWILIO_DEFAULT_API_URL "https://api.twilio.com"
#define TWILIO_API_VERSION "2010-04-01"
#define TWILIO_TIMEOUT_MS 15000
#define TWILIO_RESPONSE_MAX ((size_t)256 * 1024)
#define TWILIO_BODY_MAX ((size_t)64 * 1024) /* the form we send */

struct twilio_send;

/* NULL (logged) when out of memory or a credential is empty. api_url NULL: the default. */
struct twilio_send *twilio_send_new(struct http_client *http,
                                    const char *api_url,
                                    const char *account_sid,
                                    const char *auth_token,
                                    const char *from);
void twilio_send_free(struct twilio_send *t);
/* A sender_platform_fn: arg is the struct twilio_send. */
int twilio_send_row(void *arg, struct sender *s, const struct outbox_row *row, sender_done_fn done);

/* The pieces, pure, for tests. twilio_request builds the URL and the form body of a row
 * (both malloc'd, the caller frees): 0, KX_EINVAL (body not an object of strings, no To),
 * KX_EUNSUPPORTED (method), KX_ENOMEM, KX_ETOOBIG. */
int twilio_request(const char *api_url,
                   const char *account_sid,
                   const char *from,
                   const char *method,
                   const char *row_body,
                   char **url,
                   char **form);
/* Map an HTTP answer: the return is the done callback's err; *json (the caller deletes it) is
 * the parsed resource on success; error gets "twilio_CODE: MESSAGE" on a refusal. `status` 0
 * with transport_err set is a network failure. */
int twilio_result(
    int transport_err, long status, const char *body, char *error, size_t error_size, cJSON **json);

#endif
