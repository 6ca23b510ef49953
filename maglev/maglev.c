// SPDX-License-Identifier: GPL-2.0
/* Maglev lookup-table population (Eisenbud et al., NSDI 2016, section 3.4, Pseudocode 1) with
 * weights as exact ratios. Backends are ordered by key, so the table depends only on the set of
 * (key, weight) and on M; permutations are walked lazily and never stored. */
#include "maglev/maglev.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maglev/maglev-internal.h"

/* Seeds of the two key hashes (the ASCII of "maglev/1" and "maglev/2"). */
#define MAGLEV_SEED_OFFSET 0x6d61676c65762f31ull
#define MAGLEV_SEED_SKIP   0x6d61676c65762f32ull

/* Switch to the tail phase when this many times sqrt(M) slots are left empty. With E slots
 * empty a walk takes about M/E probes and a tail turn E modular products, so the two costs
 * meet near E = sqrt(M); measured builds are fastest there (bench/maglev_bench). */
#define MAGLEV_TAIL_PER_SQRT 1

/* One backend while it takes part in a build, in key order. */
struct maglev_be {
	uint32_t next;	 /* slot it prefers next: offset + k * skip (mod M) */
	uint32_t skip;	 /* 1..M-1 */
	uint32_t index;	 /* position in the caller's array: the value stored in the table */
	uint32_t weight; /* > 0 */
	uint64_t credit; /* unequal weights: credit held, in units of half a weight */
	uint32_t inv;	 /* skip^-1 mod M, 0 until the tail phase needs it */
	uint32_t pad;
};

/* A caller's backend reduced to a sortable key: the key bytes zero-padded to 23 bytes plus the
 * length, as three big-endian words, so comparing words orders keys bytewise on any machine. */
struct maglev_ent {
	uint64_t k[3];
	uint32_t index;	 /* position in the caller's array */
	uint32_t weight; /* the caller's weight */
};

struct maglev {
	uint32_t m;    /* table size, prime */
	uint32_t tail; /* empty slots that start the tail phase; 0 = never */
	size_t cap;    /* entries allocated in ents, be and heap */
	struct maglev_ent *ents;
	struct maglev_be *be;
	uint64_t *heap;	  /* (round << 32 | backend) of each backend's next turn */
	uint64_t *filled; /* bitmap of the slots taken, (m + 63) / 64 words */
	uint32_t *empty;  /* the empty slots during the tail phase, tail entries */
	enum maglev_turns last_turns;
};

bool maglev_is_prime(uint32_t m)
{
	if (m < 2)
		return false;
	if (m % 2 == 0)
		return m == 2;
	for (uint64_t d = 3; d * d <= m; d += 2)
		if (m % d == 0)
			return false;
	return true;
}

/* The tail threshold for <m>: MAGLEV_TAIL_PER_SQRT * floor(sqrt(m)), at most m. */
static uint32_t default_tail(uint32_t m)
{
	uint32_t r = 1;

	while ((uint64_t)(r + 1) * (r + 1) <= m)
		r++;
	r *= MAGLEV_TAIL_PER_SQRT;
	return r < m ? r : m;
}

int maglev_set_tail(struct maglev *mg, uint32_t empty_slots)
{
	uint32_t *e;

	if (empty_slots > mg->m)
		empty_slots = mg->m;
	if (empty_slots > mg->tail || !mg->empty) {
		e = realloc(mg->empty, (empty_slots ? empty_slots : 1) * sizeof(*e));
		if (!e)
			return -ENOMEM;
		mg->empty = e;
	}
	mg->tail = empty_slots;
	return 0;
}

struct maglev *maglev_new_any(uint32_t m)
{
	struct maglev *mg;

	if (!maglev_is_prime(m)) {
		errno = EINVAL;
		return NULL;
	}
	mg = calloc(1, sizeof(*mg));
	if (!mg)
		return NULL;
	mg->m = m;
	mg->filled = malloc(((size_t)m + 63) / 64 * sizeof(*mg->filled));
	if (!mg->filled || maglev_set_tail(mg, default_tail(m))) {
		maglev_free(mg);
		errno = ENOMEM;
		return NULL;
	}
	return mg;
}

struct maglev *maglev_new(uint32_t m)
{
	if (m < MAGLEV_MIN_SIZE || m > MAGLEV_MAX_SIZE) {
		errno = EINVAL;
		return NULL;
	}
	return maglev_new_any(m);
}

void maglev_free(struct maglev *mg)
{
	if (!mg)
		return;
	free(mg->ents);
	free(mg->be);
	free(mg->heap);
	free(mg->filled);
	free(mg->empty);
	free(mg);
}

