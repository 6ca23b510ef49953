/* SPDX-License-Identifier: GPL-2.0 */
/* A metrics registry with labelled counters, gauges and histograms, cheap to update from
 * worker threads (one shard per thread, no lock, no atomic read-modify-write), merged and
 * rendered in the Prometheus text exposition format 0.0.4 at scrape time. */
#ifndef USERSPACE_OPS_METRICS_H
#define USERSPACE_OPS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "userspace/ops/metrics-t.h"

/* Content-Type of metrics_render()'s output. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Threads: each updating thread owns one shard index in [0, n_shards) and passes it to every
 * update; two threads must never share a shard. Families and series are registered under a
 * mutex (any thread, any time); an id must reach a worker before the worker uses it (e.g.
 * registered before the workers start). Rendering may run on any thread at any time.
 */

/* Create a registry with <n_shards> (>= 1) shards of <max_slots> value slots each (a counter or
 * gauge series takes 1 slot, a histogram series its bounds + 2). Returns NULL with errno. */
struct metrics *metrics_new(unsigned int n_shards, unsigned int max_slots);

/* Free <m>; NULL is accepted. No update may run concurrently. */
void metrics_free(struct metrics *m);

/* Register family <name> of <type> with <help> (any text; escaped on output), <n_labels>
 * label names <labels> and, for a histogram, <n_buckets> strictly increasing finite upper
 * bounds <buckets>. Strings are copied. A family without labels gets its single series at once.
 * Returns the family id (>= 0), -EINVAL (invalid name, label, "le" on a histogram, reserved
 * "__" prefix, duplicate label, bad buckets), -EEXIST (name taken) or -ENOMEM/-ENOSPC. */
int metrics_family(struct metrics *m, const char *name, const char *help, enum metrics_type type,
	const char *const *labels, size_t n_labels, const double *buckets, size_t n_buckets);

/* The series of <family> with label values <values> (one per label name, any UTF-8 text,
 * copied), created at 0 if new. Returns the series id (>= 0), -EINVAL (unknown family, NULL
 * value), -ENOSPC (out of slots) or -ENOMEM. */
int metrics_series(struct metrics *m, int family, const char *const *values);

/* The single series of a family registered without labels, or -EINVAL. */
int metrics_series0(struct metrics *m, int family);

/* Add <n> to counter <series> in <shard>. Unknown ids are ignored (a bug, not input). */
void metrics_add(struct metrics *m, unsigned int shard, int series, uint64_t n);

/* Add <delta> to gauge <series> in <shard>. */
void metrics_gauge_add(struct metrics *m, unsigned int shard, int series, int64_t delta);

/* Set <shard>'s part of gauge <series> to <v>; for gauges one thread owns (health state). */
void metrics_gauge_set(struct metrics *m, unsigned int shard, int series, int64_t v);

/* Record observation <v> in histogram <series> in <shard>. */
void metrics_observe(struct metrics *m, unsigned int shard, int series, double v);

/* Merged value of counter or gauge <series> (a histogram gives its count), for tests and
 * computed metrics. */
double metrics_value(struct metrics *m, int series);

/* Add collector <fn>(<arg>), run at each render after the registered families, in the order
 * added. Returns 0 or -ENOMEM. */
int metrics_collector(struct metrics *m, metrics_collect_fn fn, void *arg);

/* Render every family and collector into a new NUL-terminated buffer <*out> (free()d by the
 * caller) of <*len> bytes. Returns 0 or a negative errno (ENOMEM, or a collector's error). */
int metrics_render(struct metrics *m, char **out, size_t *len);

/* Collector output: start family <name> (counter or gauge) with <help>. Returns 0, -EINVAL
 * (bad name or type) or -ENOMEM. */
int metrics_write_family(
	struct metrics_writer *w, const char *name, const char *help, enum metrics_type type);

/* Collector output: one sample of the family last started, with <n> labels <names>=<values>
 * and value <v>. Returns 0, -EINVAL (no family, bad label name, n > METRICS_MAX_LABELS) or
 * -ENOMEM. */
int metrics_write_sample(struct metrics_writer *w, const char *const *names,
	const char *const *values, size_t n, double v);

/* Validity of a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) and of a label name
 * ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"). */
bool metrics_name_ok(const char *name);
bool metrics_label_ok(const char *name);

/* Append <s> to <f> escaped for a label value (\\, \", \n) or, with <help>, for a HELP text
 * (\\, \n). Exposed for tests. Returns 0 or -EIO. */
int metrics_escape(FILE *f, const char *s, bool help);

/* Format <v> as the exposition format wants it (shortest text that reads back exactly,
 * "+Inf", "-Inf", "NaN") into <buf> of <len> bytes. Returns <buf>. */
const char *metrics_fmt_double(char *buf, size_t len, double v);

#endif /* USERSPACE_OPS_METRICS_H */
