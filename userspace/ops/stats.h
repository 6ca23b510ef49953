/* SPDX-License-Identifier: GPL-2.0 */
/* pingd's metric families on the metrics registry: requests by route and status class, latency,
 * upstream connects, errors, retries and pool reuse, active connections, peer health, and the
 * XDP counters supplied by a callback. Update calls are cheap and lock-free per worker. */
#ifndef USERSPACE_OPS_STATS_H
#define USERSPACE_OPS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "userspace/cfg/cfg-t.h"
#include "userspace/ops/stats-t.h"

struct metrics;
struct stats;

/* Pre-create the series of <c>'s routes, upstreams and servers (<c> must outlive the result),
 * with one shard per worker (0..n_workers-1) and one for the control thread
 * (stats_ctl_shard()). With <prev> NULL, a new registry with every family is made; on a reload,
 * <prev> (the running config's stats, same <n_workers>) shares its registry, so counters go on
 * counting, series of the new config are added, and the collectors describe the new config.
 * Workers switch to the result with the new config; free <prev> once none uses it. Returns NULL
 * with errno (EINVAL: n_workers differs from <prev>'s; ENOSPC: the registry is full; ENOMEM). */
struct stats *stats_new(const struct cfg *c, unsigned int n_workers, struct stats *prev);

/* Free <st>; NULL is accepted. No update through <st> may run concurrently; the registry goes
 * with the last stats object sharing it. */
void stats_free(struct stats *st);

/* The registry underneath, to add families of other modules. */
struct metrics *stats_metrics(struct stats *st);

/* Shard of the control thread (main loop: health checks, admin). */
unsigned int stats_ctl_shard(const struct stats *st);

/* Worker <w> finished a request routed by <r> (NULL: no route matched) with <status>, taking
 * <duration_us> from request start to the last byte sent. */
void stats_request(struct stats *st, unsigned int w, const struct cfg_route *r, int status,
	uint64_t duration_us);

/* Worker <w> accepted (stats_conn_open) or closed a client connection. */
void stats_conn_open(struct stats *st, unsigned int w);
void stats_conn_close(struct stats *st, unsigned int w);

/* Worker <w> sent a request to pool <upstream> on a <reused> keep-alive connection or a new
 * one. */
void stats_upstream_request(struct stats *st, unsigned int w, size_t upstream, bool reused);

/* Worker <w> failed to connect to server <server> of pool <upstream>. */
void stats_upstream_connect_error(struct stats *st, unsigned int w, size_t upstream, size_t server);

/* Worker <w> retried a request of pool <upstream> on another peer. */
void stats_upstream_retry(struct stats *st, unsigned int w, size_t upstream);

/* Health state of server <server> of pool <upstream>; control thread only. */
void stats_peer_state(struct stats *st, size_t upstream, size_t server, bool up);

/* Worker <w>: a passive-health cool-down started for server <server> of pool <upstream>. */
void stats_peer_cooldown(struct stats *st, unsigned int w, size_t upstream, size_t server);

/* Use <fn>(<arg>) to read the XDP counters at each scrape (NULL: none; pingx_xdp_up 0). */
void stats_set_xdp_source(struct stats *st, stats_xdp_fn fn, void *arg);

/* Status class label of <status>: "1xx".."5xx", or "other". */
const char *stats_code_class(int status);

#endif /* USERSPACE_OPS_STATS_H */
