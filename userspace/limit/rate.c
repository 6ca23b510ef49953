// SPDX-License-Identifier: GPL-2.0
/* The two-window rate estimator. Interval number w = now / T names a window; slot w & 1 holds
 * it, the other slot holds w - 1. One atomic word, state = (w << 1) | rotating, says which
 * window is current; the caller that first sees a later window claims the move with a
 * compare-and-swap, clears the slot it reuses and publishes the new state, while everyone else
 * keeps counting without waiting. */
#include "userspace/limit/rate.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "userspace/limit/cms.h"
#include "userspace/limit/hash.h"

#define ROTATING 1ULL /* state bit: the winner of a move is clearing slots */

struct limit_rate {
	uint64_t interval_us;	  /* T, microseconds */
	uint64_t seed;		  /* key hash seed */
	_Atomic uint64_t state;	  /* (current interval number << 1) | ROTATING */
	struct limit_cms *win[2]; /* slot w & 1 counts interval w */
};

struct limit_rate *limit_rate_new(
	uint64_t interval_us, unsigned int rows, uint32_t width, uint64_t seed)
{
	struct limit_rate *r;
	int err;

	rows = rows ? rows : LIMIT_RATE_ROWS_DEFAULT;
	width = width ? width : LIMIT_RATE_WIDTH_DEFAULT;
	if (interval_us < LIMIT_RATE_INTERVAL_MIN_US || interval_us > LIMIT_RATE_INTERVAL_MAX_US ||
		limit_geometry_check(rows, width)) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->interval_us = interval_us;
	r->seed = seed;
	atomic_init(&r->state, 0);
	r->win[0] = limit_cms_new(rows, width);
	if (!r->win[0])
		goto err_free;
	r->win[1] = limit_cms_new(rows, width);
	if (!r->win[1])
		goto err_free;
	return r;

err_free:
	err = errno;
	limit_rate_free(r);
	errno = err;
	return NULL;
}

void limit_rate_free(struct limit_rate *r)
{
	if (!r)
		return;
	limit_cms_free(r->win[0]);
	limit_cms_free(r->win[1]);
	free(r);
}

/* Make interval <w> current when it is later than the current one, or more than one interval
 * earlier (the clock went back: the counts describe a future that did not happen). Returns the
 * slot an observation at <w> adds to. Never waits: while a move is under way, observers add to
 * the slot that becomes the previous window, whose weight is about 1 right after a move. */
static unsigned int rate_sync(struct limit_rate *r, uint64_t w)
{
	uint64_t st = atomic_load_explicit(&r->state, memory_order_acquire);
	uint64_t cur;

	for (;;) {
		cur = st >> 1;
		if (st & ROTATING)
			return (cur + 1) & 1;
		if (w == cur)
			return cur & 1;
		if (w + 1 == cur) /* a caller whose clock read came just before the move */
			return w & 1;
		if (atomic_compare_exchange_strong_explicit(&r->state, &st, (w << 1) | ROTATING,
			    memory_order_acq_rel, memory_order_acquire))
			break;
		/* someone else moved first: <st> is the state it left, look again */
	}
	/* We own the move. One interval on: the slot of w held w - 2, clear it and keep the
	 * current one as the previous window. Any other jump: both windows are stale. */
	limit_cms_clear(r->win[w & 1]);
	if (w != cur + 1)
		limit_cms_clear(r->win[(w + 1) & 1]);
	atomic_store_explicit(&r->state, w << 1, memory_order_release);
	return w & 1;
}

int64_t limit_rate_observe(
	struct limit_rate *r, const void *key, size_t len, int64_t n, uint64_t now_us)
{
	unsigned int slot;

	if (!r || (!key && len) || n < 0 || n > LIMIT_RATE_N_MAX)
		return -EINVAL;
	slot = rate_sync(r, now_us / r->interval_us);
	return limit_cms_add(r->win[slot], limit_hash(key, len, r->seed), n);
}

double limit_rate_rate(const struct limit_rate *r, const void *key, size_t len, uint64_t now_us)
{
	uint64_t st, cur, w, h, into;
	int64_t prev = 0, now_count = 0;

	if (!r || (!key && len))
		return -EINVAL;
	/* C11 loads take a pointer to non-const; the state is only read */
	st = atomic_load_explicit((_Atomic uint64_t *)&r->state, memory_order_acquire);
	cur = st >> 1;
	w = now_us / r->interval_us;
	into = now_us % r->interval_us;
	h = limit_hash(key, len, r->seed);
	if (w + 1 == cur) {
		/* a reader just behind a move: read the move's windows from its start */
		w = cur;
		into = 0;
	}
	if (w == cur) {
		prev = limit_cms_get(r->win[(cur + 1) & 1], h);
		/* while rotating, the current slot is being cleared and counts nothing yet */
		if (!(st & ROTATING))
			now_count = limit_cms_get(r->win[cur & 1], h);
	} else if (w == cur + 1 && !(st & ROTATING)) {
		/* nobody has observed since the interval began: current is empty */
		prev = limit_cms_get(r->win[cur & 1], h);
	} else {
		return 0; /* two or more intervals old, or the clock went back by as much */
	}
	return ((double)prev * (double)(r->interval_us - into) / (double)r->interval_us +
		       (double)now_count) *
	       1e6 / (double)r->interval_us;
}

size_t limit_rate_bytes(const struct limit_rate *r)
{
	return limit_cms_bytes(r->win[0]) + limit_cms_bytes(r->win[1]);
}
