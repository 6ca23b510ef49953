// SPDX-License-Identifier: GPL-2.0
/* The count-min sketch behind the rate estimator and the inflight limiter (Cormode and
 * Muthukrishnan, 2005). Cells are C11 atomics updated with relaxed fetch-and-add: a counter
 * needs no ordering with anything else, only indivisible additions. */
#include "userspace/limit/cms.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "userspace/limit/hash.h"

struct limit_cms {
	unsigned int rows;	 /* hash rows, 1..LIMIT_ROWS_MAX */
	uint32_t mask;		 /* cells per row - 1 (the width is a power of two) */
	_Atomic int64_t cells[]; /* rows x width, row after row; event counts */
};

struct limit_cms *limit_cms_new(unsigned int rows, uint32_t width)
{
	struct limit_cms *c;
	size_t size;

	if (limit_geometry_check(rows, width)) {
		errno = EINVAL;
		return NULL;
	}
	size = sizeof(*c) + (size_t)rows * width * sizeof(c->cells[0]);
	c = calloc(1, size); /* zero bytes are a valid zero for lock-free atomics */
	if (!c)
		return NULL;
	c->rows = rows;
	c->mask = width - 1;
	return c;
}

void limit_cms_free(struct limit_cms *c)
{
	free(c);
}

int64_t limit_cms_add(struct limit_cms *c, uint64_t h, int64_t n)
{
	uint32_t width = c->mask + 1;
	int64_t est = INT64_MAX;

	for (unsigned int r = 0; r < c->rows; r++) {
		_Atomic int64_t *cell = &c->cells[(size_t)r * width + limit_column(h, r, c->mask)];
		int64_t v = atomic_fetch_add_explicit(cell, n, memory_order_relaxed) + n;

		if (v < est)
			est = v;
	}
	return est;
}

int64_t limit_cms_get(const struct limit_cms *c, uint64_t h)
{
	uint32_t width = c->mask + 1;
	int64_t est = INT64_MAX;

	for (unsigned int r = 0; r < c->rows; r++) {
		const _Atomic int64_t *cell =
			&c->cells[(size_t)r * width + limit_column(h, r, c->mask)];
		/* C11 loads take a pointer to non-const; the cell is only read */
		int64_t v = atomic_load_explicit((_Atomic int64_t *)cell, memory_order_relaxed);

		if (v < est)
			est = v;
	}
	return est;
}

void limit_cms_clear(struct limit_cms *c)
{
	size_t n = (size_t)c->rows * (c->mask + 1);

	for (size_t i = 0; i < n; i++)
		atomic_store_explicit(&c->cells[i], 0, memory_order_relaxed);
}

size_t limit_cms_bytes(const struct limit_cms *c)
{
	return (size_t)c->rows * (c->mask + 1) * sizeof(c->cells[0]);
}
