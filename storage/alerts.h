/*
 * alerts.h — every alert klaxon has received (Alertmanager webhooks and the generic JSON
 * webhook), one row per fingerprint with its latest state. A repeat of a firing alert only
 * counts up `receives`; a resolved alert that fires again becomes firing again (a new
 * occurrence, `fires` counts them). Which page (or channel post) an alert belongs to is
 * `page_id`. Strings passed in are copied; rows read out own their strings.
 * Errors: 0 or a negative KX_E* code (KX_ENOTFOUND when a lookup finds nothing).
 */
#ifndef KX_ALERTS_STORE_H
#define KX_ALERTS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

struct alert_in {
  const char *fingerprint; /* required */
  const char *group_key;   /* Alertmanager groupKey, or the webhook's dedup_key */
  const char *source;      /* "alertmanager" | "webhook" */
  bool firing;             /* false: resolved */
  const char *alertname;
  const char *severity;         /* the alert's own severity label, may be NULL */
  const char *labels_json;      /* JSON object text */
  const char *annotations_json; /* JSON object text */
  int64_t starts_at, ends_at;   /* 0 when unknown */
  int route;                    /* index into alerts.routes, -1: none matched */
  const char *action;           /* "page" | "post" | "record" */
};

/* What an upsert changed. */
enum alert_change {
  ALERT_NEW = 0,        /* first time seen, firing */
  ALERT_NEW_RESOLVED,   /* first time seen, already resolved */
  ALERT_REPEAT,         /* firing, and it was firing */
  ALERT_REFIRED,        /* firing, and it was resolved */
  ALERT_RESOLVED,       /* resolved, and it was firing */
  ALERT_REPEAT_RESOLVED /* resolved, and it was resolved */
};

/* Insert or update by fingerprint. *page_id_out gets the alert's page (0 for none). */
int alerts_upsert(struct db *db,
                  const struct alert_in *a,
                  int64_t now_ms,
                  int64_t *id_out,
                  enum alert_change *change,
                  int64_t *page_id_out);
int alerts_set_page(struct db *db, int64_t alert_id, int64_t page_id);
/* The page (or post) of a firing alert; KX_ENOTFOUND when it is resolved, unknown or unpaged. */
int alerts_page_of(struct db *db, const char *fingerprint, int64_t *page_id);
/* The stored labels (JSON text, caller frees) of an alert, or NULL. */
char *alerts_labels_of(struct db *db, const char *fingerprint);
/* Alerts of a page: how many, and how many are still firing. */
int alerts_page_counts(struct db *db, int64_t page_id, int64_t *total, int64_t *firing);
int64_t alerts_received_total(struct db *db); /* every alert of every accepted webhook, or < 0 */

#endif
