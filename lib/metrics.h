/*
 * metrics.h — process counters, gauges and histograms in Prometheus text format.
 *
 * A series is a metric name plus a label string written as Prometheus wants it
 * (`method="chat.postMessage",result="ok"`; "" for none). Names are declared once with their
 * type and help (metrics_describe / metrics_histogram); undeclared names are refused. Values
 * that live in the database (open incidents, outbox depth) are not kept here: the HTTP server
 * appends them at scrape time. Single-threaded, no allocation after a series first appears.
 */
#ifndef KX_METRICS_H
#define KX_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

enum metric_type { METRIC_COUNTER = 0, METRIC_GAUGE, METRIC_HISTOGRAM };

int metrics_describe(const char *name, enum metric_type type, const char *help);
/* Histogram bucket upper bounds (ascending, without +Inf), copied. */
int metrics_histogram(const char *name, const char *help, const double *bounds, size_t n);
void metrics_inc(const char *name, const char *labels, double n);
void metrics_set(const char *name, const char *labels, double value);
void metrics_observe(const char *name, const char *labels, double value);
double metrics_value(const char *name, const char *labels); /* counter/gauge, 0 if absent */
/* Quantile estimate from a histogram's buckets (for benchmarks and logs), or -1. */
double metrics_quantile(const char *name, const char *labels, double q);
int metrics_render(struct buf *out);
void metrics_reset(void); /* forget everything (tests) */

#endif