uint32_t maglev_size(const struct maglev *mg)
{
	return mg->m;
}

enum maglev_turns maglev_last_turns(const struct maglev *mg)
{
	return mg->last_turns;
}

/* Make room for <n> backends in the scratch arrays; what was there stays valid on failure.
 * Returns 0 or -ENOMEM. */
static int reserve(struct maglev *mg, size_t n)
{
	size_t cap = mg->cap ? mg->cap : 16;
	void *p;

	if (n <= mg->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	p = realloc(mg->ents, cap * sizeof(*mg->ents));
	if (!p)
		return -ENOMEM;
	mg->ents = p;
	p = realloc(mg->be, cap * sizeof(*mg->be));
	if (!p)
		return -ENOMEM;
	mg->be = p;
	p = realloc(mg->heap, cap * sizeof(*mg->heap));
	if (!p)
		return -ENOMEM;
	mg->heap = p;
	mg->cap = cap;
	return 0;
}

/* The finaliser of MurmurHash3 (fmix64): a bijection in which every input bit affects every
 * output bit. */
static uint64_t fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

/* FNV-1a 64 over the bytes, started from the FNV offset basis xor <seed>, then the length xored
 * in, then fmix64 so that the low bits read by "% M" depend on every input bit. Defined on bytes
 * only, so every machine derives the same values. */
static uint64_t fnv1a_fmix(const void *key, size_t key_len, uint64_t seed)
{
	const uint8_t *p = key;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (size_t i = 0; i < key_len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return fmix64(h ^ key_len);
}

uint64_t maglev_hash(const void *key, size_t key_len, unsigned int seed)
{
	return fnv1a_fmix(key, key_len, seed == 1 ? MAGLEV_SEED_OFFSET : MAGLEV_SEED_SKIP);
}

uint64_t maglev_key_hash(const void *key, size_t len)
{
	return fnv1a_fmix(key, len, 0);
}

uint32_t maglev_key_slot(const void *key, size_t len, uint32_t m)
{
	return (uint32_t)(maglev_key_hash(key, len) % m);
}

void maglev_key_params(
	const void *key, size_t key_len, uint32_t m, uint32_t *offset, uint32_t *skip)
{
	*offset = (uint32_t)(maglev_hash(key, key_len, 1) % m);
	*skip = (uint32_t)(maglev_hash(key, key_len, 2) % (m - 1) + 1);
}

/* The inverse of <a> (1..m-1) modulo the prime <m>, by the extended Euclidean algorithm. */
static uint32_t mod_inverse(uint32_t a, uint32_t m)
{
	int64_t t = 0, new_t = 1, r = m, new_r = a, q, tmp;

	while (new_r) {
		q = r / new_r;
		tmp = t - q * new_t;
		t = new_t;
		new_t = tmp;
		tmp = r - q * new_r;
		r = new_r;
		new_r = tmp;
	}
	return (uint32_t)(t < 0 ? t + m : t);
}

/* State of one population run, kept in registers by the compiler. */
struct fill {
	struct maglev *mg;
	uint32_t *table;
	uint32_t m;
	uint32_t left;	  /* empty slots */
	uint32_t n_empty; /* entries in mg->empty; valid once left <= mg->tail */
};

/* Enter the tail phase: list the empty slots, in slot order. */
static void tail_start(struct fill *f)
{
	const uint64_t *bits = f->mg->filled;
	uint32_t n = 0;

	for (uint32_t w = 0; w < (f->m + 63) / 64; w++) {
		uint64_t free_bits = ~bits[w];

		while (free_bits) {
			uint32_t s = w * 64 + (uint32_t)__builtin_ctzll(free_bits);

			free_bits &= free_bits - 1;
			if (s < f->m)
				f->mg->empty[n++] = s;
		}
	}
	f->n_empty = n;
}

/* Tail-phase turn of <b>: of the empty slots, the one that comes first in b's permutation from
 * b->next on. Slot s is (s - next) * skip^-1 (mod M) steps ahead, so a scan of the few empty
 * slots replaces the ~M/left probes a walk would take. */
static void tail_turn(struct fill *f, struct maglev_be *b)
{
	uint32_t *empty = f->mg->empty;
	uint32_t m = f->m, next = b->next, best = 0;
	int64_t best_d = INT64_MAX;
	double minv = 1.0 / m;

	if (!b->inv)
		b->inv = mod_inverse(b->skip, m);
	for (uint32_t i = 0; i < f->n_empty; i++) {
		uint32_t s = empty[i];
		uint64_t x = (uint64_t)(s >= next ? s - next : s + m - next) * b->inv;
		/* x mod m without a division: x < 2^40, so the quotient from a double is off by at
		 * most one either way */
		int64_t d = (int64_t)(x - (uint64_t)((double)(int64_t)x * minv) * m);

		d += d < 0 ? m : 0;
		d -= d >= m ? m : 0;

		if (d < best_d) {
			best_d = d;
			best = i;
		}
	}
	next = empty[best];
	empty[best] = empty[--f->n_empty];
	f->table[next] = b->index;
	next += b->skip;
	b->next = next >= m ? next - m : next;
}

/* One turn of <b>: it takes the first empty slot along its permutation (Pseudocode 1's inner
 * loop). Returns true when the table is full. */
static inline bool turn(struct fill *f, struct maglev_be *b)
{
	uint64_t *bits = f->mg->filled;
	uint32_t m = f->m, c, skip;

	if (f->left <= f->mg->tail) {
		if (f->left == f->mg->tail)
			tail_start(f);
		tail_turn(f, b);
		return --f->left == 0;
	}
	c = b->next;
	skip = b->skip;
	while (bits[c / 64] & (1ull << (c % 64))) {
		c += skip;
		if (c >= m)
			c -= m;
	}
	bits[c / 64] |= 1ull << (c % 64);
	f->table[c] = b->index;
	c += skip;
	b->next = c >= m ? c - m : c;
	return --f->left == 0;
}

/* Restore the heap property below position <i> of the <n>-entry min-heap <h>. */
static void sift_down(uint64_t *h, size_t n, size_t i)
{
	uint64_t v = h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && h[c + 1] < h[c])
			c++;
		if (h[c] >= v)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
}

/* Fill <table> from the <n> backends in mg->be (all with weight > 0, n <= M), which take turns
 * in array order, one turn per round at most.
 *
 * Turns follow the weights as exact ratios. A backend of weight w earns 2w credits per round,
 * starts with w_max, and takes a turn whenever it holds 2 w_max: its k-th turn (k = 0, 1, ...)
 * comes in the first round r with r >= (k + 1/2) w_max / w. Turns thus sit at the midpoints of
 * each backend's share of the rounds (Sainte-Lague apportionment): after R rounds every count
 * is R w / w_max rounded, so counts are the same multiple of the weights up to one slot, and
 * rounding errors go both ways instead of all against one backend (a head start for everyone
 * would cost the heaviest backend one slot per other backend). Scaling all weights changes
 * nothing, and equal weights give the paper's one turn per backend per round. */
static void populate(struct maglev *mg, size_t n, uint32_t *table)
{
	struct fill f = {.mg = mg, .table = table, .m = mg->m, .left = mg->m};
	struct maglev_be *be = mg->be;
	uint64_t wmax = 0, wsum = 0, *heap = mg->heap;
	bool equal = true;

	for (size_t i = 0; i < n; i++) {
		be[i].inv = 0;
		equal &= be[i].weight == be[0].weight;
		wsum += be[i].weight;
		if (be[i].weight > wmax)
			wmax = be[i].weight;
	}
	memset(mg->filled, 0, ((size_t)mg->m + 63) / 64 * sizeof(*mg->filled));

	if (equal) {
		mg->last_turns = MAGLEV_TURNS_EQUAL;
		for (;;)
			for (size_t i = 0; i < n; i++)
				if (turn(&f, &be[i]))
					return;
	}
	/* Scanning every backend each round costs n * w_max / w_avg per slot; past a few per slot a
	 * heap of next turns, at log2(n) per slot, is cheaper. */
	if (n * wmax <= 8 * wsum) {
		mg->last_turns = MAGLEV_TURNS_ROUNDS;
		for (size_t i = 0; i < n; i++)
			be[i].credit = wmax;
		for (;;) {
			for (size_t i = 0; i < n; i++) {
				be[i].credit += 2 * (uint64_t)be[i].weight;
				if (be[i].credit < 2 * wmax)
					continue;
				be[i].credit -= 2 * wmax;
				if (turn(&f, &be[i]))
					return;
			}
		}
	}
	/* The heap holds (round << 32 | position) of each backend's next turn, so ties within a
	 * round go by key order as in the scan above; credit is what it held before that round.
	 * The backend of weight w_max turns every round, so rounds never exceed M. */
	mg->last_turns = MAGLEV_TURNS_HEAP;
	for (size_t i = 0; i < n; i++) {
		uint64_t w2 = 2 * (uint64_t)be[i].weight, r = (wmax + w2 - 1) / w2;

		be[i].credit = wmax + (r - 1) * w2;
		heap[i] = r << 32 | i;
	}
	for (size_t i = n / 2; i-- > 0;)
		sift_down(heap, n, i);
	for (;;) {
		uint64_t top = heap[0], w2, k;
		struct maglev_be *b = &be[(uint32_t)top];

		if (turn(&f, b))
			return;
		w2 = 2 * (uint64_t)b->weight;
		b->credit = b->credit + w2 - 2 * wmax;
		/* rounds until the credit reaches 2 w_max again (>= 1, since w <= w_max) */
		k = (2 * wmax - b->credit + w2 - 1) / w2;
		b->credit += (k - 1) * w2;
		heap[0] = ((top >> 32) + k) << 32 | (uint32_t)top;
		sift_down(heap, n, 0);
	}
}

int maglev_build_perm(struct maglev *mg, size_t n, const uint32_t *offset, const uint32_t *skip,
	const uint32_t *weight, uint32_t *table)
{
	size_t active = 0;
	int err;

	if (!mg || !offset || !skip || !table || n == 0)
		return -EINVAL;
	if (n > UINT32_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		if (offset[i] >= mg->m || skip[i] == 0 || skip[i] >= mg->m)
			return -EINVAL;
		active += !weight || weight[i];
	}
	if (!active)
		return -ENOENT;
	if (active > mg->m)
		return -E2BIG;
	err = reserve(mg, n);
	if (err)
		return err;
	active = 0;
	for (size_t i = 0; i < n; i++) {
		if (weight && !weight[i])
			continue;
		mg->be[active++] = (struct maglev_be){
			.next = offset[i],
			.skip = skip[i],
			.index = (uint32_t)i,
			.weight = weight ? weight[i] : 1,
		};
	}
	populate(mg, active, table);
	return 0;
}

/* Load 8 bytes as a big-endian word. */
static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct maglev_ent *x = a, *y = b;

	for (int i = 0; i < 3; i++)
		if (x->k[i] != y->k[i])
			return x->k[i] < y->k[i] ? -1 : 1;
	return 0;
}

