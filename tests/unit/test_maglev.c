// SPDX-License-Identifier: GPL-2.0
/* Maglev: the paper's worked example, agreement with a literal Pseudocode 1, balance,
 * disruption, determinism, weights and every error path. */
#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "maglev/maglev-internal.h"
#include "maglev/maglev.h"
#include "tests/unit/unit.h"

#define CANARY 0xdeadbeefu

/* Backend keys for tests: IPv4 10.a.b.c:80, or IPv6 2001:db8::n port 443 when <v6>. */
struct keyset {
	size_t n;
	uint8_t (*key)[MAGLEV_KEY_MAX];
	struct maglev_backend *be;
};

static void keyset_init(struct keyset *ks, size_t n, bool v6)
{
	ks->n = n;
	ks->key = calloc(n, sizeof(*ks->key));
	ks->be = calloc(n, sizeof(*ks->be));
	CU_ASSERT_FATAL(ks->key && ks->be);
	for (size_t i = 0; i < n; i++) {
		uint8_t a[16] = {0};
		size_t len;

		if (v6) {
			a[0] = 0x20;
			a[1] = 0x01;
			a[2] = 0x0d;
			a[3] = 0xb8;
			a[13] = (uint8_t)(i >> 16);
			a[14] = (uint8_t)(i >> 8);
			a[15] = (uint8_t)i;
			len = maglev_addr_key(ks->key[i], AF_INET6, a, 443);
		} else {
			a[0] = 10;
			a[1] = (uint8_t)(i >> 16);
			a[2] = (uint8_t)(i >> 8);
			a[3] = (uint8_t)i;
			len = maglev_addr_key(ks->key[i], AF_INET, a, 80);
		}
		ks->be[i] = (struct maglev_backend){.key = ks->key[i], .key_len = len, .weight = 1};
	}
}

static void keyset_free(struct keyset *ks)
{
	free(ks->key);
	free(ks->be);
}

/* Deterministic pseudo-random numbers (splitmix64) so failures reproduce. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t *table_new(uint32_t m)
{
	uint32_t *t = malloc(m * sizeof(*t));

	CU_ASSERT_FATAL(t != NULL);
	return t;
}

/* Build with a fresh builder of size <m>; asserts success. */
static void build(uint32_t m, const struct maglev_backend *be, size_t n, uint32_t *table)
{
	struct maglev *mg = maglev_new(m);

	CU_ASSERT_FATAL(mg != NULL);
	CU_ASSERT_FATAL(maglev_build(mg, be, n, table) == 0);
	maglev_free(mg);
}

/* Pseudocode 1 written out literally: permutation[i][j] = (offset + j * skip) mod M, and each
 * backend in turn takes the first empty entry at or after next[i]. Turns follow the documented
 * credit rule: weight w earns 2w per round and turns when it holds 2 w_max, starting at w_max.
 * Independent of maglev.c's lazy walk, tail phase and heap. */
static void reference(uint32_t m, size_t n, const uint32_t *offset, const uint32_t *skip,
	const uint32_t *weight, uint32_t *table)
{
	uint64_t *next = calloc(n, sizeof(*next)), *credit = calloc(n, sizeof(*credit));
	uint64_t wmax = 0, filled = 0;

	CU_ASSERT_FATAL(next && credit);
	for (size_t i = 0; i < n; i++)
		if (weight[i] > wmax)
			wmax = weight[i];
	for (size_t i = 0; i < n; i++)
		credit[i] = wmax;
	for (uint32_t s = 0; s < m; s++)
		table[s] = UINT32_MAX;
	while (filled < m) {
		for (size_t i = 0; i < n && filled < m; i++) {
			uint32_t c;

			if (!weight[i])
				continue;
			credit[i] += 2 * (uint64_t)weight[i];
			if (credit[i] < 2 * wmax)
				continue;
			credit[i] -= 2 * wmax;
			c = (uint32_t)((offset[i] + next[i] * skip[i]) % m);
			while (table[c] != UINT32_MAX) {
				next[i]++;
				c = (uint32_t)((offset[i] + next[i] * skip[i]) % m);
			}
			table[c] = (uint32_t)i;
			next[i]++;
			filled++;
		}
	}
	free(next);
	free(credit);
}

