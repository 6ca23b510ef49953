// SPDX-License-Identifier: GPL-2.0
/* The inflight limiter: one count-min sketch; acquire adds 1 in every row, release takes it
 * back. Each cell is the exact in-flight total of the keys sharing it, so the smallest of a
 * key's cells is an upper bound of its own count. */
#include "userspace/limit/inflight.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "userspace/limit/cms.h"
#include "userspace/limit/hash.h"

struct limit_inflight {
	uint64_t seed;	       /* key hash seed */
	struct limit_cms *cms; /* in-flight counts */
};

struct limit_inflight *limit_inflight_new(unsigned int rows, uint32_t width, uint64_t seed)
{
	struct limit_inflight *l;

	rows = rows ? rows : LIMIT_INFLIGHT_ROWS_DEFAULT;
	width = width ? width : LIMIT_INFLIGHT_WIDTH_DEFAULT;
	if (limit_geometry_check(rows, width)) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->seed = seed;
	l->cms = limit_cms_new(rows, width);
	if (!l->cms) {
		free(l);
		errno = ENOMEM; /* the geometry is checked above: memory is all that can fail */
		return NULL;
	}
	return l;
}

void limit_inflight_free(struct limit_inflight *l)
{
	if (!l)
		return;
	limit_cms_free(l->cms);
	free(l);
}

int64_t limit_inflight_acquire(
	struct limit_inflight *l, const void *key, size_t len, struct limit_inflight_guard *g)
{
	if (!l || !g || (!key && len))
		return -EINVAL;
	g->owner = l;
	g->hash = limit_hash(key, len, l->seed);
	return limit_cms_add(l->cms, g->hash, 1);
}

int64_t limit_inflight_try_acquire(struct limit_inflight *l, const void *key, size_t len,
	int64_t max, struct limit_inflight_guard *g)
{
	int64_t n = limit_inflight_acquire(l, key, len, g);

	if (n < 0)
		return n;
	if (n <= max) {
		/* The estimate above mixes rows read at different moments: two racing callers
		 * can each find one row where the other has not added yet, and both pass with
		 * max + 1 in flight. Read the rows again once all our additions are done: the
		 * fence orders our additions before these reads against any other caller's,
		 * so of two racing callers at least one sees both additions. */
		atomic_thread_fence(memory_order_seq_cst);
		n = limit_cms_get(l->cms, g->hash);
		if (n <= max)
			return n;
	}
	/* Over: take it back. Two racing callers may both back off; the limit then holds with
	 * one slot to spare, never with one too many. */
	limit_inflight_release(g);
	return -EBUSY;
}

void limit_inflight_release(struct limit_inflight_guard *g)
{
	if (!g || !g->owner)
		return;
	(void)limit_cms_add(g->owner->cms, g->hash, -1); /* the estimate is of no use here */
	g->owner = NULL;
}

int64_t limit_inflight_get(const struct limit_inflight *l, const void *key, size_t len)
{
	if (!l || (!key && len))
		return -EINVAL;
	return limit_cms_get(l->cms, limit_hash(key, len, l->seed));
}
