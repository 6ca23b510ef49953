/* SPDX-License-Identifier: GPL-2.0 */
/* A byte-bounded, sharded in-memory object store with TinyLFU admission and S3-FIFO eviction.
 * Keys are byte strings with a caller-computed 64-bit hash; values are opaque byte blobs.
 * Thread-safe: each shard has its own lock. No I/O, no HTTP. */
#ifndef USERSPACE_CACHE_CACHE_H
#define USERSPACE_CACHE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "userspace/cache/cache-t.h"

struct cache;
struct cache_entry;

/* A new empty cache holding at most <capacity> charged bytes (value + key +
 * CACHE_ENTRY_OVERHEAD per entry), split evenly over <shards> shards (1..CACHE_SHARDS_MAX)
 * chosen by key hash. No object whose value + key exceeds <max_object> is stored; <max_object>
 * must leave room for the overhead within one shard's share. Returns the cache, owned by the
 * caller (cache_free()), or NULL with errno EINVAL (a zero or inconsistent size) or ENOMEM. */
struct cache *cache_new(uint64_t capacity, uint64_t max_object, unsigned int shards);

/* Drop every entry and free <c> (NULL is a no-op). Entries still referenced by readers stay
 * valid until their cache_entry_release(); those calls may come after this one. */
void cache_free(struct cache *c);

/* Look up <key> (<key_len> bytes, with <hash> as computed by the caller) and count the access
 * in the frequency sketch, hit or miss. On a hit stores a new reference to the entry in <*out>:
 * the caller reads it with cache_entry_value() and must call cache_entry_release() once; the
 * entry stays valid even if it is evicted, replaced or removed meanwhile.
 * Returns 0 on a hit, -ENOENT on a miss, -EINVAL if <c>, <key> or <out> is NULL or <key_len>
 * is 0. */
int cache_get(
	struct cache *c, uint64_t hash, const void *key, size_t key_len, struct cache_entry **out);

/* Store a copy of <value_len> bytes at <value> (NULL allowed when <value_len> is 0) under <key>,
 * replacing any entry with that key (readers of the old one keep it until they release it).
 * A new key goes to the small queue, or to the main queue when it was evicted recently; if
 * room must be made, it is admitted only when its sketch frequency beats each victim's.
 * Returns 0 when stored, -ENOSPC when admission refused it (nothing changed but the
 * evictions already decided), -EFBIG when value + key exceed the max object size, -EINVAL on
 * NULL or zero-length <key> or NULL <value> with a length, -ENOMEM. */
int cache_put(struct cache *c, uint64_t hash, const void *key, size_t key_len, const void *value,
	size_t value_len);

/* Purge <key>: it is no longer found; current readers keep their reference.
 * Returns 0, -ENOENT when absent, or -EINVAL on NULL or zero-length input. */
int cache_remove(struct cache *c, uint64_t hash, const void *key, size_t key_len);

/* Purge every key that starts with the <len> bytes at <prefix> (every key when <len> is 0),
 * walking each shard under its lock; current readers keep their references. Returns how many
 * entries went. */
size_t cache_remove_prefix(struct cache *c, const void *prefix, size_t len);

/* Sum the counters of every shard of <c> into <st> (neither NULL), each shard read under its
 * lock: every shard is consistent in itself, the sum is not one instant across shards. */
void cache_stats_get(struct cache *c, struct cache_stats *st);

/* The value bytes of the referenced entry <e>, not NULL (read-only; valid until the reference
 * is released). */
const void *cache_entry_value(const struct cache_entry *e);

/* The length of the value of <e> in bytes. */
size_t cache_entry_value_len(const struct cache_entry *e);

/* The key of <e>; its length goes to <*key_len> when <key_len> is not NULL. */
const void *cache_entry_key(const struct cache_entry *e, size_t *key_len);

/* Drop one reference to <e> taken by cache_get(); the last one frees the entry if the cache
 * no longer holds it. NULL is a no-op. */
void cache_entry_release(struct cache_entry *e);

#endif /* USERSPACE_CACHE_CACHE_H */
