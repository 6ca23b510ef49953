// SPDX-License-Identifier: GPL-2.0
/* The object store: shards of a hash table over S3-FIFO queues (small, main, ghost) with a
 * TinyLFU count-min sketch deciding admission when room must be made. */
#include "userspace/cache/cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/cache/sketch.h"
#include "userspace/lib/bug.h"
#include "userspace/lib/hash.h"

#define CACHE_USES_MAX	   3  /* hits remembered per entry: main's second chances */
#define CACHE_SMALL_PCT	   10 /* share of a shard's bytes the small queue may keep */
#define CACHE_PROMOTE_USES 1  /* a small entry with more hits than this moves to main */
#define CACHE_SKETCH_COLS  8  /* sketch columns per resident entry, at least */
#define CACHE_GHOST_MIN	   16 /* ghost keys kept even when the shard holds fewer entries */
#define CACHE_BUCKETS_MIN  16
#define CACHE_MALLOC_SLACK 16 /* what malloc adds to each block, charged with the entry */

enum cache_queue {
	CACHE_Q_NONE = 0, /* not resident: removed, replaced or evicted */
	CACHE_Q_SMALL,
	CACHE_Q_MAIN,
	CACHE_Q_MAX, /* must stay last */
};

struct cache_shard;

struct cache_entry {
	struct cache_entry *hnext; /* bucket chain; owned by the shard, under its lock */
	struct cache_entry *prev;  /* queue neighbours, under the shard lock */
	struct cache_entry *next;
	struct cache_shard *shard; /* where it lives or lived */
	uint64_t hash;		   /* the caller's key hash */
	uint64_t charge;	   /* bytes counted against the bound */
	size_t value_len;
	uint32_t key_len;
	uint32_t refs;	/* the shard's (while resident) + readers'; atomic */
	uint8_t uses;	/* hits since insertion or the last second chance, 0..CACHE_USES_MAX */
	uint8_t queue;	/* enum cache_queue, under the shard lock */
	uint8_t pinned; /* dropped by the shard while readers held it; counted in pinned */
	unsigned char data[]; /* value_len bytes of value, then key_len bytes of key */
};

/* Per-entry share of the tables sized by the peak entry count, see cache-t.h: buckets (at
 * most 2 per entry, pointers), ghost ring (at most 2 slots per entry) and ghost index (2
 * slots per ring slot, hash + count), sketch (at most 2 * CACHE_SKETCH_COLS columns per entry,
 * SKETCH_ROWS rows of 4 bits). */
#define CACHE_TABLES_PER_ENTRY                                                                   \
	(2 * sizeof(void *) + 2 * sizeof(uint64_t) + 4 * (sizeof(uint64_t) + sizeof(uint32_t)) + \
		2 * CACHE_SKETCH_COLS * SKETCH_ROWS / 2)
_Static_assert(sizeof(struct cache_entry) + CACHE_MALLOC_SLACK + CACHE_TABLES_PER_ENTRY <=
		       CACHE_ENTRY_OVERHEAD,
	"CACHE_ENTRY_OVERHEAD does not cover an entry's memory");

/* A FIFO of entries: insert at the tail, evict from the head. */
struct cache_fifo {
	struct cache_entry *head;
	struct cache_entry *tail;
	uint64_t bytes; /* charged bytes of its entries */
	uint64_t items;
};

/* Hashes of keys evicted lately, oldest first in a ring, with an open-addressed index that
 * counts how many times each hash sits in the ring. */
struct cache_ghost {
	uint64_t *ring; /* <cap> slots, a power of two; owned */
	size_t cap;
	size_t head;	 /* oldest slot */
	size_t count;	 /* hashes in the ring */
	uint64_t *keys;	 /* index: hash per slot; owned */
	uint32_t *cnt;	 /* index: occurrences in the ring, 0 for a free slot; owned */
	size_t idx_mask; /* index slots - 1; 2 index slots per ring slot */
};

struct cache_shard {
	pthread_mutex_t lock;
	struct cache *cache;
	struct cache_entry **buckets; /* chains by mixed hash; owned */
	size_t bucket_mask;
	struct cache_fifo small;
	struct cache_fifo main;
	uint64_t capacity;     /* bytes this shard may charge */
	uint64_t small_target; /* small queue bytes above which it is evicted from first */
	uint64_t bytes;	       /* small.bytes + main.bytes */
	uint64_t items;
	struct sketch sketch;
	struct cache_ghost ghost;
	uint64_t hits, misses, admitted, rejected, evicted, removed, ghost_hits;
	uint64_t pinned, pinned_bytes; /* atomic: released without the lock */
} __attribute__((aligned(64)));

