// SPDX-License-Identifier: GPL-2.0
/* The object store and its frequency sketch: admission and eviction, the byte bound,
 * references that outlive eviction, purge, stats, threads, and malformed input. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "tests/unit/unit.h"
#include "userspace/cache/cache.h"
#include "userspace/cache/sketch.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNIT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNIT_ASAN 1
#endif
#endif

#define VLEN 32 /* value bytes in the count-bounded tests */
#define OBJ  (VLEN + sizeof(uint64_t) + CACHE_ENTRY_OVERHEAD)

static uint64_t hash_of(uint64_t key)
{
	key ^= key >> 31;
	key *= 0x7fb5d329728ea185ULL;
	key ^= key >> 27;
	key *= 0x81dadef4bc2dd44dULL;
	return key ^ (key >> 33);
}

/* Deterministic test RNG (xorshift64*), one state per caller. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* Value bytes for <key>: each byte depends on key and offset, so a torn or wrong value shows. */
static void fill_value(unsigned char *v, size_t len, uint64_t key)
{
	for (size_t i = 0; i < len; i++)
		v[i] = (unsigned char)(key * 31 + i);
}

static int check_value(const struct cache_entry *e, uint64_t key)
{
	const unsigned char *v = cache_entry_value(e);
	size_t len = cache_entry_value_len(e);

	for (size_t i = 0; i < len; i++)
		if (v[i] != (unsigned char)(key * 31 + i))
			return -1;
	return 0;
}

/* One access the way a proxy does it: look up, and on a miss store the object.
 * Returns 1 on a hit, else cache_put()'s result. */
static int access_key(struct cache *c, uint64_t key, size_t vlen)
{
	unsigned char v[VLEN];
	struct cache_entry *e;

	if (!cache_get(c, hash_of(key), &key, sizeof(key), &e)) {
		cache_entry_release(e);
		return 1;
	}
	fill_value(v, vlen, key);
	return cache_put(c, hash_of(key), &key, sizeof(key), v, vlen);
}

static bool present(struct cache *c, uint64_t key)
{
	struct cache_entry *e;
	struct cache_stats st;
	uint64_t hits;

	/* a lookup counts as an access: keep the tests' sketch state honest by looking */
	cache_stats_get(c, &st);
	hits = st.hits;
	if (cache_get(c, hash_of(key), &key, sizeof(key), &e))
		return false;
	cache_entry_release(e);
	cache_stats_get(c, &st);
	return st.hits == hits + 1;
}

static void test_sketch(void)
{
	struct sketch s;

	CU_ASSERT_EQUAL_FATAL(sketch_init(&s), 0);
	CU_ASSERT_EQUAL(sketch_estimate(&s, 42), 0);
	for (int i = 0; i < 5; i++)
		sketch_add(&s, 42);
	CU_ASSERT(sketch_estimate(&s, 42) >= 5);
	for (int i = 0; i < 30; i++)
		sketch_add(&s, 42);
	CU_ASSERT_EQUAL(sketch_estimate(&s, 42), SKETCH_COUNT_MAX);

	/* growing keeps every estimate */
	CU_ASSERT_EQUAL_FATAL(sketch_grow(&s, 1000), 0);
	CU_ASSERT_EQUAL(s.width, 1024);
	CU_ASSERT_EQUAL(sketch_estimate(&s, 42), SKETCH_COUNT_MAX);

	/* aging halves: fill up to the next halving with other keys */
	while (s.adds)
		sketch_add(&s, 7);
	CU_ASSERT_EQUAL(s.halvings, 1);
	CU_ASSERT_EQUAL(sketch_estimate(&s, 42), SKETCH_COUNT_MAX / 2);
	sketch_fini(&s);
}

static void test_new_invalid(void)
{
	struct {
		uint64_t cap, max;
		unsigned int shards;
	} bad[] = {
		{0, 100, 1}, {1 << 20, 0, 1}, {1 << 20, 100, 0},
		{1 << 20, 100, CACHE_SHARDS_MAX + 1},
		{1 << 20, 1 << 20, 1},	      /* no room for the overhead */
		{1 << 20, 1 << 19, 4},	      /* larger than a shard */
		{CACHE_ENTRY_OVERHEAD, 1, 1}, /* overhead leaves no room */
		{UINT64_MAX, UINT64_MAX, 1},  /* huge object, still no room */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		CU_ASSERT_PTR_NULL(cache_new(bad[i].cap, bad[i].max, bad[i].shards));
		CU_ASSERT_EQUAL(errno, EINVAL);
	}
	/* a huge bound is fine: nothing is allocated up front for it */
	struct cache *c = cache_new(UINT64_MAX, 1 << 20, 8);

	CU_ASSERT_PTR_NOT_NULL(c);
	cache_free(c);
	cache_free(NULL);
	cache_entry_release(NULL);
}

