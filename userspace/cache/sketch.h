/* SPDX-License-Identifier: GPL-2.0 */
/* A count-min sketch of 4-bit counters: the frequency estimator behind the cache's TinyLFU
 * admission. Not thread-safe: each cache shard owns one and calls it under its lock. */
#ifndef USERSPACE_CACHE_SKETCH_H
#define USERSPACE_CACHE_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define SKETCH_ROWS	   4  /* independent hash rows; the estimate is their minimum */
#define SKETCH_COUNT_MAX   15 /* a 4-bit counter saturates here */
#define SKETCH_WIDTH_MIN   16 /* counters per row of a new sketch */
#define SKETCH_AGE_PER_COL 5  /* increments per counter column between two halvings */

/* Counters are packed two per byte; a row holds <width> of them. */
struct sketch {
	uint8_t *cells;	   /* SKETCH_ROWS rows of width / 2 bytes; owned */
	size_t width;	   /* counters per row, a power of two */
	uint64_t adds;	   /* increments since the last halving */
	uint64_t age_at;   /* halve every counter when <adds> reaches this */
	uint64_t halvings; /* times the counters were halved, for tests and stats */
};

/* Set up <s> with SKETCH_WIDTH_MIN counters per row. Returns 0 or -ENOMEM. */
int sketch_init(struct sketch *s);

/* Release the counters of <s>; <s> may then be set up again. */
void sketch_fini(struct sketch *s);

/* Record one access to the key with <hash>: each of its counters that equals the current
 * minimum goes up by one (conservative update), saturating at SKETCH_COUNT_MAX. Every
 * SKETCH_AGE_PER_COL * width increments all counters are halved, so old popularity fades. */
void sketch_add(struct sketch *s, uint64_t hash);

/* The estimated access count of the key with <hash>, 0..SKETCH_COUNT_MAX; never below the
 * true count since the last halvings, over-estimated only by collisions. */
unsigned int sketch_estimate(const struct sketch *s, uint64_t hash);

/* Make rows at least <min_width> counters wide (rounded up to a power of two). Doubling copies
 * each counter into its two successors, so every estimate stays exactly what it was.
 * Returns 0, or -ENOMEM with <s> unchanged. */
int sketch_grow(struct sketch *s, size_t min_width);

#endif /* USERSPACE_CACHE_SKETCH_H */
