/*
 * report_queries.h — the numbers the monthly report (commands/report/) reads that no other
 * aggregate offers: pages per severity, per alert (the noisiest), and the action items opened,
 * done and overdue in a window. Each works over [from_ms, to_ms) on the pages' and items'
 * own times. Rows read out own their strings (report_rows_free). Errors: 0 or KX_E*.
 */
#ifndef KX_REPORT_QUERIES_H
#define KX_REPORT_QUERIES_H

#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

/* One group of pages (kind page, created in the window). */
struct report_page_row {
  char *name;          /* the severity, or the alert's title; "-" when the page has none */
  int64_t pages;       /* how many */
  int64_t acked;       /* of which acknowledged */
  int64_t ack_ms_sum;  /* sum of created -> acknowledged over the acknowledged ones */
  int64_t with_reason; /* resolved with a reason given by a person */
  int64_t false_positive;
};

enum report_page_by { REPORT_PAGES_SEVERITY = 0, REPORT_PAGES_ALERT };

/* Grouped by severity (by name) or by alert (most pages first, then by name), at most `limit`
 * rows (0: all). */
int report_pages_by(struct db *db,
                    enum report_page_by by,
                    int64_t from_ms,
                    int64_t to_ms,
                    size_t limit,
                    struct report_page_row **out,
                    size_t *n);
void report_rows_free(struct report_page_row *rows, size_t n);

/* Action items of incidents that are not drills: opened in the window, done in the window,
 * and overdue at to_ms (open then, and created more than `due_ms` before to_ms). */
int report_actions(struct db *db,
                   int64_t from_ms,
                   int64_t to_ms,
                   int64_t due_ms,
                   int64_t *opened,
                   int64_t *done,
                   int64_t *overdue);

#endif
