/*
 * pager_http.h — the routes that answer pages (issue 11):
 *   POST /twilio/sms, /twilio/voice, /twilio/status  Twilio's webhooks, each checked against
 *        X-Twilio-Signature (HMAC-SHA1 with the Auth Token over public_url + path + query and
 *        the sorted form fields; lib/twilio_sig.h) before anything is read into klaxon: 403
 *        and nothing acted on otherwise; answered with TwiML;
 *   GET|POST /pages/ack/<token>  the one-time acknowledge links (commands/paging/paging_links.c).
 */
#ifndef KX_PAGER_HTTP_H
#define KX_PAGER_HTTP_H

struct module_env;

/* Registers the routes when there is an HTTP server; 0 or a KX_E* code. */
int pager_http_init(const struct module_env *env, void **state);

#endif
