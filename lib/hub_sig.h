/*
 * hub_sig.h — the HMAC-SHA256 signature GitHub (X-Hub-Signature-256) and Jira Cloud
 * (X-Hub-Signature) put on their webhooks (issue 14): "sha256=" and the lower- or upper-case hex
 * HMAC-SHA256 of the raw body under the webhook's secret. Compared in constant time.
 */
#ifndef KX_HUB_SIG_H
#define KX_HUB_SIG_H

#include <stdbool.h>
#include <stddef.h>

/* "sha256=<64 hex>" into out (at least 72 bytes); 0, or KX_EINVAL/KX_EIO. */
int hub_sig_compute(const char *secret, const char *body, size_t len, char *out, size_t size);
/* Does header carry the body's signature under secret? false for a NULL/empty secret or header. */
bool hub_sig_ok(const char *secret, const char *body, size_t len, const char *header);

#endif
