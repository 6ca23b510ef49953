/* SPDX-License-Identifier: GPL-2.0 */
/* The key hash of the limit/ sketches and tables: one seeded 64-bit hash per key, from which
 * every row derives its column (double hashing), so a key is read once however many rows. */
#ifndef USERSPACE_LIMIT_HASH_H
#define USERSPACE_LIMIT_HASH_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "userspace/lib/hash.h"

/* Rows and width bounds shared by the sketches and the request table. */
#define LIMIT_ROWS_MAX	8
#define LIMIT_WIDTH_MIN 16
#define LIMIT_WIDTH_MAX (1u << 24)

/* The hash of the <len> bytes at <key> (NULL only when <len> is 0) under <seed>. Words are
 * read in host byte order: the value never leaves the process. */
static inline uint64_t limit_hash(const void *key, size_t len, uint64_t seed)
{
	const unsigned char *p = key;
	uint64_t h = seed ^ ((uint64_t)len * 0x9e3779b97f4a7c15ULL);
	uint64_t w;

	while (len >= 8) {
		memcpy(&w, p, 8);
		h = hash_mix64(h ^ w);
		p += 8;
		len -= 8;
	}
	w = 0; /* the seed above holds the length, so "a" and "a\0" still differ */
	if (len)
		memcpy(&w, p, len);
	return hash_mix64(h ^ w);
}

/* Column of row <row> for hash <h> in a row of <mask> + 1 (a power of two) cells: the low half
 * plus <row> times the high half, made odd so rows never collapse onto one column sequence. */
static inline uint32_t limit_column(uint64_t h, unsigned int row, uint32_t mask)
{
	uint32_t h1 = (uint32_t)h, h2 = (uint32_t)(h >> 32) | 1;

	return (h1 + row * h2) & mask;
}

/* 0 when <rows> and <width> describe a valid table (1..LIMIT_ROWS_MAX rows of a power of two
 * between LIMIT_WIDTH_MIN and LIMIT_WIDTH_MAX cells), else -EINVAL. */
static inline int limit_geometry_check(unsigned int rows, uint32_t width)
{
	if (rows < 1 || rows > LIMIT_ROWS_MAX)
		return -EINVAL;
	if (width < LIMIT_WIDTH_MIN || width > LIMIT_WIDTH_MAX || (width & (width - 1)))
		return -EINVAL;
	return 0;
}

#endif /* USERSPACE_LIMIT_HASH_H */