/* NSDI'16 Table 1: B0 (offset 3, skip 4), B1 (0, 2), B2 (3, 1), M = 7. The lookup table is
 * B1 B0 B1 B0 B2 B2 B0, and B0 B0 B0 B0 B2 B2 B2 once B1 is removed. Checked with the tail
 * phase off, on from the start, and at its default. */
static void test_paper_example(void)
{
	static const uint32_t off[] = {3, 0, 3}, skip[] = {4, 2, 1},
			      before[] = {1, 0, 1, 0, 2, 2, 0};
	static const uint32_t off2[] = {3, 3}, skip2[] = {4, 1}, after[] = {0, 0, 0, 0, 1, 1, 1};
	static const uint32_t tails[] = {0, 7, 3};
	uint32_t t[7];

	for (size_t k = 0; k < sizeof(tails) / sizeof(tails[0]); k++) {
		struct maglev *mg = maglev_new_any(7);

		CU_ASSERT_FATAL(mg != NULL);
		CU_ASSERT(maglev_size(mg) == 7);
		CU_ASSERT(maglev_set_tail(mg, tails[k]) == 0);
		CU_ASSERT(maglev_build_perm(mg, 3, off, skip, NULL, t) == 0);
		CU_ASSERT(!memcmp(t, before, sizeof(t)));
		CU_ASSERT(maglev_last_turns(mg) == MAGLEV_TURNS_EQUAL);
		CU_ASSERT(maglev_build_perm(mg, 2, off2, skip2, NULL, t) == 0);
		CU_ASSERT(!memcmp(t, after, sizeof(t)));
		/* the same removal expressed as weight 0 */
		CU_ASSERT(maglev_build_perm(mg, 3, off, skip, (const uint32_t[]){1, 0, 1}, t) == 0);
		CU_ASSERT(!memcmp(t, (const uint32_t[]){0, 0, 0, 0, 2, 2, 2}, sizeof(t)));
		maglev_free(mg);
	}
}

/* Random offsets, skips and weights through maglev_build_perm() against reference(), for each
 * turn scheme and tail setting. */
static void test_matches_pseudocode(void)
{
	static const uint32_t sizes[] = {251, 4099, 65537};
	/* weights: all equal, 1..4 (rounds), one heavy among light ones (heap) */
	static const enum maglev_turns schemes[] = {
		MAGLEV_TURNS_EQUAL, MAGLEV_TURNS_ROUNDS, MAGLEV_TURNS_HEAP};

	rng_state = 1;
	for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		uint32_t m = sizes[si];
		uint32_t *t = table_new(m), *ref = table_new(m);

		for (size_t sc = 0; sc < 3; sc++) {
			for (int tail = 0; tail < 3; tail++) {
				size_t n = 1 + rng() % (m < 1000 ? m : 200);
				uint32_t *off = calloc(n, 4), *skip = calloc(n, 4),
					 *w = calloc(n, 4);
				struct maglev *mg = maglev_new(m);

				CU_ASSERT_FATAL(off && skip && w && mg);
				if (sc == MAGLEV_TURNS_HEAP && n < 20)
					n = 20;
				for (size_t i = 0; i < n; i++) {
					off[i] = (uint32_t)(rng() % m);
					skip[i] = (uint32_t)(rng() % (m - 1) + 1);
					w[i] = sc == MAGLEV_TURNS_EQUAL ?
						       7 :
					       sc == MAGLEV_TURNS_ROUNDS ?
						       1 + (uint32_t)(rng() % 4) :
						       1 + (uint32_t)(rng() % 3);
				}
				if (sc == MAGLEV_TURNS_ROUNDS)
					w[0] = 4, w[n - 1] = 1;
				if (sc == MAGLEV_TURNS_HEAP)
					w[n / 2] = 1000;
				if (n > 3)
					w[1] = 0; /* weight 0 takes part in no turn */
				if (tail == 0)
					CU_ASSERT(maglev_set_tail(mg, 0) == 0);
				if (tail == 1)
					CU_ASSERT(
						maglev_set_tail(mg, m < 4000 ? m / 2 : 2000) == 0);
				reference(m, n, off, skip, w, ref);
				CU_ASSERT_FATAL(maglev_build_perm(mg, n, off, skip, w, t) == 0);
				CU_ASSERT(maglev_last_turns(mg) == schemes[sc]);
				CU_ASSERT(!memcmp(t, ref, m * sizeof(*t)));
				maglev_free(mg);
				free(off);
				free(skip);
				free(w);
			}
		}
		free(t);
		free(ref);
	}
}