static void test_malformed(void)
{
	struct cache *c = cache_new(1 << 20, 4096, 2);
	struct cache_entry *e = (void *)1;
	uint64_t key = 1;
	char v[8] = {0};

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(cache_get(NULL, 0, &key, 8, &e), -EINVAL);
	CU_ASSERT_EQUAL(cache_get(c, 0, NULL, 8, &e), -EINVAL);
	CU_ASSERT_EQUAL(cache_get(c, 0, &key, 0, &e), -EINVAL);
	CU_ASSERT_EQUAL(cache_get(c, 0, &key, 8, NULL), -EINVAL);
	CU_ASSERT_EQUAL(cache_put(NULL, 0, &key, 8, v, 8), -EINVAL);
	CU_ASSERT_EQUAL(cache_put(c, 0, NULL, 8, v, 8), -EINVAL);
	CU_ASSERT_EQUAL(cache_put(c, 0, &key, 0, v, 8), -EINVAL);
	CU_ASSERT_EQUAL(cache_put(c, 0, &key, 8, NULL, 8), -EINVAL);
	CU_ASSERT_EQUAL(cache_put(c, 0, &key, 8, v, SIZE_MAX), -EFBIG);
	CU_ASSERT_EQUAL(cache_put(c, 0, &key, SIZE_MAX, v, 8), -EFBIG);
	CU_ASSERT_EQUAL(cache_remove(NULL, 0, &key, 8), -EINVAL);
	CU_ASSERT_EQUAL(cache_remove(c, 0, NULL, 8), -EINVAL);
	CU_ASSERT_EQUAL(cache_remove(c, 0, &key, 0), -EINVAL);
	/* an empty value is a value */
	CU_ASSERT_EQUAL(cache_put(c, 0, &key, 8, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, 0, &key, 8, &e), 0);
	CU_ASSERT_EQUAL(cache_entry_value_len(e), 0);
	cache_entry_release(e);
	cache_free(c);
}

static void test_basic(void)
{
	struct cache *c = cache_new(1 << 20, 4096, 4);
	const char *k1 = "GET http://a/x", *k2 = "GET http://a/y";
	struct cache_entry *e;
	struct cache_stats st;
	const void *key;
	size_t klen;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(cache_get(c, 7, k1, strlen(k1), &e), -ENOENT);
	CU_ASSERT_PTR_NULL(e);
	CU_ASSERT_EQUAL(cache_put(c, 7, k1, strlen(k1), "hello", 5), 0);
	/* same hash, other key: a collision is not a hit */
	CU_ASSERT_EQUAL(cache_get(c, 7, k2, strlen(k2), &e), -ENOENT);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, 7, k1, strlen(k1), &e), 0);
	CU_ASSERT_EQUAL(cache_entry_value_len(e), 5);
	CU_ASSERT_EQUAL(memcmp(cache_entry_value(e), "hello", 5), 0);
	key = cache_entry_key(e, &klen);
	CU_ASSERT_EQUAL(klen, strlen(k1));
	CU_ASSERT_EQUAL(memcmp(key, k1, klen), 0);

	/* replacing: the reader keeps the old value, new lookups see the new one */
	CU_ASSERT_EQUAL(cache_put(c, 7, k1, strlen(k1), "world!", 6), 0);
	CU_ASSERT_EQUAL(memcmp(cache_entry_value(e), "hello", 5), 0);
	cache_stats_get(c, &st);
	CU_ASSERT_EQUAL(st.items, 1);
	CU_ASSERT_EQUAL(st.pinned, 1);
	cache_entry_release(e);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, 7, k1, strlen(k1), &e), 0);
	CU_ASSERT_EQUAL(cache_entry_value_len(e), 6);
	cache_entry_release(e);

	CU_ASSERT_EQUAL(cache_remove(c, 7, k1, strlen(k1)), 0);
	CU_ASSERT_EQUAL(cache_remove(c, 7, k1, strlen(k1)), -ENOENT);
	CU_ASSERT_EQUAL(cache_get(c, 7, k1, strlen(k1), &e), -ENOENT);

	cache_stats_get(c, &st);
	CU_ASSERT_EQUAL(st.hits, 2);
	CU_ASSERT_EQUAL(st.misses, 3);
	CU_ASSERT_EQUAL(st.admitted, 2);
	CU_ASSERT_EQUAL(st.rejected, 0);
	CU_ASSERT_EQUAL(st.evicted, 0);
	CU_ASSERT_EQUAL(st.removed, 1);
	CU_ASSERT_EQUAL(st.items, 0);
	CU_ASSERT_EQUAL(st.bytes, 0);
	CU_ASSERT_EQUAL(st.pinned, 0);
	CU_ASSERT_EQUAL(st.pinned_bytes, 0);
	CU_ASSERT_EQUAL(st.capacity, 1 << 20);
	cache_free(c);
}

