/* SPDX-License-Identifier: GPL-2.0 */
/* One upstream server as a worker sees it: its pool of idle keep-alive connections. Each
 * worker has its own pools, so taking and returning a connection takes no lock. */
#ifndef USERSPACE_UPSTREAM_POOL_H
#define USERSPACE_UPSTREAM_POOL_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/time.h>

#include "userspace/net/conn-t.h"

struct h2up_peer;

struct pool {
	TAILQ_HEAD(, conn) idle; /* most recently used first */
	struct h2up_peer *h2;	 /* HTTP/2 servers: their connections (h2up.c); else NULL */
	unsigned int n_idle;
	unsigned int max_idle;	      /* 0 = no reuse */
	const struct timeval *t_idle; /* idle lifetime, a common timeout of the worker's base */
	uint64_t reused;	      /* connections handed out again */
	uint64_t opened;	      /* connections opened (counted by the caller) */
};

/* Set up <p> to keep at most <max_idle> connections for <t_idle> (which must outlive it). */
void pool_init(struct pool *p, unsigned int max_idle, const struct timeval *t_idle);

/* Take the most recently idled connection, or NULL. The caller sets its callbacks. */
struct conn *pool_get(struct pool *p);

/* How far a pool grows past its max_idle to meet demand (see pool_put()). */
#define POOL_GROW_MAX 256u

/* Keep <c> (connected, nothing pending in either direction) for reuse, or free it when the
 * pool is full. Full means max_idle idle connections, or more when <demand> (the most
 * requests the owner can have in flight to the server at once: its client connections) is
 * higher, up to POOL_GROW_MAX, so that the pool grows to the concurrency actually seen
 * without holding thousands of idle connections for thousands of idle clients; a pool whose
 * max_idle is 0 keeps nothing. The pool frees <c> on its own if the server closes it, sends anything, or
 * it stays idle past the timeout. */
void pool_put(struct pool *p, struct conn *c, unsigned int demand);

/* Free every idle connection of <p> (and its HTTP/2 connections). */
void pool_release(struct pool *p);

#endif /* USERSPACE_UPSTREAM_POOL_H */
