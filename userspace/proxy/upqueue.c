// SPDX-License-Identifier: GPL-2.0
/* upstreams[].max_conns and queue (upqueue.h). The slots of a pool are one atomic counter
 * shared by the workers; each worker keeps its own waiters in arrival order and retries them
 * from one event of its loop: at once when one of its own exchanges frees a slot, and every
 * RETRY_MS while any wait (a slot freed by another worker, a queue_timeout). */
#include "userspace/proxy/upqueue.h"

#include <stdatomic.h>
#include <stdlib.h>

#include <event2/event.h>

#include "userspace/lib/clock.h"
#include "userspace/proxy/session.h"

#define RETRY_MS 5 /* how often a worker with waiters looks for slots other workers freed */

struct upq_pool {
	atomic_uint in_use; /* slots taken, all workers */
	atomic_uint queued; /* requests waiting, all workers */
	unsigned int max;   /* max_conns; 0 = no bound */
	unsigned int queue; /* queue */
	unsigned int timeout_ms;
};

struct upq {
	struct upq_pool *p; /* one per cfg->upstreams */
	size_t n;
};

struct upq *upq_new(const struct cfg *c)
{
	struct upq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->p = calloc(c->n_upstreams + 1, sizeof(*q->p));
	if (!q->p) {
		free(q);
		return NULL;
	}
	q->n = c->n_upstreams;
	for (size_t i = 0; i < q->n; i++) {
		q->p[i].max = c->upstreams[i].max_conns;
		q->p[i].queue = c->upstreams[i].queue;
		q->p[i].timeout_ms = c->upstreams[i].queue_timeout_ms;
	}
	return q;
}

void upq_free(struct upq *q)
{
	if (!q)
		return;
	free(q->p);
	free(q);
}

/* One slot of <p> if one is free. */
static bool take(struct upq_pool *p)
{
	unsigned int v = atomic_load_explicit(&p->in_use, memory_order_relaxed);

	while (v < p->max)
		if (atomic_compare_exchange_weak_explicit(
			    &p->in_use, &v, v + 1, memory_order_acq_rel, memory_order_relaxed))
			return true;
	return false;
}

static void on_retry(evutil_socket_t fd, short what, void *arg);

/* Arm the worker's retry event: at once (<now>) or after RETRY_MS. */
static void arm(struct worker *w, bool now)
{
	struct timeval tv = clock_ms_tv(now ? 0 : RETRY_MS);

	if (w->upq_ev)
		evtimer_add(w->upq_ev, &tv);
}

/* The worker's waiters, oldest first: the ones a slot is free for go on, the ones past their
 * deadline get 503. A waiter behind one still waiting on the same pool stays behind it. */
static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct upq *q = w->rt->upq;
	uint64_t now = clock_coarse_ms();
	struct session *s, *next;

	(void)fd;
	(void)what;
	for (s = TAILQ_FIRST(&w->upq_wait); s; s = next) {
		struct upq_pool *p = &q->p[s->x->be_idx];
		bool got;

		next = TAILQ_NEXT(s, upq_link);
		got = take(p);
		if (!got && now < s->upq_deadline_ms)
			continue;
		TAILQ_REMOVE(&w->upq_wait, s, upq_link);
		s->upq_waiting = false;
		atomic_fetch_sub_explicit(&p->queued, 1, memory_order_relaxed);
		s->x->upq_slot = got;
		/* May end the session: the next one was read before. */
		stream_upq_resume(s, got);
	}
	if (!TAILQ_EMPTY(&w->upq_wait))
		arm(w, false);
}

enum upq_verdict upq_acquire(struct session *s)
{
	struct worker *w = s->w;
	struct upq_pool *p;

	if (!w->rt->upq || s->x->be_idx >= w->rt->upq->n)
		return UPQ_GO;
	p = &w->rt->upq->p[s->x->be_idx];
	if (!p->max)
		return UPQ_GO;
	/* Waiters of this worker first: a new request does not overtake them. */
	if (TAILQ_EMPTY(&w->upq_wait) && take(p)) {
		s->x->upq_slot = true;
		return UPQ_GO;
	}
	if (atomic_fetch_add_explicit(&p->queued, 1, memory_order_relaxed) >= p->queue) {
		atomic_fetch_sub_explicit(&p->queued, 1, memory_order_relaxed);
		return UPQ_FULL;
	}
	if (!w->upq_ev) {
		TAILQ_INIT(&w->upq_wait);
		w->upq_ev = evtimer_new(w->base, on_retry, w);
		if (!w->upq_ev) {
			atomic_fetch_sub_explicit(&p->queued, 1, memory_order_relaxed);
			return UPQ_FULL;
		}
	}
	s->upq_waiting = true;
	s->upq_deadline_ms = clock_coarse_ms() + p->timeout_ms;
	TAILQ_INSERT_TAIL(&w->upq_wait, s, upq_link);
	arm(w, false);
	return UPQ_WAIT;
}

void upq_release(struct session *s)
{
	struct worker *w = s->w;

	if (s->upq_waiting) {
		TAILQ_REMOVE(&w->upq_wait, s, upq_link);
		s->upq_waiting = false;
		atomic_fetch_sub_explicit(
			&w->rt->upq->p[s->x->be_idx].queued, 1, memory_order_relaxed);
	}
	if (s->x->upq_slot) {
		s->x->upq_slot = false;
		atomic_fetch_sub_explicit(
			&w->rt->upq->p[s->x->be_idx].in_use, 1, memory_order_release);
		if (w->upq_ev && !TAILQ_EMPTY(&w->upq_wait))
			arm(w, true);
	}
}