/* maglev_build() = the reference fed with the keys' offsets and skips in key order. */
static void test_build_matches_pseudocode(void)
{
	const uint32_t m = 4099;
	const size_t n = 300;
	struct keyset ks;
	uint32_t *t = table_new(m), *ref = table_new(m);
	uint32_t off[300], skip[300], w[300];

	keyset_init(&ks, n, false);
	/* keys 10.0.a.b:80 are already in bytewise order */
	for (size_t i = 0; i < n; i++) {
		ks.be[i].weight = 1 + i % 5;
		w[i] = ks.be[i].weight;
		maglev_key_params(ks.be[i].key, ks.be[i].key_len, m, &off[i], &skip[i]);
	}
	reference(m, n, off, skip, w, ref);
	build(m, ks.be, n, t);
	CU_ASSERT(!memcmp(t, ref, m * sizeof(*t)));
	keyset_free(&ks);
	free(t);
	free(ref);
}

/* The key encoding and hashes are part of the format: two nodes, whatever their byte order,
 * must derive the same table. These values pin it; changing them changes every table. */
static void test_key_format(void)
{
	uint8_t k[MAGLEV_KEY_MAX];
	struct in_addr a4;
	struct in6_addr a6;
	uint32_t off, skip;

	CU_ASSERT(inet_pton(AF_INET, "192.0.2.1", &a4) == 1);
	CU_ASSERT(maglev_addr_key(k, AF_INET, &a4, 8080) == 7);
	CU_ASSERT(!memcmp(k, "\x04\xc0\x00\x02\x01\x1f\x90", 7));
	CU_ASSERT(inet_pton(AF_INET6, "2001:db8::1", &a6) == 1);
	CU_ASSERT(maglev_addr_key(k, AF_INET6, &a6, 443) == 19);
	CU_ASSERT(!memcmp(k,
		"\x06\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x01\xbb",
		19));
	CU_ASSERT(maglev_addr_key(k, AF_UNIX, &a4, 1) == 0);

	CU_ASSERT(maglev_hash("", 0, 1) == 0xab07df852769d958ull);
	CU_ASSERT(maglev_hash("\x04\xc0\x00\x02\x01\x1f\x90", 7, 1) == 0x8cffb6600edde9a0ull);
	CU_ASSERT(maglev_hash("\x04\xc0\x00\x02\x01\x1f\x90", 7, 2) == 0xfc256aa9bd08dfa2ull);
	maglev_key_params("\x04\xc0\x00\x02\x01\x1f\x90", 7, 65537, &off, &skip);
	CU_ASSERT(off == 1059 && skip == 57251);
}

/* A whole table pinned by maglev/maglev_ref.py, an independent Python implementation of the
 * format in docs/hashing.md (key encoding, hashes, key order, turns): 20 backends, IPv4
 * 192.0.2.i:(8000+i) or, for i % 3 == 2, [2001:db8::i]:443, weight 1 + i % 3, passed in
 * descending i, then 192.0.2.200:80 with weight 0; M = 251. The checksum is FNV-1a 64 over the
 * entries as little-endian 32-bit words. */