static void test_oversize(void)
{
	struct cache *c = cache_new(1 << 20, 1000, 1);
	static char v[2000];
	uint64_t key = 5;
	struct cache_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(cache_put(c, 5, &key, 8, v, 1000 - 8 + 1), -EFBIG);
	CU_ASSERT_EQUAL(cache_put(c, 5, &key, 8, v, sizeof(v)), -EFBIG);
	CU_ASSERT_EQUAL(cache_put(c, 5, &key, 8, v, 1000 - 8), 0);
	cache_stats_get(c, &st);
	CU_ASSERT_EQUAL(st.items, 1);
	CU_ASSERT_EQUAL(st.bytes, 1000 + CACHE_ENTRY_OVERHEAD);
	cache_free(c);
}

/* A cache of 100 objects: 40 hot keys read often, then 20,000 keys read once. TinyLFU keeps
 * the flood out of main, S3-FIFO cycles it through small: the hot keys stay. */
static void test_one_hit_flood(void)
{
	struct cache *c = cache_new(100 * OBJ, VLEN + 8, 1);
	struct cache_stats st;
	int kept = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (int round = 0; round < 10; round++)
		for (uint64_t k = 0; k < 40; k++)
			access_key(c, k, VLEN);
	for (uint64_t k = 1000; k < 21000; k++)
		CU_ASSERT(access_key(c, k, VLEN) <= 0);
	for (uint64_t k = 0; k < 40; k++)
		kept += present(c, k);
	CU_ASSERT_EQUAL(kept, 40);
	cache_stats_get(c, &st);
	CU_ASSERT(st.rejected > 0);
	CU_ASSERT(st.evicted > 0);
	CU_ASSERT(st.bytes <= st.capacity);
	cache_free(c);
}

/* A key evicted from small comes back: it goes straight to main. */
static void test_ghost_to_main(void)
{
	struct cache *c = cache_new(10 * OBJ, VLEN + 8, 1);
	struct cache_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (uint64_t k = 0; k < 10; k++)
		CU_ASSERT_EQUAL(access_key(c, k, VLEN), 0);
	cache_stats_get(c, &st);
	CU_ASSERT_EQUAL(st.small_items, 10);
	CU_ASSERT_EQUAL(st.main_items, 0);
	/* key 100, seen twice, beats small's oldest (key 0, seen once), which goes to the ghost */
	CU_ASSERT_EQUAL(access_key(c, 100, VLEN), -ENOSPC); /* seen once: a tie, refused */
	CU_ASSERT_EQUAL(access_key(c, 100, VLEN), 0);
	CU_ASSERT_FALSE(present(c, 0));
	/* key 0 again: a ghost hit, admitted into main over key 1 */
	CU_ASSERT_EQUAL(access_key(c, 0, VLEN), 0);
	cache_stats_get(c, &st);
	CU_ASSERT_EQUAL(st.ghost_hits, 1);
	CU_ASSERT_EQUAL(st.main_items, 1);
	CU_ASSERT_EQUAL(st.items, 10);
	CU_ASSERT(present(c, 0));
	cache_free(c);
}

/* When the cache is full of keys more popular than the newcomer, it is refused. */
static void test_admission_refuses(void)
{
	struct cache *c = cache_new(10 * OBJ, VLEN + 8, 1);
	struct cache_stats st;
	char v[VLEN] = {0};
	uint64_t key = 999;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (int round = 0; round < 4; round++)
		for (uint64_t k = 0; k < 10; k++)
			access_key(c, k, VLEN);
	CU_ASSERT_EQUAL(access_key(c, key, VLEN), -ENOSPC);
	CU_ASSERT_EQUAL(cache_put(c, hash_of(key), &key, 8, v, VLEN), -ENOSPC);
	cache_stats_get(c, &st);
	CU_ASSERT_EQUAL(st.rejected, 2);
	CU_ASSERT_EQUAL(st.items, 10);
	CU_ASSERT_EQUAL(st.evicted, 0);
	cache_free(c);
}

