// SPDX-License-Identifier: GPL-2.0
/* Per-worker pools of idle upstream connections. An idle connection only waits for the
 * server to close it (or for its idle timeout); anything it receives is a protocol error. */
#include "userspace/upstream/pool.h"

#include <stdlib.h>
#include <sys/time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "userspace/lib/clock.h"
#include "userspace/net/conn.h"
#include "userspace/upstream/h2up.h"

void pool_init(struct pool *p, unsigned int max_idle, const struct timeval *t_idle)
{
	TAILQ_INIT(&p->idle);
	p->n_idle = 0;
	p->max_idle = max_idle;
	p->t_idle = t_idle;
	p->reused = 0;
	p->opened = 0;
	p->h2 = NULL;
}

/* Take <c> out of the idle pool and close it. */
static void pool_drop(struct pool *p, struct conn *c)
{
	TAILQ_REMOVE(&p->idle, c, pool_link);
	p->n_idle--;
	c->pool = NULL;
	conn_free(c);
}

/* Any byte, EOF, error or idle timeout ends an idle connection. */
static void idle_read(struct conn *c, void *arg)
{
	pool_drop(arg, c);
}

static void idle_event(struct conn *c, short what, void *arg)
{
	(void)what;
	pool_drop(arg, c);
}

struct conn *pool_get(struct pool *p)
{
	struct conn *c = TAILQ_FIRST(&p->idle);

	if (!c)
		return NULL;
	TAILQ_REMOVE(&p->idle, c, pool_link);
	p->n_idle--;
	c->pool = NULL;
	c->on_read = NULL;
	c->on_write = NULL;
	c->on_event = NULL;
	/* The idle timeout stays armed until the new owner sets its own timeouts. */
	p->reused++;
	return c;
}

void pool_put(struct pool *p, struct conn *c, unsigned int demand)
{
	unsigned int limit = p->max_idle;

	if (demand > POOL_GROW_MAX)
		demand = POOL_GROW_MAX;
	if (limit && demand > limit)
		limit = demand;

	if (p->n_idle >= limit || evbuffer_get_length(c->in) || evbuffer_get_length(c->out)) {
		conn_free(c);
		return;
	}
	conn_release_buffers(c);
	c->pool = p;
	TAILQ_INSERT_HEAD(&p->idle, c, pool_link);
	p->n_idle++;
	conn_set_cbs(c, idle_read, NULL, idle_event, p);
	conn_set_write_low(c, 0);
	conn_set_idle_timeout(c, p->t_idle);
	c->idle_ms = clock_coarse_ms();
}

void pool_release(struct pool *p)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&p->idle)))
		pool_drop(p, c);
	h2up_peer_free(p->h2);
	p->h2 = NULL;
}
