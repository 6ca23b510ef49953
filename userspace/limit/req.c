// SPDX-License-Identifier: GPL-2.0
/* The request-rate limiter. Per key, the generic cell rate algorithm: one number, the
 * theoretical arrival time (TAT) at which the key's bucket would be full again; a request at
 * time t passes when TAT - t <= tau (the burst, in time) and then moves TAT to
 * max(TAT, t) + T (T = 1 / rate). The TATs live in a count-min table: a key owns one cell per
 * row, shared with whatever keys collide there. A cell fed by more requests never holds an
 * earlier TAT, so the earliest of a key's cells is an upper bound of its own: collisions can
 * only make the limiter stricter. */
#include "userspace/limit/req.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "userspace/limit/hash.h"

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL
/* Bound of tau + T: with now below 2^62 ns every sum stays below 2^63. */
#define SPAN_MAX_NS (1ULL << 60)

struct limit_req {
	uint64_t t_ns;		  /* T: nanoseconds between requests at the rate */
	uint64_t tau_ns;	  /* burst x T: how far ahead of now a TAT may be for a pass */
	uint64_t free_ns;	  /* min(delay_after, burst) x T: backlog passed without delay */
	uint64_t seed;		  /* key hash seed */
	unsigned int rows;	  /* table rows, 1..LIMIT_ROWS_MAX */
	uint32_t mask;		  /* cells per row - 1 */
	_Atomic uint64_t cells[]; /* rows x width TATs, ns of the caller's clock; 0 = full bucket */
};

/* The emission interval of <rate> in nanoseconds, at least 1. */
static uint64_t req_interval_ns(double rate)
{
	double t = 1e9 / rate + 0.5; /* rounded; rate is within bounds, so t fits */

	return t < 1 ? 1 : (uint64_t)t;
}

int limit_req_conf_check(const struct limit_req_conf *conf)
{
	uint64_t t;

	if (!conf)
		return -EINVAL;
	/* written so that NaN fails too */
	if (!(conf->rate >= LIMIT_REQ_RATE_MIN && conf->rate <= LIMIT_REQ_RATE_MAX))
		return -EINVAL;
	if (limit_geometry_check(conf->rows ? conf->rows : LIMIT_REQ_ROWS_DEFAULT,
		    conf->width ? conf->width : LIMIT_REQ_WIDTH_DEFAULT))
		return -EINVAL;
	if (conf->burst > LIMIT_REQ_BURST_MAX)
		return -ERANGE;
	t = req_interval_ns(conf->rate);
	if ((uint64_t)conf->burst + 1 > SPAN_MAX_NS / t)
		return -ERANGE;
	return 0;
}

struct limit_req *limit_req_new(const struct limit_req_conf *conf)
{
	struct limit_req *l;
	unsigned int rows;
	uint32_t width;
	int err = limit_req_conf_check(conf);

	if (err) {
		errno = -err;
		return NULL;
	}
	rows = conf->rows ? conf->rows : LIMIT_REQ_ROWS_DEFAULT;
	width = conf->width ? conf->width : LIMIT_REQ_WIDTH_DEFAULT;
	l = calloc(1, sizeof(*l) + (size_t)rows * width * sizeof(l->cells[0]));
	if (!l)
		return NULL;
	l->t_ns = req_interval_ns(conf->rate);
	l->tau_ns = conf->burst * l->t_ns;
	l->free_ns = (conf->delay_after < conf->burst ? conf->delay_after : conf->burst) * l->t_ns;
	l->seed = conf->seed;
	l->rows = rows;
	l->mask = width - 1;
	return l;
}

void limit_req_free(struct limit_req *l)
{
	free(l);
}

/* Fill <d> for a rejected request whose bucket is full until <tat> ns (> <now> + tau). */
static void req_reject(
	const struct limit_req *l, uint64_t tat, uint64_t now, struct limit_decision *d)
{
	d->verdict = LIMIT_REJECT;
	d->wait_ms = (tat - l->tau_ns - now + NS_PER_MS - 1) / NS_PER_MS;
}