/* A reader's reference outlives eviction, removal and even the cache. */
static void test_ref_survives(void)
{
	struct cache *c = cache_new(20 * OBJ, VLEN + 8, 1);
	struct cache_entry *e, *e2;
	struct cache_stats st;
	uint64_t key = 3;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(access_key(c, key, VLEN), 0);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, hash_of(key), &key, 8, &e), 0);
	/* push it out with keys that are each read three times before being stored */
	for (uint64_t k = 100; k < 200; k++)
		for (int i = 0; i < 4; i++)
			access_key(c, k, VLEN);
	CU_ASSERT_FALSE(present(c, key));
	cache_stats_get(c, &st);
	CU_ASSERT_EQUAL(st.pinned, 1);
	CU_ASSERT_EQUAL(st.pinned_bytes, OBJ);
	CU_ASSERT(st.bytes <= st.capacity);
	CU_ASSERT_EQUAL(check_value(e, key), 0);
	cache_entry_release(e);
	cache_stats_get(c, &st);
	CU_ASSERT_EQUAL(st.pinned, 0);
	CU_ASSERT_EQUAL(st.pinned_bytes, 0);

	/* removed while read, and the cache freed before the release */
	for (key = 100; key < 200 && cache_get(c, hash_of(key), &key, 8, &e); key++)
		;
	CU_ASSERT_FATAL(key < 200);
	CU_ASSERT_EQUAL_FATAL(cache_get(c, hash_of(key), &key, 8, &e2), 0);
	CU_ASSERT_EQUAL(cache_remove(c, hash_of(key), &key, 8), 0);
	cache_entry_release(e2);
	cache_free(c);
	CU_ASSERT_EQUAL(check_value(e, key), 0);
	cache_entry_release(e);
}

/* Random sizes, random keys, 4 shards: the charged bytes never pass the bound, and they add up
 * to what the entries hold. */
static void test_byte_bound(void)
{
	const uint64_t cap = 1 << 20, max = 64 << 10;
	struct cache *c = cache_new(cap, max, 4);
	static unsigned char v[64 << 10];
	struct cache_stats st;
	uint64_t s = 12345;
	int stored = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (int i = 0; i < 20000; i++) {
		uint64_t key = rnd(&s) % 3000, len = rnd(&s) % (max - 8 + 1);
		struct cache_entry *e;
		int err;

		if (!cache_get(c, hash_of(key), &key, 8, &e)) {
			cache_entry_release(e);
			continue;
		}
		err = cache_put(c, hash_of(key), &key, 8, v, len);
		CU_ASSERT(err == 0 || err == -ENOSPC);
		stored += !err;
		if (i % 64 == 0) {
			cache_stats_get(c, &st);
			CU_ASSERT(st.bytes <= cap);
			CU_ASSERT(st.bytes >= st.items * (8 + CACHE_ENTRY_OVERHEAD));
		}
	}
	CU_ASSERT(stored > 100);
	/* summing by key: every resident entry found once, the bytes agree */
	uint64_t sum = 0, n = 0;

	for (uint64_t key = 0; key < 3000; key++) {
		struct cache_entry *e;

		if (cache_get(c, hash_of(key), &key, 8, &e))
			continue;
		sum += cache_entry_value_len(e) + 8 + CACHE_ENTRY_OVERHEAD;
		n++;
		cache_entry_release(e);
	}
	cache_stats_get(c, &st);
	CU_ASSERT_EQUAL(st.items, n);
	CU_ASSERT_EQUAL(st.bytes, sum);
	CU_ASSERT(st.bytes <= cap);
	cache_free(c);
}

#ifndef UNIT_ASAN
/* Resident set size in bytes, from /proc/self/statm; 0 when unknown. */
static uint64_t rss_bytes(void)
{
	unsigned long size, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}
#endif

/* Churn ~50 times the capacity through the cache: RSS after the churn stays within the
 * capacity of RSS after the first fill. A newcomer the admission refuses gets room by purging
 * the oldest key stored. (Not under ASan, whose quarantine holds freed memory.) */
