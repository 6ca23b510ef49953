/* SPDX-License-Identifier: GPL-2.0 */
/* Types of the in-memory object store: its statistics and the per-entry charge. */
#ifndef USERSPACE_CACHE_CACHE_T_H
#define USERSPACE_CACHE_CACHE_T_H

#include <stdint.h>

/* Bytes charged for each resident entry on top of its key and value. It covers the entry
 * header with malloc's slack, and the per-entry share of the tables sized by the peak entry
 * count (hash buckets, ghost ring and ghost index, frequency sketch; cache.c checks the sum at
 * build time), so everything but pinned entries fits in the byte bound. */
#define CACHE_ENTRY_OVERHEAD 256

#define CACHE_SHARDS_MAX 1024 /* upper bound on the shard count given to cache_new() */

/* Counters of a cache, summed over its shards by cache_stats_get(). */
struct cache_stats {
	uint64_t hits;	       /* cache_get() calls that found the key */
	uint64_t misses;       /* cache_get() calls that did not */
	uint64_t admitted;     /* cache_put() calls that stored a new key or replaced one */
	uint64_t rejected;     /* cache_put() calls refused by admission (-ENOSPC) */
	uint64_t evicted;      /* entries pushed out to make room (not removes or replaces) */
	uint64_t removed;      /* entries dropped by cache_remove() */
	uint64_t ghost_hits;   /* new keys that went straight to the main queue */
	uint64_t bytes;	       /* charged bytes of resident entries, never above capacity */
	uint64_t items;	       /* resident entries */
	uint64_t small_items;  /* of which in the small queue (new, not yet proven) */
	uint64_t main_items;   /* of which in the main queue */
	uint64_t pinned;       /* entries no longer resident but still referenced by readers */
	uint64_t pinned_bytes; /* their charged bytes; freed when the last reader releases */
	uint64_t capacity;     /* the byte bound given to cache_new(), rounded down per shard */
};

#endif /* USERSPACE_CACHE_CACHE_T_H */
