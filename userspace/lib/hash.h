/* SPDX-License-Identifier: GPL-2.0 */
/* A 64-bit mixer shared by the layers that spread keys over tables (the cache's shards and
 * buckets, the rate sketches' columns). */
#ifndef USERSPACE_LIB_HASH_H
#define USERSPACE_LIB_HASH_H

#include <stdint.h>

/* A bijective 64-bit finaliser (the splitmix64 constants): every input bit reaches every
 * output bit, so keys that differ in one bit land in unrelated slots. */
static inline uint64_t hash_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

#endif /* USERSPACE_LIB_HASH_H */
