/* SPDX-License-Identifier: GPL-2.0 */
/* Metrics registry types: metric kinds and limits. The registry itself is opaque (metrics.h);
 * values live in per-thread shards so that updates on the request path take no lock. */
#ifndef USERSPACE_OPS_METRICS_T_H
#define USERSPACE_OPS_METRICS_T_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_LABELS  4u	 /* label names per family (histograms add "le") */
#define METRICS_MAX_BUCKETS 32u	 /* finite histogram bounds; +Inf is implicit */
#define METRICS_NAME_MAX    128u /* bytes of a metric or label name, NUL included */

enum metrics_type {
	METRICS_COUNTER = 0, /* uint64, only grows; summed over shards */
	METRICS_GAUGE,	     /* int64, added to or set per shard; summed over shards */
	METRICS_HISTOGRAM,   /* cumulative buckets, _sum and _count; merged over shards */
	METRICS_TYPE_MAX     /* must stay last */
};

struct metrics;
struct metrics_writer;

/* Called at each scrape, on the scraping thread, to write families whose values live
 * elsewhere (BPF maps, computed ratios) through metrics_write_family()/_sample(). Returns 0
 * or a negative errno, which ends the scrape with that error. */
typedef int (*metrics_collect_fn)(struct metrics_writer *w, void *arg);

#endif /* USERSPACE_OPS_METRICS_T_H */
