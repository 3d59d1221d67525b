/*
 * home_views.h — the people who opened klaxon's App Home tab, and a fingerprint of the view
 * last published for each, so the Home is redrawn (views.publish) only when what it shows has
 * changed. Strings handed out are the caller's (home_views_free). Errors: 0 or KX_E*.
 */
#ifndef KX_STORAGE_HOME_VIEWS_H
#define KX_STORAGE_HOME_VIEWS_H

#include <stddef.h>
#include <stdint.h>

#include "storage/db.h"

struct home_view_row {
  char *user; /* the platform user id (Slack U…) */
  char *hash; /* fingerprint of the last view written to the outbox, "" when none */
  int64_t opened_at;
};

/* Remember that `user` opened the Home (insert or touch). */
int home_views_opened(struct db *db, const char *user, int64_t now_ms);
/* Everyone who ever opened the Home, at most `limit`, oldest opening first. */
int home_views_list(struct db *db, size_t limit, struct home_view_row **out, size_t *n);
void home_views_free(struct home_view_row *rows, size_t n);
/* The fingerprint of the view just written for `user`. */
int home_views_published(struct db *db, const char *user, const char *hash, int64_t now_ms);
/* The fingerprint last written for `user` (caller frees), NULL when none. */
char *home_views_hash(struct db *db, const char *user);

#endif