static void test_golden_table(void)
{
	uint8_t keys[21][MAGLEV_KEY_MAX];
	struct maglev_backend be[21];
	uint32_t t[251];
	uint64_t h = 0xcbf29ce484222325ull;
	struct maglev *mg = maglev_new_any(251);

	CU_ASSERT_FATAL(mg != NULL);
	for (int k = 0; k < 20; k++) {
		int i = 19 - k;
		uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};

		if (i % 3 == 2) {
			a[15] = (uint8_t)i;
			be[k].key_len = maglev_addr_key(keys[k], AF_INET6, a, 443);
		} else {
			a[0] = 192, a[1] = 0, a[2] = 2, a[3] = (uint8_t)i;
			be[k].key_len = maglev_addr_key(keys[k], AF_INET, a, (uint16_t)(8000 + i));
		}
		be[k].key = keys[k];
		be[k].weight = 1 + i % 3;
	}
	be[20].key_len = maglev_addr_key(keys[20], AF_INET, (uint8_t[]){192, 0, 2, 200}, 80);
	be[20].key = keys[20];
	be[20].weight = 0;
	CU_ASSERT_FATAL(maglev_build(mg, be, 21, t) == 0);
	for (int s = 0; s < 251; s++)
		for (int b = 0; b < 4; b++) {
			h ^= (t[s] >> (8 * b)) & 0xff;
			h *= 0x100000001b3ull;
		}
	CU_ASSERT(
		!memcmp(t, (const uint32_t[]){6, 10, 12, 2, 1, 12, 2, 4, 17, 2, 15, 4, 2, 18, 1, 5},
			16 * sizeof(*t)));
	CU_ASSERT(h == 0x2d643c25ec974857ull);
	maglev_free(mg);
}

/* Count each backend's slots into <cnt> (<n> entries). */
static void count_slots(const uint32_t *t, uint32_t m, uint32_t *cnt, size_t n)
{
	memset(cnt, 0, n * sizeof(*cnt));
	for (uint32_t s = 0; s < m; s++)
		cnt[t[s]]++;
}

/* max/mean slots per backend for N = 1000 equal backends. */
static double balance(uint32_t m, size_t n)
{
	struct keyset ks;
	uint32_t *t = table_new(m), *cnt = calloc(n, sizeof(*cnt)), max = 0;

	CU_ASSERT_FATAL(cnt != NULL);
	keyset_init(&ks, n, false);
	build(m, ks.be, n, t);
	count_slots(t, m, cnt, n);
	for (size_t i = 0; i < n; i++)
		if (cnt[i] > max)
			max = cnt[i];
	keyset_free(&ks);
	free(t);
	free(cnt);
	return max / ((double)m / n);
}

static void test_balance(void)
{
	double b1 = balance(65537, 1000), b2 = balance(655373, 1000);

	printf("\n    balance N=1000: max/mean %.4f at M=65537, %.4f at M=655373 ", b1, b2);
	CU_ASSERT(b1 <= 1.02);
	CU_ASSERT(b2 <= 1.005);
}

/* Remove <k> of <n> backends (chosen at random) and return the share of the survivors' slots
 * that moved; every slot of a removed backend must move and only to survivors. */
static double disruption(uint32_t m, size_t n, size_t k, const uint32_t *before)
{
	struct keyset ks;
	struct maglev_backend *rest = calloc(n, sizeof(*rest));
	uint32_t *map = calloc(n, sizeof(*map)), *after = table_new(m);
	bool *gone = calloc(n, sizeof(*gone));
	size_t left = 0, kept = 0, moved = 0;

	CU_ASSERT_FATAL(rest && map && gone);
	keyset_init(&ks, n, false);
	for (size_t r = 0; r < k;) {
		size_t i = rng() % n;

		if (!gone[i])
			gone[i] = true, r++;
	}
	for (size_t i = 0; i < n; i++)
		if (!gone[i]) {
			map[left] = (uint32_t)i;
			rest[left++] = ks.be[i];
		}
	build(m, rest, left, after);
	for (uint32_t s = 0; s < m; s++) {
		uint32_t now = map[after[s]];

		CU_ASSERT(!gone[now]);
		if (gone[before[s]])
			continue;
		kept++;
		moved += now != before[s];
	}
	keyset_free(&ks);
	free(rest);
	free(map);
	free(after);
	free(gone);
	return (double)moved / kept;
}