int maglev_build(
	struct maglev *mg, const struct maglev_backend *backends, size_t n, uint32_t *table)
{
	struct maglev_ent *ents;
	size_t active = 0;
	int err;

	if (!mg || !backends || !table || n == 0)
		return -EINVAL;
	if (n > UINT32_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		if (!backends[i].key || backends[i].key_len == 0 ||
			backends[i].key_len > MAGLEV_KEY_MAX)
			return -EINVAL;
		active += backends[i].weight != 0;
	}
	err = reserve(mg, n);
	if (err)
		return err;

	ents = mg->ents;
	for (size_t i = 0; i < n; i++) {
		uint8_t buf[24] = {0};

		memcpy(buf, backends[i].key, backends[i].key_len);
		buf[23] = (uint8_t)backends[i].key_len;
		ents[i].k[0] = load_be64(buf);
		ents[i].k[1] = load_be64(buf + 8);
		ents[i].k[2] = load_be64(buf + 16);
		ents[i].index = (uint32_t)i;
		ents[i].weight = backends[i].weight;
	}
	qsort(ents, n, sizeof(*ents), ent_cmp);
	/* Duplicates are refused whatever their weights: the set must be a set. */
	for (size_t i = 1; i < n; i++)
		if (!ent_cmp(&ents[i - 1], &ents[i]))
			return -EINVAL;
	if (!active)
		return -ENOENT;
	if (active > mg->m)
		return -E2BIG;

	active = 0;
	for (size_t i = 0; i < n; i++) {
		const struct maglev_backend *bk = &backends[ents[i].index];
		struct maglev_be *b;

		if (!ents[i].weight)
			continue;
		b = &mg->be[active++];
		maglev_key_params(bk->key, bk->key_len, mg->m, &b->next, &b->skip);
		b->index = ents[i].index;
		b->weight = ents[i].weight;
	}
	populate(mg, active, table);
	return 0;
}

size_t maglev_addr_key(uint8_t *out, int family, const void *addr, uint16_t port)
{
	size_t alen;

	switch (family) {
	case AF_INET:
		out[0] = 4;
		alen = 4;
		break;
	case AF_INET6:
		out[0] = 6;
		alen = 16;
		break;
	default:
		return 0;
	}
	memcpy(out + 1, addr, alen);
	out[1 + alen] = (uint8_t)(port >> 8);
	out[2 + alen] = (uint8_t)port;
	return alen + 3;
}
