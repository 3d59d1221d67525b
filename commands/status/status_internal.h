/*
 * status_internal.h — shared by the renderers of commands/status/ only: everything one page
 * shows, loaded once at `now`.
 */
#ifndef KX_STATUS_INTERNAL_H
#define KX_STATUS_INTERNAL_H

#include "commands/status/status.h"
#include "storage/incidents.h"

#define STATUS_PAGE_INCIDENTS 50 /* incidents in incidents.json and on the page */

struct status_inc {
  struct incident inc;
  struct status_update *up; /* public updates, newest first */
  size_t nup;
  struct status_comp *comps;
  size_t ncomps;
  int impact; /* enum status_state: the worst it set (or from the severity) */
};

struct status_data {
  struct status_model m;
  struct status_inc *inc; /* newest first */
  size_t ninc;
  struct status_window *win; /* not ended by now, and those ended in the last 7 days */
  size_t nwin;
};

int status_data_load(struct cmd_ctx *ctx, struct status_data *d);
void status_data_free(struct status_data *d);
/* Statuspage's words. */
const char *status_indicator(int overall);   /* none, minor, major, critical, maintenance */
const char *status_description(int overall); /* "All Systems Operational" … */
const char *status_impact(int state);        /* none, minor, major, critical, maintenance */
const char *status_inc_status(const struct incident *inc); /* investigating … resolved */
const char *status_state_label(int state);                 /* "Partial outage" */
const char *status_window_status(const struct status_window *w, int64_t now_ms);
/* Escape for HTML and XML text and attributes: & < > " ' */
int status_esc(struct buf *b, const char *s);

#endif