static void test_disruption(void)
{
	const uint32_t m = 65537;
	const size_t n = 1000;
	static const size_t removed[] = {10, 50, 100};
	struct keyset ks;
	uint32_t *before = table_new(m);
	double sum = 0;
	const int runs = 10;

	rng_state = 42;
	keyset_init(&ks, n, false);
	build(m, ks.be, n, before);
	for (int r = 0; r < runs; r++)
		sum += disruption(m, n, 1, before);
	printf("\n    disruption N=1000 M=65537: remove 1: %.3f%% of the others' slots move "
	       "(mean of %d)",
		100 * sum / runs, runs);
	CU_ASSERT(sum / runs <= 0.01);
	for (size_t i = 0; i < sizeof(removed) / sizeof(removed[0]); i++) {
		double d = disruption(m, n, removed[i], before);

		printf(", remove %zu%%: %.2f%%", removed[i] / 10, 100 * d);
		/* a few percent; rehashing modulo N would move nearly every slot */
		CU_ASSERT(d <= 0.10);
	}
	printf(" ");
	keyset_free(&ks);
	free(before);
}

/* The same set in any order, through a fresh or a reused builder, gives the same table once
 * indexes are mapped back to keys; the same order gives byte-identical tables. */
static void test_deterministic(void)
{
	const uint32_t m = 65537;
	const size_t n = 500;
	struct keyset ks;
	struct maglev_backend *shuf = calloc(n, sizeof(*shuf));
	uint32_t *perm = calloc(n, sizeof(*perm)), *t1 = table_new(m), *t2 = table_new(m);
	struct maglev *mg = maglev_new(m);

	CU_ASSERT_FATAL(shuf && perm && mg);
	rng_state = 7;
	for (int v6 = 0; v6 < 2; v6++) {
		keyset_init(&ks, n, v6);
		for (size_t i = 0; i < n; i++)
			ks.be[i].weight = 1 + (uint32_t)(i % 3);
		CU_ASSERT(maglev_build(mg, ks.be, n, t1) == 0);
		for (int round = 0; round < 3; round++) {
			bool same = true;

			for (size_t i = 0; i < n; i++)
				perm[i] = (uint32_t)i;
			for (size_t i = n - 1; i > 0; i--) {
				size_t j = rng() % (i + 1);
				uint32_t x = perm[i];

				perm[i] = perm[j];
				perm[j] = x;
			}
			for (size_t i = 0; i < n; i++)
				shuf[i] = ks.be[perm[i]];
			CU_ASSERT(maglev_build(mg, shuf, n, t2) == 0);
			for (uint32_t s = 0; s < m && same; s++)
				same = perm[t2[s]] == t1[s];
			CU_ASSERT(same);
		}
		/* a builder that has never built gives the same bytes as a reused one */
		build(m, ks.be, n, t2);
		CU_ASSERT(!memcmp(t1, t2, m * sizeof(*t1)));
		keyset_free(&ks);
	}
	maglev_free(mg);
	free(shuf);
	free(perm);
	free(t1);
	free(t2);
}

/* Two backends 1:3 (and 10:30, 1000:3000) get 1/4 and 3/4 of the slots within 1%, identical
 * tables whatever the scale; weight 0 takes no slot and changes nothing. */