struct cache {
	uint64_t capacity;
	uint64_t max_object;
	unsigned int nshards;
	uint32_t refs; /* the owner's + one per pinned entry; atomic */
	struct cache_shard *shards;
};

/* Shard and bucket indexes come from different bits of the mixed hash. */
static inline struct cache_shard *shard_of(struct cache *c, uint64_t hash)
{
	return &c->shards[((hash_mix64(hash) >> 32) * c->nshards) >> 32];
}

static void cache_unref(struct cache *c)
{
	if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (unsigned int i = 0; i < c->nshards; i++) {
		struct cache_shard *sh = &c->shards[i];

		pthread_mutex_destroy(&sh->lock);
		free(sh->buckets);
		sketch_fini(&sh->sketch);
		free(sh->ghost.ring);
		free(sh->ghost.keys);
		free(sh->ghost.cnt);
	}
	free(c->shards);
	free(c);
}

/* Free <e> once nobody references it; a pinned entry gives back its share of the counters and
 * its reference on the cache. */
static void entry_final(struct cache_entry *e)
{
	if (e->pinned) {
		struct cache_shard *sh = e->shard;

		__atomic_sub_fetch(&sh->pinned, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&sh->pinned_bytes, e->charge, __ATOMIC_RELAXED);
		cache_unref(sh->cache);
	}
	free(e);
}

void cache_entry_release(struct cache_entry *e)
{
	uint32_t left;

	if (!e)
		return;
	left = __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL);
	BUG_ON(left == UINT32_MAX);
	if (!left)
		entry_final(e);
}

const void *cache_entry_value(const struct cache_entry *e)
{
	return e->data;
}

size_t cache_entry_value_len(const struct cache_entry *e)
{
	return e->value_len;
}

const void *cache_entry_key(const struct cache_entry *e, size_t *key_len)
{
	if (key_len)
		*key_len = e->key_len;
	return e->data + e->value_len;
}

/* ---- ghost queue ---- */

/* Index slot of <hash> in <g>: where it is, or the free slot where it would go. */
static size_t ghost_slot(const struct cache_ghost *g, uint64_t hash)
{
	size_t i = hash_mix64(hash ^ 0x5bd1e995) & g->idx_mask;

	while (g->cnt[i] && g->keys[i] != hash)
		i = (i + 1) & g->idx_mask;
	return i;
}

static bool ghost_has(const struct cache_ghost *g, uint64_t hash)
{
	return g->cap && g->cnt[ghost_slot(g, hash)];
}

/* Take one occurrence of <hash> out of the index; the last one frees the slot, shifting later
 * members of its probe run back so that lookups never stop early. */
static void ghost_index_drop(struct cache_ghost *g, uint64_t hash)
{
	size_t i = ghost_slot(g, hash), j = i;

	BUG_ON(!g->cnt[i]);
	if (--g->cnt[i])
		return;
	for (;;) {
		size_t home;

		j = (j + 1) & g->idx_mask;
		if (!g->cnt[j])
			break;
		home = hash_mix64(g->keys[j] ^ 0x5bd1e995) & g->idx_mask;
		/* move j into the hole at i unless its home lies cyclically in (i, j] */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		g->keys[i] = g->keys[j];
		g->cnt[i] = g->cnt[j];
		g->cnt[j] = 0;
		i = j;
	}
}

static void ghost_index_add(struct cache_ghost *g, uint64_t hash)
{
	size_t i = ghost_slot(g, hash);

	g->keys[i] = hash;
	g->cnt[i]++;
}

static void ghost_pop(struct cache_ghost *g)
{
	ghost_index_drop(g, g->ring[g->head]);
	g->head = (g->head + 1) & (g->cap - 1);
	g->count--;
}

/* Double the ring of <g> (and rebuild its index). Returns 0 or -ENOMEM, <g> unchanged. */
static int ghost_grow(struct cache_ghost *g)
{
	size_t cap = g->cap ? g->cap * 2 : CACHE_GHOST_MIN, nidx = cap * 2;
	uint64_t *ring = malloc(cap * sizeof(*ring));
	uint64_t *keys = malloc(nidx * sizeof(*keys));
	uint32_t *cnt = calloc(nidx, sizeof(*cnt));

	if (!ring || !keys || !cnt) {
		free(ring);
		free(keys);
		free(cnt);
		return -ENOMEM;
	}
	for (size_t i = 0; i < g->count; i++)
		ring[i] = g->ring[(g->head + i) & (g->cap - 1)];
	free(g->ring);
	free(g->keys);
	free(g->cnt);
	g->ring = ring;
	g->keys = keys;
	g->cnt = cnt;
	g->cap = cap;
	g->head = 0;
	g->idx_mask = nidx - 1;
	for (size_t i = 0; i < g->count; i++)
		ghost_index_add(g, ring[i]);
	return 0;
}

