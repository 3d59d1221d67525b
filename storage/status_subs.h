/*
 * status_subs.h — the status page's email subscribers (issue 13). An address is stored with a
 * random token (the capability in its confirm and unsubscribe links); it is never shown on any
 * page or in any answer. Functions return 0 or a negative KX_E* code.
 */
#ifndef KX_STORAGE_STATUS_SUBS_H
#define KX_STORAGE_STATUS_SUBS_H

#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

struct status_sub {
  int64_t id;
  char *email;
  char *token;
  int64_t confirmed_at, mailed_at; /* 0 when never */
};

/* Add the address (unconfirmed, with token), or find it; a stopped subscription starts again
 * unconfirmed with the new token. *out gets the row as it is now. */
int status_sub_add(
    struct db *db, const char *email, const char *token, int64_t now_ms, struct status_sub *out);
int status_sub_mailed(struct db *db, int64_t id, int64_t now_ms);
/* By token: KX_ENOTFOUND when no live subscription has it. */
int status_sub_confirm(struct db *db, const char *token, int64_t now_ms);
int status_sub_remove(struct db *db, const char *token, int64_t now_ms);
/* Confirmed, live subscriptions, oldest first. */
int status_subs_confirmed(struct db *db, struct status_sub **out, size_t *n);
int64_t status_subs_count(struct db *db); /* confirmed and live; < 0 on error */
void status_sub_clear(struct status_sub *s);
void status_subs_free(struct status_sub *v, size_t n);

#endif
