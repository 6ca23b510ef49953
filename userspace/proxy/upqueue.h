/* SPDX-License-Identifier: GPL-2.0 */
/* upstreams[].max_conns and queue: a bound on the requests at a pool's servers at once, over
 * all workers, and a first-come first-served queue of requests waiting for a slot (HAProxy's
 * maxconn with its queue), each with queue_timeout. */
#ifndef USERSPACE_PROXY_UPQUEUE_H
#define USERSPACE_PROXY_UPQUEUE_H

#include "userspace/cfg/cfg-t.h"

struct session;
struct upq;

/* The counters of <c>'s pools. NULL with errno ENOMEM. */
struct upq *upq_new(const struct cfg *c);
void upq_free(struct upq *q);

/* What upq_acquire() decided. */
enum upq_verdict {
	UPQ_GO = 0, /* a slot is the exchange's (or the pool has no bound) */
	UPQ_WAIT,   /* queued: stream_upq_resume() is called later */
	UPQ_FULL,   /* no slot and no room in the queue: answer 503 */
	UPQ_VERDICT_MAX /* must stay last */
};

/* Take a slot of the pool the exchange of <s> chose, or queue it. */
enum upq_verdict upq_acquire(struct session *s);

/* Give back the exchange's slot and leave the queue (harmless when it holds neither); a
 * freed slot wakes the worker's waiters from the event loop, never from inside this call. */
void upq_release(struct session *s);

/* Called by the worker's retry event for a session whose wait ended: <ok> with a slot, else
 * timed out (503). Defined by the stream (stream.c). */
void stream_upq_resume(struct session *s, bool ok);

#endif /* USERSPACE_PROXY_UPQUEUE_H */
