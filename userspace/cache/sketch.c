// SPDX-License-Identifier: GPL-2.0
/* Count-min sketch of 4-bit counters with conservative update, periodic halving and
 * estimate-preserving growth: TinyLFU's frequency estimator for the cache shards. */
#include "userspace/cache/sketch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Odd multipliers, one per row: each row takes the top bits of hash * seed, so the rows are
 * indexed by (nearly) independent functions of the one 64-bit key hash. */
static const uint64_t row_seed[SKETCH_ROWS] = {
	0x9e3779b97f4a7c15ULL,
	0xc2b2ae3d27d4eb4fULL,
	0x165667b19e3779f9ULL,
	0xd6e8feb86659fd93ULL,
};

/* Column of <hash> in <row> for a sketch of <width> counters per row. */
static inline size_t sketch_col(uint64_t hash, unsigned int row, size_t width)
{
	uint64_t h = (hash ^ (hash >> 29)) * row_seed[row];

	return (size_t)(h >> 32) & (width - 1);
}

static inline unsigned int cell_get(const uint8_t *row, size_t col)
{
	return (row[col >> 1] >> ((col & 1) * 4)) & 0xf;
}

static inline void cell_inc(uint8_t *row, size_t col)
{
	row[col >> 1] += (uint8_t)(1u << ((col & 1) * 4));
}

int sketch_init(struct sketch *s)
{
	memset(s, 0, sizeof(*s));
	s->cells = calloc(SKETCH_ROWS, SKETCH_WIDTH_MIN / 2);
	if (!s->cells)
		return -ENOMEM;
	s->width = SKETCH_WIDTH_MIN;
	s->age_at = (uint64_t)SKETCH_AGE_PER_COL * s->width;
	return 0;
}

void sketch_fini(struct sketch *s)
{
	free(s->cells);
	s->cells = NULL;
	s->width = 0;
}

/* Halve every counter: both nibbles of a byte shift right at once, the mask keeps the high
 * nibble's low bit from falling into the low nibble. */
static void sketch_age(struct sketch *s)
{
	size_t n = SKETCH_ROWS * s->width / 2;

	for (size_t i = 0; i < n; i++)
		s->cells[i] = (s->cells[i] >> 1) & 0x77;
	s->adds = 0;
	s->halvings++;
}

void sketch_add(struct sketch *s, uint64_t hash)
{
	size_t half = s->width / 2, col[SKETCH_ROWS];
	unsigned int min = SKETCH_COUNT_MAX;

	for (unsigned int r = 0; r < SKETCH_ROWS; r++) {
		unsigned int v;

		col[r] = sketch_col(hash, r, s->width);
		v = cell_get(s->cells + r * half, col[r]);
		if (v < min)
			min = v;
	}
	if (min < SKETCH_COUNT_MAX) {
		/* conservative update: only the counters holding the minimum can be exact */
		for (unsigned int r = 0; r < SKETCH_ROWS; r++)
			if (cell_get(s->cells + r * half, col[r]) == min)
				cell_inc(s->cells + r * half, col[r]);
	}
	if (++s->adds >= s->age_at)
		sketch_age(s);
}

unsigned int sketch_estimate(const struct sketch *s, uint64_t hash)
{
	size_t half = s->width / 2;
	unsigned int min = SKETCH_COUNT_MAX;

	for (unsigned int r = 0; r < SKETCH_ROWS; r++) {
		unsigned int v = cell_get(s->cells + r * half, sketch_col(hash, r, s->width));

		if (v < min)
			min = v;
	}
	return min;
}

int sketch_grow(struct sketch *s, size_t min_width)
{
	size_t width = s->width;
	uint8_t *cells;

	while (width < min_width)
		width *= 2;
	if (width == s->width)
		return 0;
	cells = calloc(SKETCH_ROWS, width / 2);
	if (!cells)
		return -ENOMEM;
	/* A column is the low bits of (h >> 32): a key's old column is its new column modulo the
	 * old width, so copying old column c into every new column congruent to c keeps each
	 * estimate exactly. */
	for (unsigned int r = 0; r < SKETCH_ROWS; r++) {
		const uint8_t *from = s->cells + r * (s->width / 2);
		uint8_t *to = cells + r * (width / 2);

		for (size_t c = 0; c < width; c++) {
			unsigned int v = cell_get(from, c & (s->width - 1));

			to[c >> 1] |= (uint8_t)(v << ((c & 1) * 4));
		}
	}
	free(s->cells);
	s->cells = cells;
	s->width = width;
	s->age_at = (uint64_t)SKETCH_AGE_PER_COL * width;
	return 0;
}