/* Remember <hash> as evicted, forgetting the oldest ones beyond <limit> keys. */
static void ghost_push(struct cache_ghost *g, uint64_t hash, size_t limit)
{
	while (g->count && g->count >= limit)
		ghost_pop(g);
	if (g->count == g->cap && ghost_grow(g)) {
		if (!g->count)
			return; /* no memory for even a first ring: the ghost stays empty */
		ghost_pop(g);
	}
	g->ring[(g->head + g->count) & (g->cap - 1)] = hash;
	g->count++;
	ghost_index_add(g, hash);
}

/* ---- queues and table ---- */

static void fifo_push(struct cache_fifo *q, struct cache_entry *e)
{
	e->next = NULL;
	e->prev = q->tail;
	if (q->tail)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
	q->bytes += e->charge;
	q->items++;
}

static void fifo_unlink(struct cache_fifo *q, struct cache_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		q->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		q->tail = e->prev;
	e->prev = e->next = NULL;
	q->bytes -= e->charge;
	q->items--;
}

static inline struct cache_fifo *fifo_of(struct cache_shard *sh, const struct cache_entry *e)
{
	return e->queue == CACHE_Q_SMALL ? &sh->small : &sh->main;
}

/* The chain slot that points at the entry with <key>, or at the chain's NULL end. */
static struct cache_entry **bucket_find(
	struct cache_shard *sh, uint64_t hash, const void *key, size_t key_len)
{
	struct cache_entry **pp = &sh->buckets[hash_mix64(hash) & sh->bucket_mask];

	for (; *pp; pp = &(*pp)->hnext) {
		struct cache_entry *e = *pp;

		if (e->hash == hash && e->key_len == key_len &&
			!memcmp(e->data + e->value_len, key, key_len))
			break;
	}
	return pp;
}

/* Double the bucket array of <sh> when it holds more entries than buckets; on ENOMEM the
 * chains just get longer. */
static void buckets_maybe_grow(struct cache_shard *sh)
{
	size_t n = sh->bucket_mask + 1, mask = 2 * n - 1;
	struct cache_entry **b;

	if (sh->items <= n)
		return;
	b = calloc(2 * n, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < n; i++) {
		struct cache_entry *e = sh->buckets[i], *next;

		for (; e; e = next) {
			size_t k = hash_mix64(e->hash) & mask;

			next = e->hnext;
			e->hnext = b[k];
			b[k] = e;
		}
	}
	free(sh->buckets);
	sh->buckets = b;
	sh->bucket_mask = mask;
}

/* Take <e> out of the table and its queue and drop the shard's reference: freed now, or
 * pinned until its readers release it. Called under the shard lock. */
static void entry_drop(struct cache_shard *sh, struct cache_entry *e, struct cache_entry **pp)
{
	*pp = e->hnext;
	e->hnext = NULL;
	fifo_unlink(fifo_of(sh, e), e);
	e->queue = CACHE_Q_NONE;
	sh->bytes -= e->charge;
	sh->items--;
	/* No reader can take a new reference now (cache_get() does so under this lock), so a
	 * count of 1 is ours alone. */
	if (__atomic_load_n(&e->refs, __ATOMIC_ACQUIRE) == 1) {
		free(e);
		return;
	}
	e->pinned = 1;
	__atomic_add_fetch(&sh->pinned, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->pinned_bytes, e->charge, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->cache->refs, 1, __ATOMIC_RELAXED);
	cache_entry_release(e);
}

/* Evict <e>. A key leaving small unproven is remembered in the ghost queue, which holds about
 * as many keys as the shard holds entries; one leaving main already had its chances. */
static void entry_evict(struct cache_shard *sh, struct cache_entry *e)
{
	struct cache_entry **pp = bucket_find(sh, e->hash, e->data + e->value_len, e->key_len);

	BUG_ON(*pp != e);
	if (e->queue == CACHE_Q_SMALL)
		ghost_push(&sh->ghost, e->hash,
			sh->items > CACHE_GHOST_MIN ? sh->items : CACHE_GHOST_MIN);
	entry_drop(sh, e, pp);
	sh->evicted++;
}

/* The entry S3-FIFO evicts next. On the way, small entries hit more than CACHE_PROMOTE_USES
 * times move to main, and main entries with hits left go round again with one hit less.
 * Small is evicted from while it holds more than its share (or main is empty). <sh> must
 * hold at least one entry. */
