// SPDX-License-Identifier: GPL-2.0
/* The string-key hash for Maglev lookups (see maglev_key.h for its exact definition). */
#include "maglev/maglev_key.h"

#define FNV64_BASIS 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull

/* MurmurHash3's 64-bit finaliser: a bijection with full avalanche. FNV-1a alone leaves its low
 * bits weakly mixed, and "% M" reads mostly the low bits. */
static uint64_t fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

uint64_t maglev_key_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = FNV64_BASIS;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV64_PRIME;
	}
	return fmix64(h ^ (uint64_t)len);
}

uint32_t maglev_key_slot(const void *key, size_t len, uint32_t m)
{
	return (uint32_t)(maglev_key_hash(key, len) % m);
}
