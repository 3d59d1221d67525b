/*
 * alert_mail.h — alerts waiting for their digest mail (issue 11: `alerts.routes[].email` with
 * `digest: next_business_day`). One row per alert that fired on such a route: what the mail
 * says of it, whom it goes to, and which digest (`digest_key`, "route<i>@<due ms>") takes it;
 * `sent_at` once the digest mail is written to the outbox. Rows read out own their strings
 * (alert_mail_free). Errors: 0 or KX_E*.
 */
#ifndef KX_ALERT_MAIL_H
#define KX_ALERT_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

struct alert_mail {
  int64_t id;
  char *digest_key;
  char *recipients; /* addresses, comma-separated */
  char *title;
  char *summary;  /* may be NULL */
  char *severity; /* may be NULL */
  char *labels;   /* JSON object text */
  int64_t starts_at;
  int64_t created_at;
};

int alert_mail_add(struct db *db, const struct alert_mail *m, int64_t *id_out);
/* The unsent rows of a digest, oldest first, at most `limit`. */
int alert_mail_pending(
    struct db *db, const char *digest_key, size_t limit, struct alert_mail **out, size_t *n);
int alert_mail_sent(struct db *db, const char *digest_key, int64_t now_ms);
void alert_mail_free(struct alert_mail *rows, size_t n); /* NULL-safe */

#endif