static struct cache_entry *shard_victim(struct cache_shard *sh)
{
	for (;;) {
		struct cache_entry *e;

		if (sh->small.head && (sh->small.bytes > sh->small_target || !sh->main.head)) {
			e = sh->small.head;
			if (e->uses <= CACHE_PROMOTE_USES)
				return e;
			fifo_unlink(&sh->small, e);
			e->queue = CACHE_Q_MAIN;
			e->uses = 0;
			fifo_push(&sh->main, e);
			continue;
		}
		e = sh->main.head;
		BUG_ON(!e);
		if (!e->uses)
			return e;
		e->uses--;
		fifo_unlink(&sh->main, e);
		fifo_push(&sh->main, e);
	}
}

/* ---- API ---- */

struct cache *cache_new(uint64_t capacity, uint64_t max_object, unsigned int shards)
{
	struct cache *c;
	uint64_t per_shard;
	int err;

	if (!capacity || !max_object || !shards || shards > CACHE_SHARDS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	per_shard = capacity / shards;
	if (max_object > per_shard || per_shard - max_object < CACHE_ENTRY_OVERHEAD) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->capacity = per_shard * shards;
	c->max_object = max_object;
	c->refs = 1;
	c->shards = aligned_alloc(64, shards * sizeof(*c->shards));
	if (!c->shards) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	memset(c->shards, 0, shards * sizeof(*c->shards));
	for (; c->nshards < shards; c->nshards++) {
		struct cache_shard *sh = &c->shards[c->nshards];

		sh->cache = c;
		sh->capacity = per_shard;
		sh->small_target = per_shard / 100 * CACHE_SMALL_PCT; /* no overflow near 2^64 */
		sh->buckets = calloc(CACHE_BUCKETS_MIN, sizeof(*sh->buckets));
		sh->bucket_mask = CACHE_BUCKETS_MIN - 1;
		err = sh->buckets ? sketch_init(&sh->sketch) : -ENOMEM;
		if (!err)
			err = ghost_grow(&sh->ghost);
		if (!err)
			err = -pthread_mutex_init(&sh->lock, NULL);
		if (err) {
			free(sh->buckets);
			sketch_fini(&sh->sketch);
			free(sh->ghost.ring);
			free(sh->ghost.keys);
			free(sh->ghost.cnt);
			cache_free(c);
			errno = -err;
			return NULL;
		}
	}
	return c;
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	for (unsigned int i = 0; i < c->nshards; i++) {
		struct cache_shard *sh = &c->shards[i];

		pthread_mutex_lock(&sh->lock);
		for (size_t b = 0; b <= sh->bucket_mask; b++)
			while (sh->buckets[b])
				entry_drop(sh, sh->buckets[b], &sh->buckets[b]);
		pthread_mutex_unlock(&sh->lock);
	}
	cache_unref(c);
}

int cache_get(
	struct cache *c, uint64_t hash, const void *key, size_t key_len, struct cache_entry **out)
{
	struct cache_shard *sh;
	struct cache_entry *e;

