// SPDX-License-Identifier: GPL-2.0
/* Object store benchmark: hit ratio on a Zipf(1.0) trace over 10,000 keys (5,000,000 lookups,
 * miss -> put, equal-size objects) at 0.5..25% of the keys, beside a plain LRU replaying the
 * same traces and TinyUFO's published figures; then ns per hit with 1 and 2 threads.
 * Usage: cache_bench [RUNS]: RUNS traces (seeds SEED..SEED+RUNS-1) and timing runs, medians
 * quoted. Exits 1 if a median hit ratio is more than 0.5 points below TinyUFO's. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/stat.h"
#include "userspace/cache/cache.h"

#define KEYS	    10000
#define LOOKUPS	    5000000
#define ZIPF_S	    1.0
#define SEED	    0x70696e6778ULL /* fixed: every run replays the same traces */
#define VALUE_LEN   16
#define KEY_LEN	    sizeof(uint64_t)
#define OBJ_CHARGE  (VALUE_LEN + KEY_LEN + CACHE_ENTRY_OVERHEAD)
#define TIMED_KEYS  1000    /* resident keys for the lookup timing */
#define TIMED_GETS  2000000 /* gets per thread per timing run */
#define TIMED_SHARD 16

/* TinyUFO's README, zipf = 1: its hit ratio and its differences to lru and moka, in points. */
static const double sizes_pct[] = {0.5, 1, 5, 10, 25};
static const double tinyufo_pub[] = {45.26, 52.35, 68.89, 75.98, 85.34};
static const double tinyufo_minus_lru[] = {14.21, 13.19, 10.14, 8.39, 5.39};
static const double tinyufo_minus_moka[] = {-0.33, 1.69, 1.91, 1.59, 0.95};
#define NSIZES	 (sizeof(sizes_pct) / sizeof(sizes_pct[0]))
#define RUNS_MAX 100

static double ratio_pingx[NSIZES][RUNS_MAX], ratio_lru[NSIZES][RUNS_MAX];

static uint64_t rng_state;

/* splitmix64: a small, well-mixed generator; also the key hash below */
static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t key_hash(uint64_t key)
{
	uint64_t s = key;

	return splitmix64(&s);
}

/* Uniform double in [0, 1) from the top 53 bits. */
static double rng_unit(void)
{
	return (splitmix64(&rng_state) >> 11) * (1.0 / 9007199254740992.0);
}

/* <n> draws of ranks 0..KEYS-1 with P(k) proportional to 1 / (k + 1)^ZIPF_S: the inverse of
 * the precomputed CDF by binary search. Rank k is key k. */
static uint32_t *zipf_trace(size_t n)
{
	double *cdf = malloc(KEYS * sizeof(*cdf)), sum = 0;
	uint32_t *trace = malloc(n * sizeof(*trace));

	if (!cdf || !trace) {
		free(cdf);
		free(trace);
		return NULL;
	}
	for (int k = 0; k < KEYS; k++)
		cdf[k] = sum += 1.0 / pow(k + 1, ZIPF_S);
	for (int k = 0; k < KEYS; k++)
		cdf[k] /= sum;
	for (size_t i = 0; i < n; i++) {
		double u = rng_unit();
		size_t lo = 0, hi = KEYS - 1;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		trace[i] = (uint32_t)lo;
	}
	free(cdf);
	return trace;
}

/* The peer: a textbook LRU holding <cap> keys (array-linked list, direct-mapped index). */
static double lru_hit_ratio(const uint32_t *trace, size_t n, size_t cap)
{
	int32_t prev[KEYS], next[KEYS], head = -1, tail = -1;
	uint8_t in[KEYS] = {0};
	size_t hits = 0, count = 0;

	for (size_t i = 0; i < n; i++) {
		int32_t k = (int32_t)trace[i];

		if (in[k]) {
			hits++;
			if (head == k)
				continue;
			/* unlink, then move to the front */
			next[prev[k]] = next[k];
			if (next[k] >= 0)
				prev[next[k]] = prev[k];
			else
				tail = prev[k];
		} else {
			if (count == cap) {
				int32_t v = tail;

				in[v] = 0;
				tail = prev[v];
				if (tail >= 0)
					next[tail] = -1;
				else
					head = -1;
				count--;
			}
			in[k] = 1;
			count++;
		}
		prev[k] = -1;
		next[k] = head;
		if (head >= 0)
			prev[head] = k;
		head = k;
		if (tail < 0)
			tail = k;
	}
	return 100.0 * hits / n;
}

/* Replay <trace> on a pingx cache of <cap> objects: get, and put on a miss. Returns the hit
 * ratio in percent, or -1 on error. */
static double pingx_hit_ratio(const uint32_t *trace, size_t n, size_t cap)
{
	struct cache *c = cache_new(cap * OBJ_CHARGE, VALUE_LEN + KEY_LEN, 1);
	char value[VALUE_LEN] = {0};
	size_t hits = 0;

	if (!c)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t key = trace[i], h = key_hash(key);
		struct cache_entry *e;
		int err = cache_get(c, h, &key, KEY_LEN, &e);

		if (!err) {
			hits++;
			cache_entry_release(e);
			continue;
		}
		err = cache_put(c, h, &key, KEY_LEN, value, sizeof(value));
		if (err && err != -ENOSPC) {
			cache_free(c);
			return -1;
		}
	}
	cache_free(c);
	return 100.0 * hits / n;
}

