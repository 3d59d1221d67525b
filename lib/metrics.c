#include "lib/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/kx.h"
#include "lib/log.h"

#define METRICS_MAX_NAMES 64
#define METRICS_MAX_SERIES 1024
#define METRICS_MAX_BUCKETS 24
#define METRICS_LABELS_MAX 160

struct family {
  char name[96];
  char help[200];
  enum metric_type type;
  double bounds[METRICS_MAX_BUCKETS];
  size_t n_bounds;
};

struct series {
  int family;
  char labels[METRICS_LABELS_MAX];
  double value; /* counter, gauge; histogram: sum */
  uint64_t count;
  uint64_t buckets[METRICS_MAX_BUCKETS];
};

static struct family families[METRICS_MAX_NAMES];
static size_t n_families;
static struct series all[METRICS_MAX_SERIES];
static size_t n_series;

void metrics_reset(void)
{
  n_families = 0;
  n_series = 0;
}

static int family_index(const char *name)
{
  for (size_t i = 0; i < n_families; i++)
    if (strcmp(families[i].name, name) == 0)
      return (int)i;
  return -1;
}

int metrics_describe(const char *name, enum metric_type type, const char *help)
{
  int i = family_index(name);
  if (i >= 0)
    return 0;
  if (n_families == METRICS_MAX_NAMES)
    return KX_ETOOBIG;
  struct family *f = &families[n_families++];
  snprintf(f->name, sizeof(f->name), "%s", name);
  snprintf(f->help, sizeof(f->help), "%s", help);
  f->type = type;
  f->n_bounds = 0;
  return 0;
}

int metrics_histogram(const char *name, const char *help, const double *bounds, size_t n)
{
  if (n > METRICS_MAX_BUCKETS)
    return KX_ETOOBIG;
  int rc = metrics_describe(name, METRIC_HISTOGRAM, help);
  if (rc)
    return rc;
  struct family *f = &families[family_index(name)];
  memcpy(f->bounds, bounds, n * sizeof(*bounds));
  f->n_bounds = n;
  return 0;
}

static struct series *find(const char *name, const char *labels, int create)
{
  int fi = family_index(name);
  if (fi < 0) {
    LOG_ERROR("metrics", "undeclared", "name=%s", name);
    return NULL;
  }
  if (!labels)
    labels = "";
  for (size_t i = 0; i < n_series; i++)
    if (all[i].family == fi && strcmp(all[i].labels, labels) == 0)
      return &all[i];
  if (!create || n_series == METRICS_MAX_SERIES || strlen(labels) >= METRICS_LABELS_MAX)
    return NULL;
  struct series *s = &all[n_series++];
  memset(s, 0, sizeof(*s));
  s->family = fi;
  snprintf(s->labels, sizeof(s->labels), "%s", labels);
  return s;
}

void metrics_inc(const char *name, const char *labels, double n)
{
  struct series *s = find(name, labels, 1);
  if (s)
    s->value += n;
}

void metrics_set(const char *name, const char *labels, double value)
{
  struct series *s = find(name, labels, 1);
  if (s)
    s->value = value;
}

void metrics_observe(const char *name, const char *labels, double value)
{
  struct series *s = find(name, labels, 1);
  if (!s)
    return;
  const struct family *f = &families[s->family];
  s->value += value;
  s->count++;
  for (size_t i = 0; i < f->n_bounds; i++)
    if (value <= f->bounds[i])
      s->buckets[i]++;
}

double metrics_value(const char *name, const char *labels)
{
  if (family_index(name) < 0)
    return 0;
  struct series *s = find(name, labels, 0);
  return s ? s->value : 0;
}

double metrics_quantile(const char *name, const char *labels, double q)
{
  if (family_index(name) < 0)
    return -1;
  struct series *s = find(name, labels, 0);
  if (!s || !s->count)
    return -1;
  const struct family *f = &families[s->family];
  double want = q * (double)s->count;
  for (size_t i = 0; i < f->n_bounds; i++)
    if ((double)s->buckets[i] >= want)
      return f->bounds[i];
  return f->n_bounds ? f->bounds[f->n_bounds - 1] : -1;
}

static int render_labels(struct buf *out, const char *labels, const char *extra)
{
  if (!*labels && !extra)
    return 0;
  return buf_printf(out, "{%s%s%s}", labels, (*labels && extra) ? "," : "", extra ? extra : "");
}

int metrics_render(struct buf *out)
{
  static const char *types[] = {"counter", "gauge", "histogram"};
  int rc = 0;
  for (size_t fi = 0; rc == 0 && fi < n_families; fi++) {
    const struct family *f = &families[fi];
    rc = buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, types[f->type]);
    for (size_t i = 0; rc == 0 && i < n_series; i++) {
      const struct series *s = &all[i];
      if (s->family != (int)fi)
        continue;
      if (f->type != METRIC_HISTOGRAM) {
        rc = buf_printf(out, "%s", f->name);
        if (rc == 0)
          rc = render_labels(out, s->labels, NULL);
        if (rc == 0)
          rc = buf_printf(out, " %.17g\n", s->value);
        continue;
      }
      for (size_t b = 0; rc == 0 && b <= f->n_bounds; b++) {
        char le[48];
        if (b < f->n_bounds)
          snprintf(le, sizeof(le), "le=\"%.6g\"", f->bounds[b]);
        else
          snprintf(le, sizeof(le), "le=\"+Inf\"");
        rc = buf_printf(out, "%s_bucket", f->name);
        if (rc == 0)
          rc = render_labels(out, s->labels, le);
        if (rc == 0)
          rc = buf_printf(out, " %llu\n",
                          (unsigned long long)(b < f->n_bounds ? s->buckets[b] : s->count));
      }
      if (rc == 0)
        rc = buf_printf(out, "%s_sum", f->name);
      if (rc == 0)
        rc = render_labels(out, s->labels, NULL);
      if (rc == 0)
        rc = buf_printf(out, " %.17g\n%s_count", s->value, f->name);
      if (rc == 0)
        rc = render_labels(out, s->labels, NULL);
      if (rc == 0)
        rc = buf_printf(out, " %llu\n", (unsigned long long)s->count);
    }
  }
  return rc;
}