static void test_weights(void)
{
	const uint32_t m = 65537;
	static const uint32_t scale[] = {1, 10, 1000, 1000000};
	struct keyset ks;
	uint32_t *t = table_new(m), *t1 = table_new(m), cnt[4];

	keyset_init(&ks, 3, false);
	for (size_t i = 0; i < sizeof(scale) / sizeof(scale[0]); i++) {
		ks.be[0].weight = 1 * scale[i];
		ks.be[1].weight = 3 * scale[i];
		build(m, ks.be, 2, t);
		count_slots(t, m, cnt, 2);
		CU_ASSERT(cnt[0] + cnt[1] == m);
		CU_ASSERT((double)cnt[0] / m >= 0.25 * 0.99 && (double)cnt[0] / m <= 0.25 * 1.01);
		CU_ASSERT(
			(double)cnt[1] / cnt[0] >= 3 * 0.99 && (double)cnt[1] / cnt[0] <= 3 * 1.01);
		if (i == 0)
			memcpy(t1, t, m * sizeof(*t));
		CU_ASSERT(!memcmp(t, t1, m * sizeof(*t)));
		/* a third backend of weight 0 */
		ks.be[2].weight = 0;
		build(m, ks.be, 3, t);
		count_slots(t, m, cnt, 3);
		CU_ASSERT(cnt[2] == 0);
		CU_ASSERT(!memcmp(t, t1, m * sizeof(*t)));
	}
	keyset_free(&ks);
	free(t);
	free(t1);
}

/* Many backends with mixed weights, including a skewed set: every backend's share is its
 * weight's share of the total within 1% (give or take the one slot that rounding needs). */
static void test_weights_many(void)
{
	const uint32_t m = 65537;
	const size_t n = 100;
	struct keyset ks;
	uint32_t *t = table_new(m), cnt[100];
	struct maglev *mg = maglev_new(m);

	CU_ASSERT_FATAL(mg != NULL);
	keyset_init(&ks, n, false);
	for (int set = 0; set < 2; set++) {
		uint64_t sum = 0;

		for (size_t i = 0; i < n; i++) {
			ks.be[i].weight = set == 0 ? 1 + (uint32_t)(i % 4) : 1;
			sum += ks.be[i].weight;
		}
		if (set == 1) {
			ks.be[50].weight = 200; /* a third of the table for one backend */
			sum += 199;
		}
		CU_ASSERT(maglev_build(mg, ks.be, n, t) == 0);
		CU_ASSERT(maglev_last_turns(mg) ==
			  (set == 0 ? MAGLEV_TURNS_ROUNDS : MAGLEV_TURNS_HEAP));
		count_slots(t, m, cnt, n);
		for (size_t i = 0; i < n; i++) {
			double want = (double)m * ks.be[i].weight / sum;

			CU_ASSERT(cnt[i] >= want * 0.99 - 1 && cnt[i] <= want * 1.01 + 1);
			/* one slot for the full first round, one for the last, partial one */
		}
	}
	maglev_free(mg);
	keyset_free(&ks);
	free(t);
}

/* As many equal backends as slots: one slot each. A share below half a slot rounds to none:
 * next to one backend of weight 1000, those of weight 1 (0.2 slots each) get nothing. */
static void test_full_house(void)
{
	const uint32_t m = 251;
	struct keyset ks;
	uint32_t t[251], cnt[251];

	keyset_init(&ks, m, true);
	build(m, ks.be, m, t);
	count_slots(t, m, cnt, m);
	for (size_t i = 0; i < m; i++)
		CU_ASSERT(cnt[i] == 1);
	ks.be[7].weight = 1000;
	build(m, ks.be, m, t);
	count_slots(t, m, cnt, m);
	for (size_t i = 0; i < m; i++)
		CU_ASSERT(cnt[i] == (i == 7 ? m : 0));
	keyset_free(&ks);
}

static bool untouched(const uint32_t *t, uint32_t m)
{
	for (uint32_t s = 0; s < m; s++)
		if (t[s] != CANARY)
			return false;
	return true;
}

static void canary(uint32_t *t, uint32_t m)
{
	for (uint32_t s = 0; s < m; s++)
		t[s] = CANARY;
}

