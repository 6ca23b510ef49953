/* SPDX-License-Identifier: GPL-2.0 */
/* Upstream pools: the shared, read-only part built from the config (peers, Maglev table,
 * ketama ring) and the per-worker part (round-robin position, requests in flight, retry
 * budget) that only its worker touches, so selection takes no lock. */
#ifndef USERSPACE_UPSTREAM_BACKEND_T_H
#define USERSPACE_UPSTREAM_BACKEND_T_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "userspace/cfg/cfg-t.h"
#include "userspace/upstream/health-t.h"

#define BACKEND_BUDGET_WINDOW_MS 10000u /* retry budget accounting window */

/* One upstream peer as every worker sees it. */
struct backend_server {
	const struct cfg_server *cfg; /* address and weight */
	int down;		      /* set by health checks (atomic access); skipped when set */
};

/* One pool, shared by all workers; immutable once built except servers[].down. */
struct backend {
	const struct cfg_upstream *cfg;
	size_t idx;			/* index in cfg->upstreams */
	struct backend_server *servers; /* cfg->n_servers entries */
	size_t n;
	uint32_t *maglev; /* CFG_SEL_MAGLEV: table of maglev_len server indexes */
	uint32_t maglev_len;
	struct ketama *ring; /* CFG_SEL_KETAMA */
	unsigned int total_weight;
};

/* A worker's view of one pool. */
struct backend_wstate {
	uint64_t rr;	      /* next round-robin start */
	int64_t *wrr_current; /* smooth WRR current weights, one per server */
	unsigned int *active; /* requests in flight per server */
	uint64_t window_start_ms;
	uint32_t window_requests; /* requests started in the current budget window */
	uint32_t window_retries;  /* retries spent in it */
	uint32_t prev_requests;	  /* the previous window's totals, so the budget does not
				   * drop to the minimum at every window boundary */
	uint32_t prev_retries;
	struct health_passive *passive; /* one per server; NULL when passive health is off */
};

#endif /* USERSPACE_UPSTREAM_BACKEND_T_H */