int limit_req_decide(
	struct limit_req *l, const void *key, size_t len, uint64_t now_us, struct limit_decision *d)
{
	_Atomic uint64_t *cell[LIMIT_ROWS_MAX];
	uint64_t now, ceil, est, h, backlog;
	uint32_t width;

	if (!l || !d || (!key && len))
		return -EINVAL;
	if (now_us > LIMIT_REQ_NOW_MAX_US)
		return -ERANGE;
	now = now_us * NS_PER_US;
	/* No request that passed at <now> left a TAT later than this. A later cell comes from a
	 * clock that went back (or a racing caller with a later clock): capping it means a
	 * backward jump costs a key at most one full bucket, instead of waiting out the jump. */
	ceil = now + l->tau_ns + l->t_ns;
	width = l->mask + 1;
	h = limit_hash(key, len, l->seed);
	est = UINT64_MAX;
	for (unsigned int r = 0; r < l->rows; r++) {
		uint64_t v;

		cell[r] = &l->cells[(size_t)r * width + limit_column(h, r, l->mask)];
		v = atomic_load_explicit(cell[r], memory_order_relaxed);
		if (v > ceil) {
			/* on failure <v> is the newer value, itself capped below */
			if (atomic_compare_exchange_strong_explicit(
				    cell[r], &v, ceil, memory_order_relaxed, memory_order_relaxed))
				v = ceil;
			v = v > ceil ? ceil : v;
		}
		est = v < est ? v : est;
	}
	if (est < now)
		est = now;
	/* Over the limit: answer without writing, so a flood of rejected requests costs reads. */
	if (est - now > l->tau_ns) {
		req_reject(l, est, now, d);
		return 0;
	}
	/* Take this request's share in every row; the decision stands on the cells as they were
	 * just before our own update, so concurrent callers are serialised cell by cell. */
	est = UINT64_MAX;
	for (unsigned int r = 0; r < l->rows; r++) {
		uint64_t old = atomic_load_explicit(cell[r], memory_order_relaxed), base, seen;

		do {
			base = old < now ? now : old;
			seen = base > ceil ? ceil : base;
			if (base > now + l->tau_ns)
				base = now + l->tau_ns; /* a crowded cell: keep it within ceil */
		} while (!atomic_compare_exchange_weak_explicit(
			cell[r], &old, base + l->t_ns, memory_order_relaxed, memory_order_relaxed));
		est = seen < est ? seen : est;
	}
	if (est - now > l->tau_ns) {
		/* A racing caller took the last share between our read and our update: give
		 * ours back. */
		for (unsigned int r = 0; r < l->rows; r++)
			(void)atomic_fetch_sub_explicit(cell[r], l->t_ns, memory_order_relaxed);
		req_reject(l, est, now, d);
		return 0;
	}
	backlog = est - now; /* time the requests ahead of this one take at the rate */
	if (backlog > l->free_ns) {
		d->verdict = LIMIT_DELAY;
		d->wait_ms = (backlog - l->free_ns + NS_PER_MS - 1) / NS_PER_MS;
	} else {
		d->verdict = LIMIT_PASS;
		d->wait_ms = 0;
	}
	return 0;
}

size_t limit_req_bytes(const struct limit_req *l)
{
	return (size_t)l->rows * (l->mask + 1) * sizeof(l->cells[0]);
}

uint64_t limit_req_active(const struct limit_req *l, uint64_t now_us)
{
	uint64_t now_ns = now_us * NS_PER_US, used = 0, w;
	double est;

	if (!l || now_us > LIMIT_REQ_NOW_MAX_US)
		return 0;
	w = (uint64_t)l->mask + 1;
	/* Row 0 only: a key owns one cell of it, and a cell whose TAT is past is a full bucket,
	 * the same as no key at all. */
	for (uint64_t i = 0; i < w; i++)
		if (atomic_load_explicit(&l->cells[i], memory_order_relaxed) > now_ns)
			used++;
	if (used >= w)
		return w;
	/* Linear counting (Whang et al., 1990): n keys over w cells leave w * e^(-n/w) empty. */
	est = -(double)w * log((double)(w - used) / (double)w);
	return (uint64_t)(est + 0.5);
}