/* Each refused build returns its code and leaves the table as it was. */
static void test_errors(void)
{
	const uint32_t m = 251;
	struct maglev *mg = maglev_new(m);
	struct keyset ks;
	uint32_t t[251];
	uint8_t long_key[MAGLEV_KEY_MAX + 1] = {0};
	struct maglev_backend bad;

	CU_ASSERT_FATAL(mg != NULL);
	keyset_init(&ks, m + 1, false);
	canary(t, m);

	CU_ASSERT(maglev_build(mg, ks.be, 0, t) == -EINVAL);
	CU_ASSERT(maglev_build(mg, NULL, 3, t) == -EINVAL);
	CU_ASSERT(maglev_build(mg, ks.be, 3, NULL) == -EINVAL);
	CU_ASSERT(maglev_build(NULL, ks.be, 3, t) == -EINVAL);
	CU_ASSERT(untouched(t, m));

	bad = ks.be[1];
	ks.be[1].key_len = 0;
	CU_ASSERT(maglev_build(mg, ks.be, 3, t) == -EINVAL);
	ks.be[1].key = long_key;
	ks.be[1].key_len = sizeof(long_key);
	CU_ASSERT(maglev_build(mg, ks.be, 3, t) == -EINVAL);
	ks.be[1].key = NULL;
	ks.be[1].key_len = 7;
	CU_ASSERT(maglev_build(mg, ks.be, 3, t) == -EINVAL);
	ks.be[1] = bad;
	CU_ASSERT(untouched(t, m));

	/* duplicate key, with equal or different weights, also with weight 0 */
	ks.be[2].key = ks.be[0].key;
	CU_ASSERT(maglev_build(mg, ks.be, 3, t) == -EINVAL);
	ks.be[2].weight = 0;
	CU_ASSERT(maglev_build(mg, ks.be, 3, t) == -EINVAL);
	ks.be[2].weight = 5;
	CU_ASSERT(maglev_build(mg, ks.be, 3, t) == -EINVAL);
	ks.be[2].key = ks.key[2];
	ks.be[2].weight = 1;
	/* a key that is a prefix of another is a different key, even when the longer one only
	 * adds zero bytes (keys are compared zero-padded, then by length) */
	{
		static const uint8_t z[4] = {1, 0, 0, 0};
		struct maglev_backend pz[3] = {
			{.key = z, .key_len = 2, .weight = 1},
			{.key = z, .key_len = 4, .weight = 1},
			{.key = z, .key_len = 3, .weight = 1},
		};
		uint32_t cnt[3];

		CU_ASSERT(maglev_build(mg, pz, 3, t) == 0);
		count_slots(t, m, cnt, 3);
		CU_ASSERT(cnt[0] + cnt[1] + cnt[2] == m && cnt[0] && cnt[1] && cnt[2]);
		pz[2].key_len = 4;
		canary(t, m);
		CU_ASSERT(maglev_build(mg, pz, 3, t) == -EINVAL);
		CU_ASSERT(untouched(t, m));
	}

	for (size_t i = 0; i < 3; i++)
		ks.be[i].weight = 0;
	CU_ASSERT(maglev_build(mg, ks.be, 3, t) == -ENOENT);
	for (size_t i = 0; i < 3; i++)
		ks.be[i].weight = 1;
	CU_ASSERT(untouched(t, m));

	/* 252 weighted backends do not fit 251 slots; 251 plus one of weight 0 do */
	CU_ASSERT(maglev_build(mg, ks.be, m + 1, t) == -E2BIG);
	CU_ASSERT(untouched(t, m));
	ks.be[m].weight = 0;
	CU_ASSERT(maglev_build(mg, ks.be, m + 1, t) == 0);
	canary(t, m);

	/* maglev_build_perm: offset and skip out of range */
	CU_ASSERT(maglev_build_perm(mg, 1, (uint32_t[]){m}, (uint32_t[]){1}, NULL, t) == -EINVAL);
	CU_ASSERT(maglev_build_perm(mg, 1, (uint32_t[]){0}, (uint32_t[]){0}, NULL, t) == -EINVAL);
	CU_ASSERT(maglev_build_perm(mg, 1, (uint32_t[]){0}, (uint32_t[]){m}, NULL, t) == -EINVAL);
	CU_ASSERT(maglev_build_perm(mg, 0, (uint32_t[]){0}, (uint32_t[]){1}, NULL, t) == -EINVAL);
	CU_ASSERT(maglev_build_perm(mg, 1, (uint32_t[]){0}, (uint32_t[]){1}, (uint32_t[]){0}, t) ==
		  -ENOENT);
	CU_ASSERT(untouched(t, m));

	maglev_free(mg);
	keyset_free(&ks);
}