	if (!c || !key || !key_len || !out)
		return -EINVAL;
	sh = shard_of(c, hash);
	pthread_mutex_lock(&sh->lock);
	sketch_add(&sh->sketch, hash);
	e = *bucket_find(sh, hash, key, key_len);
	if (!e) {
		sh->misses++;
		pthread_mutex_unlock(&sh->lock);
		*out = NULL;
		return -ENOENT;
	}
	if (e->uses < CACHE_USES_MAX)
		e->uses++;
	__atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
	sh->hits++;
	pthread_mutex_unlock(&sh->lock);
	*out = e;
	return 0;
}

/* Make room for <need> more bytes in <sh>. With <freq> >= 0 each victim must have a lower
 * sketch estimate than <freq>, else nothing more is evicted and -ENOSPC returned; with
 * <freq> < 0 victims are taken unconditionally. Returns 0 once there is room. */
static int shard_make_room(struct cache_shard *sh, uint64_t need, int freq)
{
	while (need > sh->capacity - sh->bytes) {
		struct cache_entry *v = shard_victim(sh);

		if (freq >= 0 && (int)sketch_estimate(&sh->sketch, v->hash) >= freq)
			return -ENOSPC;
		entry_evict(sh, v);
	}
	return 0;
}

int cache_put(struct cache *c, uint64_t hash, const void *key, size_t key_len, const void *value,
	size_t value_len)
{
	struct cache_entry *e, *old, **pp;
	struct cache_shard *sh;
	uint64_t charge;
	int err, freq = -1;
	bool ghost = false;

	if (!c || !key || !key_len || (!value && value_len))
		return -EINVAL;
	if (key_len > c->max_object || value_len > c->max_object - key_len || key_len > UINT32_MAX)
		return -EFBIG;
	charge = value_len + key_len + CACHE_ENTRY_OVERHEAD;
	e = malloc(sizeof(*e) + value_len + key_len);
	if (!e)
		return -ENOMEM;
	e->hnext = e->prev = e->next = NULL;
	e->hash = hash;
	e->charge = charge;
	e->value_len = value_len;
	e->key_len = (uint32_t)key_len;
	e->refs = 1;
	e->uses = 0;
	e->pinned = 0;
	if (value_len)
		memcpy(e->data, value, value_len);
	memcpy(e->data + value_len, key, key_len);

	sh = shard_of(c, hash);
	e->shard = sh;
	pthread_mutex_lock(&sh->lock);
	pp = bucket_find(sh, hash, key, key_len);
	old = *pp;
	if (old) {
		/* a replacement keeps the place the key earned */
		e->queue = old->queue;
		e->uses = old->uses;
		entry_drop(sh, old, pp);
	} else if (ghost_has(&sh->ghost, hash)) {
		ghost = true;
		e->queue = CACHE_Q_MAIN;
		freq = (int)sketch_estimate(&sh->sketch, hash);
	} else {
		e->queue = CACHE_Q_SMALL;
		freq = (int)sketch_estimate(&sh->sketch, hash);
	}
	err = shard_make_room(sh, charge, freq);
	if (err) {
		sh->rejected++;
		pthread_mutex_unlock(&sh->lock);
		free(e);
		return err;
	}
	/* the evictions may have changed the chain <pp> pointed into */
	pp = bucket_find(sh, hash, key, key_len);
	BUG_ON(*pp);
	*pp = e;
	fifo_push(fifo_of(sh, e), e);
	sh->bytes += charge;
	sh->items++;
	sh->admitted++;
	sh->ghost_hits += ghost;
	buckets_maybe_grow(sh);
	if (sh->items * CACHE_SKETCH_COLS > sh->sketch.width)
		(void)sketch_grow(&sh->sketch,
			sh->items * CACHE_SKETCH_COLS); /* on ENOMEM estimates just get coarser */
	pthread_mutex_unlock(&sh->lock);
	return 0;
}

int cache_remove(struct cache *c, uint64_t hash, const void *key, size_t key_len)
{
	struct cache_entry **pp;
	struct cache_shard *sh;
	int err = 0;

	if (!c || !key || !key_len)
		return -EINVAL;
	sh = shard_of(c, hash);
	pthread_mutex_lock(&sh->lock);
	pp = bucket_find(sh, hash, key, key_len);
	if (*pp) {
		entry_drop(sh, *pp, pp);
		sh->removed++;
	} else {
		err = -ENOENT;
	}
	pthread_mutex_unlock(&sh->lock);
	return err;
}

size_t cache_remove_prefix(struct cache *c, const void *prefix, size_t len)
{
	size_t n = 0;

	if (!c || (!prefix && len))
		return 0;
	for (unsigned int i = 0; i < c->nshards; i++) {
		struct cache_shard *sh = &c->shards[i];

		pthread_mutex_lock(&sh->lock);
		for (size_t b = 0; b <= sh->bucket_mask; b++) {
			struct cache_entry **pp = &sh->buckets[b];

			while (*pp) {
				struct cache_entry *e = *pp;

				if (e->key_len >= len &&
					(!len || !memcmp(e->data + e->value_len, prefix, len))) {
					/* entry_drop() unlinks <e> from the chain at <pp> */
					entry_drop(sh, e, pp);
					sh->removed++;
					n++;
				} else {
					pp = &e->hnext;
				}
			}
		}
		pthread_mutex_unlock(&sh->lock);
	}
	return n;
}

void cache_stats_get(struct cache *c, struct cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->capacity = c->capacity;
	for (unsigned int i = 0; i < c->nshards; i++) {
		struct cache_shard *sh = &c->shards[i];

		pthread_mutex_lock(&sh->lock);
		st->hits += sh->hits;
		st->misses += sh->misses;
		st->admitted += sh->admitted;
		st->rejected += sh->rejected;
		st->evicted += sh->evicted;
		st->removed += sh->removed;
		st->ghost_hits += sh->ghost_hits;
		st->bytes += sh->bytes;
		st->items += sh->items;
		st->small_items += sh->small.items;
		st->main_items += sh->main.items;
		st->pinned += __atomic_load_n(&sh->pinned, __ATOMIC_RELAXED);
		st->pinned_bytes += __atomic_load_n(&sh->pinned_bytes, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&sh->lock);
	}
}