struct timed_arg {
	struct cache *c;
	const uint32_t *keys; /* TIMED_GETS resident keys to look up */
	double ns;	      /* out: thread CPU ns per get */
	int misses;	      /* out: must stay 0 */
};

static void *timed_gets(void *p)
{
	struct timed_arg *a = p;
	double t0 = bench_thread_ns();

	for (size_t i = 0; i < TIMED_GETS; i++) {
		uint64_t key = a->keys[i], h = key_hash(key);
		struct cache_entry *e;

		if (cache_get(a->c, h, &key, KEY_LEN, &e)) {
			a->misses++;
			continue;
		}
		cache_entry_release(e);
	}
	a->ns = (bench_thread_ns() - t0) / TIMED_GETS;
	return NULL;
}

/* Median CPU ns per hit over <runs> runs with <threads> threads on one cache holding TIMED_KEYS
 * keys; each thread reads its own uniform random key sequence. Returns -1 on error. */
static double time_hits(int runs, int threads)
{
	struct cache *c = cache_new(4 * TIMED_KEYS * OBJ_CHARGE, VALUE_LEN + KEY_LEN, TIMED_SHARD);
	uint32_t *keys = malloc(2 * TIMED_GETS * sizeof(*keys));
	double *t = calloc(runs, sizeof(*t)), res = -1;
	char value[VALUE_LEN] = {0};

	if (!c || !keys || !t)
		goto out;
	for (uint64_t key = 0; key < TIMED_KEYS; key++)
		if (cache_put(c, key_hash(key), &key, KEY_LEN, value, sizeof(value)))
			goto out;
	for (size_t i = 0; i < 2 * TIMED_GETS; i++)
		keys[i] = splitmix64(&rng_state) % TIMED_KEYS;
	for (int r = 0; r < runs; r++) {
		struct timed_arg a[2] = {{c, keys, 0, 0}, {c, keys + TIMED_GETS, 0, 0}};
		pthread_t tid[2];

		for (int i = 0; i < threads; i++)
			if (pthread_create(&tid[i], NULL, timed_gets, &a[i]))
				goto out;
		for (int i = 0; i < threads; i++)
			pthread_join(tid[i], NULL);
		t[r] = 0;
		for (int i = 0; i < threads; i++) {
			if (a[i].misses)
				goto out;
			t[r] += a[i].ns / threads;
		}
	}
	res = bench_median(t, runs);
out:
	cache_free(c);
	free(keys);
	free(t);
	return res;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 5, ret = 0;
	uint32_t *trace;

	if (runs < 1 || runs > RUNS_MAX) {
		fprintf(stderr, "usage: cache_bench [RUNS 1..%d]\n", RUNS_MAX);
		return 2;
	}
	printf("hit ratio, zipf %.1f over %d keys, %d lookups (miss -> put), median of %d traces\n",
		ZIPF_S, KEYS, LOOKUPS, runs);
	for (int r = 0; r < runs; r++) {
		rng_state = SEED + r;
		trace = zipf_trace(LOOKUPS);
		if (!trace) {
			fprintf(stderr, "cache_bench: out of memory\n");
			return 1;
		}
		for (size_t i = 0; i < NSIZES; i++) {
			size_t cap = (size_t)(KEYS * sizes_pct[i] / 100 + 0.5);

			ratio_pingx[i][r] = pingx_hit_ratio(trace, LOOKUPS, cap);
			ratio_lru[i][r] = lru_hit_ratio(trace, LOOKUPS, cap);
			if (ratio_pingx[i][r] < 0) {
				fprintf(stderr, "cache_bench: cache failed\n");
				return 1;
			}
		}
		free(trace);
	}
	printf("%-6s %6s %7s %7s %8s %7s | %-31s | %s\n", "size", "objs", "pingx", "lru", "vs-lru",
		"spread", "published: tinyufo lru   moka", "vs tinyufo");
	for (size_t i = 0; i < NSIZES; i++) {
		size_t cap = (size_t)(KEYS * sizes_pct[i] / 100 + 0.5);
		double lo = ratio_pingx[i][0], hi = lo, p, l, pub = tinyufo_pub[i];

		for (int r = 1; r < runs; r++) {
			lo = ratio_pingx[i][r] < lo ? ratio_pingx[i][r] : lo;
			hi = ratio_pingx[i][r] > hi ? ratio_pingx[i][r] : hi;
		}
		p = bench_median(ratio_pingx[i], runs);
		l = bench_median(ratio_lru[i], runs);
		printf("%5.1f%% %6zu %6.2f%% %6.2f%% %+7.2fpp %6.2fpp | %6.2f%% %6.2f%% %6.2f%% | "
		       "%+.2fpp %s\n",
			sizes_pct[i], cap, p, l, p - l, hi - lo, pub, pub - tinyufo_minus_lru[i],
			pub - tinyufo_minus_moka[i], p - pub, p >= pub - 0.5 ? "ok" : "BELOW");
		ret |= p < pub - 0.5;
	}
	rng_state = SEED;
	for (int threads = 1; threads <= 2; threads++) {
		double ns = time_hits(runs, threads);

		if (ns < 0) {
			fprintf(stderr, "cache_bench: timing failed\n");
			return 1;
		}
		printf("get (hit), %d thread%s, %d keys, %d shards: %.1f CPU ns/op (median of %d)\n",
			threads, threads > 1 ? "s" : "", TIMED_KEYS, TIMED_SHARD, ns, runs);
	}
	return ret;
}