static void test_rss_bounded(void)
{
#ifdef UNIT_ASAN
	CU_PASS("RSS is not meaningful under ASan");
#else
	enum { FILL = 2000, ROUNDS = 30000 };
	const uint64_t cap = 8 << 20, max = 32 << 10;
	struct cache *c = cache_new(cap, max, 4);
	static unsigned char v[32 << 10];
	static uint64_t stored[ROUNDS];
	size_t oldest = 0, nstored = 0;
	uint64_t s = 99, rss0 = 0, rss1;
	struct cache_stats st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (uint64_t key = 0; key < ROUNDS; key++) {
		uint64_t len = rnd(&s) % (max - 8 + 1);
		struct cache_entry *e;
		int err;

		if (key == FILL)
			rss0 = rss_bytes();
		CU_ASSERT_EQUAL(cache_get(c, hash_of(key), &key, 8, &e), -ENOENT);
		while ((err = cache_put(c, hash_of(key), &key, 8, v, len)) == -ENOSPC &&
			oldest < nstored) {
			uint64_t old = stored[oldest++];

			(void)cache_remove(c, hash_of(old), &old, 8); /* may be evicted already */
		}
		CU_ASSERT_EQUAL(err, 0);
		stored[nstored++] = key;
	}
	rss1 = rss_bytes();
	cache_stats_get(c, &st);
	CU_ASSERT(st.bytes <= cap);
	CU_ASSERT_EQUAL(st.admitted, ROUNDS);
	CU_ASSERT(st.evicted + st.removed > ROUNDS - FILL);
	if (rss0 && rss1)
		CU_ASSERT(rss1 <= rss0 + cap);
	cache_free(c);
#endif
}

struct worker {
	struct cache *c;
	uint64_t seed;
	uint64_t gets; /* out */
	int bad;       /* out: wrong values or error codes seen */
};

static void *worker_run(void *p)
{
	struct worker *w = p;
	unsigned char v[512];

	for (int i = 0; i < 40000; i++) {
		uint64_t r = rnd(&w->seed), key = r % 4000, len = (r >> 20) % sizeof(v);
		struct cache_entry *e;
		int err;

		switch ((r >> 40) % 16) {
		case 0:
			err = cache_remove(w->c, hash_of(key), &key, 8);
			w->bad += err && err != -ENOENT;
			break;
		default:
			w->gets++;
			err = cache_get(w->c, hash_of(key), &key, 8, &e);
			if (!err) {
				w->bad += check_value(e, key) != 0;
				cache_entry_release(e);
				break;
			}
			w->bad += err != -ENOENT;
			fill_value(v, len, key);
			err = cache_put(w->c, hash_of(key), &key, 8, v, len);
			w->bad += err && err != -ENOSPC;
		}
	}
	return NULL;
}

static void test_threads(void)
{
	const uint64_t cap = 512 << 10;
	struct cache *c = cache_new(cap, 4096, 4);
	struct worker w[4];
	pthread_t t[4];
	struct cache_stats st;
	uint64_t gets = 0, n = 0, sum = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.c = c, .seed = 0x1234567ULL * (i + 1)};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(w[i].bad, 0);
		gets += w[i].gets;
	}
	cache_stats_get(c, &st);
	CU_ASSERT_EQUAL(st.hits + st.misses, gets);
	CU_ASSERT(st.bytes <= cap);
	CU_ASSERT_EQUAL(st.pinned, 0);
	CU_ASSERT_EQUAL(st.small_items + st.main_items, st.items);
	for (uint64_t key = 0; key < 4000; key++) {
		struct cache_entry *e;

		if (cache_get(c, hash_of(key), &key, 8, &e))
			continue;
		CU_ASSERT_EQUAL(check_value(e, key), 0);
		sum += cache_entry_value_len(e) + 8 + CACHE_ENTRY_OVERHEAD;
		n++;
		cache_entry_release(e);
	}
	CU_ASSERT_EQUAL(st.items, n);
	CU_ASSERT_EQUAL(st.bytes, sum);
	cache_free(c);
}

int test_cache_register(void)
{
	static const CU_TestInfo tests[] = {
		{"sketch counts, saturates, grows, ages", test_sketch},
		{"cache_new rejects bad sizes", test_new_invalid},
		{"NULL, zero and huge arguments", test_malformed},
		{"put, get, replace, remove, stats", test_basic},
		{"objects over the max size are refused", test_oversize},
		{"a one-hit-wonder flood keeps hot keys", test_one_hit_flood},
		{"a ghost hit goes to main", test_ghost_to_main},
		{"admission refuses a colder newcomer", test_admission_refuses},
		{"references outlive eviction and the cache", test_ref_survives},
		{"random sizes never pass the byte bound", test_byte_bound},
		{"RSS stays bounded under churn", test_rss_bounded},
		{"4 threads get, put and remove", test_threads},
		CU_TEST_INFO_NULL,
	};

	return unit_add_suite("cache", tests);
}
