/* SPDX-License-Identifier: GPL-2.0 */
/* Maglev internals exposed for tests and benchmarks only: population from explicit offsets and
 * skips (the paper's worked example), the key hashes, and knobs that select a code path. */
#ifndef MAGLEV_MAGLEV_INTERNAL_H
#define MAGLEV_MAGLEV_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "maglev/maglev.h"

/* How the last build chose whose turn it is (see maglev.c). */
enum maglev_turns {
	MAGLEV_TURNS_EQUAL = 0, /* all weights equal: every backend once per round (the paper) */
	MAGLEV_TURNS_ROUNDS,	/* credit per round, scanning every backend */
	MAGLEV_TURNS_HEAP,	/* credit per round, next turns kept in a heap (skewed weights) */
	MAGLEV_TURNS_MAX	/* must stay last */
};

/* Like maglev_new() but accepts any prime <m> >= 2, so tests can use the paper's M = 7.
 * Returns NULL with errno EINVAL or ENOMEM. */
struct maglev *maglev_new_any(uint32_t m);

/* Populate <table> (M entries) from <n> backends given directly by their <offset> (< M) and
 * <skip> (1..M-1) and <weight> (NULL: all 1), taking turns in the order given (no sorting, no
 * hashing). Table entries are positions in these arrays. Returns 0 or -EINVAL / -ENOENT /
 * -E2BIG / -ENOMEM with <table> untouched. */
int maglev_build_perm(struct maglev *mg, size_t n, const uint32_t *offset, const uint32_t *skip,
	const uint32_t *weight, uint32_t *table);

/* The offset and skip that a build derives from a key for table size <m> (prime, >= 2). */
void maglev_key_params(
	const void *key, size_t key_len, uint32_t m, uint32_t *offset, uint32_t *skip);

/* The 64-bit key hash behind offset (<seed> 1) and skip (<seed> 2); defined bytewise. */
uint64_t maglev_hash(const void *key, size_t key_len, unsigned int seed);

/* Number of empty slots at which a build stops probing permutations and instead picks, among
 * the remaining empty slots, the one each backend prefers most (same result, fewer probes).
 * 0 disables the switch. Returns 0 or -ENOMEM. */
int maglev_set_tail(struct maglev *mg, uint32_t empty_slots);

/* The turn scheme that the last successful build used. */
enum maglev_turns maglev_last_turns(const struct maglev *mg);

#endif /* MAGLEV_MAGLEV_INTERNAL_H */
