/* SPDX-License-Identifier: GPL-2.0 */
/* Maglev consistent hashing (Eisenbud et al., NSDI 2016, section 3.4) with weights as ratios.
 * Pure C: no I/O, no globals. The table depends only on the set of (key, weight) and on M. */
#ifndef MAGLEV_MAGLEV_H
#define MAGLEV_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAGLEV_DEFAULT_SIZE 65537u
#define MAGLEV_MIN_SIZE	    251u
#define MAGLEV_MAX_SIZE	    1000003u
/* Longest backend key: family (1) + IPv6 address (16) + port (2). */
#define MAGLEV_KEY_MAX 19

/* One backend as the caller describes it. The caller owns the memory. */
struct maglev_backend {
	const void *key; /* identity bytes, e.g. from maglev_addr_key(); compared bytewise */
	size_t key_len;	 /* 1..MAGLEV_KEY_MAX */
	uint32_t weight; /* relative share; 0 = takes no slots */
};

/* A table builder for one size M. It owns scratch space that is reused by every build, so
 * the control plane can rebuild without allocating on each change (scratch grows only when a
 * build has more backends than any before). One builder serves one thread at a time; separate
 * builders are independent. */
struct maglev;

/* True when <m> is prime. */
bool maglev_is_prime(uint32_t m);

/* Create a builder for tables of <m> slots. <m> must be a prime in
 * [MAGLEV_MIN_SIZE, MAGLEV_MAX_SIZE]. Returns NULL with errno EINVAL (bad size) or ENOMEM. */
struct maglev *maglev_new(uint32_t m);

/* Release <mg>; NULL is accepted. */
void maglev_free(struct maglev *mg);

/* The table size M of <mg>. */
uint32_t maglev_size(const struct maglev *mg);

/* Fill <table> (M entries, caller-provided) with indexes into <backends> (<n> entries).
 * Backends with weight 0 get no slot; the others get slots in proportion to their weights:
 * every count is the same multiple of its weight, rounded, give or take one slot (so a share
 * below half a slot may get none), and multiplying every weight by the same factor gives the
 * same table. Equal weights give the paper's table exactly. The result depends only on the
 * set of (key, weight) and on M, not on the order of <backends>: the same set in the same
 * order gives byte-identical tables on every machine. <table> is written during the build, so
 * build into a buffer that nothing reads meanwhile.
 * Returns 0, or a negative errno with <table> untouched:
 *   -EINVAL  n == 0, a NULL pointer, a key of bad length, or two backends with the same key;
 *   -ENOENT  every weight is 0;
 *   -E2BIG   more backends with weight > 0 than slots;
 *   -ENOMEM  scratch space could not grow. */
int maglev_build(
	struct maglev *mg, const struct maglev_backend *backends, size_t n, uint32_t *table);

/* Encode a backend address as its Maglev key into <out> (MAGLEV_KEY_MAX bytes): one byte 4 or
 * 6 (not the platform's AF_* value), the address in network order, the port big-endian; 7 or
 * 19 bytes. <family> is AF_INET or AF_INET6, <addr> points to the address in network order,
 * <port> is in host order. Returns the key length, or 0 for an unknown family. */
size_t maglev_addr_key(uint8_t *out, int family, const void *addr, uint16_t port);

/* Hashing a string selection key onto a table: the one definition shared by pingctl ("where does
 * this key go?") and the L7 proxy, so both send a key to the same slot.
 * maglev_key_hash() is FNV-1a 64 over the <len> bytes at <key> (len 0 allowed) from its offset
 * basis, then the length xored in, then MurmurHash3's fmix64 finaliser. Defined bytewise: the
 * same on every machine. */
uint64_t maglev_key_hash(const void *key, size_t len);

/* The slot of <key> in a table of <m> (> 0) slots: maglev_key_hash(key, len) % m. */
uint32_t maglev_key_slot(const void *key, size_t len, uint32_t m);

#endif /* MAGLEV_MAGLEV_H */