/* Table sizes: primes in [251, 1000003] only. */
static void test_sizes(void)
{
	static const uint32_t bad[] = {
		0, 1, 2, 7, 241, 250, 255, 65536, 65535, 1000001, 1000033, UINT32_MAX};
	static const uint32_t good[] = {251, 257, 4099, MAGLEV_DEFAULT_SIZE, 655373, 1000003};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		CU_ASSERT(maglev_new(bad[i]) == NULL);
		CU_ASSERT(errno == EINVAL);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct maglev *mg = maglev_new(good[i]);

		CU_ASSERT(mg != NULL);
		CU_ASSERT(mg && maglev_size(mg) == good[i]);
		maglev_free(mg);
	}
	maglev_free(NULL);
	errno = 0;
	CU_ASSERT(maglev_new_any(9) == NULL && errno == EINVAL);
	CU_ASSERT(maglev_is_prime(2) && maglev_is_prime(3) && maglev_is_prime(65537));
	CU_ASSERT(maglev_is_prime(4294967291u));
	CU_ASSERT(!maglev_is_prime(0) && !maglev_is_prime(1) && !maglev_is_prime(4));
	CU_ASSERT(!maglev_is_prime(65537u * 3));
	CU_ASSERT(!maglev_is_prime(4294967295u) && !maglev_is_prime(65521u * 65519u));
}

/* The largest table and a builder reused with a growing backend count (scratch growth). */
static void test_large_and_reuse(void)
{
	const uint32_t m = MAGLEV_MAX_SIZE;
	struct keyset ks;
	uint32_t *t = table_new(m), *t2 = table_new(m), *cnt = calloc(2000, sizeof(*cnt));
	struct maglev *mg = maglev_new(m);

	CU_ASSERT_FATAL(mg && cnt);
	keyset_init(&ks, 2000, false);
	for (size_t n = 1; n <= 2000; n *= 10) {
		uint32_t lo = UINT32_MAX, hi = 0;

		CU_ASSERT_FATAL(maglev_build(mg, ks.be, n, t) == 0);
		count_slots(t, m, cnt, n);
		for (size_t i = 0; i < n; i++) {
			lo = cnt[i] < lo ? cnt[i] : lo;
			hi = cnt[i] > hi ? cnt[i] : hi;
		}
		CU_ASSERT(lo > 0 && hi <= (double)m / n * 1.02 + 1);
	}
	build(m, ks.be, 1000, t2);
	CU_ASSERT(maglev_build(mg, ks.be, 1000, t) == 0);
	CU_ASSERT(!memcmp(t, t2, m * sizeof(*t)));
	maglev_free(mg);
	keyset_free(&ks);
	free(t);
	free(t2);
	free(cnt);
}

static const CU_TestInfo maglev_tests[] = {
	{"paper example (NSDI'16 Table 1)", test_paper_example},
	{"matches literal Pseudocode 1", test_matches_pseudocode},
	{"build from keys matches Pseudocode 1", test_build_matches_pseudocode},
	{"key encoding and hashes are fixed", test_key_format},
	{"a whole table matches an independent implementation", test_golden_table},
	{"balance N=1000", test_balance},
	{"disruption", test_disruption},
	{"deterministic under shuffled input", test_deterministic},
	{"weights 1:3 at any scale, weight 0", test_weights},
	{"weights: every backend's share", test_weights_many},
	{"as many backends as slots; tiny shares", test_full_house},
	{"errors leave the table untouched", test_errors},
	{"table sizes", test_sizes},
	{"largest table, builder reuse", test_large_and_reuse},
	CU_TEST_INFO_NULL,
};

int test_maglev_register(void)
{
	return unit_add_suite("maglev", maglev_tests);
}
